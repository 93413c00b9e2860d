/* fa-fetch: market data into fa records. Reads a source (CSV files, fa
 * NDJSON, the synthetic market, or the FMP / Yahoo / Alpha Vantage HTTP
 * APIs) and prints, for each trading day in order, the day's price record,
 * then its news, then its guidance. The first program of every pipeline;
 * see fa-fetch(1) and fa(7). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fa_cli.h"
#include "fa_date.h"
#include "fa_err.h"
#include "fa_ndjson.h"
#include "fa_provider.h"
#include "fa_synth.h"
#include "fa_banned.h"

static void usage(void)
{
    printf("Usage: %s --source SRC --symbol SYM [--from DATE] [--to DATE] [--lookback N]\n"
           "\n"
           "Prints price, news and guidance records, day by day, from SRC:\n"
           "  csv:PATH          a CSV file, or a directory with SYM.csv and optional\n"
           "                    SYM.news.ndjson and SYM.guidance.ndjson\n"
           "  ndjson:PATH       fa records (price, news, guidance), validated\n"
           "  synth[:SEED][:noise=X]  a deterministic synthetic market\n"
           "  fmp, yahoo, alphavantage  HTTP providers (replies cached)\n"
           "\n"
           "Options:\n"
           "      --cache-dir DIR   reply cache (default $FA_CACHE_DIR or ~/.cache/fa)\n"
           "      --calendar CAL    nyse or crypto (default: crypto for *USD symbols)\n"
           "      --from DATE       first day printed (YYYY-MM-DD)\n"
           "      --lookback N      also print the N price bars before --from\n"
           "      --no-news         providers: prices only\n"
           "      --refresh         providers: ignore cached replies\n"
           "      --retries N       HTTP retries on 429/5xx/timeouts (default 3)\n"
           "      --retry-delay MS  backoff base in milliseconds (default 500)\n"
           "      --source SRC      where the data come from\n"
           "      --strict          (accepted for uniformity; bad input is always fatal)\n"
           "      --symbol SYM      the instrument, e.g. AAPL or ETHUSD\n"
           "      --timeout SECS    HTTP timeout per attempt, may be fractional (default 30)\n"
           "      --to DATE         last day printed\n"
           "  -h, --help            this help\n"
           "  -q, --quiet           no warnings\n"
           "  -v, --verbose         more messages (cache hits, retries)\n"
           "  -V, --version         version\n"
           "See fa-fetch(1).\n",
           fa_progname);
}

/* A fatal error is printed even under --quiet. */
static void fail_msg(void)
{
    fprintf(stderr, "%s: %s\n", fa_progname, fa_err_get());
}

static int emit_cb(struct json_object *rec, void *ud)
{
    (void)ud;
    fa_emit(rec);
    return 0;
}

static bool valid_symbol(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 32)
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '^' || c == '=' || c == '_'))
            return false;
    }
    return true;
}

static int today_utc(void)
{
    return (int)(time(NULL) / 86400);
}

/* Data range of a loaded set: first and last day of anything in it. */
static void data_range(const struct fa_provider_data *d, int *first, int *last)
{
    *first = 1 << 30;
    *last = -(1 << 30);
    if (d->nbars) {
        *first = d->bars[0].day;
        *last = d->bars[d->nbars - 1].day;
    }
    if (d->nnews) {
        *first = d->news[0].day < *first ? d->news[0].day : *first;
        *last = d->news[d->nnews - 1].day > *last ? d->news[d->nnews - 1].day : *last;
    }
    if (d->nguidance) {
        *first = d->guidance[0].day < *first ? d->guidance[0].day : *first;
        *last =
            d->guidance[d->nguidance - 1].day > *last ? d->guidance[d->nguidance - 1].day : *last;
    }
}

int main(int argc, char **argv)
{
    enum {
        O_CACHE = 256,
        O_CAL,
        O_FROM,
        O_LOOKBACK,
        O_NONEWS,
        O_REFRESH,
        O_RETRIES,
        O_DELAY,
        O_SOURCE,
        O_STRICT,
        O_SYMBOL,
        O_TIMEOUT,
        O_TO
    };
    static const struct option opts[] = {
        {"cache-dir", required_argument, NULL, O_CACHE},
        {"calendar", required_argument, NULL, O_CAL},
        {"from", required_argument, NULL, O_FROM},
        {"help", no_argument, NULL, 'h'},
        {"lookback", required_argument, NULL, O_LOOKBACK},
        {"no-news", no_argument, NULL, O_NONEWS},
        {"quiet", no_argument, NULL, 'q'},
        {"refresh", no_argument, NULL, O_REFRESH},
        {"retries", required_argument, NULL, O_RETRIES},
        {"retry-delay", required_argument, NULL, O_DELAY},
        {"source", required_argument, NULL, O_SOURCE},
        {"strict", no_argument, NULL, O_STRICT},
        {"symbol", required_argument, NULL, O_SYMBOL},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"to", required_argument, NULL, O_TO},
        {"verbose", no_argument, NULL, 'v'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *source = NULL, *symbol = NULL, *from_s = NULL, *to_s = NULL, *cal_s = NULL;
    const char *cache_s = NULL, *retries_s = NULL, *delay_s = NULL, *timeout_s = NULL;
    long lookback = 0, retries, delay;
    double timeout;
    bool no_news = false, refresh = false, have_from, have_to;
    struct fa_provider_data data = {0};
    struct fa_provider_window w = {0};
    struct fa_provider_req req = {0};
    char *cache_dir = NULL;
    int c, status = FA_EXIT_OK, first, last;

    fa_err_init(argv[0]);
    while ((c = getopt_long(argc, argv, "hqvV", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage();
            return fa_stdout_close();
        case 'V':
            fa_cli_version();
            return fa_stdout_close();
        case 'q':
            fa_verbosity = 0;
            break;
        case 'v':
            fa_verbosity++;
            break;
        case O_STRICT:
            fa_strict = true;
            break;
        case O_CACHE:
            cache_s = optarg;
            break;
        case O_CAL:
            cal_s = optarg;
            break;
        case O_FROM:
            from_s = optarg;
            break;
        case O_LOOKBACK:
            if (fa_cli_long("--lookback", optarg, 0, 100000, &lookback) != 0)
                fa_cli_usage_error("%s", fa_err_get());
            break;
        case O_NONEWS:
            no_news = true;
            break;
        case O_REFRESH:
            refresh = true;
            break;
        case O_RETRIES:
            retries_s = optarg;
            break;
        case O_DELAY:
            delay_s = optarg;
            break;
        case O_SOURCE:
            source = optarg;
            break;
        case O_SYMBOL:
            symbol = optarg;
            break;
        case O_TIMEOUT:
            timeout_s = optarg;
            break;
        case O_TO:
            to_s = optarg;
            break;
        default:
            fa_cli_try_help();
        }
    }
    if (optind < argc)
        fa_cli_usage_error("unexpected argument '%s'", argv[optind]);
    source = fa_cli_conf(source, "FA_SOURCE", NULL);
    if (!source)
        fa_cli_usage_error("no --source given");
    if (!symbol)
        fa_cli_usage_error("no --symbol given");
    if (!valid_symbol(symbol))
        fa_cli_usage_error("invalid symbol '%s' (want 1-32 of A-Z a-z 0-9 . - ^ = _)", symbol);
    have_from = from_s != NULL;
    have_to = to_s != NULL;
    if (have_from && fa_date_parse(from_s, &w.from) != 0)
        fa_cli_usage_error("--from: %s", fa_err_get());
    if (have_to && fa_date_parse(to_s, &w.to) != 0)
        fa_cli_usage_error("--to: %s", fa_err_get());
    if (have_from && have_to && w.from > w.to)
        fa_cli_usage_error("--from %s is after --to %s", from_s, to_s);
    if (cal_s) {
        if (fa_calendar_parse(cal_s, &w.cal) != 0)
            fa_cli_usage_error("--calendar: %s", fa_err_get());
    } else {
        size_t n = strlen(symbol);
        w.cal = n > 3 && strcmp(symbol + n - 3, "USD") == 0 ? FA_CAL_CRYPTO : FA_CAL_NYSE;
    }
    w.lookback = (int)lookback;
    if (fa_cli_long("--retries", fa_cli_conf(retries_s, "FA_HTTP_RETRIES", "3"), 0, 100,
                    &retries) != 0 ||
        fa_cli_long("--retry-delay", fa_cli_conf(delay_s, "FA_HTTP_RETRY_DELAY", "500"), 1, 600000,
                    &delay) != 0 ||
        fa_cli_double("--timeout", fa_cli_conf(timeout_s, "FA_HTTP_TIMEOUT", "30"), 0.05, 3600,
                      &timeout) != 0)
        fa_cli_usage_error("%s", fa_err_get());

    if (strncmp(source, "csv:", 4) == 0 || strncmp(source, "ndjson:", 7) == 0) {
        bool csv = source[0] == 'c';
        const char *path = source + (csv ? 4 : 7);
        if (!*path)
            fa_cli_usage_error("no path in --source '%s'", source);
        if ((csv ? fa_provider_csv(path, symbol, &data)
                 : fa_provider_ndjson(path, symbol, &data)) != 0) {
            fail_msg();
            status = FA_EXIT_FAIL;
            goto out;
        }
        data_range(&data, &first, &last);
        if (!have_from)
            w.from = first;
        if (!have_to)
            w.to = last;
    } else if (strcmp(source, "synth") == 0 || strncmp(source, "synth:", 6) == 0) {
        struct fa_synth_opts so = {0};
        int keep;
        if (fa_synth_parse(source + 5, &so) != 0)
            fa_cli_usage_error("%s", fa_err_get());
        so.cal = w.cal;
        if (!have_from && !have_to) {
            w.from = fa_date_from_ymd(2023, 1, 3);
            w.to = fa_date_from_ymd(2023, 12, 29);
        } else if (!have_to) {
            w.to = w.from + 364;
        } else if (!have_from) {
            w.from = w.to - 364;
        }
        keep = fa_date_add_trading(w.from, -(w.lookback + 1), w.cal) - 7;
        if (fa_synth_generate(&so, symbol, keep, w.to, &data) != 0) {
            if (strstr(fa_err_get(), "starts on"))
                fa_cli_usage_error("%s", fa_err_get());
            fail_msg();
            status = FA_EXIT_FAIL;
            goto out;
        }
    } else if (strcmp(source, "fmp") == 0 || strcmp(source, "yahoo") == 0 ||
               strcmp(source, "alphavantage") == 0) {
        const char *env = source[0] == 'f'   ? "FA_FMP_URL"
                          : source[0] == 'y' ? "FA_YAHOO_URL"
                                             : "FA_ALPHAVANTAGE_URL";
        const char *keyenv = source[0] == 'f'   ? "FMP_API_KEY"
                             : source[0] == 'a' ? "ALPHAVANTAGE_API_KEY"
                                                : NULL;
        int rc;
        if (keyenv && !(getenv(keyenv) && *getenv(keyenv))) {
            fa_err_set("source '%s' needs the API key in %s", source, keyenv);
            fail_msg();
            status = FA_EXIT_USAGE;
            goto out;
        }
        if (!have_to)
            w.to = today_utc();
        if (!have_from)
            w.from = w.to - 365;
        cache_dir = cache_s ? strdup(cache_s) : fa_provider_cache_dir();
        req.symbol = symbol;
        req.cal = w.cal;
        req.from = fa_date_add_trading(w.from, -(w.lookback + 1), w.cal) - 7;
        req.to = w.to;
        req.base_url = fa_cli_conf(NULL, env, NULL);
        req.cache_dir = cache_dir;
        req.refresh = refresh;
        req.news = !no_news;
        req.http.timeout_ms = (long)(timeout * 1000);
        req.http.connect_timeout_ms = req.http.timeout_ms < 10000 ? req.http.timeout_ms : 10000;
        req.http.retries = retries > 0 ? (int)retries : -1;
        req.http.base_delay_ms = delay;
        req.http.max_body = (size_t)256 << 20;
        rc = source[0] == 'f'   ? fa_provider_fmp(&req, &data)
             : source[0] == 'y' ? fa_provider_yahoo(&req, &data)
                                : fa_provider_alphavantage(&req, &data);
        if (rc != 0) {
            fail_msg();
            status = FA_EXIT_FAIL;
            goto out;
        }
    } else {
        fa_cli_usage_error("unknown source '%s' (want csv:PATH, ndjson:PATH, synth[:SEED], fmp, "
                           "yahoo or alphavantage)",
                           source);
    }

    if (fa_provider_emit(&data, symbol, &w, emit_cb, NULL) != 0)
        status = FA_EXIT_FAIL;
out:
    fa_provider_data_free(&data);
    free(cache_dir);
    if (fa_stdout_close() != 0)
        status = FA_EXIT_FAIL;
    return status;
}
