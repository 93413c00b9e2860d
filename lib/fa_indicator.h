/* fa_indicator.h: technical indicators over a window of daily bars, as
 * FinAgent's rule strategies define them (pure functions on arrays).
 *
 * Every function reads x[0..n-1] (oldest first, x[n-1] = today) and
 * writes out[0..n-1] when it produces a series. Recursions start on the
 * window's first bar, so the same bars give the same values whatever came
 * before them (fa-tools --window restarts them every day on purpose).
 * Rolling statistics at the start of the window use the bars there are
 * (min(len, i+1) of them), so no value is ever undefined. None of these
 * functions allocates; none fails given n >= 1 and the lengths >= 1. */
#ifndef FA_INDICATOR_H
#define FA_INDICATOR_H

#include <stddef.h>

/* Exponential moving average with a = 2/(span+1): out[0] = x[0],
 * out[i] = (1-a) out[i-1] + a x[i]. span >= 1. out may alias x. */
void fa_ind_ema(const double *x, size_t n, double span, double *out);

/* Simple mean of the last len values ending at x[n-1] (fewer when n <
 * len). */
double fa_ind_sma(const double *x, size_t n, size_t len);

/* Mean and sample standard deviation (divisor m-1) of the last len values
 * ending at x[n-1] (m = min(len, n) of them; sd = 0 when m < 2). This is
 * the Bollinger middle band and width unit. */
void fa_ind_mean_sd(const double *x, size_t n, size_t len, double *mean, double *sd);

/* z-score of x[n-1] against the mean and sample sd of the last len values
 * (x[n-1] included); 0 when the sd is 0. */
double fa_ind_zscore(const double *x, size_t n, size_t len);

/* MACD line and signal line: macd = EMA_fast(c) - EMA_slow(c), sig =
 * EMA_sigspan(macd) (both with the recursion above). FinAgent: slow 14,
 * sigspan 9. */
void fa_ind_macd(const double *c, size_t n, double fast, double slow, double sigspan, double *macd,
                 double *sig);

/* Wilder's RSI: up[i] = max(c[i]-c[i-1], 0), dn[i] = max(c[i-1]-c[i], 0),
 * up[0] = dn[0] = 0; U[0] = D[0] = 0, U[i] = (1-1/p) U[i-1] + (1/p) up[i]
 * (same for D); rsi = 100 - 100/(1+U/D), and 100 when D = 0. p = 14 in
 * FinAgent. */
void fa_ind_rsi(const double *c, size_t n, double p, double *out);

/* Raw stochastic value at each bar: 100 (c - LL)/(HH - LL), HH and LL the
 * highest high and lowest low of the last len bars ending there; 50 when
 * HH = LL. */
void fa_ind_rsv(const double *h, const double *l, const double *c, size_t n, size_t len,
                double *out);

/* Stochastic %K of today: the last value of fa_ind_rsv over len bars. */
double fa_ind_stoch_k(const double *h, const double *l, const double *c, size_t n, size_t len);

/* KDJ as FinAgent defines it: RSV over ilong bars, K = mean of RSV over
 * the last isig bars, D = mean of K over the last isig bars, J = 3K - 2D.
 * k, d, j each hold n values. */
void fa_ind_kdj(const double *h, const double *l, const double *c, size_t n, size_t ilong,
                size_t isig, double *k, double *d, double *j);

#endif
