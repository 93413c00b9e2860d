/* fa_provider.c: the source-independent half of fa_provider.h: the data
 * set, records, the day-by-day emission, the local sources (CSV files and
 * fa NDJSON) and the reply cache of the HTTP providers. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fa_csv.h"
#include "fa_day.h"
#include "fa_err.h"
#include "fa_file.h"
#include "fa_ndjson.h"
#include "fa_provider.h"
#include "fa_record.h"
#include "fa_banned.h"

void fa_provider_data_free(struct fa_provider_data *d)
{
    size_t i;

    if (!d)
        return;
    for (i = 0; i < d->nnews; i++)
        json_object_put(d->news[i].fields);
    for (i = 0; i < d->nguidance; i++)
        json_object_put(d->guidance[i].fields);
    free(d->bars);
    free(d->news);
    free(d->guidance);
    memset(d, 0, sizeof *d);
}

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
    size_t nc;
    void *np;

    if (n < *cap)
        return 0;
    nc = *cap ? *cap * 2 : 64;
    if (!(np = realloc(*p, nc * size))) {
        fa_err_set("out of memory");
        return -1;
    }
    *p = np;
    *cap = nc;
    return 0;
}

int fa_provider_add_bar(struct fa_provider_data *d, const struct fa_provider_bar *b)
{
    if (grow((void **)&d->bars, &d->capbars, d->nbars, sizeof *d->bars) != 0)
        return -1;
    d->bars[d->nbars++] = *b;
    return 0;
}

int fa_provider_add_item(struct fa_provider_data *d, const char *kind, int day,
                         struct json_object *fields)
{
    bool guid = strcmp(kind, "guidance") == 0;
    struct fa_provider_item **v = guid ? &d->guidance : &d->news;
    size_t *n = guid ? &d->nguidance : &d->nnews;
    size_t *cap = guid ? &d->capguidance : &d->capnews;
    char buf[11];

    if (grow((void **)v, cap, *n, sizeof **v) != 0) {
        json_object_put(fields);
        return -1;
    }
    if (!fa_record_str(fields, "time"))
        fa_record_set_str(fields, "time", fa_date_format(day, buf));
    (*v)[*n].day = day;
    (*v)[*n].fields = fields;
    (*n)++;
    return 0;
}

int fa_provider_check_bar(const struct fa_provider_bar *b, const char *where)
{
    static const char *const names[] = {"open", "high", "low", "close", "adj_close"};
    const double v[] = {b->open, b->high, b->low, b->close, b->adj_close};

    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        if (b->close_only && i < 3)
            continue; /* no open, high or low */
        if (!isfinite(v[i]) || v[i] <= 0) {
            fa_err_set("%s: non-positive price: %s %g", where, names[i], v[i]);
            return -1;
        }
        if (v[i] >= FA_PROVIDER_MAX_PRICE) {
            fa_err_set("%s: absurd price: %s %g (at most %g)", where, names[i], v[i],
                       FA_PROVIDER_MAX_PRICE);
            return -1;
        }
    }
    if (!b->close_only) {
        const char *why = NULL;
        if (b->high < b->low)
            why = "high below low";
        else if (b->low > b->open || b->low > b->close)
            why = b->low > b->open ? "low above open" : "low above close";
        else if (b->high < b->open || b->high < b->close)
            why = b->high < b->open ? "high below open" : "high below close";
        if (why) {
            fa_err_set("%s: impossible bar: %s (open %g, high %g, low %g, close %g)", where, why,
                       b->open, b->high, b->low, b->close);
            return -1;
        }
    }
    if (b->has_volume && (!isfinite(b->volume) || b->volume < 0 || b->volume >= 1e18)) {
        fa_err_set("%s: %s volume %g", where, b->volume < 0 ? "negative" : "absurd", b->volume);
        return -1;
    }
    return 0;
}

/* Stable sorts by day, then time: a merge sort would do, but the inputs are small and
 * nearly sorted (or exactly reversed), so insertion sort after an optional
 * reversal is plenty. */
static int item_cmp(const struct fa_provider_item *a, const struct fa_provider_item *b)
{
    const char *ta, *tb;

    if (a->day != b->day)
        return a->day < b->day ? -1 : 1;
    ta = fa_record_str(a->fields, "time");
    tb = fa_record_str(b->fields, "time");
    return ta && tb ? strcmp(ta, tb) : 0;
}

static void sort_items(struct fa_provider_item *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct fa_provider_item t = v[i];
        size_t j = i;
        while (j > 0 && item_cmp(&v[j - 1], &t) > 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = t;
    }
}

static void reverse_if_descending_items(struct fa_provider_item *v, size_t n)
{
    if (n > 1 && v[0].day > v[n - 1].day) {
        /* Reversal keeps equal days in reverse order; providers list them
         * newest first, so this restores time order within a day too. */
        for (size_t i = 0; i < n / 2; i++) {
            struct fa_provider_item t = v[i];
            v[i] = v[n - 1 - i];
            v[n - 1 - i] = t;
        }
    }
}

int fa_provider_sort(struct fa_provider_data *d, const char *where)
{
    size_t n = d->nbars, i;
    char buf[11];

    if (n > 1 && d->bars[0].day > d->bars[n - 1].day) {
        for (i = 0; i < n / 2; i++) {
            struct fa_provider_bar t = d->bars[i];
            d->bars[i] = d->bars[n - 1 - i];
            d->bars[n - 1 - i] = t;
        }
    }
    for (i = 1; i < n; i++) {
        struct fa_provider_bar t = d->bars[i];
        size_t j = i;
        while (j > 0 && d->bars[j - 1].day > t.day) {
            d->bars[j] = d->bars[j - 1];
            j--;
        }
        d->bars[j] = t;
    }
    for (i = 1; i < n; i++) {
        if (d->bars[i].day == d->bars[i - 1].day) {
            fa_err_set("%s: two bars dated %s", where, fa_date_format(d->bars[i].day, buf));
            return -1;
        }
    }
    reverse_if_descending_items(d->news, d->nnews);
    sort_items(d->news, d->nnews);
    reverse_if_descending_items(d->guidance, d->nguidance);
    sort_items(d->guidance, d->nguidance);
    return 0;
}

int fa_provider_time_day(const char *s, int *day)
{
    char buf[11];

    if (!s) {
        fa_err_set("missing date");
        return -1;
    }
    if (strlen(s) >= 8 && s[4] != '-') { /* 20230602T143000 */
        for (int i = 0; i < 8; i++) {
            if (s[i] < '0' || s[i] > '9')
                goto bad;
        }
        if (s[8] != '\0' && s[8] != 'T')
            goto bad;
        snprintf(buf, sizeof buf, "%.4s-%.2s-%.2s", s, s + 4, s + 6);
        if (fa_date_parse(buf, day) != 0)
            goto bad;
        return 0;
    }
    if (strlen(s) < 10 || (s[10] != '\0' && s[10] != ' ' && s[10] != 'T'))
        goto bad;
    memcpy(buf, s, 10);
    buf[10] = '\0';
    if (fa_date_parse(buf, day) != 0)
        goto bad;
    return 0;
bad:
    fa_err_set("bad date '%.40s'", s);
    return -1;
}

struct json_object *fa_provider_price_record(const char *symbol, const struct fa_provider_bar *b)
{
    char date[11];
    struct json_object *r;

    fa_date_format(b->day, date);
    r = fa_record_new("price", symbol, date);
    fa_record_set_str(r, "asof", date);
    if (!b->close_only) {
        fa_record_set_num(r, "open", b->open);
        fa_record_set_num(r, "high", b->high);
        fa_record_set_num(r, "low", b->low);
    }
    fa_record_set_num(r, "close", b->close);
    fa_record_set_num(r, "adj_close", b->adj_close);
    if (b->has_volume)
        fa_record_set_num(r, "volume", b->volume);
    fa_record_set_id(r);
    return r;
}

static bool reserved(const char *key)
{
    return strcmp(key, "kind") == 0 || strcmp(key, "symbol") == 0 || strcmp(key, "date") == 0 ||
           strcmp(key, "asof") == 0 || strcmp(key, "id") == 0;
}

struct json_object *fa_provider_item_record(const char *kind, const char *symbol, int day,
                                            struct json_object *fields)
{
    char date[11];
    struct json_object *r;

    fa_date_format(day, date);
    r = fa_record_new(kind, symbol, date);
    fa_record_set_str(r, "asof", date);
    json_object_object_foreach(fields, key, val)
    {
        if (!reserved(key))
            json_object_object_add(r, key, json_object_get(val));
    }
    fa_record_set_id(r);
    return r;
}

/* Prefixes the current error message with where ("file:line: why"). */
static void err_at(const char *where)
{
    char msg[1024];

    snprintf(msg, sizeof msg, "%s", fa_err_get());
    fa_err_set("%s: %s", where, msg);
}

/* The day an item published on day p is printed on. */
static int item_day(const struct fa_provider_data *d, int p, enum fa_calendar cal)
{
    size_t lo = 0, hi = d->nbars;

    while (lo < hi) { /* first bar with day >= p */
        size_t mid = lo + (hi - lo) / 2;
        if (d->bars[mid].day < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < d->nbars)
        return d->bars[lo].day;
    return fa_date_add_trading(p, 0, cal);
}

int fa_provider_emit(const struct fa_provider_data *d, const char *symbol,
                     const struct fa_provider_window *w,
                     int (*emit)(struct json_object *rec, void *ud), void *ud)
{
    size_t i0 = 0, b, n = 0, g = 0;
    int rc;

    while (i0 < d->nbars && d->bars[i0].day < w->from)
        i0++;
    b = i0 > (size_t)w->lookback ? i0 - (size_t)w->lookback : 0;
    for (; b < i0; b++) {
        if ((rc = emit(fa_provider_price_record(symbol, &d->bars[b]), ud)) != 0)
            return rc;
    }
    /* Items dated before the window but placed on a day inside it (news of
     * the weekend before --from) belong to it; the rest are skipped. */
    while (n < d->nnews && item_day(d, d->news[n].day, w->cal) < w->from)
        n++;
    while (g < d->nguidance && item_day(d, d->guidance[g].day, w->cal) < w->from)
        g++;
    for (;;) {
        int day = w->to + 1, nd = w->to + 1, gd = w->to + 1;
        if (b < d->nbars && d->bars[b].day < day)
            day = d->bars[b].day;
        if (n < d->nnews)
            nd = item_day(d, d->news[n].day, w->cal);
        if (g < d->nguidance)
            gd = item_day(d, d->guidance[g].day, w->cal);
        day = nd < day ? nd : day;
        day = gd < day ? gd : day;
        if (day > w->to)
            break;
        if (b < d->nbars && d->bars[b].day == day) {
            if ((rc = emit(fa_provider_price_record(symbol, &d->bars[b]), ud)) != 0)
                return rc;
            b++;
        }
        while (n < d->nnews && item_day(d, d->news[n].day, w->cal) == day) {
            rc = emit(fa_provider_item_record("news", symbol, day, d->news[n].fields), ud);
            if (rc != 0)
                return rc;
            n++;
        }
        while (g < d->nguidance && item_day(d, d->guidance[g].day, w->cal) == day) {
            rc = emit(fa_provider_item_record("guidance", symbol, day, d->guidance[g].fields), ud);
            if (rc != 0)
                return rc;
            g++;
        }
    }
    return 0;
}

/* --- local sources ------------------------------------------------------ */

static int parse_num(const char *s, double *out)
{
    char *end;

    if (!s || !*s)
        return -1;
    errno = 0;
    *out = strtod(s, &end);
    if (errno != 0 || *end != '\0' || end == s || !isfinite(*out))
        return -1;
    return 0;
}

/* fa_day_order's rule for a bar of a day not after the last one loaded:
 * the same bar again (concatenated files) is skipped (FA_DAY_AGAIN);
 * another bar of a day held, or an earlier day, is -1 with fa_err
 * "where: price DATE is repeated ..." or "... is out of order ...". */
static int bar_order(const struct fa_provider_data *d, const struct fa_provider_bar *b, int last,
                     const char *where)
{
    const struct fa_provider_bar *h = NULL;
    int rc;

    for (size_t i = d->nbars; i > 0 && !h && d->bars[i - 1].day >= b->day; i--)
        if (d->bars[i - 1].day == b->day)
            h = &d->bars[i - 1];
    rc = fa_day_order("price", last, b->day, h != NULL,
                      h && h->open == b->open && h->high == b->high && h->low == b->low &&
                          h->close == b->close && h->adj_close == b->adj_close &&
                          h->close_only == b->close_only);
    if (rc < 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s: %s", where, fa_err_get());
        fa_err_set("%s", msg);
    }
    return rc;
}

int fa_provider_csv_prices(const char *path, struct fa_provider_data *d)
{
    static const char *const names[FA_CSV_NCOLS] = {"date",  "open",      "high",  "low",
                                                    "close", "adj_close", "volume"};
    struct fa_csv *c = fa_csv_open(path);
    int idx[FA_CSV_NCOLS], rc, last = -1;
    unsigned long hdr;
    int ret = -1;

    if (!c)
        return -1;
    rc = fa_csv_next(c);
    if (rc == FA_CSV_EOF) {
        fa_err_set("%s:1: unknown column layout: empty file", path);
        goto out;
    }
    if (rc != FA_CSV_ROW || fa_csv_price_header(c, idx) != 0)
        goto out;
    hdr = fa_csv_line(c);
    while ((rc = fa_csv_next(c)) == FA_CSV_ROW) {
        struct fa_provider_bar bar = {0};
        double *dst[FA_CSV_NCOLS] = {NULL,       &bar.open,      &bar.high,  &bar.low,
                                     &bar.close, &bar.adj_close, &bar.volume};
        const char *where = fa_csv_where(c);

        if (fa_provider_time_day(fa_csv_field(c, (size_t)idx[FA_CSV_DATE]), &bar.day) != 0) {
            err_at(where);
            goto out;
        }
        bar.close_only = idx[FA_CSV_OPEN] < 0;
        for (int k = FA_CSV_OPEN; k < FA_CSV_NCOLS; k++) {
            const char *s;
            if (idx[k] < 0)
                continue;
            s = fa_csv_field(c, (size_t)idx[k]);
            if (!s) {
                fa_err_set("%s: malformed row: %zu fields, no '%s'", where, fa_csv_nfields(c),
                           names[k]);
                goto out;
            }
            if (parse_num(s, dst[k]) != 0) {
                fa_err_set("%s: bad %s '%.40s'", where, names[k], s);
                goto out;
            }
        }
        if (idx[FA_CSV_ADJ_CLOSE] < 0)
            bar.adj_close = bar.close;
        bar.has_volume = idx[FA_CSV_VOLUME] >= 0;
        if (bar.day <= last) {
            int o = bar_order(d, &bar, last, where);
            if (o == FA_DAY_AGAIN)
                continue;
            goto out;
        }
        if (fa_provider_check_bar(&bar, where) != 0 || fa_provider_add_bar(d, &bar) != 0)
            goto out;
        last = bar.day;
    }
    if (rc == FA_CSV_EOF && last < 0)
        fa_err_set("%s:%lu: no price rows after the header", path, hdr);
    else if (rc == FA_CSV_EOF)
        ret = 0;
out:
    fa_csv_close(c);
    return ret;
}

int fa_provider_ndjson_items(const char *path, const char *kind, struct fa_provider_data *d)
{
    struct fa_ndjson_reader *r = fa_ndjson_open(path, 0);
    struct json_object *o;
    int rc, ret = -1;

    if (!r)
        return -1;
    while ((rc = fa_ndjson_next(r, &o)) == FA_NDJSON_RECORD) {
        const char *ds = fa_record_str(o, "date");
        const char *where = fa_ndjson_where(r);
        struct json_object *f;
        int day;

        if (fa_provider_time_day(ds ? ds : fa_record_str(o, "time"), &day) != 0) {
            err_at(where);
            json_object_put(o);
            goto out;
        }
        if (!fa_record_str(o, "title") && !fa_record_str(o, "text")) {
            fa_err_set("%s: %s item: no 'title' or 'text' string", where, kind);
            json_object_put(o);
            goto out;
        }
        f = json_object_new_object();
        json_object_object_foreach(o, key, val)
        {
            if (!reserved(key))
                json_object_object_add(f, key, json_object_get(val));
        }
        json_object_put(o);
        if (fa_provider_add_item(d, kind, day, f) != 0)
            goto out;
    }
    if (rc == FA_NDJSON_EOF)
        ret = 0;
out:
    fa_ndjson_close(r);
    return ret;
}

static char *path_join(const char *dir, const char *sym, const char *ext)
{
    size_t n = strlen(dir) + strlen(sym) + strlen(ext) + 2;
    char *p = malloc(n);

    if (p)
        snprintf(p, n, "%s/%s%s", dir, sym, ext);
    return p;
}

int fa_provider_csv(const char *path, const char *symbol, struct fa_provider_data *d)
{
    struct stat st;
    char *p = NULL;
    int ret = -1;

    if (stat(path, &st) != 0) {
        fa_err_sys("open '%s'", path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return fa_provider_csv_prices(path, d);
    if (!(p = path_join(path, symbol, ".csv")) || fa_provider_csv_prices(p, d) != 0)
        goto out;
    free(p);
    if (!(p = path_join(path, symbol, ".news.ndjson")))
        goto out;
    if (access(p, F_OK) == 0 && fa_provider_ndjson_items(p, "news", d) != 0)
        goto out;
    free(p);
    if (!(p = path_join(path, symbol, ".guidance.ndjson")))
        goto out;
    if (access(p, F_OK) == 0 && fa_provider_ndjson_items(p, "guidance", d) != 0)
        goto out;
    ret = fa_provider_sort(d, path);
out:
    if (!p && ret != 0 && !*fa_err_get())
        fa_err_set("out of memory");
    free(p);
    return ret;
}

static int ndjson_price(struct json_object *o, const char *where, struct fa_provider_bar *b)
{
    static const char *const keys[] = {"open", "high", "low", "close"};
    double *dst[] = {&b->open, &b->high, &b->low, &b->close};

    /* close-only: open, high and low all absent */
    b->close_only = !json_object_object_get_ex(o, "open", NULL) &&
                    !json_object_object_get_ex(o, "high", NULL) &&
                    !json_object_object_get_ex(o, "low", NULL);
    for (size_t i = b->close_only ? 3 : 0; i < 4; i++) {
        if (fa_record_num(o, keys[i], dst[i]) != 0) {
            fa_err_set("%s: price record: no number '%s'", where, keys[i]);
            return -1;
        }
    }
    if (json_object_object_get_ex(o, "adj_close", NULL)) {
        if (fa_record_num(o, "adj_close", &b->adj_close) != 0) {
            fa_err_set("%s: price record: 'adj_close' is not a number", where);
            return -1;
        }
    } else {
        b->adj_close = b->close;
    }
    if (json_object_object_get_ex(o, "volume", NULL)) {
        if (fa_record_num(o, "volume", &b->volume) != 0) {
            fa_err_set("%s: price record: 'volume' is not a number", where);
            return -1;
        }
        b->has_volume = true;
    }
    return fa_provider_check_bar(b, where);
}

int fa_provider_ndjson(const char *path, const char *symbol, struct fa_provider_data *d)
{
    static const char *const skip_id[] = {"id", NULL};
    struct fa_ndjson_reader *r = fa_ndjson_open(path, 0);
    struct json_object *o = NULL;
    int rc, ret = -1, last = -1;

    if (!r)
        return -1;
    while ((rc = fa_ndjson_next(r, &o)) == FA_NDJSON_RECORD) {
        const char *where = fa_ndjson_where(r), *kind, *id, *sym;
        int day;

        if (fa_record_validate(o) != 0) {
            err_at(where);
            goto out;
        }
        kind = fa_record_kind(o);
        if (strcmp(kind, "price") != 0 && strcmp(kind, "news") != 0 &&
            strcmp(kind, "guidance") != 0) {
            fa_err_set("%s: kind '%s' is not a source record (want price, news, guidance)", where,
                       kind);
            goto out;
        }
        if (!(sym = fa_record_symbol(o)) || fa_provider_time_day(fa_record_date(o), &day) != 0) {
            fa_err_set("%s: %s record without symbol or date", where, kind);
            goto out;
        }
        if ((id = fa_record_str(o, "id"))) {
            char *canon = fa_json_canonical(o, skip_id);
            char want[FA_ID_HEX];
            fa_hash_hex(canon, strlen(canon), want);
            free(canon);
            if (strcmp(want, id) != 0) {
                fa_err_set("%s: id '%.40s' does not match the record's content", where, id);
                goto out;
            }
        }
        if (strcmp(sym, symbol) != 0) {
            json_object_put(o);
            o = NULL;
            continue;
        }
        if (strcmp(kind, "price") == 0) {
            struct fa_provider_bar b = {.day = day};
            if (ndjson_price(o, where, &b) != 0)
                goto out;
            if (day <= last) {
                b.day = day;
                if (bar_order(d, &b, last, where) == FA_DAY_AGAIN) {
                    json_object_put(o);
                    o = NULL;
                    continue;
                }
                goto out;
            }
            last = day;
            if (fa_provider_add_bar(d, &b) != 0)
                goto out;
        } else {
            struct json_object *f = json_object_new_object();
            if (strcmp(kind, "news") == 0 && !fa_record_str(o, "title")) {
                json_object_put(f);
                fa_err_set("%s: news record: no string 'title'", where);
                goto out;
            }
            json_object_object_foreach(o, key, val)
            {
                if (!reserved(key))
                    json_object_object_add(f, key, json_object_get(val));
            }
            if (fa_provider_add_item(d, kind, day, f) != 0)
                goto out;
        }
        json_object_put(o);
        o = NULL;
    }
    if (rc == FA_NDJSON_EOF)
        ret = fa_provider_sort(d, path);
out:
    json_object_put(o);
    fa_ndjson_close(r);
    return ret;
}

/* --- the reply cache ------------------------------------------------------ */

char *fa_provider_cache_dir(void)
{
    const char *e = getenv("FA_CACHE_DIR"), *home;
    char *p;
    size_t n;

    if (e && *e)
        return strdup(e);
    home = getenv("HOME");
    if (!home || !*home)
        return NULL;
    n = strlen(home) + sizeof "/.cache/fa";
    if ((p = malloc(n)))
        snprintf(p, n, "%s/.cache/fa", home);
    return p;
}

static int read_all(const char *path, char **body, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *b = NULL;
    size_t n = 0, cap = 0, k;

    if (!f)
        return -1;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            char *nb;
            cap = cap ? cap * 2 : 131072;
            if (!(nb = realloc(b, cap))) {
                free(b);
                fclose(f);
                return -1;
            }
            b = nb;
        }
        k = fread(b + n, 1, 65536, f);
        n += k;
        if (k < 65536)
            break;
    }
    if (ferror(f)) {
        free(b);
        fclose(f);
        return -1;
    }
    fclose(f);
    b[n] = '\0';
    *body = b;
    *len = n;
    return 0;
}

static int write_atomic(const char *path, const char *body, size_t len)
{
    return fa_file_write_atomic(path, body, len, 0644);
}

int fa_provider_fetch(const struct fa_provider_req *q, const char *provider, const char *url,
                      const char *label,
                      int (*check)(const char *body, size_t len, const char *label, void *ud),
                      void *ud, char **body, size_t *len)
{
    char key[FA_ID_HEX], *dir = NULL, *file = NULL, *kb;
    struct fa_http_opts o = q->http;
    struct fa_http_resp resp;
    size_t n;

    *body = NULL;
    *len = 0;
    n = strlen(provider) + strlen(label) + 2;
    if (!(kb = malloc(n))) {
        fa_err_set("out of memory");
        return -1;
    }
    snprintf(kb, n, "%s\n%s", provider, label);
    fa_hash_hex(kb, strlen(kb), key);
    free(kb);
    if (q->cache_dir) {
        n = strlen(q->cache_dir) + strlen(provider) + sizeof "/fetch/";
        dir = malloc(n);
        file = malloc(n + FA_ID_HEX + sizeof ".json");
        if (!dir || !file) {
            free(dir);
            free(file);
            fa_err_set("out of memory");
            return -1;
        }
        snprintf(dir, n, "%s/fetch/%s", q->cache_dir, provider);
        snprintf(file, n + FA_ID_HEX + sizeof ".json", "%s/%s.json", dir, key);
        if (!q->refresh && read_all(file, body, len) == 0) {
            if (check(*body, *len, label, ud) == 0) {
                fa_info("cache hit '%s' for '%s'", file, label);
                free(dir);
                free(file);
                return 0;
            }
            free(*body); /* a damaged entry: fetch again */
            *body = NULL;
        }
    }
    o.url_label = label;
    if (fa_http_get(url, &o, &resp) != 0 || check(resp.body, resp.len, label, ud) != 0) {
        fa_http_resp_free(&resp);
        free(dir);
        free(file);
        return -1;
    }
    if (dir) {
        if (fa_file_mkdirs(dir, 0700) != 0 || write_atomic(file, resp.body, resp.len) != 0)
            fa_warn("cache: %s", fa_err_get());
    }
    free(dir);
    free(file);
    *body = resp.body;
    *len = resp.len;
    free(resp.content_type);
    return 0;
}
