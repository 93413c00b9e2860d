/* fa_cache.c: content-addressed store of model answers under FA_CACHE_DIR,
 * one JSON file per request hash, written atomically. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "fa_cache.h"
#include "fa_err.h"
#include "fa_file.h"
#include "fa_record.h"
#include "fa_banned.h"

struct fa_cache {
    char *dir;
    enum fa_cache_mode mode;
};

static const char *const mode_names[] = {"rw", "ro", "off", "replay"};

int fa_cache_mode_parse(const char *s, enum fa_cache_mode *out)
{
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, mode_names[i]) == 0) {
            *out = (enum fa_cache_mode)i;
            return 0;
        }
    fa_err_set("invalid FA_CACHE '%s' (want rw, ro, off or replay)", s ? s : "");
    return -1;
}

const char *fa_cache_mode_name(enum fa_cache_mode m)
{
    return (unsigned)m < 4 ? mode_names[m] : "?";
}

char *fa_cache_default_dir(void)
{
    const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    char *s;

    if (x && *x) {
        if (asprintf(&s, "%s/fa", x) < 0)
            abort();
    } else if (h && *h) {
        if (asprintf(&s, "%s/.cache/fa", h) < 0)
            abort();
    } else if (!(s = strdup(".fa-cache")))
        abort();
    return s;
}

struct fa_cache *fa_cache_open(const char *dir, enum fa_cache_mode mode)
{
    struct fa_cache *c;

    if (!dir || !*dir) {
        fa_err_set("cache: empty directory name");
        return NULL;
    }
    c = calloc(1, sizeof *c);
    if (!c || !(c->dir = strdup(dir)))
        abort();
    c->mode = mode;
    return c;
}

void fa_cache_close(struct fa_cache *c)
{
    if (!c)
        return;
    free(c->dir);
    free(c);
}

enum fa_cache_mode fa_cache_mode(const struct fa_cache *c)
{
    return c->mode;
}

const char *fa_cache_dir(const struct fa_cache *c)
{
    return c->dir;
}

void fa_cache_key(const char *kind, struct json_object *request, char out[FA_CACHE_KEY_HEX])
{
    struct json_object *k = json_object_new_object();
    unsigned char h[32];
    char *canon;

    json_object_object_add(k, "kind", json_object_new_string(kind));
    json_object_object_add(k, "request", json_object_get(request));
    canon = fa_json_canonical(k, NULL);
    crypto_generichash(h, sizeof h, (const unsigned char *)canon, strlen(canon), NULL, 0);
    sodium_bin2hex(out, FA_CACHE_KEY_HEX, h, sizeof h);
    free(canon);
    json_object_put(k);
}

static int valid_key(const char *key)
{
    size_t n = strlen(key);

    if (n != 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdef", key[i]))
            return 0;
    return 1;
}

static char *entry_path(const struct fa_cache *c, const char *key)
{
    char *p;

    if (asprintf(&p, "%s/%.2s/%s.json", c->dir, key, key) < 0)
        abort();
    return p;
}

int fa_cache_get(struct fa_cache *c, const char *key, struct json_object **entry)
{
    struct json_object *e, *k;
    char *path;

    *entry = NULL;
    if (c->mode == FA_CACHE_OFF)
        return 0;
    if (!valid_key(key)) {
        fa_err_set("cache: invalid key '%.70s'", key);
        return -1;
    }
    path = entry_path(c, key);
    if (access(path, F_OK) < 0) {
        if (errno != ENOENT) {
            fa_err_sys("cache entry '%s'", path);
            free(path);
            return -1;
        }
        free(path);
        if (c->mode == FA_CACHE_REPLAY) {
            fa_err_set("replay: no cached answer for request %.16s in '%s'", key, c->dir);
            return -1;
        }
        return 0;
    }
    e = json_object_from_file(path);
    if (!e || !json_object_is_type(e, json_type_object) ||
        !json_object_object_get_ex(e, "response", NULL) ||
        !json_object_object_get_ex(e, "key", &k) || strcmp(json_object_get_string(k), key) != 0) {
        json_object_put(e);
        if (c->mode == FA_CACHE_REPLAY) {
            fa_err_set("replay: cache entry '%s' is corrupt", path);
            free(path);
            return -1;
        }
        fa_warn("cache entry '%s' is corrupt; asking again", path);
        free(path);
        return 0;
    }
    free(path);
    *entry = e;
    return 1;
}

int fa_cache_put(struct fa_cache *c, const char *key, const char *kind, struct json_object *request,
                 struct json_object *response, long latency_ms)
{
    struct json_object *e;
    char *path, *sub, *text;
    const char *js;
    int rc = -1;

    if (c->mode != FA_CACHE_RW)
        return 0;
    if (!valid_key(key)) {
        fa_err_set("cache: invalid key '%.70s'", key);
        return -1;
    }
    if (asprintf(&sub, "%s/%.2s", c->dir, key) < 0)
        abort();
    if (fa_file_mkdirs(sub, 0777) < 0) {
        free(sub);
        return -1;
    }
    path = entry_path(c, key);
    e = json_object_new_object();
    json_object_object_add(e, "key", json_object_new_string(key));
    json_object_object_add(e, "kind", json_object_new_string(kind));
    json_object_object_add(e, "latency_ms", json_object_new_int64(latency_ms));
    json_object_object_add(e, "request", json_object_get(request));
    json_object_object_add(e, "response", json_object_get(response));
    js = json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (asprintf(&text, "%s\n", js) < 0)
        abort();
    if (fa_file_write_atomic(path, text, strlen(text), 0644) < 0) {
        char *m;
        if (asprintf(&m, "cache: %s", fa_err_get()) < 0)
            abort();
        fa_err_set("%s", m);
        free(m);
    } else {
        rc = 0;
    }
    free(text);
    json_object_put(e);
    free(path);
    free(sub);
    return rc;
}
