/* retrieve-bench.c: the C side of bench/b10-retrieve.sh (not part of fa).
 *
 *   retrieve-bench gen DIR N DIM SEED        write a synthetic store (fa-store(5))
 *   retrieve-bench queries DIR NQ SEED OUT   NQ queries near random rows, raw float32
 *   retrieve-bench embed DIM OUT TEXT        the local embedding of TEXT, raw float32
 *   retrieve-bench bw MIB THREADS REPS       streaming read bandwidth, best of REPS
 *   retrieve-bench compact SRC DST f16|int8  DST: SRC's rows as a compact store (records
 *                                            and index hard-linked, rows copied)
 *   retrieve-bench search DIR QFILE NQ K THREADS REPS IDS [f32|f16|i8|store]
 *                                            fa's kernel on the mapped store, best of REPS
 *                                            (f16/i8: a compact copy built in memory;
 *                                            store: the store's own compact files)
 *
 * Prints "key value" lines for the script; search writes the top-k row ids
 * of each query, one query a line, to IDS. */
#include <errno.h>
#include <fcntl.h>
#include <immintrin.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fa_embedder.h"
#include "fa_err.h"
#include "fa_simd.h"
#include "fa_store.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t rs;
static inline uint64_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

/* Roughly normal: the sum of four uniforms, centred. */
static inline float gauss(void)
{
    uint64_t r = rnd();
    float s = (float)(r & 0xffff) + (float)((r >> 16) & 0xffff) + (float)((r >> 32) & 0xffff) +
              (float)(r >> 48);
    return (s - 131070.0f) * (1.0f / 37837.0f);
}

static void put_u32(unsigned char *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

static int gen(const char *dir, size_t n, size_t dim, uint64_t seed)
{
    char p[4096];
    rs = seed * 0x9e3779b97f4a7c15ull + 1;
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        perror(dir);
        return 1;
    }
    snprintf(p, sizeof p, "%s/vectors.f32", dir);
    FILE *v = fopen(p, "wb");
    snprintf(p, sizeof p, "%s/records.ndjson", dir);
    FILE *r = fopen(p, "wb");
    snprintf(p, sizeof p, "%s/rows.idx", dir);
    FILE *x = fopen(p, "wb");
    if (!v || !r || !x) {
        perror("gen");
        return 1;
    }
    unsigned char h[FA_STORE_HEADER] = {0};
    memcpy(h, FA_STORE_MAGIC, 8);
    put_u32(h + 8, FA_STORE_VERSION);
    put_u32(h + 12, FA_STORE_HEADER);
    put_u32(h + 16, (uint32_t)dim);
    put_u32(h + 20, FA_STORE_ELEM_F32);
    put_u64(h + 24, n);
    snprintf((char *)h + 32, 128, "fa-hash-%zu", dim);
    fwrite(h, 1, sizeof h, v);
    float *row = malloc(dim * sizeof *row);
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        double ss = 0;
        for (size_t j = 0; j < dim; j++) {
            row[j] = gauss();
            ss += (double)row[j] * row[j];
        }
        float inv = (float)(1.0 / sqrt(ss));
        for (size_t j = 0; j < dim; j++)
            row[j] *= inv;
        fwrite(row, sizeof *row, dim, v);
        int day = 18262 + (int)(i % 1000); /* 2020-01-01 + i % 1000 */
        char line[160];
        int len = snprintf(line, sizeof line,
                           "{\"kind\":\"synthetic\",\"symbol\":\"SYN\",\"date\":\"2020-01-01\","
                           "\"n\":%zu,\"id\":\"%032zx\"}\n",
                           i, i);
        fwrite(line, 1, (size_t)len, r);
        unsigned char e[32] = {0};
        put_u64(e, off);
        put_u32(e + 8, (uint32_t)len);
        put_u32(e + 12, (uint32_t)day);
        for (int b = 0; b < 8; b++)
            e[31 - b] = (unsigned char)(i >> (8 * b));
        fwrite(e, 1, sizeof e, x);
        off += (uint64_t)len;
    }
    free(row);
    if (fclose(v) || fclose(r) || fclose(x)) {
        perror("gen");
        return 1;
    }
    return 0;
}

/* DST: a store of SRC's rows with a compact copy of type elem (fa-store(5)). */
static int compact(const char *src, const char *dst, const char *ename)
{
    char p[4096], q[4096];
    int elem = fa_store_elem_parse(ename);
    struct fa_store *s =
        elem > FA_STORE_ELEM_F32 ? fa_store_open(src, FA_STORE_READ, NULL, 0) : NULL;
    if (!s) {
        fprintf(stderr, "%s\n", elem < 0 ? fa_err_get() : s ? "f32 is not compact" : fa_err_get());
        return 1;
    }
    size_t n = fa_store_count(s), dim = fa_store_dim(s), esz = elem == FA_STORE_ELEM_F16 ? 2 : 1;
    if (mkdir(dst, 0755) < 0) {
        perror(dst);
        return 1;
    }
    const char *same[2] = {"records.ndjson", "rows.idx"};
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/%s", src, same[i]);
        snprintf(q, sizeof q, "%s/%s", dst, same[i]);
        if (link(p, q) < 0) {
            perror(q);
            return 1;
        }
    }
    snprintf(p, sizeof p, "%s/vectors.f32", src);
    snprintf(q, sizeof q, "%s/vectors.f32", dst);
    int in = open(p, O_RDONLY), out = open(q, O_WRONLY | O_CREAT | O_EXCL, 0644);
    unsigned char h[FA_STORE_HEADER];
    if (in < 0 || out < 0 || pread(in, h, sizeof h, 0) != (ssize_t)sizeof h) {
        perror(q);
        return 1;
    }
    put_u32(h + 20, (uint32_t)elem);
    if (write(out, h, sizeof h) != (ssize_t)sizeof h) {
        perror(q);
        return 1;
    }
    size_t left = n * dim * 4;
    loff_t ioff = FA_STORE_HEADER;
    while (left > 0) {
        ssize_t m = copy_file_range(in, &ioff, out, NULL, left, 0);
        if (m <= 0) {
            perror(q);
            return 1;
        }
        left -= (size_t)m;
    }
    close(in);
    if (close(out) < 0) {
        perror(q);
        return 1;
    }
    snprintf(p, sizeof p, "%s/%s", dst, elem == FA_STORE_ELEM_F16 ? "vectors.f16" : "vectors.i8");
    snprintf(q, sizeof q, "%s/scales.f32", dst);
    FILE *cf = fopen(p, "wb"), *sf = fopen(q, "wb");
    size_t chunk = 65536;
    void *cbuf = malloc(chunk * dim * esz);
    float *sbuf = malloc(chunk * sizeof *sbuf);
    if (!cf || !sf || !cbuf || !sbuf) {
        perror(p);
        return 1;
    }
    const float *rows = fa_store_rows(s);
    for (size_t r = 0; r < n; r += chunk) {
        size_t m = n - r < chunk ? n - r : chunk;
        if (fa_simd_compact_build(elem == FA_STORE_ELEM_F16 ? FA_SIMD_F16 : FA_SIMD_I8,
                                  rows + r * dim, m, dim, cbuf, sbuf) < 0) {
            fprintf(stderr, "%s\n", fa_err_get());
            return 1;
        }
        if (fwrite(cbuf, esz * dim, m, cf) != m || fwrite(sbuf, sizeof *sbuf, m, sf) != m) {
            perror(p);
            return 1;
        }
    }
    if (fclose(cf) || fclose(sf)) {
        perror(p);
        return 1;
    }
    free(cbuf);
    free(sbuf);
    fa_store_close(s);
    return 0;
}

static int queries(const char *dir, size_t nq, uint64_t seed, const char *outp)
{
    struct fa_store *s = fa_store_open(dir, FA_STORE_READ, NULL, 0);
    if (!s) {
        fprintf(stderr, "%s\n", fa_err_get());
        return 1;
    }
    size_t n = fa_store_count(s), dim = fa_store_dim(s);
    const float *rows = fa_store_rows(s);
    float *q = malloc(nq * dim * sizeof *q);
    rs = seed * 0x9e3779b97f4a7c15ull + 7;
    for (size_t j = 0; j < nq; j++) {
        const float *x = rows + (rnd() % n) * dim;
        for (size_t i = 0; i < dim; i++)
            q[j * dim + i] = x[i] + 0.03f * gauss();
    }
    FILE *f = fopen(outp, "wb");
    if (!f || fwrite(q, sizeof *q, nq * dim, f) != nq * dim || fclose(f)) {
        perror(outp);
        return 1;
    }
    free(q);
    fa_store_close(s);
    return 0;
}

static int embed(size_t dim, const char *outp, const char *text)
{
    float *q = malloc(dim * sizeof *q);
    fa_embedder_local(text, dim, q);
    FILE *f = fopen(outp, "wb");
    if (!f || fwrite(q, sizeof *q, dim, f) != dim || fclose(f)) {
        perror(outp);
        return 1;
    }
    free(q);
    return 0;
}

/* ---- bandwidth ---------------------------------------------------------- */

struct bw {
    const float *p;
    size_t n;
    float sum;
    pthread_t t;
};

__attribute__((target("avx2"))) static void *bw_read(void *arg)
{
    struct bw *b = arg;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i + 32 <= b->n; i += 32) {
        a0 = _mm256_add_ps(a0, _mm256_load_ps(b->p + i));
        a1 = _mm256_add_ps(a1, _mm256_load_ps(b->p + i + 8));
        a2 = _mm256_add_ps(a2, _mm256_load_ps(b->p + i + 16));
        a3 = _mm256_add_ps(a3, _mm256_load_ps(b->p + i + 24));
    }
    float o[8];
    _mm256_storeu_ps(o, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    b->sum = o[0] + o[1] + o[2] + o[3] + o[4] + o[5] + o[6] + o[7];
    return NULL;
}

static int bandwidth(size_t mib, int nt, int reps)
{
    size_t n = mib << 18; /* floats */
    float *p = aligned_alloc(64, n * sizeof *p);
    if (!p) {
        perror("bw");
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        p[i] = (float)(i & 7);
    double best = 1e30;
    float sink = 0;
    for (int r = 0; r < reps; r++) {
        struct bw b[16];
        size_t chunk = n / (size_t)nt / 32 * 32;
        double t0 = now();
        for (int t = 0; t < nt; t++) {
            b[t].p = p + (size_t)t * chunk;
            b[t].n = chunk;
            if (t)
                pthread_create(&b[t].t, NULL, bw_read, &b[t]);
        }
        bw_read(&b[0]);
        for (int t = 1; t < nt; t++)
            pthread_join(b[t].t, NULL);
        double dt = now() - t0;
        for (int t = 0; t < nt; t++)
            sink += b[t].sum;
        if (dt < best)
            best = dt;
    }
    printf("bytes %zu\nseconds %.6f\ngbps %.3f\nsink %g\n", n / (size_t)nt * (size_t)nt * 4, best,
           (double)(n * 4) / best / 1e9, (double)sink);
    free(p);
    return 0;
}

/* ---- search ------------------------------------------------------------- */

static int search(const char *dir, const char *qpath, size_t nq, size_t k, int nt, int reps,
                  const char *idsp, const char *elem)
{
    struct fa_store *s = fa_store_open(dir, FA_STORE_READ, NULL, 0);
    if (!s) {
        fprintf(stderr, "%s\n", fa_err_get());
        return 1;
    }
    size_t n = fa_store_count(s), dim = fa_store_dim(s);
    float *q = malloc(nq * dim * sizeof *q);
    FILE *f = fopen(qpath, "rb");
    if (!f || fread(q, sizeof *q, nq * dim, f) != nq * dim) {
        fprintf(stderr, "%s: short query file\n", qpath);
        return 1;
    }
    fclose(f);
    int32_t before[64];
    for (size_t j = 0; j < nq; j++)
        before[j] = 30000; /* every row passes: the filter runs, as in fa-retrieve */
    struct fa_simd_search sr = {.rows = fa_store_rows(s),
                                .n = n,
                                .dim = dim,
                                .day = fa_store_days(s),
                                .before = before,
                                .threads = nt};
    struct fa_simd_compact c;
    void *cdata = NULL;
    float *cscale = NULL;
    double bytes = (double)n * (double)dim * 4;
    if (strcmp(elem, "store") == 0) {
        if (!fa_store_compact(s)) {
            fprintf(stderr, "%s: not a compact store\n", dir);
            return 1;
        }
        c.elem = fa_store_elem(s) == FA_STORE_ELEM_F16 ? FA_SIMD_F16 : FA_SIMD_I8;
        c.data = fa_store_compact(s);
        c.scale = fa_store_scales(s);
        sr.compact = &c;
        bytes = (double)n * (double)dim * (c.elem == FA_SIMD_F16 ? 2 : 1);
    } else if (strcmp(elem, "f32") != 0) {
        c.elem = strcmp(elem, "f16") == 0 ? FA_SIMD_F16 : FA_SIMD_I8;
        cdata = malloc(n * dim * (c.elem == FA_SIMD_F16 ? 2 : 1));
        cscale = malloc(n * sizeof *cscale);
        if (fa_simd_compact_build(c.elem, sr.rows, n, dim, cdata, cscale) < 0) {
            fprintf(stderr, "%s\n", fa_err_get());
            return 1;
        }
        c.data = cdata;
        c.scale = cscale;
        sr.compact = &c;
        bytes = (double)n * (double)dim * (c.elem == FA_SIMD_F16 ? 2 : 1);
    }
    struct fa_simd_hit *h = malloc(nq * k * sizeof *h);
    size_t nh[64];
    struct fa_simd_stats st;
    double best = 1e30, first = 0;
    for (int r = 0; r <= reps; r++) { /* run 0 faults the mapping in */
        double t0 = now();
        if (fa_simd_topk(&sr, q, nq, k, h, nh, &st) < 0) {
            fprintf(stderr, "%s\n", fa_err_get());
            return 1;
        }
        double dt = now() - t0;
        if (r == 0)
            first = dt;
        else if (dt < best)
            best = dt;
    }
    if (reps == 0)
        best = first;
    f = fopen(idsp, "w");
    for (size_t j = 0; j < nq; j++) {
        for (size_t i = 0; i < nh[j]; i++)
            fprintf(f, "%s%lld", i ? " " : "", (long long)h[j * k + i].row);
        fputc('\n', f);
    }
    fclose(f);
    printf("path %s\nthreads %d\nseconds %.6f\nfirst_seconds %.6f\nmvecs %.3f\ngbps %.3f\n"
           "rescored %zu\nsecond_pass %zu\n",
           fa_simd_path_name(st.path), st.threads, best, first, (double)n * (double)nq / best / 1e6,
           bytes / best / 1e9, st.rescored, st.second_pass);
    free(h);
    free(q);
    free(cdata);
    free(cscale);
    fa_store_close(s);
    return 0;
}

int main(int argc, char **argv)
{
    fa_err_init("retrieve-bench");
    if (argc == 6 && !strcmp(argv[1], "gen"))
        return gen(argv[2], strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10),
                   strtoull(argv[5], NULL, 10));
    if (argc == 6 && !strcmp(argv[1], "queries"))
        return queries(argv[2], strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10), argv[5]);
    if (argc == 5 && !strcmp(argv[1], "compact"))
        return compact(argv[2], argv[3], argv[4]);
    if (argc == 5 && !strcmp(argv[1], "embed"))
        return embed(strtoull(argv[2], NULL, 10), argv[3], argv[4]);
    if (argc == 5 && !strcmp(argv[1], "bw"))
        return bandwidth(strtoull(argv[2], NULL, 10), (int)strtol(argv[3], NULL, 10),
                         (int)strtol(argv[4], NULL, 10));
    if ((argc == 9 || argc == 10) && !strcmp(argv[1], "search"))
        return search(argv[2], argv[3], strtoull(argv[4], NULL, 10), strtoull(argv[5], NULL, 10),
                      (int)strtol(argv[6], NULL, 10), (int)strtol(argv[7], NULL, 10), argv[8],
                      argc == 10 ? argv[9] : "f32");
    fprintf(stderr, "usage: see the comment at the top of bench/retrieve-bench.c\n");
    return 2;
}
