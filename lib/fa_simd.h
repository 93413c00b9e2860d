/* fa_simd.h: exact top-k inner-product or cosine search of one or several
 * queries against every row of a row-major float32 matrix.
 *
 * One kernel serves fa-retrieve and the benchmarks. It has an AVX2+FMA path,
 * chosen at run time when the CPU has it, and a portable scalar path; both
 * give the same top k up to floating-point ties (scores agree within a few
 * ulps of the dot product). Several queries are answered in one pass: each
 * row is read once for all of them. Large matrices are split into
 * contiguous row ranges, one per thread. An optional compact copy of the
 * rows (float16, or int8 with one scale per row) makes the first pass read
 * half or a quarter of the bytes; its best candidates are then re-scored
 * from the float32 rows, and a bound on the compact error proves the top k
 * exact (when the proof fails for a query, a second compact pass re-scores
 * every row that could still enter). Results never depend on the path
 * chosen for selection, the thread count or the number of queries: each
 * (query, row) score is computed the same way whatever the batch, and ties
 * go to the lower row index. */
#ifndef FA_SIMD_H
#define FA_SIMD_H

#include <stddef.h>
#include <stdint.h>

enum fa_simd_path {
    FA_SIMD_AUTO = 0,   /* FA_SIMD=scalar|avx2 from the environment, else the best */
    FA_SIMD_SCALAR = 1, /* portable C */
    FA_SIMD_AVX2 = 2,   /* AVX2 + FMA (+ F16C for float16) */
};

enum fa_simd_elem {
    FA_SIMD_F32 = 0,
    FA_SIMD_F16 = 1, /* IEEE binary16, round to nearest even */
    FA_SIMD_I8 = 2,  /* x = scale[row] * q, q in -127..127 */
};

/* One result: the score and the 0-based row index. */
struct fa_simd_hit {
    float score;
    int64_t row;
};

/* A compact copy of the rows for the first pass (see fa_simd_compact_build). */
struct fa_simd_compact {
    int elem;           /* FA_SIMD_F16 or FA_SIMD_I8 */
    const void *data;   /* n x dim: uint16_t halves or int8_t */
    const float *scale; /* n: I8: the row's scale; F16: the row's max |x| */
};

/* What to search and how. Zero-initialise, then set what you need. */
struct fa_simd_search {
    const float *rows; /* n x dim float32, row-major (the exact values) */
    size_t n, dim;
    /* NULL: inner product. Else cosine: one 1/|row| per row (0 for a zero
     * row, see fa_simd_inv_norms); the queries are normalised internally. */
    const float *inv_norm;
    /* NULL: scan the float32 rows. Else scan this copy first, re-score the
     * best `candidates` rows per query (0: max(4k, k + 16)) in float32. */
    const struct fa_simd_compact *compact;
    size_t candidates;
    /* Row filter, applied inside the scan: NULL, or one day per row, and
     * row r is seen by query j only when day[r] < before[j] (before has one
     * entry per query; NULL before means no filter). */
    const int32_t *day;
    const int32_t *before;
    int threads; /* 0: automatic (1 for small matrices), else at most this many */
    int path;    /* enum fa_simd_path */
};

/* What a search did (optional output). */
struct fa_simd_stats {
    int path;           /* the path used */
    int threads;        /* threads used */
    size_t rescored;    /* rows re-scored in float32 (compact) */
    size_t second_pass; /* queries whose proof failed (compact) */
};

/* The path FA_SIMD_AUTO resolves to (environment FA_SIMD, then the CPU),
 * or path itself when the CPU supports it. Returns -1 with fa_err set when
 * the path is unknown or not supported by this CPU. */
int fa_simd_resolve(int path);
/* "scalar" or "avx2". */
const char *fa_simd_path_name(int path);
/* Parses "auto", "scalar" or "avx2"; -1 with fa_err set otherwise. */
int fa_simd_path_parse(const char *s);

/* The dot product of a and b (dim floats) on the given path (resolved as
 * above; AUTO when unsure). Exactly the score the search computes for an
 * inner-product pair on that path. */
float fa_simd_dot(int path, const float *a, const float *b, size_t dim);

/* out[r] = 1/|row r| (0 for a zero or non-finite norm), n rows. */
void fa_simd_inv_norms(const float *rows, size_t n, size_t dim, float *out);

/* Fills a compact copy of n x dim float32 rows: data must hold n*dim
 * elements (2 bytes each for F16, 1 for I8), scale n floats. Returns 0, or
 * -1 with fa_err set (a non-finite value; an F16 value beyond 65504). */
int fa_simd_compact_build(int elem, const float *rows, size_t n, size_t dim, void *data,
                          float *scale) __attribute__((warn_unused_result));

/* float <-> IEEE half, round to nearest even (portable reference). */
uint16_t fa_simd_f32_to_f16(float f);
float fa_simd_f16_to_f32(uint16_t h);

/* Exact top k of each of nq queries (nq x dim floats, row-major):
 * hits[j*k .. j*k+nhits[j]) gets query j's best rows, best first (higher
 * score, then lower row). nhits[j] < k when fewer rows pass the filter.
 * NaN scores never enter. Returns 0, or -1 with fa_err set (bad arguments,
 * an unsupported path, out of memory, a thread that failed to start). */
int fa_simd_topk(const struct fa_simd_search *s, const float *queries, size_t nq, size_t k,
                 struct fa_simd_hit *hits, size_t *nhits, struct fa_simd_stats *stats)
    __attribute__((warn_unused_result));

#endif
