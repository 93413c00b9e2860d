/* Unit tests for fa_indicator: every indicator against values worked out
 * by hand on tiny series (the arithmetic is in the comments) and, on a
 * longer series, against a second method (closed-form sums instead of
 * recursions). */
#include <math.h>
#include <stdlib.h>

#include "fa_indicator.h"
#include "tap.h"
#include "fa_banned.h"

#define TOL 1e-9

/* EMA by its closed form: (1-a)^n x0 + sum_{i=1..n} a (1-a)^(n-i) x_i. */
static double ema_closed(const double *x, size_t n, double span)
{
    double a = 2.0 / (span + 1), s = pow(1 - a, (double)(n - 1)) * x[0];
    for (size_t i = 1; i < n; i++)
        s += a * pow(1 - a, (double)(n - 1 - i)) * x[i];
    return s;
}

/* Wilder average by its closed form from 0: sum_{i=1..n} w (1-w)^(n-i) m_i. */
static double wilder_closed(const double *m, size_t n, double p)
{
    double w = 1 / p, s = 0;
    for (size_t i = 1; i < n; i++)
        s += w * pow(1 - w, (double)(n - 1 - i)) * m[i];
    return s;
}

int main(void)
{
    double out[32], k[32], d[32], j[32], macd[32], sig[32];

    /* EMA span 3 (a = 0.5) of 1,2,3: 1; 0.5*1+0.5*2 = 1.5; 0.5*1.5+0.5*3 = 2.25 */
    double x3[] = {1, 2, 3};
    fa_ind_ema(x3, 3, 3, out);
    is_num(out[0], 1, TOL, "ema starts at x[0]");
    is_num(out[1], 1.5, TOL, "ema[1] = 1.5");
    is_num(out[2], 2.25, TOL, "ema[2] = 2.25");

    /* MACD with fast span 1 (a = 1: the close itself), slow span 3, signal
     * span 3: fast 1,2,3; slow 1,1.5,2.25; macd 0,0.5,0.75; signal (a=0.5)
     * 0, 0.25, 0.5 */
    fa_ind_macd(x3, 3, 1, 3, 3, macd, sig);
    is_num(macd[1], 0.5, TOL, "macd[1] = 0.5");
    is_num(macd[2], 0.75, TOL, "macd[2] = 0.75");
    is_num(sig[1], 0.25, TOL, "signal[1] = 0.25");
    is_num(sig[2], 0.5, TOL, "signal[2] = 0.5");

    /* RSI with p = 2 (w = 0.5) on 10,12,11,13: up 0,2,0,2; down 0,0,1,0;
     * U 0,1,0.5,1.25; D 0,0,0.5,0.25; RSI 100 (D=0), 100, 100-100/2 = 50,
     * 100-100/(1+5) = 83.333... */
    double c4[] = {10, 12, 11, 13};
    fa_ind_rsi(c4, 4, 2, out);
    is_num(out[0], 100, TOL, "rsi is 100 while no down move");
    is_num(out[1], 100, TOL, "rsi[1] = 100");
    is_num(out[2], 50, TOL, "rsi[2] = 50");
    is_num(out[3], 100 - 100 / 6.0, TOL, "rsi[3] = 83.33");

    /* KDJ(ilong 2, isig 2) on H 10,12,11,13 L 8,9,9,10 C 9,11,10,12:
     * RSV 100(9-8)/(10-8) = 50; 100(11-8)/(12-8) = 75; 100(10-9)/(12-9) =
     * 33.33; 100(12-9)/(13-9) = 75. K (mean of 2): 50, 62.5, 54.1667,
     * 54.1667. D: 50, 56.25, 58.3333, 54.1667. J = 3K-2D: 50, 75, 45.8333,
     * 54.1667. */
    double h4[] = {10, 12, 11, 13}, l4[] = {8, 9, 9, 10}, cc[] = {9, 11, 10, 12};
    fa_ind_rsv(h4, l4, cc, 4, 2, out);
    is_num(out[0], 50, TOL, "rsv[0] on one bar");
    is_num(out[2], 100.0 / 3, TOL, "rsv[2] = 33.33");
    fa_ind_kdj(h4, l4, cc, 4, 2, 2, k, d, j);
    is_num(k[1], 62.5, TOL, "K[1] = 62.5");
    is_num(k[3], 325.0 / 6, TOL, "K[3] = 54.1667");
    is_num(d[1], 56.25, TOL, "D[1] = 56.25");
    is_num(d[2], 175.0 / 3, TOL, "D[2] = 58.3333");
    is_num(j[1], 75, TOL, "J[1] = 75");
    is_num(j[2], 137.5 / 3, TOL, "J[2] = 45.8333");
    is_num(j[3], 325.0 / 6, TOL, "J[3] = 54.1667");

    /* %K over 3 bars: HH 13, LL 9, C 12: 100*3/4 = 75 */
    is_num(fa_ind_stoch_k(h4, l4, cc, 4, 3), 75, TOL, "%K = 75");
    /* z over the last 3 closes 11,10,12: mean 11, sample sd 1: z = 1 */
    is_num(fa_ind_zscore(cc, 4, 3), 1, TOL, "z-score = 1");
    /* Bollinger over 9,11,10,12: mean 10.5, squares 2.25+.25+.25+2.25 = 5,
     * sample sd sqrt(5/3) */
    double mu, sd;
    fa_ind_mean_sd(cc, 4, 14, &mu, &sd);
    is_num(mu, 10.5, TOL, "bollinger mean uses the bars there are");
    is_num(sd, sqrt(5.0 / 3), TOL, "bollinger sd is the sample sd");
    is_num(fa_ind_sma(cc, 4, 2), 11, TOL, "sma of the last 2 = 11");

    /* flat bars: no range, no spread */
    double flat[] = {5, 5, 5, 5};
    is_num(fa_ind_stoch_k(flat, flat, flat, 4, 14), 50, TOL, "%K is 50 when high = low");
    is_num(fa_ind_zscore(flat, 4, 14), 0, TOL, "z-score is 0 when sd = 0");
    fa_ind_rsi(flat, 4, 14, out);
    is_num(out[3], 100, TOL, "rsi is 100 with no down moves");

    /* A longer series against closed forms (span 6 and 14, RSI 14). */
    double c20[20], up[20], dn[20];
    for (int i = 0; i < 20; i++)
        c20[i] = 100 + 10 * sin(i * 0.7) + i * 0.3;
    fa_ind_ema(c20, 20, 6, out);
    is_num(out[19], ema_closed(c20, 20, 6), 1e-9, "ema(6) matches its closed form");
    fa_ind_macd(c20, 20, 6, 14, 9, macd, sig);
    is_num(macd[19], ema_closed(c20, 20, 6) - ema_closed(c20, 20, 14), 1e-9,
           "macd(6,14) matches the closed forms");
    double m20[20];
    for (int i = 0; i < 20; i++)
        m20[i] = ema_closed(c20, (size_t)i + 1, 6) - ema_closed(c20, (size_t)i + 1, 14);
    is_num(sig[19], ema_closed(m20, 20, 9), 1e-9, "signal(9) matches its closed form");
    up[0] = dn[0] = 0;
    for (int i = 1; i < 20; i++) {
        up[i] = fmax(c20[i] - c20[i - 1], 0);
        dn[i] = fmax(c20[i - 1] - c20[i], 0);
    }
    double u = wilder_closed(up, 20, 14), dd = wilder_closed(dn, 20, 14);
    fa_ind_rsi(c20, 20, 14, out);
    is_num(out[19], 100 - 100 / (1 + u / dd), 1e-9, "rsi(14) matches its closed form");
    /* the window restarts the recursion: the last 15 bars alone */
    fa_ind_ema(c20 + 5, 15, 6, out);
    is_num(out[14], ema_closed(c20 + 5, 15, 6), 1e-9, "ema on a window starts at its first bar");
    ok(fabs(out[14] - ema_closed(c20, 20, 6)) > 1e-6, "a window gives another value than all");
    return tap_done();
}
