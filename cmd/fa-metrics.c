/* fa-metrics: the account and its metrics. Passes every record through,
 * simulates one account per symbol from price and decision records (or
 * one tool's signal records with --follow) through fa_market, and at the
 * end appends one account record per stepped day and one metrics record
 * per symbol. --table turns metrics records into a table; --plot draws
 * equity and drawdown curves of account records with gnuplot.
 * Memory: every symbol's prices and decisions (O(days)). */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_cli.h"
#include "fa_date.h"
#include "fa_day.h"
#include "fa_err.h"
#include "fa_file.h"
#include "fa_gnuplot.h"
#include "fa_market.h"
#include "fa_ndjson.h"
#include "fa_record.h"
#include "fa_banned.h"

struct decision {
    int day;
    enum fa_market_action action;
    char *where;
};

struct llmcall {
    int day;
    double cost;
};

struct book {
    char *symbol;
    struct fa_market_bar *bars;
    size_t nbars, capbars;
    struct decision *dec;
    size_t ndec, capdec;
    struct llmcall *llm; /* the agent's model calls (cost_usd) */
    size_t nllm, capllm;
};

/* One run for --plot: its label and its curve. */
struct curve {
    char *label;
    int *day;
    double *value;
    size_t n, cap;
};

static struct book *books;
static size_t nbooks;
static struct curve *curves;
static size_t ncurves;
static struct json_object **rows; /* --table: metrics records */
static size_t nrows, caprows;

static const char *opt_follow;
static const char *opt_plot;
static bool opt_table;
static bool opt_results; /* --results-only */
static int opt_from = INT32_MIN, opt_to = INT32_MAX;
static struct fa_market_params mparams;
/* --convention flag: FLAG-Trader's account (fa-policy's environment: fills
 * at the next day's close, no costs, long only) on the realistic model,
 * the period's last day left out, and the paper's log-return metrics. */
static bool conv_flag;

static void usage(void)
{
    printf("Usage: %s [OPTION]... [FILE]...\n"
           "Simulate the account of price and decision records; print account and metrics.\n"
           "\n"
           "  -c, --convention C    realistic (default), finagent or flag\n"
           "      --cash X          initial cash (default 10000)\n"
           "      --fee F           finagent: fee per side as a fraction (default 0.001)\n"
           "      --commission BPS  realistic: commission per side, basis points (default 1)\n"
           "      --slippage BPS    realistic: slippage per side, basis points (default 5)\n"
           "      --fill WHEN       realistic: next-open (default) or next-close\n"
           "      --short           realistic: allow a short side\n"
           "  -f, --follow TOOL     trade one tool's signal records instead of decisions\n"
           "  -r, --results-only    print the account and metrics records alone, not the input\n"
           "  -o, --output FILE     write to FILE (atomically) instead of standard output\n"
           "      --from DATE       first day of the period\n"
           "      --to DATE         last day of the period\n"
           "  -t, --table           print metrics records as a table instead\n"
           "      --format F        table format: text (default), markdown or csv\n"
           "      --plot FILE       draw equity and drawdown curves (PNG, or SVG by name)\n"
           "      --strict          a bad record is fatal (exit 1)\n"
           "  -q, --quiet           no warnings\n"
           "  -v, --verbose         more messages\n"
           "  -h, --help            this help\n"
           "  -V, --version         version\n"
           "\n"
           "Environment: FA_CONVENTION (default --convention).\n"
           "See fa-metrics(1).\n",
           fa_progname);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        fa_die(FA_EXIT_FAIL, "out of memory");
    return q;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        fa_die(FA_EXIT_FAIL, "out of memory");
    return d;
}

static struct book *book_get(const char *symbol)
{
    for (size_t i = 0; i < nbooks; i++)
        if (strcmp(books[i].symbol, symbol) == 0)
            return &books[i];
    books = xrealloc(books, (nbooks + 1) * sizeof(*books));
    struct book *b = &books[nbooks++];
    memset(b, 0, sizeof(*b));
    b->symbol = xstrdup(symbol);
    return b;
}

static void books_free(void)
{
    for (size_t i = 0; i < nbooks; i++) {
        for (size_t j = 0; j < books[i].ndec; j++)
            free(books[i].dec[j].where);
        free(books[i].dec);
        free(books[i].llm);
        free(books[i].bars);
        free(books[i].symbol);
    }
    free(books);
    for (size_t i = 0; i < ncurves; i++) {
        free(curves[i].label);
        free(curves[i].day);
        free(curves[i].value);
    }
    free(curves);
    for (size_t i = 0; i < nrows; i++)
        json_object_put(rows[i]);
    free(rows);
}

static struct curve *curve_get(const char *label)
{
    for (size_t i = 0; i < ncurves; i++)
        if (strcmp(curves[i].label, label) == 0)
            return &curves[i];
    curves = xrealloc(curves, (ncurves + 1) * sizeof(*curves));
    struct curve *c = &curves[ncurves++];
    memset(c, 0, sizeof(*c));
    c->label = xstrdup(label);
    return c;
}

static void curve_add(const char *symbol, const char *follow, const char *conv, int day,
                      double value)
{
    char label[256];
    snprintf(label, sizeof(label), "%s %s %s", symbol, follow ? follow : "decision",
             conv ? conv : "?");
    struct curve *c = curve_get(label);
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->day = xrealloc(c->day, c->cap * sizeof(int));
        c->value = xrealloc(c->value, c->cap * sizeof(double));
    }
    c->day[c->n] = day;
    c->value[c->n] = value;
    c->n++;
}

/* ---- reading ---- */

static void add_price(struct json_object *r, const char *where)
{
    const char *sym = fa_record_symbol(r), *date = fa_record_date(r);
    int day;
    double open, high, low, close, adj;
    /* a record that cannot be used: an error record, and the stream goes
     * on (fa.7: bad, repeated and misordered records) */
    if (!sym || !date || fa_date_parse(date, &day) < 0) {
        fa_bad_record(sym, date, where, "price record without a valid symbol and date; skipped");
        return;
    }
    if (fa_record_num(r, "close", &close) < 0 || !(close > 0) || !isfinite(close)) {
        fa_bad_record(sym, date, where, "price %s %s: no positive 'close'; skipped", sym, date);
        return;
    }
    if (fa_record_num(r, "adj_close", &adj) < 0)
        adj = close;
    if (fa_record_num(r, "open", &open) < 0)
        open = close;
    if (fa_record_num(r, "high", &high) < 0)
        high = close;
    if (fa_record_num(r, "low", &low) < 0)
        low = close;
    if (!(adj > 0) || !(open > 0) || !isfinite(adj) || !isfinite(open)) {
        fa_bad_record(sym, date, where,
                      "price %s %s: 'open' and 'adj_close' must be positive numbers; skipped", sym,
                      date);
        return;
    }
    struct book *b = book_get(sym);
    if (b->nbars && day <= b->bars[b->nbars - 1].day) {
        /* the same bar again (concatenated streams, overlapping lookback
         * windows) is skipped quietly; fa_day_order says what else is */
        size_t lo = 0, hi = b->nbars;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (b->bars[mid].day < day)
                lo = mid + 1;
            else
                hi = mid;
        }
        const struct fa_market_bar *o = &b->bars[lo];
        bool held = lo < b->nbars && o->day == day;
        char subject[96];
        snprintf(subject, sizeof subject, "price %s", sym);
        if (fa_day_order(subject, b->bars[b->nbars - 1].day, day, held,
                         held && o->open == open && o->close == close && o->adj_close == adj) < 0)
            fa_bad_record(sym, date, where, "%s; skipped", fa_err_get());
        return;
    }
    if (b->nbars == b->capbars) {
        b->capbars = b->capbars ? b->capbars * 2 : 256;
        b->bars = xrealloc(b->bars, b->capbars * sizeof(*b->bars));
    }
    struct fa_market_bar *mb = &b->bars[b->nbars++];
    mb->day = day;
    mb->open = open;
    mb->high = high;
    mb->low = low;
    mb->close = close;
    mb->adj_close = adj;
}

static void add_decision(struct json_object *r, const char *where)
{
    const char *sym = fa_record_symbol(r), *date = fa_record_date(r);
    int day;
    if (!sym || !date || fa_date_parse(date, &day) < 0) {
        fa_bad_record(sym, date, where, "%s record without a valid symbol and date; skipped",
                      fa_record_kind(r));
        return;
    }
    const char *a = fa_record_str(r, "action");
    enum fa_market_action act;
    if (!a) {
        fa_bad_record(sym, date, where, "%s %s %s: no 'action'; skipped", fa_record_kind(r), sym,
                      date);
        return;
    }
    if (fa_market_action_parse(a, &act) < 0) {
        fa_bad_record(sym, date, where, "%s %s %s: %s; skipped", fa_record_kind(r), sym, date,
                      fa_err_get());
        return;
    }
    struct book *b = book_get(sym);
    for (size_t i = 0; i < b->ndec; i++)
        if (b->dec[i].day == day) {
            fa_info("%s: a second decision for %s %s replaces the first", where, sym, date);
            b->dec[i].action = act;
            free(b->dec[i].where);
            b->dec[i].where = xstrdup(where);
            return;
        }
    if (b->ndec == b->capdec) {
        b->capdec = b->capdec ? b->capdec * 2 : 256;
        b->dec = xrealloc(b->dec, b->capdec * sizeof(*b->dec));
    }
    b->dec[b->ndec].day = day;
    b->dec[b->ndec].action = act;
    b->dec[b->ndec].where = xstrdup(where);
    b->ndec++;
}

static void add_llm(struct json_object *r)
{
    const char *sym = fa_record_symbol(r), *date = fa_record_date(r);
    double cost;
    int day;
    if (!sym || !date || fa_date_parse(date, &day) < 0)
        return;
    if (fa_record_num(r, "cost_usd", &cost) < 0)
        cost = 0;
    struct book *b = book_get(sym);
    if (b->nllm == b->capllm) {
        b->capllm = b->capllm ? b->capllm * 2 : 256;
        b->llm = xrealloc(b->llm, b->capllm * sizeof(*b->llm));
    }
    b->llm[b->nllm].day = day;
    b->llm[b->nllm].cost = cost;
    b->nllm++;
}

static void add_account(struct json_object *r)
{
    const char *sym = fa_record_symbol(r), *date = fa_record_date(r);
    double v;
    int day;
    if (!sym || !date || fa_date_parse(date, &day) < 0 || fa_record_num(r, "value", &v) < 0)
        return;
    curve_add(sym, fa_record_str(r, "follow"), fa_record_str(r, "convention"), day, v);
}

static void add_row(struct json_object *r)
{
    if (nrows == caprows) {
        caprows = caprows ? caprows * 2 : 16;
        rows = xrealloc(rows, caprows * sizeof(*rows));
    }
    rows[nrows++] = json_object_get(r);
}

/* ---- simulation ---- */

static int cmp_dec(const void *a, const void *b)
{
    const struct decision *x = a, *y = b;
    return (x->day > y->day) - (x->day < y->day);
}

static void put_num(struct json_object *r, const char *k, double v)
{
    fa_record_set_num(r, k, v);
}

static void simulate(struct book *b)
{
    char d[11], d2[11];
    const char *conv = conv_flag ? "flag" : fa_market_convention_name(mparams.convention);
    const char *follow = opt_follow ? opt_follow : "decision";

    /* every decision must have a price for its day */
    if (b->ndec)
        qsort(b->dec, b->ndec, sizeof(*b->dec), cmp_dec);
    size_t j = 0;
    for (size_t i = 0; i < b->ndec; i++) {
        while (j < b->nbars && b->bars[j].day < b->dec[i].day)
            j++;
        if (j == b->nbars || b->bars[j].day != b->dec[i].day)
            fa_die(FA_EXIT_FAIL, "%s: decision for %s %s: no price for that day", b->dec[i].where,
                   b->symbol, fa_date_format(b->dec[i].day, d));
    }

    size_t first = 0, end = 0; /* bars [first, end) are in the period */
    while (first < b->nbars && b->bars[first].day < opt_from)
        first++;
    end = first;
    while (end < b->nbars && b->bars[end].day <= opt_to)
        end++;
    if (end == first) {
        fa_warn("no prices for %s in the period; no metrics", b->symbol);
        return;
    }
    /* finagent: D_0..D_K are the period's days; D_K is neither traded nor
     * valued */
    size_t stop = mparams.convention == FA_MARKET_FINAGENT || conv_flag ? end - 1 : end;
    double *vals = conv_flag ? xrealloc(NULL, (end - first) * sizeof *vals) : NULL;
    size_t nvals = 0;

    struct fa_market *m = fa_market_new(&mparams);
    if (!m)
        fa_die(FA_EXIT_USAGE, "%s", fa_err_get());
    j = 0;
    for (size_t i = first; i < stop; i++) {
        const struct fa_market_bar *bar = &b->bars[i];
        while (j < b->ndec && b->dec[j].day < bar->day)
            j++;
        enum fa_market_action a =
            j < b->ndec && b->dec[j].day == bar->day ? b->dec[j].action : FA_MARKET_NONE;
        struct fa_market_state st;
        if (fa_market_step(m, bar, a, &st) < 0)
            fa_die(FA_EXIT_FAIL, "%s %s: %s", b->symbol, fa_date_format(bar->day, d), fa_err_get());
        fa_date_format(bar->day, d);
        struct json_object *r = fa_record_new("account", b->symbol, d);
        fa_record_set_str(r, "asof", d);
        fa_record_set_str(r, "convention", conv);
        fa_record_set_str(r, "follow", follow);
        put_num(r, "cash", st.cash);
        put_num(r, "position", st.position);
        put_num(r, "price", st.price);
        put_num(r, "value", st.value);
        put_num(r, "return", st.ret);
        put_num(r, "cum_return", st.value / mparams.cash - 1);
        fa_record_set_str(r, "action", fa_market_action_name(st.asked));
        fa_record_set_str(r, "done", fa_market_action_name(st.done));
        if (st.shares_traded != 0) {
            put_num(r, "fill_price", st.fill_price);
            put_num(r, "shares", st.shares_traded);
        }
        put_num(r, "fees", st.fees);
        fa_record_set_id(r);
        if (opt_plot)
            curve_add(b->symbol, follow, conv, bar->day, st.value);
        if (vals)
            vals[nvals++] = st.value;
        fa_emit(r);
    }

    struct fa_market_metrics mm;
    fa_market_metrics(m, &mm);
    fa_market_free(m);
    fa_date_format(b->bars[end - 1].day, d);
    struct json_object *r = fa_record_new("metrics", b->symbol, d);
    fa_record_set_str(r, "asof", d);
    fa_record_set_str(r, "convention", conv);
    fa_record_set_str(r, "follow", follow);
    fa_record_set_str(r, "from", fa_date_format(b->bars[first].day, d2));
    fa_record_set_str(r, "to", d);
    fa_record_set_int(r, "days", (int64_t)mm.days);
    if (!conv_flag)
        fa_record_set_int(r, "n", (int64_t)mm.n);
    put_num(r, "start_value", mm.start_value);
    put_num(r, "end_value", mm.end_value);
    put_num(r, "total_return", mm.total_return);
    if (conv_flag) {
        /* flag: over the values V_0..V_(K-1) of the stepped days, the log
         * returns l_t = ln(V_t / V_(t-1)); cum_log_return = ln(V_last /
         * V_0) (the paper's CR is 100 times it), Sharpe = mean(l) / sd(l)
         * x sqrt(252) and annual_vol = sd(l) x sqrt(252) with the sample
         * sd, MDD the largest fall of V from a running peak. */
        double sum = 0, sq = 0, peak = nvals ? vals[0] : 0, mdd = 0;
        size_t k = nvals > 1 ? nvals - 1 : 0;
        for (size_t i = 0; i < nvals; i++) {
            if (vals[i] > peak)
                peak = vals[i];
            if (peak > 0 && 1 - vals[i] / peak > mdd)
                mdd = 1 - vals[i] / peak;
            if (i > 0)
                sum += log(vals[i] / vals[i - 1]);
        }
        double mean = k ? sum / (double)k : NAN;
        for (size_t i = 1; i < nvals; i++) {
            double l = log(vals[i] / vals[i - 1]) - mean;
            sq += l * l;
        }
        double sd = k > 1 ? sqrt(sq / (double)(k - 1)) : NAN;
        fa_record_set_int(r, "n", (int64_t)k);
        put_num(r, "cum_log_return", nvals ? log(vals[nvals - 1] / vals[0]) : NAN);
        put_num(r, "sharpe", sd > 0 ? mean / sd * sqrt(252.0) : NAN);
        put_num(r, "annual_vol", sd * sqrt(252.0));
        put_num(r, "mdd", mdd);
    } else if (mparams.convention == FA_MARKET_FINAGENT) {
        put_num(r, "arr", mm.arr);
        put_num(r, "sr", mm.sr);
        put_num(r, "cr", mm.cr);
        put_num(r, "sor", mm.sor);
        put_num(r, "mdd", mm.mdd);
        put_num(r, "vol", mm.vol);
        put_num(r, "fee", mparams.fee);
    } else {
        put_num(r, "cagr", mm.cagr);
        put_num(r, "sharpe", mm.sharpe);
        put_num(r, "sortino", mm.sortino);
        put_num(r, "calmar", mm.calmar);
        put_num(r, "mdd", mm.mdd);
        put_num(r, "annual_vol", mm.annual_vol);
        put_num(r, "vol", mm.vol);
        put_num(r, "commission_bps", mparams.commission_bps);
        put_num(r, "slippage_bps", mparams.slippage_bps);
        fa_record_set_bool(r, "short", mparams.allow_short);
        fa_record_set_str(r, "fill",
                          mparams.fill == FA_MARKET_FILL_NEXT_OPEN ? "next-open" : "next-close");
    }
    fa_record_set_int(r, "trades", (int64_t)mm.trades);
    fa_record_set_int(r, "round_trips", (int64_t)mm.round_trips);
    put_num(r, "win_rate", mm.win_rate);
    put_num(r, "exposure", mm.exposure);
    put_num(r, "turnover", mm.turnover);
    put_num(r, "fees", mm.fees);
    fa_record_set_int(r, "none_days", (int64_t)mm.none_days);
    fa_record_set_int(r, "hold_days", (int64_t)mm.hold_days);
    fa_record_set_int(r, "buy_days", (int64_t)mm.buy_days);
    fa_record_set_int(r, "sell_days", (int64_t)mm.sell_days);
    fa_record_set_int(r, "refused", (int64_t)mm.refused);
    if (!opt_follow) {
        /* the model calls of the agent's days in the period */
        size_t calls = 0;
        double cost = 0;
        for (size_t i = 0; i < b->nllm; i++)
            if (b->llm[i].day >= b->bars[first].day && b->llm[i].day <= b->bars[end - 1].day) {
                calls++;
                cost += b->llm[i].cost;
            }
        fa_record_set_int(r, "llm_calls", (int64_t)calls);
        put_num(r, "llm_cost_usd", cost);
    }
    put_num(r, "cash", mparams.cash);
    fa_record_set_id(r);
    fa_emit(r);
    free(vals);
}

/* ---- table ---- */

enum colfmt { COL_STR, COL_PCT, COL_RATIO, COL_INT };
struct column {
    const char *key, *title;
    enum colfmt fmt;
};

static const struct column columns[] = {
    {"symbol", "symbol", COL_STR},
    {"follow", "follow", COL_STR},
    {"convention", "convention", COL_STR},
    {"from", "from", COL_STR},
    {"to", "to", COL_STR},
    {"days", "days", COL_INT},
    {"total_return", "return", COL_PCT},
    {"cum_log_return", "log ret", COL_PCT},
    {"arr", "ARR", COL_PCT},
    {"cagr", "CAGR", COL_PCT},
    {"sr", "SR", COL_RATIO},
    {"sharpe", "Sharpe", COL_RATIO},
    {"cr", "CR", COL_RATIO},
    {"calmar", "Calmar", COL_RATIO},
    {"sor", "SOR", COL_RATIO},
    {"sortino", "Sortino", COL_RATIO},
    {"mdd", "MDD", COL_PCT},
    {"vol", "VOL", COL_PCT},
    {"annual_vol", "ann.vol", COL_PCT},
    {"trades", "trades", COL_INT},
    {"win_rate", "win", COL_PCT},
    {"exposure", "exposure", COL_PCT},
    {"turnover", "turnover", COL_RATIO},
    {"none_days", "none", COL_INT},
    {"llm_cost_usd", "LLM USD", COL_RATIO},
};
#define NCOLS (sizeof(columns) / sizeof(columns[0]))

/* The cell text of row r, column c into buf; raw = CSV (full precision
 * fractions). */
static void cell(struct json_object *r, const struct column *c, bool raw, char *buf, size_t cap)
{
    struct json_object *v;
    buf[0] = 0;
    if (!json_object_object_get_ex(r, c->key, &v) || json_object_is_type(v, json_type_null))
        return;
    if (json_object_is_type(v, json_type_string)) {
        snprintf(buf, cap, "%s", json_object_get_string(v));
        return;
    }
    if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
        return;
    double x = json_object_get_double(v);
    if (raw) {
        struct json_object *n = fa_json_num(x);
        snprintf(buf, cap, "%s", n ? json_object_to_json_string(n) : "");
        json_object_put(n);
    } else if (c->fmt == COL_PCT) {
        snprintf(buf, cap, "%.2f%%", x * 100);
    } else if (c->fmt == COL_RATIO) {
        snprintf(buf, cap, "%.3f", x);
    } else {
        snprintf(buf, cap, "%.0f", x);
    }
}

static void csv_field(const char *s)
{
    if (strpbrk(s, ",\"\n\r")) {
        putchar('"');
        for (; *s; s++) {
            if (*s == '"')
                putchar('"');
            putchar(*s);
        }
        putchar('"');
    } else {
        fputs(s, stdout);
    }
}

static void print_table(const char *format)
{
    bool used[NCOLS];
    size_t width[NCOLS];
    char buf[128];
    for (size_t c = 0; c < NCOLS; c++) {
        used[c] = false;
        width[c] = strlen(columns[c].title);
        for (size_t i = 0; i < nrows; i++) {
            cell(rows[i], &columns[c], false, buf, sizeof(buf));
            if (buf[0]) {
                used[c] = true;
                if (strlen(buf) > width[c])
                    width[c] = strlen(buf);
            }
        }
    }
    bool csv = strcmp(format, "csv") == 0, md = strcmp(format, "markdown") == 0;
    /* header */
    bool firstcol = true;
    for (size_t c = 0; c < NCOLS; c++) {
        if (!used[c])
            continue;
        if (csv) {
            if (!firstcol)
                putchar(',');
            fputs(columns[c].key, stdout);
        } else if (md) {
            printf("| %-*s ", (int)width[c], columns[c].title);
        } else {
            printf("%s%*s", firstcol ? "" : "  ",
                   columns[c].fmt == COL_STR ? -(int)width[c] : (int)width[c], columns[c].title);
        }
        firstcol = false;
    }
    printf(md ? "|\n" : "\n");
    if (md) {
        for (size_t c = 0; c < NCOLS; c++) {
            if (!used[c])
                continue;
            putchar('|');
            if (columns[c].fmt == COL_STR) {
                for (size_t k = 0; k < width[c] + 2; k++)
                    putchar('-');
            } else {
                for (size_t k = 0; k < width[c] + 1; k++)
                    putchar('-');
                putchar(':');
            }
        }
        printf("|\n");
    }
    for (size_t i = 0; i < nrows; i++) {
        firstcol = true;
        for (size_t c = 0; c < NCOLS; c++) {
            if (!used[c])
                continue;
            cell(rows[i], &columns[c], csv, buf, sizeof(buf));
            if (csv) {
                if (!firstcol)
                    putchar(',');
                csv_field(buf);
            } else {
                const char *s = buf[0] ? buf : "-";
                int w = columns[c].fmt == COL_STR ? -(int)width[c] : (int)width[c];
                if (md)
                    printf("| %*s ", w, s);
                else
                    printf("%s%*s", firstcol ? "" : "  ", w, s);
            }
            firstcol = false;
        }
        printf(md ? "|\n" : "\n");
    }
}

/* ---- plot ---- */

static void label_safe(const char *in, char *out, size_t cap)
{
    size_t k = 0;
    for (; *in && k + 1 < cap; in++)
        out[k++] =
            (*in == '"' || *in == '\\' || *in == '\n' || (unsigned char)*in < 32) ? '_' : *in;
    out[k] = 0;
}

static int draw_plot(const char *path)
{
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);
    if (!f)
        fa_die(FA_EXIT_FAIL, "out of memory");
    /* Day labels: a month format repeats the same label on short periods. */
    fprintf(f, "set xdata time\nset timefmt '%%Y-%%m-%%d'\nset format x '%%Y-%%m-%%d'\n"
               "set xtics rotate by -30\nset rmargin 8\nset grid\nset key below horizontal\n");
    for (size_t i = 0; i < ncurves; i++) {
        struct curve *c = &curves[i];
        double peak = 0, start = c->n ? c->value[0] : 1;
        fprintf(f, "$d%zu << EOD\n", i);
        for (size_t k = 0; k < c->n; k++) {
            char d[11];
            double v = c->value[k];
            if (v > peak)
                peak = v;
            fprintf(f, "%s %.10g %.10g\n", fa_date_format(c->day[k], d), start > 0 ? v / start : 0,
                    peak > 0 ? (v / peak - 1) * 100 : 0);
        }
        fprintf(f, "EOD\n");
    }
    fprintf(f, "set multiplot layout 2,1\nset title 'Equity (value / first value)'\nplot ");
    for (size_t i = 0; i < ncurves; i++) {
        char lab[256];
        label_safe(curves[i].label, lab, sizeof(lab));
        fprintf(f, "%s$d%zu using 1:2 with lines lw 2 title \"%s\"", i ? ", " : "", i, lab);
    }
    fprintf(f, "\nset title 'Drawdown (%%)'\nplot ");
    for (size_t i = 0; i < ncurves; i++) {
        char lab[256];
        label_safe(curves[i].label, lab, sizeof(lab));
        fprintf(f, "%s$d%zu using 1:3 with lines lw 2 title \"%s\"", i ? ", " : "", i, lab);
    }
    fprintf(f, "\nunset multiplot\n");
    if (fclose(f) != 0)
        fa_die(FA_EXIT_FAIL, "out of memory");
    int rc = fa_gnuplot_write(s, fa_gnuplot_format_of(path), 1000, 800, path);
    free(s);
    if (rc == FA_GNUPLOT_MISSING) {
        fa_warn("cannot plot '%s': %s", path, fa_err_get());
        return FA_EXIT_USAGE;
    }
    if (rc < 0) {
        fa_warn("cannot plot '%s': %s", path, fa_err_get());
        return FA_EXIT_FAIL;
    }
    return FA_EXIT_OK;
}

int main(int argc, char **argv)
{
    enum {
        OPT_CASH = 256,
        OPT_COMMISSION,
        OPT_FEE,
        OPT_FILL,
        OPT_FORMAT,
        OPT_FROM,
        OPT_PLOT,
        OPT_SHORT,
        OPT_SLIPPAGE,
        OPT_STRICT,
        OPT_TO,
    };
    static const struct option opts[] = {
        {"cash", required_argument, NULL, OPT_CASH},
        {"commission", required_argument, NULL, OPT_COMMISSION},
        {"convention", required_argument, NULL, 'c'},
        {"fee", required_argument, NULL, OPT_FEE},
        {"fill", required_argument, NULL, OPT_FILL},
        {"follow", required_argument, NULL, 'f'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"from", required_argument, NULL, OPT_FROM},
        {"help", no_argument, NULL, 'h'},
        {"output", required_argument, NULL, 'o'},
        {"plot", required_argument, NULL, OPT_PLOT},
        {"quiet", no_argument, NULL, 'q'},
        {"results-only", no_argument, NULL, 'r'},
        {"short", no_argument, NULL, OPT_SHORT},
        {"slippage", required_argument, NULL, OPT_SLIPPAGE},
        {"strict", no_argument, NULL, OPT_STRICT},
        {"table", no_argument, NULL, 't'},
        {"to", required_argument, NULL, OPT_TO},
        {"verbose", no_argument, NULL, 'v'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *o_conv = NULL, *o_cash = NULL, *o_fee = NULL, *o_comm = NULL, *o_slip = NULL,
               *o_fill = NULL, *o_format = NULL, *o_output = NULL;
    bool o_short = false;
    int c, status = FA_EXIT_OK;

    fa_err_init(argv[0]);
    while ((c = getopt_long(argc, argv, "c:f:ho:qrtvV", opts, NULL)) != -1) {
        switch (c) {
        case OPT_CASH:
            o_cash = optarg;
            break;
        case OPT_COMMISSION:
            o_comm = optarg;
            break;
        case 'c':
            o_conv = optarg;
            break;
        case OPT_FEE:
            o_fee = optarg;
            break;
        case OPT_FILL:
            o_fill = optarg;
            break;
        case 'f':
            opt_follow = optarg;
            break;
        case OPT_FORMAT:
            o_format = optarg;
            break;
        case OPT_FROM:
            if (fa_date_parse(optarg, &opt_from) < 0)
                fa_cli_usage_error("invalid --from: %s", fa_err_get());
            break;
        case 'h':
            usage();
            return FA_EXIT_OK;
        case OPT_PLOT:
            opt_plot = optarg;
            break;
        case 'q':
            fa_verbosity = 0;
            break;
        case 'r':
            opt_results = true;
            break;
        case 'o':
            o_output = optarg;
            break;
        case OPT_SHORT:
            o_short = true;
            break;
        case OPT_SLIPPAGE:
            o_slip = optarg;
            break;
        case OPT_STRICT:
            fa_strict = true;
            break;
        case 't':
            opt_table = true;
            break;
        case OPT_TO:
            if (fa_date_parse(optarg, &opt_to) < 0)
                fa_cli_usage_error("invalid --to: %s", fa_err_get());
            break;
        case 'v':
            fa_verbosity++;
            break;
        case 'V':
            fa_cli_version();
            return FA_EXIT_OK;
        default:
            fa_cli_try_help();
        }
    }

    enum fa_market_convention conv;
    const char *conv_name = fa_cli_conf(o_conv, "FA_CONVENTION", "realistic");
    conv_flag = strcmp(conv_name, "flag") == 0;
    if (conv_flag)
        conv = FA_MARKET_REALISTIC;
    else if (fa_market_convention_parse(conv_name, &conv) < 0)
        fa_cli_usage_error("unknown convention '%s' (want realistic, finagent or flag)", conv_name);
    if (conv_flag && (o_fee || o_comm || o_slip || o_short || o_fill))
        fa_cli_usage_error("--fee, --commission, --slippage, --fill and --short do not go with "
                           "--convention flag (no costs, next-close fills, long only)");
    fa_market_params_default(&mparams, conv);
    if (conv_flag) {
        mparams.fill = FA_MARKET_FILL_NEXT_CLOSE;
        mparams.commission_bps = 0;
        mparams.slippage_bps = 0;
    }
    if (o_cash && fa_cli_double("cash", o_cash, 0, 1e15, &mparams.cash) < 0)
        fa_cli_usage_error("%s", fa_err_get());
    if (conv == FA_MARKET_FINAGENT && (o_comm || o_slip || o_short || o_fill))
        fa_cli_usage_error("--commission, --slippage, --fill and --short go with "
                           "--convention realistic");
    if (conv == FA_MARKET_REALISTIC && o_fee)
        fa_cli_usage_error("--fee goes with --convention finagent (realistic: --commission)");
    if (o_fee && fa_cli_double("fee", o_fee, 0, 0.5, &mparams.fee) < 0)
        fa_cli_usage_error("%s", fa_err_get());
    if (o_comm && fa_cli_double("commission", o_comm, 0, 5000, &mparams.commission_bps) < 0)
        fa_cli_usage_error("%s", fa_err_get());
    if (o_slip && fa_cli_double("slippage", o_slip, 0, 5000, &mparams.slippage_bps) < 0)
        fa_cli_usage_error("%s", fa_err_get());
    if (o_fill) {
        if (strcmp(o_fill, "next-open") == 0)
            mparams.fill = FA_MARKET_FILL_NEXT_OPEN;
        else if (strcmp(o_fill, "next-close") == 0)
            mparams.fill = FA_MARKET_FILL_NEXT_CLOSE;
        else
            fa_cli_usage_error("invalid --fill '%s' (want next-open or next-close)", o_fill);
    }
    mparams.allow_short = o_short;
    const char *format = o_format ? o_format : "text";
    if (strcmp(format, "text") != 0 && strcmp(format, "markdown") != 0 &&
        strcmp(format, "csv") != 0)
        fa_cli_usage_error("invalid --format '%s' (want text, markdown or csv)", format);
    if (o_format && !opt_table)
        fa_cli_usage_error("--format goes with --table");
    if (opt_table && opt_plot)
        fa_cli_usage_error("--table and --plot cannot be combined");
    if (opt_from > opt_to)
        fa_cli_usage_error("--from is after --to");
    if (o_output)
        fa_cli_output(o_output);
    if (opt_plot && fa_gnuplot_path() == NULL)
        fa_die(FA_EXIT_USAGE, "--plot: %s", fa_err_get());
    if (opt_plot && fa_file_check_target(opt_plot) < 0)
        fa_die(FA_EXIT_USAGE, "--plot: %s", fa_err_get());

    struct fa_ndjson_reader *rd = fa_ndjson_open_list(argv + optind, argc - optind, 0);
    if (!rd) {
        fa_warn("%s", fa_err_get());
        status = FA_EXIT_FAIL;
    }
    while (rd) {
        struct json_object *r;
        /* a table reads metrics records only: a bad line is fatal */
        int rc = opt_table ? fa_ndjson_next(rd, &r) : fa_cli_next(rd, &r);
        if (rc == FA_NDJSON_EOF)
            break;
        if (rc == FA_NDJSON_IOERR) {
            fa_warn("%s", fa_err_get());
            status = FA_EXIT_FAIL;
            break;
        }
        if (rc == FA_NDJSON_BAD)
            fa_die(FA_EXIT_FAIL, "%s", fa_err_get());
        const char *kind = fa_record_kind(r);
        const char *where = fa_ndjson_where(rd);
        if (opt_table) {
            if (kind && strcmp(kind, "metrics") == 0)
                add_row(r);
            json_object_put(r);
            continue;
        }
        if (kind && strcmp(kind, "price") == 0) {
            add_price(r, where);
        } else if (kind && !opt_follow && strcmp(kind, "decision") == 0) {
            add_decision(r, where);
        } else if (kind && opt_follow && strcmp(kind, "signal") == 0) {
            const char *tool = fa_record_str(r, "tool");
            if (tool && strcmp(tool, opt_follow) == 0)
                add_decision(r, where);
        } else if (kind && !opt_follow && strcmp(kind, "llm") == 0) {
            add_llm(r);
        } else if (kind && opt_plot && strcmp(kind, "account") == 0) {
            add_account(r);
        }
        if (opt_results)
            json_object_put(r);
        else
            fa_emit(r);
    }
    fa_ndjson_close(rd);
    if (status != FA_EXIT_OK)
        goto out;
    if (opt_table) {
        print_table(format);
        goto out;
    }
    /* --plot over account records draws those runs as they are: the
     * prices and decisions that come with them are not simulated again
     * (perhaps under another convention) */
    if (!(opt_plot && ncurves > 0))
        for (size_t i = 0; i < nbooks; i++)
            simulate(&books[i]);
    if (opt_plot)
        status = draw_plot(opt_plot);
out:
    books_free();
    status = fa_cli_output_end(status);
    if (fa_stdout_close() != 0 && status == FA_EXIT_OK)
        status = FA_EXIT_FAIL;
    return status;
}
