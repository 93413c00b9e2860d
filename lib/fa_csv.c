/* fa_csv.c: the CSV reader of fa_csv.h, a byte-at-a-time state machine
 * over stdio (price files are small; clarity wins over speed here). */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_csv.h"
#include "fa_err.h"
#include "fa_banned.h"

struct fa_csv {
    FILE *f;
    bool own;
    char *name;
    unsigned long line;  /* next physical line to read (1-based) */
    unsigned long start; /* line where the current row began */
    bool bom_checked;
    char *buf; /* field bytes, each NUL-terminated */
    size_t len, cap;
    size_t *off; /* field offsets into buf */
    size_t nf, offcap;
    size_t fstart; /* where the field being read began in buf */
    char where[300];
};

static struct fa_csv *csv_new(FILE *f, const char *name, bool own)
{
    struct fa_csv *c = calloc(1, sizeof *c);

    if (!c || !(c->name = strdup(name))) {
        free(c);
        fa_err_set("out of memory");
        return NULL;
    }
    c->f = f;
    c->own = own;
    c->line = 1;
    return c;
}

struct fa_csv *fa_csv_open(const char *path)
{
    FILE *f;
    struct fa_csv *c;

    if (!path || strcmp(path, "-") == 0)
        return csv_new(stdin, "<stdin>", false);
    if (!(f = fopen(path, "r"))) {
        fa_err_sys("open '%s'", path);
        return NULL;
    }
    if (!(c = csv_new(f, path, true)))
        fclose(f);
    return c;
}

struct fa_csv *fa_csv_from_file(FILE *f, const char *name)
{
    return csv_new(f, name ? name : "<stream>", false);
}

void fa_csv_close(struct fa_csv *c)
{
    if (!c)
        return;
    if (c->own)
        fclose(c->f);
    free(c->name);
    free(c->buf);
    free(c->off);
    free(c);
}

size_t fa_csv_nfields(const struct fa_csv *c)
{
    return c->nf;
}

const char *fa_csv_field(const struct fa_csv *c, size_t i)
{
    return i < c->nf ? c->buf + c->off[i] : NULL;
}

unsigned long fa_csv_line(const struct fa_csv *c)
{
    return c->start;
}

const char *fa_csv_where(struct fa_csv *c)
{
    snprintf(c->where, sizeof c->where, "%s:%lu", c->name, c->start);
    return c->where;
}

static int put(struct fa_csv *c, char ch)
{
    if (c->len + 1 >= c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        char *nb;
        if (c->len >= FA_CSV_MAXROW)
            return -1;
        if (!(nb = realloc(c->buf, cap)))
            return -1;
        c->buf = nb;
        c->cap = cap;
    }
    c->buf[c->len++] = ch;
    return 0;
}

static int end_field(struct fa_csv *c)
{
    if (c->nf == c->offcap) {
        size_t cap = c->offcap ? c->offcap * 2 : 16;
        size_t *no = realloc(c->off, cap * sizeof *no);
        if (!no)
            return -1;
        c->off = no;
        c->offcap = cap;
    }
    if (put(c, '\0') != 0)
        return -1;
    c->off[c->nf++] = c->fstart;
    c->fstart = c->len;
    return 0;
}

/* Consumes the rest of the physical line after an error. */
static void skip_line(struct fa_csv *c, int ch)
{
    while (ch != EOF && ch != '\n')
        ch = getc(c->f);
    if (ch == '\n')
        c->line++;
}

static int bad(struct fa_csv *c, int ch, const char *why)
{
    fa_err_set("%s:%lu: %s", c->name, c->start, why);
    skip_line(c, ch);
    return FA_CSV_BAD;
}

/* After '\r': swallow a following '\n'; either way the line ends. */
static void end_line(struct fa_csv *c, int ch)
{
    if (ch == '\r') {
        int n = getc(c->f);
        if (n != '\n' && n != EOF)
            ungetc(n, c->f);
    }
    c->line++;
}

int fa_csv_next(struct fa_csv *c)
{
    enum { FIELD, PLAIN, QUOTED, AFTER } st;
    bool content;
    int ch;

    if (!c->bom_checked) {
        int a = getc(c->f), b, d;
        c->bom_checked = true;
        if (a == 0xEF) {
            b = getc(c->f);
            d = getc(c->f);
            if (b != 0xBB || d != 0xBF) {
                fa_err_set("%s:1: bad byte order mark", c->name);
                return FA_CSV_IOERR;
            }
        } else if (a != EOF) {
            ungetc(a, c->f);
        }
    }
again:
    c->len = 0;
    c->nf = 0;
    c->fstart = 0;
    c->start = c->line;
    st = FIELD;
    content = false;
    for (;;) {
        ch = getc(c->f);
        if (ch == EOF && ferror(c->f)) {
            fa_err_sys("read '%s'", c->name);
            return FA_CSV_IOERR;
        }
        if (ch == '\0') /* text files hold none; a field would end there */
            return bad(c, ch, "NUL byte in a field");
        switch (st) {
        case FIELD:
        case PLAIN:
            if (ch == ',') {
                content = true;
                if (end_field(c) != 0)
                    return bad(c, ch, "row too long");
                st = FIELD;
            } else if (ch == '\n' || ch == '\r' || ch == EOF) {
                if (!content && st == FIELD) {
                    if (ch == EOF)
                        return FA_CSV_EOF;
                    end_line(c, ch);
                    goto again; /* blank line */
                }
                if (end_field(c) != 0)
                    return bad(c, ch, "row too long");
                if (ch != EOF)
                    end_line(c, ch);
                return FA_CSV_ROW;
            } else if (ch == '"') {
                if (st == PLAIN)
                    return bad(c, ch, "quote inside an unquoted field");
                content = true;
                st = QUOTED;
            } else {
                content = true;
                st = PLAIN;
                if (put(c, (char)ch) != 0)
                    return bad(c, ch, "row too long");
            }
            break;
        case QUOTED:
            if (ch == EOF)
                return bad(c, ch, "unterminated quoted field");
            if (ch == '"') {
                st = AFTER;
            } else {
                if (ch == '\n')
                    c->line++;
                if (put(c, (char)ch) != 0)
                    return bad(c, ch, "row too long");
            }
            break;
        case AFTER:
            if (ch == '"') {
                st = QUOTED;
                if (put(c, '"') != 0)
                    return bad(c, ch, "row too long");
            } else if (ch == ',') {
                if (end_field(c) != 0)
                    return bad(c, ch, "row too long");
                st = FIELD;
            } else if (ch == '\n' || ch == '\r' || ch == EOF) {
                if (end_field(c) != 0)
                    return bad(c, ch, "row too long");
                if (ch != EOF)
                    end_line(c, ch);
                return FA_CSV_ROW;
            } else {
                return bad(c, ch, "unexpected character after a closing quote");
            }
            break;
        }
    }
}

int fa_csv_price_column(const char *name)
{
    static const struct {
        const char *key;
        int col;
    } alias[] = {
        {"date", FA_CSV_DATE},
        {"timestamp", FA_CSV_DATE},
        {"open", FA_CSV_OPEN},
        {"high", FA_CSV_HIGH},
        {"low", FA_CSV_LOW},
        {"close", FA_CSV_CLOSE},
        {"price", FA_CSV_CLOSE},
        {"adjclose", FA_CSV_ADJ_CLOSE},
        {"adjustedclose", FA_CSV_ADJ_CLOSE},
        {"volume", FA_CSV_VOLUME},
        {"vol", FA_CSV_VOLUME},
    };
    char key[32];
    size_t n = 0;

    for (const char *p = name; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == ' ' || ch == '\t' || ch == '_' || ch == '-' || ch == '.')
            continue;
        if (n + 1 >= sizeof key)
            return -1;
        key[n++] = (char)tolower(ch);
    }
    key[n] = '\0';
    for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
        if (strcmp(key, alias[i].key) == 0)
            return alias[i].col;
    return -1;
}

int fa_csv_price_header(struct fa_csv *c, int idx[FA_CSV_NCOLS])
{
    static const char *const names[FA_CSV_NCOLS] = {"date",  "open",      "high",  "low",
                                                    "close", "adj_close", "volume"};

    for (int i = 0; i < FA_CSV_NCOLS; i++)
        idx[i] = -1;
    for (size_t i = 0; i < c->nf; i++) {
        int col = fa_csv_price_column(fa_csv_field(c, i));
        if (col < 0)
            continue; /* extra columns (Dividends, Stock Splits) are fine */
        if (idx[col] >= 0) {
            fa_err_set("%s: unknown column layout: column '%s' appears twice", fa_csv_where(c),
                       names[col]);
            return -1;
        }
        idx[col] = (int)i;
    }
    /* close-only (open, high and low all absent) is a layout of its own */
    bool close_only = idx[FA_CSV_OPEN] < 0 && idx[FA_CSV_HIGH] < 0 && idx[FA_CSV_LOW] < 0;
    for (int i = 0; i <= FA_CSV_CLOSE; i++) {
        if (idx[i] < 0 && !(close_only && i >= FA_CSV_OPEN && i <= FA_CSV_LOW)) {
            fa_err_set("%s: unknown column layout: no '%s' column (want "
                       "date,open,high,low,close[,adj_close][,volume], or date,close)",
                       fa_csv_where(c), names[i]);
            return -1;
        }
    }
    return 0;
}
