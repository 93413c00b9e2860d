/* test_html: fa_html escapes every byte that could open markup, drops
 * control bytes, writes data URIs that decode back, and inlines only the
 * <svg> element of a script-free SVG document. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fa_html.h"
#include "tap.h"
#include "fa_banned.h"

/* What fa_html_text writes for s. */
static char *escaped(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    fa_html_text(f, s);
    fclose(f);
    return buf;
}

int main(void)
{
    char *e;

    e = escaped("<script>alert('x')</script> & \"q\"");
    is_str(e, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;",
           "markup, quotes and ampersands are escaped");
    free(e);
    e = escaped("plain text, UTF-8: caf\xc3\xa9 \xe2\x82\xac");
    is_str(e, "plain text, UTF-8: caf\xc3\xa9 \xe2\x82\xac",
           "plain text and UTF-8 pass as they are");
    free(e);
    e = escaped("a\x01\x1b[31mb\tc\nd");
    is_str(e, "a[31mb\tc\nd", "control bytes are dropped, tab and newline kept");
    free(e);
    e = escaped("");
    is_str(e, "", "empty");
    free(e);
    e = escaped(NULL);
    is_str(e, "", "NULL writes nothing");
    free(e);
    {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        fa_html_textn(f, "<b>ignored", 3);
        fclose(f);
        is_str(buf, "&lt;b&gt;", "textn escapes n bytes only");
        free(buf);
    }
    {
        static const unsigned char png[] = {0x89, 'P', 'N', 'G', 0, 1, 2, 0xff, '<', '"'};
        unsigned char back[sizeof png];
        size_t blen = 0;
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        fa_html_data_uri(f, "image/png", png, sizeof png);
        fclose(f);
        ok(strncmp(buf, "data:image/png;base64,", 22) == 0, "a data URI");
        ok(strpbrk(buf + 22, "<>\"'& ") == NULL, "with nothing that needs escaping");
        ok(sodium_base642bin(back, sizeof back, buf + 22, strlen(buf + 22), NULL, &blen, NULL,
                             sodium_base64_VARIANT_ORIGINAL) == 0 &&
               blen == sizeof png && memcmp(back, png, blen) == 0,
           "that decodes to the same bytes");
        free(buf);
    }
    {
        const char svg[] = "<?xml version=\"1.0\"?>\n<!DOCTYPE svg>\n<svg width=\"1\"><g/></svg>\n";
        size_t n = 0;
        const char *p = fa_html_svg_inline(svg, strlen(svg), &n);
        ok(p && strncmp(p, "<svg width", 10) == 0 && n == strlen("<svg width=\"1\"><g/></svg>\n"),
           "inline SVG starts at <svg, without the prolog");
        const char bad[] = "<svg><script>alert(1)</script></svg>";
        ok(fa_html_svg_inline(bad, strlen(bad), &n) == NULL, "an SVG with a script is refused");
        ok(fa_html_svg_inline("<html/>", 7, &n) == NULL, "no <svg>: NULL");
    }
    return tap_done();
}
