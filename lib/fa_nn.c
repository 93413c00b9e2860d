/* fa_nn.c: the policy/value MLP of fa-policy, its PRNG, Adam and weight
 * files. Everything runs single-threaded in a fixed loop order: a seed
 * gives bit-for-bit the same weights and decisions on every run. */
#include "fa_nn.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "fa_err.h"
#include "fa_simd.h"
#include "fa_banned.h"

/* Same bits with every compiler: GCC keeps floating-point contraction off
 * under -std=c11; clang needs telling (no fused multiply-adds). */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* ---- PRNG ---- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void fa_rng_seed(struct fa_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t fa_rng_next(struct fa_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double fa_rng_uniform(struct fa_rng *r)
{
    return (double)(fa_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t fa_rng_below(struct fa_rng *r, uint64_t n)
{
    uint64_t lim = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = fa_rng_next(r);
    while (x >= lim);
    return x % n;
}

double fa_rng_normal(struct fa_rng *r)
{
    double u1 = 1.0 - fa_rng_uniform(r); /* (0, 1] */
    double u2 = fa_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* ---- network ---- */

struct fa_nn {
    int in_dim, nhidden;
    int trunks; /* 1: the heads share the trunk; 2: the value head has its own */
    int width[FA_NN_MAXLAYERS];
    enum fa_nn_act act;
    size_t np;
    double *p, *g, *m, *v; /* params, grads, Adam moments */
    long adam_t;
    /* offsets of each layer's W into p: trunk layers, then heads; voff:
     * the value trunk's layers (trunks 2) */
    size_t off[FA_NN_MAXLAYERS + 2];
    size_t voff[FA_NN_MAXLAYERS];
    /* forward cache: layer inputs/outputs; a[0] = input copy, a[l+1] =
     * activation of trunk layer l; va, vdelta: the value trunk's (va[0]
     * is a[0]) */
    double *a[FA_NN_MAXLAYERS + 1];
    double *delta[FA_NN_MAXLAYERS + 1];
    double *va[FA_NN_MAXLAYERS + 1];
    double *vdelta[FA_NN_MAXLAYERS + 1];
    double *buf;
    double *in_mu, *in_isd; /* input standardisation, NULL: none */
    /* The first layers' weight gradients wait here: each backward pass
     * leaves its input (pend_x) and the first layers' deltas (pend_d:
     * trunks x width[0] per pass) and pend_flush adds them, pass by pass
     * for each weight, so in the same order and with the same bits as at
     * once, but in one sweep over the largest array instead of one per
     * sample (a minibatch touched it 32 times from memory). */
    double *pend_x, *pend_d;
    int npend, cappend;
    double in_clip; /* its clamp */
};

static int layer_in(const struct fa_nn *nn, int l)
{
    return l == 0 ? nn->in_dim : nn->width[l - 1];
}

static int top_dim(const struct fa_nn *nn)
{
    return nn->nhidden ? nn->width[nn->nhidden - 1] : nn->in_dim;
}

static int nn_alloc(struct fa_nn *nn)
{
    size_t np = 0;
    for (int l = 0; l < nn->nhidden; l++) {
        nn->off[l] = np;
        np += (size_t)nn->width[l] * (size_t)layer_in(nn, l) + (size_t)nn->width[l];
    }
    for (int l = 0; nn->trunks == 2 && l < nn->nhidden; l++) {
        nn->voff[l] = np;
        np += (size_t)nn->width[l] * (size_t)layer_in(nn, l) + (size_t)nn->width[l];
    }
    int h = top_dim(nn);
    nn->off[nn->nhidden] = np;
    np += (size_t)FA_NN_ACTIONS * (size_t)h + FA_NN_ACTIONS;
    nn->off[nn->nhidden + 1] = np;
    np += (size_t)h + 1;
    nn->np = np;
    size_t cache = (size_t)nn->in_dim;
    for (int l = 0; l < nn->nhidden; l++)
        cache += 2 * (size_t)nn->width[l] * (size_t)nn->trunks;
    cache += (size_t)nn->in_dim; /* delta of the input, unused but simple */
    nn->p = calloc(np, sizeof(double));
    nn->g = calloc(np, sizeof(double));
    nn->m = calloc(np, sizeof(double));
    nn->v = calloc(np, sizeof(double));
    nn->buf = calloc(cache, sizeof(double));
    if (!nn->p || !nn->g || !nn->m || !nn->v || !nn->buf) {
        fa_err_set("out of memory for a network of %zu parameters", np);
        return -1;
    }
    double *q = nn->buf;
    nn->a[0] = q;
    q += nn->in_dim;
    nn->delta[0] = q;
    q += nn->in_dim;
    for (int l = 0; l < nn->nhidden; l++) {
        nn->a[l + 1] = q;
        q += nn->width[l];
        nn->delta[l + 1] = q;
        q += nn->width[l];
    }
    nn->va[0] = nn->a[0];
    for (int l = 0; l < nn->nhidden; l++) {
        if (nn->trunks == 2) {
            nn->va[l + 1] = q;
            q += nn->width[l];
            nn->vdelta[l + 1] = q;
            q += nn->width[l];
        } else {
            nn->va[l + 1] = nn->a[l + 1];
            nn->vdelta[l + 1] = nn->delta[l + 1];
        }
    }
    return 0;
}

static struct fa_nn *nn_shape(int in_dim, int nhidden, const int *widths, enum fa_nn_act act,
                              int trunks)
{
    if (in_dim < 1 || in_dim > (1 << 20)) {
        fa_err_set("bad network input dimension %d", in_dim);
        return NULL;
    }
    if (nhidden < 0 || nhidden > FA_NN_MAXLAYERS) {
        fa_err_set("bad number of hidden layers %d (want 0..%d)", nhidden, FA_NN_MAXLAYERS);
        return NULL;
    }
    if (act != FA_NN_TANH && act != FA_NN_RELU) {
        fa_err_set("bad activation %d", (int)act);
        return NULL;
    }
    if (trunks != 1 && trunks != 2) {
        fa_err_set("bad number of trunks %d (want 1 or 2)", trunks);
        return NULL;
    }
    for (int l = 0; l < nhidden; l++)
        if (widths[l] < 1 || widths[l] > FA_NN_MAXWIDTH) {
            fa_err_set("bad layer width %d (want 1..%d)", widths[l], FA_NN_MAXWIDTH);
            return NULL;
        }
    struct fa_nn *nn = calloc(1, sizeof *nn);
    if (!nn) {
        fa_err_set("out of memory");
        return NULL;
    }
    nn->in_dim = in_dim;
    nn->nhidden = nhidden;
    nn->trunks = nhidden ? trunks : 1;
    nn->act = act;
    for (int l = 0; l < nhidden; l++)
        nn->width[l] = widths[l];
    if (nn_alloc(nn) < 0) {
        fa_nn_free(nn);
        return NULL;
    }
    return nn;
}

static void init_layer(double *w, int out, int in, double gain, struct fa_rng *r)
{
    double b = gain * sqrt(6.0 / (double)(in + out));
    for (int i = 0; i < out; i++)
        for (int j = 0; j < in; j++)
            w[(size_t)i * (size_t)in + (size_t)j] = b * (2.0 * fa_rng_uniform(r) - 1.0);
    /* biases (the out values after W) stay 0 */
}

struct fa_nn *fa_nn_new(int in_dim, int nhidden, const int *widths, enum fa_nn_act act,
                        uint64_t seed)
{
    return fa_nn_new_trunks(in_dim, nhidden, widths, act, 1, seed);
}

struct fa_nn *fa_nn_new_trunks(int in_dim, int nhidden, const int *widths, enum fa_nn_act act,
                               int trunks, uint64_t seed)
{
    struct fa_nn *nn = nn_shape(in_dim, nhidden, widths, act, trunks);
    if (!nn)
        return NULL;
    struct fa_rng r;
    fa_rng_seed(&r, seed);
    for (int l = 0; l < nhidden; l++)
        init_layer(nn->p + nn->off[l], nn->width[l], layer_in(nn, l), 1.0, &r);
    for (int l = 0; nn->trunks == 2 && l < nhidden; l++)
        init_layer(nn->p + nn->voff[l], nn->width[l], layer_in(nn, l), 1.0, &r);
    int h = top_dim(nn);
    init_layer(nn->p + nn->off[nhidden], FA_NN_ACTIONS, h, 0.01, &r);
    init_layer(nn->p + nn->off[nhidden + 1], 1, h, 1.0, &r);
    return nn;
}

struct fa_nn *fa_nn_clone(const struct fa_nn *src)
{
    struct fa_nn *nn = nn_shape(src->in_dim, src->nhidden, src->width, src->act, src->trunks);
    if (!nn)
        return NULL;
    memcpy(nn->p, src->p, src->np * sizeof(double));
    if (src->in_mu && fa_nn_set_input_norm(nn, src->in_mu, src->in_isd) < 0) {
        fa_nn_free(nn);
        return NULL;
    }
    nn->in_clip = src->in_clip;
    return nn;
}

int fa_nn_set_input_norm(struct fa_nn *nn, const double *mean, const double *inv_sd)
{
    size_t n = (size_t)nn->in_dim;
    double *mu = malloc(n * sizeof *mu), *isd = malloc(n * sizeof *isd);
    if (!mu || !isd) {
        free(mu);
        free(isd);
        fa_err_set("out of memory");
        return -1;
    }
    memcpy(mu, mean, n * sizeof *mu);
    memcpy(isd, inv_sd, n * sizeof *isd);
    free(nn->in_mu);
    free(nn->in_isd);
    nn->in_mu = mu;
    nn->in_isd = isd;
    nn->in_clip = FA_NN_NORM_CLIP;
    return 0;
}

bool fa_nn_has_input_norm(const struct fa_nn *nn)
{
    return nn->in_mu != NULL;
}

double fa_nn_input_clip(const struct fa_nn *nn)
{
    return nn->in_clip;
}

void fa_nn_set_input_clip(struct fa_nn *nn, double c)
{
    nn->in_clip = c;
}

void fa_nn_free(struct fa_nn *nn)
{
    if (!nn)
        return;
    free(nn->p);
    free(nn->g);
    free(nn->m);
    free(nn->v);
    free(nn->buf);
    free(nn->in_mu);
    free(nn->in_isd);
    free(nn->pend_x);
    free(nn->pend_d);
    free(nn);
}

int fa_nn_in_dim(const struct fa_nn *nn)
{
    return nn->in_dim;
}

int fa_nn_trunks(const struct fa_nn *nn)
{
    return nn->trunks;
}

int fa_nn_nhidden(const struct fa_nn *nn)
{
    return nn->nhidden;
}

int fa_nn_width(const struct fa_nn *nn, int layer)
{
    return layer >= 0 && layer < nn->nhidden ? nn->width[layer] : 0;
}

enum fa_nn_act fa_nn_activation(const struct fa_nn *nn)
{
    return nn->act;
}

const char *fa_nn_act_name(enum fa_nn_act act)
{
    return act == FA_NN_RELU ? "relu" : "tanh";
}

int fa_nn_act_parse(const char *s)
{
    if (!strcmp(s, "tanh"))
        return FA_NN_TANH;
    if (!strcmp(s, "relu"))
        return FA_NN_RELU;
    return -1;
}

size_t fa_nn_nparams(const struct fa_nn *nn)
{
    return nn->np;
}

double *fa_nn_params(struct fa_nn *nn)
{
    return nn->p;
}

/* g[j] += d x[j], j < n: multiplies then adds (never fused), so both
 * paths give the bits of the plain loop. */
static void axpy_scalar(double *g, double d, const double *x, int n)
{
    for (int j = 0; j < n; j++)
        g[j] += d * x[j];
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static void axpy_avx2(double *g, double d, const double *x, int n)
{
    __m256d dv = _mm256_set1_pd(d);
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256d a = _mm256_mul_pd(dv, _mm256_loadu_pd(x + j));
        __m256d b = _mm256_mul_pd(dv, _mm256_loadu_pd(x + j + 4));
        _mm256_storeu_pd(g + j, _mm256_add_pd(_mm256_loadu_pd(g + j), a));
        _mm256_storeu_pd(g + j + 4, _mm256_add_pd(_mm256_loadu_pd(g + j + 4), b));
    }
    axpy_scalar(g + j, d, x + j, n - j);
}
#endif

static void axpy(double *g, double d, const double *x, int n)
{
#if defined(__x86_64__)
    static int path = -1; /* FA_SIMD or the CPU; scalar when FA_SIMD is bad */
    if (path < 0)
        path = fa_simd_resolve(FA_SIMD_AUTO) == FA_SIMD_AVX2 ? FA_SIMD_AVX2 : FA_SIMD_SCALAR;
    if (path == FA_SIMD_AVX2) {
        axpy_avx2(g, d, x, n);
        return;
    }
#endif
    axpy_scalar(g, d, x, n);
}

/* Adds the waiting first-layer weight gradients (see struct fa_nn). */
static void pend_flush(struct fa_nn *nn)
{
    int in = nn->in_dim, w0 = nn->nhidden ? nn->width[0] : 0, T = nn->trunks;
    for (int t = 0; t < T && nn->npend; t++) {
        double *gw = nn->g + (t ? nn->voff[0] : nn->off[0]);
        for (int i = 0; i < w0; i++) {
            double *grow = gw + (size_t)i * (size_t)in;
            for (int s = 0; s < nn->npend; s++) {
                double d = nn->pend_d[((size_t)s * (size_t)T + (size_t)t) * (size_t)w0 + (size_t)i];
                if (d != 0)
                    axpy(grow, d, nn->pend_x + (size_t)s * (size_t)in, in);
            }
        }
    }
    nn->npend = 0;
}

double *fa_nn_grads(struct fa_nn *nn)
{
    pend_flush(nn);
    return nn->g;
}

void fa_nn_zero_grad(struct fa_nn *nn)
{
    nn->npend = 0;
    memset(nn->g, 0, nn->np * sizeof(double));
}

/* y[out] = W x + b */
static void affine(const double *w, int out, int in, const double *x, double *y)
{
    const double *b = w + (size_t)out * (size_t)in;
    int i = 0;
    /* eight rows at a time: independent sums (enough of them to keep the
     * adders busy rather than waiting on each other), each still added in
     * input order, so the bits are those of the plain loop below */
    for (; i + 8 <= out; i += 8) {
        const double *r0 = w + (size_t)i * (size_t)in, *r1 = r0 + in, *r2 = r1 + in, *r3 = r2 + in,
                     *r4 = r3 + in, *r5 = r4 + in, *r6 = r5 + in, *r7 = r6 + in;
        double s0 = b[i], s1 = b[i + 1], s2 = b[i + 2], s3 = b[i + 3], s4 = b[i + 4], s5 = b[i + 5],
               s6 = b[i + 6], s7 = b[i + 7];
        for (int j = 0; j < in; j++) {
            double xj = x[j];
            s0 += r0[j] * xj;
            s1 += r1[j] * xj;
            s2 += r2[j] * xj;
            s3 += r3[j] * xj;
            s4 += r4[j] * xj;
            s5 += r5[j] * xj;
            s6 += r6[j] * xj;
            s7 += r7[j] * xj;
        }
        y[i] = s0;
        y[i + 1] = s1;
        y[i + 2] = s2;
        y[i + 3] = s3;
        y[i + 4] = s4;
        y[i + 5] = s5;
        y[i + 6] = s6;
        y[i + 7] = s7;
    }
    for (; i < out; i++) {
        const double *row = w + (size_t)i * (size_t)in;
        double s = b[i];
        for (int j = 0; j < in; j++)
            s += row[j] * x[j];
        y[i] = s;
    }
}

/* One trunk's layers (offsets off) from a[0] into a[1..nhidden]. */
static void trunk_forward(struct fa_nn *nn, const size_t *off, double *const *a)
{
    for (int l = 0; l < nn->nhidden; l++) {
        double *y = a[l + 1];
        int out = nn->width[l];
        affine(nn->p + off[l], out, layer_in(nn, l), a[l], y);
        for (int i = 0; i < out; i++)
            y[i] = nn->act == FA_NN_TANH ? tanh(y[i]) : (y[i] > 0 ? y[i] : 0);
    }
}

void fa_nn_forward(struct fa_nn *nn, const double *x, double *logits, double *value)
{
    if (nn->in_mu) {
        for (int i = 0; i < nn->in_dim; i++) {
            double z = (x[i] - nn->in_mu[i]) * nn->in_isd[i], c = nn->in_clip;
            nn->a[0][i] = z > c ? c : z < -c ? -c : z;
        }
    } else {
        memcpy(nn->a[0], x, (size_t)nn->in_dim * sizeof(double));
    }
    trunk_forward(nn, nn->off, nn->a);
    int h = top_dim(nn);
    affine(nn->p + nn->off[nn->nhidden], FA_NN_ACTIONS, h, nn->a[nn->nhidden], logits);
    if (!value)
        return;
    if (nn->trunks == 2)
        trunk_forward(nn, nn->voff, nn->va);
    affine(nn->p + nn->off[nn->nhidden + 1], 1, h, nn->va[nn->nhidden], value);
}

/* Adds the gradient of a layer y = W x + b given dy into gW, gb and, when
 * dx is not NULL, ADDS W^T dy into dx. */
static void affine_back(const double *w, double *gw, int out, int in, const double *x,
                        const double *dy, double *dx)
{
    double *gb = gw + (size_t)out * (size_t)in;
    for (int i = 0; i < out; i++) {
        double d = dy[i];
        if (d == 0)
            continue;
        double *grow = gw + (size_t)i * (size_t)in;
        const double *row = w + (size_t)i * (size_t)in;
        for (int j = 0; j < in; j++)
            grow[j] += d * x[j];
        gb[i] += d;
        if (dx)
            for (int j = 0; j < in; j++)
                dx[j] += d * row[j];
    }
}

/* Back through one trunk's layers (offsets off, activations a), given
 * dL/d(its top) in delta[nhidden]. */
static void trunk_backward(struct fa_nn *nn, const size_t *off, double *const *a,
                           double *const *delta, double *pend_d)
{
    for (int l = nn->nhidden - 1; l >= 0; l--) {
        double *d = delta[l + 1];
        const double *y = a[l + 1];
        int out = nn->width[l];
        for (int i = 0; i < out; i++)
            d[i] *= nn->act == FA_NN_TANH ? 1.0 - y[i] * y[i] : (y[i] > 0 ? 1.0 : 0.0);
        double *dx = l > 0 ? delta[l] : NULL;
        if (dx)
            memset(dx, 0, (size_t)layer_in(nn, l) * sizeof(double));
        if (l == 0 && pend_d) {
            /* the biases now, the weights at pend_flush */
            double *gb = nn->g + off[0] + (size_t)out * (size_t)nn->in_dim;
            for (int i = 0; i < out; i++) {
                pend_d[i] = d[i];
                if (d[i] != 0)
                    gb[i] += d[i];
            }
        } else {
            affine_back(nn->p + off[l], nn->g + off[l], out, layer_in(nn, l), a[l], d, dx);
        }
    }
}

/* Room for one more backward pass's first-layer inputs and deltas: the
 * slot's delta array, or NULL when there is no room (out of memory: the
 * waiting ones are added and this pass adds its own at once). */
static double *pend_slot(struct fa_nn *nn)
{
    if (!nn->nhidden)
        return NULL;
    size_t in = (size_t)nn->in_dim, dw = (size_t)nn->trunks * (size_t)nn->width[0];
    if (nn->npend == nn->cappend) {
        int cap = nn->cappend ? 2 * nn->cappend : 32;
        double *x = realloc(nn->pend_x, (size_t)cap * in * sizeof(double));
        if (x)
            nn->pend_x = x;
        double *d = x ? realloc(nn->pend_d, (size_t)cap * dw * sizeof(double)) : NULL;
        if (d)
            nn->pend_d = d;
        if (!x || !d) {
            pend_flush(nn);
            return NULL;
        }
        nn->cappend = cap;
    }
    memcpy(nn->pend_x + (size_t)nn->npend * in, nn->a[0], in * sizeof(double));
    return nn->pend_d + (size_t)nn->npend++ * dw;
}

void fa_nn_backward(struct fa_nn *nn, const double *dlogits, double dvalue)
{
    int L = nn->nhidden;
    int h = top_dim(nn);
    double *dtop = L ? nn->delta[L] : NULL, *vtop = L ? nn->vdelta[L] : NULL;
    if (dtop)
        memset(dtop, 0, (size_t)h * sizeof(double));
    if (vtop && vtop != dtop)
        memset(vtop, 0, (size_t)h * sizeof(double));
    affine_back(nn->p + nn->off[L], nn->g + nn->off[L], FA_NN_ACTIONS, h, nn->a[L], dlogits, dtop);
    double dv[1] = {dvalue};
    affine_back(nn->p + nn->off[L + 1], nn->g + nn->off[L + 1], 1, h, nn->va[L], dv, vtop);
    double *pd = pend_slot(nn);
    trunk_backward(nn, nn->off, nn->a, nn->delta, pd);
    if (nn->trunks == 2)
        trunk_backward(nn, nn->voff, nn->va, nn->vdelta, pd ? pd + nn->width[0] : NULL);
}

void fa_nn_scale_grad(struct fa_nn *nn, double s)
{
    pend_flush(nn);
    for (size_t i = 0; i < nn->np; i++)
        nn->g[i] *= s;
}

double fa_nn_clip_grad(struct fa_nn *nn, double max_norm)
{
    pend_flush(nn);
    double ss = 0;
    for (size_t i = 0; i < nn->np; i++)
        ss += nn->g[i] * nn->g[i];
    double norm = sqrt(ss);
    if (max_norm > 0 && norm > max_norm)
        fa_nn_scale_grad(nn, max_norm / (norm + 1e-6));
    return norm;
}

void fa_nn_adam_step(struct fa_nn *nn, double lr)
{
    pend_flush(nn);
    const double b1 = 0.9, b2 = 0.999, eps = 1e-5;
    nn->adam_t++;
    double c1 = 1.0 - pow(b1, (double)nn->adam_t);
    double c2 = 1.0 - pow(b2, (double)nn->adam_t);
    for (size_t i = 0; i < nn->np; i++) {
        double g = nn->g[i];
        nn->m[i] = b1 * nn->m[i] + (1 - b1) * g;
        nn->v[i] = b2 * nn->v[i] + (1 - b2) * g * g;
        double mh = nn->m[i] / c1, vh = nn->v[i] / c2;
        nn->p[i] -= lr * mh / (sqrt(vh) + eps);
    }
}

double *fa_nn_adam_m(struct fa_nn *nn)
{
    return nn->m;
}

double *fa_nn_adam_v(struct fa_nn *nn)
{
    return nn->v;
}

long fa_nn_adam_steps(const struct fa_nn *nn)
{
    return nn->adam_t;
}

void fa_nn_adam_set_steps(struct fa_nn *nn, long t)
{
    nn->adam_t = t;
}

/* ---- masked softmax ---- */

int fa_nn_softmax(const double *logits, unsigned mask, double *p, double *logp)
{
    double mx = -INFINITY;
    for (int a = 0; a < FA_NN_ACTIONS; a++)
        if (mask & (1u << a) && logits[a] > mx)
            mx = logits[a];
    if (mx == -INFINITY) {
        fa_err_set("no legal action");
        return -1;
    }
    double s = 0;
    for (int a = 0; a < FA_NN_ACTIONS; a++)
        if (mask & (1u << a))
            s += exp(logits[a] - mx);
    double lse = mx + log(s);
    for (int a = 0; a < FA_NN_ACTIONS; a++) {
        if (mask & (1u << a)) {
            logp[a] = logits[a] - lse;
            p[a] = exp(logp[a]);
        } else {
            logp[a] = -INFINITY;
            p[a] = 0;
        }
    }
    return 0;
}

int fa_nn_sample(const double *p, unsigned mask, struct fa_rng *r)
{
    double u = fa_rng_uniform(r), c = 0;
    int last = -1;
    for (int a = 0; a < FA_NN_ACTIONS; a++) {
        if (!(mask & (1u << a)) || p[a] <= 0)
            continue;
        last = a;
        c += p[a];
        if (u < c)
            return a;
    }
    return last >= 0 ? last : fa_nn_argmax(p, mask); /* rounding: c < 1 */
}

int fa_nn_argmax(const double *p, unsigned mask)
{
    int best = -1;
    for (int a = 0; a < FA_NN_ACTIONS; a++)
        if (mask & (1u << a) && (best < 0 || p[a] > p[best]))
            best = a;
    return best;
}

/* ---- weight files ---- */

static const char nn_magic[8] = {'F', 'A', 'N', 'N', '0', '0', '0', '1'};
/* the same, followed by the input standardisation (in_dim means, then
 * in_dim inverse standard deviations) */
static const char nn_magic2[8] = {'F', 'A', 'N', 'N', '0', '0', '0', '2'};
/* in_dim, nhidden, act, then a word of flags (NN_NORM: the standardisation
 * follows the parameters; NN_VTRUNK: the value head has its own trunk,
 * whose layers follow the policy trunk's), then as FANN0001 */
static const char nn_magic3[8] = {'F', 'A', 'N', 'N', '0', '0', '0', '3'};
#define NN_NORM   1u
#define NN_VTRUNK 2u

static void put_u32(unsigned char *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *b)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)b[i] << (8 * i);
    return v;
}

static void put_u64(unsigned char *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

int fa_nn_write(const struct fa_nn *nn, FILE *f, const char *name)
{
    unsigned char b[8];
    bool v3 = nn->trunks == 2 || (nn->in_mu && nn->in_clip != FA_NN_NORM_CLIP_V2);
    if (fwrite(v3 ? nn_magic3 : nn->in_mu ? nn_magic2 : nn_magic, 1, 8, f) != 8)
        goto ioerr;
    uint32_t hdr[4] = {(uint32_t)nn->in_dim, (uint32_t)nn->nhidden, (uint32_t)nn->act,
                       (nn->in_mu ? NN_NORM : 0) | (nn->trunks == 2 ? NN_VTRUNK : 0)};
    for (int i = 0; i < (v3 ? 4 : 3); i++) {
        put_u32(b, hdr[i]);
        if (fwrite(b, 1, 4, f) != 4)
            goto ioerr;
    }
    for (int l = 0; l < nn->nhidden; l++) {
        put_u32(b, (uint32_t)nn->width[l]);
        if (fwrite(b, 1, 4, f) != 4)
            goto ioerr;
    }
    put_u64(b, (uint64_t)nn->np);
    if (fwrite(b, 1, 8, f) != 8)
        goto ioerr;
    for (size_t i = 0; i < nn->np; i++) {
        uint64_t u;
        memcpy(&u, &nn->p[i], 8);
        put_u64(b, u);
        if (fwrite(b, 1, 8, f) != 8)
            goto ioerr;
    }
    for (int k = 0; nn->in_mu && k < 2; k++) {
        const double *a = k ? nn->in_isd : nn->in_mu;
        for (int i = 0; i < nn->in_dim; i++) {
            uint64_t u;
            memcpy(&u, &a[i], 8);
            put_u64(b, u);
            if (fwrite(b, 1, 8, f) != 8)
                goto ioerr;
        }
    }
    if (v3 && nn->in_mu) {
        uint64_t u;
        memcpy(&u, &nn->in_clip, 8);
        put_u64(b, u);
        if (fwrite(b, 1, 8, f) != 8)
            goto ioerr;
    }
    return 0;
ioerr:
    fa_err_sys("write error '%s'", name);
    return -1;
}

/* The parameter count of a shape read from a file, or 0 when a width is
 * not valid (nn_shape then says why). */
static size_t shape_params(uint32_t in_dim, uint32_t nhidden, const int *widths, int trunks)
{
    size_t np = 0, prev = in_dim;
    for (uint32_t l = 0; l < nhidden; l++) {
        if (widths[l] < 1)
            return 0;
        np += ((size_t)widths[l] * prev + (size_t)widths[l]) * (size_t)trunks;
        prev = (size_t)widths[l];
    }
    return np + (size_t)FA_NN_ACTIONS * prev + FA_NN_ACTIONS + prev + 1;
}

struct fa_nn *fa_nn_read(FILE *f, const char *name)
{
    unsigned char b[8];
    if (fread(b, 1, 8, f) != 8 ||
        (memcmp(b, nn_magic, 8) && memcmp(b, nn_magic2, 8) && memcmp(b, nn_magic3, 8))) {
        fa_err_set("'%s': not an fa-policy weight file", name);
        return NULL;
    }
    bool v3 = !memcmp(b, nn_magic3, 8);
    uint32_t hdr[4] = {0, 0, 0, !memcmp(b, nn_magic2, 8) ? NN_NORM : 0};
    for (int i = 0; i < (v3 ? 4 : 3); i++) {
        if (fread(b, 1, 4, f) != 4)
            goto trunc;
        hdr[i] = get_u32(b);
    }
    bool norm = hdr[3] & NN_NORM;
    int trunks = hdr[3] & NN_VTRUNK ? 2 : 1;
    if (hdr[1] > FA_NN_MAXLAYERS || hdr[0] > (1u << 20) || hdr[2] > 1 ||
        hdr[3] > (NN_NORM | NN_VTRUNK) || (trunks == 2 && hdr[1] == 0)) {
        fa_err_set("'%s': bad network shape", name);
        return NULL;
    }
    int widths[FA_NN_MAXLAYERS];
    for (uint32_t l = 0; l < hdr[1]; l++) {
        if (fread(b, 1, 4, f) != 4)
            goto trunc;
        uint32_t w = get_u32(b);
        widths[l] = w > FA_NN_MAXWIDTH ? -1 : (int)w;
    }
    /* A seekable stream must hold the shape's parameters before they are
     * allocated: a damaged 50-byte file must not ask for gigabytes. */
    size_t want = shape_params(hdr[0], hdr[1], widths, trunks);
    off_t here = ftello(f), end;
    if (want && here >= 0 && fseeko(f, 0, SEEK_END) == 0 && (end = ftello(f)) >= 0) {
        if (fseeko(f, here, SEEK_SET) != 0) {
            fa_err_sys("read error '%s'", name);
            return NULL;
        }
        if ((uint64_t)(end - here) <
            8 + (uint64_t)want * 8 + (norm ? 16 * (uint64_t)hdr[0] + (v3 ? 8 : 0) : 0))
            goto trunc;
    }
    struct fa_nn *nn = nn_shape((int)hdr[0], (int)hdr[1], widths, (enum fa_nn_act)hdr[2], trunks);
    if (!nn) {
        fa_err_set("'%s': bad network shape", name);
        return NULL;
    }
    if (fread(b, 1, 8, f) != 8) {
        fa_nn_free(nn);
        goto trunc;
    }
    if (get_u64(b) != (uint64_t)nn->np) {
        fa_err_set("'%s': parameter count does not match the shape", name);
        fa_nn_free(nn);
        return NULL;
    }
    for (size_t i = 0; i < nn->np; i++) {
        if (fread(b, 1, 8, f) != 8) {
            fa_nn_free(nn);
            goto trunc;
        }
        uint64_t u = get_u64(b);
        memcpy(&nn->p[i], &u, 8);
        if (!isfinite(nn->p[i])) {
            fa_err_set("'%s': parameter %zu is not finite", name, i);
            fa_nn_free(nn);
            return NULL;
        }
    }
    if (norm) {
        nn->in_mu = malloc((size_t)nn->in_dim * sizeof(double));
        nn->in_isd = malloc((size_t)nn->in_dim * sizeof(double));
        if (!nn->in_mu || !nn->in_isd) {
            fa_err_set("out of memory");
            fa_nn_free(nn);
            return NULL;
        }
        for (int k = 0; k < 2; k++) {
            double *a = k ? nn->in_isd : nn->in_mu;
            for (int i = 0; i < nn->in_dim; i++) {
                if (fread(b, 1, 8, f) != 8) {
                    fa_nn_free(nn);
                    goto trunc;
                }
                uint64_t u = get_u64(b);
                memcpy(&a[i], &u, 8);
                if (!isfinite(a[i])) {
                    fa_err_set("'%s': input standardisation %zu is not finite", name,
                               (size_t)k * (size_t)nn->in_dim + (size_t)i);
                    fa_nn_free(nn);
                    return NULL;
                }
            }
        }
        nn->in_clip = FA_NN_NORM_CLIP_V2;
        if (v3) {
            if (fread(b, 1, 8, f) != 8) {
                fa_nn_free(nn);
                goto trunc;
            }
            uint64_t u = get_u64(b);
            memcpy(&nn->in_clip, &u, 8);
            if (!isfinite(nn->in_clip) || nn->in_clip <= 0) {
                fa_err_set("'%s': bad input clamp", name);
                fa_nn_free(nn);
                return NULL;
            }
        }
    }
    if (fgetc(f) != EOF) {
        fa_err_set("'%s': trailing bytes after the weights", name);
        fa_nn_free(nn);
        return NULL;
    }
    return nn;
trunc:
    if (ferror(f))
        fa_err_sys("read error '%s'", name);
    else
        fa_err_set("'%s': truncated weight file", name);
    return NULL;
}
