/* fa-intel: FinAgent's market-intelligence calls as a stream filter.
 *
 * --latest: for each trading day (a group with a price record), the day's
 * news (at most --max-news, chosen deterministically by --seed when there
 * are more; news of days without a price, such as weekends, is carried to
 * the next trading day) and price go to the model, which writes analysis,
 * summary and one retrieval query per horizon; appends an `intel` record.
 * --past: the day's `hit` records of retrieved news (from fa-retrieve) go
 * to the model, which writes analysis and summary; appends `intel_past`.
 * Every input record passes through unchanged, and one `llm` record
 * follows each model call. Memory: one day, plus the carried news and the
 * price history (for the past items' later moves). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_cli.h"
#include "fa_date.h"
#include "fa_day.h"
#include "fa_err.h"
#include "fa_llm.h"
#include "fa_ndjson.h"
#include "fa_offline.h"
#include "fa_record.h"
#include "fa_stage.h"
#include "fa_banned.h"

enum { MODE_NONE, MODE_LATEST, MODE_PAST };

static int opt_mode = MODE_NONE;
static struct fa_stage_opts so = FA_STAGE_OPTS_INIT;
static long opt_max_news = 20;
static struct fa_llm *llm;
static struct fa_stage_hist *hist;
static struct fa_day carry; /* news waiting for the next trading day */
static int status = FA_EXIT_OK;

static const struct fa_output_field latest_fields[] = {
    {"analysis", FA_OUTPUT_STRING, NULL, false},
    {"summary", FA_OUTPUT_STRING, NULL, false},
    {"queries", FA_OUTPUT_MAP, NULL, false},
};
static const struct fa_output_field past_fields[] = {
    {"analysis", FA_OUTPUT_STRING, NULL, false},
    {"summary", FA_OUTPUT_STRING, NULL, false},
};

static void usage(void)
{
    printf("Usage: %s --latest|--past [OPTION]... [FILE]...\n"
           "Append FinAgent's market-intelligence records: intel (--latest) or intel_past "
           "(--past).\n"
           "\n"
           "      --latest              summarise the day's news and price; write queries\n"
           "      --past                summarise the retrieved past news (hit records)\n"
           "      --from DATE           act only on days from DATE (earlier days pass through)\n"
           "      --hindsight-end DATE  warm-up: accept inputs made with hindsight up to DATE\n"
           "      --history FILE        price records (for the later moves of past items)\n"
           "      --max-news N          news items shown per day (default 20)\n"
           "      --model NAME          chat model (default FA_MODEL)\n"
           "      --offline             use the offline analyst even with FA_LLM_URL set\n"
           "      --save-prompts DIR    write each rendered prompt to DIR\n"
           "      --seed N              news sampling and model seed (default 42)\n"
           "      --temperature T       sampling temperature (default: the server's)\n"
           "      --strict              a bad or refused record is fatal (exit 1)\n"
           "  -q, --quiet               no warnings\n"
           "  -v, --verbose             more messages\n"
           "  -h, --help                this help\n"
           "  -V, --version             version\n"
           "\n"
           "Model configuration: FA_LLM_URL, FA_MODEL, FA_LLM, FA_CACHE... (see fa-models(7)).\n"
           "See fa-intel(1).\n",
           fa_progname);
}

/* Asks the model for the fields of out, a record of day d, and emits it
 * with them; a failed call is reported instead. Takes vars and out. */
static void ask(const struct fa_day *d, const char *stage, const struct fa_output_field *fields,
                size_t nfields, const char *asof, struct json_object *vars, struct json_object *out)
{
    struct fa_stage_call call = fa_stage_call_of(&so, d, stage, asof);
    struct fa_llm_result res;
    int rc;

    call.fields = fields;
    call.nfields = nfields;
    rc = fa_stage_chat(llm, &call, vars, &res);
    if (fa_stage_answered(d, rc, &res) == 0) {
        fa_stage_merge(out, res.fields);
        fa_stage_emit(out, fa_stage_source(llm));
        out = NULL;
    }
    fa_llm_result_free(&res);
    json_object_put(vars);
    json_object_put(out);
}

/* ---- --latest ------------------------------------------------------- */

/* Drops the carried news of symbol: a trading day has taken it (or was
 * passed over, before --from). */
static void carry_drop(const char *symbol)
{
    struct fa_day keep = {0};
    size_t i;

    for (i = 0; i < carry.n; i++)
        if (strcmp(fa_stage_str(carry.recs[i], "symbol", ""), symbol) != 0)
            fa_day_add(&keep, json_object_get(carry.recs[i]), NULL);
    fa_day_clear(&carry);
    for (i = 0; i < keep.n; i++)
        fa_day_add(&carry, json_object_get(keep.recs[i]), NULL);
    fa_day_free(&keep);
}

static void do_latest(struct fa_day *d, struct json_object *price)
{
    struct json_object **news = NULL, *vars, *data, *jnews, *out, *ids;
    const char **keys = NULL;
    size_t nnews = 0, shown, *idx = NULL, i;
    char asof[11], *price_text, *note, *t;
    long k;
    struct sb {
        char *s;
        size_t n;
    } nt = {NULL, 0};
    FILE *f;

    snprintf(asof, sizeof asof, "%s", d->date);
    /* carried news of earlier non-trading days, then today's */
    news = calloc(carry.n + d->n + 1, sizeof *news);
    keys = calloc(carry.n + d->n + 1, sizeof *keys);
    if (!news || !keys)
        fa_die(FA_EXIT_FAIL, "out of memory");
    for (i = 0; i < carry.n; i++)
        if (strcmp(fa_stage_str(carry.recs[i], "symbol", ""), d->symbol) == 0)
            news[nnews++] = carry.recs[i];
    i = 0;
    while ((k = fa_day_find(d, "news", &i)) >= 0)
        if (fa_stage_admit_at(d, (size_t)k, so.hindsight_end))
            news[nnews++] = d->recs[k];
    for (i = 0; i < nnews; i++) {
        keys[i] = fa_stage_str(news[i], "id", fa_stage_str(news[i], "title", ""));
        fa_stage_later(asof, news[i]);
    }
    shown = nnews > (size_t)opt_max_news ? (size_t)opt_max_news : nnews;
    idx = calloc(shown + 1, sizeof *idx);
    if (!idx)
        fa_die(FA_EXIT_FAIL, "out of memory");
    if (shown < nnews)
        fa_stage_sample(keys, nnews, shown, so.seed, idx);
    else
        for (i = 0; i < shown; i++)
            idx[i] = i;

    out = fa_stage_record("intel", d->symbol, d->date, asof);
    fa_record_set_int(out, "news_count", (int64_t)nnews);
    fa_record_set_int(out, "news_shown", (int64_t)shown);
    ids = json_object_new_array();
    for (i = 0; i < shown; i++)
        json_object_array_add(ids, json_object_new_string(keys[idx[i]]));
    json_object_object_add(out, "news_ids", ids);

    if (nnews == 0) {
        /* No call: there is nothing to read. */
        fa_record_set_str(out, "analysis", "No news items.");
        t = fa_stage_printf("No news about %s was published for %s (nor since the previous "
                            "trading day). Overall sentiment: neutral",
                            d->symbol, d->date);
        fa_record_set_str(out, "summary", t);
        free(t);
        json_object_object_add(out, "queries", json_object_new_object());
        fa_stage_emit(out, "none");
        goto done;
    }

    vars = json_object_new_object();
    data = json_object_new_object();
    jnews = json_object_new_array();
    f = open_memstream(&nt.s, &nt.n);
    if (!f)
        fa_die(FA_EXIT_FAIL, "out of memory");
    for (i = 0; i < shown; i++) {
        struct json_object *it = news[idx[i]], *o = json_object_new_object();
        const char *title = fa_stage_str(it, "title", "(untitled)");
        const char *text = fa_stage_str(it, "text", "");
        fprintf(f, "[%zu] (%s) %s\n%s%s", i + 1, fa_stage_str(it, "date", "?"), title, text,
                i + 1 < shown ? "\n\n" : "");
        json_object_object_add(o, "title", json_object_new_string(title));
        json_object_object_add(o, "text", json_object_new_string(text));
        json_object_array_add(jnews, o);
    }
    if (fclose(f) != 0)
        fa_die(FA_EXIT_FAIL, "out of memory");
    {
        double o = 0, h = 0, l = 0, c = 0, a = 0, v = 0;
        (void)fa_record_num(price, "open", &o);
        (void)fa_record_num(price, "high", &h);
        (void)fa_record_num(price, "low", &l);
        (void)fa_record_num(price, "close", &c);
        if (fa_record_num(price, "adj_close", &a) < 0)
            a = c;
        (void)fa_record_num(price, "volume", &v);
        if (!json_object_object_get_ex(price, "open", NULL)) /* close-only: say only that */
            price_text = fa_stage_printf("close %.2f, adjusted close %.2f (no open, high, low "
                                         "or volume in the data)",
                                         c, a);
        else
            price_text = fa_stage_printf("open %.2f, high %.2f, low %.2f, close %.2f, adjusted "
                                         "close %.2f, volume %.0f",
                                         o, h, l, c, a, v);
    }
    if (shown < nnews)
        note = fa_stage_printf("There were %zu items; %zu of them, chosen at random (seed %ld), "
                               "are shown.",
                               nnews, shown, so.seed);
    else
        note = strdup("");
    json_object_object_add(vars, "symbol", json_object_new_string(d->symbol));
    json_object_object_add(vars, "date", json_object_new_string(d->date));
    json_object_object_add(vars, "asset_type", json_object_new_string("traded asset"));
    json_object_object_add(vars, "price_text", json_object_new_string(price_text));
    json_object_object_add(vars, "news_count", json_object_new_int64((int64_t)shown));
    json_object_object_add(vars, "news_note", json_object_new_string(note));
    json_object_object_add(vars, "news_text", json_object_new_string(nt.s));
    json_object_object_add(data, "symbol", json_object_new_string(d->symbol));
    json_object_object_add(data, "news", jnews);
    json_object_object_add(vars, "data", data);
    free(price_text);
    free(note);
    free(nt.s);
    ask(d, FA_STAGE_INTEL_LATEST, latest_fields, 3, asof, vars, out);
done:
    free(idx);
    free(keys);
    free(news);
    carry_drop(d->symbol);
}

/* ---- --past --------------------------------------------------------- */

static void do_past(struct fa_day *d)
{
    struct json_object *vars, *data, *jhits, *out, *intel = NULL, *seen;
    const struct fa_chart_bar *bars;
    size_t nbars = fa_stage_hist_bars(hist, d->symbol, &bars), i, nh = 0;
    char asof[11], *t;
    long k;
    char *hs = NULL;
    size_t hl = 0;
    FILE *f;

    snprintf(asof, sizeof asof, "%s", d->date);
    i = 0;
    while ((k = fa_day_find(d, "intel", &i)) >= 0)
        if (fa_stage_admit_at(d, (size_t)k, so.hindsight_end))
            intel = d->recs[k];
    if (intel)
        fa_stage_later(asof, intel);
    jhits = json_object_new_array();
    seen = json_object_new_object();
    if (!(f = open_memstream(&hs, &hl)))
        fa_die(FA_EXIT_FAIL, "out of memory");
    i = 0;
    while ((k = fa_day_find(d, "hit", &i)) >= 0) {
        struct json_object *hit = d->recs[k], *r = fa_stage_hit_record(hit), *o;
        const char *hk = fa_stage_hit_kind(hit), *rdate;
        int rday;
        long bi;
        double close = NAN, after = NAN;
        char m7[32];
        if (strcmp(hk, "reflect_low") == 0 || strcmp(hk, "reflect_high") == 0 || !r)
            continue;
        if (!fa_stage_admit_at(d, (size_t)k, so.hindsight_end) || fa_stage_hit_seen(seen, hit))
            continue;
        if (!fa_stage_admit(d, r, d->where[k], so.hindsight_end))
            continue;
        fa_stage_later(asof, hit);
        rdate = fa_stage_str(r, "date", "");
        if (fa_date_parse(rdate, &rday) == 0 && (bi = fa_stage_hist_at(bars, nbars, rday)) >= 0 &&
            bars[bi].day == rday) {
            close = bars[bi].close;
            /* the move after it, only with bars up to today */
            if ((size_t)bi + 7 < nbars && bars[bi + 7].day <= d->day)
                after = fa_stage_move(bars, nbars, bi, -7);
        }
        nh++;
        o = json_object_new_object();
        json_object_object_add(o, "date", json_object_new_string(rdate));
        json_object_object_add(
            o, "type",
            json_object_new_string(fa_stage_str(hit, "type", fa_stage_str(hit, "retrieval", "?"))));
        json_object_object_add(o, "title",
                               json_object_new_string(fa_stage_str(r, "title", "(untitled)")));
        json_object_object_add(o, "text", json_object_new_string(fa_stage_str(r, "text", "")));
        json_object_object_add(o, "close", isfinite(close) ? fa_json_num(close) : NULL);
        json_object_object_add(o, "after7", isfinite(after) ? fa_json_num(after) : NULL);
        json_object_array_add(jhits, o);
        if (isfinite(after))
            snprintf(m7, sizeof m7, "%+.2f%%", 100 * after);
        else
            snprintf(m7, sizeof m7, "not known");
        fprintf(f, "[%zu] %s, retrieved for %s: %s\n%s\n", nh, rdate,
                fa_stage_str(hit, "type", "?"), fa_stage_str(r, "title", "(untitled)"),
                fa_stage_str(r, "text", ""));
        if (isfinite(close))
            fprintf(f, "Close that day %.2f; over the next 7 trading days: %s.\n\n", close, m7);
        else
            fprintf(f, "No price known for that day.\n\n");
    }
    if (fclose(f) != 0)
        fa_die(FA_EXIT_FAIL, "out of memory");
    json_object_put(seen);

    out = fa_stage_record("intel_past", d->symbol, d->date, asof);
    fa_record_set_int(out, "hit_count", (int64_t)nh);
    if (nh == 0) {
        fa_record_set_str(out, "analysis", "No past items.");
        t = fa_stage_printf("No past market intelligence resembling today's news was retrieved "
                            "for %s on %s.",
                            d->symbol, d->date);
        fa_record_set_str(out, "summary", t);
        free(t);
        fa_stage_emit(out, "none");
        json_object_put(jhits);
        free(hs);
        return;
    }
    vars = json_object_new_object();
    data = json_object_new_object();
    json_object_object_add(vars, "symbol", json_object_new_string(d->symbol));
    json_object_object_add(vars, "date", json_object_new_string(d->date));
    json_object_object_add(vars, "asset_type", json_object_new_string("traded asset"));
    json_object_object_add(vars, "latest_summary",
                           json_object_new_string(fa_stage_str(
                               intel, "summary", "(today's summary is not available)")));
    json_object_object_add(vars, "hit_count", json_object_new_int64((int64_t)nh));
    json_object_object_add(vars, "hits_text", json_object_new_string(hs));
    json_object_object_add(data, "hits", jhits);
    json_object_object_add(data, "latest_summary",
                           json_object_new_string(fa_stage_str(intel, "summary", "")));
    json_object_object_add(vars, "data", data);
    free(hs);
    ask(d, FA_STAGE_INTEL_PAST, past_fields, 2, asof, vars, out);
}

/* ---- the record loop ------------------------------------------------ */

static void on_day(struct fa_day *d, struct json_object *price, bool act, void *arg)
{
    size_t i = 0;
    long k;

    (void)arg;
    if (d->day < 0)
        return;
    if (!price) {
        /* not a trading day: its news waits for the next one */
        if (opt_mode == MODE_LATEST)
            while ((k = fa_day_find(d, "news", &i)) >= 0)
                if (fa_stage_admit_at(d, (size_t)k, so.hindsight_end))
                    fa_day_add(&carry, json_object_get(d->recs[k]), d->where[k]);
        return;
    }
    if (!act)
        carry_drop(d->symbol);
    else if (opt_mode == MODE_LATEST)
        do_latest(d, price);
    else
        do_past(d);
}

int main(int argc, char **argv)
{
    enum {
        O_LATEST = 256,
        O_MAXNEWS,
        O_PAST,
    };
    static const struct option opts[] = {
        {"from", required_argument, NULL, FA_STAGE_O_FROM},
        {"help", no_argument, NULL, 'h'},
        {"hindsight-end", required_argument, NULL, FA_STAGE_O_HEND},
        {"history", required_argument, NULL, FA_STAGE_O_HISTORY},
        {"latest", no_argument, NULL, O_LATEST},
        {"max-news", required_argument, NULL, O_MAXNEWS},
        {"model", required_argument, NULL, FA_STAGE_O_MODEL},
        {"offline", no_argument, NULL, FA_STAGE_O_OFFLINE},
        {"past", no_argument, NULL, O_PAST},
        {"quiet", no_argument, NULL, 'q'},
        {"save-prompts", required_argument, NULL, FA_STAGE_O_SAVE},
        {"seed", required_argument, NULL, FA_STAGE_O_SEED},
        {"strict", no_argument, NULL, FA_STAGE_O_STRICT},
        {"temperature", required_argument, NULL, FA_STAGE_O_TEMP},
        {"verbose", no_argument, NULL, 'v'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c, st, rc = FA_EXIT_OK;

    fa_err_init(argv[0]);
    while ((c = getopt_long(argc, argv, "hqvV", opts, NULL)) != -1) {
        switch (c) {
        case O_LATEST:
        case O_PAST:
            if (opt_mode != MODE_NONE)
                fa_cli_usage_error("give one of --latest and --past");
            opt_mode = c == O_LATEST ? MODE_LATEST : MODE_PAST;
            break;
        case O_MAXNEWS:
            if (fa_cli_long("--max-news", optarg, 1, 1000, &opt_max_news) < 0)
                fa_cli_usage_error("%s", fa_err_get());
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
    if (opt_mode == MODE_NONE)
        fa_cli_usage_error("give --latest or --past");
    if (!(hist = fa_stage_hist_open(&so)))
        fa_die(FA_EXIT_FAIL, "%s", fa_err_get());
    if (!(llm = fa_llm_open(&so.llm)))
        fa_die(FA_EXIT_USAGE, "%s", fa_err_get());
    if (fa_stage_run(argv + optind, argc - optind, &so, hist, on_day, NULL) < 0) {
        fa_warn("%s", fa_err_get());
        rc = FA_EXIT_FAIL;
    }
    if (rc == FA_EXIT_OK)
        rc = status;
    fa_llm_close(llm);
    fa_stage_hist_free(hist);
    fa_day_free(&carry);
    if (fa_stdout_close() != 0)
        rc = FA_EXIT_FAIL;
    return rc;
}
