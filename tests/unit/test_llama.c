/* test_llama.c: fa_safetensors and fa_llama.
 *
 * The safetensors validation and the matrix kernel (scalar against AVX2
 * against a double-precision reference) need nothing. The model tests
 * write tiny random checkpoints with tests/lib/make_tiny_llama.py
 * (Debian's python3-torch) and then, in the plain suite only, compare
 * logits, the last normed state and the trained parameters' gradients
 * (full and LoRA, one and two trained layers) with tests/lib/llama_ref.py,
 * a plain PyTorch llama in float64. Under the sanitizers the same C paths
 * run, checked for consistency instead. */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "fa_err.h"
#include "fa_llama.h"
#include "fa_safetensors.h"
#include "fa_simd.h"
#include "tap.h"

#define PY "/usr/bin/python3"

static char tmpdir[64];
static struct fa_llama *gm;

static uint64_t rng = 88172645463325252ull;
static double urand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) * 0x1p-53;
}

__attribute__((format(printf, 1, 2))) static int run(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        printf("Bail out! cannot write %s\n", path);
        exit(1);
    }
}

static void *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)len + 1);
    if (!p || fread(p, 1, (size_t)len, f) != (size_t)len) {
        fclose(f);
        free(p);
        return NULL;
    }
    p[len] = 0;
    fclose(f);
    *n = (size_t)len;
    return p;
}

/* ---- safetensors ---------------------------------------------------- */

/* An image with header text hdr and datalen bytes of data. */
static unsigned char *st_image(const char *hdr, size_t datalen, size_t *len)
{
    size_t hl = strlen(hdr);
    *len = 8 + hl + datalen;
    unsigned char *p = calloc(1, *len);
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)((uint64_t)hl >> (8 * i));
    memcpy(p + 8, hdr, hl);
    return p;
}

static void st_bad(const char *hdr, size_t datalen, const char *want, const char *name)
{
    size_t len;
    unsigned char *p = st_image(hdr, datalen, &len);
    struct fa_st *f = fa_st_parse_header(p, len, "x.safetensors");
    ok(!f && strstr(fa_err_get(), want) && strstr(fa_err_get(), "x.safetensors"),
       "safetensors rejects %s", name);
    if (f || !strstr(fa_err_get(), want))
        printf("#   error: %s\n", fa_err_get());
    fa_st_close(f);
    free(p);
}

static void test_safetensors(void)
{
    size_t len;
    unsigned char *p = st_image("{\"__metadata__\":{\"format\":\"pt\"},"
                                "\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[8,14]},"
                                "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}  ",
                                14, &len);
    struct fa_st *f = fa_st_parse_header(p, len, "ok.safetensors");
    ok(f != NULL, "safetensors parses a valid header");
    if (f) {
        const struct fa_st_tensor *a = fa_st_find(f, "a"), *b = fa_st_find(f, "b");
        ok(a && b && fa_st_count(f) == 2 && a->nelem == 2 && b->dtype == FA_ST_BF16 &&
               b->nbytes == 6 && (const unsigned char *)b->data == p + len - 6,
           "safetensors finds tensors, dtypes, sizes and data");
        is_str(fa_st_metadata(f, "format"), "pt", "safetensors reads __metadata__");
        ok(fa_st_find(f, "c") == NULL, "safetensors: absent tensor is NULL");
        fa_st_close(f);
    }
    free(p);
    st_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "truncated",
           "data beyond the file");
    st_bad("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "'w'",
           "offsets not matching the shape");
    st_bad("{\"w\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8,
           "unsupported dtype", "an unknown dtype");
    st_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
           "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
           12, "overlaps", "overlapping tensors");
    st_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "bad shape",
           "a negative dimension");
    st_bad("{\"a\":", 0, "not valid JSON", "a cut header");
    st_bad("[1,2]", 0, "not a JSON object", "a header that is not an object");
    unsigned char big[16] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, '{', '}'};
    f = fa_st_parse_header(big, sizeof big, "big.safetensors");
    ok(!f && strstr(fa_err_get(), "header length"), "safetensors rejects a header length "
                                                    "beyond the file");
    f = fa_st_parse_header(big, 5, "short.safetensors");
    ok(!f && strstr(fa_err_get(), "too short"), "safetensors rejects a 5-byte file");
}

/* ---- the kernel ------------------------------------------------------ */

static void test_gemm(void)
{
    int m = 37, n = 53, k = 300;
    float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * n * k);
    float *c0 = malloc(sizeof(float) * m * n), *c1 = malloc(sizeof(float) * m * n);
    float *c2 = malloc(sizeof(float) * m * n), *bt = malloc(sizeof(float) * n * k);
    float *at = malloc(sizeof(float) * m * k);
    for (int i = 0; i < m * k; i++)
        a[i] = (float)(urand() * 2 - 1);
    for (int i = 0; i < n * k; i++)
        b[i] = (float)(urand() * 2 - 1);
    for (int i = 0; i < n; i++)
        for (int p = 0; p < k; p++)
            bt[p * n + i] = b[i * k + p];
    for (int i = 0; i < m; i++)
        for (int p = 0; p < k; p++)
            at[p * m + i] = a[i * k + p];
    double worst[3] = {0, 0, 0};
    int paths[2] = {FA_SIMD_SCALAR,
                    fa_simd_resolve(FA_SIMD_AVX2) == FA_SIMD_AVX2 ? FA_SIMD_AVX2 : FA_SIMD_SCALAR};
    for (int pi = 0; pi < 2; pi++) {
        for (int v = 0; v < 3; v++) {
            for (int th = 1; th <= 3; th += 2) {
                float *c = pi ? c1 : c0;
                for (int i = 0; i < m * n; i++)
                    c[i] = 1.0f;
                if (v == 0)
                    fa_llama_gemm(paths[pi], th, m, n, k, a, b, c, true);
                else if (v == 1)
                    fa_llama_gemm_nn(paths[pi], th, m, n, k, a, bt, c, true);
                else
                    fa_llama_gemm_tn(paths[pi], th, m, n, k, at, bt, c, true);
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++) {
                        double s = 1.0;
                        for (int p = 0; p < k; p++)
                            s += (double)a[i * k + p] * b[j * k + p];
                        double e = fabs(c[i * n + j] - s);
                        if (e > worst[v])
                            worst[v] = e;
                    }
                if (th == 1)
                    memcpy(c2, c, sizeof(float) * m * n);
                else
                    ok(memcmp(c2, c, sizeof(float) * m * n) == 0,
                       "gemm variant %d path %s: 1 and 3 threads give the same bits", v,
                       fa_simd_path_name(paths[pi]));
            }
        }
        ok(worst[0] < 1e-4 && worst[1] < 1e-4 && worst[2] < 1e-4,
           "gemm (nt, nn, tn) on path %s agrees with a double reference (%.2g %.2g %.2g)",
           fa_simd_path_name(paths[pi]), worst[0], worst[1], worst[2]);
    }
    double diff = 0;
    for (int i = 0; i < m * n; i++)
        diff = fmax(diff, fabs(c0[i] - c1[i]));
    ok(diff < 1e-4, "gemm: scalar and %s paths agree (max diff %.2g)", fa_simd_path_name(paths[1]),
       diff);
    free(a);
    free(b);
    free(c0);
    free(c1);
    free(c2);
    free(bt);
    free(at);
}

/* ---- loading errors --------------------------------------------------- */

/* Copies model dir src to dst with config.json and model.safetensors
 * edited: each byte string `from` replaced by `to` (same length for the
 * safetensors), cut bytes removed from the end of the safetensors. */
static void variant(const char *src, const char *dst, const char *cfrom, const char *cto,
                    const char *sfrom, const char *sto, size_t cut)
{
    char p[512];
    size_t n;
    run("mkdir -p %s", dst);
    snprintf(p, sizeof p, "%s/config.json", src);
    char *cfg = read_file(p, &n);
    if (cfrom) {
        char *at = strstr(cfg, cfrom);
        if (at) {
            size_t fl = strlen(cfrom), tl = strlen(cto);
            char *nc = malloc(n + tl + 1);
            memcpy(nc, cfg, (size_t)(at - cfg));
            memcpy(nc + (at - cfg), cto, tl);
            memcpy(nc + (at - cfg) + tl, at + fl, strlen(at + fl) + 1);
            free(cfg);
            cfg = nc;
            n = strlen(cfg);
        }
    }
    snprintf(p, sizeof p, "%s/config.json", dst);
    write_file(p, cfg, n);
    free(cfg);
    snprintf(p, sizeof p, "%s/model.safetensors", src);
    unsigned char *st = read_file(p, &n);
    if (sfrom) {
        size_t fl = strlen(sfrom);
        for (size_t i = 0; i + fl <= n; i++)
            if (memcmp(st + i, sfrom, fl) == 0) {
                memcpy(st + i, sto, fl);
                break;
            }
    }
    snprintf(p, sizeof p, "%s/model.safetensors", dst);
    write_file(p, st, n - cut);
    free(st);
}

static void load_bad(const char *dir, const char *want1, const char *want2, const char *what)
{
    struct fa_llama *m = fa_llama_open(dir);
    const char *e = fa_err_get();
    ok(!m && strstr(e, want1) && (!want2 || strstr(e, want2)), "load refuses %s", what);
    printf("#   %s\n", e);
    fa_llama_free(m);
}

static void test_load_errors(const char *base)
{
    char d[256];
    snprintf(d, sizeof d, "%s/bad1", tmpdir);
    variant(base, d, "\"model_type\": \"llama\"", "\"model_type\": \"gpt2\"", NULL, NULL, 0);
    load_bad(d, "config.json", "gpt2", "an unknown architecture");
    snprintf(d, sizeof d, "%s/bad2", tmpdir);
    variant(base, d, "\"rope_scaling\": null", "\"rope_scaling\": {\"type\": \"linear\"}", NULL,
            NULL, 0);
    load_bad(d, "config.json", "rope_scaling", "rope_scaling");
    snprintf(d, sizeof d, "%s/bad3", tmpdir);
    variant(base, d, NULL, NULL, "model.layers.1.mlp.up_proj", "model.layers.1.mlp.upXproj", 0);
    load_bad(d, "model.safetensors", "model.layers.1.mlp.up_proj.weight", "a missing tensor");
    snprintf(d, sizeof d, "%s/bad4", tmpdir);
    variant(base, d, NULL, NULL,
            "\"model.layers.2.mlp.up_proj.weight\":{\"dtype\":\"F32\","
            "\"shape\":[172,64]",
            "\"model.layers.2.mlp.up_proj.weight\":{\"dtype\":\"F32\",\"shape\":[64,172]", 0);
    load_bad(d, "model.safetensors", "model.layers.2.mlp.up_proj.weight", "a wrong shape");
    snprintf(d, sizeof d, "%s/bad5", tmpdir);
    variant(base, d, NULL, NULL, NULL, NULL, 100);
    load_bad(d, "model.safetensors", "truncated", "a truncated file");
    snprintf(d, sizeof d, "%s/bad6", tmpdir);
    variant(base, d, NULL, NULL, "{\"__metadata__\"", "[\"__metadata__\"", 0);
    load_bad(d, "model.safetensors", "JSON", "a bad header");
    snprintf(d, sizeof d, "%s/bad7", tmpdir);
    variant(base, d, "\"num_hidden_layers\": 4", "\"num_hidden_layers\": 5", NULL, NULL, 0);
    load_bad(d, "model.safetensors", "model.layers.4.", "more layers than tensors");
    load_bad("/nonexistent/model", "/nonexistent/model/config.json", NULL, "a missing directory");
}

/* ---- the model -------------------------------------------------------- */

#define NTOK 37

static int32_t ids[NTOK];

static double maxabs(const float *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(a[i]));
    return m;
}

static double maxdiff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

static void dloss(const float *last, int d, float *dl)
{
    for (int i = 0; i < d; i++)
        dl[i] = sinf((float)(i + 1)) + last[i];
}

struct job {
    int L, r;
    struct fa_llama_train *t;
    float *last;
};

/* Runs a training job's forward and backward; writes its files for the
 * reference. */
static void job_run(struct fa_llama *m, struct job *j, int k, const char *jdir)
{
    const struct fa_llama_config *c = fa_llama_config(m);
    j->t = fa_llama_train_new(m, j->L, j->r, 7 + (uint64_t)k);
    ok(j->t != NULL, "train_new layers %d rank %d", j->L, j->r);
    if (!j->t)
        return;
    float *p = fa_llama_train_params(j->t);
    size_t np = fa_llama_train_nparams(j->t);
    struct json_object *lay = fa_llama_train_layout(j->t);
    /* move away from the base model: noise on full weights; B random for LoRA */
    for (size_t i = 0; i < json_object_array_length(lay); i++) {
        struct json_object *e = json_object_array_get_idx(lay, i), *v;
        json_object_object_get_ex(e, "name", &v);
        const char *nm = json_object_get_string(v);
        json_object_object_get_ex(e, "offset", &v);
        size_t off = (size_t)json_object_get_int64(v);
        json_object_object_get_ex(e, "size", &v);
        size_t sz = (size_t)json_object_get_int64(v);
        double amp = strstr(nm, "lora_B") ? 0.05 : strstr(nm, "lora_A") ? 0 : 0.01;
        for (size_t q = off; q < off + sz; q++)
            p[q] += (float)(amp * (urand() * 2 - 1));
    }
    const float *h;
    struct fa_llama_act *act = NULL;
    j->last = malloc(sizeof(float) * c->hidden);
    float *dl = malloc(sizeof(float) * c->hidden);
    int rc = fa_llama_frozen(j->t, ids, NTOK, &h);
    rc = rc ? rc : fa_llama_top_forward(j->t, h, NTOK, j->last, &act);
    dloss(j->last, c->hidden, dl);
    fa_llama_train_zero_grad(j->t);
    rc = rc ? rc : fa_llama_top_backward(j->t, act, dl);
    ok(rc == 0, "forward and backward layers %d rank %d%s%s", j->L, j->r, rc ? ": " : "",
       rc ? fa_err_get() : "");
    fa_llama_act_free(act);
    free(dl);
    char path[512];
    snprintf(path, sizeof path, "%s/job%d.params.f32", jdir, k);
    write_file(path, p, np * sizeof(float));
    struct json_object *jo = json_object_new_object();
    json_object_object_add(jo, "train_layers", json_object_new_int(j->L));
    json_object_object_add(jo, "lora_rank", json_object_new_int(j->r));
    json_object_object_add(jo, "layout", lay);
    snprintf(path, sizeof path, "%s/job%d.json", jdir, k);
    const char *s = json_object_to_json_string(jo);
    write_file(path, s, strlen(s));
    json_object_put(jo);
}

/* Compares job k's gradients with the reference's, tensor by tensor. */
static void job_check(struct job *j, int k, const char *jdir)
{
    char path[512];
    size_t n;
    snprintf(path, sizeof path, "%s/job%d.grads.f32", jdir, k);
    float *ref = read_file(path, &n);
    size_t np = fa_llama_train_nparams(j->t);
    if (!ok(ref && n == np * sizeof(float), "reference gradients for job %d", k)) {
        free(ref);
        return;
    }
    const float *g = fa_llama_train_grads(j->t);
    struct json_object *lay = fa_llama_train_layout(j->t);
    double worst = 0;
    const char *wname = "";
    for (size_t i = 0; i < json_object_array_length(lay); i++) {
        struct json_object *e = json_object_array_get_idx(lay, i), *v;
        json_object_object_get_ex(e, "offset", &v);
        size_t off = (size_t)json_object_get_int64(v);
        json_object_object_get_ex(e, "size", &v);
        size_t sz = (size_t)json_object_get_int64(v);
        double scale = maxabs(ref + off, sz), rel = maxdiff(g + off, ref + off, sz) / scale;
        if (scale == 0)
            rel = maxabs(g + off, sz) > 0 ? 1 : 0;
        if (rel > worst) {
            worst = rel;
            json_object_object_get_ex(e, "name", &v);
            wname = json_object_get_string(v);
        }
    }
    ok(worst < 1e-3, "gradients layers %d rank %d agree with torch.autograd (worst %.2g, %s)", j->L,
       j->r, worst, wname);
    snprintf(path, sizeof path, "%s/job%d.last.f32", jdir, k);
    float *rl = read_file(path, &n);
    if (rl)
        ok(maxdiff(rl, j->last, n / 4) < 1e-4, "last normed state layers %d rank %d matches", j->L,
           j->r);
    json_object_put(lay);
    free(rl);
    free(ref);
}

static struct job jobs[4] = {
    {1, 0, NULL, NULL}, {2, 0, NULL, NULL}, {1, 4, NULL, NULL}, {2, 4, NULL, NULL}};

static void test_model(const char *dir, const char *jdir)
{
    struct fa_llama *m = fa_llama_open(dir);
    if (!ok(m != NULL, "opens the tiny model")) {
        printf("#   %s\n", fa_err_get());
        return;
    }
    const struct fa_llama_config *c = fa_llama_config(m);
    ok(c->n_layers == 4 && c->hidden == 64 && c->n_kv_heads == 2 && c->vocab == 300 && c->tied,
       "config read");
    ok(strlen(fa_llama_config_hash(m)) == 64, "config hash is 64 hex digits");
    size_t nl = (size_t)NTOK * c->vocab;
    float *lg = malloc(sizeof(float) * nl), *ls = malloc(sizeof(float) * nl);
    float *l2 = malloc(sizeof(float) * nl);
    ok(fa_llama_logits(m, ids, NTOK, lg) == 0, "logits");
    int finite = 1;
    for (size_t i = 0; i < nl; i++)
        finite &= isfinite(lg[i]);
    ok(finite && maxabs(lg, nl) > 0.1, "logits are finite and not all zero");
    fa_llama_set_path(m, FA_SIMD_SCALAR, 1);
    int rcs = fa_llama_logits(m, ids, NTOK, ls);
    ok(rcs == 0 && maxdiff(ls, lg, nl) < 1e-4,
       "scalar kernel logits agree with the default path (%.2g)", maxdiff(ls, lg, nl));
    fa_llama_set_path(m, FA_SIMD_AUTO, 2);
    ok(fa_llama_logits(m, ids, NTOK, l2) == 0 && memcmp(l2, lg, sizeof(float) * nl) == 0,
       "two threads give the same logits bit for bit");
    /* a prefix's logits do not depend on what follows (causal mask) */
    ok(fa_llama_logits(m, ids, 10, l2) == 0 && maxdiff(l2, lg, 10 * (size_t)c->vocab) < 1e-5,
       "causal: a prefix's logits equal the full run's");
    int32_t bad = 300;
    ok(fa_llama_logits(m, &bad, 1, l2) < 0 && strstr(fa_err_get(), "vocabulary"),
       "an id outside the vocabulary is refused");

    /* the frozen cache and the split */
    char cdir[256];
    snprintf(cdir, sizeof cdir, "%s/cache", tmpdir);
    setenv("FA_CACHE_DIR", cdir, 1);
    struct fa_llama_train *t = fa_llama_train_new(m, 2, 0, 1);
    const float *h;
    float *h1 = malloc(sizeof(float) * NTOK * c->hidden), *last = malloc(sizeof(float) * 64);
    ok(t && fa_llama_frozen(t, ids, NTOK, &h) == 0, "frozen states");
    memcpy(h1, h, sizeof(float) * NTOK * c->hidden);
    struct fa_llama_cache_stats st;
    ok(fa_llama_frozen(t, ids, NTOK, &h) == 0 &&
           memcmp(h, h1, sizeof(float) * NTOK * c->hidden) == 0,
       "the cache returns identical frozen states");
    fa_llama_cache_stats(t, &st);
    ok(st.hits == 1 && st.misses == 1 && st.entries == 1, "cache: one miss then one hit");
    ok(fa_llama_frozen(t, ids, 12, &h) == 0, "another sequence");
    fa_llama_cache_stats(t, &st);
    ok(st.misses == 2 && st.entries == 2, "a different sequence misses");
    struct fa_llama_train *t2 = fa_llama_train_new(m, 2, 0, 1);
    ok(t2 && fa_llama_frozen(t2, ids, NTOK, &h) == 0 &&
           memcmp(h, h1, sizeof(float) * NTOK * c->hidden) == 0,
       "a new trainer reads the frozen states from FA_CACHE_DIR");
    fa_llama_cache_stats(t2, &st);
    ok(st.disk_hits == 1 && st.misses == 0, "cache: disk hit");
    /* top forward of the untouched model == the full forward's last state */
    ok(fa_llama_top_forward(t, h1, NTOK, last, NULL) == 0, "top forward");
    double dmax = 0;
    for (int v = 0; v < c->vocab; v++) {
        /* tied head: logit v = embed[v] . last; read embed through fa_st */
        static struct fa_st *f;
        if (!f) {
            char sp[512];
            snprintf(sp, sizeof sp, "%s/model.safetensors", dir);
            f = fa_st_open(sp);
        }
        const float *e = (const float *)fa_st_find(f, "model.embed_tokens.weight")->data;
        double s = 0;
        for (int i = 0; i < c->hidden; i++)
            s += (double)e[(size_t)v * c->hidden + i] * last[i];
        dmax = fmax(dmax, fabs(s - lg[(size_t)(NTOK - 1) * c->vocab + v]));
        if (v == c->vocab - 1)
            fa_st_close(f);
    }
    ok(dmax < 1e-4, "frozen + top layers reproduce the full forward (%.2g)", dmax);
    /* LoRA starts at the base model */
    struct fa_llama_train *tl = fa_llama_train_new(m, 2, 4, 9);
    float *last2 = malloc(sizeof(float) * 64);
    ok(tl && fa_llama_frozen(tl, ids, NTOK, &h) == 0 &&
           fa_llama_top_forward(tl, h, NTOK, last2, NULL) == 0 && maxdiff(last, last2, 64) < 1e-5,
       "LoRA with B = 0 is the base model");
    struct json_object *lay = tl ? fa_llama_train_layout(tl) : NULL;
    ok(lay && json_object_array_length(lay) == 2 * (2 + 14) + 1,
       "LoRA layout: 2 norms and 7 A/B pairs per layer, and the final norm");
    json_object_put(lay);
    ok(fa_llama_train_new(m, 5, 0, 1) == NULL && strstr(fa_err_get(), "layers"),
       "more trained layers than the model has is refused");
    struct fa_llama_train *ta = fa_llama_train_new(m, 4, 0, 1);
    ok(ta && fa_llama_frozen(ta, ids, NTOK, &h) == 0 &&
           fa_llama_top_forward(ta, h, NTOK, last2, NULL) == 0 && maxdiff(last, last2, 64) < 1e-4,
       "training every layer: frozen states are the embeddings");
    fa_llama_train_free(ta);
    fa_llama_train_free(tl);
    fa_llama_train_free(t2);
    fa_llama_train_free(t);
    unsetenv("FA_CACHE_DIR");
    free(last2);

    /* backward accumulates: a second pass doubles the gradients */
    {
        struct fa_llama_train *tt = fa_llama_train_new(m, 2, 0, 5);
        size_t np = fa_llama_train_nparams(tt);
        float *g1 = malloc(sizeof(float) * np), *dl = malloc(sizeof(float) * 64);
        struct fa_llama_act *act = NULL;
        last2 = malloc(sizeof(float) * 64);
        int rc = fa_llama_frozen(tt, ids, NTOK, &h);
        rc = rc ? rc : fa_llama_top_forward(tt, h, NTOK, last2, &act);
        dloss(last2, 64, dl);
        rc = rc ? rc : fa_llama_top_backward(tt, act, dl);
        memcpy(g1, fa_llama_train_grads(tt), sizeof(float) * np);
        rc = rc ? rc : fa_llama_top_backward(tt, act, dl);
        double e = 0;
        for (size_t i = 0; i < np; i++)
            e = fmax(e, fabs(fa_llama_train_grads(tt)[i] - 2 * g1[i]));
        ok(rc == 0 && e < 1e-5 * (1 + maxabs(g1, np)) && maxabs(g1, np) > 0,
           "backward accumulates into the grads");
        fa_llama_train_zero_grad(tt);
        ok(maxabs(fa_llama_train_grads(tt), np) == 0, "zero_grad clears them");
        fa_llama_act_free(act);
        fa_llama_train_free(tt);
        free(g1);
        free(dl);
        free(last2);
    }

    /* training jobs, for the comparison with torch.autograd */
    run("mkdir -p %s", jdir);
    char ip[512];
    snprintf(ip, sizeof ip, "%s/ids.i32", jdir);
    write_file(ip, ids, sizeof ids);
    snprintf(ip, sizeof ip, "%s/fa-logits.f32", jdir);
    write_file(ip, lg, nl * sizeof(float));
    for (int k = 0; k < 4; k++)
        job_run(m, &jobs[k], k, jdir);
    free(lg);
    free(ls);
    free(l2);
    free(h1);
    free(last);
    gm = m;
}

static void check_model(const char *jdir)
{
    for (int k = 0; k < 4; k++)
        if (jobs[k].t)
            job_check(&jobs[k], k, jdir);
}

static void cleanup_model(void)
{
    for (int k = 0; k < 4; k++) {
        fa_llama_train_free(jobs[k].t);
        free(jobs[k].last);
    }
    fa_llama_free(gm);
}

/* Rewrites the f32 checkpoint src as dtype (FA_ST_BF16 or FA_ST_F16,
 * rounded to nearest even) in dst; untie adds an lm_head.weight (the
 * embeddings times -0.5) and sets tie_word_embeddings false. */
static int convert(const char *src, const char *dst, int dtype, bool untie)
{
    char p[512];
    size_t n;
    run("mkdir -p %s", dst);
    snprintf(p, sizeof p, "%s/config.json", src);
    char *cfg = read_file(p, &n);
    if (!cfg)
        return -1;
    const char *tk = "\"tie_word_embeddings\": true";
    char *at = strstr(cfg, tk);
    if (untie && at) {
        size_t pre = (size_t)(at - cfg);
        char *nc = malloc(n + 8);
        memcpy(nc, cfg, pre);
        memcpy(nc + pre, "\"tie_word_embeddings\": false", 28);
        memcpy(nc + pre + 28, at + strlen(tk), strlen(at + strlen(tk)) + 1);
        free(cfg);
        cfg = nc;
    }
    snprintf(p, sizeof p, "%s/config.json", dst);
    write_file(p, cfg, strlen(cfg));
    free(cfg);
    snprintf(p, sizeof p, "%s/model.safetensors", src);
    struct fa_st *f = fa_st_open(p);
    if (!f)
        return -1;
    size_t cnt = fa_st_count(f), total = 0;
    struct json_object *h = json_object_new_object();
    for (size_t i = 0; i <= cnt; i++) {
        const struct fa_st_tensor *t = fa_st_at(f, i < cnt ? i : 0);
        const char *nm = i < cnt ? t->name : "lm_head.weight";
        if (i == cnt && (!untie || strcmp(t->name, "model.embed_tokens.weight") != 0))
            t = fa_st_find(f, "model.embed_tokens.weight");
        if (i == cnt && !untie)
            break;
        struct json_object *e = json_object_new_object(), *sh = json_object_new_array(),
                           *of = json_object_new_array();
        for (int d = 0; d < t->ndim; d++)
            json_object_array_add(sh, json_object_new_int64(t->shape[d]));
        json_object_array_add(of, json_object_new_int64((int64_t)total));
        total += t->nelem * 2;
        json_object_array_add(of, json_object_new_int64((int64_t)total));
        json_object_object_add(e, "dtype",
                               json_object_new_string(dtype == FA_ST_BF16 ? "BF16" : "F16"));
        json_object_object_add(e, "shape", sh);
        json_object_object_add(e, "data_offsets", of);
        json_object_object_add(h, nm, e);
    }
    const char *hs = json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN);
    size_t hl = (strlen(hs) + 7) / 8 * 8;
    unsigned char *img = calloc(1, 8 + hl + total);
    for (int i = 0; i < 8; i++)
        img[i] = (unsigned char)((uint64_t)hl >> (8 * i));
    memset(img + 8, ' ', hl);
    memcpy(img + 8, hs, strlen(hs));
    uint16_t *out = (uint16_t *)(void *)(img + 8 + hl);
    for (size_t i = 0; i <= cnt; i++) {
        const struct fa_st_tensor *t =
            i < cnt ? fa_st_at(f, i) : fa_st_find(f, "model.embed_tokens.weight");
        if (i == cnt && !untie)
            break;
        const float *x = t->data;
        for (size_t j = 0; j < t->nelem; j++) {
            float v = i < cnt ? x[j] : -0.5f * x[j];
            uint32_t u;
            memcpy(&u, &v, 4);
            uint16_t o = dtype == FA_ST_BF16 ? (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16)
                                             : fa_simd_f32_to_f16(v);
            memcpy(out++, &o, 2);
        }
    }
    snprintf(p, sizeof p, "%s/model.safetensors", dst);
    write_file(p, img, 8 + hl + total);
    free(img);
    json_object_put(h);
    fa_st_close(f);
    return 0;
}

/* bf16 and f16 checkpoints: loaded (converted to f32 once). The
 * conversion is exact, so against the reference on the same rounded
 * weights the tolerance stays 1e-4. */
static void test_dtype(const char *base, int dtype, const char *d, const char *jd, bool untie)
{
    const char *name = dtype == FA_ST_BF16 ? "bf16" : "f16";
    ok(convert(base, d, dtype, untie) == 0, "writes a %s%s checkpoint", name,
       untie ? " untied" : "");
    struct fa_llama *m = fa_llama_open(d);
    if (!ok(m != NULL, "opens a %s checkpoint", name)) {
        printf("#   %s\n", fa_err_get());
        return;
    }
    ok(fa_llama_config(m)->tied == !untie, "%s: tie_word_embeddings read", name);
    size_t nl = (size_t)NTOK * 300;
    float *lg = malloc(sizeof(float) * nl);
    char p[512];
    ok(fa_llama_logits(m, ids, NTOK, lg) == 0 && isfinite(lg[0]) && isfinite(lg[nl - 1]),
       "%s logits", name);
    snprintf(p, sizeof p, "%s/fa-logits.f32", jd);
    run("mkdir -p %s", jd);
    write_file(p, lg, nl * 4);
    snprintf(p, sizeof p, "%s/ids.i32", jd);
    write_file(p, ids, sizeof ids);
    free(lg);
    fa_llama_free(m);
}

static void check_dtype(const char *jd, const char *name)
{
    char p[512];
    size_t n, n2;
    snprintf(p, sizeof p, "%s/logits.f32", jd);
    float *ref = read_file(p, &n);
    snprintf(p, sizeof p, "%s/fa-logits.f32", jd);
    float *lg = read_file(p, &n2);
    double e = ref && lg && n == n2 ? maxdiff(ref, lg, n / 4) : -1;
    ok(e >= 0 && e < 1e-4, "%s logits agree with PyTorch to 1e-4 (%.2g)", name, e);
    free(ref);
    free(lg);
}

int main(void)
{
    fa_err_init("test_llama");
    test_safetensors();
    test_gemm();
    for (int i = 0; i < NTOK; i++)
        ids[i] = (int32_t)(urand() * 300);
    const char *suite = getenv("FA_SUITE");
    bool plain = !suite || strcmp(suite, "san") != 0;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/fa-test-llama-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        ok(0, "temporary directory");
        return tap_done();
    }
    char cmd[2048];
    char base[256], d16[256], dbf[256], j16[256], jbf[256], jf[256];
    snprintf(base, sizeof base, "%s/tiny", tmpdir);
    snprintf(dbf, sizeof dbf, "%s/bf16", tmpdir);
    snprintf(d16, sizeof d16, "%s/f16", tmpdir);
    snprintf(jbf, sizeof jbf, "%s/bf16-jobs", tmpdir);
    snprintf(j16, sizeof j16, "%s/f16-jobs", tmpdir);
    snprintf(jf, sizeof jf, "%s/jobs", tmpdir);
    if (run(PY " tests/lib/make_tiny_llama.py %s", base) != 0) {
        if (system(PY " -c 'import torch' 2>/dev/null") != 0)
            ok(1, "# SKIP " PY " has no torch (python3-torch)");
        else
            ok(0, "make_tiny_llama.py writes a model");
        run("rm -rf %s", tmpdir);
        return tap_done();
    }
    test_load_errors(base);
    test_dtype(base, FA_ST_BF16, dbf, jbf, false);
    test_dtype(base, FA_ST_F16, d16, j16, true);
    test_model(base, jf);
    if (!plain) {
        ok(1, "# SKIP torch comparisons run in the plain suite only");
    } else if (snprintf(cmd, sizeof cmd, PY " tests/lib/llama_ref.py %s %s %s %s %s %s", base, jf,
                        dbf, jbf, d16, j16) >= (int)sizeof cmd ||
               system(cmd) != 0) {
        ok(0, "tests/lib/llama_ref.py ran");
    } else {
        check_dtype(jf, "f32");
        check_model(jf);
        check_dtype(jbf, "bf16");
        check_dtype(j16, "f16 (untied)");
    }
    cleanup_model();
    run("rm -rf %s", tmpdir);
    return tap_done();
}
