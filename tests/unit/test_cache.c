/* test_cache.c: keys (stable, content-addressed), modes, atomic entries,
 * corrupt entries, several writers of one key. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "fa_cache.h"
#include "fa_err.h"
#include "fa_banned.h"

static char dir[] = "/tmp/fa-test-cache.XXXXXX";

static int count_tmp(const char *sub)
{
    DIR *d = opendir(sub);
    struct dirent *e;
    int n = 0;

    while (d && (e = readdir(d)))
        if (e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    if (d)
        closedir(d);
    return n;
}

int main(void)
{
    struct json_object *req = json_tokener_parse("{\"model\":\"m\",\"messages\":[{\"role\":"
                                                 "\"user\",\"content\":\"hi\"}],\"seed\":1}");
    struct json_object *req2 = json_tokener_parse("{\"seed\":1,\"messages\":[{\"content\":\"hi\","
                                                  "\"role\":\"user\"}],\"model\":\"m\"}");
    struct json_object *resp = json_tokener_parse("{\"choices\":[],\"usage\":{\"prompt_tokens\":"
                                                  "3}}");
    char k1[FA_CACHE_KEY_HEX], k2[FA_CACHE_KEY_HEX], k3[FA_CACHE_KEY_HEX], path[512], cmd[600];
    struct json_object *e;
    struct fa_cache *c;
    enum fa_cache_mode m;
    FILE *f;

    fa_err_init("test_cache");
    fa_verbosity = 0;
    if (!mkdtemp(dir))
        return 1;
    fa_cache_key("chat", req, k1);
    fa_cache_key("chat", req2, k2);
    fa_cache_key("embeddings", req, k3);
    is_str(k1, k2, "key ignores key order");
    ok(strcmp(k1, k3) != 0, "key depends on the endpoint kind");
    ok(strlen(k1) == 64, "256-bit hex key");

    ok(fa_cache_mode_parse("replay", &m) == 0 && m == FA_CACHE_REPLAY, "mode replay");
    ok(fa_cache_mode_parse("sometimes", &m) == -1 && strstr(fa_err_get(), "want rw, ro"),
       "bad mode");

    c = fa_cache_open(dir, FA_CACHE_RO);
    ok(fa_cache_put(c, k1, "chat", req, resp, 5) == 0, "ro: put is a no-op");
    ok(fa_cache_get(c, k1, &e) == 0, "ro: miss");
    fa_cache_close(c);

    c = fa_cache_open(dir, FA_CACHE_RW);
    ok(fa_cache_get(c, k1, &e) == 0 && e == NULL, "rw: miss");
    ok(fa_cache_put(c, k1, "chat", req, resp, 5) == 0, "rw: put");
    ok(fa_cache_get(c, k1, &e) == 1, "rw: hit");
    ok(e && strstr(json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN),
                   "\"prompt_tokens\":3") != NULL,
       "entry holds the response");
    json_object_put(e);
    snprintf(path, sizeof path, "%s/%.2s", dir, k1);
    ok(count_tmp(path) == 0, "no temporary files left");
    fa_cache_close(c);

    c = fa_cache_open(dir, FA_CACHE_REPLAY);
    ok(fa_cache_get(c, k1, &e) == 1, "replay: hit");
    json_object_put(e);
    ok(fa_cache_get(c, k3, &e) == -1 && strstr(fa_err_get(), "replay: no cached answer"),
       "replay: miss is an error");
    fa_cache_close(c);

    c = fa_cache_open(dir, FA_CACHE_OFF);
    ok(fa_cache_get(c, k1, &e) == 0, "off: never a hit");
    fa_cache_close(c);

    /* a corrupt entry: a miss in rw (asked again), an error in replay */
    snprintf(path, sizeof path, "%s/%.2s/%s.json", dir, k1, k1);
    f = fopen(path, "w");
    fputs("{\"key\":", f);
    fclose(f);
    c = fa_cache_open(dir, FA_CACHE_RW);
    ok(fa_cache_get(c, k1, &e) == 0, "corrupt entry: miss in rw");
    fa_cache_close(c);
    c = fa_cache_open(dir, FA_CACHE_REPLAY);
    ok(fa_cache_get(c, k1, &e) == -1 && strstr(fa_err_get(), "corrupt"),
       "corrupt entry: error in replay");
    fa_cache_close(c);
    ok(fa_cache_get(c = fa_cache_open(dir, FA_CACHE_RW), "../../etc/passwd", &e) == -1,
       "a key that is not hex is refused");
    fa_cache_close(c);

    /* four processes write the same key at once: one whole entry results */
    fflush(stdout);
    for (int k = 0; k < 4; k++)
        if (fork() == 0) {
            struct fa_cache *cc = fa_cache_open(dir, FA_CACHE_RW);
            int rc = 0;
            for (int i = 0; i < 20; i++)
                rc |= fa_cache_put(cc, k1, "chat", req, resp, i);
            fa_cache_close(cc);
            _exit(rc ? 1 : 0);
        }
    {
        int bad = 0, st;
        for (int k = 0; k < 4; k++) {
            wait(&st);
            bad += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        }
        ok(bad == 0, "concurrent writers succeed");
    }
    c = fa_cache_open(dir, FA_CACHE_REPLAY);
    ok(fa_cache_get(c, k1, &e) == 1, "the entry is whole");
    json_object_put(e);
    fa_cache_close(c);
    snprintf(path, sizeof path, "%s/%.2s", dir, k1);
    ok(count_tmp(path) == 0, "no temporary files left");

    /* the cache directory is created with its parents */
    {
        char deep[600];
        snprintf(deep, sizeof deep, "%s/a/b/c", dir);
        c = fa_cache_open(deep, FA_CACHE_RW);
        ok(fa_cache_put(c, k3, "embeddings", req, resp, 1) == 0, "nested directory created");
        fa_cache_close(c);
    }
    json_object_put(req);
    json_object_put(req2);
    json_object_put(resp);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        ok(0, "cleanup");
    return tap_done();
}
