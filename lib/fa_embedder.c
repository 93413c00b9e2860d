/* fa_embedder.c: the local hashing embedder (words and character n-grams,
 * signed hashing, L2-normalised) and the remote one through fa_llm. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "fa_embedder.h"
#include "fa_cli.h"
#include "fa_err.h"
#include "fa_banned.h"

#define MAX_WORD 64

struct fa_embedder {
    struct fa_llm *llm; /* NULL: local */
    size_t dim;         /* 0: remote, not known yet */
    char *model;
};

static void add_feature(double *acc, size_t dim, char tag, const char *s, size_t n, double w)
{
    unsigned char buf[2 + MAX_WORD + 2], h[8];
    uint64_t v = 0;

    buf[0] = (unsigned char)tag;
    buf[1] = ' ';
    memcpy(buf + 2, s, n);
    crypto_generichash(h, sizeof h, buf, n + 2, NULL, 0);
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | h[i];
    acc[v % dim] += (v >> 63) ? -w : w;
}

void fa_embedder_local(const char *text, size_t dim, float *out)
{
    const unsigned char *p = (const unsigned char *)(text ? text : "");
    double *acc = calloc(dim, sizeof *acc), norm = 0;

    if (!acc)
        abort();
    if (sodium_init() < 0)
        abort();
    while (*p) {
        char w[MAX_WORD + 2];
        size_t n = 0;

        if (!(isalnum(*p) && *p < 0x80) && *p < 0x80) {
            p++;
            continue;
        }
        w[n++] = '<';
        while (*p && ((isalnum(*p) && *p < 0x80) || *p >= 0x80)) {
            if (n < MAX_WORD + 1)
                w[n++] = (char)(*p < 0x80 ? tolower(*p) : *p);
            p++;
        }
        w[n++] = '>';
        add_feature(acc, dim, 'w', w + 1, n - 2, 1.0);
        for (size_t g = 3; g <= 5; g++)
            for (size_t i = 0; i + g <= n; i++)
                add_feature(acc, dim, 'g', w + i, g, 0.5);
    }
    for (size_t i = 0; i < dim; i++)
        norm += acc[i] * acc[i];
    norm = sqrt(norm);
    for (size_t i = 0; i < dim; i++)
        out[i] = norm > 0 ? (float)(acc[i] / norm) : 0.0f;
    free(acc);
}

struct fa_embedder *fa_embedder_open_local(size_t dim)
{
    struct fa_embedder *e = calloc(1, sizeof *e);

    if (!e)
        abort();
    e->dim = dim;
    if (asprintf(&e->model, "fa-hash-%zu", dim) < 0)
        abort();
    return e;
}

bool fa_embedder_is_local(const struct fa_llm_opts *opts)
{
    const char *url = fa_cli_conf(opts ? opts->url : NULL, "FA_LLM_URL", NULL);
    const char *mode = fa_cli_conf(opts ? opts->mode : NULL, "FA_LLM", NULL);
    const char *model = fa_cli_conf(opts ? opts->embed_model : NULL, "FA_EMBED_MODEL", NULL);

    return !url || !model || (mode && strcmp(mode, "offline") == 0);
}

struct fa_embedder *fa_embedder_open(const struct fa_llm_opts *opts)
{
    const char *ds = fa_cli_conf(NULL, "FA_EMBED_DIM", NULL);
    struct fa_embedder *e;
    long dim = FA_EMBED_DIM_DEFAULT;

    if (ds && fa_cli_long("FA_EMBED_DIM", ds, 8, 65536, &dim) < 0)
        return NULL;
    if (fa_embedder_is_local(opts))
        return fa_embedder_open_local((size_t)dim);
    e = calloc(1, sizeof *e);
    if (!e)
        abort();
    e->llm = fa_llm_open(opts);
    if (!e->llm) {
        free(e);
        return NULL;
    }
    if (!fa_llm_embed_model(e->llm)) {
        /* the client decided on offline after all */
        fa_llm_close(e->llm);
        free(e);
        return fa_embedder_open_local((size_t)dim);
    }
    if (!(e->model = strdup(fa_llm_embed_model(e->llm))))
        abort();
    return e;
}

void fa_embedder_close(struct fa_embedder *e)
{
    if (!e)
        return;
    fa_llm_close(e->llm);
    free(e->model);
    free(e);
}

const char *fa_embedder_model(const struct fa_embedder *e)
{
    return e->model;
}

size_t fa_embedder_dim(struct fa_embedder *e)
{
    if (!e->dim) {
        const char *probe = "dimension probe";
        float *rows = NULL;
        size_t dim = 0;
        if (fa_llm_embed(e->llm, "embed", &probe, 1, &rows, &dim, NULL) < 0)
            return 0;
        free(rows);
        e->dim = dim;
    }
    return e->dim;
}

int fa_embedder_embed(struct fa_embedder *e, const char *stage, const char *const *texts, size_t n,
                      float *out, struct json_object *records)
{
    float *rows = NULL;
    size_t dim = 0;

    if (!e->llm) {
        for (size_t i = 0; i < n; i++)
            fa_embedder_local(texts[i], e->dim, out + i * e->dim);
        return 0;
    }
    if (n == 0)
        return 0;
    if (fa_llm_embed(e->llm, stage, texts, n, &rows, &dim, records) < 0)
        return -1;
    if (e->dim && dim != e->dim) {
        fa_err_set("embedding model '%s' returned %zu dimensions, expected %zu", e->model, dim,
                   e->dim);
        free(rows);
        return -1;
    }
    e->dim = dim;
    for (size_t i = 0; i < n; i++) {
        double norm = 0;
        const float *r = rows + i * dim;
        for (size_t k = 0; k < dim; k++)
            norm += (double)r[k] * r[k];
        norm = sqrt(norm);
        for (size_t k = 0; k < dim; k++)
            out[i * dim + k] = norm > 0 ? (float)(r[k] / norm) : 0.0f;
    }
    free(rows);
    return 0;
}
