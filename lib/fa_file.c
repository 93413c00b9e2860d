/* fa_file.c: read a whole small file, capped. */
#include <errno.h>
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
