/* fa-reflect-high: FinAgent's high-level reflection as a stream filter.
 *
 * For each trading day (a group with a price record): the last 14 past
 * decisions (7 for a cryptocurrency, as in FinAgent; --decisions N) with
 * their reasoning (from --journal FILE and from decision records earlier
 * in the stream), the trading chart (adjusted close with
 * BUY and SELL markers over a cumulative-return panel; an image for a
 * vision model, a text otherwise), the day's intel and low-level
 * reflections (latest and retrieved) go to the model, which judges the
 * decisions and writes improvement, summary and query; appends a
 * `reflect_high` record. With no past decision there is nothing to
 * review: the record says so and no call is made. Memory: one day plus
 * the run's decisions, accounts and prices (O(days)). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_chart.h"
#include "fa_cli.h"
#include "fa_date.h"
#include "fa_day.h"
#include "fa_err.h"
#include "fa_gnuplot.h"
#include "fa_llm.h"
#include "fa_ndjson.h"
#include "fa_offline.h"
#include "fa_record.h"
#include "fa_stage.h"
#include "fa_banned.h"

#define CHART_MIN_BARS 30

static struct fa_stage_opts so = FA_STAGE_OPTS_INIT;
static long opt_decisions = -1; /* -1: by the asset type */
static bool opt_no_charts;
static const char *opt_charts;
static struct fa_llm *llm;
static struct fa_stage_hist *hist;

/* The run's past decisions and accounts (records kept whole). */
static struct fa_day journal;

static const struct fa_output_field fields[] = {
    {"reasoning", FA_OUTPUT_STRING, NULL, false},
    {"improvement", FA_OUTPUT_STRING, NULL, false},
    {"summary", FA_OUTPUT_STRING, NULL, false},
    {"query", FA_OUTPUT_STRING, NULL, false},
};

static void usage(void)
{
    printf("Usage: %s [OPTION]... [FILE]...\n"
           "Append FinAgent's high-level reflection (reflect_high) for each trading day.\n"
           "\n"
           "      --asset-type T        stock or crypto (default FA_ASSET_TYPE, else by the\n"
           "                            symbol: crypto when it ends in USD)\n"
           "      --charts DIR          also save each trading chart as "
           "DIR/SYMBOL-DATE-trading.png\n"
           "      --decisions N         past decisions reviewed (default by the asset type:\n"
           "                            14 for a stock, 7 for crypto, as in FinAgent)\n"
           "      --from DATE           act only on days from DATE (earlier days pass through)\n"
           "      --hindsight-end DATE  warm-up: accept inputs made with hindsight up to DATE\n"
           "      --history FILE        price records (the chart's earlier bars)\n"
           "      --journal FILE        the run's past decision and account records (NDJSON)\n"
           "      --model NAME          chat model (default FA_VISION_MODEL, FA_MODEL)\n"
           "      --no-charts           describe the chart in text; never run gnuplot\n"
           "      --offline             use the offline analyst even with FA_LLM_URL set\n"
           "      --save-prompts DIR    write each rendered prompt to DIR\n"
           "      --seed N              model seed (default 42)\n"
           "      --temperature T       sampling temperature (default: the server's)\n"
           "      --strict              a bad or refused record is fatal (exit 1)\n"
           "  -q, --quiet               no warnings\n"
           "  -v, --verbose             more messages\n"
           "  -h, --help                this help\n"
           "  -V, --version             version\n"
           "\n"
           "Charts need gnuplot (FA_GNUPLOT, else PATH). See fa-reflect-high(1).\n",
           fa_progname);
}

/* Keeps decision and account records (a copy of the reference). */
static void journal_add(struct json_object *rec, const char *where)
{
    const char *k = fa_record_kind(rec);

    if (k && (strcmp(k, "decision") == 0 || strcmp(k, "account") == 0))
        fa_day_add(&journal, json_object_get(rec), where);
}

/* journal_add for fa_stage_hist_load_each. */
static void journal_keep(struct json_object *rec, const char *where, void *arg)
{
    (void)arg;
    journal_add(rec, where);
}

/* The journal entry of kind for symbol on day (the last one), or -1. */
static long journal_find(const char *kind, const char *symbol, int day)
{
    long found = -1;

    for (size_t i = 0; i < journal.n; i++) {
        const char *k = fa_record_kind(journal.recs[i]), *s = fa_record_symbol(journal.recs[i]);
        const char *dt = fa_record_date(journal.recs[i]);
        int dd;
        if (!k || strcmp(k, kind) || !s || strcmp(s, symbol) || !dt || fa_date_parse(dt, &dd) < 0)
            continue;
        if (dd == day)
            found = (long)i;
    }
    return found;
}

static char action_letter(const char *a)
{
    return a && strcmp(a, "BUY") == 0 ? 'B' : a && strcmp(a, "SELL") == 0 ? 'S' : 0;
}

static void reflect(struct fa_day *d)
{
    const struct fa_chart_bar *bars;
    size_t nbars = fa_stage_hist_bars(hist, d->symbol, &bars), nd = 0, cap = 0, i;
    long ti = fa_stage_hist_at(bars, nbars, d->day), start;
    struct json_object *intel = fa_stage_last_of(d, "intel", so.hindsight_end),
                       *past = fa_stage_last_of(d, "intel_past", so.hindsight_end);
    struct json_object *low = fa_stage_last_of(d, "reflect_low", so.hindsight_end);
    struct json_object **decs = NULL, *vars, *data, *jdecs, *out, *seen;
    char **dwhere = NULL;
    char asof[11], *dtext = NULL, *lowtext, *lowpast = NULL, *chart_text, *chart_path = NULL, *t;
    size_t dl = 0, lpl = 0;
    struct fa_chart_trade *days = NULL;
    size_t ndays;
    unsigned char *png = NULL;
    size_t pnglen = 0;
    bool want_image = fa_llm_vision(llm) && !opt_no_charts, image = false, all_acct = true;
    struct fa_llm_image img;
    FILE *f;
    long k;

    if (ti < 0 || bars[ti].day != d->day)
        return;
    snprintf(asof, sizeof asof, "%s", d->date);
    fa_stage_later(asof, intel);
    fa_stage_later(asof, past);
    fa_stage_later(asof, low);

    /* the past decisions of this symbol, oldest first; the last N */
    for (i = 0; i < journal.n; i++) {
        struct json_object *r = journal.recs[i];
        const char *k2 = fa_record_kind(r), *s = fa_record_symbol(r), *dt = fa_record_date(r);
        int dd;
        if (strcmp(k2, "decision") || !s || strcmp(s, d->symbol) || !dt ||
            fa_date_parse(dt, &dd) < 0 || dd >= d->day)
            continue;
        if (!fa_stage_admit(d, r, journal.where[i], so.hindsight_end))
            continue;
        /* the same day twice (journal and stream): the later one wins */
        {
            size_t j = nd;
            while (j > 0 && strcmp(fa_record_date(decs[j - 1]), dt) != 0)
                j--;
            if (j > 0) {
                decs[j - 1] = r;
                dwhere[j - 1] = journal.where[i];
                continue;
            }
        }
        if (nd == cap) {
            cap = cap ? 2 * cap : 32;
            decs = realloc(decs, cap * sizeof *decs);
            dwhere = realloc(dwhere, cap * sizeof *dwhere);
            if (!decs || !dwhere)
                fa_die(FA_EXIT_FAIL, "out of memory");
        }
        decs[nd] = r;
        dwhere[nd++] = journal.where[i];
    }
    {
        long keep =
            opt_decisions > 0 ? opt_decisions : fa_asset_decisions(fa_stage_asset(&so, d->symbol));
        if (nd > (size_t)keep) {
            memmove(decs, decs + nd - keep, (size_t)keep * sizeof *decs);
            nd = (size_t)keep;
        }
    }

    out = fa_stage_record("reflect_high", d->symbol, d->date, asof);
    fa_record_set_int(out, "decisions_reviewed", (int64_t)nd);
    if (nd == 0) {
        fa_record_set_str(out, "reasoning", "No past decisions to review yet.");
        fa_record_set_str(out, "improvement", "None yet.");
        fa_record_set_str(out, "summary", "No trading history yet, so there are no lessons.");
        fa_record_set_str(out, "query", "");
        fa_record_set_str(out, "source", "none");
        fa_record_set_id(out);
        fa_emit(out);
        free(decs);
        free(dwhere);
        return;
    }

    /* decisions as text and data */
    jdecs = json_object_new_array();
    if (!(f = open_memstream(&dtext, &dl)))
        fa_die(FA_EXIT_FAIL, "out of memory");
    for (i = 0; i < nd; i++) {
        struct json_object *r = decs[i], *o = json_object_new_object();
        const char *dt = fa_record_date(r), *act = fa_stage_str(r, "action", "NONE");
        int dd = 0;
        long bi;
        double after = NAN, px = NAN;
        fa_stage_later(asof, r);
        if (fa_date_parse(dt, &dd) < 0)
            dd = 0;
        bi = fa_stage_hist_at(bars, (size_t)ti + 1, dd);
        if (bi >= 0 && bars[bi].day == dd) {
            px = bars[bi].adj_close;
            after = bars[ti].adj_close / px - 1;
        }
        fprintf(f, "- %s: %s", dt, act);
        if (strcmp(fa_stage_str(r, "done", act), act))
            fprintf(f, " (done: %s)", fa_stage_str(r, "done", act));
        if (isfinite(px))
            fprintf(f, " at adjusted close %.2f; price move since then: %+.2f%%", px, 100 * after);
        fprintf(f, ".\n  Reasoning then: %s\n", fa_stage_str(r, "reasoning", "(none recorded)"));
        json_object_object_add(o, "date", json_object_new_string(dt));
        json_object_object_add(o, "action", json_object_new_string(act));
        json_object_object_add(o, "after", isfinite(after) ? fa_json_num(after) : NULL);
        json_object_array_add(jdecs, o);
    }
    if (fclose(f) != 0)
        fa_die(FA_EXIT_FAIL, "out of memory");

    /* retrieved low-level reflections, each once */
    seen = json_object_new_object();
    if (!(f = open_memstream(&lowpast, &lpl)))
        fa_die(FA_EXIT_FAIL, "out of memory");
    i = 0;
    while ((k = fa_day_find(d, "hit", &i)) >= 0) {
        struct json_object *r = fa_stage_hit_record(d->recs[k]);
        char *rt;
        if (strcmp(fa_stage_hit_kind(d->recs[k]), "reflect_low") ||
            !fa_stage_admit_at(d, (size_t)k, so.hindsight_end) ||
            !fa_stage_admit(d, r, d->where[k], so.hindsight_end) ||
            fa_stage_hit_seen(seen, d->recs[k]))
            continue;
        fa_stage_later(asof, d->recs[k]);
        rt = fa_stage_fieldtext(r, "reasoning");
        fprintf(f, "- from %s: %s\n", fa_stage_str(r, "date", "?"), rt);
        free(rt);
    }
    if (fclose(f) != 0)
        fa_die(FA_EXIT_FAIL, "out of memory");
    json_object_put(seen);
    lowtext = fa_stage_fieldtext(low, "reasoning");

    /* the trading chart: from the first reviewed decision (at least 30
     * bars) to today */
    {
        int d0 = 0;
        if (fa_date_parse(fa_record_date(decs[0]), &d0) < 0)
            d0 = 0;
        start = fa_stage_hist_at(bars, (size_t)ti + 1, d0);
        if (start < 0 || start > ti - (CHART_MIN_BARS - 1))
            start = ti - (CHART_MIN_BARS - 1);
        if (start < 0)
            start = 0;
    }
    ndays = (size_t)(ti - start + 1);
    days = calloc(ndays, sizeof *days);
    if (!days)
        fa_die(FA_EXIT_FAIL, "out of memory");
    for (i = 0; i < ndays; i++) {
        long ai = journal_find("account", d->symbol, bars[start + (long)i].day);
        if (ai < 0 || fa_record_num(journal.recs[ai], "cum_return", &days[i].cumret) < 0)
            all_acct = false;
    }
    {
        bool holding = false;
        double cum = 1;
        for (i = 0; i < ndays; i++) {
            const struct fa_chart_bar *b = &bars[start + (long)i];
            long ai = journal_find("account", d->symbol, b->day);
            long di = journal_find("decision", d->symbol, b->day);
            const char *act = NULL;
            days[i].bar = *b;
            if (b->day < d->day) {
                if (ai >= 0)
                    act = fa_stage_str(journal.recs[ai], "done", NULL);
                if (!act && di >= 0)
                    act = fa_stage_str(journal.recs[di], "action", NULL);
            }
            days[i].action = action_letter(act);
            if (!all_acct) {
                /* no account records: all in / all out at the close */
                if (i > 0 && holding)
                    cum *= b->adj_close / bars[start + (long)i - 1].adj_close;
                if (days[i].action == 'B')
                    holding = true;
                else if (days[i].action == 'S')
                    holding = false;
                days[i].cumret = cum - 1;
            }
        }
    }
    chart_text = fa_chart_trading_text(days, ndays);
    if (want_image || opt_charts) {
        int rc;
        t = fa_stage_printf("%s %s: trades and cumulative return", d->symbol, d->date);
        if (want_image) {
            rc = fa_chart_trading(days, ndays, t, &png, &pnglen);
            chart_path = fa_stage_chart_drawn(d, rc, opt_charts, "trading", png, pnglen);
        } else {
            /* no model looks at it: only the file, perhaps drawn later */
            chart_path = fa_stage_chart_path(d, opt_charts, "trading");
            rc = fa_chart_trading_file(days, ndays, t, chart_path);
            fa_stage_chart_check(d, rc);
        }
        free(t);
        image = want_image;
    }

    vars = json_object_new_object();
    data = json_object_new_object();
    json_object_object_add(vars, "symbol", json_object_new_string(d->symbol));
    json_object_object_add(vars, "date", json_object_new_string(d->date));
    json_object_object_add(vars, "asset_type",
                           json_object_new_string(fa_asset_noun(fa_stage_asset(&so, d->symbol))));
    json_object_object_add(vars, "decisions_text", json_object_new_string(dtext));
    json_object_object_add(
        vars, "chart_note",
        json_object_new_string(image ? "the attached image is the trading chart: the adjusted "
                                       "close with BUY (green) and SELL (red) markers, and below "
                                       "it the cumulative return of the account in percent."
                                     : "the trading chart is described in words instead of an "
                                       "image."));
    json_object_object_add(vars, "chart_text", json_object_new_string(image ? "" : chart_text));
    json_object_object_add(
        vars, "latest_summary",
        json_object_new_string(fa_stage_str(intel, "summary", "(not available)")));
    json_object_object_add(
        vars, "past_summary",
        json_object_new_string(fa_stage_str(past, "summary", "(not available)")));
    json_object_object_add(vars, "low_text",
                           json_object_new_string(*lowtext ? lowtext : "(not available)"));
    json_object_object_add(vars, "low_past_text",
                           json_object_new_string(*lowpast ? lowpast : "(none retrieved)"));
    json_object_object_add(data, "decisions", jdecs);
    json_object_object_add(vars, "data", data);

    {
        struct fa_stage_call call = fa_stage_call_of(&so, d, FA_STAGE_REFLECT_HIGH, asof);
        struct fa_llm_result res;
        int rc;
        call.fields = fields;
        call.nfields = 4;
        if (image) {
            img.png = png;
            img.len = pnglen;
            img.description = chart_text;
            call.images = &img;
            call.nimages = 1;
        }
        /* the decisions may carry a later asof (warm-up hindsight) */
        fa_record_set_str(out, "asof", asof);
        rc = fa_stage_chat(llm, &call, vars, &res);
        if (fa_stage_answered(d, rc, &res) == 0) {
            fa_stage_merge(out, res.fields);
            if (chart_path)
                fa_record_set_str(out, "chart", chart_path);
            fa_stage_emit(out, fa_stage_source(llm));
            out = NULL;
        }
        fa_llm_result_free(&res);
    }
    json_object_put(out);
    json_object_put(vars);
    free(decs);
    free(dwhere);
    free(dtext);
    free(lowtext);
    free(lowpast);
    free(chart_text);
    free(chart_path);
    free(days);
    free(png);
}

static void on_day(struct fa_day *d, struct json_object *price, bool act, void *arg)
{
    (void)price;
    (void)arg;
    if (act)
        reflect(d);
    /* today's decision and account join the journal after today */
    for (size_t i = 0; i < d->n; i++)
        journal_add(d->recs[i], d->where[i]);
}

int main(int argc, char **argv)
{
    enum {
        O_CHARTS = 256,
        O_DECISIONS,
        O_JOURNAL,
        O_NOCHARTS,
    };
    static const struct option opts[] = {
        {"charts", required_argument, NULL, O_CHARTS},
        {"decisions", required_argument, NULL, O_DECISIONS},
        {"asset-type", required_argument, NULL, FA_STAGE_O_ASSET},
        {"from", required_argument, NULL, FA_STAGE_O_FROM},
        {"help", no_argument, NULL, 'h'},
        {"hindsight-end", required_argument, NULL, FA_STAGE_O_HEND},
        {"history", required_argument, NULL, FA_STAGE_O_HISTORY},
        {"journal", required_argument, NULL, O_JOURNAL},
        {"model", required_argument, NULL, FA_STAGE_O_MODEL},
        {"no-charts", no_argument, NULL, O_NOCHARTS},
        {"offline", no_argument, NULL, FA_STAGE_O_OFFLINE},
        {"quiet", no_argument, NULL, 'q'},
        {"save-prompts", required_argument, NULL, FA_STAGE_O_SAVE},
        {"seed", required_argument, NULL, FA_STAGE_O_SEED},
        {"strict", no_argument, NULL, FA_STAGE_O_STRICT},
        {"temperature", required_argument, NULL, FA_STAGE_O_TEMP},
        {"verbose", no_argument, NULL, 'v'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *jpath = NULL;
    int c, st, rc = FA_EXIT_OK;

    fa_err_init(argv[0]);
    so.vision = true;
    while ((c = getopt_long(argc, argv, "hqvV", opts, NULL)) != -1) {
        switch (c) {
        case O_CHARTS:
            opt_charts = optarg;
            break;
        case O_DECISIONS:
            if (fa_cli_long("--decisions", optarg, 1, 1000, &opt_decisions) < 0)
                fa_cli_usage_error("%s", fa_err_get());
            break;
        case O_JOURNAL:
            jpath = optarg;
            break;
        case O_NOCHARTS:
            opt_no_charts = true;
            break;
        case 'h':
            usage();
            return FA_EXIT_OK;
        default:
            if ((st = fa_stage_option(&so, c, optarg)) < 0)
                fa_cli_usage_error("%s", fa_err_get());
            if (st == 0)
                fa_cli_try_help();
            if (st == 2)
                return FA_EXIT_OK;
        }
    }
    if (opt_charts && opt_no_charts)
        fa_cli_usage_error("--charts and --no-charts exclude each other");
    if (fa_stage_env(&so) < 0)
        fa_cli_usage_error("%s", fa_err_get());
    if (!(hist = fa_stage_hist_open(&so)))
        fa_die(FA_EXIT_FAIL, "%s", fa_err_get());
    if (jpath && fa_stage_hist_load_each(hist, jpath, journal_keep, NULL) < 0)
        fa_die(FA_EXIT_FAIL, "journal '%s': %s", jpath, fa_err_get());
    if (!(llm = fa_llm_open(&so.llm)))
        fa_die(FA_EXIT_USAGE, "%s", fa_err_get());
    if (((fa_llm_vision(llm) && !opt_no_charts) || opt_charts) && !fa_gnuplot_path())
        fa_die(FA_EXIT_USAGE, "%s (or use --no-charts)", fa_err_get());
    if (fa_stage_run(argv + optind, argc - optind, &so, hist, on_day, NULL) < 0) {
        fa_warn("%s", fa_err_get());
        rc = FA_EXIT_FAIL;
    }
    fa_llm_close(llm);
    fa_stage_hist_free(hist);
    fa_day_free(&journal);
    if (fa_stdout_close() != 0)
        rc = FA_EXIT_FAIL;
    return rc;
}
