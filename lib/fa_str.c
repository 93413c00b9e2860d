/* fa_str.c: the growable string. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_str.h"
#include "fa_banned.h"

void *fa_str_nn(void *p)
{
    if (!p) {
        fputs("fa: out of memory\n", stderr);
        abort();
    }
    return p;
}

void fa_str_addn(struct fa_str *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->s = fa_str_nn(realloc(b->s, cap));
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

void fa_str_add(struct fa_str *b, const char *s)
{
    fa_str_addn(b, s, strlen(s));
}

char *fa_str_take(struct fa_str *b)
{
    if (!b->s)
        fa_str_addn(b, "", 0);
    return b->s;
}
