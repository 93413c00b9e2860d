/* fa_llama.c: the llama forward and backward passes behind fa-policy's
 * language-model backbone (see fa_llama.h).
 *
 * Layout: the matrix kernel (packing, the 6x16 micro-kernels, threads),
 * loading (config.json, model.safetensors, dtype conversion), one
 * transformer layer forward and backward written once for both the
 * frozen and the trained layers (a "linear" carries optional gradients
 * and LoRA adapters), the frozen-state cache, and the training API.
 *
 * Only the last token's final state feeds the heads, so the top layer
 * computes queries, attention output and MLP for the last row alone (keys
 * and values still cover every position); every lower trained layer
 * computes all rows. This is exact, not an approximation. */
#include "fa_llama.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FA_LLAMA_X86 1
#else
#define FA_LLAMA_X86 0
#endif

#include "fa_err.h"
#include "fa_record.h"
#include "fa_safetensors.h"
#include "fa_simd.h"
#include "fa_banned.h"

/* ---- the matrix kernel ------------------------------------------------- */

#define MR          6
#define NR          16
#define KC          256
#define MC          72
#define NC          2048
#define MAX_THREADS 64
#define ATT_CHUNK   48
#define PAR_FLOPS   ((double)(1 << 18)) /* below this many multiply-adds: one thread */

/* C(i,j) (+)= sum_p A(i,p) B(p,j) with A(i,p) = a[i*sam + p*sak],
 * B(p,j) = b[p*sbk + j*sbn], C(i,j) = c[i*ldc + j]. */
struct gemm {
    int path, m, n, k;
    const float *a, *b;
    ptrdiff_t sam, sak, sbk, sbn, ldc;
    float *c;
    bool acc;
    const float *bp; /* B already in panels (pack_weight), or NULL */
};

struct gemm_job {
    const struct gemm *g;
    int i0, i1, j0, j1;
    int rc;
};

static void ukr_scalar(int kc, const float *ap, const float *bp, float *c, ptrdiff_t ldc, int mr,
                       int nr, bool acc)
{
    float t[MR][NR];
    memset(t, 0, sizeof t);
    for (int p = 0; p < kc; p++) {
        for (int i = 0; i < MR; i++) {
            float av = ap[i];
            for (int j = 0; j < NR; j++)
                t[i][j] += av * bp[j];
        }
        ap += MR;
        bp += NR;
    }
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++)
            c[i * ldc + j] = acc ? c[i * ldc + j] + t[i][j] : t[i][j];
}

#if FA_LLAMA_X86
#define AVX2 __attribute__((target("avx2,fma,f16c")))

AVX2 static void ukr_avx2(int kc, const float *ap, const float *bp, float *c, ptrdiff_t ldc, int mr,
                          int nr, bool acc)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int p = 0; p < kc; p++) {
        __m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps(bp + 8), a;
        a = _mm256_broadcast_ss(ap + 0);
        c00 = _mm256_fmadd_ps(a, b0, c00);
        c01 = _mm256_fmadd_ps(a, b1, c01);
        a = _mm256_broadcast_ss(ap + 1);
        c10 = _mm256_fmadd_ps(a, b0, c10);
        c11 = _mm256_fmadd_ps(a, b1, c11);
        a = _mm256_broadcast_ss(ap + 2);
        c20 = _mm256_fmadd_ps(a, b0, c20);
        c21 = _mm256_fmadd_ps(a, b1, c21);
        a = _mm256_broadcast_ss(ap + 3);
        c30 = _mm256_fmadd_ps(a, b0, c30);
        c31 = _mm256_fmadd_ps(a, b1, c31);
        a = _mm256_broadcast_ss(ap + 4);
        c40 = _mm256_fmadd_ps(a, b0, c40);
        c41 = _mm256_fmadd_ps(a, b1, c41);
        a = _mm256_broadcast_ss(ap + 5);
        c50 = _mm256_fmadd_ps(a, b0, c50);
        c51 = _mm256_fmadd_ps(a, b1, c51);
        ap += MR;
        bp += NR;
    }
    __m256 r[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    if (mr == MR && nr == NR) {
        for (int i = 0; i < MR; i++) {
            float *ci = c + i * ldc;
            if (acc) {
                r[i][0] = _mm256_add_ps(r[i][0], _mm256_loadu_ps(ci));
                r[i][1] = _mm256_add_ps(r[i][1], _mm256_loadu_ps(ci + 8));
            }
            _mm256_storeu_ps(ci, r[i][0]);
            _mm256_storeu_ps(ci + 8, r[i][1]);
        }
        return;
    }
    float t[MR][NR];
    for (int i = 0; i < MR; i++) {
        _mm256_storeu_ps(t[i], r[i][0]);
        _mm256_storeu_ps(t[i] + 8, r[i][1]);
    }
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++)
            c[i * ldc + j] = acc ? c[i * ldc + j] + t[i][j] : t[i][j];
}
#endif

#if FA_LLAMA_X86
/* Rows r[0..NR) (a weight's rows, contiguous), columns p0..p0+kc, into
 * d[p * NR + j] = r[j][p0 + p]: 8 x 8 blocks transposed in registers. */
AVX2 static void pack_rows_avx2(const float *const *r, ptrdiff_t p0, int kc, float *d)
{
    int p = 0;
    for (; p + 8 <= kc; p += 8)
        for (int h = 0; h < NR; h += 8) {
            __m256 a0 = _mm256_loadu_ps(r[h + 0] + p0 + p), a1 = _mm256_loadu_ps(r[h + 1] + p0 + p);
            __m256 a2 = _mm256_loadu_ps(r[h + 2] + p0 + p), a3 = _mm256_loadu_ps(r[h + 3] + p0 + p);
            __m256 a4 = _mm256_loadu_ps(r[h + 4] + p0 + p), a5 = _mm256_loadu_ps(r[h + 5] + p0 + p);
            __m256 a6 = _mm256_loadu_ps(r[h + 6] + p0 + p), a7 = _mm256_loadu_ps(r[h + 7] + p0 + p);
            __m256 t0 = _mm256_unpacklo_ps(a0, a1), t1 = _mm256_unpackhi_ps(a0, a1);
            __m256 t2 = _mm256_unpacklo_ps(a2, a3), t3 = _mm256_unpackhi_ps(a2, a3);
            __m256 t4 = _mm256_unpacklo_ps(a4, a5), t5 = _mm256_unpackhi_ps(a4, a5);
            __m256 t6 = _mm256_unpacklo_ps(a6, a7), t7 = _mm256_unpackhi_ps(a6, a7);
            __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
            __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
            __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
            __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
            float *o = d + (size_t)p * NR + h;
            _mm256_storeu_ps(o + 0 * NR, _mm256_permute2f128_ps(u0, u4, 0x20));
            _mm256_storeu_ps(o + 1 * NR, _mm256_permute2f128_ps(u1, u5, 0x20));
            _mm256_storeu_ps(o + 2 * NR, _mm256_permute2f128_ps(u2, u6, 0x20));
            _mm256_storeu_ps(o + 3 * NR, _mm256_permute2f128_ps(u3, u7, 0x20));
            _mm256_storeu_ps(o + 4 * NR, _mm256_permute2f128_ps(u0, u4, 0x31));
            _mm256_storeu_ps(o + 5 * NR, _mm256_permute2f128_ps(u1, u5, 0x31));
            _mm256_storeu_ps(o + 6 * NR, _mm256_permute2f128_ps(u2, u6, 0x31));
            _mm256_storeu_ps(o + 7 * NR, _mm256_permute2f128_ps(u3, u7, 0x31));
        }
    for (; p < kc; p++)
        for (int j = 0; j < NR; j++)
            d[(size_t)p * NR + j] = r[j][p0 + p];
}
#endif

/* B(pc.., jc..) (kc x nc) into panels of NR columns: panel q holds
 * kc rows of NR floats, zero-padded. */
static void pack_b(const struct gemm *g, int pc, int kc, int jc, int nc, float *dst)
{
    for (int q = 0; q < nc; q += NR) {
        int w = nc - q < NR ? nc - q : NR;
        float *d = dst + (size_t)q * kc;
        const float *s = g->b + (ptrdiff_t)pc * g->sbk + (ptrdiff_t)(jc + q) * g->sbn;
        if (g->sbn == 1 && w == NR) {
            for (int p = 0; p < kc; p++)
                memcpy(d + p * NR, s + (ptrdiff_t)p * g->sbk, sizeof(float) * NR);
        } else if (g->sbn == 1) {
            for (int p = 0; p < kc; p++) {
                const float *sp = s + (ptrdiff_t)p * g->sbk;
                int j = 0;
                for (; j < w; j++)
                    d[p * NR + j] = sp[j];
                for (; j < NR; j++)
                    d[p * NR + j] = 0;
            }
        } else if (w == NR) {
            /* a weight (sbk == 1): NR rows read side by side */
            const float *r[NR];
            for (int j = 0; j < NR; j++)
                r[j] = s + (ptrdiff_t)j * g->sbn;
#if FA_LLAMA_X86
            if (g->path == FA_SIMD_AVX2 && g->sbk == 1) {
                pack_rows_avx2(r, 0, kc, d);
                continue;
            }
#endif
            for (int p = 0; p < kc; p++)
                for (int j = 0; j < NR; j++)
                    d[p * NR + j] = r[j][(ptrdiff_t)p * g->sbk];
        } else {
            for (int p = 0; p < kc; p++)
                for (int j = 0; j < NR; j++)
                    d[p * NR + j] = j < w ? s[(ptrdiff_t)j * g->sbn + (ptrdiff_t)p * g->sbk] : 0.0f;
        }
    }
}

#if FA_LLAMA_X86
/* MR rows r[i][0..kc) into d[p * MR + i]: 8 x 8 transposes (rows 6, 7
 * repeat row 0), each column stored 8 wide and overwritten in part by the
 * next: writes up to d + kc * MR + 2 (the buffers have the slack). */
AVX2 static void pack_a_rows_avx2(const float *const *r, int kc, float *d)
{
    int p = 0;
    for (; p + 8 <= kc; p += 8) {
        __m256 a0 = _mm256_loadu_ps(r[0] + p), a1 = _mm256_loadu_ps(r[1] + p);
        __m256 a2 = _mm256_loadu_ps(r[2] + p), a3 = _mm256_loadu_ps(r[3] + p);
        __m256 a4 = _mm256_loadu_ps(r[4] + p), a5 = _mm256_loadu_ps(r[5] + p);
        __m256 a6 = a0, a7 = a0;
        __m256 t0 = _mm256_unpacklo_ps(a0, a1), t1 = _mm256_unpackhi_ps(a0, a1);
        __m256 t2 = _mm256_unpacklo_ps(a2, a3), t3 = _mm256_unpackhi_ps(a2, a3);
        __m256 t4 = _mm256_unpacklo_ps(a4, a5), t5 = _mm256_unpackhi_ps(a4, a5);
        __m256 t6 = _mm256_unpacklo_ps(a6, a7), t7 = _mm256_unpackhi_ps(a6, a7);
        __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
        __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
        __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
        __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
        float *o = d + (size_t)p * MR;
        _mm256_storeu_ps(o + 0 * MR, _mm256_permute2f128_ps(u0, u4, 0x20));
        _mm256_storeu_ps(o + 1 * MR, _mm256_permute2f128_ps(u1, u5, 0x20));
        _mm256_storeu_ps(o + 2 * MR, _mm256_permute2f128_ps(u2, u6, 0x20));
        _mm256_storeu_ps(o + 3 * MR, _mm256_permute2f128_ps(u3, u7, 0x20));
        _mm256_storeu_ps(o + 4 * MR, _mm256_permute2f128_ps(u0, u4, 0x31));
        _mm256_storeu_ps(o + 5 * MR, _mm256_permute2f128_ps(u1, u5, 0x31));
        _mm256_storeu_ps(o + 6 * MR, _mm256_permute2f128_ps(u2, u6, 0x31));
        _mm256_storeu_ps(o + 7 * MR, _mm256_permute2f128_ps(u3, u7, 0x31));
    }
    for (; p < kc; p++)
        for (int i = 0; i < MR; i++)
            d[(size_t)p * MR + i] = r[i][p];
}
#endif

/* A(ic.., pc..) (mc x kc) into panels of MR rows, zero-padded. */
static void pack_a(const struct gemm *g, int ic, int mc, int pc, int kc, float *dst)
{
    for (int q = 0; q < mc; q += MR) {
        int h = mc - q < MR ? mc - q : MR;
        float *d = dst + (size_t)q * kc;
        const float *s = g->a + (ptrdiff_t)(ic + q) * g->sam + (ptrdiff_t)pc * g->sak;
        if (h == MR && g->sam == 1) {
            /* A transposed (a gradient's dy^T): MR contiguous floats per p */
            for (int p = 0; p < kc; p++)
                memcpy(d + p * MR, s + (ptrdiff_t)p * g->sak, sizeof(float) * MR);
        } else if (h == MR) {
            const float *r[MR];
            for (int i = 0; i < MR; i++)
                r[i] = s + (ptrdiff_t)i * g->sam;
#if FA_LLAMA_X86
            if (g->path == FA_SIMD_AVX2 && g->sak == 1) {
                pack_a_rows_avx2(r, kc, d);
                continue;
            }
#endif
            for (int p = 0; p < kc; p++)
                for (int i = 0; i < MR; i++)
                    d[p * MR + i] = r[i][(ptrdiff_t)p * g->sak];
        } else {
            for (int p = 0; p < kc; p++)
                for (int i = 0; i < MR; i++)
                    d[p * MR + i] = i < h ? s[(ptrdiff_t)i * g->sam + (ptrdiff_t)p * g->sak] : 0.0f;
        }
    }
}

/* Few rows (the top layer's last token): no packing; dot products when
 * B is a weight (sbk == 1), row updates when B rows are contiguous. */
#define SMALL_M 4

#if FA_LLAMA_X86
AVX2 static float dot_avx2(const float *a, const float *b, int k)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    int p = 0;
    for (; p + 16 <= k; p += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + p), _mm256_loadu_ps(b + p), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + p + 8), _mm256_loadu_ps(b + p + 8), s1);
    }
    s0 = _mm256_add_ps(s0, s1);
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s0), _mm256_extractf128_ps(s0, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    float r = _mm_cvtss_f32(h);
    for (; p < k; p++)
        r += a[p] * b[p];
    return r;
}

AVX2 static void axpy_avx2(float *c, float a, const float *b, int n)
{
    __m256 av = _mm256_set1_ps(a);
    int j = 0;
    for (; j + 8 <= n; j += 8)
        _mm256_storeu_ps(c + j,
                         _mm256_fmadd_ps(av, _mm256_loadu_ps(b + j), _mm256_loadu_ps(c + j)));
    for (; j < n; j++)
        c[j] = fmaf(a, b[j], c[j]); /* fused like the vector lanes: bits independent of the split */
}
#endif

static float dot_scalar(const float *a, const float *b, int k)
{
    float r = 0;
    for (int p = 0; p < k; p++)
        r += a[p] * b[p];
    return r;
}

static void axpy_scalar(float *c, float a, const float *b, int n)
{
    for (int j = 0; j < n; j++)
        c[j] += a * b[j];
}

static void gemm_small(const struct gemm *g, int i0, int i1, int j0, int j1)
{
    float (*dot)(const float *, const float *, int) = dot_scalar;
    void (*axpy)(float *, float, const float *, int) = axpy_scalar;
#if FA_LLAMA_X86
    if (g->path == FA_SIMD_AVX2) {
        dot = dot_avx2;
        axpy = axpy_avx2;
    }
#endif
    for (int i = i0; i < i1; i++) {
        float *ci = g->c + (ptrdiff_t)i * g->ldc;
        if (g->sak == 1 && g->sbk == 1) {
            const float *ai = g->a + (ptrdiff_t)i * g->sam;
            for (int j = j0; j < j1; j++) {
                float v = dot(ai, g->b + (ptrdiff_t)j * g->sbn, g->k);
                ci[j] = g->acc ? ci[j] + v : v;
            }
        } else if (g->sbn == 1) {
            if (!g->acc)
                memset(ci + j0, 0, sizeof(float) * (size_t)(j1 - j0));
            for (int p = 0; p < g->k; p++)
                axpy(ci + j0, g->a[(ptrdiff_t)i * g->sam + (ptrdiff_t)p * g->sak],
                     g->b + (ptrdiff_t)p * g->sbk + j0, j1 - j0);
        } else {
            for (int j = j0; j < j1; j++) {
                float v = 0;
                for (int p = 0; p < g->k; p++)
                    v += g->a[(ptrdiff_t)i * g->sam + (ptrdiff_t)p * g->sak] *
                         g->b[(ptrdiff_t)p * g->sbk + (ptrdiff_t)j * g->sbn];
                ci[j] = g->acc ? ci[j] + v : v;
            }
        }
    }
}

static void *gemm_run(void *arg)
{
    struct gemm_job *jb = arg;
    const struct gemm *g = jb->g;
    /* each thread keeps its packing buffers for its lifetime */
    static _Thread_local float *pb, *pa;
    if (g->m <= SMALL_M) {
        gemm_small(g, jb->i0, jb->i1, jb->j0, jb->j1);
        jb->rc = 0;
        return NULL;
    }
    if (!pb && !g->bp)
        pb = aligned_alloc(64, sizeof(float) * KC * NC);
    if (!pa)
        pa = aligned_alloc(64, sizeof(float) * (KC * MC + 16)); /* + pack_a_rows_avx2's slack */
    if ((!pb && !g->bp) || !pa) {
        jb->rc = -1;
        return NULL;
    }
    void (*ukr)(int, const float *, const float *, float *, ptrdiff_t, int, int, bool) = ukr_scalar;
#if FA_LLAMA_X86
    if (g->path == FA_SIMD_AVX2)
        ukr = ukr_avx2;
#endif
    /* K in equal blocks of at most KC (576: 2 x 288, not 256 + 256 + 64) */
    int kb = (g->k + (g->k + KC - 1) / KC - 1) / ((g->k + KC - 1) / KC);
    if (g->bp) {
        /* B was packed once (a weight): pack each block of A once and run
         * it along the whole column range; panel q of B starts at
         * bp + q * k * NR, its rows pc.. at + pc * NR. */
        for (int pc = 0; pc < g->k; pc += kb) {
            int kc = g->k - pc < kb ? g->k - pc : kb;
            bool acc = g->acc || pc > 0;
            for (int ic = jb->i0; ic < jb->i1; ic += MC) {
                int mc = jb->i1 - ic < MC ? jb->i1 - ic : MC;
                pack_a(g, ic, mc, pc, kc, pa);
                for (int jr = jb->j0; jr < jb->j1; jr += NR) {
                    int nr = jb->j1 - jr < NR ? jb->j1 - jr : NR;
                    const float *bq = g->bp + (size_t)(jr / NR) * g->k * NR + (size_t)pc * NR;
                    for (int ir = 0; ir < mc; ir += MR) {
                        int mr = mc - ir < MR ? mc - ir : MR;
                        ukr(kc, pa + (size_t)ir * kc, bq, g->c + (ptrdiff_t)(ic + ir) * g->ldc + jr,
                            g->ldc, mr, nr, acc);
                    }
                }
            }
        }
        jb->rc = 0;
        return NULL;
    }
    for (int jc = jb->j0; jc < jb->j1; jc += NC) {
        int nc = jb->j1 - jc < NC ? jb->j1 - jc : NC;
        for (int pc = 0; pc < g->k; pc += kb) {
            int kc = g->k - pc < kb ? g->k - pc : kb;
            bool acc = g->acc || pc > 0;
            pack_b(g, pc, kc, jc, nc, pb);
            for (int ic = jb->i0; ic < jb->i1; ic += MC) {
                int mc = jb->i1 - ic < MC ? jb->i1 - ic : MC;
                pack_a(g, ic, mc, pc, kc, pa);
                for (int jr = 0; jr < nc; jr += NR) {
                    int nr = nc - jr < NR ? nc - jr : NR;
                    for (int ir = 0; ir < mc; ir += MR) {
                        int mr = mc - ir < MR ? mc - ir : MR;
                        ukr(kc, pa + (size_t)ir * kc, pb + (size_t)jr * kc,
                            g->c + (ptrdiff_t)(ic + ir) * g->ldc + jc + jr, g->ldc, mr, nr, acc);
                    }
                }
            }
        }
    }
    jb->rc = 0;
    return NULL;
}

/* A pool of worker threads, started on first use and kept: a forward
 * pass makes hundreds of products, too many to start threads for each.
 * One product uses the pool at a time; a product that finds it busy (a
 * caller on another thread) runs on its caller's thread alone. The
 * caller and the workers claim the product's jobs one at a time, so a
 * worker that the system has not scheduled yet (a loaded machine) costs
 * nothing: the caller runs the jobs nobody took, then waits only for
 * those being run. Each job gives the same bits on any thread. */
static struct {
    pthread_mutex_t use; /* held by the product using the pool */
    pthread_mutex_t mu;  /* guards the rest */
    pthread_cond_t go, done;
    int nworkers;
    struct gemm_job *jobs;
    int njobs, next, completed;
} pool = {.use = PTHREAD_MUTEX_INITIALIZER,
          .mu = PTHREAD_MUTEX_INITIALIZER,
          .go = PTHREAD_COND_INITIALIZER,
          .done = PTHREAD_COND_INITIALIZER};

/* Claims and runs the current product's jobs until none is left; called
 * and returns with pool.mu held. */
static void pool_drain(void)
{
    while (pool.next < pool.njobs) {
        struct gemm_job *jb = &pool.jobs[pool.next++];
        pthread_mutex_unlock(&pool.mu);
        gemm_run(jb);
        pthread_mutex_lock(&pool.mu);
        if (++pool.completed == pool.njobs)
            pthread_cond_signal(&pool.done);
    }
}

static void *pool_worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&pool.mu);
    for (;;) {
        while (pool.next >= pool.njobs)
            pthread_cond_wait(&pool.go, &pool.mu);
        pool_drain();
    }
    return NULL;
}

static void run_serial(struct gemm_job *jobs, int t)
{
    for (int i = 0; i < t; i++)
        gemm_run(&jobs[i]);
}

static void pool_run(struct gemm_job *jobs, int t)
{
    if (t <= 1 || pthread_mutex_trylock(&pool.use) != 0) {
        run_serial(jobs, t);
        return;
    }
    pthread_mutex_lock(&pool.mu);
    while (pool.nworkers < t - 1) {
        pthread_t tid;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        int rc = pthread_create(&tid, &at, pool_worker, NULL);
        pthread_attr_destroy(&at);
        if (rc != 0)
            break; /* fewer workers: the caller takes their jobs */
        pool.nworkers++;
    }
    pool.jobs = jobs;
    pool.njobs = t;
    pool.next = 0;
    pool.completed = 0;
    pthread_cond_broadcast(&pool.go);
    pool_drain();
    while (pool.completed < pool.njobs)
        pthread_cond_wait(&pool.done, &pool.mu);
    pool.jobs = NULL;
    pool.njobs = pool.next = pool.completed = 0;
    pthread_mutex_unlock(&pool.mu);
    pthread_mutex_unlock(&pool.use);
}

static int env_threads(void)
{
    static int cached;
    if (cached)
        return cached;
    long t = 0;
    const char *e = getenv("FA_THREADS");
    if (e && *e) {
        char *end;
        errno = 0;
        t = strtol(e, &end, 10);
        if (errno || *end || t < 1)
            t = 0;
    }
    if (t < 1)
        t = sysconf(_SC_NPROCESSORS_ONLN);
    if (t < 1)
        t = 1;
    if (t > MAX_THREADS)
        t = MAX_THREADS;
    cached = (int)t;
    return cached;
}

/* fa_simd_resolve asks the CPU (cpuid, slow in a virtual machine), so
 * each answer is remembered; FA_SIMD is read once. */
static int resolve_path(int path)
{
    static int known[3] = {-1, -1, -1};
    if (path < 0 || path > 2)
        path = FA_SIMD_AUTO;
    int k = __atomic_load_n(&known[path], __ATOMIC_RELAXED);
    if (k < 0) {
        k = fa_simd_resolve(path);
        if (k < 0)
            k = FA_SIMD_SCALAR;
        __atomic_store_n(&known[path], k, __ATOMIC_RELAXED);
    }
    return k;
}

/* Runs g on up to threads threads (0: automatic); aborts nothing: a
 * thread that cannot start leaves its share to the caller's thread. */
static void gemm_exec(struct gemm *g, int threads)
{
    if (g->m <= 0 || g->n <= 0)
        return;
    if (g->k <= 0) {
        if (!g->acc)
            for (int i = 0; i < g->m; i++)
                memset(g->c + (ptrdiff_t)i * g->ldc, 0, sizeof(float) * (size_t)g->n);
        return;
    }
    g->path = resolve_path(g->path);
    int t = threads > 0 ? threads : env_threads();
    if (t > MAX_THREADS)
        t = MAX_THREADS;
    if ((double)g->m * g->n * g->k < PAR_FLOPS)
        t = 1;
    int nb = (g->n + NR - 1) / NR, mb = (g->m + MR - 1) / MR;
    bool split_n = nb >= 2 * t || nb >= mb;
    int blocks = split_n ? nb : mb;
    if (t > blocks)
        t = blocks;
    struct gemm_job jobs[MAX_THREADS];
    for (int i = 0; i < t; i++) {
        int b0 = (int)((long)blocks * i / t), b1 = (int)((long)blocks * (i + 1) / t);
        jobs[i] = (struct gemm_job){.g = g, .i0 = 0, .i1 = g->m, .j0 = 0, .j1 = g->n};
        if (split_n) {
            jobs[i].j0 = b0 * NR;
            jobs[i].j1 = b1 * NR < g->n ? b1 * NR : g->n;
        } else {
            jobs[i].i0 = b0 * MR;
            jobs[i].i1 = b1 * MR < g->m ? b1 * MR : g->m;
        }
    }
    pool_run(jobs, t);
    /* out of memory in a worker: redo its share with the portable path */
    for (int i = 0; i < t; i++)
        if (jobs[i].rc < 0) {
            const struct gemm *q = jobs[i].g;
            for (int r = jobs[i].i0; r < jobs[i].i1; r++)
                for (int j = jobs[i].j0; j < jobs[i].j1; j++) {
                    float s = 0;
                    for (int p = 0; p < q->k; p++)
                        s += q->a[r * q->sam + p * q->sak] * q->b[p * q->sbk + j * q->sbn];
                    float *cc = &q->c[r * q->ldc + j];
                    *cc = q->acc ? *cc + s : s;
                }
        }
}

/* w (out x in, row-major) into d (packed_floats(out, in) floats, 64-byte
 * aligned) as the kernel's B panels: panel q holds rows q*NR.. as in x NR
 * floats (p-major), zero-padded past out. */
static size_t packed_floats(int out, int in)
{
    return (size_t)((out + NR - 1) / NR) * NR * (size_t)in;
}

static void pack_weight(int path, const float *w, int out, int in, float *d)
{
    struct gemm g = {path, 0, out, in, NULL, w, 0, 0, 1, in, 0, NULL, false, NULL};
    pack_b(&g, 0, in, 0, out, d);
}

void fa_llama_gemm(int path, int threads, int m, int n, int k, const float *a, const float *b,
                   float *c, bool accumulate)
{
    struct gemm g = {path, m, n, k, a, b, k, 1, 1, k, n, c, accumulate, NULL};
    gemm_exec(&g, threads);
}

void fa_llama_gemm_nn(int path, int threads, int m, int n, int k, const float *a, const float *b,
                      float *c, bool accumulate)
{
    struct gemm g = {path, m, n, k, a, b, k, 1, n, 1, n, c, accumulate, NULL};
    gemm_exec(&g, threads);
}

void fa_llama_gemm_tn(int path, int threads, int m, int n, int k, const float *a, const float *b,
                      float *c, bool accumulate)
{
    struct gemm g = {path, m, n, k, a, b, 1, m, n, 1, n, c, accumulate, NULL};
    gemm_exec(&g, threads);
}

/* ---- the model ---------------------------------------------------------- */

/* y = x W^T (+ s (x A^T) B^T): a frozen or trained projection. */
struct lin {
    const float *w;  /* out x in */
    const float *wp; /* w in the kernel's panels (frozen weights), or NULL */
    float *gw;       /* its gradient (full training), or NULL */
    int out, in;
    int r; /* LoRA rank, 0: none */
    float s;
    float *A, *B, *gA, *gB; /* r x in, out x r */
};

struct layer {
    const float *w_in, *w_post; /* RMSNorm weights */
    float *gw_in, *gw_post;
    struct lin q, k, v, o, g, u, d;
};

struct fa_llama {
    struct fa_llama_config cfg;
    int hd, kvd; /* head dim, n_kv_heads x hd */
    struct fa_st *st;
    char *dir;
    char hash[65];
    unsigned char wid[32]; /* identifies the weights (cache keys) */
    const float *embed, *norm, *head;
    const float *headp; /* head packed for the kernel */
    void *arena;        /* the packed weights (mmap) */
    size_t arena_len;
    struct layer *layers;
    float **owned; /* converted tensors */
    size_t nowned;
    int path, threads;
    float *cos_t, *sin_t; /* max_pos x hd/2 */
};

static void lin_init(struct lin *l, const float *w, int out, int in)
{
    memset(l, 0, sizeof *l);
    l->w = w;
    l->out = out;
    l->in = in;
}

/* ---- loading ------------------------------------------------------------ */

static int cfg_int(struct json_object *o, const char *path, const char *key, int def, int *out)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
        if (def < 0) {
            fa_err_set("'%s': missing key '%s'", path, key);
            return -1;
        }
        *out = def;
        return 0;
    }
    if (!json_object_is_type(v, json_type_int)) {
        fa_err_set("'%s': '%s' is not an integer", path, key);
        return -1;
    }
    int64_t x = json_object_get_int64(v);
    if (x < 1 || x > (1 << 24)) {
        fa_err_set("'%s': '%s' = %lld is out of range", path, key, (long long)x);
        return -1;
    }
    *out = (int)x;
    return 0;
}

static int cfg_float(struct json_object *o, const char *path, const char *key, double def,
                     float *out)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
        *out = (float)def;
        return 0;
    }
    if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int)) {
        fa_err_set("'%s': '%s' is not a number", path, key);
        return -1;
    }
    double x = json_object_get_double(v);
    if (!(x > 0) || !isfinite(x)) {
        fa_err_set("'%s': '%s' must be a positive number", path, key);
        return -1;
    }
    *out = (float)x;
    return 0;
}

static bool cfg_false(struct json_object *o, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
        return true;
    return json_object_is_type(v, json_type_boolean) && !json_object_get_boolean(v);
}

static int parse_config(struct fa_llama *m, const char *path, struct json_object *o)
{
    struct fa_llama_config *c = &m->cfg;
    struct json_object *v;
    bool llama = false;
    if (json_object_object_get_ex(o, "model_type", &v) &&
        json_object_is_type(v, json_type_string)) {
        if (strcmp(json_object_get_string(v), "llama") != 0) {
            fa_err_set("'%s': unsupported architecture: model_type '%s' (only 'llama')", path,
                       json_object_get_string(v));
            return -1;
        }
        llama = true;
    }
    if (json_object_object_get_ex(o, "architectures", &v) &&
        json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            const char *a = json_object_get_string(json_object_array_get_idx(v, i));
            if (a && strcmp(a, "LlamaForCausalLM") == 0)
                llama = true;
            else if (a) {
                fa_err_set("'%s': unsupported architecture '%s' (only LlamaForCausalLM)", path, a);
                return -1;
            }
        }
    }
    if (!llama) {
        fa_err_set("'%s': unknown architecture (neither model_type 'llama' nor architectures "
                   "LlamaForCausalLM)",
                   path);
        return -1;
    }
    snprintf(c->arch, sizeof c->arch, "llama");
    if (cfg_int(o, path, "hidden_size", -1, &c->hidden) < 0 ||
        cfg_int(o, path, "intermediate_size", -1, &c->intermediate) < 0 ||
        cfg_int(o, path, "num_hidden_layers", -1, &c->n_layers) < 0 ||
        cfg_int(o, path, "num_attention_heads", -1, &c->n_heads) < 0 ||
        cfg_int(o, path, "vocab_size", -1, &c->vocab) < 0 ||
        cfg_int(o, path, "num_key_value_heads", c->n_heads, &c->n_kv_heads) < 0 ||
        cfg_int(o, path, "max_position_embeddings", 2048, &c->max_pos) < 0 ||
        cfg_float(o, path, "rms_norm_eps", 1e-6, &c->rms_eps) < 0 ||
        cfg_float(o, path, "rope_theta", 10000.0, &c->rope_theta) < 0)
        return -1;
    c->tied = false;
    if (json_object_object_get_ex(o, "tie_word_embeddings", &v) &&
        json_object_is_type(v, json_type_boolean))
        c->tied = json_object_get_boolean(v);
    if (json_object_object_get_ex(o, "hidden_act", &v) && !json_object_is_type(v, json_type_null) &&
        strcmp(json_object_get_string(v), "silu") != 0) {
        fa_err_set("'%s': unsupported hidden_act '%s' (only 'silu')", path,
                   json_object_get_string(v));
        return -1;
    }
    if (!cfg_false(o, "rope_scaling")) {
        fa_err_set("'%s': rope_scaling is not supported (only null)", path);
        return -1;
    }
    if (!cfg_false(o, "attention_bias") || !cfg_false(o, "mlp_bias")) {
        fa_err_set("'%s': attention_bias/mlp_bias are not supported", path);
        return -1;
    }
    if (c->hidden % c->n_heads || c->n_heads % c->n_kv_heads || (c->hidden / c->n_heads) % 2) {
        fa_err_set("'%s': hidden_size %d, num_attention_heads %d and num_key_value_heads %d "
                   "do not fit together",
                   path, c->hidden, c->n_heads, c->n_kv_heads);
        return -1;
    }
    int hdim;
    if (json_object_object_get_ex(o, "head_dim", &v) && !json_object_is_type(v, json_type_null) &&
        (cfg_int(o, path, "head_dim", 1, &hdim) < 0 || hdim != c->hidden / c->n_heads)) {
        fa_err_set("'%s': head_dim other than hidden_size / num_attention_heads is not supported",
                   path);
        return -1;
    }
    m->hd = c->hidden / c->n_heads;
    m->kvd = c->n_kv_heads * m->hd;
    return 0;
}

static void bf16_to_f32(const uint16_t *s, float *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t x = (uint32_t)s[i] << 16;
        memcpy(&d[i], &x, 4);
    }
}

#if FA_LLAMA_X86
AVX2 static void f16_to_f32_f16c(const uint16_t *s, float *d, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h;
        memcpy(&h, s + i, 16);
        _mm256_storeu_ps(d + i, _mm256_cvtph_ps(h));
    }
    for (; i < n; i++)
        d[i] = fa_simd_f16_to_f32(s[i]);
}
#endif

static void f16_to_f32(int path, const uint16_t *s, float *d, size_t n)
{
#if FA_LLAMA_X86
    if (path == FA_SIMD_AVX2) {
        f16_to_f32_f16c(s, d, n);
        return;
    }
#endif
    (void)path;
    for (size_t i = 0; i < n; i++)
        d[i] = fa_simd_f16_to_f32(s[i]);
}

/* The tensor name as f32, checked against the shape [d0] or [d0, d1]. */
static const float *tensor(struct fa_llama *m, const char *name, int64_t d0, int64_t d1)
{
    const struct fa_st_tensor *t = fa_st_find(m->st, name);
    if (!t) {
        fa_err_set("'%s': missing tensor '%s'", fa_st_path(m->st), name);
        return NULL;
    }
    int nd = d1 ? 2 : 1;
    if (t->ndim != nd || t->shape[0] != d0 || (nd == 2 && t->shape[1] != d1)) {
        char got[96] = "", want[64];
        size_t off = 0;
        for (int i = 0; i < t->ndim && off < sizeof got - 24; i++)
            off += (size_t)snprintf(got + off, sizeof got - off, "%s%lld", i ? ", " : "",
                                    (long long)t->shape[i]);
        if (nd == 2)
            snprintf(want, sizeof want, "%lld, %lld", (long long)d0, (long long)d1);
        else
            snprintf(want, sizeof want, "%lld", (long long)d0);
        fa_err_set("'%s': tensor '%s' has shape [%s], expected [%s]", fa_st_path(m->st), name, got,
                   want);
        return NULL;
    }
    if (t->dtype == FA_ST_F32) {
        if ((uintptr_t)t->data % 4) {
            fa_err_set("'%s': tensor '%s' is not 4-byte aligned", fa_st_path(m->st), name);
            return NULL;
        }
        return t->data;
    }
    float **o = realloc(m->owned, (m->nowned + 1) * sizeof *o);
    float *d = malloc(t->nelem * sizeof *d + 1);
    if (!o || !d) {
        if (o)
            m->owned = o;
        free(d);
        fa_err_set("out of memory converting '%s'", name);
        return NULL;
    }
    m->owned = o;
    m->owned[m->nowned++] = d;
    uint16_t *tmp = malloc(t->nelem * 2 + 1);
    if (!tmp) {
        fa_err_set("out of memory converting '%s'", name);
        return NULL;
    }
    memcpy(tmp, t->data, t->nelem * 2); /* the mapping may be unaligned for 2-byte reads */
    if (t->dtype == FA_ST_BF16)
        bf16_to_f32(tmp, d, t->nelem);
    else
        f16_to_f32(m->path, tmp, d, t->nelem);
    free(tmp);
    return d;
}

void fa_llama_free(struct fa_llama *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nowned; i++)
        free(m->owned[i]);
    free(m->owned);
    free(m->layers);
    if (m->arena)
        munmap(m->arena, m->arena_len);
    free(m->cos_t);
    free(m->sin_t);
    fa_st_close(m->st);
    free(m->dir);
    free(m);
}

static char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int make_hash(struct fa_llama *m, struct json_object *cfg)
{
    char *canon = fa_json_canonical(cfg, NULL);
    if (!canon) {
        fa_err_set("out of memory");
        return -1;
    }
    crypto_generichash_state hs, ws;
    crypto_generichash_init(&hs, NULL, 0, 32);
    crypto_generichash_update(&hs, (const unsigned char *)canon, strlen(canon) + 1);
    free(canon);
    crypto_generichash_init(&ws, NULL, 0, 32);
    for (size_t i = 0; i < fa_st_count(m->st); i++) {
        const struct fa_st_tensor *t = fa_st_at(m->st, i);
        char line[512];
        int len = snprintf(line, sizeof line, "%s %s", t->name, fa_st_dtype_name(t->dtype));
        for (int d = 0; d < t->ndim && len > 0 && (size_t)len < sizeof line - 24; d++)
            len += snprintf(line + len, sizeof line - (size_t)len, " %lld", (long long)t->shape[d]);
        if (len < 0)
            len = 0;
        if ((size_t)len >= sizeof line)
            len = (int)sizeof line - 1;
        crypto_generichash_update(&hs, (const unsigned char *)line, (size_t)len + 1);
        /* the weights' identity for cache keys: a sample of each tensor's bytes */
        crypto_generichash_update(&ws, (const unsigned char *)line, (size_t)len + 1);
        const unsigned char *p = t->data;
        for (int s = 0; s < 16 && t->nbytes; s++) {
            size_t off = t->nbytes / 16 * (size_t)s,
                   l = t->nbytes - off < 64 ? t->nbytes - off : 64;
            crypto_generichash_update(&ws, p + off, l);
        }
    }
    unsigned char h[32];
    crypto_generichash_final(&hs, h, sizeof h);
    sodium_bin2hex(m->hash, sizeof m->hash, h, sizeof h);
    crypto_generichash_update(&ws, h, sizeof h);
    crypto_generichash_final(&ws, m->wid, sizeof m->wid);
    return 0;
}

struct fa_llama *fa_llama_open(const char *dir)
{
    /* The passes allocate and free buffers of a few MB per layer; keep them
     * in the heap instead of mmap/munmap (and page faults) every time. */
    static int tuned;
    if (!tuned) {
        tuned = 1;
        mallopt(M_MMAP_THRESHOLD, 64 << 20);
        mallopt(M_TRIM_THRESHOLD, 256 << 20);
    }
    if (sodium_init() < 0) {
        fa_err_set("libsodium failed to initialise");
        return NULL;
    }
    struct fa_llama *m = calloc(1, sizeof *m);
    char *cpath = path_join(dir, "config.json"), *spath = path_join(dir, "model.safetensors");
    struct json_object *cfg = NULL;
    if (!m || !cpath || !spath) {
        fa_err_set("out of memory");
        goto fail;
    }
    m->path = resolve_path(FA_SIMD_AUTO);
    m->dir = strdup(dir);
    if (!m->dir) {
        fa_err_set("out of memory");
        goto fail;
    }
    cfg = json_object_from_file(cpath);
    if (!cfg) {
        struct stat sb;
        if (stat(cpath, &sb) < 0)
            fa_err_sys("cannot read '%s'", cpath);
        else
            fa_err_set("'%s': not valid JSON", cpath);
        goto fail;
    }
    if (!json_object_is_type(cfg, json_type_object)) {
        fa_err_set("'%s': not a JSON object", cpath);
        goto fail;
    }
    if (parse_config(m, cpath, cfg) < 0)
        goto fail;
    m->st = fa_st_open(spath);
    if (!m->st)
        goto fail;
    const struct fa_llama_config *c = &m->cfg;
    int d = c->hidden, I = c->intermediate;
    m->embed = tensor(m, "model.embed_tokens.weight", c->vocab, d);
    m->norm = tensor(m, "model.norm.weight", d, 0);
    if (!m->embed || !m->norm)
        goto fail;
    if (c->tied)
        m->head = m->embed;
    else if (!(m->head = tensor(m, "lm_head.weight", c->vocab, d)))
        goto fail;
    m->layers = calloc((size_t)c->n_layers, sizeof *m->layers);
    if (!m->layers) {
        fa_err_set("out of memory");
        goto fail;
    }
    for (int l = 0; l < c->n_layers; l++) {
        struct layer *L = &m->layers[l];
        char nm[128];
#define T(field, sfx, d0, d1)                                                                      \
    snprintf(nm, sizeof nm, "model.layers.%d.%s", l, sfx);                                         \
    if (!(field = tensor(m, nm, d0, d1)))                                                          \
        goto fail;
        const float *w;
        T(L->w_in, "input_layernorm.weight", d, 0);
        T(L->w_post, "post_attention_layernorm.weight", d, 0);
        T(w, "self_attn.q_proj.weight", d, d);
        lin_init(&L->q, w, d, d);
        T(w, "self_attn.k_proj.weight", m->kvd, d);
        lin_init(&L->k, w, m->kvd, d);
        T(w, "self_attn.v_proj.weight", m->kvd, d);
        lin_init(&L->v, w, m->kvd, d);
        T(w, "self_attn.o_proj.weight", d, d);
        lin_init(&L->o, w, d, d);
        T(w, "mlp.gate_proj.weight", I, d);
        lin_init(&L->g, w, I, d);
        T(w, "mlp.up_proj.weight", I, d);
        lin_init(&L->u, w, I, d);
        T(w, "mlp.down_proj.weight", d, I);
        lin_init(&L->d, w, d, I);
#undef T
    }
    if (make_hash(m, cfg) < 0)
        goto fail;
    /* every weight packed once for the kernel, in one mapping with huge
     * pages (fewer page faults and TLB misses): one more copy of the
     * model in memory */
    size_t tot = packed_floats(c->vocab, d);
    for (int l = 0; l < c->n_layers; l++) {
        struct layer *L = &m->layers[l];
        struct lin *lins[7] = {&L->q, &L->k, &L->v, &L->o, &L->g, &L->u, &L->d};
        for (int i = 0; i < 7; i++)
            tot += packed_floats(lins[i]->out, lins[i]->in);
    }
    m->arena_len = tot * sizeof(float);
    void *ar = mmap(NULL, m->arena_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ar == MAP_FAILED) {
        m->arena = NULL;
        fa_err_set("out of memory packing the weights");
        goto fail;
    }
    m->arena = ar;
#ifdef MADV_HUGEPAGE
    madvise(ar, m->arena_len, MADV_HUGEPAGE); /* a hint: failure is harmless */
#endif
    float *dst = ar;
    for (int l = 0; l < c->n_layers; l++) {
        struct layer *L = &m->layers[l];
        struct lin *lins[7] = {&L->q, &L->k, &L->v, &L->o, &L->g, &L->u, &L->d};
        for (int i = 0; i < 7; i++) {
            pack_weight(m->path, lins[i]->w, lins[i]->out, lins[i]->in, dst);
            lins[i]->wp = dst;
            dst += packed_floats(lins[i]->out, lins[i]->in);
        }
    }
    pack_weight(m->path, m->head, c->vocab, d, dst);
    m->headp = dst;
    int half = m->hd / 2;
    m->cos_t = malloc(sizeof(float) * (size_t)c->max_pos * (size_t)half);
    m->sin_t = malloc(sizeof(float) * (size_t)c->max_pos * (size_t)half);
    if (!m->cos_t || !m->sin_t) {
        fa_err_set("out of memory");
        goto fail;
    }
    for (int i = 0; i < half; i++) {
        /* as Hugging Face: inv_freq in float32, angle = pos * inv_freq in float32 */
        float inv = (float)(1.0 / pow((double)c->rope_theta, (double)(2 * i) / m->hd));
        for (int p = 0; p < c->max_pos; p++) {
            float ang = (float)p * inv;
            m->cos_t[(size_t)p * half + i] = cosf(ang);
            m->sin_t[(size_t)p * half + i] = sinf(ang);
        }
    }
    json_object_put(cfg);
    free(cpath);
    free(spath);
    return m;
fail:
    if (cfg)
        json_object_put(cfg);
    free(cpath);
    free(spath);
    fa_llama_free(m);
    return NULL;
}

const struct fa_llama_config *fa_llama_config(const struct fa_llama *m)
{
    return &m->cfg;
}

const char *fa_llama_config_hash(const struct fa_llama *m)
{
    return m->hash;
}

void fa_llama_set_path(struct fa_llama *m, int path, int threads)
{
    m->path = resolve_path(path);
    m->threads = threads;
}

/* ---- one layer ---------------------------------------------------------- */

/* y (+)= x w^T; wp: w packed by pack_weight, or NULL. */
static void gemm_nt(const struct fa_llama *m, int rows, int out, int in, const float *x,
                    const float *w, const float *wp, float *y, bool acc)
{
    struct gemm g = {m->path, rows, out, in, x, w, in, 1, 1, in, out, y, acc, wp};
    gemm_exec(&g, m->threads);
}

/* The kernel on strided operands (see struct gemm; same argument order),
 * on m's path and threads. */
static void gemm_s(const struct fa_llama *m, int M, int N, int K, const float *a, const float *b,
                   ptrdiff_t sam, ptrdiff_t sak, ptrdiff_t sbk, ptrdiff_t sbn, ptrdiff_t ldc,
                   float *c, bool acc)
{
    struct gemm g = {m->path, M, N, K, a, b, sam, sak, sbk, sbn, ldc, c, acc, NULL};
    gemm_exec(&g, m->threads);
}

/* What a layer's backward needs (also the forward's scratch). */
struct lact {
    int n, r0, nq;
    float *x;     /* n x d, the input */
    float *rstd1; /* n */
    float *xn1;   /* n x d */
    float *q;     /* nq x d (rotated) */
    float *k, *v; /* n x kvd (k rotated) */
    float *p;     /* heads x nq x n, softmax */
    float *att;   /* nq x d */
    float *x2;    /* nq x d */
    float *rstd2; /* nq */
    float *xn2;   /* nq x d */
    float *g, *u; /* nq x I */
    float *a;     /* nq x I */
    float *xa[7]; /* LoRA: rows x r, scaled by s */
};

static void lact_free(struct lact *s)
{
    if (!s)
        return;
    free(s->x);
    free(s->rstd1);
    free(s->xn1);
    free(s->q);
    free(s->k);
    free(s->v);
    free(s->p);
    free(s->att);
    free(s->x2);
    free(s->rstd2);
    free(s->xn2);
    free(s->g);
    free(s->u);
    free(s->a);
    for (int i = 0; i < 7; i++)
        free(s->xa[i]);
    free(s);
}

static float *fl(size_t n)
{
    return malloc((n ? n : 1) * sizeof(float));
}

#if FA_LLAMA_X86
/* sum of x[j]^2 in double */
AVX2 static double sumsq_avx2(const float *x, int d)
{
    __m256d s0 = _mm256_setzero_pd(), s1 = s0;
    int j = 0;
    for (; j + 8 <= d; j += 8) {
        __m256d a = _mm256_cvtps_pd(_mm_loadu_ps(x + j)),
                b = _mm256_cvtps_pd(_mm_loadu_ps(x + j + 4));
        s0 = _mm256_fmadd_pd(a, a, s0);
        s1 = _mm256_fmadd_pd(b, b, s1);
    }
    s0 = _mm256_add_pd(s0, s1);
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s0), _mm256_extractf128_pd(s0, 1));
    double r = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
    for (; j < d; j++)
        r += (double)x[j] * x[j];
    return r;
}
#endif

/* y = w * x / rms(x) by rows (y may be x); rstd[i] = 1 / rms(x_i) when
 * rstd is not NULL. Only the sum of squares is vectorised: the products
 * are the same on both paths. */
static void rmsnorm(const struct fa_llama *m, const float *x, const float *w, int rows, int d,
                    float eps, float *y, float *rstd)
{
    for (int i = 0; i < rows; i++) {
        const float *xi = x + (size_t)i * d;
        float *yi = y + (size_t)i * d;
        double ss = 0;
#if FA_LLAMA_X86
        if (m->path == FA_SIMD_AVX2)
            ss = sumsq_avx2(xi, d);
        else
#endif
            for (int j = 0; j < d; j++)
                ss += (double)xi[j] * xi[j];
        float r = 1.0f / sqrtf((float)(ss / d) + eps);
        if (rstd)
            rstd[i] = r;
        for (int j = 0; j < d; j++)
            yi[j] = w[j] * (xi[j] * r);
    }
}

/* dx (+)= d/dx of y = w * x * rstd given dy; dw += sum dy * x * rstd. */
static void rmsnorm_back(const float *x, const float *w, const float *rstd, const float *dy,
                         int rows, int d, float *dx, bool acc, float *dw)
{
    for (int i = 0; i < rows; i++) {
        const float *xi = x + (size_t)i * d, *dyi = dy + (size_t)i * d;
        float r = rstd[i];
        double dot = 0;
        for (int j = 0; j < d; j++) {
            dot += (double)dyi[j] * w[j] * xi[j];
            if (dw)
                dw[j] += dyi[j] * xi[j] * r;
        }
        if (!dx)
            continue;
        float c = (float)(dot * r * r * r / d);
        float *dxi = dx + (size_t)i * d;
        for (int j = 0; j < d; j++) {
            float v = r * dyi[j] * w[j] - c * xi[j];
            dxi[j] = acc ? dxi[j] + v : v;
        }
    }
}

/* ---- elementwise kernels (AVX2 and scalar) ----------------------------- */

#if FA_LLAMA_X86
/* e^x for x in [-87.3, 88.7] (clamped): Cody-Waite reduction by ln 2 and a
 * degree-5 polynomial (Cephes' expf coefficients), within 2 ulp of expf. */
AVX2 static inline __m256 exp_avx2(__m256 x)
{
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.7f));
    __m256 fx = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
    __m256 y = _mm256_set1_ps(1.9875691500e-4f);
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
    __m256i e =
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

AVX2 static float hsum_avx2(__m256 v)
{
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

AVX2 static float hmax_avx2(__m256 v)
{
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

/* The lanes past len, for a tail of len % 8 elements. */
AVX2 static inline __m256i tail_mask(int len)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(len), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

AVX2 static void softmax_avx2(float *p, int len, float scale)
{
    __m256 sc = _mm256_set1_ps(scale), mx = _mm256_set1_ps(-INFINITY);
    int j = 0;
    for (; j + 8 <= len; j += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(p + j), sc);
        _mm256_storeu_ps(p + j, v);
        mx = _mm256_max_ps(mx, v);
    }
    float m = hmax_avx2(mx);
    for (; j < len; j++) {
        p[j] *= scale;
        if (p[j] > m)
            m = p[j];
    }
    __m256 mv = _mm256_set1_ps(m), sum = _mm256_setzero_ps();
    for (j = 0; j + 8 <= len; j += 8) {
        __m256 e = exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(p + j), mv));
        _mm256_storeu_ps(p + j, e);
        sum = _mm256_add_ps(sum, e);
    }
    if (j < len) {
        __m256i mk = tail_mask(len - j);
        __m256 e = exp_avx2(_mm256_sub_ps(_mm256_maskload_ps(p + j, mk), mv));
        e = _mm256_and_ps(e, _mm256_castsi256_ps(mk));
        _mm256_maskstore_ps(p + j, mk, e);
        sum = _mm256_add_ps(sum, e);
    }
    __m256 inv = _mm256_set1_ps(1.0f / hsum_avx2(sum));
    for (j = 0; j + 8 <= len; j += 8)
        _mm256_storeu_ps(p + j, _mm256_mul_ps(_mm256_loadu_ps(p + j), inv));
    for (; j < len; j++)
        p[j] *= _mm256_cvtss_f32(inv);
}

/* a = silu(g) * u */
AVX2 static void swiglu_avx2(const float *g, const float *u, float *a, size_t n)
{
    __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 gv = _mm256_loadu_ps(g + i);
        __m256 e = exp_avx2(_mm256_sub_ps(zero, gv));
        _mm256_storeu_ps(
            a + i, _mm256_mul_ps(_mm256_div_ps(gv, _mm256_add_ps(one, e)), _mm256_loadu_ps(u + i)));
    }
    for (; i < n; i++) {
        __m256 e = exp_avx2(_mm256_set1_ps(-g[i]));
        a[i] = g[i] / (1.0f + _mm256_cvtss_f32(e)) * u[i];
    }
}

/* Given da = d(loss)/d(a) for a = silu(g) u: dg, and da becomes d(u). */
AVX2 static void swiglu_back_avx2(const float *g, const float *u, float *da, float *dg, size_t n)
{
    __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 gv = _mm256_loadu_ps(g + i), d = _mm256_loadu_ps(da + i);
        __m256 sg = _mm256_div_ps(one, _mm256_add_ps(one, exp_avx2(_mm256_sub_ps(zero, gv))));
        __m256 dsg = _mm256_fmadd_ps(gv, _mm256_sub_ps(one, sg), one); /* 1 + g (1 - sg) */
        _mm256_storeu_ps(
            dg + i,
            _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(d, _mm256_loadu_ps(u + i)), sg), dsg));
        _mm256_storeu_ps(da + i, _mm256_mul_ps(d, _mm256_mul_ps(gv, sg)));
    }
    for (; i < n; i++) {
        float gv = g[i], sg = 1.0f / (1.0f + _mm256_cvtss_f32(exp_avx2(_mm256_set1_ps(-gv))));
        dg[i] = da[i] * u[i] * sg * (1.0f + gv * (1.0f - sg));
        da[i] = da[i] * (gv * sg);
    }
}
#endif

static void softmax_scalar(float *p, int len, float scale)
{
    float mx = -INFINITY;
    for (int j = 0; j < len; j++) {
        p[j] *= scale;
        if (p[j] > mx)
            mx = p[j];
    }
    float sum = 0;
    for (int j = 0; j < len; j++) {
        p[j] = expf(p[j] - mx);
        sum += p[j];
    }
    float inv = 1.0f / sum;
    for (int j = 0; j < len; j++)
        p[j] *= inv;
}

/* p[0..len) = softmax(scale * p) */
static void softmax_row(const struct fa_llama *m, float *p, int len, float scale)
{
#if FA_LLAMA_X86
    if (m->path == FA_SIMD_AVX2) {
        softmax_avx2(p, len, scale);
        return;
    }
#endif
    softmax_scalar(p, len, scale);
}

static void swiglu(const struct fa_llama *m, const float *g, const float *u, float *a, size_t n)
{
#if FA_LLAMA_X86
    if (m->path == FA_SIMD_AVX2) {
        swiglu_avx2(g, u, a, n);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++)
        a[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

static void swiglu_back(const struct fa_llama *m, const float *g, const float *u, float *da,
                        float *dg, size_t n)
{
#if FA_LLAMA_X86
    if (m->path == FA_SIMD_AVX2) {
        swiglu_back_avx2(g, u, da, dg, n);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) {
        float gv = g[i], sg = 1.0f / (1.0f + expf(-gv)), silu = gv * sg;
        dg[i] = da[i] * u[i] * sg * (1.0f + gv * (1.0f - sg));
        da[i] = da[i] * silu;
    }
}

/* Rotates rows of x (rows x heads*hd) at positions pos0.. in place;
 * inverse: the transpose (for gradients). */
static void rope(const struct fa_llama *m, float *x, int rows, int heads, int pos0, bool inverse)
{
    int hd = m->hd, half = hd / 2;
    for (int i = 0; i < rows; i++) {
        const float *cs = m->cos_t + (size_t)(pos0 + i) * half;
        const float *sn = m->sin_t + (size_t)(pos0 + i) * half;
        for (int h = 0; h < heads; h++) {
            float *v = x + ((size_t)i * heads + h) * hd;
            for (int j = 0; j < half; j++) {
                float a = v[j], b = v[j + half], c = cs[j], s = inverse ? -sn[j] : sn[j];
                v[j] = a * c - b * s;
                v[j + half] = b * c + a * s;
            }
        }
    }
}

/* y = lin(x) for rows rows; saves the scaled LoRA product in *xa. */
static int lin_fwd(const struct fa_llama *m, const struct lin *l, const float *x, int rows,
                   float *y, float **xa)
{
    gemm_nt(m, rows, l->out, l->in, x, l->w, l->wp, y, false);
    if (!l->r)
        return 0;
    float *t = fl((size_t)rows * l->r);
    if (!t)
        return -1;
    free(*xa);
    *xa = NULL;
    gemm_nt(m, rows, l->r, l->in, x, l->A, NULL, t, false);
    for (size_t i = 0; i < (size_t)rows * l->r; i++)
        t[i] *= l->s;
    gemm_nt(m, rows, l->out, l->r, t, l->B, NULL, y, true);
    *xa = t;
    return 0;
}

/* Given dy (rows x out): grads of W or A, B; dx (+)= dy W_eff (when dx). */
static int lin_bwd(const struct fa_llama *m, const struct lin *l, const float *x, const float *xa,
                   const float *dy, int rows, float *dx, bool acc)
{
    if (l->gw)
        fa_llama_gemm_tn(m->path, m->threads, l->out, l->in, rows, dy, x, l->gw, true);
    if (dx)
        fa_llama_gemm_nn(m->path, m->threads, rows, l->in, l->out, dy, l->w, dx, acc);
    if (!l->r)
        return 0;
    /* y += s (x A^T) B^T: dB += dy^T xa; dxa = s dy B; dA += dxa^T x; dx += dxa A */
    fa_llama_gemm_tn(m->path, m->threads, l->out, l->r, rows, dy, xa, l->gB, true);
    float *t = fl((size_t)rows * l->r);
    if (!t)
        return -1;
    fa_llama_gemm_nn(m->path, m->threads, rows, l->r, l->out, dy, l->B, t, false);
    for (size_t i = 0; i < (size_t)rows * l->r; i++)
        t[i] *= l->s;
    fa_llama_gemm_tn(m->path, m->threads, l->r, l->in, rows, t, x, l->gA, true);
    if (dx)
        fa_llama_gemm_nn(m->path, m->threads, rows, l->in, l->r, t, l->A, dx, true);
    free(t);
    return 0;
}

/* One layer over x (n x d): output rows r0..n-1 into y ((n-r0) x d).
 * *out receives the saved activations when out != NULL. */
static struct lact *lact_new(const struct fa_llama *m, int n, int r0)
{
    const struct fa_llama_config *c = &m->cfg;
    int d = c->hidden, I = c->intermediate, kvd = m->kvd, H = c->n_heads, nq = n - r0;
    struct lact *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->n = n;
    s->r0 = r0;
    s->nq = nq;
    s->x = fl((size_t)n * d);
    s->rstd1 = fl((size_t)n);
    s->xn1 = fl((size_t)n * d);
    s->q = fl((size_t)nq * d);
    s->k = fl((size_t)n * kvd);
    s->v = fl((size_t)n * kvd);
    s->p = fl((size_t)H * nq * n);
    s->att = fl((size_t)nq * d);
    s->x2 = fl((size_t)nq * d);
    s->rstd2 = fl((size_t)nq);
    s->xn2 = fl((size_t)nq * d);
    s->g = fl((size_t)nq * I);
    s->u = fl((size_t)nq * I);
    s->a = fl((size_t)nq * I);
    if (!s->x || !s->rstd1 || !s->xn1 || !s->q || !s->k || !s->v || !s->p || !s->att || !s->x2 ||
        !s->rstd2 || !s->xn2 || !s->g || !s->u || !s->a) {
        lact_free(s);
        return NULL;
    }
    return s;
}

/* One layer over x (n x d): output rows r0..n-1 into y ((n-r0) x d).
 * s (from lact_new(m, n, r0)) receives what backward needs. */
static int layer_fwd(const struct fa_llama *m, const struct layer *L, const float *x, int n, int r0,
                     float *y, struct lact *s)
{
    const struct fa_llama_config *c = &m->cfg;
    int d = c->hidden, I = c->intermediate, kvd = m->kvd, hd = m->hd, H = c->n_heads;
    int grp = c->n_heads / c->n_kv_heads, nq = n - r0;
    memcpy(s->x, x, sizeof(float) * (size_t)n * d);
    rmsnorm(m, x, L->w_in, n, d, c->rms_eps, s->xn1, s->rstd1);
    const float *xq = s->xn1 + (size_t)r0 * d;
    if (lin_fwd(m, &L->q, xq, nq, s->q, &s->xa[0]) < 0 ||
        lin_fwd(m, &L->k, s->xn1, n, s->k, &s->xa[1]) < 0 ||
        lin_fwd(m, &L->v, s->xn1, n, s->v, &s->xa[2]) < 0)
        goto oom;
    rope(m, s->q, nq, H, r0, false);
    rope(m, s->k, n, c->n_kv_heads, 0, false);
    float scale = 1.0f / sqrtf((float)hd);
    /* causal attention in chunks of query rows: a chunk's keys stop at its
     * last row, so the masked half is mostly never computed */
    for (int h = 0; h < H; h++) {
        int g = h / grp;
        float *P = s->p + (size_t)h * nq * n;
        for (int i0 = 0; i0 < nq; i0 += ATT_CHUNK) {
            int i1 = nq - i0 < ATT_CHUNK ? nq : i0 + ATT_CHUNK, nk = r0 + i1;
            gemm_s(m, i1 - i0, nk, hd, s->q + (size_t)i0 * d + h * hd, s->k + g * hd, d, 1, 1, kvd,
                   n, P + (size_t)i0 * n, false);
            for (int i = i0; i < i1; i++) {
                float *pi = P + (size_t)i * n;
                int last = r0 + i; /* causal: keys 0..last */
                softmax_row(m, pi, last + 1, scale);
                if (last + 1 < n)
                    memset(pi + last + 1, 0, sizeof(float) * (size_t)(n - last - 1));
            }
            gemm_s(m, i1 - i0, hd, nk, P + (size_t)i0 * n, s->v + g * hd, n, 1, kvd, 1, d,
                   s->att + (size_t)i0 * d + h * hd, false);
        }
    }
    if (lin_fwd(m, &L->o, s->att, nq, s->x2, &s->xa[3]) < 0)
        goto oom;
    for (size_t i = 0; i < (size_t)nq * d; i++)
        s->x2[i] += x[(size_t)r0 * d + i];
    rmsnorm(m, s->x2, L->w_post, nq, d, c->rms_eps, s->xn2, s->rstd2);
    if (lin_fwd(m, &L->g, s->xn2, nq, s->g, &s->xa[4]) < 0 ||
        lin_fwd(m, &L->u, s->xn2, nq, s->u, &s->xa[5]) < 0)
        goto oom;
    swiglu(m, s->g, s->u, s->a, (size_t)nq * I);
    if (lin_fwd(m, &L->d, s->a, nq, y, &s->xa[6]) < 0)
        goto oom;
    for (size_t i = 0; i < (size_t)nq * d; i++)
        y[i] += s->x2[i];
    return 0;
oom:
    fa_err_set("out of memory");
    return -1;
}

/* The lowest trained layer in full training needs no gradient of its
 * input, and the input norm's weight w gets its gradient without dxn1 =
 * dq Wq + dk Wk + dv Wv (three products as large as the weights'
 * gradients): with z = x rstd (so xn1 = w z) and G = dy^T z per
 * projection, dW += G w (by columns) and dw[j] += sum_o W[o][j] G[o][j].
 * Returns 0 or -1 (out of memory). */
static int qkv_norm_bwd(const struct fa_llama *m, const struct layer *L, const struct lact *s,
                        const float *dq, const float *dk, const float *dv)
{
    int d = m->cfg.hidden, n = s->n, r0 = s->r0, nq = s->nq;
    float *z = fl((size_t)n * d), *G = fl((size_t)d * d);
    if (!z || !G) {
        free(z);
        free(G);
        return -1;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
            z[(size_t)i * d + j] = s->x[(size_t)i * d + j] * s->rstd1[i];
    const struct lin *ls[3] = {&L->q, &L->k, &L->v};
    const float *dys[3] = {dq, dk, dv};
    for (int t = 0; t < 3; t++) {
        const struct lin *l = ls[t];
        int rows = t == 0 ? nq : n;
        const float *zr = t == 0 ? z + (size_t)r0 * d : z;
        fa_llama_gemm_tn(m->path, m->threads, l->out, d, rows, dys[t], zr, G, false);
        for (int o = 0; o < l->out; o++) {
            const float *go = G + (size_t)o * d, *wo = l->w + (size_t)o * d;
            float *gwo = l->gw + (size_t)o * d;
            for (int j = 0; j < d; j++) {
                gwo[j] += go[j] * L->w_in[j];
                L->gw_in[j] += wo[j] * go[j];
            }
        }
    }
    free(z);
    free(G);
    return 0;
}

/* Backward through one layer given dy ((n-r0) x d); dx (n x d) receives
 * d(loss)/d(input) when not NULL. */
static int layer_bwd(const struct fa_llama *m, const struct layer *L, const struct lact *s,
                     const float *dy, float *dx)
{
    const struct fa_llama_config *c = &m->cfg;
    int d = c->hidden, I = c->intermediate, kvd = m->kvd, hd = m->hd, H = c->n_heads;
    int grp = c->n_heads / c->n_kv_heads, n = s->n, r0 = s->r0, nq = s->nq;
    float scale = 1.0f / sqrtf((float)hd);
    float *dx2 = fl((size_t)nq * d), *da = fl((size_t)nq * I), *dg = fl((size_t)nq * I);
    float *dxn2 = fl((size_t)nq * d), *datt = fl((size_t)nq * d), *dq = fl((size_t)nq * d);
    float *dk = calloc((size_t)n * kvd + 1, sizeof(float));
    float *dv = calloc((size_t)n * kvd + 1, sizeof(float));
    float *dP = fl((size_t)nq * n), *dxn1 = fl((size_t)n * d);
    int rc = -1;
    if (!dx2 || !da || !dg || !dxn2 || !datt || !dq || !dk || !dv || !dP || !dxn1)
        goto out;
    memcpy(dx2, dy, sizeof(float) * (size_t)nq * d);
    /* MLP */
    if (lin_bwd(m, &L->d, s->a, s->xa[6], dy, nq, da, false) < 0)
        goto out;
    swiglu_back(m, s->g, s->u, da, dg, (size_t)nq * I); /* da is now d(up) */
    if (lin_bwd(m, &L->g, s->xn2, s->xa[4], dg, nq, dxn2, false) < 0 ||
        lin_bwd(m, &L->u, s->xn2, s->xa[5], da, nq, dxn2, true) < 0)
        goto out;
    rmsnorm_back(s->x2, L->w_post, s->rstd2, dxn2, nq, d, dx2, true, L->gw_post);
    /* attention */
    if (lin_bwd(m, &L->o, s->att, s->xa[3], dx2, nq, datt, false) < 0)
        goto out;
    for (int h = 0; h < H; h++) {
        int g = h / grp;
        const float *P = s->p + (size_t)h * nq * n;
        /* by chunks of query rows: dP = datt_h v_g^T, the softmax's
         * backward (dS), dq_h = dS k_g; a chunk's keys stop at its last row */
        for (int i0 = 0; i0 < nq; i0 += ATT_CHUNK) {
            int i1 = nq - i0 < ATT_CHUNK ? nq : i0 + ATT_CHUNK, nk = r0 + i1;
            gemm_s(m, i1 - i0, nk, hd, datt + (size_t)i0 * d + h * hd, s->v + g * hd, d, 1, 1, kvd,
                   n, dP + (size_t)i0 * n, false);
            for (int i = i0; i < i1; i++) {
                const float *pi = P + (size_t)i * n;
                float *dpi = dP + (size_t)i * n;
                int last = r0 + i;
                double dot = 0;
                for (int j = 0; j <= last; j++)
                    dot += (double)pi[j] * dpi[j];
                for (int j = 0; j <= last; j++)
                    dpi[j] = pi[j] * (dpi[j] - (float)dot) * scale;
                if (last + 1 < n)
                    memset(dpi + last + 1, 0, sizeof(float) * (size_t)(n - last - 1));
            }
            gemm_s(m, i1 - i0, hd, nk, dP + (size_t)i0 * n, s->k + g * hd, n, 1, kvd, 1, d,
                   dq + (size_t)i0 * d + h * hd, false);
        }
        /* by blocks of keys: dv_g += P^T datt_h, dk_g += dS^T q_h over the
         * query rows that see them */
        for (int j0 = 0; j0 < n; j0 += ATT_CHUNK) {
            int j1 = n - j0 < ATT_CHUNK ? n : j0 + ATT_CHUNK, i0 = j0 > r0 ? j0 - r0 : 0;
            if (i0 >= nq)
                break;
            gemm_s(m, j1 - j0, hd, nq - i0, P + (size_t)i0 * n + j0, datt + (size_t)i0 * d + h * hd,
                   1, n, d, 1, kvd, dv + (size_t)j0 * kvd + g * hd, true);
            gemm_s(m, j1 - j0, hd, nq - i0, dP + (size_t)i0 * n + j0,
                   s->q + (size_t)i0 * d + h * hd, 1, n, d, 1, kvd, dk + (size_t)j0 * kvd + g * hd,
                   true);
        }
    }
    rope(m, dq, nq, H, r0, true);
    rope(m, dk, n, c->n_kv_heads, 0, true);
    if (!dx && L->gw_in && L->q.gw && L->k.gw && L->v.gw && !L->q.r && !L->k.r && !L->v.r) {
        rc = qkv_norm_bwd(m, L, s, dq, dk, dv);
        goto out;
    }
    if (lin_bwd(m, &L->k, s->xn1, s->xa[1], dk, n, dxn1, false) < 0 ||
        lin_bwd(m, &L->v, s->xn1, s->xa[2], dv, n, dxn1, true) < 0 ||
        lin_bwd(m, &L->q, s->xn1 + (size_t)r0 * d, s->xa[0], dq, nq, dxn1 + (size_t)r0 * d, true) <
            0)
        goto out;
    rmsnorm_back(s->x, L->w_in, s->rstd1, dxn1, n, d, dx, false, L->gw_in);
    if (dx)
        for (size_t i = 0; i < (size_t)nq * d; i++)
            dx[(size_t)r0 * d + i] += dx2[i];
    rc = 0;
out:
    if (rc < 0)
        fa_err_set("out of memory");
    free(dx2);
    free(da);
    free(dg);
    free(dxn2);
    free(datt);
    free(dq);
    free(dk);
    free(dv);
    free(dP);
    free(dxn1);
    return rc;
}

static int check_ids(const struct fa_llama *m, const int32_t *ids, int n)
{
    if (n < 1 || n > m->cfg.max_pos) {
        fa_err_set("%d tokens: the model takes 1 to %d", n, m->cfg.max_pos);
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= m->cfg.vocab) {
            fa_err_set("token %d: id %d is outside the vocabulary (0..%d)", i, (int)ids[i],
                       m->cfg.vocab - 1);
            return -1;
        }
    return 0;
}

/* Embeddings then layers [l0, l1) over all rows, into h (n x d). */
static int run_layers(const struct fa_llama *m, const struct layer *layers, int l0, int l1,
                      float *h, int n)
{
    size_t sz = (size_t)n * m->cfg.hidden;
    if (l1 <= l0)
        return 0;
    float *y = fl(sz);
    struct lact *ws = lact_new(m, n, 0); /* one workspace for every layer */
    int rc = 0;
    if (!y || !ws) {
        fa_err_set("out of memory");
        rc = -1;
    }
    for (int l = l0; l < l1 && rc == 0; l++) {
        rc = layer_fwd(m, &layers[l], h, n, 0, y, ws);
        if (rc == 0)
            memcpy(h, y, sizeof(float) * sz);
    }
    lact_free(ws);
    free(y);
    return rc;
}

static void embed(const struct fa_llama *m, const int32_t *ids, int n, float *h)
{
    size_t d = (size_t)m->cfg.hidden;
    for (int i = 0; i < n; i++)
        memcpy(h + i * d, m->embed + (size_t)ids[i] * d, d * sizeof(float));
}

int fa_llama_logits(struct fa_llama *m, const int32_t *ids, int n, float *logits)
{
    if (check_ids(m, ids, n) < 0)
        return -1;
    int d = m->cfg.hidden;
    float *h = fl((size_t)n * d);
    if (!h) {
        fa_err_set("out of memory");
        return -1;
    }
    embed(m, ids, n, h);
    if (run_layers(m, m->layers, 0, m->cfg.n_layers, h, n) < 0) {
        free(h);
        return -1;
    }
    rmsnorm(m, h, m->norm, n, d, m->cfg.rms_eps, h, NULL);
    gemm_nt(m, n, m->cfg.vocab, d, h, m->head, m->headp, logits, false);
    free(h);
    return 0;
}

/* ---- the frozen-state cache -------------------------------------------- */

struct centry {
    unsigned char key[32];
    int n;
    float *h;
    uint64_t used;
};

struct fcache {
    struct centry *e;
    size_t n, cap, bytes, limit;
    uint64_t tick;
    struct fa_llama_cache_stats st;
    char *dir; /* $FA_CACHE_DIR/llama, or NULL */
};

/* ---- training ----------------------------------------------------------- */

struct fa_llama_train {
    struct fa_llama *m;
    int L, F, r; /* trained layers, frozen layers, LoRA rank */
    struct layer *layers;
    float *params, *grads;
    size_t np;
    float *norm, *gnorm;
    struct json_object *layout;
    struct fcache cache;
    float *hbuf; /* fa_llama_frozen's result */
    size_t hcap;
};

static size_t entry_bytes(const struct fa_llama *m, int n)
{
    return (size_t)n * (size_t)m->cfg.hidden * sizeof(float);
}

static void fcache_key(const struct fa_llama_train *t, const int32_t *ids, int n,
                       unsigned char key[32])
{
    crypto_generichash_state s;
    int32_t hdr[2] = {t->F, n};
    crypto_generichash_init(&s, NULL, 0, 32);
    crypto_generichash_update(&s, t->m->wid, sizeof t->m->wid);
    crypto_generichash_update(&s, (const unsigned char *)hdr, sizeof hdr);
    crypto_generichash_update(&s, (const unsigned char *)ids, sizeof(int32_t) * (size_t)n);
    crypto_generichash_final(&s, key, 32);
}

static void fcache_free(struct fcache *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->e[i].h);
    free(c->e);
    free(c->dir);
}

static void fcache_put(struct fa_llama_train *t, const unsigned char key[32], int n, const float *h)
{
    struct fcache *c = &t->cache;
    size_t b = entry_bytes(t->m, n);
    if (b > c->limit)
        return;
    while (c->n && c->bytes + b > c->limit) {
        size_t o = 0;
        for (size_t i = 1; i < c->n; i++)
            if (c->e[i].used < c->e[o].used)
                o = i;
        c->bytes -= entry_bytes(t->m, c->e[o].n);
        free(c->e[o].h);
        c->e[o] = c->e[--c->n];
        c->st.evictions++;
    }
    if (c->n == c->cap) {
        size_t nc = c->cap ? 2 * c->cap : 16;
        struct centry *e = realloc(c->e, nc * sizeof *e);
        if (!e)
            return;
        c->e = e;
        c->cap = nc;
    }
    float *copy = malloc(b);
    if (!copy)
        return;
    memcpy(copy, h, b);
    struct centry *e = &c->e[c->n++];
    memcpy(e->key, key, 32);
    e->n = n;
    e->h = copy;
    e->used = ++c->tick;
    c->bytes += b;
}

#define DISK_MAGIC "FALLAMA1"

static char *disk_path(const struct fcache *c, const unsigned char key[32])
{
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, key, 32);
    size_t len = strlen(c->dir) + 80;
    char *p = malloc(len);
    if (p)
        snprintf(p, len, "%s/%.2s/%s.f32", c->dir, hex, hex);
    return p;
}

/* 1 and h filled on a hit, 0 on a miss (a bad file is a miss). */
static int disk_get(const struct fa_llama_train *t, const unsigned char key[32], int n, float *h)
{
    const struct fcache *c = &t->cache;
    if (!c->dir)
        return 0;
    char *p = disk_path(c, key);
    if (!p)
        return 0;
    FILE *f = fopen(p, "rb");
    free(p);
    if (!f)
        return 0;
    char magic[8];
    int32_t dims[2];
    size_t b = entry_bytes(t->m, n);
    int ok = fread(magic, 1, 8, f) == 8 && memcmp(magic, DISK_MAGIC, 8) == 0 &&
             fread(dims, sizeof dims, 1, f) == 1 && dims[0] == n && dims[1] == t->m->cfg.hidden &&
             fread(h, 1, b, f) == b && fgetc(f) == EOF;
    fclose(f);
    return ok;
}

static void disk_put(const struct fa_llama_train *t, const unsigned char key[32], int n,
                     const float *h)
{
    const struct fcache *c = &t->cache;
    if (!c->dir)
        return;
    char *p = disk_path(c, key);
    if (!p)
        return;
    size_t pl = strlen(p);
    char *tmp = malloc(pl + 32);
    if (!tmp) {
        free(p);
        return;
    }
    /* DIR/ab/hex.f32: make DIR (and its parent) and DIR/ab */
    char *slash = strrchr(p, '/');
    *slash = 0;
    char *s2 = strrchr(p, '/');
    *s2 = 0;
    char *s3 = strrchr(p, '/');
    if (s3) {
        *s3 = 0;
        mkdir(p, 0777);
        *s3 = '/';
    }
    mkdir(p, 0777);
    *s2 = '/';
    mkdir(p, 0777);
    *slash = '/';
    snprintf(tmp, pl + 32, "%s.tmp.%ld", p, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (f) {
        int32_t dims[2] = {n, t->m->cfg.hidden};
        int ok = fwrite(DISK_MAGIC, 1, 8, f) == 8 && fwrite(dims, sizeof dims, 1, f) == 1 &&
                 fwrite(h, 1, entry_bytes(t->m, n), f) == entry_bytes(t->m, n);
        ok = fflush(f) == 0 && ok && fsync(fileno(f)) == 0;
        ok = fclose(f) == 0 && ok;
        if (!ok || rename(tmp, p) < 0)
            unlink(tmp);
    }
    free(tmp);
    free(p);
}

void fa_llama_cache_stats(const struct fa_llama_train *t, struct fa_llama_cache_stats *out)
{
    *out = t->cache.st;
    out->bytes = t->cache.bytes;
    out->entries = t->cache.n;
}

int fa_llama_frozen(struct fa_llama_train *t, const int32_t *ids, int n, const float **h)
{
    struct fa_llama *m = t->m;
    if (check_ids(m, ids, n) < 0)
        return -1;
    size_t sz = (size_t)n * m->cfg.hidden;
    if (sz > t->hcap) {
        float *b = realloc(t->hbuf, sz * sizeof(float));
        if (!b) {
            fa_err_set("out of memory");
            return -1;
        }
        t->hbuf = b;
        t->hcap = sz;
    }
    unsigned char key[32];
    fcache_key(t, ids, n, key);
    struct fcache *c = &t->cache;
    for (size_t i = 0; i < c->n; i++)
        if (c->e[i].n == n && memcmp(c->e[i].key, key, 32) == 0) {
            c->e[i].used = ++c->tick;
            c->st.hits++;
            memcpy(t->hbuf, c->e[i].h, sz * sizeof(float));
            *h = t->hbuf;
            return 0;
        }
    if (disk_get(t, key, n, t->hbuf)) {
        c->st.disk_hits++;
        fcache_put(t, key, n, t->hbuf);
        *h = t->hbuf;
        return 0;
    }
    c->st.misses++;
    embed(m, ids, n, t->hbuf);
    if (run_layers(m, m->layers, 0, t->F, t->hbuf, n) < 0)
        return -1;
    fcache_put(t, key, n, t->hbuf);
    disk_put(t, key, n, t->hbuf);
    *h = t->hbuf;
    return 0;
}

struct fa_llama_act {
    int n, L;
    struct lact **la;
    float *ylast; /* d: the top layer's output for the last token */
    float rstd;
};

void fa_llama_act_free(struct fa_llama_act *a)
{
    if (!a)
        return;
    for (int i = 0; i < a->L; i++)
        lact_free(a->la[i]);
    free(a->la);
    free(a->ylast);
    free(a);
}

int fa_llama_top_forward(struct fa_llama_train *t, const float *h, int n, float *last,
                         struct fa_llama_act **act)
{
    struct fa_llama *m = t->m;
    int d = m->cfg.hidden;
    if (n < 1 || n > m->cfg.max_pos) {
        fa_err_set("%d tokens: the model takes 1 to %d", n, m->cfg.max_pos);
        return -1;
    }
    struct fa_llama_act *a = calloc(1, sizeof *a);
    float *x = fl((size_t)n * d), *y = fl((size_t)n * d);
    if (!a || !x || !y || !(a->la = calloc((size_t)t->L, sizeof *a->la)) ||
        !(a->ylast = fl((size_t)d))) {
        fa_err_set("out of memory");
        goto fail;
    }
    a->n = n;
    a->L = t->L;
    memcpy(x, h, sizeof(float) * (size_t)n * d);
    for (int l = 0; l < t->L; l++) {
        int r0 = l == t->L - 1 ? n - 1 : 0;
        if (!(a->la[l] = lact_new(m, n, r0))) {
            fa_err_set("out of memory");
            goto fail;
        }
        if (layer_fwd(m, &t->layers[l], x, n, r0, y, a->la[l]) < 0)
            goto fail;
        float *sw = x;
        x = y;
        y = sw;
    }
    memcpy(a->ylast, x, sizeof(float) * (size_t)d);
    rmsnorm(m, a->ylast, t->norm, 1, d, m->cfg.rms_eps, last, &a->rstd);
    free(x);
    free(y);
    if (act)
        *act = a;
    else
        fa_llama_act_free(a);
    return 0;
fail:
    free(x);
    free(y);
    fa_llama_act_free(a);
    return -1;
}

int fa_llama_top_backward(struct fa_llama_train *t, struct fa_llama_act *a, const float *dlast)
{
    struct fa_llama *m = t->m;
    int d = m->cfg.hidden, n = a->n;
    float *dy = calloc((size_t)n * d, sizeof(float)), *dx = fl((size_t)n * d);
    int rc = -1;
    if (!dy || !dx) {
        fa_err_set("out of memory");
        goto out;
    }
    rmsnorm_back(a->ylast, t->norm, &a->rstd, dlast, 1, d, dy, false, t->gnorm);
    for (int l = t->L - 1; l >= 0; l--) {
        if (layer_bwd(m, &t->layers[l], a->la[l], dy, l > 0 ? dx : NULL) < 0)
            goto out;
        float *sw = dy;
        dy = dx;
        dx = sw;
    }
    rc = 0;
out:
    free(dy);
    free(dx);
    return rc;
}

/* ---- the trainable part ------------------------------------------------ */

static int layout_add(struct fa_llama_train *t, size_t *off, const char *name, int d0, int d1,
                      float **p, float **g)
{
    struct json_object *e = json_object_new_object(), *sh = json_object_new_array();
    if (!e || !sh) {
        json_object_put(e);
        json_object_put(sh);
        return -1;
    }
    json_object_array_add(sh, json_object_new_int(d0));
    if (d1)
        json_object_array_add(sh, json_object_new_int(d1));
    size_t n = (size_t)d0 * (size_t)(d1 ? d1 : 1);
    json_object_object_add(e, "name", json_object_new_string(name));
    json_object_object_add(e, "shape", sh);
    json_object_object_add(e, "offset", json_object_new_int64((int64_t)*off));
    json_object_object_add(e, "size", json_object_new_int64((int64_t)n));
    json_object_array_add(t->layout, e);
    if (t->params) {
        *p = t->params + *off;
        *g = t->grads + *off;
    }
    *off += n;
    return 0;
}

/* Walks the layout: counts on the first pass (params NULL), binds on the
 * second. */
static int build_layout(struct fa_llama_train *t, size_t *total)
{
    struct fa_llama *m = t->m;
    int d = m->cfg.hidden, I = m->cfg.intermediate, kvd = m->kvd, r = t->r;
    size_t off = 0;
    static const char *const lname[7] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                         "self_attn.o_proj", "mlp.gate_proj",    "mlp.up_proj",
                                         "mlp.down_proj"};
    int outs[7] = {d, kvd, kvd, d, I, I, d}, ins[7] = {d, d, d, d, d, d, I};
    for (int l = 0; l < t->L; l++) {
        struct layer *L = &t->layers[l];
        int ml = t->F + l;
        char nm[160];
        float *pin = NULL, *gin = NULL, *ppost = NULL, *gpost = NULL;
        snprintf(nm, sizeof nm, "model.layers.%d.input_layernorm.weight", ml);
        if (layout_add(t, &off, nm, d, 0, &pin, &gin) < 0)
            return -1;
        struct lin *lins[7] = {&L->q, &L->k, &L->v, &L->o, &L->g, &L->u, &L->d};
        if (r == 0) {
            for (int i = 0; i < 7; i++) {
                float *p = NULL, *g = NULL;
                if (i == 4) {
                    snprintf(nm, sizeof nm, "model.layers.%d.post_attention_layernorm.weight", ml);
                    if (layout_add(t, &off, nm, d, 0, &ppost, &gpost) < 0)
                        return -1;
                }
                snprintf(nm, sizeof nm, "model.layers.%d.%s.weight", ml, lname[i]);
                if (layout_add(t, &off, nm, outs[i], ins[i], &p, &g) < 0)
                    return -1;
                if (t->params) {
                    memcpy(p, lins[i]->w, sizeof(float) * (size_t)outs[i] * ins[i]);
                    lins[i]->w = p;
                    lins[i]->wp = NULL; /* the optimiser changes p */
                    lins[i]->gw = g;
                }
            }
        } else {
            snprintf(nm, sizeof nm, "model.layers.%d.post_attention_layernorm.weight", ml);
            if (layout_add(t, &off, nm, d, 0, &ppost, &gpost) < 0)
                return -1;
            for (int i = 0; i < 7; i++) {
                float *pa = NULL, *ga = NULL, *pb = NULL, *gb = NULL;
                snprintf(nm, sizeof nm, "model.layers.%d.%s.lora_A", ml, lname[i]);
                if (layout_add(t, &off, nm, r, ins[i], &pa, &ga) < 0)
                    return -1;
                snprintf(nm, sizeof nm, "model.layers.%d.%s.lora_B", ml, lname[i]);
                if (layout_add(t, &off, nm, outs[i], r, &pb, &gb) < 0)
                    return -1;
                if (t->params) {
                    lins[i]->r = r;
                    lins[i]->s = FA_LLAMA_LORA_ALPHA / (float)r;
                    lins[i]->A = pa;
                    lins[i]->gA = ga;
                    lins[i]->B = pb;
                    lins[i]->gB = gb;
                }
            }
        }
        if (t->params) {
            memcpy(pin, L->w_in, sizeof(float) * (size_t)d);
            memcpy(ppost, L->w_post, sizeof(float) * (size_t)d);
            L->w_in = pin;
            L->gw_in = gin;
            L->w_post = ppost;
            L->gw_post = gpost;
        }
    }
    float *pn = NULL, *gn = NULL;
    if (layout_add(t, &off, "model.norm.weight", d, 0, &pn, &gn) < 0)
        return -1;
    if (t->params) {
        memcpy(pn, m->norm, sizeof(float) * (size_t)d);
        t->norm = pn;
        t->gnorm = gn;
    }
    *total = off;
    return 0;
}

/* splitmix64, for the LoRA A init */
static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

struct fa_llama_train *fa_llama_train_new(struct fa_llama *m, int train_layers, int lora_rank,
                                          uint64_t seed)
{
    if (train_layers < 1 || train_layers > m->cfg.n_layers) {
        fa_err_set("train layers %d: the model has %d layers", train_layers, m->cfg.n_layers);
        return NULL;
    }
    if (lora_rank < 0 || lora_rank > m->cfg.hidden) {
        fa_err_set("LoRA rank %d: must be 0..%d", lora_rank, m->cfg.hidden);
        return NULL;
    }
    struct fa_llama_train *t = calloc(1, sizeof *t);
    if (!t) {
        fa_err_set("out of memory");
        return NULL;
    }
    t->m = m;
    t->L = train_layers;
    t->F = m->cfg.n_layers - train_layers;
    t->r = lora_rank;
    t->layers = malloc(sizeof *t->layers * (size_t)train_layers);
    t->layout = json_object_new_array();
    if (!t->layers || !t->layout)
        goto oom;
    memcpy(t->layers, m->layers + t->F, sizeof *t->layers * (size_t)train_layers);
    size_t np;
    if (build_layout(t, &np) < 0)
        goto oom;
    json_object_put(t->layout);
    t->layout = json_object_new_array();
    t->params = calloc(np ? np : 1, sizeof(float));
    t->grads = calloc(np ? np : 1, sizeof(float));
    if (!t->layout || !t->params || !t->grads || build_layout(t, &t->np) < 0)
        goto oom;
    if (lora_rank) {
        uint64_t s = seed;
        for (int l = 0; l < t->L; l++) {
            struct layer *L = &t->layers[l];
            struct lin *lins[7] = {&L->q, &L->k, &L->v, &L->o, &L->g, &L->u, &L->d};
            for (int i = 0; i < 7; i++) {
                float b = 1.0f / sqrtf((float)lins[i]->in);
                for (size_t j = 0; j < (size_t)lins[i]->r * lins[i]->in; j++)
                    lins[i]->A[j] = ((float)(mix(&s) >> 40) * 0x1p-24f * 2.0f - 1.0f) * b;
            }
        }
    }
    long mb = 256;
    const char *e = getenv("FA_LLAMA_CACHE_MB");
    if (e && *e) {
        char *end;
        long v = strtol(e, &end, 10);
        if (!*end && v >= 0)
            mb = v;
    }
    t->cache.limit = (size_t)mb << 20;
    const char *cd = getenv("FA_CACHE_DIR");
    if (cd && *cd && !(t->cache.dir = path_join(cd, "llama")))
        goto oom;
    return t;
oom:
    fa_err_set("out of memory");
    fa_llama_train_free(t);
    return NULL;
}

void fa_llama_train_free(struct fa_llama_train *t)
{
    if (!t)
        return;
    free(t->layers);
    free(t->params);
    free(t->grads);
    json_object_put(t->layout);
    fcache_free(&t->cache);
    free(t->hbuf);
    free(t);
}

size_t fa_llama_train_nparams(const struct fa_llama_train *t)
{
    return t->np;
}

float *fa_llama_train_params(struct fa_llama_train *t)
{
    return t->params;
}

float *fa_llama_train_grads(struct fa_llama_train *t)
{
    return t->grads;
}

void fa_llama_train_zero_grad(struct fa_llama_train *t)
{
    memset(t->grads, 0, sizeof(float) * t->np);
}

struct json_object *fa_llama_train_layout(const struct fa_llama_train *t)
{
    struct json_object *copy = NULL;
    if (json_object_deep_copy(t->layout, &copy, NULL) < 0)
        return NULL;
    return copy;
}
