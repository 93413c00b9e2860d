/* fa_chart.c: the Kline and trading charts as gnuplot scripts with inline data.
 *
 * Bars are plotted against their index (not their date) so weekends and
 * holidays leave no gaps, with the dates as tic labels. Every number is
 * printed with a fixed format, so the script, and hence the image, depends
 * on the bars alone. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_chart.h"
#include "fa_date.h"
#include "fa_err.h"
#include "fa_gnuplot.h"
#include "fa_banned.h"

static FILE *mem_open(char **buf, size_t *len)
{
    FILE *f = open_memstream(buf, len);

    if (!f)
        fa_die(FA_EXIT_FAIL, "out of memory");
    return f;
}

static char *mem_close(FILE *f, char **buf)
{
    if (fclose(f) != 0)
        fa_die(FA_EXIT_FAIL, "out of memory");
    return *buf;
}

void fa_chart_bollinger(const struct fa_chart_bar *bars, size_t i, size_t window, double k,
                        double *mean, double *upper, double *lower)
{
    size_t from = i + 1 >= window ? i + 1 - window : 0, m = i + 1 - from;
    double s = 0, ss = 0, sd = 0;

    for (size_t j = from; j <= i; j++)
        s += bars[j].close;
    *mean = s / (double)m;
    for (size_t j = from; j <= i; j++)
        ss += (bars[j].close - *mean) * (bars[j].close - *mean);
    if (m > 1)
        sd = sqrt(ss / (double)(m - 1));
    *upper = *mean + k * sd;
    *lower = *mean - k * sd;
}

/* A title safe inside a gnuplot double-quoted string. */
static void gp_quote(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        if ((unsigned char)*s >= ' ')
            fputc(*s, f);
    }
    fputc('"', f);
}

static void md_label(int day, char out[6])
{
    char buf[11];

    fa_date_format(day, buf);
    memcpy(out, buf + 5, 5);
    out[5] = 0;
}

bool fa_chart_close_only(const struct fa_chart_bar *bars, size_t n, size_t first)
{
    for (size_t i = first; i < n; i++)
        if (bars[i].close_only)
            return true;
    return false;
}

/* The Kline chart's gnuplot script (malloc'd), or NULL with fa_err. */
static char *kline_script(const struct fa_chart_bar *bars, size_t n, size_t first, size_t today,
                          const char *title)
{
    char *s = NULL, lab[6];
    size_t sl = 0;
    FILE *f;
    bool co = fa_chart_close_only(bars, n, first);

    if (n == 0 || first >= n || today < first || today >= n) {
        fa_err_set("kline chart: no bars to draw");
        return NULL;
    }
    f = mem_open(&s, &sl);
    fputs("$bars << EOD\n", f);
    for (size_t i = first; i < n; i++) {
        double ma, up, lo;
        const struct fa_chart_bar *b = &bars[i];
        fa_chart_bollinger(bars, i, 5, 2.0, &ma, &up, &lo);
        md_label(b->day, lab);
        fprintf(f, "%zu \"%s\" %.6f %.6f %.6f %.6f %.6f %.6f %.6f %d\n", i - first, lab, b->open,
                b->low, b->high, b->close, ma, up, lo, b->close >= b->open ? 0x2ca02c : 0xd62728);
    }
    fputs("EOD\n", f);
    fputs("set title ", f);
    gp_quote(f, title);
    fputc('\n', f);
    fprintf(f, "set xrange [-0.7:%.1f]\n", (double)(n - first) - 0.3);
    fputs("set grid ytics lc rgb '#dddddd'\n"
          "set ylabel 'price'\n"
          "set xtics rotate by -45 nomirror\n"
          "set ytics nomirror\n"
          "set style fill solid 0.8 border -1\n"
          "set boxwidth 0.6\n"
          "set key top left box opaque\n",
          f);
    fprintf(f,
            "set arrow 1 from %zu, graph 0 to %zu, graph 1 nohead dt 2 lw 1.5 lc rgb '#ff7f0e'\n"
            "set label 1 'today' at %zu, graph 0.97 center tc rgb '#ff7f0e' front\n",
            today - first, today - first, today - first);
    /* close-only bars: no open, high or low to draw a candle from */
    if (co)
        fputs("set label 2 'closing prices only: no open, high or low in the data' "
              "at graph 0.99, graph 0.03 right tc rgb '#555555' front\n"
              "plot $bars using 1:6:xtic(2) with linespoints pt 7 ps 0.8 lw 1.5 "
              "lc rgb '#333333' title 'close', \\\n",
              f);
    else
        fputs("plot $bars using 1:3:4:5:6:10:xtic(2) with candlesticks lc rgb variable "
              "title 'OHLC', \\\n",
              f);
    fputs("     $bars using 1:7 with lines lw 2 lc rgb '#1f77b4' title 'MA(5)', \\\n"
          "     $bars using 1:8 with lines dt 2 lc rgb '#9467bd' title 'Bollinger (5, 2)', \\\n"
          "     $bars using 1:9 with lines dt 2 lc rgb '#9467bd' notitle\n",
          f);
    return mem_close(f, &s);
}

/* Draws script s (taken: freed here; NULL, a failure to make it) at w x h:
 * into *png and *len, or with path set into that file (perhaps later:
 * fa_gnuplot_write_later). */
static int draw(char *s, int w, int h, const char *path, unsigned char **png, size_t *len)
{
    int rc;

    if (png) {
        *png = NULL;
        *len = 0;
    }
    if (!s)
        return -1;
    rc = path ? fa_gnuplot_write_later(s, FA_GNUPLOT_PNG, w, h, path)
              : fa_gnuplot_render(s, FA_GNUPLOT_PNG, w, h, png, len);
    free(s);
    return rc;
}

int fa_chart_kline(const struct fa_chart_bar *bars, size_t n, size_t first, size_t today,
                   const char *title, unsigned char **png, size_t *len)
{
    return draw(kline_script(bars, n, first, today, title), FA_CHART_KLINE_W, FA_CHART_KLINE_H,
                NULL, png, len);
}

int fa_chart_kline_file(const struct fa_chart_bar *bars, size_t n, size_t first, size_t today,
                        const char *title, const char *path)
{
    return draw(kline_script(bars, n, first, today, title), FA_CHART_KLINE_W, FA_CHART_KLINE_H,
                path, NULL, NULL);
}

char *fa_chart_kline_text(const struct fa_chart_bar *bars, size_t n, size_t first, size_t today)
{
    char *s = NULL, date[11];
    size_t sl = 0;
    FILE *f = mem_open(&s, &sl);
    double ma = 0, up = 0, lo = 0;

    if (n == 0 || first >= n || today < first || today >= n) {
        fputs("No price bars are available for the chart.", f);
        return mem_close(f, &s);
    }
    if (fa_chart_close_only(bars, n, first)) {
        fprintf(f,
                "Price chart as a table (%zu days; the data has closing prices only, with no "
                "open, high or low, so there are no candlesticks; MA5 = 5-day moving average; "
                "Bollinger bands over 5 days at 2 standard deviations):\n",
                n - first);
        fputs("date        close     MA5       upper     lower\n", f);
    } else {
        fprintf(f,
                "Kline chart as a table (%zu bars; unadjusted prices; MA5 = 5-day moving "
                "average; Bollinger bands over 5 days at 2 standard deviations):\n",
                n - first);
        fputs("date        open      high      low       close     MA5       upper     lower\n", f);
    }
    for (size_t i = first; i < n; i++) {
        const struct fa_chart_bar *b = &bars[i];
        fa_chart_bollinger(bars, i, 5, 2.0, &ma, &up, &lo);
        if (fa_chart_close_only(bars, n, first))
            fprintf(f, "%s  %-9.2f %-9.2f %-9.2f %-9.2f%s\n", fa_date_format(b->day, date),
                    b->close, ma, up, lo, i == today ? "  <- today" : "");
        else
            fprintf(f, "%s  %-9.2f %-9.2f %-9.2f %-9.2f %-9.2f %-9.2f %-9.2f%s\n",
                    fa_date_format(b->day, date), b->open, b->high, b->low, b->close, ma, up, lo,
                    i == today ? "  <- today" : "");
    }
    fa_chart_bollinger(bars, today, 5, 2.0, &ma, &up, &lo);
    {
        double c = bars[today].close;
        const char *where = c > up    ? "above the upper band"
                            : c < lo  ? "below the lower band"
                            : c >= ma ? "between the moving average and the upper band"
                                      : "between the lower band and the moving average";
        fprintf(f, "Today's close %.2f is %s; the bands are %.2f wide (%.1f%% of the average).", c,
                where, up - lo, ma > 0 ? 100.0 * (up - lo) / ma : 0.0);
    }
    return mem_close(f, &s);
}

/* The trading chart's gnuplot script (malloc'd), or NULL with fa_err. */
static char *trading_script(const struct fa_chart_trade *days, size_t n, const char *title)
{
    char *s = NULL, lab[6];
    size_t sl = 0, step;
    FILE *f;

    if (n == 0) {
        fa_err_set("trading chart: no days to draw");
        return NULL;
    }
    step = n > 30 ? (n + 29) / 30 : 1;
    f = mem_open(&s, &sl);
    fputs("$days << EOD\n", f);
    for (size_t i = 0; i < n; i++) {
        md_label(days[i].bar.day, lab);
        fprintf(f, "%zu \"%s\" %.6f %.6f %s %s\n", i, i % step == 0 ? lab : "",
                days[i].bar.adj_close, 100.0 * days[i].cumret, days[i].action == 'B' ? "1" : "NaN",
                days[i].action == 'S' ? "1" : "NaN");
    }
    fputs("EOD\n", f);
    fprintf(f, "set xrange [-0.5:%.1f]\n", (double)n - 0.5);
    fputs("set multiplot layout 2,1 title ", f);
    gp_quote(f, title);
    fputc('\n', f);
    fputs("set grid lc rgb '#dddddd'\n"
          "set xtics rotate by -45 nomirror\n"
          "set ytics nomirror\n"
          "set key top left box opaque\n"
          "set ylabel 'adjusted close'\n"
          "set tmargin 2\n"
          "plot $days using 1:3:xtic(2) with lines lw 2 lc rgb '#1f77b4' title 'adjusted close', "
          "\\\n"
          "     $days using 1:($5*$3) with points pt 9 ps 2 lc rgb '#2ca02c' title 'BUY', \\\n"
          "     $days using 1:($6*$3) with points pt 11 ps 2 lc rgb '#d62728' title 'SELL'\n"
          "set ylabel 'cumulative return (%)'\n"
          "plot $days using 1:4:xtic(2) with lines lw 2 lc rgb '#ff7f0e' "
          "title 'cumulative return (%)', 0 with lines dt 2 lc rgb '#888888' notitle\n"
          "unset multiplot\n",
          f);
    return mem_close(f, &s);
}

int fa_chart_trading(const struct fa_chart_trade *days, size_t n, const char *title,
                     unsigned char **png, size_t *len)
{
    return draw(trading_script(days, n, title), FA_CHART_TRADING_W, FA_CHART_TRADING_H, NULL, png,
                len);
}

int fa_chart_trading_file(const struct fa_chart_trade *days, size_t n, const char *title,
                          const char *path)
{
    return draw(trading_script(days, n, title), FA_CHART_TRADING_W, FA_CHART_TRADING_H, path, NULL,
                NULL);
}

char *fa_chart_trading_text(const struct fa_chart_trade *days, size_t n)
{
    char *s = NULL, date[11];
    size_t sl = 0, trades = 0, best = 0, worst = 0;
    FILE *f = mem_open(&s, &sl);

    if (n == 0) {
        fputs("No trading history is available for the chart.", f);
        return mem_close(f, &s);
    }
    fprintf(f, "Trading chart in words (%zu days, %s to ", n,
            fa_date_format(days[0].bar.day, date));
    fprintf(f, "%s):\n", fa_date_format(days[n - 1].bar.day, date));
    for (size_t i = 0; i < n; i++) {
        if (days[i].cumret > days[best].cumret)
            best = i;
        if (days[i].cumret < days[worst].cumret)
            worst = i;
        if (!days[i].action)
            continue;
        trades++;
        fprintf(f, "- %s %s at adjusted close %.2f (cumulative return then %+.2f%%)\n",
                fa_date_format(days[i].bar.day, date), days[i].action == 'B' ? "BUY" : "SELL",
                days[i].bar.adj_close, 100.0 * days[i].cumret);
    }
    if (!trades)
        fputs("- no trades in this period\n", f);
    fprintf(f,
            "Adjusted close went from %.2f to %.2f (%+.2f%%). Cumulative return: %+.2f%% at the "
            "end; best %+.2f%% on ",
            days[0].bar.adj_close, days[n - 1].bar.adj_close,
            days[0].bar.adj_close > 0
                ? 100.0 * (days[n - 1].bar.adj_close / days[0].bar.adj_close - 1)
                : 0.0,
            100.0 * days[n - 1].cumret, 100.0 * days[best].cumret);
    fprintf(f, "%s, ", fa_date_format(days[best].bar.day, date));
    fprintf(f, "worst %+.2f%% on %s.", 100.0 * days[worst].cumret,
            fa_date_format(days[worst].bar.day, date));
    return mem_close(f, &s);
}
