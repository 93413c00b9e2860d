/* fa_provider.h: market data as fa-fetch gathers it from its sources
 * (CSV files, fa NDJSON, the synthetic market, FMP, Yahoo and Alpha
 * Vantage), and the one place that turns it into price, news and guidance
 * records day by day (windows, look-back, weekend news carried forward).
 *
 * Loaders fill a struct fa_provider_data and never print; bad input makes
 * them return -1 with fa_err "file:line: why" or "URL: why". HTTP replies
 * go through an on-disk cache whose keys never hold an API key. */
#ifndef FA_PROVIDER_H
#define FA_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include "fa_date.h"
#include "fa_http.h"

/* One daily bar. A close-only bar (a "date,close" file) has no open,
 * high or low: they are 0 here and absent from its price record. */
struct fa_provider_bar {
    int day; /* fa_date day number */
    double open, high, low, close, adj_close, volume;
    bool has_volume;
    bool close_only;
};

/* A news or guidance item: its publication day and its fields (title,
 * text, source, url, time, ... for news; title, text, sentiment for
 * guidance), without kind/symbol/date/asof/id. */
struct fa_provider_item {
    int day;
    struct json_object *fields; /* owned */
};

/* What a source yields for one symbol. Zero-initialise. */
struct fa_provider_data {
    struct fa_provider_bar *bars;
    size_t nbars, capbars;
    struct fa_provider_item *news;
    size_t nnews, capnews;
    struct fa_provider_item *guidance;
    size_t nguidance, capguidance;
};

void fa_provider_data_free(struct fa_provider_data *d);
/* Appends a bar. Returns 0, or -1 on out of memory. */
int fa_provider_add_bar(struct fa_provider_data *d, const struct fa_provider_bar *b)
    __attribute__((warn_unused_result));
/* Appends an item (kind "news" or "guidance"), taking ownership of
 * fields (also on failure). Sets "time" to the day ("YYYY-MM-DD") when
 * fields has none, so the publication date is never lost. Returns 0 or -1. */
int fa_provider_add_item(struct fa_provider_data *d, const char *kind, int day,
                         struct json_object *fields) __attribute__((warn_unused_result));
/* The largest price a bar may hold (a billion a share or unit): beyond it
 * a number is a unit or parsing mistake, and 1e308 overflows downstream. */
#define FA_PROVIDER_MAX_PRICE 1e9

/* Checks a bar: finite prices > 0 and below FA_PROVIDER_MAX_PRICE, a
 * possible bar (low <= open, close <= high; not checked for a close-only
 * bar), volume >= 0 and below 1e18. where prefixes the message
 * ("file:line" or a URL). Returns 0, or -1 with fa_err set ("impossible
 * bar: high below low (...)"). */
int fa_provider_check_bar(const struct fa_provider_bar *b, const char *where)
    __attribute__((warn_unused_result));
/* Sorts bars by day (for providers that answer newest first) and items by
 * day, then by their "time" string, keeping the order of equal keys; fails
 * on two bars of one day.
 * where names the source in the message. Returns 0 or -1. */
int fa_provider_sort(struct fa_provider_data *d, const char *where)
    __attribute__((warn_unused_result));

/* The day of a timestamp "YYYY-MM-DD[ T]...", or compact
 * "YYYYMMDDTHHMMSS" (Alpha Vantage). Returns 0 or -1 with fa_err set. */
int fa_provider_time_day(const char *s, int *day) __attribute__((warn_unused_result));

/* Which records to print. */
struct fa_provider_window {
    int from, to;         /* inclusive day numbers */
    int lookback;         /* price bars before from also printed */
    enum fa_calendar cal; /* to place items dated after the last bar */
};

/* Emits, for each day with data in [from, to] in order: the price record,
 * then its news, then its guidance; the lookback bars before from come
 * first (prices only). An item dated on a day without a bar (weekend,
 * holiday) belongs to the next bar's day (or, past the last bar, the next
 * trading day of cal); its "time" keeps the original date. Every record:
 * kind, symbol, date, asof (= date), fields, id. emit takes ownership of
 * the record; a non-zero return from emit stops and is returned. */
int fa_provider_emit(const struct fa_provider_data *d, const char *symbol,
                     const struct fa_provider_window *w,
                     int (*emit)(struct json_object *rec, void *ud), void *ud);

/* Builds the record of a bar (kind price) or an item (kind news or
 * guidance) dated day. Caller owns the result. */
struct json_object *fa_provider_price_record(const char *symbol, const struct fa_provider_bar *b);
struct json_object *fa_provider_item_record(const char *kind, const char *symbol, int day,
                                            struct json_object *fields);

/* --- local sources ------------------------------------------------------ */

/* Loads a price CSV (header with the aliases of fa_csv.h, ascending dates).
 * Returns 0, or -1 with fa_err "file:line: why" (malformed row, unknown
 * layout, date out of order, bad number, non-positive price). */
int fa_provider_csv_prices(const char *path, struct fa_provider_data *d)
    __attribute__((warn_unused_result));
/* Loads items from an NDJSON file of objects with "date" or "time" and
 * (news) "title" or (guidance) "title"/"text". Returns 0 or -1. */
int fa_provider_ndjson_items(const char *path, const char *kind, struct fa_provider_data *d)
    __attribute__((warn_unused_result));
/* csv:PATH: a CSV file, or a directory with SYM.csv and optional
 * SYM.news.ndjson and SYM.guidance.ndjson. */
int fa_provider_csv(const char *path, const char *symbol, struct fa_provider_data *d)
    __attribute__((warn_unused_result));
/* ndjson:PATH: fa records (price, news, guidance) of any symbols; keeps
 * those of symbol; validates each (conventions, fields, a matching id when
 * present, ascending price dates). Other kinds are an error. */
int fa_provider_ndjson(const char *path, const char *symbol, struct fa_provider_data *d)
    __attribute__((warn_unused_result));

/* --- HTTP providers ----------------------------------------------------- */

/* One provider request. */
struct fa_provider_req {
    const char *symbol;
    int from, to; /* calendar days to cover, inclusive */
    enum fa_calendar cal;
    const char *base_url;  /* NULL: the provider's public URL */
    const char *cache_dir; /* NULL: no cache */
    bool refresh;          /* ignore cached replies (still store) */
    bool news;             /* also fetch news when the provider has it */
    struct fa_http_opts http;
};

/* FMP: historical-price-full (adjClose) and stock_news / crypto_news;
 * key from FMP_API_KEY (error when unset). */
int fa_provider_fmp(const struct fa_provider_req *q, struct fa_provider_data *d)
    __attribute__((warn_unused_result));
/* Yahoo: the v8 chart API (no key, no news). */
int fa_provider_yahoo(const struct fa_provider_req *q, struct fa_provider_data *d)
    __attribute__((warn_unused_result));
/* Alpha Vantage: TIME_SERIES_DAILY_ADJUSTED and NEWS_SENTIMENT; key from
 * ALPHAVANTAGE_API_KEY. */
int fa_provider_alphavantage(const struct fa_provider_req *q, struct fa_provider_data *d)
    __attribute__((warn_unused_result));

/* GETs url through the cache: key = hash of provider and label (the URL
 * without its key), so the key never holds a secret. A hit makes no
 * request. check(body, len, label, ud) validates the reply's shape (0 ok);
 * only valid replies are stored (atomically: temp file, fsync, rename).
 * On success *body (malloc'd, NUL-terminated) and *len are set. */
int fa_provider_fetch(const struct fa_provider_req *q, const char *provider, const char *url,
                      const char *label,
                      int (*check)(const char *body, size_t len, const char *label, void *ud),
                      void *ud, char **body, size_t *len) __attribute__((warn_unused_result));

/* Parses one reply body of an HTTP provider as its fetch does, without a
 * request or the cache (tests and fuzzing): provider "fmp", "yahoo" or
 * "alphavantage", reply "prices" or "news" (not yahoo). Adds what it holds
 * to d (unsorted: fa_provider_sort). Returns 0, or -1 with fa_err set. */
int fa_provider_parse_reply(const char *provider, const char *reply, const char *body, size_t len,
                            struct fa_provider_data *d) __attribute__((warn_unused_result));

/* The cache directory: FA_CACHE_DIR, else $HOME/.cache/fa, else NULL.
 * Returns a malloc'd string or NULL. */
char *fa_provider_cache_dir(void);

#endif
