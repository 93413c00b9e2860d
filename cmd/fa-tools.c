/* fa-tools: FinAgent's rule strategies as a stream filter. Passes every
 * record through and, after each price record, appends one signal record
 * per selected strategy (action, one-line explanation, parameters, and
 * the strategy's past performance). With --tune it searches each
 * strategy's parameters on a training period and writes a params file.
 * Memory: the price history of each symbol in the stream (O(days)). */
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fa_cli.h"
#include "fa_date.h"
#include "fa_day.h"
#include "fa_err.h"
#include "fa_file.h"
#include "fa_market.h"
#include "fa_ndjson.h"
#include "fa_record.h"
#include "fa_strategy.h"
#include "fa_banned.h"

#define EXPL_MAX 512

struct series {
    char *symbol;
    size_t n, cap;
    int *day;
    double *high, *low, *close, *adj;
    size_t co_end; /* 1 + index of the last close-only bar (no high and
                      low), 0 when every bar has them */
    bool co_warned[FA_STRATEGY_COUNT];
    struct fa_strategy_params params;
    struct fa_market *perf[FA_STRATEGY_COUNT]; /* following each tool */
};

static struct series *syms;
static size_t nsyms;
static unsigned opt_mask = (1u << FA_STRATEGY_COUNT) - 1;
static size_t opt_window;
static struct json_object *params_file;

static void usage(void)
{
    printf("Usage: %s [OPTION]... [FILE]...\n"
           "Append FinAgent's rule-strategy signals after each price record.\n"
           "\n"
           "  -s, --strategy LIST   buy_hold,macd,kdj_rsi,stoch_bb,zmr or all (default all)\n"
           "  -p, --params FILE     strategy parameters per symbol (JSON)\n"
           "  -w, --window N        compute on the last N bars only (default: all)\n"
           "      --tune            search parameters instead (maximise Sharpe)\n"
           "      --from DATE       tune: first day of the training period\n"
           "      --to DATE         tune: last day of the training period\n"
           "      --seed S          tune: random search seed (default 42)\n"
           "      --trials N        tune: parameter sets tried per strategy (default 200)\n"
           "  -o, --output FILE     write to FILE (atomically) instead of standard output;\n"
           "                        tune: the params file\n"
           "      --strict          a bad record is fatal (exit 1)\n"
           "  -q, --quiet           no warnings\n"
           "  -v, --verbose         more messages\n"
           "  -h, --help            this help\n"
           "  -V, --version         version\n"
           "\n"
           "Environment: FA_TOOLS_PARAMS (default --params), FA_TOOLS_WINDOW.\n"
           "See fa-tools(1).\n",
           fa_progname);
}

static struct series *series_get(const char *symbol)
{
    for (size_t i = 0; i < nsyms; i++)
        if (strcmp(syms[i].symbol, symbol) == 0)
            return &syms[i];
    struct series *ns = realloc(syms, (nsyms + 1) * sizeof(*ns));
    if (!ns)
        fa_die(FA_EXIT_FAIL, "out of memory");
    syms = ns;
    struct series *s = &syms[nsyms];
    memset(s, 0, sizeof(*s));
    if (fa_strategy_file_lookup(params_file, symbol, &s->params) < 0)
        fa_die_err(FA_EXIT_USAGE);
    s->symbol = strdup(symbol);
    if (!s->symbol)
        fa_die(FA_EXIT_FAIL, "out of memory");
    struct fa_market_params mp;
    fa_market_params_default(&mp, FA_MARKET_FINAGENT);
    for (int k = 0; k < FA_STRATEGY_COUNT; k++) {
        s->perf[k] = fa_market_new(&mp);
        if (!s->perf[k])
            fa_die_err(FA_EXIT_FAIL);
    }
    nsyms++;
    return s;
}

static void series_free(void)
{
    for (size_t i = 0; i < nsyms; i++) {
        struct series *s = &syms[i];
        free(s->symbol);
        free(s->day);
        free(s->high);
        free(s->low);
        free(s->close);
        free(s->adj);
        for (int k = 0; k < FA_STRATEGY_COUNT; k++)
            fa_market_free(s->perf[k]);
    }
    free(syms);
    syms = NULL;
    nsyms = 0;
}

static void *grow(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q)
        fa_die(FA_EXIT_FAIL, "out of memory");
    return q;
}

static void series_push(struct series *s, int day, double h, double l, double c, double adj,
                        bool co)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->day = grow(s->day, s->cap * sizeof(int));
        s->high = grow(s->high, s->cap * sizeof(double));
        s->low = grow(s->low, s->cap * sizeof(double));
        s->close = grow(s->close, s->cap * sizeof(double));
        s->adj = grow(s->adj, s->cap * sizeof(double));
    }
    s->day[s->n] = day;
    s->high[s->n] = h;
    s->low[s->n] = l;
    s->close[s->n] = c;
    s->adj[s->n] = adj;
    s->n++;
    if (co)
        s->co_end = s->n;
}

/* The bars strategies see on the day at index i: the last `window` bars
 * ending there (all of them when window is 0). */
static void bars_at(const struct series *s, size_t i, size_t window, struct fa_strategy_bars *b)
{
    size_t first = window && i + 1 > window ? i + 1 - window : 0;
    b->high = s->high + first;
    b->low = s->low + first;
    b->close = s->close + first;
    b->n = i + 1 - first;
}

static struct fa_market_bar bar_at(const struct series *s, size_t i)
{
    struct fa_market_bar b = {s->day[i], s->close[i], s->high[i],
                              s->low[i], s->close[i], s->adj[i]};
    return b;
}

/* Whether day is already in s. */
static bool is_held(const struct series *s, int day)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->day[mid] < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n && s->day[lo] == day;
}

/* Whether day is already in s with the same close and adj_close. */
static bool is_repeat(const struct series *s, int day, double close, double adj)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->day[mid] < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n && s->day[lo] == day && s->close[lo] == close && s->adj[lo] == adj;
}

/* Whether strategy k reads high and low (stochastics): it gives no signal
 * on a window holding a close-only bar, rather than one computed from
 * made-up highs and lows. */
static bool needs_high_low(int k)
{
    return k == FA_STRATEGY_KDJ_RSI || k == FA_STRATEGY_STOCH_BB;
}

/* Reads a price record's numbers; *co is set for a close-only bar (no
 * high or low: they are then set to the close, which only the strategies
 * that do not read them see). Returns 0 or -1 with fa_err set. */
static int price_fields(struct json_object *r, double *h, double *l, double *c, double *adj,
                        bool *co)
{
    if (fa_record_num(r, "close", c) < 0 || !(*c > 0)) {
        fa_err_set("price record without a positive 'close'");
        return -1;
    }
    *co = !json_object_object_get_ex(r, "high", NULL) || !json_object_object_get_ex(r, "low", NULL);
    if (*co)
        *h = *l = *c;
    else if (fa_record_num(r, "high", h) < 0 || fa_record_num(r, "low", l) < 0) {
        fa_err_set("price record with a high or low that is not a number");
        return -1;
    }
    if (fa_record_num(r, "adj_close", adj) < 0)
        *adj = *c;
    if (!(*adj > 0) || !(*h > 0) || !(*l > 0) || *l > *h) {
        fa_err_set("price record with a bad high, low or adj_close");
        return -1;
    }
    return 0;
}

static void emit_signals(struct series *s, const char *date)
{
    size_t i = s->n - 1;
    struct fa_strategy_bars b;
    bars_at(s, i, opt_window, &b);
    struct fa_market_bar mb = bar_at(s, i);
    size_t first = (size_t)(b.close - s->close);
    for (int k = 0; k < FA_STRATEGY_COUNT; k++) {
        if (!(opt_mask & (1u << k)))
            continue;
        if (needs_high_low(k) && s->co_end > first) {
            if (!s->co_warned[k])
                fa_warn("%s %s: %s needs high and low prices and the bars have only a close: "
                        "no %s signals while its window holds such a bar",
                        s->symbol, date, fa_strategy_name((enum fa_strategy_kind)k),
                        fa_strategy_name((enum fa_strategy_kind)k));
            s->co_warned[k] = true;
            continue;
        }
        char expl[EXPL_MAX];
        enum fa_market_action a =
            fa_strategy_signal((enum fa_strategy_kind)k, &s->params, &b, expl, sizeof(expl));
        struct fa_market_state st;
        fa_market_state(s->perf[k], &st);
        struct fa_market_metrics mm;
        fa_market_metrics(s->perf[k], &mm);

        struct json_object *r = fa_record_new("signal", s->symbol, date);
        fa_record_set_str(r, "asof", date);
        fa_record_set_str(r, "tool", fa_strategy_name((enum fa_strategy_kind)k));
        fa_record_set_str(r, "action", fa_market_action_name(a));
        fa_record_set_str(r, "explanation", expl);
        json_object_object_add(r, "params",
                               fa_strategy_params_json((enum fa_strategy_kind)k, &s->params));
        fa_record_set_int(r, "window", (int64_t)b.n);
        fa_record_set_num(r, "past_return", mm.total_return);
        fa_record_set_int(r, "past_days", (int64_t)mm.days);
        fa_record_set_id(r);
        fa_emit(r);
        if (fa_market_step(s->perf[k], &mb, a, NULL) < 0)
            fa_die_err(FA_EXIT_FAIL);
    }
}

/* ---- tuning ---- */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    /* splitmix64: small, fast and the same on every machine */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double rng_uniform(double lo, double hi)
{
    return lo + (hi - lo) * ((double)(rng_next() >> 11) / 9007199254740992.0);
}

static double rng_int(int lo, int hi)
{
    return (double)(lo + (int)(rng_next() % (uint64_t)(hi - lo + 1)));
}

static void draw_params(enum fa_strategy_kind k, struct fa_strategy_params *p)
{
    switch (k) {
    case FA_STRATEGY_MACD:
        p->macd_fast = rng_int(2, 13);
        break;
    case FA_STRATEGY_KDJ_RSI:
        p->kdj_ilong = rng_int(5, 14);
        p->kdj_isig = rng_int(2, 4);
        p->kdj_ob = rng_int(50, 100);
        p->kdj_os = rng_int(0, 50);
        break;
    case FA_STRATEGY_STOCH_BB:
        p->sbb_k = rng_uniform(1, 3);
        p->sbb_ob = rng_int(60, 100);
        p->sbb_os = rng_int(0, 40);
        break;
    case FA_STRATEGY_ZMR:
        p->zmr_thr = rng_uniform(0.5, 2.5);
        break;
    default:
        break;
    }
}

/* Follows strategy k with parameters p over the days [from, to] of s
 * (finagent convention, the last day not stepped) and returns its
 * metrics. */
static void evaluate(const struct series *s, enum fa_strategy_kind k,
                     const struct fa_strategy_params *p, int from, int to,
                     struct fa_market_metrics *mm)
{
    struct fa_market_params mp;
    fa_market_params_default(&mp, FA_MARKET_FINAGENT);
    struct fa_market *m = fa_market_new(&mp);
    if (!m)
        fa_die_err(FA_EXIT_FAIL);
    size_t last = SIZE_MAX;
    for (size_t i = 0; i < s->n; i++)
        if (s->day[i] >= from && s->day[i] <= to)
            last = i;
    for (size_t i = 0; i < s->n && last != SIZE_MAX; i++) {
        if (s->day[i] < from || i >= last)
            continue;
        struct fa_strategy_bars b;
        bars_at(s, i, opt_window, &b);
        enum fa_market_action a = fa_strategy_signal(k, p, &b, NULL, 0);
        struct fa_market_bar mb = bar_at(s, i);
        if (fa_market_step(m, &mb, a, NULL) < 0)
            fa_die_err(FA_EXIT_FAIL);
    }
    fa_market_metrics(m, mm);
    fa_market_free(m);
}

static double score(const struct fa_market_metrics *mm)
{
    return isfinite(mm->sr) ? mm->sr : -INFINITY;
}

/* Writes text to path atomically (fa_file_write_atomic). */
static int write_atomic(const char *path, const char *text)
{
    return fa_file_write_atomic(path, text, strlen(text), 0644);
}

static int tune(int from, int to, uint64_t seed, long trials, const char *out)
{
    struct json_object *file = json_object_new_object();
    char d1[11], d2[11];
    fa_date_format(from, d1);
    fa_date_format(to, d2);
    for (size_t i = 0; i < nsyms; i++) {
        struct series *s = &syms[i];
        struct json_object *entry = json_object_new_object();
        for (int k = 0; k < FA_STRATEGY_COUNT; k++) {
            if (k == FA_STRATEGY_BUY_HOLD || !(opt_mask & (1u << k)))
                continue;
            if (needs_high_low(k) && s->co_end) {
                fa_warn("tune %s: %s needs high and low prices and some bars have only a close: "
                        "not tuned",
                        s->symbol, fa_strategy_name((enum fa_strategy_kind)k));
                continue;
            }
            /* one stream of draws per (seed, symbol, strategy) so that
             * selecting fewer strategies or symbols changes nothing else */
            char key[256];
            snprintf(key, sizeof(key), "%llu/%s/%s", (unsigned long long)seed, s->symbol,
                     fa_strategy_name((enum fa_strategy_kind)k));
            char hex[FA_ID_HEX];
            fa_hash_hex(key, strlen(key), hex);
            rng_state = strtoull(hex + 16, NULL, 16);

            struct fa_strategy_params best = s->params, p = s->params;
            struct fa_market_metrics mm, bm;
            evaluate(s, (enum fa_strategy_kind)k, &best, from, to, &bm);
            double start = score(&bm);
            for (long t = 1; t < trials; t++) {
                draw_params((enum fa_strategy_kind)k, &p);
                evaluate(s, (enum fa_strategy_kind)k, &p, from, to, &mm);
                if (score(&mm) > score(&bm)) {
                    bm = mm;
                    best = p;
                }
            }
            struct json_object *pj = fa_strategy_params_json((enum fa_strategy_kind)k, &best);
            if (fa_verbosity > 0)
                fprintf(stderr,
                        "%s: tune %s %s %s..%s: %ld trials, best SR %.4f (ARR %.4f, MDD "
                        "%.4f, %zu days), starting SR %.4f, params %s\n",
                        fa_progname, s->symbol, fa_strategy_name((enum fa_strategy_kind)k), d1, d2,
                        trials, bm.sr, bm.arr, bm.mdd, bm.days, start,
                        json_object_to_json_string_ext(pj, JSON_C_TO_STRING_PLAIN));
            json_object_object_add(entry, fa_strategy_name((enum fa_strategy_kind)k), pj);
        }
        json_object_object_add(file, s->symbol, entry);
    }
    const char *text =
        json_object_to_json_string_ext(file, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
    size_t tl = strlen(text);
    char *buf = malloc(tl + 2);
    if (!buf)
        fa_die(FA_EXIT_FAIL, "out of memory");
    memcpy(buf, text, tl);
    buf[tl] = '\n';
    buf[tl + 1] = 0;
    int rc = write_atomic(out, buf);
    free(buf);
    json_object_put(file);
    if (rc < 0) {
        fa_warn("%s", fa_err_get());
        return FA_EXIT_FAIL;
    }
    if (nsyms == 0)
        fa_warn("no price records to tune on; wrote an empty params file '%s'", out);
    return FA_EXIT_OK;
}

int main(int argc, char **argv)
{
    enum { OPT_FROM = 256, OPT_SEED, OPT_STRICT, OPT_TO, OPT_TRIALS, OPT_TUNE };
    static const struct option opts[] = {
        {"from", required_argument, NULL, OPT_FROM},
        {"help", no_argument, NULL, 'h'},
        {"output", required_argument, NULL, 'o'},
        {"params", required_argument, NULL, 'p'},
        {"quiet", no_argument, NULL, 'q'},
        {"seed", required_argument, NULL, OPT_SEED},
        {"strategy", required_argument, NULL, 's'},
        {"strict", no_argument, NULL, OPT_STRICT},
        {"to", required_argument, NULL, OPT_TO},
        {"trials", required_argument, NULL, OPT_TRIALS},
        {"tune", no_argument, NULL, OPT_TUNE},
        {"verbose", no_argument, NULL, 'v'},
        {"version", no_argument, NULL, 'V'},
        {"window", required_argument, NULL, 'w'},
        {NULL, 0, NULL, 0},
    };
    const char *o_params = NULL, *o_window = NULL, *o_from = NULL, *o_to = NULL, *o_out = NULL;
    long seed = 42, trials = 200;
    bool do_tune = false;
    int c, status = FA_EXIT_OK, from = 0, to = 0;

    fa_err_init(argv[0]);
    while ((c = getopt_long(argc, argv, "ho:p:qs:vVw:", opts, NULL)) != -1) {
        switch (c) {
        case OPT_FROM:
            o_from = optarg;
            break;
        case 'h':
            usage();
            return FA_EXIT_OK;
        case 'o':
            o_out = optarg;
            break;
        case 'p':
            o_params = optarg;
            break;
        case 'q':
            fa_verbosity = 0;
            break;
        case OPT_SEED:
            if (fa_cli_long("seed", optarg, 0, 2147483647L, &seed) < 0)
                fa_cli_usage_error("%s", fa_err_get());
            break;
        case 's':
            if (fa_strategy_parse_list(optarg, &opt_mask) < 0)
                fa_cli_usage_error("%s", fa_err_get());
            break;
        case OPT_STRICT:
            fa_strict = true;
            break;
        case OPT_TO:
            o_to = optarg;
            break;
        case OPT_TRIALS:
            if (fa_cli_long("trials", optarg, 1, 1000000, &trials) < 0)
                fa_cli_usage_error("%s", fa_err_get());
            break;
        case OPT_TUNE:
            do_tune = true;
            break;
        case 'v':
            fa_verbosity++;
            break;
        case 'V':
            fa_cli_version();
            return FA_EXIT_OK;
        case 'w':
            o_window = optarg;
            break;
        default:
            fa_cli_try_help();
        }
    }
    o_params = fa_cli_conf(o_params, "FA_TOOLS_PARAMS", NULL);
    o_window = fa_cli_conf(o_window, "FA_TOOLS_WINDOW", "0");
    long w;
    if (fa_cli_long("window", o_window, 0, 100000, &w) < 0)
        fa_cli_usage_error("%s", fa_err_get());
    opt_window = (size_t)w;
    if (o_from && fa_date_parse(o_from, &from) < 0)
        fa_cli_usage_error("invalid --from: %s", fa_err_get());
    if (o_to && fa_date_parse(o_to, &to) < 0)
        fa_cli_usage_error("invalid --to: %s", fa_err_get());
    if (do_tune) {
        if (!o_from || !o_to || !o_out)
            fa_cli_usage_error("--tune needs --from, --to and --output");
        if (from > to)
            fa_cli_usage_error("--from %s is after --to %s", o_from, o_to);
        if (fa_file_check_target(o_out) < 0)
            fa_die(FA_EXIT_USAGE, "--output: %s", fa_err_get());
    } else if (o_from || o_to) {
        fa_cli_usage_error("--from and --to go with --tune");
    } else if (o_out) {
        fa_cli_output(o_out);
    }
    if (o_params && !(params_file = fa_strategy_file_load(o_params)))
        fa_die(FA_EXIT_USAGE, "bad params file: %s", fa_err_get());

    struct fa_ndjson_reader *rd = fa_ndjson_open_list(argv + optind, argc - optind, 0);
    if (!rd) {
        fa_warn("%s", fa_err_get());
        status = FA_EXIT_FAIL;
    }
    while (rd) {
        struct json_object *r;
        int rc = fa_cli_next(rd, &r);
        if (rc == FA_NDJSON_EOF)
            break;
        if (rc == FA_NDJSON_IOERR) {
            fa_warn("%s", fa_err_get());
            status = FA_EXIT_FAIL;
            break;
        }
        const char *kind = fa_record_kind(r);
        if (!kind || strcmp(kind, "price") != 0) {
            fa_emit(r);
            continue;
        }
        const char *sym = fa_record_symbol(r), *date = fa_record_date(r);
        char *symc = sym ? strdup(sym) : NULL, *datec = date ? strdup(date) : NULL;
        double h, l, cl, adj;
        bool co = false;
        int day;
        const char *bad = NULL;
        if (!symc || !datec)
            bad = "price record without symbol or date";
        else if (fa_date_parse(datec, &day) < 0 || price_fields(r, &h, &l, &cl, &adj, &co) < 0)
            bad = fa_err_get();
        fa_emit(r);
        if (bad) {
            fa_bad_record(symc, datec, fa_ndjson_where(rd), "%s", bad);
        } else {
            struct series *s = series_get(symc);
            char subject[96];
            snprintf(subject, sizeof subject, "price %s", symc);
            if (s->n && day <= s->day[s->n - 1]) {
                /* the same bar again (concatenated streams): no new signal;
                 * another bar of a day held, or an earlier day: skipped */
                if (fa_day_order(subject, s->day[s->n - 1], day, is_held(s, day),
                                 is_repeat(s, day, cl, adj)) < 0)
                    fa_bad_record(symc, datec, fa_ndjson_where(rd), "%s; skipped", fa_err_get());
            } else if (!do_tune || day <= to) {
                series_push(s, day, h, l, cl, adj, co);
                if (!do_tune)
                    emit_signals(s, datec);
            }
        }
        free(symc);
        free(datec);
    }
    fa_ndjson_close(rd);
    if (status == FA_EXIT_OK && do_tune)
        status = tune(from, to, (uint64_t)seed, trials, o_out);

    series_free();
    if (params_file)
        json_object_put(params_file);
    if (!do_tune)
        status = fa_cli_output_end(status);
    if (fa_stdout_close() != 0 && status == FA_EXIT_OK)
        status = FA_EXIT_FAIL;
    return status;
}
