/* fa_prompt.c: prompt templates: lookup (FA_PROMPTS, next to the
 * executable, the install directory), {{var}}, {{a.b}}, {{> part}}. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fa_prompt.h"
#include "fa_err.h"
#include "fa_file.h"
#include "fa_str.h"
#include "fa_record.h"
#include "fa_banned.h"

#ifndef FA_DATADIR
#define FA_DATADIR "/usr/local/share/fa"
#endif

#define MAX_DEPTH 16
#define MAX_FILE  (4u << 20)

/* The file name for a template name: ".txt" added when there is no
 * extension. */
static char *file_name(const char *name)
{
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    char *s;

    if (strchr(base, '.'))
        return fa_str_nn(strdup(name));
    if (asprintf(&s, "%s.txt", name) < 0)
        abort();
    return s;
}

static int readable(const char *path)
{
    return access(path, R_OK) == 0;
}

/* The directory of this program's executable, read once (a link read
 * per prompt was most of what finding a prompt cost). */
static pthread_once_t exe_once = PTHREAD_ONCE_INIT;
static char exe_path[PATH_MAX];
static ssize_t exe_len = -1;

static void exe_read(void)
{
    ssize_t n = readlink("/proc/self/exe", exe_path, sizeof exe_path - 1);
    char *slash;

    if (n <= 0)
        return;
    exe_path[n] = 0;
    if ((slash = strrchr(exe_path, '/'))) {
        *slash = 0;
        exe_len = slash - exe_path;
    }
}

/* It into d (its length), or -1. */
static ssize_t exe_dir(char *d, size_t size)
{
    pthread_once(&exe_once, exe_read);
    if (exe_len < 0 || (size_t)exe_len >= size)
        return -1;
    memcpy(d, exe_path, (size_t)exe_len + 1);
    return exe_len;
}

char *fa_prompt_path(const char *name)
{
    char *fn = file_name(name), *path = NULL;
    const char *env = getenv("FA_PROMPTS");
    char exe[PATH_MAX];
    ssize_t n;
    struct fa_str tried = {0};

    if (strchr(name, '/')) {
        if (readable(fn))
            return fn;
        fa_err_sys("prompt '%s'", fn);
        free(fn);
        return NULL;
    }
    if (env && *env) {
        if (asprintf(&path, "%s/%s", env, fn) < 0)
            abort();
        if (readable(path))
            goto found;
        fa_str_add(&tried, env);
        free(path);
    }
    n = exe_dir(exe, sizeof exe);
    if (n > 0) {
        /* ../prompts of the executable's directory (bin/ of a source tree
         * or of an install prefix), then two levels further up (build/san/
         * bin/ of a source tree), then ../share/fa (an install moved to
         * another prefix than the one compiled in) */
        static const char *const ups[] = {"/..", "/../../..", "/../share/fa"};
        for (size_t u = 0; u < 3; u++) {
            if (asprintf(&path, "%s%s/prompts/%s", exe, ups[u], fn) < 0)
                abort();
            if (readable(path))
                goto found;
            if (tried.len)
                fa_str_add(&tried, ", ");
            fa_str_add(&tried, exe);
            fa_str_add(&tried, ups[u]);
            fa_str_add(&tried, "/prompts");
            free(path);
        }
    }
    if (asprintf(&path, "%s/prompts/%s", FA_DATADIR, fn) < 0)
        abort();
    if (readable(path))
        goto found;
    if (tried.len)
        fa_str_add(&tried, ", ");
    fa_str_add(&tried, FA_DATADIR "/prompts");
    free(path);
    fa_err_set("prompt '%s': not found in %s (set FA_PROMPTS)", fn, tried.s);
    free(tried.s);
    free(fn);
    return NULL;
found:
    free(tried.s);
    free(fn);
    return path;
}

/* Reads a whole (small) file: a copy of it, read once per process
 * (fa_file_read_memo; fa-days renders the same prompts every day). */
static char *slurp(const char *path)
{
    const char *b;
    size_t n;
    char *s;

    if (fa_file_read_memo(path, MAX_FILE, &b, &n) < 0) {
        if (errno == EFBIG)
            fa_err_set("prompt '%s': larger than %u bytes", path, MAX_FILE);
        return NULL;
    }
    s = fa_str_nn(malloc(n + 1));
    memcpy(s, b, n + 1);
    return s;
}

/* Looks up a dotted path in vars. */
static struct json_object *lookup(struct json_object *vars, const char *path)
{
    struct json_object *cur = vars;
    char *copy = fa_str_nn(strdup(path)), *save = NULL, *seg;

    for (seg = strtok_r(copy, ".", &save); seg; seg = strtok_r(NULL, ".", &save)) {
        struct json_object *next = NULL;
        if (!cur)
            break;
        if (json_object_is_type(cur, json_type_object)) {
            if (!json_object_object_get_ex(cur, seg, &next)) {
                cur = NULL;
                break;
            }
        } else if (json_object_is_type(cur, json_type_array)) {
            char *end;
            unsigned long i;
            errno = 0;
            i = strtoul(seg, &end, 10);
            if (!isdigit((unsigned char)*seg) || *end || errno ||
                i >= json_object_array_length(cur)) {
                cur = NULL;
                break;
            }
            next = json_object_array_get_idx(cur, i);
        } else {
            cur = NULL;
            break;
        }
        cur = next;
        if (!cur) /* a JSON null: present, renders empty */
            break;
    }
    free(copy);
    return cur;
}

/* Whether the dotted path exists (a JSON null counts as present). */
static int exists(struct json_object *vars, const char *path)
{
    char *copy, *dot;
    struct json_object *parent;
    int ok;

    if (lookup(vars, path))
        return 1;
    /* null values: the parent must exist and hold the key */
    copy = fa_str_nn(strdup(path));
    dot = strrchr(copy, '.');
    if (dot) {
        *dot = 0;
        parent = lookup(vars, copy);
        ok = parent && json_object_is_type(parent, json_type_object) &&
             json_object_object_get_ex(parent, dot + 1, NULL);
    } else
        ok = vars && json_object_is_type(vars, json_type_object) &&
             json_object_object_get_ex(vars, copy, NULL);
    free(copy);
    return ok;
}

static void render_value(struct fa_str *b, struct json_object *v)
{
    char *s;

    switch (json_object_get_type(v)) {
    case json_type_null:
        return;
    case json_type_string:
        fa_str_addn(b, json_object_get_string(v), (size_t)json_object_get_string_len(v));
        return;
    case json_type_array: {
        size_t n = json_object_array_length(v);
        int simple = 1;
        for (size_t i = 0; i < n; i++) {
            struct json_object *e = json_object_array_get_idx(v, i);
            if (!json_object_is_type(e, json_type_string) &&
                !json_object_is_type(e, json_type_int) && !json_object_is_type(e, json_type_double))
                simple = 0;
        }
        if (simple) {
            for (size_t i = 0; i < n; i++) {
                if (i)
                    fa_str_add(b, "\n");
                render_value(b, json_object_array_get_idx(v, i));
            }
            return;
        }
        break;
    }
    default:
        break;
    }
    s = fa_json_canonical(v, NULL);
    fa_str_add(b, s);
    free(s);
}

static int render(struct fa_str *out, const char *text, const char *origin,
                  struct json_object *vars, int depth);

static int include(struct fa_str *out, const char *name, const char *origin, unsigned line,
                   struct json_object *vars, int depth)
{
    char *path, *text;
    int rc;

    if (depth >= MAX_DEPTH) {
        fa_err_set("%s:%u: includes nested deeper than %d (a loop?) at '%s'", origin, line,
                   MAX_DEPTH, name);
        return -1;
    }
    path = fa_prompt_path(name);
    if (!path) {
        char *why = fa_str_nn(strdup(fa_err_get()));
        fa_err_set("%s:%u: include: %s", origin, line, why);
        free(why);
        return -1;
    }
    text = slurp(path);
    if (!text) {
        free(path);
        return -1;
    }
    {
        const char *slash = strrchr(path, '/');
        rc = render(out, text, slash ? slash + 1 : path, vars, depth + 1);
    }
    free(text);
    free(path);
    return rc;
}

static int render(struct fa_str *out, const char *text, const char *origin,
                  struct json_object *vars, int depth)
{
    const char *p = text;
    unsigned line = 1;

    for (;;) {
        const char *open = strstr(p, "{{"), *close, *a, *b;
        char *tag;

        if (!open) {
            fa_str_add(out, p);
            return 0;
        }
        for (const char *q = p; q < open; q++)
            line += *q == '\n';
        fa_str_addn(out, p, (size_t)(open - p));
        close = strstr(open + 2, "}}");
        if (!close) {
            fa_err_set("%s:%u: '{{' without a closing '}}'", origin, line);
            return -1;
        }
        a = open + 2;
        b = close;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        tag = fa_str_nn(strndup(a, (size_t)(b - a)));
        if (tag[0] == '!') {
            /* comment */
        } else if (tag[0] == '>') {
            const char *nm = tag + 1;
            while (isspace((unsigned char)*nm))
                nm++;
            if (!*nm || include(out, nm, origin, line, vars, depth) < 0) {
                if (!*nm)
                    fa_err_set("%s:%u: '{{>' without a template name", origin, line);
                free(tag);
                return -1;
            }
        } else {
            struct json_object *v;
            if (!*tag) {
                fa_err_set("%s:%u: empty '{{}}'", origin, line);
                free(tag);
                return -1;
            }
            v = lookup(vars, tag);
            if (!v && !exists(vars, tag)) {
                fa_err_set("%s:%u: missing variable '%s'", origin, line, tag);
                free(tag);
                return -1;
            }
            render_value(out, v);
        }
        free(tag);
        for (const char *q = open; q < close; q++)
            line += *q == '\n';
        p = close + 2;
    }
}

char *fa_prompt_render_text(const char *text, const char *origin, struct json_object *vars)
{
    struct fa_str out = {0};

    if (render(&out, text, origin ? origin : "<template>", vars, 0) < 0) {
        free(out.s);
        return NULL;
    }
    if (!out.s)
        fa_str_addn(&out, "", 0);
    return out.s;
}

char *fa_prompt_render(const char *name, struct json_object *vars)
{
    char *path = fa_prompt_path(name), *text, *res;
    const char *slash;

    if (!path)
        return NULL;
    text = slurp(path);
    if (!text) {
        free(path);
        return NULL;
    }
    slash = strrchr(path, '/');
    res = fa_prompt_render_text(text, slash ? slash + 1 : path, vars);
    free(text);
    free(path);
    return res;
}
