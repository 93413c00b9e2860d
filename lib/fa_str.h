/* fa_str.h: a growable NUL-terminated string (a string builder), and the
 * allocation check the builders share: out of memory aborts. */
#ifndef FA_STR_H
#define FA_STR_H

#include <stddef.h>

/* Start from {0}: s is NULL until something is added; then s[len] == 0
 * and cap is the size allocated. Free s when done (or take it). */
struct fa_str {
    char *s;
    size_t len, cap;
};

/* Returns p; when p is NULL, prints "fa: out of memory" to stderr and
 * aborts. For allocations a caller cannot recover from. */
void *fa_str_nn(void *p);

/* Appends n bytes of s (which need not be NUL-terminated). Aborts on OOM. */
void fa_str_addn(struct fa_str *b, const char *s, size_t n);
/* Appends the string s. */
void fa_str_add(struct fa_str *b, const char *s);
/* The string built, malloc'd ("" when nothing was added); the caller
 * frees it and must not use b again without resetting it to {0}. */
char *fa_str_take(struct fa_str *b);

#endif
