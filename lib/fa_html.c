/* fa_html.c: escaped text, data URIs and inline SVG for fa-report's page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fa_html.h"
#include "fa_str.h"
#include "fa_banned.h"

void fa_html_textn(FILE *f, const char *s, size_t n)
{
    size_t i, run = 0;

    if (!s)
        return;
    for (i = 0; i < n; i++) {
        const char *rep = NULL;
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                rep = "";
        }
        if (!rep)
            continue;
        fwrite(s + run, 1, i - run, f);
        fputs(rep, f);
        run = i + 1;
    }
    fwrite(s + run, 1, n - run, f);
}

void fa_html_text(FILE *f, const char *s)
{
    if (s)
        fa_html_textn(f, s, strlen(s));
}

void fa_html_data_uri(FILE *f, const char *mime, const void *data, size_t len)
{
    size_t n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
    char *b = fa_str_nn(malloc(n));

    sodium_bin2base64(b, n, data, len, sodium_base64_VARIANT_ORIGINAL);
    fprintf(f, "data:%s;base64,", mime);
    fwrite(b, 1, n - 1, f);
    free(b);
}

const char *fa_html_svg_inline(const char *svg, size_t len, size_t *n)
{
    const char *p = memmem(svg, len, "<svg", 4);

    *n = 0;
    if (!p || memmem(svg, len, "<script", 7))
        return NULL;
    *n = len - (size_t)(p - svg);
    return p;
}
