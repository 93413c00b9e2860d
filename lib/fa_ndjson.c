/* fa_ndjson.c: the line reader, the record parser and the record writer. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fa_ndjson.h"
#include "fa_err.h"
#include "fa_banned.h"

struct fa_ndjson_reader {
    FILE *f;
    bool owned;
    char *name;
    size_t maxline;
    char *line;
    size_t cap;
    unsigned long lineno;
    char where[512];
    struct json_tokener *tok;
    char *const *paths; /* fa_ndjson_open_list: the files still to read */
    int npaths, next;
};

struct fa_ndjson_reader *fa_ndjson_from_file(FILE *f, const char *name, size_t maxline)
{
    struct fa_ndjson_reader *r = calloc(1, sizeof *r);

    if (!r || !(r->name = strdup(name)) || !(r->tok = json_tokener_new())) {
        if (r)
            free(r->name);
        free(r);
        fa_err_set("out of memory");
        return NULL;
    }
    r->f = f;
    r->maxline = maxline ? maxline : FA_NDJSON_MAXLINE;
    return r;
}

struct fa_ndjson_reader *fa_ndjson_open(const char *path, size_t maxline)
{
    struct fa_ndjson_reader *r;
    FILE *f;

    if (!path || strcmp(path, "-") == 0)
        return fa_ndjson_from_file(stdin, "<stdin>", maxline);
    if (!(f = fopen(path, "r"))) {
        fa_err_sys("cannot open '%s'", path);
        return NULL;
    }
    if (!(r = fa_ndjson_from_file(f, path, maxline))) {
        fclose(f);
        return NULL;
    }
    r->owned = true;
    return r;
}

struct fa_ndjson_reader *fa_ndjson_open_list(char *const *paths, int n, size_t maxline)
{
    struct fa_ndjson_reader *r = fa_ndjson_open(n > 0 ? paths[0] : NULL, maxline);

    if (r && n > 1) {
        r->paths = paths;
        r->npaths = n;
        r->next = 1;
    }
    return r;
}

/* Moves r to the next file of its list. Returns 0, or -1 with fa_err set
 * (r then still reads the file it had, at its end). */
static int next_file(struct fa_ndjson_reader *r)
{
    const char *path = r->paths[r->next++];
    bool std = strcmp(path, "-") == 0;
    FILE *f = std ? stdin : fopen(path, "r");
    char *name;

    if (!f) {
        fa_err_sys("cannot open '%s'", path);
        return -1;
    }
    if (!(name = strdup(std ? "<stdin>" : path))) {
        if (!std)
            fclose(f);
        fa_err_set("out of memory");
        return -1;
    }
    if (r->owned)
        fclose(r->f);
    free(r->name);
    r->f = f;
    r->owned = !std;
    r->name = name;
    r->lineno = 0;
    return 0;
}

void fa_ndjson_close(struct fa_ndjson_reader *r)
{
    if (!r)
        return;
    if (r->owned)
        fclose(r->f);
    json_tokener_free(r->tok);
    free(r->line);
    free(r->name);
    free(r);
}

const char *fa_ndjson_where(struct fa_ndjson_reader *r)
{
    snprintf(r->where, sizeof r->where, "%s:%lu", r->name, r->lineno);
    return r->where;
}

unsigned long fa_ndjson_line(struct fa_ndjson_reader *r)
{
    return r->lineno;
}

/* Reads one line into r->line without its newline. Returns its length,
 * -1 at EOF, -2 on a read error, -3 when longer than maxline (the rest of
 * the line is consumed and dropped). */
static long read_line(struct fa_ndjson_reader *r)
{
    size_t n = 0;
    bool toolong = false;
    int c;

    for (;;) {
        c = getc(r->f);
        if (c == EOF) {
            if (ferror(r->f))
                return -2;
            if (n == 0 && !toolong)
                return -1;
            break;
        }
        if (c == '\n')
            break;
        if (toolong)
            continue;
        if (n + 1 >= r->maxline) {
            toolong = true;
            continue;
        }
        if (n + 2 > r->cap) {
            size_t cap = r->cap ? r->cap * 2 : 4096;
            char *p = realloc(r->line, cap);
            if (!p)
                return -2;
            r->line = p;
            r->cap = cap;
        }
        r->line[n++] = (char)c;
    }
    r->lineno++;
    if (toolong)
        return -3;
    if (!r->line) {
        r->line = malloc(1);
        if (!r->line)
            return -2;
        r->cap = 1;
    }
    r->line[n] = 0;
    if (n && r->line[n - 1] == '\r')
        r->line[--n] = 0;
    return (long)n;
}

size_t fa_ndjson_utf8_check(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < n) {
        unsigned c = p[i];
        size_t k;
        unsigned cp, min;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            k = 1, cp = c & 0x1F, min = 0x80;
        else if (c >= 0xE0 && c <= 0xEF)
            k = 2, cp = c & 0x0F, min = 0x800;
        else if (c >= 0xF0 && c <= 0xF4)
            k = 3, cp = c & 0x07, min = 0x10000;
        else
            return i; /* a continuation byte first, an overlong lead, > U+10FFFF */
        if (n - i <= k)
            return i;
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xC0) != 0x80)
                return i;
            cp = cp << 6 | (p[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return i; /* overlong, out of range, a surrogate */
        i += k + 1;
    }
    return n;
}

int fa_ndjson_next(struct fa_ndjson_reader *r, struct json_object **out)
{
    struct json_object *o;
    enum json_tokener_error jerr;
    long n;
    size_t off;

    *out = NULL;
    for (;;) {
        n = read_line(r);
        if (n == -1 && r->next < r->npaths) {
            if (next_file(r) < 0)
                return FA_NDJSON_IOERR;
            continue;
        }
        if (n == -1)
            return FA_NDJSON_EOF;
        if (n == -2) {
            fa_err_sys("read error '%s'", r->name);
            return FA_NDJSON_IOERR;
        }
        if (n == -3) {
            fa_err_set("%s: line longer than %zu bytes", fa_ndjson_where(r), r->maxline);
            return FA_NDJSON_BAD;
        }
        off = strspn(r->line, " \t");
        if (r->line[off] || (size_t)n > off) /* a NUL is not blank */
            break;
    }
    /* Streams are UTF-8 text: a NUL byte or invalid UTF-8 makes the line a
     * bad record (never passed on, never repaired into other text) */
    {
        const char *z = memchr(r->line, 0, (size_t)n);
        size_t bad;
        if (z) {
            fa_err_set("%s: NUL byte at column %zu", fa_ndjson_where(r), (size_t)(z - r->line) + 1);
            return FA_NDJSON_BAD;
        }
        if ((bad = fa_ndjson_utf8_check(r->line, (size_t)n)) < (size_t)n) {
            fa_err_set("%s: invalid UTF-8 at column %zu", fa_ndjson_where(r), bad + 1);
            return FA_NDJSON_BAD;
        }
    }
    json_tokener_reset(r->tok);
    o = json_tokener_parse_ex(r->tok, r->line + off, (int)(n - (long)off));
    jerr = json_tokener_get_error(r->tok);
    if (jerr == json_tokener_continue) {
        json_object_put(o);
        fa_err_set("%s: invalid JSON: unexpected end of line", fa_ndjson_where(r));
        return FA_NDJSON_BAD;
    }
    if (jerr != json_tokener_success) {
        fa_err_set("%s: invalid JSON: %s", fa_ndjson_where(r), json_tokener_error_desc(jerr));
        return FA_NDJSON_BAD;
    }
    off += json_tokener_get_parse_end(r->tok);
    off += strspn(r->line + off, " \t");
    if (r->line[off]) {
        json_object_put(o);
        fa_err_set("%s: invalid JSON: trailing characters after the record", fa_ndjson_where(r));
        return FA_NDJSON_BAD;
    }
    if (!json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        fa_err_set("%s: a record must be a JSON object", fa_ndjson_where(r));
        return FA_NDJSON_BAD;
    }
    *out = o;
    return FA_NDJSON_RECORD;
}

static int flush_mode(FILE *f)
{
    struct stat st;

    return fstat(fileno(f), &st) == 0 && !S_ISREG(st.st_mode);
}

int fa_ndjson_write(FILE *f, struct json_object *o)
{
    static FILE *known;
    static int must_flush;
    size_t len;
    const char *s;

    if (f != known) {
        known = f;
        must_flush = flush_mode(f);
    }
    s = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    if (fwrite(s, 1, len, f) != len || putc('\n', f) == EOF)
        return -1;
    if (must_flush && fflush(f) == EOF)
        return -1;
    return 0;
}

void fa_emit(struct json_object *o)
{
    int rc = fa_ndjson_write(stdout, o);

    json_object_put(o);
    if (rc == 0)
        return;
    if (errno == EPIPE) {
        if (fa_exit_jmp)
            fa_exit(0);
        _exit(0);
    }
    fa_die(FA_EXIT_FAIL, "write error 'stdout': %s", strerror(errno));
}

int fa_stdout_close(void)
{
    if (fflush(stdout) == EOF || ferror(stdout)) {
        if (errno == EPIPE)
            return 0;
        fa_warn("write error 'stdout': %s", strerror(errno));
        return 1;
    }
    if (fa_exit_jmp) /* hosted: the host's stdout, flushed, stays open */
        return 0;
    if (fclose(stdout) == EOF && errno != EPIPE) {
        fa_warn("write error 'stdout': %s", strerror(errno));
        return 1;
    }
    return 0;
}
