/* test_simd.c: the search kernel against a naive reference, on random data
 * with ties: both paths, batched and threaded scans, the row filter,
 * cosine, and the float16 / int8 first passes with their exact re-rank. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fa_simd.h"
#include "fa_err.h"
#include "tap.h"
#include "fa_banned.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static double uni(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) * 0x1p-53;
}

static float gauss(void)
{
    double u = uni() + 1e-12, v = uni();
    return (float)(sqrt(-2 * log(u)) * cos(6.283185307179586 * v));
}

/* n x dim random rows; every 7th row copies an earlier one (score ties). */
static float *random_rows(size_t n, size_t dim)
{
    float *x = malloc(n * dim * sizeof *x);
    for (size_t r = 0; r < n; r++) {
        if (r >= 7 && r % 7 == 0)
            memcpy(x + r * dim, x + (r / 3) * dim, dim * sizeof *x);
        else
            for (size_t i = 0; i < dim; i++)
                x[r * dim + i] = gauss();
    }
    return x;
}

struct ref {
    float score;
    int64_t row;
};

static int ref_cmp(const void *a, const void *b)
{
    const struct ref *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* The naive top k of query q: every pair scored by fa_simd_dot on path. */
static size_t naive(int path, const struct fa_simd_search *s, const float *q, int32_t before,
                    size_t k, struct ref *out)
{
    struct ref *all = malloc(s->n * sizeof *all);
    size_t m = 0;
    float qn[4096];
    double ss = 0;
    for (size_t i = 0; i < s->dim; i++)
        ss += (double)q[i] * q[i];
    for (size_t i = 0; i < s->dim; i++)
        qn[i] = s->inv_norm ? q[i] * (float)(1.0 / sqrt(ss)) : q[i];
    for (size_t r = 0; r < s->n; r++) {
        if (s->day && s->day[r] >= before)
            continue;
        float v = fa_simd_dot(path, qn, s->rows + r * s->dim, s->dim);
        if (s->inv_norm)
            v *= s->inv_norm[r];
        all[m].score = v;
        all[m].row = (int64_t)r;
        m++;
    }
    qsort(all, m, sizeof *all, ref_cmp);
    if (m > k)
        m = k;
    memcpy(out, all, m * sizeof *out);
    free(all);
    return m;
}

/* Runs the search and compares every query with the naive reference
 * (exact rows and scores). */
static bool check_exact(const char *name, struct fa_simd_search *s, const float *q, size_t nq,
                        size_t k, struct fa_simd_stats *st)
{
    struct fa_simd_hit *h = malloc(nq * k * sizeof *h);
    size_t *nh = malloc(nq * sizeof *nh);
    struct ref *want = malloc(k * sizeof *want);
    bool good = fa_simd_topk(s, q, nq, k, h, nh, st) == 0;
    if (!good)
        printf("# %s: %s\n", name, fa_err_get());
    int path = fa_simd_resolve(s->path);
    for (size_t j = 0; good && j < nq; j++) {
        size_t m = naive(path, s, q + j * s->dim, s->before ? s->before[j] : 0, k, want);
        if (nh[j] != m) {
            printf("# %s: query %zu: %zu hits, want %zu\n", name, j, nh[j], m);
            good = false;
        }
        for (size_t i = 0; good && i < m; i++)
            if (h[j * k + i].row != want[i].row || h[j * k + i].score != want[i].score) {
                printf("# %s: query %zu rank %zu: row %lld %.9g, want %lld %.9g\n", name, j, i,
                       (long long)h[j * k + i].row, (double)h[j * k + i].score,
                       (long long)want[i].row, (double)want[i].score);
                good = false;
            }
    }
    free(h);
    free(nh);
    free(want);
    return ok(good, "%s", name);
}

int main(void)
{
    const size_t dims[] = {1, 7, 16, 45, 96, 203};
    bool have_avx2 = fa_simd_resolve(FA_SIMD_AVX2) == FA_SIMD_AVX2;
    int paths[2] = {FA_SIMD_SCALAR, FA_SIMD_AVX2};

    fa_err_init("test_simd");
    ok(fa_simd_path_parse("scalar") == FA_SIMD_SCALAR &&
           fa_simd_path_parse("avx2") == FA_SIMD_AVX2 && fa_simd_path_parse("auto") == FA_SIMD_AUTO,
       "path names parse");
    ok(fa_simd_path_parse("sse9") < 0 && strstr(fa_err_get(), "sse9"), "bad path name refused");
    setenv("FA_SIMD", "scalar", 1);
    ok(fa_simd_resolve(FA_SIMD_AUTO) == FA_SIMD_SCALAR, "FA_SIMD=scalar forces the scalar path");
    setenv("FA_SIMD", "bogus", 1);
    ok(fa_simd_resolve(FA_SIMD_AUTO) < 0, "FA_SIMD=bogus is an error");
    unsetenv("FA_SIMD");

    /* half precision conversion: exhaustive round trip and rounding */
    int bad = 0;
    for (uint32_t h = 0; h < 0x10000; h++) {
        float f = fa_simd_f16_to_f32((uint16_t)h);
        if (!isnan(f) && fa_simd_f32_to_f16(f) != h)
            bad++;
    }
    ok(bad == 0, "every float16 survives a round trip (%d bad)", bad);
    ok(fa_simd_f32_to_f16(1.0f + 0x1p-11f) == 0x3c00 &&
           fa_simd_f32_to_f16(1.0f + 0x3p-11f) == 0x3c02 &&
           fa_simd_f32_to_f16(65520.0f) == 0x7c00 && fa_simd_f32_to_f16(0x1p-25f) == 0 &&
           fa_simd_f32_to_f16(0x1.8p-25f) == 1,
       "float16 rounds to nearest even, overflows and underflows");

    if (!have_avx2)
        printf("# no AVX2 on this CPU: the avx2 path is not tested here\n");
    for (size_t di = 0; di < sizeof dims / sizeof *dims; di++) {
        size_t dim = dims[di], n = 301, nq = 9;
        float *x = random_rows(n, dim), *q = random_rows(nq, dim);
        /* The paths agree with a double-precision product. */
        double maxerr = 0;
        for (int p = 0; p < 2; p++) {
            if (paths[p] == FA_SIMD_AVX2 && !have_avx2)
                continue;
            for (size_t r = 0; r < 40; r++) {
                double want = 0, mag = 0;
                for (size_t i = 0; i < dim; i++) {
                    want += (double)q[i] * x[r * dim + i];
                    mag += fabs((double)q[i] * x[r * dim + i]);
                }
                double got = fa_simd_dot(paths[p], q, x + r * dim, dim);
                maxerr = fmax(maxerr, fabs(got - want) / (mag + 1e-30));
            }
        }
        ok(maxerr < 1e-5, "dim %zu: scalar and avx2 products agree (rel err %.2g)", dim, maxerr);
        for (int p = 0; p < 2; p++) {
            if (paths[p] == FA_SIMD_AVX2 && !have_avx2)
                continue;
            const char *pn = fa_simd_path_name(paths[p]);
            struct fa_simd_search s = {.rows = x, .n = n, .dim = dim, .path = paths[p]};
            char name[128];
            for (size_t k = 1; k <= 13; k += 6) {
                snprintf(name, sizeof name, "%s dim %zu k %zu: 9 queries in one pass", pn, dim, k);
                check_exact(name, &s, q, nq, k, NULL);
                s.threads = 3;
                snprintf(name, sizeof name, "%s dim %zu k %zu: 3 threads", pn, dim, k);
                check_exact(name, &s, q, nq, k, NULL);
                s.threads = 1;
            }
            /* one query at a time equals the batch */
            struct fa_simd_hit h1[9 * 5], hb[9 * 5];
            size_t n1[9], nb[9];
            bool same = fa_simd_topk(&s, q, nq, 5, hb, nb, NULL) == 0;
            for (size_t j = 0; same && j < nq; j++) {
                same = fa_simd_topk(&s, q + j * dim, 1, 5, h1 + j * 5, n1 + j, NULL) == 0 &&
                       n1[j] == nb[j];
                for (size_t i = 0; same && i < nb[j]; i++)
                    same = h1[j * 5 + i].row == hb[j * 5 + i].row &&
                           h1[j * 5 + i].score == hb[j * 5 + i].score;
            }
            ok(same, "%s dim %zu: single queries equal the 9-query batch", pn, dim);
            /* more k than rows */
            snprintf(name, sizeof name, "%s dim %zu: k beyond the row count", pn, dim);
            check_exact(name, &s, q, 2, n + 5, NULL);
            /* the row filter */
            int32_t *day = malloc(n * sizeof *day), before[9];
            for (size_t r = 0; r < n; r++)
                day[r] = (int32_t)(uni() * 100);
            for (size_t j = 0; j < nq; j++)
                before[j] = (int32_t)(j * 12);
            s.day = day;
            s.before = before;
            snprintf(name, sizeof name, "%s dim %zu: day filter, per-query bound", pn, dim);
            check_exact(name, &s, q, nq, 7, NULL);
            s.day = NULL;
            s.before = NULL;
            /* cosine */
            float *inv = malloc(n * sizeof *inv);
            fa_simd_inv_norms(x, n, dim, inv);
            s.inv_norm = inv;
            snprintf(name, sizeof name, "%s dim %zu: cosine", pn, dim);
            check_exact(name, &s, q, nq, 6, NULL);
            s.inv_norm = NULL;
            /* compact first passes: exact against the float32 reference */
            for (int e = FA_SIMD_F16; e <= FA_SIMD_I8; e++) {
                void *data = malloc(n * dim * 2);
                float *scale = malloc(n * sizeof *scale);
                if (fa_simd_compact_build(e, x, n, dim, data, scale) < 0)
                    printf("# %s\n", fa_err_get());
                struct fa_simd_compact c = {e, data, scale};
                const char *en = e == FA_SIMD_F16 ? "f16" : "i8";
                struct fa_simd_stats st;
                size_t second = 0;
                s.compact = &c;
                for (size_t cand = 0; cand <= 5; cand += 5) {
                    s.candidates = cand; /* 5: at most k, forces the second pass */
                    snprintf(name, sizeof name, "%s %s dim %zu cand %zu: exact top 5", pn, en, dim,
                             cand);
                    check_exact(name, &s, q, nq, 5, &st);
                    second += st.second_pass;
                    s.inv_norm = inv;
                    s.day = day;
                    s.before = before;
                    s.threads = 2;
                    snprintf(name, sizeof name,
                             "%s %s dim %zu cand %zu: exact, cosine, filter, 2 threads", pn, en,
                             dim, cand);
                    check_exact(name, &s, q, nq, 5, &st);
                    second += st.second_pass;
                    s.inv_norm = NULL;
                    s.day = NULL;
                    s.before = NULL;
                    s.threads = 1;
                }
                printf("# %s %s dim %zu: %zu second passes\n", pn, en, dim, second);
                s.compact = NULL;
                s.candidates = 0;
                free(data);
                free(scale);
            }
            free(inv);
            free(day);
        }
        free(x);
        free(q);
    }

    /* Larger store: the compact proof usually holds with the default
     * candidates; results equal the float32 scan. */
    {
        size_t n = 20000, dim = 64, nq = 17;
        float *x = random_rows(n, dim), *q = random_rows(nq, dim);
        int8_t *i8 = malloc(n * dim);
        float *scale = malloc(n * sizeof *scale);
        ok(fa_simd_compact_build(FA_SIMD_I8, x, n, dim, i8, scale) == 0, "int8 copy of 20000 rows");
        struct fa_simd_compact c = {FA_SIMD_I8, i8, scale};
        struct fa_simd_search s = {.rows = x, .n = n, .dim = dim, .compact = &c, .threads = 2};
        struct fa_simd_stats st;
        check_exact("int8 first pass, 20000 x 64, 17 queries, 2 threads: exact top 10", &s, q, nq,
                    10, &st);
        printf("# rescored %zu rows, %zu second passes\n", st.rescored, st.second_pass);
        ok(st.rescored < n, "int8 pass re-scores a fraction of the rows (%zu)", st.rescored);
        free(x);
        free(q);
        free(i8);
        free(scale);
    }

    /* Errors */
    {
        float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, q[4] = {1, NAN, 0, 0};
        struct fa_simd_hit h[2];
        size_t nh[1];
        struct fa_simd_search s = {.rows = x, .n = 2, .dim = 4};
        ok(fa_simd_topk(&s, q, 1, 2, h, nh, NULL) < 0 && strstr(fa_err_get(), "non-finite"),
           "a NaN query is refused");
        s.dim = 0;
        ok(fa_simd_topk(&s, q, 1, 2, h, nh, NULL) < 0, "dimension 0 is refused");
        float big[2] = {1e6f, 0};
        uint16_t hh[2];
        float sc[1];
        ok(fa_simd_compact_build(FA_SIMD_F16, big, 1, 2, hh, sc) < 0, "f16 copy refuses 1e6");
        s.dim = 4;
        s.n = 0;
        q[1] = 0;
        ok(fa_simd_topk(&s, q, 1, 2, h, nh, NULL) == 0 && nh[0] == 0,
           "an empty matrix has no hits");
    }
    return tap_done();
}
