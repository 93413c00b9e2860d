/* fa_file.c: read a whole small file, capped. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_err.h"
#include "fa_file.h"
#include "fa_str.h"
#include "fa_banned.h"

int fa_file_read(const char *path, size_t max, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t n = 0, cap = 0;
    char *b = NULL;

    if (!f) {
        int e = errno;
        fa_err_sys("cannot open '%s'", path);
        errno = e;
        return -1;
    }
    for (;;) {
        if (cap - n < 65536 + 1) {
            cap = cap ? cap * 2 : 65536 * 2;
            b = fa_str_nn(realloc(b, cap));
        }
        size_t got = fread(b + n, 1, cap - n - 1, f);
        n += got;
        if (n > max) {
            fa_err_set("'%s' is larger than %zu bytes", path, max);
            free(b);
            fclose(f);
            errno = EFBIG;
            return -1;
        }
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        int e = errno;
        fa_err_sys("cannot read '%s'", path);
        free(b);
        fclose(f);
        errno = e;
        return -1;
    }
    fclose(f);
    b[n] = 0;
    *buf = b;
    *len = n;
    return 0;
}

static int is_day_name(const char *n)
{
    static const char pat[] = "####-##-##.ndjson";
    size_t i;

    if (strlen(n) != sizeof pat - 1)
        return 0;
    for (i = 0; i < sizeof pat - 1; i++) {
        if (pat[i] == '#' ? (n[i] < '0' || n[i] > '9') : n[i] != pat[i])
            return 0;
    }
    return 1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int fa_file_days(const char *run, char ***days, size_t *n)
{
    char p[PATH_MAX];
    DIR *d;
    struct dirent *e;
    char **v = NULL;
    size_t nv = 0, cap = 0;

    *days = NULL;
    *n = 0;
    if (snprintf(p, sizeof p, "%s/days", run) >= (int)sizeof p) {
        fa_err_set("path too long '%s'", run);
        return -1;
    }
    d = opendir(p);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        fa_err_sys("cannot read '%s'", p);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (!is_day_name(e->d_name))
            continue;
        if (nv == cap) {
            cap = cap ? 2 * cap : 64;
            v = fa_str_nn(realloc(v, cap * sizeof *v));
        }
        v[nv++] = fa_str_nn(strndup(e->d_name, 10));
    }
    closedir(d);
    if (nv)
        qsort(v, nv, sizeof *v, cmp_str);
    *days = v;
    *n = nv;
    return 0;
}

void fa_file_free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}
