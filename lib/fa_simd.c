/* fa_simd.c: the similarity kernel behind fa-retrieve (see fa_simd.h).
 *
 * A scan walks the rows in blocks of BLOCK rows. For each block a path-
 * specific function fills a small score tile (queries x rows), and a
 * path-independent consumer applies the row filter and keeps each query's
 * best rows in a bounded heap. The AVX2 functions compute tiles of up to
 * 3 rows x 4 queries with one 8-lane accumulator per pair, so a row is
 * loaded once for four queries and every (query, row) score is summed in
 * the same order whatever the tile: the batch size and the thread count
 * never change a score, and fa_simd_dot reproduces it exactly. */
#include "fa_simd.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define FA_SIMD_X86 1
#else
#define FA_SIMD_X86 0
#endif

#include "fa_err.h"
#include "fa_banned.h"

#define BLOCK       48                 /* rows per score tile */
#define AUTO_ELEMS  ((size_t)16 << 20) /* below this many elements: one thread */
#define MAX_THREADS 64
#define PF_TILES    2 /* software prefetch distance, in 3-row tiles */

/* ---- half precision (portable reference) ------------------------------ */

uint16_t fa_simd_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) /* inf or nan */
        return (uint16_t)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0));
    if (ax >= 0x477ff000u) /* rounds to >= 65520: overflow */
        return (uint16_t)(sign | 0x7c00u);
    if (ax < 0x38800000u) { /* result subnormal or zero */
        if (ax < 0x33000000u)
            return (uint16_t)sign; /* below half the smallest subnormal */
        uint32_t e = ax >> 23, m = (ax & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126 - e; /* 14 + (112 - e) + ... : bits to drop */
        uint32_t v = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (v & 1)))
            v++;
        return (uint16_t)(sign | v);
    }
    uint32_t v = ((ax - 0x38000000u) >> 13), rem = ax & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (v & 1)))
        v++;
    return (uint16_t)(sign | v);
}

float fa_simd_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ffu, x;
    if (e == 0x1f)
        x = sign | 0x7f800000u | (m << 13);
    else if (e != 0)
        x = sign | ((e + 112) << 23) | (m << 13);
    else if (m == 0)
        x = sign;
    else {
        float f = (float)m * 0x1p-24f;
        memcpy(&x, &f, 4);
        x |= sign;
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}

/* ---- path selection --------------------------------------------------- */

static bool cpu_avx2(void)
{
#if FA_SIMD_X86
    unsigned int a, b, c, d;

    /* clang 14 has no "f16c" for __builtin_cpu_supports: read CPUID 1. */
    __builtin_cpu_init();
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_F16C))
        return false;
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
}

int fa_simd_path_parse(const char *s)
{
    if (!s || !strcmp(s, "auto") || !*s)
        return FA_SIMD_AUTO;
    if (!strcmp(s, "scalar"))
        return FA_SIMD_SCALAR;
    if (!strcmp(s, "avx2"))
        return FA_SIMD_AVX2;
    fa_err_set("unknown kernel path '%s' (want auto, scalar or avx2)", s);
    return -1;
}

const char *fa_simd_path_name(int path)
{
    return path == FA_SIMD_AVX2 ? "avx2" : path == FA_SIMD_SCALAR ? "scalar" : "auto";
}

int fa_simd_resolve(int path)
{
    if (path == FA_SIMD_AUTO) {
        const char *env = getenv("FA_SIMD");
        path = fa_simd_path_parse(env);
        if (path < 0)
            return -1;
        if (path == FA_SIMD_AUTO)
            return cpu_avx2() ? FA_SIMD_AVX2 : FA_SIMD_SCALAR;
    }
    if (path == FA_SIMD_SCALAR)
        return path;
    if (path == FA_SIMD_AVX2) {
        if (cpu_avx2())
            return path;
        fa_err_set("kernel path 'avx2': this CPU lacks AVX2, FMA or F16C");
        return -1;
    }
    fa_err_set("unknown kernel path %d", path);
    return -1;
}

/* ---- scalar kernels --------------------------------------------------- */

static float dot_f32_scalar(const float *a, const float *b, size_t dim)
{
    float s[8] = {0};
    size_t i = 0, d8 = dim & ~(size_t)7;
    for (; i < d8; i += 8)
        for (int l = 0; l < 8; l++)
            s[l] += a[i + l] * b[i + l];
    float t = ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
    for (; i < dim; i++)
        t += a[i] * b[i];
    return t;
}

static float dot_f16_scalar(const float *q, const uint16_t *h, size_t dim)
{
    float s[8] = {0};
    size_t i = 0, d8 = dim & ~(size_t)7;
    for (; i < d8; i += 8)
        for (int l = 0; l < 8; l++)
            s[l] += q[i + l] * fa_simd_f16_to_f32(h[i + l]);
    float t = ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
    for (; i < dim; i++)
        t += q[i] * fa_simd_f16_to_f32(h[i]);
    return t;
}

/* Exact integer dot product: the AVX2 path computes the same integer. */
static int64_t dot_i8_scalar(const int16_t *q, const int8_t *x, size_t dim)
{
    int64_t s = 0;
    for (size_t i = 0; i < dim; i++)
        s += (int32_t)q[i] * x[i];
    return s;
}

/* ---- AVX2 kernels ----------------------------------------------------- */

#if FA_SIMD_X86
#define AVX2     __attribute__((target("avx2,fma,f16c")))
#define AVX2_INL __attribute__((target("avx2,fma,f16c"), always_inline)) inline

static AVX2_INL float hsum8(__m256 v)
{
    __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
    return _mm_cvtss_f32(lo);
}

static AVX2_INL float tail_f32(float s, const float *q, const float *x, size_t i, size_t dim)
{
    for (; i < dim; i++)
        s += q[i] * x[i];
    return s;
}

static AVX2 float dot_f32_avx2(const float *q, const float *x, size_t dim)
{
    size_t d8 = dim & ~(size_t)7;
    __m256 acc = _mm256_setzero_ps();
    for (size_t i = 0; i < d8; i += 8)
        acc = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(q + i), acc);
    return tail_f32(hsum8(acc), q, x, d8, dim);
}

/* A tile of R rows (x, stride dim) by Q queries (q, stride dim); scores to
 * out[j * ostride + r]. R <= 3, Q <= 4 are compile-time constants. */
static AVX2_INL void tile_f32(const float *q, const float *x, size_t dim, int R, int Q, float *out,
                              size_t ostride, const char *pf)
{
    __m256 acc[3][4];
    size_t d8 = dim & ~(size_t)7;
#pragma GCC unroll 3
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int j = 0; j < Q; j++)
            acc[r][j] = _mm256_setzero_ps();
    for (size_t i = 0; i < d8; i += 8) {
        __m256 xv[3];
        if (pf && (i & 15) == 0)
#pragma GCC unroll 3
            for (int r = 0; r < 3; r++)
                _mm_prefetch(pf + (r * dim + i) * 4, _MM_HINT_T1);
#pragma GCC unroll 3
        for (int r = 0; r < R; r++)
            xv[r] = _mm256_loadu_ps(x + r * dim + i);
#pragma GCC unroll 4
        for (int j = 0; j < Q; j++) {
            __m256 qv = _mm256_loadu_ps(q + j * dim + i);
#pragma GCC unroll 3
            for (int r = 0; r < R; r++)
                acc[r][j] = _mm256_fmadd_ps(xv[r], qv, acc[r][j]);
        }
    }
#pragma GCC unroll 3
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int j = 0; j < Q; j++)
            out[j * ostride + r] = tail_f32(hsum8(acc[r][j]), q + j * dim, x + r * dim, d8, dim);
}

static AVX2_INL void tile_f16(const float *q, const uint16_t *x, size_t dim, int R, int Q,
                              float *out, size_t ostride, const char *pf)
{
    __m256 acc[3][4];
    size_t d8 = dim & ~(size_t)7;
#pragma GCC unroll 3
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int j = 0; j < Q; j++)
            acc[r][j] = _mm256_setzero_ps();
    for (size_t i = 0; i < d8; i += 8) {
        __m256 xv[3];
        if (pf && (i & 31) == 0)
#pragma GCC unroll 3
            for (int r = 0; r < 3; r++)
                _mm_prefetch(pf + (r * dim + i) * 2, _MM_HINT_T1);
#pragma GCC unroll 3
        for (int r = 0; r < R; r++)
            xv[r] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + r * dim + i)));
#pragma GCC unroll 4
        for (int j = 0; j < Q; j++) {
            __m256 qv = _mm256_loadu_ps(q + j * dim + i);
#pragma GCC unroll 3
            for (int r = 0; r < R; r++)
                acc[r][j] = _mm256_fmadd_ps(xv[r], qv, acc[r][j]);
        }
    }
#pragma GCC unroll 3
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int j = 0; j < Q; j++) {
            float s = hsum8(acc[r][j]);
            for (size_t i = d8; i < dim; i++)
                s += q[j * dim + i] * fa_simd_f16_to_f32(x[r * dim + i]);
            out[j * ostride + r] = s;
        }
}

static AVX2_INL int64_t hsum_i32(__m256i v)
{
    int32_t l[8];
    _mm256_storeu_si256((__m256i *)l, v);
    int64_t s = 0;
    for (int i = 0; i < 8; i++)
        s += l[i];
    return s;
}

/* int8 rows by int16 queries: exact integer sums to isum[j * ostride + r]. */
static AVX2_INL void tile_i8(const int16_t *q, const int8_t *x, size_t dim, int R, int Q,
                             int64_t *isum, size_t ostride, const char *pf)
{
    __m256i acc[3][4];
    size_t d16 = dim & ~(size_t)15;
#pragma GCC unroll 3
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int j = 0; j < Q; j++)
            acc[r][j] = _mm256_setzero_si256();
    for (size_t i = 0; i < d16; i += 16) {
        __m256i xv[3];
        if (pf && (i & 63) == 0)
#pragma GCC unroll 3
            for (int r = 0; r < 3; r++)
                _mm_prefetch(pf + r * dim + i, _MM_HINT_T1);
#pragma GCC unroll 3
        for (int r = 0; r < R; r++)
            xv[r] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(x + r * dim + i)));
#pragma GCC unroll 4
        for (int j = 0; j < Q; j++) {
            __m256i qv = _mm256_loadu_si256((const __m256i *)(q + j * dim + i));
#pragma GCC unroll 3
            for (int r = 0; r < R; r++)
                acc[r][j] = _mm256_add_epi32(acc[r][j], _mm256_madd_epi16(xv[r], qv));
        }
    }
#pragma GCC unroll 3
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int j = 0; j < Q; j++) {
            int64_t s = hsum_i32(acc[r][j]);
            for (size_t i = d16; i < dim; i++)
                s += (int32_t)q[j * dim + i] * x[r * dim + i];
            isum[j * ostride + r] = s;
        }
}

/* One function per tile shape, so that each is fully unrolled. */
/* clang-format off */
#define SHAPES(M, T) \
    M(T, 1, 1) M(T, 1, 2) M(T, 1, 3) M(T, 1, 4) \
    M(T, 2, 1) M(T, 2, 2) M(T, 2, 3) M(T, 2, 4) \
    M(T, 3, 1) M(T, 3, 2) M(T, 3, 3) M(T, 3, 4)
/* clang-format on */
#define DEF_TILE(T, R, Q)                                                                          \
    static AVX2 void T##_##R##_##Q(const void *q, const void *x, size_t dim, void *out,            \
                                   size_t ostride, const void *pf)                                 \
    {                                                                                              \
        T(q, x, dim, R, Q, out, ostride, pf);                                                      \
    }
SHAPES(DEF_TILE, tile_f32)
SHAPES(DEF_TILE, tile_f16)
SHAPES(DEF_TILE, tile_i8)

typedef void tile_fn(const void *, const void *, size_t, void *, size_t, const void *);
#define REF_TILE(T, R, Q) T##_##R##_##Q,
static tile_fn *const tiles_f32[12] = {SHAPES(REF_TILE, tile_f32)};
static tile_fn *const tiles_f16[12] = {SHAPES(REF_TILE, tile_f16)};
static tile_fn *const tiles_i8[12] = {SHAPES(REF_TILE, tile_i8)};
#endif /* FA_SIMD_X86 */

float fa_simd_dot(int path, const float *a, const float *b, size_t dim)
{
    int p = fa_simd_resolve(path);
#if FA_SIMD_X86
    if (p == FA_SIMD_AVX2)
        return dot_f32_avx2(a, b, dim);
#endif
    return dot_f32_scalar(a, b, dim);
}

void fa_simd_inv_norms(const float *rows, size_t n, size_t dim, float *out)
{
    for (size_t r = 0; r < n; r++) {
        double s = 0;
        for (size_t i = 0; i < dim; i++)
            s += (double)rows[r * dim + i] * rows[r * dim + i];
        double nv = sqrt(s);
        out[r] = nv > 0 && isfinite(nv) ? (float)(1.0 / nv) : 0.0f;
    }
}

int fa_simd_compact_build(int elem, const float *rows, size_t n, size_t dim, void *data,
                          float *scale)
{
    for (size_t r = 0; r < n; r++) {
        const float *x = rows + r * dim;
        float m = 0;
        for (size_t i = 0; i < dim; i++) {
            if (!isfinite(x[i])) {
                fa_err_set("row %zu: non-finite value", r);
                return -1;
            }
            m = fmaxf(m, fabsf(x[i]));
        }
        if (elem == FA_SIMD_F16) {
            if (m > 65504.0f) {
                fa_err_set("row %zu: value %g beyond float16's range", r, (double)m);
                return -1;
            }
            uint16_t *h = (uint16_t *)data + r * dim;
            for (size_t i = 0; i < dim; i++)
                h[i] = fa_simd_f32_to_f16(x[i]);
            scale[r] = m;
        } else if (elem == FA_SIMD_I8) {
            int8_t *q = (int8_t *)data + r * dim;
            float s = m / 127.0f;
            for (size_t i = 0; i < dim; i++) {
                long v = s > 0 ? lrintf(x[i] / s) : 0;
                q[i] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
            }
            scale[r] = s;
        } else {
            fa_err_set("unknown compact element type %d", elem);
            return -1;
        }
    }
    return 0;
}

/* ---- top-k heaps ------------------------------------------------------ */

/* a ranks before b: higher score, then lower row. */
static inline bool better(float as, int64_t ar, float bs, int64_t br)
{
    return as > bs || (as == bs && ar < br);
}

struct heap {
    struct fa_simd_hit *h; /* min-heap: h[0] is the worst kept */
    size_t n, cap;
};

static void heap_push(struct heap *hp, float score, int64_t row)
{
    struct fa_simd_hit *h = hp->h;
    size_t i;
    if (hp->n < hp->cap) {
        i = hp->n++;
        while (i > 0) {
            size_t p = (i - 1) / 2;
            if (!better(h[p].score, h[p].row, score, row))
                break;
            h[i] = h[p];
            i = p;
        }
        h[i].score = score;
        h[i].row = row;
        return;
    }
    if (!better(score, row, h[0].score, h[0].row))
        return;
    i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= hp->n)
            break;
        if (c + 1 < hp->n && better(h[c].score, h[c].row, h[c + 1].score, h[c + 1].row))
            c++;
        if (!better(score, row, h[c].score, h[c].row))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i].score = score;
    h[i].row = row;
}

static int hit_cmp(const void *a, const void *b)
{
    const struct fa_simd_hit *x = a, *y = b;
    if (better(x->score, x->row, y->score, y->row))
        return -1;
    if (better(y->score, y->row, x->score, x->row))
        return 1;
    return 0;
}

/* ---- the scan --------------------------------------------------------- */

enum { MODE_TOPK, MODE_THRESHOLD };

struct scan {
    const struct fa_simd_search *s;
    int path, elem, mode;
    size_t nq, dim, keep;
    const float *q;       /* nq x dim float queries (normalised for cosine) */
    const int16_t *qi;    /* I8: quantised queries */
    const float *qscale;  /* I8: per-query scale */
    const float *ea, *eb; /* compact error bound: e = (ea[j] * scale[r] + eb[j]) * w[r] */
    const float *thr;     /* THRESHOLD: per-query score to reach (NaN: query done) */
};

struct worker {
    const struct scan *sc;
    size_t r0, r1;
    struct heap *heaps; /* nq */
    size_t rescored;
    int err;
    pthread_t tid;
};

static float exact_score(const struct scan *sc, size_t j, size_t r)
{
    const struct fa_simd_search *s = sc->s;
    const float *q = sc->q + j * sc->dim, *x = s->rows + r * sc->dim;
#if FA_SIMD_X86
    float v =
        sc->path == FA_SIMD_AVX2 ? dot_f32_avx2(q, x, sc->dim) : dot_f32_scalar(q, x, sc->dim);
#else
    float v = dot_f32_scalar(q, x, sc->dim);
#endif
    return s->inv_norm ? v * s->inv_norm[r] : v;
}

/* Scores of rows r0..r0+nb-1 for every query into out[j * nb + i]. */
static void block_scores(const struct scan *sc, size_t r0, size_t nb, float *out, int64_t *isum)
{
    const struct fa_simd_search *s = sc->s;
    size_t dim = sc->dim, nq = sc->nq;
    const void *base = sc->elem == FA_SIMD_F32 ? (const void *)s->rows : s->compact->data;
#if FA_SIMD_X86
    if (sc->path == FA_SIMD_AVX2) {
        tile_fn *const *tab = sc->elem == FA_SIMD_F32   ? tiles_f32
                              : sc->elem == FA_SIMD_F16 ? tiles_f16
                                                        : tiles_i8;
        size_t esz = sc->elem == FA_SIMD_F32 ? 4 : sc->elem == FA_SIMD_F16 ? 2 : 1;
        const void *qv = sc->elem == FA_SIMD_I8 ? (const void *)sc->qi : (const void *)sc->q;
        size_t qsz = sc->elem == FA_SIMD_I8 ? 2 : 4;
        for (size_t i = 0; i < nb; i += 3) {
            size_t R = nb - i < 3 ? nb - i : 3;
            const char *x = (const char *)base + (r0 + i) * dim * esz;
            /* The first query group also fetches the rows PF_TILES tiles
             * ahead into L2, spread over its loop (into L1 they would be
             * pushed out by the queries; measured: +10-20% for 16
             * queries, neutral for one). */
            const char *pf =
                r0 + i + 3 * (PF_TILES + 1) <= s->n ? x + 3 * PF_TILES * dim * esz : NULL;
            for (size_t j = 0; j < nq; j += 4) {
                size_t Q = nq - j < 4 ? nq - j : 4;
                void *o = sc->elem == FA_SIMD_I8 ? (void *)(isum + j * nb + i)
                                                 : (void *)(out + j * nb + i);
                tab[(R - 1) * 4 + (Q - 1)]((const char *)qv + j * dim * qsz, x, dim, o, nb,
                                           j == 0 ? pf : NULL);
            }
        }
    } else
#endif
    {
        for (size_t j = 0; j < nq; j++)
            for (size_t i = 0; i < nb; i++) {
                size_t r = r0 + i;
                if (sc->elem == FA_SIMD_F32)
                    out[j * nb + i] = dot_f32_scalar(sc->q + j * dim, s->rows + r * dim, dim);
                else if (sc->elem == FA_SIMD_F16)
                    out[j * nb + i] =
                        dot_f16_scalar(sc->q + j * dim, (const uint16_t *)base + r * dim, dim);
                else
                    isum[j * nb + i] =
                        dot_i8_scalar(sc->qi + j * dim, (const int8_t *)base + r * dim, dim);
            }
    }
    if (sc->elem == FA_SIMD_I8)
        for (size_t j = 0; j < nq; j++)
            for (size_t i = 0; i < nb; i++)
                out[j * nb + i] =
                    (float)((double)isum[j * nb + i] * sc->qscale[j] * s->compact->scale[r0 + i]);
    if (s->inv_norm)
        for (size_t j = 0; j < nq; j++)
            for (size_t i = 0; i < nb; i++)
                out[j * nb + i] *= s->inv_norm[r0 + i];
}

static void *scan_range(void *arg)
{
    struct worker *w = arg;
    const struct scan *sc = w->sc;
    const struct fa_simd_search *s = sc->s;
    size_t nq = sc->nq;
    float *out = malloc(nq * BLOCK * sizeof *out);
    int64_t *isum = malloc(nq * BLOCK * sizeof *isum);
    if (!out || !isum) {
        w->err = ENOMEM;
        goto done;
    }
    for (size_t r0 = w->r0; r0 < w->r1; r0 += BLOCK) {
        size_t nb = w->r1 - r0 < BLOCK ? w->r1 - r0 : BLOCK;
        block_scores(sc, r0, nb, out, isum);
        for (size_t j = 0; j < nq; j++) {
            struct heap *hp = &w->heaps[j];
            const float *o = out + j * nb;
            int32_t before = s->day && s->before ? s->before[j] : 0;
            bool filter = s->day && s->before;
            if (sc->mode == MODE_TOPK) {
                for (size_t i = 0; i < nb; i++) {
                    if (filter && s->day[r0 + i] >= before)
                        continue;
                    float v = o[i];
                    if (isnan(v))
                        continue;
                    if (hp->n == hp->cap && !(v > hp->h[0].score))
                        continue; /* rows come in order: a tie never beats */
                    heap_push(hp, v, (int64_t)(r0 + i));
                }
            } else {
                float t = sc->thr[j];
                if (isnan(t))
                    continue;
                for (size_t i = 0; i < nb; i++) {
                    size_t r = r0 + i;
                    if (filter && s->day[r] >= before)
                        continue;
                    float wgt = s->inv_norm ? s->inv_norm[r] * (1.0f + 0x1p-20f) : 1.0f;
                    float e = (sc->ea[j] * s->compact->scale[r] + sc->eb[j]) * wgt;
                    if (!(o[i] + e >= t))
                        continue;
                    float v = exact_score(sc, j, r);
                    w->rescored++;
                    if (!isnan(v))
                        heap_push(hp, v, (int64_t)r);
                }
            }
        }
    }
done:
    free(out);
    free(isum);
    return NULL;
}

static int nthreads_for(const struct fa_simd_search *s)
{
    size_t blocks = (s->n + BLOCK - 1) / BLOCK;
    long t = s->threads;
    if (t <= 0) {
        if (s->n * s->dim < AUTO_ELEMS)
            t = 1;
        else {
            t = sysconf(_SC_NPROCESSORS_ONLN);
            if (t < 1)
                t = 1;
        }
    }
    if (t > MAX_THREADS)
        t = MAX_THREADS;
    if ((size_t)t > blocks)
        t = blocks ? (long)blocks : 1;
    return (int)t;
}

/* Runs the scan over all rows on nt threads; merged, sorted results per
 * query go to res[j] (res_n[j] of them, at most sc->keep). */
static int run_scan(const struct scan *sc, int nt, struct fa_simd_hit *res, size_t *res_n,
                    size_t *rescored)
{
    size_t nq = sc->nq, keep = sc->keep, n = sc->s->n;
    struct worker *w = calloc((size_t)nt, sizeof *w);
    struct fa_simd_hit *mem = malloc((size_t)nt * nq * keep * sizeof *mem);
    struct heap *heaps = calloc((size_t)nt * nq, sizeof *heaps);
    struct fa_simd_hit *all = malloc((size_t)nt * keep * sizeof *all);
    int rc = -1, started = 0;
    if (!w || !mem || !heaps || !all) {
        fa_err_set("search: out of memory");
        goto out;
    }
    size_t chunk = (n + (size_t)nt - 1) / (size_t)nt;
    chunk = (chunk + BLOCK - 1) / BLOCK * BLOCK;
    for (int t = 0; t < nt; t++) {
        w[t].sc = sc;
        w[t].r0 = (size_t)t * chunk < n ? (size_t)t * chunk : n;
        w[t].r1 = w[t].r0 + chunk < n ? w[t].r0 + chunk : n;
        w[t].heaps = heaps + (size_t)t * nq;
        for (size_t j = 0; j < nq; j++) {
            w[t].heaps[j].h = mem + ((size_t)t * nq + j) * keep;
            w[t].heaps[j].cap = keep;
        }
    }
    for (int t = 1; t < nt; t++) {
        int e = pthread_create(&w[t].tid, NULL, scan_range, &w[t]);
        if (e) {
            errno = e;
            fa_err_sys("search: cannot start a thread");
            break;
        }
        started = t;
    }
    scan_range(&w[0]);
    for (int t = 1; t <= started; t++)
        pthread_join(w[t].tid, NULL);
    if (started != nt - 1)
        goto out;
    for (int t = 0; t < nt; t++) {
        if (w[t].err) {
            fa_err_set("search: out of memory");
            goto out;
        }
        if (rescored)
            *rescored += w[t].rescored;
    }
    for (size_t j = 0; j < nq; j++) {
        size_t m = 0;
        for (int t = 0; t < nt; t++) {
            memcpy(all + m, w[t].heaps[j].h, w[t].heaps[j].n * sizeof *all);
            m += w[t].heaps[j].n;
        }
        qsort(all, m, sizeof *all, hit_cmp);
        res_n[j] = m < keep ? m : keep;
        memcpy(res + j * keep, all, res_n[j] * sizeof *all);
    }
    rc = 0;
out:
    free(w);
    free(mem);
    free(heaps);
    free(all);
    return rc;
}

/* Compact search: candidates by the compact scan, exact re-rank, proof,
 * and a second pass for queries whose proof failed. */
static int compact_search(struct scan *sc, int nt, size_t k, struct fa_simd_hit *hits,
                          size_t *nhits, struct fa_simd_stats *st)
{
    const struct fa_simd_search *s = sc->s;
    size_t nq = sc->nq, dim = sc->dim, n = s->n;
    size_t C = s->candidates ? s->candidates : (4 * k > k + 16 ? 4 * k : k + 16);
    if (C < k)
        C = k;
    if (C > n)
        C = n;
    int rc = -1;
    float *ea = calloc(nq, sizeof *ea), *eb = calloc(nq, sizeof *eb);
    float *thr = malloc(nq * sizeof *thr);
    float *qscale = calloc(nq, sizeof *qscale);
    int16_t *qi = NULL;
    struct fa_simd_hit *cand = malloc(nq * C * sizeof *cand);
    size_t *cand_n = calloc(nq, sizeof *cand_n);
    struct fa_simd_hit *extra = malloc(nq * k * sizeof *extra), *all = NULL;
    size_t *extra_n = calloc(nq, sizeof *extra_n);
    if (!ea || !eb || !thr || !qscale || !cand || !cand_n || !extra || !extra_n)
        goto nomem;
    if (sc->elem == FA_SIMD_I8) {
        qi = malloc(nq * dim * sizeof *qi);
        if (!qi)
            goto nomem;
        /* Keep every int32 lane below 2^31: a lane sums ceil(dim/16)
         * pairs of products of at most 127 * qmax. */
        double lanes = (double)((dim + 15) / 16) * 254.0;
        double qmax = fmin(32767.0, floor(2147483647.0 / lanes));
        for (size_t j = 0; j < nq; j++) {
            const float *q = sc->q + j * dim;
            float m = 0;
            for (size_t i = 0; i < dim; i++)
                m = fmaxf(m, fabsf(q[i]));
            double sq = m > 0 ? m / qmax : 0;
            for (size_t i = 0; i < dim; i++) {
                long v = sq > 0 ? lrint(q[i] / sq) : 0;
                qi[j * dim + i] = (int16_t)(v > qmax ? qmax : v < -qmax ? -qmax : v);
            }
            qscale[j] = (float)sq;
        }
        sc->qi = qi;
        sc->qscale = qscale;
    }
    /* Error bounds. |approx - f32 score| <= (ea[j] * scale[r] + eb[j]) * w[r]:
     * the compact rounding, the query quantisation (int8), and the float
     * rounding of both sums (generously: 4 (dim + 8) ulps of sum |q x|). */
    double g = 4.0 * ((double)dim + 8) * 0x1p-24;
    for (size_t j = 0; j < nq; j++) {
        const float *q = sc->q + j * dim;
        double n1 = 0, qm = 0;
        for (size_t i = 0; i < dim; i++) {
            n1 += fabs(q[i]);
            qm = fmax(qm, fabs(q[i]));
        }
        n1 *= 1.0 + 1e-6;
        if (sc->elem == FA_SIMD_F16) {
            ea[j] = (float)(n1 * (0x1p-11 + g) * 1.0001);
            eb[j] = (float)(n1 * 0x1p-25 * 1.0001);
        } else {
            ea[j] = (float)((n1 / 2 + qscale[j] * 127.0 * (double)dim / 2 + g * n1 * 127.0 +
                             127.0 * (double)dim * qm * 0x1p-23) *
                            1.0001);
            eb[j] = 0;
        }
    }
    /* The largest bound over all rows, per query: max scale*w and max w. */
    double m1 = 0, m2 = 0;
    for (size_t r = 0; r < n; r++) {
        double wgt = s->inv_norm ? s->inv_norm[r] * (1.0 + 0x1p-20) : 1.0;
        m1 = fmax(m1, s->compact->scale[r] * wgt);
        m2 = fmax(m2, wgt);
    }
    sc->ea = ea;
    sc->eb = eb;
    sc->mode = MODE_TOPK;
    sc->keep = C;
    if (run_scan(sc, nt, cand, cand_n, NULL) < 0)
        goto out;
    bool again = false;
    for (size_t j = 0; j < nq; j++) {
        struct heap hp = {hits + j * k, 0, k};
        for (size_t c = 0; c < cand_n[j]; c++) {
            float v = exact_score(sc, j, (size_t)cand[j * C + c].row);
            if (!isnan(v))
                heap_push(&hp, v, cand[j * C + c].row);
        }
        st->rescored += cand_n[j];
        qsort(hp.h, hp.n, sizeof *hp.h, hit_cmp);
        nhits[j] = hp.n;
        thr[j] = NAN;
        if (cand_n[j] < C || C == n)
            continue; /* every row that passes the filter was re-scored */
        float aC = cand[j * C + C - 1].score;
        double emax = (ea[j] * m1 + eb[j] * m2) * 1.0001;
        if (hp.n == k && (double)aC + emax < (double)hp.h[k - 1].score)
            continue; /* proven: no other row can reach the k-th score */
        thr[j] = hp.n == k ? hp.h[k - 1].score : -INFINITY;
        again = true;
        st->second_pass++;
    }
    if (again) {
        sc->mode = MODE_THRESHOLD;
        sc->keep = k;
        sc->thr = thr;
        if (run_scan(sc, nt, extra, extra_n, &st->rescored) < 0)
            goto out;
        all = malloc(2 * k * sizeof *all);
        if (!all)
            goto nomem;
        for (size_t j = 0; j < nq; j++) {
            if (isnan(thr[j]))
                continue;
            size_t m = nhits[j];
            memcpy(all, hits + j * k, m * sizeof *all);
            for (size_t e = 0; e < extra_n[j]; e++) {
                bool dup = false;
                for (size_t h = 0; h < nhits[j] && !dup; h++)
                    dup = all[h].row == extra[j * k + e].row;
                if (!dup)
                    all[m++] = extra[j * k + e];
            }
            qsort(all, m, sizeof *all, hit_cmp);
            nhits[j] = m < k ? m : k;
            memcpy(hits + j * k, all, nhits[j] * sizeof *all);
        }
    }
    rc = 0;
    goto out;
nomem:
    fa_err_set("search: out of memory");
out:
    free(ea);
    free(eb);
    free(thr);
    free(qscale);
    free(qi);
    free(cand);
    free(cand_n);
    free(extra);
    free(extra_n);
    free(all);
    return rc;
}

int fa_simd_topk(const struct fa_simd_search *s, const float *queries, size_t nq, size_t k,
                 struct fa_simd_hit *hits, size_t *nhits, struct fa_simd_stats *stats)
{
    struct fa_simd_stats dummy;
    struct fa_simd_stats *st = stats ? stats : &dummy;
    memset(st, 0, sizeof *st);
    if (nq == 0)
        return 0;
    for (size_t j = 0; j < nq; j++)
        nhits[j] = 0;
    if (!s || s->dim == 0 || (s->n && !s->rows) || !queries) {
        fa_err_set("search: bad arguments");
        return -1;
    }
    if (s->compact && ((s->compact->elem != FA_SIMD_F16 && s->compact->elem != FA_SIMD_I8) ||
                       !s->compact->data || !s->compact->scale)) {
        fa_err_set("search: bad compact rows");
        return -1;
    }
    int path = fa_simd_resolve(s->path);
    if (path < 0)
        return -1;
    st->path = path;
    if (k == 0 || s->n == 0)
        return 0;
    if (k > s->n) {
        /* No more than n hits each: search for n into a dense array, then
         * spread the results out to the caller's stride k. */
        struct fa_simd_hit *tmp =
            nq <= SIZE_MAX / sizeof *tmp / s->n ? malloc(nq * s->n * sizeof *tmp) : NULL;
        if (!tmp) {
            fa_err_set("search: out of memory");
            return -1;
        }
        int rc = fa_simd_topk(s, queries, nq, s->n, tmp, nhits, stats);
        for (size_t j = 0; rc == 0 && j < nq; j++)
            memcpy(hits + j * k, tmp + j * s->n, nhits[j] * sizeof *tmp);
        free(tmp);
        return rc;
    }
    if (nq > SIZE_MAX / s->dim / sizeof(float) / 2 ||
        nq > SIZE_MAX / sizeof(struct fa_simd_hit) / 4 / k / MAX_THREADS) {
        fa_err_set("search: too many queries");
        return -1;
    }
    size_t dim = s->dim;
    float *q = malloc(nq * dim * sizeof *q);
    if (!q) {
        fa_err_set("search: out of memory");
        return -1;
    }
    for (size_t j = 0; j < nq; j++) {
        double ss = 0;
        for (size_t i = 0; i < dim; i++) {
            float v = queries[j * dim + i];
            if (!isfinite(v)) {
                free(q);
                fa_err_set("search: query %zu has a non-finite value", j);
                return -1;
            }
            ss += (double)v * v;
        }
        float scale = s->inv_norm && ss > 0 ? (float)(1.0 / sqrt(ss)) : 1.0f;
        for (size_t i = 0; i < dim; i++)
            q[j * dim + i] = s->inv_norm ? queries[j * dim + i] * scale : queries[j * dim + i];
    }
    struct scan sc = {.s = s, .path = path, .nq = nq, .dim = dim, .q = q};
    int nt = nthreads_for(s), rc;
    st->threads = nt;
    if (s->compact) {
        sc.elem = s->compact->elem;
        rc = compact_search(&sc, nt, k, hits, nhits, st);
    } else {
        sc.elem = FA_SIMD_F32;
        sc.mode = MODE_TOPK;
        sc.keep = k;
        rc = run_scan(&sc, nt, hits, nhits, NULL);
    }
    free(q);
    return rc;
}
