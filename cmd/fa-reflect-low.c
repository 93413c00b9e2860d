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

static struct fa_stage_opts so = FA_STAGE_OPTS_INIT;
static bool opt_hindsight, opt_no_charts;
static const char *opt_charts;
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
           "      --asset-type T        stock or crypto (default FA_ASSET_TYPE, else by the\n"
           "                            symbol: crypto when it ends in USD)\n"
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

static void reflect(struct fa_day *d)
{
    const struct fa_chart_bar *bars;
    size_t nbars = fa_stage_hist_bars(hist, d->symbol, &bars), n, first;
    long ti = fa_stage_hist_at(bars, nbars, d->day);
    struct json_object *intel = fa_stage_last_of(d, "intel", so.hindsight_end),
                       *past = fa_stage_last_of(d, "intel_past", so.hindsight_end);
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
        while (n < nbars && n < (size_t)ti + 1 + AHEAD && bars[n].day <= so.hindsight_end)
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
        if (want_image) {
            rc = fa_chart_kline(bars, n, first, (size_t)ti, title, &png, &pnglen);
            chart_path = fa_stage_chart_drawn(d, rc, opt_charts, "kline", png, pnglen);
        } else {
            /* no model looks at it: only the file, perhaps drawn later
             * (fa_gnuplot_write_later) */
            chart_path = fa_stage_chart_path(d, opt_charts, "kline");
            rc = fa_chart_kline_file(bars, n, first, (size_t)ti, title, chart_path);
            fa_stage_chart_check(d, rc);
        }
        free(title);
        image = want_image;
    }
    json_object_object_add(vars, "symbol", json_object_new_string(d->symbol));
    json_object_object_add(vars, "date", json_object_new_string(d->date));
    json_object_object_add(vars, "asset_type",
                           json_object_new_string(fa_asset_noun(fa_stage_asset(&so, d->symbol))));
    json_object_object_add(vars, "moves_text", json_object_new_string(moves_text));
    json_object_object_add(vars, "hindsight_text", json_object_new_string(hs_text ? hs_text : ""));
    json_object_object_add(
        vars, "chart_note",
        json_object_new_string(
            fa_chart_close_only(bars, n, first)
                ? (image ? "the data has closing prices only (no open, high or low), so the "
                           "attached image shows the last 15 trading days' closes as a line "
                           "instead of candlesticks, with the 5-day moving average, Bollinger "
                           "bands (5 days, 2 standard deviations) and a dashed line on today."
                         : "the data has closing prices only (no open, high or low), so "
                           "instead of a Kline chart of candlesticks the closes are given as "
                           "a table.")
            : image ? "the attached image is the Kline chart of the last 15 "
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
        struct fa_stage_call call = fa_stage_call_of(&so, d, FA_STAGE_REFLECT_LOW, asof);
        struct fa_llm_result res;
        int rc;
        call.fields = fields;
        call.nfields = 2;
        if (image) {
            img.png = png;
            img.len = pnglen;
            img.description = chart_text;
            call.images = &img;
            call.nimages = 1;
        }
        rc = fa_stage_chat(llm, &call, vars, &res);
        if (fa_stage_answered(d, rc, &res) == 0) {
            fa_stage_merge(out, res.fields);
            json_object_object_add(out, "moves", json_object_get(moves));
            if (future)
                json_object_object_add(out, "future", json_object_get(future));
            fa_record_set_bool(out, "hindsight", opt_hindsight);
            if (chart_path)
                fa_record_set_str(out, "chart", chart_path);
            fa_stage_emit(out, fa_stage_source(llm));
            out = NULL;
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

static void on_day(struct fa_day *d, struct json_object *price, bool act, void *arg)
{
    (void)price;
    (void)arg;
    if (act)
        reflect(d);
}

int main(int argc, char **argv)
{
    enum {
        O_CHARTS = 256,
        O_HINDSIGHT,
        O_NOCHARTS,
    };
    static const struct option opts[] = {
        {"asset-type", required_argument, NULL, FA_STAGE_O_ASSET},
        {"charts", required_argument, NULL, O_CHARTS},
        {"from", required_argument, NULL, FA_STAGE_O_FROM},
        {"help", no_argument, NULL, 'h'},
        {"hindsight", no_argument, NULL, O_HINDSIGHT},
        {"hindsight-end", required_argument, NULL, FA_STAGE_O_HEND},
        {"history", required_argument, NULL, FA_STAGE_O_HISTORY},
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
    int c, st, rc = FA_EXIT_OK;

    fa_err_init(argv[0]);
    so.vision = true;
    while ((c = getopt_long(argc, argv, "hqvV", opts, NULL)) != -1) {
        switch (c) {
        case O_CHARTS:
            opt_charts = optarg;
            break;
        case O_HINDSIGHT:
            opt_hindsight = true;
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
    if (opt_hindsight && so.hindsight_end < 0)
        fa_cli_usage_error("--hindsight needs --hindsight-end (the warm-up's last day)");
    if (opt_charts && opt_no_charts)
        fa_cli_usage_error("--charts and --no-charts exclude each other");
    if (fa_stage_env(&so) < 0)
        fa_cli_usage_error("%s", fa_err_get());
    if (!(hist = fa_stage_hist_open(&so)))
        fa_die(FA_EXIT_FAIL, "%s", fa_err_get());
    if (!(llm = fa_llm_open(&so.llm)))
        fa_die(FA_EXIT_USAGE, "%s", fa_err_get());
    /* A vision model needs gnuplot: say so before reading anything. */
    if (((fa_llm_vision(llm) && !opt_no_charts) || opt_charts) && !fa_gnuplot_path())
        fa_die(FA_EXIT_USAGE, "%s (or use --no-charts)", fa_err_get());
    if (fa_stage_run(argv + optind, argc - optind, &so, hist, on_day, NULL) < 0) {
        fa_warn("%s", fa_err_get());
        rc = FA_EXIT_FAIL;
    }
    fa_llm_close(llm);
    fa_stage_hist_free(hist);
    if (fa_stdout_close() != 0)
        rc = FA_EXIT_FAIL;
    return rc;
}
