/* fa_day.c: group a record stream by (symbol, date); the firewall test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_cli.h"
#include "fa_date.h"
#include "fa_day.h"
#include "fa_err.h"
#include "fa_ndjson.h"
#include "fa_record.h"
#include "fa_banned.h"

/* Last date seen per symbol, to notice a stream that goes back in time. */
struct last_seen {
    char symbol[64];
    int day;
};

struct fa_day_reader {
    struct fa_ndjson_reader *nd;
    struct json_object *pending; /* first record of the next group */
    char pending_where[512];
    bool eof, backwards;
    struct last_seen *seen;
    size_t nseen;
};

struct fa_day_reader *fa_day_open(const char *path)
{
    struct fa_day_reader *r = calloc(1, sizeof *r);

    if (!r) {
        fa_err_set("out of memory");
        return NULL;
    }
    if (!(r->nd = fa_ndjson_open(path, 0))) {
        free(r);
        return NULL;
    }
    return r;
}

void fa_day_close(struct fa_day_reader *r)
{
    if (!r)
        return;
    json_object_put(r->pending);
    fa_ndjson_close(r->nd);
    free(r->seen);
    free(r);
}

bool fa_day_reader_backwards(const struct fa_day_reader *r)
{
    return r->backwards;
}

int fa_day_order(const char *subject, int last, int day, bool held, bool same)
{
    char d1[11], d2[11];

    if (day > last)
        return FA_DAY_TAKE;
    if (held && same)
        return FA_DAY_AGAIN;
    if (held)
        fa_err_set("%s %s is repeated with other values (the first is kept)", subject,
                   fa_date_format(day, d1));
    else
        fa_err_set("%s %s is out of order (after %s)", subject, fa_date_format(day, d1),
                   fa_date_format(last, d2));
    return -1;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);

    if (!q)
        fa_die(FA_EXIT_FAIL, "out of memory");
    return q;
}

void fa_day_add(struct fa_day *d, struct json_object *rec, const char *where)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->recs = xrealloc(d->recs, d->cap * sizeof *d->recs);
        d->where = xrealloc(d->where, d->cap * sizeof *d->where);
    }
    d->recs[d->n] = rec;
    d->where[d->n] = where ? strdup(where) : NULL;
    d->n++;
}

void fa_day_clear(struct fa_day *d)
{
    for (size_t i = 0; i < d->n; i++) {
        json_object_put(d->recs[i]);
        free(d->where[i]);
    }
    d->n = 0;
    d->symbol[0] = 0;
    d->date[0] = 0;
    d->day = -1;
}

void fa_day_free(struct fa_day *d)
{
    fa_day_clear(d);
    free(d->recs);
    free(d->where);
    d->recs = NULL;
    d->where = NULL;
    d->cap = 0;
}

/* The group key of a record: its symbol and date, when it has a valid date. */
static bool rec_key(struct json_object *rec, const char **sym, const char **date, int *day)
{
    const char *s = fa_record_symbol(rec), *dt = fa_record_date(rec);

    if (!dt || fa_date_parse(dt, day) < 0)
        return false;
    *sym = s ? s : "";
    *date = dt;
    return true;
}

static void note_seen(struct fa_day_reader *r, const char *sym, int day)
{
    for (size_t i = 0; i < r->nseen; i++)
        if (strcmp(r->seen[i].symbol, sym) == 0) {
            r->backwards = day < r->seen[i].day;
            if (day > r->seen[i].day)
                r->seen[i].day = day;
            return;
        }
    r->seen = xrealloc(r->seen, (r->nseen + 1) * sizeof *r->seen);
    snprintf(r->seen[r->nseen].symbol, sizeof r->seen[r->nseen].symbol, "%s", sym);
    r->seen[r->nseen].day = day;
    r->nseen++;
    r->backwards = false;
}

static void start_group(struct fa_day_reader *r, struct fa_day *d, struct json_object *rec)
{
    const char *sym, *date;
    int day;

    if (rec_key(rec, &sym, &date, &day)) {
        snprintf(d->symbol, sizeof d->symbol, "%s", sym);
        snprintf(d->date, sizeof d->date, "%s", date);
        d->day = day;
        note_seen(r, d->symbol, day);
    } else {
        d->symbol[0] = 0;
        d->date[0] = 0;
        d->day = -1;
    }
}

int fa_day_next(struct fa_day_reader *r, struct fa_day *d)
{
    struct json_object *rec;
    const char *sym, *date;
    int day, st;

    if (r->pending) {
        start_group(r, d, r->pending);
        fa_day_add(d, r->pending, r->pending_where);
        r->pending = NULL;
    }
    while (!r->eof) {
        st = fa_ndjson_next(r->nd, &rec);
        if (st == FA_NDJSON_EOF) {
            r->eof = true;
            break;
        }
        if (st == FA_NDJSON_IOERR)
            return -1;
        if (st == FA_NDJSON_BAD) {
            /* Kept in place as an error record, so the stream's order holds. */
            const char *msg = fa_err_get(), *where = fa_ndjson_where(r->nd);
            size_t wl = strlen(where);
            if (fa_strict)
                fa_die(FA_EXIT_FAIL, "%s", msg);
            fa_warn("%s", msg);
            /* the error record carries where; its message need not */
            if (strncmp(msg, where, wl) == 0 && msg[wl] == ':' && msg[wl + 1] == ' ')
                msg += wl + 2;
            fa_day_add(d,
                       fa_record_error(fa_progname, d->symbol[0] ? d->symbol : NULL,
                                       d->date[0] ? d->date : NULL, fa_ndjson_where(r->nd), msg),
                       fa_ndjson_where(r->nd));
            continue;
        }
        {
            /* a symbol must fit the group's key whole: cut, two symbols
             * that share their first 63 bytes would be one, and a long
             * symbol would start a new group with every record */
            const char *s = fa_record_symbol(rec);
            if (s && strlen(s) >= sizeof d->symbol) {
                char msg[160];
                snprintf(msg, sizeof msg, "symbol of %zu bytes (at most %zu): record skipped",
                         strlen(s), sizeof d->symbol - 1);
                if (fa_strict)
                    fa_die(FA_EXIT_FAIL, "%s: %s", fa_ndjson_where(r->nd), msg);
                fa_warn("%s: %s", fa_ndjson_where(r->nd), msg);
                json_object_put(rec);
                fa_day_add(d,
                           fa_record_error(fa_progname, d->symbol[0] ? d->symbol : NULL,
                                           d->date[0] ? d->date : NULL, fa_ndjson_where(r->nd),
                                           msg),
                           fa_ndjson_where(r->nd));
                continue;
            }
        }
        if (d->n == 0) {
            start_group(r, d, rec);
            fa_day_add(d, rec, fa_ndjson_where(r->nd));
            continue;
        }
        if (!rec_key(rec, &sym, &date, &day) ||
            (d->day >= 0 && day == d->day && strcmp(sym, d->symbol) == 0)) {
            fa_day_add(d, rec, fa_ndjson_where(r->nd));
            continue;
        }
        r->pending = rec;
        snprintf(r->pending_where, sizeof r->pending_where, "%s", fa_ndjson_where(r->nd));
        return 1;
    }
    return d->n > 0 ? 1 : 0;
}

long fa_day_find(const struct fa_day *d, const char *kind, size_t *i)
{
    for (; *i < d->n; (*i)++) {
        const char *k = fa_record_kind(d->recs[*i]);
        const char *s = fa_record_symbol(d->recs[*i]);
        if (!k || strcmp(k, kind) != 0)
            continue;
        if (s && d->symbol[0] && strcmp(s, d->symbol) != 0)
            continue;
        return (long)(*i)++;
    }
    return -1;
}

bool fa_day_admit(struct json_object *rec, int day, int limit, const char *where)
{
    const char *asof = fa_record_asof(rec), *id, *kind;
    int a, lim = limit > day ? limit : day;
    char buf[11];

    if (!asof || fa_date_parse(asof, &a) < 0)
        return true;
    if (a <= lim)
        return true;
    id = fa_record_str(rec, "id");
    kind = fa_record_kind(rec);
    fa_err_set("firewall: %s record %s has asof %s, after %s%s%s", kind ? kind : "(no kind)",
               id ? id : "(no id)", asof, fa_date_format(lim, buf), where ? " at " : "",
               where ? where : "");
    return false;
}

const char *fa_day_later(const char *a, const char *b)
{
    if (!a || !*a)
        return b && *b ? b : NULL;
    if (!b || !*b)
        return a;
    return strcmp(a, b) >= 0 ? a : b;
}
