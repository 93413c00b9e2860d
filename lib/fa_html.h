/* fa_html.h: the pieces of a self-contained HTML page: escaped text,
 * data URIs and inline SVG. Everything that came from a model or a data
 * provider goes through fa_html_text, so it shows as text, never markup. */
#ifndef FA_HTML_H
#define FA_HTML_H

#include <stddef.h>
#include <stdio.h>

/* Writes s to f with &, <, >, " and ' escaped: safe as element text and
 * as a quoted attribute value. NULL writes nothing. Bytes below 0x20
 * other than tab, newline and carriage return are dropped (HTML has no
 * place for them). */
void fa_html_text(FILE *f, const char *s);
/* The same for the n bytes at s. */
void fa_html_textn(FILE *f, const char *s, size_t n);

/* Writes a data URI ("data:MIME;base64,...") of the len bytes at data. */
void fa_html_data_uri(FILE *f, const char *mime, const void *data, size_t len);

/* The inline part of an SVG document (from "<svg" to the end, without
 * the XML prolog and doctype before it), or NULL when svg holds no <svg
 * element or holds a script. Stores its length in *n. */
const char *fa_html_svg_inline(const char *svg, size_t len, size_t *n);

#endif
