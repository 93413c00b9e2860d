/* fa_indicator.c: FinAgent's indicators on a window of bars (contract in
 * fa_indicator.h). */
#include <math.h>

#include "fa_indicator.h"
#include "fa_banned.h"

void fa_ind_ema(const double *x, size_t n, double span, double *out)
{
    if (n == 0)
        return;
    double a = 2.0 / (span + 1.0), v = x[0];
    out[0] = v;
    for (size_t i = 1; i < n; i++) {
        v = (1 - a) * v + a * x[i];
        out[i] = v;
    }
}

static size_t span_of(size_t n, size_t len)
{
    if (len == 0)
        len = 1;
    return len < n ? len : n;
}

double fa_ind_sma(const double *x, size_t n, size_t len)
{
    size_t m = span_of(n, len);
    if (m == 0)
        return NAN;
    double s = 0;
    for (size_t i = n - m; i < n; i++)
        s += x[i];
    return s / (double)m;
}

void fa_ind_mean_sd(const double *x, size_t n, size_t len, double *mean, double *sd)
{
    size_t m = span_of(n, len);
    double mu = fa_ind_sma(x, n, len), s = 0;
    for (size_t i = n - m; i < n; i++)
        s += (x[i] - mu) * (x[i] - mu);
    *mean = mu;
    *sd = m >= 2 ? sqrt(s / (double)(m - 1)) : 0;
}

double fa_ind_zscore(const double *x, size_t n, size_t len)
{
    double mu, sd;
    if (n == 0)
        return 0;
    fa_ind_mean_sd(x, n, len, &mu, &sd);
    return sd > 0 ? (x[n - 1] - mu) / sd : 0;
}

void fa_ind_macd(const double *c, size_t n, double fast, double slow, double sigspan, double *macd,
                 double *sig)
{
    if (n == 0)
        return;
    /* two passes with one recursion each, no scratch buffer needed: the
     * slow EMA is kept in a scalar while macd holds the fast EMA */
    fa_ind_ema(c, n, fast, macd);
    double a = 2.0 / (slow + 1.0), v = c[0];
    macd[0] -= v;
    for (size_t i = 1; i < n; i++) {
        v = (1 - a) * v + a * c[i];
        macd[i] -= v;
    }
    fa_ind_ema(macd, n, sigspan, sig);
}

void fa_ind_rsi(const double *c, size_t n, double p, double *out)
{
    double u = 0, d = 0, w = 1.0 / p;
    for (size_t i = 0; i < n; i++) {
        double up = 0, dn = 0;
        if (i > 0) {
            double ch = c[i] - c[i - 1];
            up = ch > 0 ? ch : 0;
            dn = ch < 0 ? -ch : 0;
        }
        u = (1 - w) * u + w * up;
        d = (1 - w) * d + w * dn;
        out[i] = d == 0 ? 100 : 100 - 100 / (1 + u / d);
    }
}

void fa_ind_rsv(const double *h, const double *l, const double *c, size_t n, size_t len,
                double *out)
{
    for (size_t i = 0; i < n; i++) {
        size_t m = span_of(i + 1, len);
        double hh = h[i], ll = l[i];
        for (size_t k = i + 1 - m; k <= i; k++) {
            if (h[k] > hh)
                hh = h[k];
            if (l[k] < ll)
                ll = l[k];
        }
        out[i] = hh > ll ? 100 * (c[i] - ll) / (hh - ll) : 50;
    }
}

double fa_ind_stoch_k(const double *h, const double *l, const double *c, size_t n, size_t len)
{
    if (n == 0)
        return 50;
    size_t m = span_of(n, len);
    double hh = h[n - 1], ll = l[n - 1];
    for (size_t k = n - m; k < n; k++) {
        if (h[k] > hh)
            hh = h[k];
        if (l[k] < ll)
            ll = l[k];
    }
    return hh > ll ? 100 * (c[n - 1] - ll) / (hh - ll) : 50;
}

/* Trailing mean of len values ending at each i, into out (not aliasing x). */
static void trailing_mean(const double *x, size_t n, size_t len, double *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = fa_ind_sma(x, i + 1, len);
}

void fa_ind_kdj(const double *h, const double *l, const double *c, size_t n, size_t ilong,
                size_t isig, double *k, double *d, double *j)
{
    /* j holds the RSV until the end */
    fa_ind_rsv(h, l, c, n, ilong, j);
    trailing_mean(j, n, isig, k);
    trailing_mean(k, n, isig, d);
    for (size_t i = 0; i < n; i++)
        j[i] = 3 * k[i] - 2 * d[i];
}
