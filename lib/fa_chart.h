/* fa_chart.h: FinAgent's two charts (Kline and trading), as PNG via gnuplot or as text.
 *
 * The Kline chart is what the low-level reflection looks at: candlesticks
 * of unadjusted OHLC, a 5-day moving average, Bollinger bands (5 days, 2
 * standard deviations) and a marker on today, about 600x400. The trading
 * chart is what the high-level reflection looks at: the adjusted close
 * with BUY and SELL markers above a panel of the cumulative return in
 * percent, about 1000x800. Both are deterministic (same bars, same bytes),
 * so a vision call on them stays cacheable. The *_text functions describe
 * the same chart in words and numbers, for --no-charts and for models
 * without vision. */
#ifndef FA_CHART_H
#define FA_CHART_H

#include <stdbool.h>
#include <stddef.h>

#define FA_CHART_KLINE_W   600
#define FA_CHART_KLINE_H   400
#define FA_CHART_TRADING_W 1000
#define FA_CHART_TRADING_H 800

/* One bar (a fa_date day number and prices; adj_close = close when the
 * source has no adjustment). A close-only bar (the source gives one price
 * a day: no open, high or low) holds the close in open, high and low too,
 * and the charts show it as what it is: a close, never a candle. */
struct fa_chart_bar {
    int day;
    double open, high, low, close, adj_close;
    bool close_only;
};

/* One trading day of the trading chart: its bar, the action the account
 * took ('B' buy, 'S' sell, 0 none) and the cumulative return so far as a
 * fraction (0.05 for +5%). */
struct fa_chart_trade {
    struct fa_chart_bar bar;
    char action;
    double cumret;
};

/* Moving average and Bollinger bands (sample standard deviation) over the
 * `window` bars ending at bars[i] (fewer at the start). */
void fa_chart_bollinger(const struct fa_chart_bar *bars, size_t i, size_t window, double k,
                        double *mean, double *upper, double *lower);

/* Whether any of bars[first..n) is close-only: the Kline chart of those
 * bars is then a line of closes (with the same average and bands), and
 * says so, instead of candlesticks. */
bool fa_chart_close_only(const struct fa_chart_bar *bars, size_t n, size_t first);

/* The Kline chart of bars[first..n) (bars before first only feed the
 * moving average and bands), with the marker on bars[today] (first <=
 * today < n; bars after today appear only in a hindsight chart). title
 * goes on top. Stores a malloc'd PNG in *png, its size in *len. Returns 0, -1 with
 * fa_err set, or FA_GNUPLOT_MISSING (see fa_gnuplot.h). */
int fa_chart_kline(const struct fa_chart_bar *bars, size_t n, size_t first, size_t today,
                   const char *title, unsigned char **png, size_t *len)
    __attribute__((warn_unused_result));

/* The same chart drawn into the file at path (atomically): now, or by
 * the drawer a program started (fa_gnuplot_write_later). Returns 0,
 * FA_GNUPLOT_MISSING, or -1 with fa_err set. */
int fa_chart_kline_file(const struct fa_chart_bar *bars, size_t n, size_t first, size_t today,
                        const char *title, const char *path) __attribute__((warn_unused_result));

/* The same chart in text: one line per shown bar (date, OHLC, MA5, bands,
 * a mark on today; for close-only bars the close alone, and a first line
 * saying the data has no open, high or low) and a closing sentence on
 * where the close sits in the bands. malloc'd; never NULL (aborts on
 * OOM). */
char *fa_chart_kline_text(const struct fa_chart_bar *bars, size_t n, size_t first, size_t today);

/* The trading chart of days[0..n). Returns as fa_chart_kline. */
int fa_chart_trading(const struct fa_chart_trade *days, size_t n, const char *title,
                     unsigned char **png, size_t *len) __attribute__((warn_unused_result));

/* The same chart into the file at path, as fa_chart_kline_file. */
int fa_chart_trading_file(const struct fa_chart_trade *days, size_t n, const char *title,
                          const char *path) __attribute__((warn_unused_result));

/* The trading chart in text: the trades with their prices, and the
 * cumulative return at the start, the end, its best and its worst.
 * malloc'd; never NULL. */
char *fa_chart_trading_text(const struct fa_chart_trade *days, size_t n);

#endif
