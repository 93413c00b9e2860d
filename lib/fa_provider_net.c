/* fa_provider_net.c: the HTTP providers of fa_provider.h: Financial
 * Modeling Prep, Yahoo's chart API and Alpha Vantage. Each reply is
 * parsed into a scratch data set by the shape check that fa_provider_fetch
 * runs before caching, so only replies of the provider's shape are kept.
 *
 * API keys go into the query string (that is how FMP and Alpha Vantage
 * take them) but never into the label used for messages and cache keys,
 * and a provider's own message is dropped if it echoes the key. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_err.h"
#include "fa_http.h"
#include "fa_provider.h"
#include "fa_record.h"
#include "fa_banned.h"

struct parse {
    struct fa_provider_data tmp;
    const char *symbol;
    const char *key; /* to scrub from provider messages; may be NULL */
    int (*fn)(struct parse *p, struct json_object *root, const char *label);
};

static struct json_object *parse_json(const char *body, size_t len, const char *label)
{
    struct json_tokener *tok = json_tokener_new();
    struct json_object *o;

    if (!tok) {
        fa_err_set("out of memory");
        return NULL;
    }
    o = json_tokener_parse_ex(tok, body, (int)len);
    if (!o || json_tokener_get_error(tok) != json_tokener_success || tok->char_offset != (int)len) {
        /* trailing blanks are fine */
        size_t off = o ? (size_t)tok->char_offset : 0;
        int trailing_ok = o && json_tokener_get_error(tok) == json_tokener_success;
        for (; trailing_ok && off < len; off++)
            if (body[off] != ' ' && body[off] != '\n' && body[off] != '\r' && body[off] != '\t')
                trailing_ok = 0;
        if (!trailing_ok) {
            json_object_put(o);
            json_tokener_free(tok);
            fa_err_set("%s: reply is not JSON", label);
            return NULL;
        }
    }
    json_tokener_free(tok);
    return o;
}

static int check(const char *body, size_t len, const char *label, void *ud)
{
    struct parse *p = ud;
    struct json_object *root;
    int rc;

    fa_provider_data_free(&p->tmp);
    if (len > (size_t)0x7fffffff) {
        fa_err_set("%s: reply too large", label);
        return -1;
    }
    if (!(root = parse_json(body, len, label)))
        return -1;
    rc = p->fn(p, root, label);
    json_object_put(root);
    if (rc != 0)
        fa_provider_data_free(&p->tmp);
    return rc;
}

/* News items asked for per request (the providers' largest page), and
 * the most FMP pages fetched for one period. */
#define FA_NEWS_LIMIT 1000
#define FA_NEWS_PAGES 100

/* Moves the parsed bars and items into d. */
static int take(struct parse *p, struct fa_provider_data *d)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < p->tmp.nbars && rc == 0; i++)
        rc = fa_provider_add_bar(d, &p->tmp.bars[i]);
    for (i = 0; i < p->tmp.nnews; i++) {
        if (rc == 0)
            rc = fa_provider_add_item(d, "news", p->tmp.news[i].day, p->tmp.news[i].fields);
        else
            json_object_put(p->tmp.news[i].fields);
    }
    p->tmp.nnews = 0;
    fa_provider_data_free(&p->tmp);
    return rc;
}

static int fetch(const struct fa_provider_req *q, const char *provider, const char *url,
                 const char *label, struct parse *p, struct fa_provider_data *d)
{
    char *body;
    size_t len;

    if (fa_provider_fetch(q, provider, url, label, check, p, &body, &len) != 0) {
        fa_provider_data_free(&p->tmp);
        return -1;
    }
    free(body);
    return take(p, d);
}

/* The provider's own error text, unless it holds the key. */
static const char *provider_says(struct parse *p, struct json_object *root)
{
    static const char *const keys[] = {"Error Message", "Note", "Information", "error", "message"};
    struct json_object *v;

    if (!json_object_is_type(root, json_type_object))
        return "";
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (json_object_object_get_ex(root, keys[i], &v) &&
            json_object_is_type(v, json_type_string)) {
            const char *s = json_object_get_string(v);
            if (p->key && *p->key && strstr(s, p->key))
                return "";
            return s;
        }
    }
    return "";
}

static int get_num(struct json_object *o, const char *key, double *out)
{
    struct json_object *v;
    const char *s;
    char *end;

    if (!json_object_object_get_ex(o, key, &v))
        return -1;
    if (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)) {
        *out = json_object_get_double(v);
        return isfinite(*out) ? 0 : -1;
    }
    if (json_object_is_type(v, json_type_string)) { /* Alpha Vantage: "187.0000" */
        s = json_object_get_string(v);
        *out = strtod(s, &end);
        return end != s && *end == '\0' && isfinite(*out) ? 0 : -1;
    }
    return -1;
}

static const char *get_str(struct json_object *o, const char *key)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static struct json_object *news_fields(const char *title, const char *text, const char *source,
                                       const char *url, const char *time)
{
    struct json_object *f = json_object_new_object();

    fa_record_set_str(f, "title", title);
    fa_record_set_str(f, "text", text ? text : "");
    fa_record_set_str(f, "source", source ? source : "");
    fa_record_set_str(f, "url", url ? url : "");
    fa_record_set_str(f, "time", time);
    return f;
}

static char *with_key(const char *label, const char *key)
{
    char *ek = fa_http_escape(key), *u = NULL;
    size_t n;

    if (ek) {
        n = strlen(label) + strlen(ek) + sizeof "&apikey=";
        if ((u = malloc(n)))
            snprintf(u, n, "%s&apikey=%s", label, ek);
        free(ek);
    }
    if (!u)
        fa_err_set("out of memory");
    return u;
}

/* The base URL (the override or the public one) without trailing '/'. */
static void base_of(const char *url, const char *def, char out[1024])
{
    size_t n;

    snprintf(out, 1024, "%s", url && *url ? url : def);
    n = strlen(out);
    while (n > 0 && out[n - 1] == '/')
        out[--n] = '\0';
}

static int is_crypto(const char *sym, enum fa_calendar cal)
{
    size_t n = strlen(sym);
    return cal == FA_CAL_CRYPTO && n > 3 && strcmp(sym + n - 3, "USD") == 0;
}

/* --- FMP ---------------------------------------------------------------- */

static int fmp_prices(struct parse *p, struct json_object *root, const char *label)
{
    struct json_object *hist;
    size_t n;

    if (!json_object_is_type(root, json_type_object) ||
        !json_object_object_get_ex(root, "historical", &hist) ||
        !json_object_is_type(hist, json_type_array)) {
        const char *why = provider_says(p, root);
        fa_err_set("%s: reply is not FMP's historical-price-full (no 'historical' list)%s%s", label,
                   *why ? ": " : "", why);
        return -1;
    }
    n = json_object_array_length(hist);
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(hist, i);
        struct fa_provider_bar b = {0};
        char where[1100];

        snprintf(where, sizeof where, "%s: historical[%zu]", label, i);
        if (!json_object_is_type(e, json_type_object) ||
            fa_provider_time_day(get_str(e, "date"), &b.day) != 0 || get_num(e, "open", &b.open) ||
            get_num(e, "high", &b.high) || get_num(e, "low", &b.low) ||
            get_num(e, "close", &b.close)) {
            fa_err_set("%s: not a daily bar (date, open, high, low, close)", where);
            return -1;
        }
        if (get_num(e, "adjClose", &b.adj_close) != 0)
            b.adj_close = b.close;
        b.has_volume = get_num(e, "volume", &b.volume) == 0;
        if (fa_provider_check_bar(&b, where) != 0 || fa_provider_add_bar(&p->tmp, &b) != 0)
            return -1;
    }
    return 0;
}

static int fmp_news(struct parse *p, struct json_object *root, const char *label)
{
    struct json_object *list = root;
    size_t n;

    /* stock_news answers a list; some crypto_news versions wrap it. */
    if (json_object_is_type(root, json_type_object))
        json_object_object_get_ex(root, "content", &list);
    if (!list || !json_object_is_type(list, json_type_array)) {
        const char *why = provider_says(p, root);
        fa_err_set("%s: reply is not FMP's news list%s%s", label, *why ? ": " : "", why);
        return -1;
    }
    n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(list, i);
        const char *t = get_str(e, "publishedDate"), *title = get_str(e, "title");
        int day;

        if (!json_object_is_type(e, json_type_object) || !title ||
            fa_provider_time_day(t, &day) != 0) {
            fa_err_set("%s: [%zu]: not a news item (publishedDate, title)", label, i);
            return -1;
        }
        if (fa_provider_add_item(&p->tmp, "news", day,
                                 news_fields(title, get_str(e, "text"), get_str(e, "site"),
                                             get_str(e, "url"), t)) != 0)
            return -1;
    }
    return 0;
}

int fa_provider_fmp(const struct fa_provider_req *q, struct fa_provider_data *d)
{
    const char *key = getenv("FMP_API_KEY");
    char base[1024];
    char from[11], to[11], label[2048], *sym = NULL, *url = NULL;
    struct parse p = {.symbol = q->symbol, .key = key};
    int ret = -1;

    base_of(q->base_url, "https://financialmodelingprep.com", base);
    if (!key || !*key) {
        fa_err_set("fmp: FMP_API_KEY is not set");
        return -1;
    }
    fa_date_format(q->from, from);
    fa_date_format(q->to, to);
    if (!(sym = fa_http_escape(q->symbol)))
        goto oom;
    snprintf(label, sizeof label, "%s/api/v3/historical-price-full/%s?from=%s&to=%s", base, sym,
             from, to);
    if (!(url = with_key(label, key)))
        goto out;
    p.fn = fmp_prices;
    if (fetch(q, "fmp", url, label, &p, d) != 0)
        goto out;
    /* News pages (newest first) until one is not full, each cached on its
     * own; past FA_NEWS_PAGES pages the provider's cap may hide the rest. */
    for (int page = 0; q->news; page++) {
        size_t before = d->nnews;
        free(url);
        url = NULL;
        if (page == FA_NEWS_PAGES) {
            fa_warn("fmp: news of %s %s..%s: stopped after %d pages of %d items; the provider's "
                    "cap may still hide older items (fetch a shorter period)",
                    q->symbol, from, to, FA_NEWS_PAGES, FA_NEWS_LIMIT);
            break;
        }
        snprintf(label, sizeof label, "%s/api/%s?%s=%s&from=%s&to=%s&page=%d&limit=%d", base,
                 is_crypto(q->symbol, q->cal) ? "v4/crypto_news" : "v3/stock_news",
                 is_crypto(q->symbol, q->cal) ? "symbol" : "tickers", sym, from, to, page,
                 FA_NEWS_LIMIT);
        if (!(url = with_key(label, key)))
            goto out;
        p.fn = fmp_news;
        if (fetch(q, "fmp", url, label, &p, d) != 0)
            goto out;
        if (d->nnews - before < FA_NEWS_LIMIT)
            break;
    }
    ret = fa_provider_sort(d, label);
    goto out;
oom:
    fa_err_set("out of memory");
out:
    free(sym);
    free(url);
    return ret;
}

/* --- Yahoo -------------------------------------------------------------- */

static struct json_object *path_get(struct json_object *o, const char *key, json_type t)
{
    struct json_object *v;

    if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, t))
        return NULL;
    return v;
}

static struct json_object *first_of(struct json_object *arr)
{
    if (!arr || json_object_array_length(arr) < 1)
        return NULL;
    return json_object_array_get_idx(arr, 0);
}

static int yahoo_chart(struct parse *p, struct json_object *root, const char *label)
{
    struct json_object *res, *ts, *ind, *quote, *adj = NULL, *meta, *col[6];
    static const char *const cols[5] = {"open", "high", "low", "close", "volume"};
    long off = 0;
    size_t n;

    (void)p;
    res = first_of(path_get(path_get(root, "chart", json_type_object), "result", json_type_array));
    ts = path_get(res, "timestamp", json_type_array);
    ind = path_get(res, "indicators", json_type_object);
    quote = first_of(path_get(ind, "quote", json_type_array));
    if (!res || !ind || !quote || !json_object_is_type(quote, json_type_object)) {
        fa_err_set("%s: reply is not Yahoo's chart (chart.result[0] with indicators.quote)", label);
        return -1;
    }
    if (!ts) /* a range without trading days has no timestamp list */
        return 0;
    if ((meta = path_get(res, "meta", json_type_object))) {
        struct json_object *g;
        if (json_object_object_get_ex(meta, "gmtoffset", &g))
            off = (long)json_object_get_int64(g);
        if (off < -86400 || off > 86400) {
            fa_err_set("%s: meta.gmtoffset %ld is not a time zone's offset", label, off);
            return -1;
        }
    }
    adj =
        path_get(first_of(path_get(ind, "adjclose", json_type_array)), "adjclose", json_type_array);
    n = json_object_array_length(ts);
    for (int k = 0; k < 5; k++) {
        col[k] = path_get(quote, cols[k], json_type_array);
        if (!col[k] || json_object_array_length(col[k]) != n) {
            fa_err_set("%s: reply is not Yahoo's chart: quote '%s' is not a list of %zu", label,
                       cols[k], n);
            return -1;
        }
    }
    col[5] = adj && json_object_array_length(adj) == n ? adj : NULL;
    for (size_t i = 0; i < n; i++) {
        struct fa_provider_bar b = {0};
        double *dst[6] = {&b.open, &b.high, &b.low, &b.close, &b.volume, &b.adj_close};
        struct json_object *t = json_object_array_get_idx(ts, i);
        int nulls = 0;
        char where[1100];
        int64_t secs;

        snprintf(where, sizeof where, "%s: timestamp[%zu]", label, i);
        if (!json_object_is_type(t, json_type_int)) {
            fa_err_set("%s: not a number", where);
            return -1;
        }
        secs = json_object_get_int64(t);
        /* the dates fa knows (1900..2199), so the sum cannot overflow */
        if (secs < (int64_t)fa_date_from_ymd(1900, 1, 2) * 86400 ||
            secs > (int64_t)fa_date_from_ymd(2199, 12, 30) * 86400) {
            fa_err_set("%s: %lld is not a date from 1900 to 2199", where, (long long)secs);
            return -1;
        }
        secs += off;
        b.day = (int)((secs - (secs < 0 ? 86399 : 0)) / 86400);
        for (int k = 0; k < 6; k++) {
            struct json_object *v;
            if (!col[k]) {
                b.adj_close = b.close;
                continue;
            }
            v = json_object_array_get_idx(col[k], i);
            if (!v) { /* Yahoo has null rows on halts and fresh days */
                nulls++;
                continue;
            }
            if (!json_object_is_type(v, json_type_double) &&
                !json_object_is_type(v, json_type_int)) {
                fa_err_set("%s: '%s' is not a number", where, k == 5 ? "adjclose" : cols[k]);
                return -1;
            }
            *dst[k] = json_object_get_double(v);
        }
        if (nulls)
            continue;
        b.has_volume = true;
        if (fa_provider_check_bar(&b, where) != 0 || fa_provider_add_bar(&p->tmp, &b) != 0)
            return -1;
    }
    return 0;
}

int fa_provider_yahoo(const struct fa_provider_req *q, struct fa_provider_data *d)
{
    char base[1024];
    char label[2048], ysym[64], *sym;
    struct parse p = {.symbol = q->symbol, .fn = yahoo_chart};
    struct fa_provider_req yq = *q;
    size_t n = strlen(q->symbol);
    int ret;

    base_of(q->base_url, "https://query1.finance.yahoo.com", base);
    /* Yahoo names crypto pairs ETH-USD. */
    if (is_crypto(q->symbol, q->cal) && n < sizeof ysym - 1)
        snprintf(ysym, sizeof ysym, "%.*s-USD", (int)(n - 3), q->symbol);
    else
        snprintf(ysym, sizeof ysym, "%s", q->symbol);
    if (!(sym = fa_http_escape(ysym))) {
        fa_err_set("out of memory");
        return -1;
    }
    snprintf(label, sizeof label,
             "%s/v8/finance/chart/%s?period1=%lld&period2=%lld&interval=1d&events=div%%2Csplit",
             base, sym, (long long)q->from * 86400, (long long)(q->to + 1) * 86400);
    free(sym);
    if (!yq.http.user_agent)
        yq.http.user_agent = "Mozilla/5.0 (compatible; fa/" FA_VERSION ")";
    ret = fetch(&yq, "yahoo", label, label, &p, d);
    return ret == 0 ? fa_provider_sort(d, label) : -1;
}

/* --- Alpha Vantage ------------------------------------------------------ */

static int av_daily(struct parse *p, struct json_object *root, const char *label)
{
    static const char *const keys[] = {"1. open", "2. high", "3. low", "4. close"};
    struct json_object *ts = path_get(root, "Time Series (Daily)", json_type_object);

    if (!ts) {
        const char *why = provider_says(p, root);
        fa_err_set("%s: reply is not Alpha Vantage's daily series (no 'Time Series (Daily)')%s%s",
                   label, *why ? ": " : "", why);
        return -1;
    }
    json_object_object_foreach(ts, date, e)
    {
        struct fa_provider_bar b = {0};
        double *dst[] = {&b.open, &b.high, &b.low, &b.close};
        char where[1100];

        snprintf(where, sizeof where, "%s: '%.20s'", label, date);
        if (fa_date_parse(date, &b.day) != 0 || !json_object_is_type(e, json_type_object)) {
            fa_err_set("%s: not a daily bar", where);
            return -1;
        }
        for (int k = 0; k < 4; k++) {
            if (get_num(e, keys[k], dst[k]) != 0) {
                fa_err_set("%s: no number '%s'", where, keys[k]);
                return -1;
            }
        }
        if (get_num(e, "5. adjusted close", &b.adj_close) != 0)
            b.adj_close = b.close;
        b.has_volume =
            get_num(e, "6. volume", &b.volume) == 0 || get_num(e, "5. volume", &b.volume) == 0;
        if (fa_provider_check_bar(&b, where) != 0 || fa_provider_add_bar(&p->tmp, &b) != 0)
            return -1;
    }
    return 0;
}

static int av_news(struct parse *p, struct json_object *root, const char *label)
{
    struct json_object *feed = path_get(root, "feed", json_type_array);
    size_t n;

    if (!feed) {
        const char *why = provider_says(p, root);
        fa_err_set("%s: reply is not Alpha Vantage's NEWS_SENTIMENT (no 'feed' list)%s%s", label,
                   *why ? ": " : "", why);
        return -1;
    }
    n = json_object_array_length(feed);
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(feed, i), *f;
        const char *t = get_str(e, "time_published"), *title = get_str(e, "title");
        char iso[20];
        double s;
        int day;

        if (!title || fa_provider_time_day(t, &day) != 0 || strlen(t) < 15) {
            fa_err_set("%s: feed[%zu]: not a news item (title, time_published)", label, i);
            return -1;
        }
        /* 20230602T143000 -> 2023-06-02 14:30:00 */
        snprintf(iso, sizeof iso, "%.4s-%.2s-%.2s %.2s:%.2s:%.2s", t, t + 4, t + 6, t + 9, t + 11,
                 t + 13);
        f = news_fields(title, get_str(e, "summary"), get_str(e, "source"), get_str(e, "url"), iso);
        if (get_num(e, "overall_sentiment_score", &s) == 0)
            fa_record_set_num(f, "sentiment", s);
        if (fa_provider_add_item(&p->tmp, "news", day, f) != 0)
            return -1;
    }
    return 0;
}

/* Alpha Vantage's news of the days [from, to]: one request; a full reply
 * (FA_NEWS_LIMIT items) may hide more, so its items are dropped and the
 * window split in two halves, each asked (and cached) on its own. A single
 * day that fills a reply is kept with a warning. Returns 0 or -1. */
static int av_news_window(const struct fa_provider_req *q, const char *base, const char *sym,
                          const char *key, int from, int to, struct parse *p,
                          struct fa_provider_data *d)
{
    char label[2048], f[11], t[11], *url;
    size_t before = d->nnews;
    int rc;

    fa_date_format(from, f);
    fa_date_format(to, t);
    snprintf(label, sizeof label,
             "%s/query?function=NEWS_SENTIMENT&tickers=%s&time_from=%.4s%.2s%.2sT0000"
             "&time_to=%.4s%.2s%.2sT2359&sort=EARLIEST&limit=%d",
             base, sym, f, f + 5, f + 8, t, t + 5, t + 8, FA_NEWS_LIMIT);
    if (!(url = with_key(label, key)))
        return -1;
    p->fn = av_news;
    rc = fetch(q, "alphavantage", url, label, p, d);
    free(url);
    if (rc != 0 || d->nnews - before < FA_NEWS_LIMIT)
        return rc;
    if (from == to) {
        fa_warn("alphavantage: news of %s on %s fill a reply of %d items; the provider's cap "
                "may still hide more of that day",
                q->symbol, f, FA_NEWS_LIMIT);
        return 0;
    }
    for (size_t i = before; i < d->nnews; i++)
        json_object_put(d->news[i].fields);
    d->nnews = before;
    if (av_news_window(q, base, sym, key, from, from + (to - from) / 2, p, d) != 0)
        return -1;
    return av_news_window(q, base, sym, key, from + (to - from) / 2 + 1, to, p, d);
}

int fa_provider_alphavantage(const struct fa_provider_req *q, struct fa_provider_data *d)
{
    const char *key = getenv("ALPHAVANTAGE_API_KEY");
    char base[1024];
    char label[2048], *sym = NULL, *url = NULL;
    struct parse p = {.symbol = q->symbol, .key = key};
    int ret = -1;

    base_of(q->base_url, "https://www.alphavantage.co", base);
    if (!key || !*key) {
        fa_err_set("alphavantage: ALPHAVANTAGE_API_KEY is not set");
        return -1;
    }
    if (is_crypto(q->symbol, q->cal)) {
        fa_err_set("alphavantage: crypto symbol '%s' is not supported (try fmp or yahoo)",
                   q->symbol);
        return -1;
    }
    if (!(sym = fa_http_escape(q->symbol))) {
        fa_err_set("out of memory");
        return -1;
    }
    snprintf(label, sizeof label,
             "%s/query?function=TIME_SERIES_DAILY_ADJUSTED&symbol=%s&outputsize=full", base, sym);
    if (!(url = with_key(label, key)))
        goto out;
    p.fn = av_daily;
    if (fetch(q, "alphavantage", url, label, &p, d) != 0)
        goto out;
    if (q->news && av_news_window(q, base, sym, key, q->from, q->to, &p, d) != 0)
        goto out;
    ret = fa_provider_sort(d, label);
out:
    free(sym);
    free(url);
    return ret;
}

/* --- replies without a request ------------------------------------------ */

int fa_provider_parse_reply(const char *provider, const char *reply, const char *body, size_t len,
                            struct fa_provider_data *d)
{
    static const struct {
        const char *provider, *reply;
        int (*fn)(struct parse *p, struct json_object *root, const char *label);
    } parsers[] = {
        {"fmp", "prices", fmp_prices},     {"fmp", "news", fmp_news},
        {"yahoo", "prices", yahoo_chart},  {"alphavantage", "prices", av_daily},
        {"alphavantage", "news", av_news},
    };
    struct parse p = {.symbol = ""};

    for (size_t i = 0; i < sizeof parsers / sizeof parsers[0]; i++)
        if (strcmp(provider, parsers[i].provider) == 0 && strcmp(reply, parsers[i].reply) == 0)
            p.fn = parsers[i].fn;
    if (!p.fn) {
        fa_err_set("%s: no parser for '%s' replies", provider, reply);
        return -1;
    }
    if (check(body, len, provider, &p) != 0)
        return -1;
    return take(&p, d);
}
