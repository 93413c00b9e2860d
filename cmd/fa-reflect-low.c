/* fa-reflect-low: FinAgent's low-level reflection as a stream filter.
 *
 * For each trading day (a group with a price record): the price moves
 * over the last 1, 7 and 14 trading days, the Kline chart (the last 15
 * bars; an image for a vision model, a table otherwise) and the day's
 * intel summaries go to the model, which explains the moves per horizon
 * and writes a query; appends a `reflect_low` record. Price history comes
 * from earlier price records in the stream (fa-fetch --lookback) and from
 * --history FILE. In a warm-up pass, --hindsight also shows the next 1,
 * 7 and 14 days' moves and up to 14 later bars, never past
 * --hindsight-end. Memory: one day plus the price history. */
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

#define SHOWN 15 /* bars on the chart up to today */
#define AHEAD 14 /* later bars a hindsight chart may add */

static long opt_seed = 42;
static double opt_temperature = -1;
static int opt_from = -1, opt_hindsight_end = -1;
static bool opt_hindsight, opt_no_charts;
static const char *opt_save_prompts, *opt_charts;
static struct fa_llm *llm;
static struct fa_stage_hist *hist;

static const struct fa_output_field fields[] = {
    {"reasoning", FA_OUTPUT_MAP, NULL, false},
    {"query", FA_OUTPUT_STRING, NULL, false},
};

static void usage(void)
{
    printf("Usage: %s [OPTION]... [FILE]...\n"
           "Append FinAgent's low-level reflection (reflect_low) for each trading day.\n"
           "\n"
           "      --charts DIR          also save each Kline chart as DIR/SYMBOL-DATE-kline.png\n"
           "      --from DATE           act only on days from DATE (earlier days pass through)\n"
           "      --hindsight           warm-up: show the next 1/7/14 days' moves and bars\n"
           "      --hindsight-end DATE  the warm-up's last day: nothing later is shown or used\n"
           "      --history FILE        price records (earlier bars; later ones for --hindsight)\n"
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
           "Charts need gnuplot (FA_GNUPLOT, else PATH). See fa-reflect-low(1).\n",
           fa_progname);
}

static void emit_llm(struct json_object *arr)
{
    for (size_t i = 0; arr && i < json_object_array_length(arr); i++)
        fa_emit(json_object_get(json_object_array_get_idx(arr, i)));
}

static void call_failed(const struct fa_day *d, const struct fa_llm_result *res)
{
    if (fa_stage_fatal(res->error))
        fa_die(FA_EXIT_FAIL, "%s %s: model call failed (%s): %s", d->symbol, d->date,
               fa_llm_strerror(res->error), res->reason ? res->reason : "unknown");
    fa_bad_record(d->symbol, d->date, NULL, "model call failed (%s): %s",
                  fa_llm_strerror(res->error), res->reason ? res->reason : "unknown");
}

static bool admit(const struct fa_day *d, size_t i)
{
    if (fa_day_admit(d->recs[i], d->day, opt_hindsight_end, d->where[i]))
        return true;
    fa_bad_record(d->symbol, d->date, d->where[i], "%s", fa_err_get());
    return false;
}

/* The last admitted record of kind in d, or NULL. */
static struct json_object *last_of(const struct fa_day *d, const char *kind)
{
    struct json_object *r = NULL;
    size_t i = 0;
    long k;

    while ((k = fa_day_find(d, kind, &i)) >= 0)
        if (admit(d, (size_t)k))
            r = d->recs[k];
    return r;
}

static void reflect(struct fa_day *d)
{
    const struct fa_chart_bar *bars;
    size_t nbars = fa_stage_hist_bars(hist, d->symbol, &bars), n, first;
    long ti = fa_stage_hist_at(bars, nbars, d->day);
    struct json_object *intel = last_of(d, "intel"), *past = last_of(d, "intel_past");
    struct json_object *vars, *data, *moves, *future = NULL, *out;
    char asof[11], *moves_text, *future_text = NULL, *hs_text = NULL, *chart_text, *title;
    char *chart_path = NULL;
    unsigned char *png = NULL;
    size_t pnglen = 0;
    bool want_image = fa_llm_vision(llm) && !opt_no_charts, image = false;
    struct fa_llm_image img;
    double ma, up, lo;

    if (ti < 0 || bars[ti].day != d->day)
        return; /* the price record was refused */
    snprintf(asof, sizeof asof, "%s", d->date);
    fa_stage_later(asof, intel);
    fa_stage_later(asof, past);
    /* The bars that may be used: up to today, or in hindsight up to 14
     * later bars, none after --hindsight-end. */
    n = (size_t)ti + 1;
    if (opt_hindsight)
        while (n < nbars && n < (size_t)ti + 1 + AHEAD && bars[n].day <= opt_hindsight_end)
            n++;
    if (n > (size_t)ti + 1) {
        char last[11];
        fa_stage_later_date(asof, fa_date_format(bars[n - 1].day, last));
    }
    first = (size_t)ti + 1 > SHOWN ? (size_t)ti + 1 - SHOWN : 0;

    vars = json_object_new_object();
    data = json_object_new_object();
    moves = json_object_new_object();
    moves_text = fa_stage_moves_text(bars, n, ti, false, moves);
    if (opt_hindsight) {
        future = json_object_new_object();
        future_text = fa_stage_moves_text(bars, n, ti, true, future);
        json_object_object_add(vars, "future_text", json_object_new_string(future_text));
        hs_text = fa_stage_render("reflect-low-hindsight", vars);
        if (!hs_text)
            fa_die(FA_EXIT_USAGE, "%s", fa_err_get());
    }
    chart_text = fa_chart_kline_text(bars, n, first, (size_t)ti);
    if (want_image || opt_charts) {
        int rc;
        title =
            fa_stage_printf("%s %s: last %zu bars%s", d->symbol, d->date, (size_t)ti + 1 - first,
                            n > (size_t)ti + 1 ? ", with the next bars in hindsight" : "");
        rc = fa_chart_kline(bars, n, first, (size_t)ti, title, &png, &pnglen);
        free(title);
        if (rc == FA_GNUPLOT_MISSING)
            fa_die(FA_EXIT_USAGE, "%s (or use --no-charts)", fa_err_get());
        if (rc < 0)
            fa_die(FA_EXIT_FAIL, "%s %s: %s", d->symbol, d->date, fa_err_get());
        if (opt_charts) {
            chart_path = fa_stage_printf("%s/%s-%s-kline.png", opt_charts, d->symbol, d->date);
            if (fa_gnuplot_save(chart_path, png, pnglen) < 0)
                fa_die(FA_EXIT_FAIL, "%s", fa_err_get());
        }
        image = want_image;
    }
    json_object_object_add(vars, "symbol", json_object_new_string(d->symbol));
    json_object_object_add(vars, "date", json_object_new_string(d->date));
    json_object_object_add(vars, "asset_type", json_object_new_string("traded asset"));
    json_object_object_add(vars, "moves_text", json_object_new_string(moves_text));
    json_object_object_add(vars, "hindsight_text", json_object_new_string(hs_text ? hs_text : ""));
    json_object_object_add(
        vars, "chart_note",
        json_object_new_string(image ? "the attached image is the Kline chart of the last 15 "
                                       "trading days: candlesticks of open, high, low and close, "
                                       "the 5-day moving average, Bollinger bands (5 days, 2 "
                                       "standard deviations) and a dashed line on today."
                                     : "the Kline chart is given as a table instead of an image."));
    json_object_object_add(vars, "chart_text", json_object_new_string(image ? "" : chart_text));
    json_object_object_add(
        vars, "latest_summary",
        json_object_new_string(fa_stage_str(intel, "summary", "(not available)")));
    json_object_object_add(
        vars, "past_summary",
        json_object_new_string(fa_stage_str(past, "summary", "(not available)")));
    fa_chart_bollinger(bars, (size_t)ti, 5, 2.0, &ma, &up, &lo);
    json_object_object_add(data, "moves", json_object_get(moves));
    if (future)
        json_object_object_add(data, "future", json_object_get(future));
    json_object_object_add(data, "band",
                           json_object_new_string(bars[ti].close > up   ? "above the upper band"
                                                  : bars[ti].close < lo ? "below the lower band"
                                                                        : "inside the bands"));
    json_object_object_add(data, "latest_summary",
                           json_object_new_string(fa_stage_str(intel, "summary", "")));
    json_object_object_add(data, "past_summary",
                           json_object_new_string(fa_stage_str(past, "summary", "")));
    json_object_object_add(vars, "data", data);

    out = fa_stage_record("reflect_low", d->symbol, d->date, asof);
    {
        struct fa_stage_call call = {
            .stage = FA_STAGE_REFLECT_LOW,
            .symbol = d->symbol,
            .date = d->date,
            .asof = asof,
            .fields = fields,
            .nfields = 2,
            .temperature = opt_temperature,
            .seed = opt_seed,
            .save_dir = opt_save_prompts,
        };
        struct fa_llm_result res;
        int rc;
        if (image) {
            img.png = png;
            img.len = pnglen;
            img.description = chart_text;
            call.images = &img;
            call.nimages = 1;
        }
        rc = fa_stage_chat(llm, &call, vars, &res);
        emit_llm(res.llm);
        if (rc == 0) {
            fa_stage_merge(out, res.fields);
            json_object_object_add(out, "moves", json_object_get(moves));
            if (future)
                json_object_object_add(out, "future", json_object_get(future));
            fa_record_set_bool(out, "hindsight", opt_hindsight);
            if (chart_path)
                fa_record_set_str(out, "chart", chart_path);
            fa_record_set_str(out, "source", fa_llm_offline(llm) ? "offline" : "model");
            fa_record_set_id(out);
            fa_emit(out);
            out = NULL;
        } else {
            call_failed(d, &res);
        }
        fa_llm_result_free(&res);
    }
    json_object_put(out);
    json_object_put(vars);
    json_object_put(moves);
    json_object_put(future);
    free(moves_text);
    free(future_text);
    free(hs_text);
    free(chart_text);
    free(chart_path);
    free(png);
}

static int run_file(const char *path)
{
    struct fa_day_reader *r = fa_day_open(path);
    struct fa_day d = {0};
    int st;

    if (!r) {
        fa_warn("%s", fa_err_get());
        return FA_EXIT_FAIL;
    }
    while ((st = fa_day_next(r, &d)) == 1) {
        struct json_object *price = NULL;
        size_t i;
        long k;
        for (i = 0; i < d.n; i++)
            fa_emit(json_object_get(d.recs[i]));
        if (d.day < 0)
            goto next;
        if (fa_day_reader_backwards(r)) {
            fa_bad_record(d.symbol, d.date, d.where[0], "day %s %s is out of order", d.symbol,
                          d.date);
            goto next;
        }
        i = 0;
        while ((k = fa_day_find(&d, "price", &i)) >= 0)
            if (admit(&d, (size_t)k)) {
                if (fa_stage_hist_add(hist, d.recs[k]) < 0)
                    fa_bad_record(d.symbol, d.date, d.where[k], "%s", fa_err_get());
                else
                    price = d.recs[k];
            }
        if (price && (opt_from < 0 || d.day >= opt_from))
            reflect(&d);
    next:
        fa_day_clear(&d);
    }
    fa_day_free(&d);
    fa_day_close(r);
    if (st < 0) {
        fa_warn("%s", fa_err_get());
        return FA_EXIT_FAIL;
    }
    return FA_EXIT_OK;
}

int main(int argc, char **argv)
{
    enum {
        O_CHARTS = 256,
        O_FROM,
        O_HINDSIGHT,
        O_HEND,
        O_HISTORY,
        O_MODEL,
        O_NOCHARTS,
        O_OFFLINE,
        O_SAVE,
        O_SEED,
        O_STRICT,
        O_TEMP
    };
    static const struct option opts[] = {
        {"charts", required_argument, NULL, O_CHARTS},
        {"from", required_argument, NULL, O_FROM},
        {"help", no_argument, NULL, 'h'},
        {"hindsight", no_argument, NULL, O_HINDSIGHT},
        {"hindsight-end", required_argument, NULL, O_HEND},
        {"history", required_argument, NULL, O_HISTORY},
        {"model", required_argument, NULL, O_MODEL},
        {"no-charts", no_argument, NULL, O_NOCHARTS},
        {"offline", no_argument, NULL, O_OFFLINE},
        {"quiet", no_argument, NULL, 'q'},
        {"save-prompts", required_argument, NULL, O_SAVE},
        {"seed", required_argument, NULL, O_SEED},
        {"strict", no_argument, NULL, O_STRICT},
        {"temperature", required_argument, NULL, O_TEMP},
        {"verbose", no_argument, NULL, 'v'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct fa_llm_opts lo = {0};
    const char *history = NULL;
    int c, rc = FA_EXIT_OK;

    fa_err_init(argv[0]);
    while ((c = getopt_long(argc, argv, "hqvV", opts, NULL)) != -1) {
        switch (c) {
        case O_CHARTS:
            opt_charts = optarg;
            break;
        case O_FROM:
            if (fa_date_parse(optarg, &opt_from) < 0)
                fa_cli_usage_error("--from: %s", fa_err_get());
            break;
        case O_HINDSIGHT:
            opt_hindsight = true;
            break;
        case O_HEND:
            if (fa_date_parse(optarg, &opt_hindsight_end) < 0)
                fa_cli_usage_error("--hindsight-end: %s", fa_err_get());
            break;
        case O_HISTORY:
            history = optarg;
            break;
        case O_MODEL:
            lo.model = optarg;
            lo.vision_model = optarg;
            break;
        case O_NOCHARTS:
            opt_no_charts = true;
            break;
        case O_OFFLINE:
            lo.mode = "offline";
            break;
        case O_SAVE:
            opt_save_prompts = optarg;
            break;
        case O_SEED:
            if (fa_cli_long("--seed", optarg, 0, 2147483647L, &opt_seed) < 0)
                fa_cli_usage_error("%s", fa_err_get());
            break;
        case O_STRICT:
            fa_strict = true;
            break;
        case O_TEMP:
            if (fa_cli_double("--temperature", optarg, 0, 2, &opt_temperature) < 0)
                fa_cli_usage_error("%s", fa_err_get());
            break;
        case 'h':
            usage();
            return FA_EXIT_OK;
        case 'q':
            fa_verbosity = 0;
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
    if (opt_hindsight && opt_hindsight_end < 0)
        fa_cli_usage_error("--hindsight needs --hindsight-end (the warm-up's last day)");
    if (opt_charts && opt_no_charts)
        fa_cli_usage_error("--charts and --no-charts exclude each other");
    hist = fa_stage_hist_new();
    if (history && fa_stage_hist_load(hist, history) < 0)
        fa_die(FA_EXIT_FAIL, "history '%s': %s", history, fa_err_get());
    if (!(llm = fa_llm_open(&lo)))
        fa_die(FA_EXIT_USAGE, "%s", fa_err_get());
    /* A vision model needs gnuplot: say so before reading anything. */
    if (((fa_llm_vision(llm) && !opt_no_charts) || opt_charts) && !fa_gnuplot_path())
        fa_die(FA_EXIT_USAGE, "%s (or use --no-charts)", fa_err_get());
    if (optind == argc)
        rc = run_file(NULL);
    else
        for (int i = optind; i < argc && rc == FA_EXIT_OK; i++)
            rc = run_file(argv[i]);
    fa_llm_close(llm);
    fa_stage_hist_free(hist);
    if (fa_stdout_close() != 0)
        rc = FA_EXIT_FAIL;
    return rc;
}
