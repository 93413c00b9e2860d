/* test_embedder.c: the local hashing embedder: exactly the vectors of an
 * independent Python re-implementation, L2-normalised, deterministic, and
 * similar texts closer than unrelated ones. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "fa_embedder.h"
#include "fa_err.h"
#include "fa_banned.h"

static const char *const texts[] = {
    "Apple beats earnings estimates; shares surge 5% to a record high",
    "APPLE BEATS EARNINGS ESTIMATES, SHARES SURGE 5% TO A RECORD HIGH!",
    "Regulators open a probe into the bank's lending practices",
    "",
    "a",
    "Zürich café naïve déjà-vu 2024-06-01",
    "supercalifragilisticexpialidocious_antidisestablishmentarianism_pneumonoultramicroscopic",
};
#define NT (sizeof texts / sizeof texts[0])

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0;

    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

int main(void)
{
    const size_t dims[] = {384, 64};
    const char *root = getenv("FA_ROOT");
    char tmp[] = "/tmp/fa-test-embed.XXXXXX", cmd[1024];
    struct fa_embedder *e;
    float *v, *w;
    int fd;
    FILE *f;

    fa_err_init("test_embedder");
    fd = mkstemp(tmp);
    f = fdopen(fd, "w");
    for (size_t i = 0; i < NT; i++)
        fprintf(f, "%s\n", texts[i]);
    fclose(f);

    for (size_t d = 0; d < 2; d++) {
        size_t dim = dims[d], mismatches = 0, rows = 0;
        FILE *py;
        e = fa_embedder_open_local(dim);
        v = calloc(NT * dim, sizeof *v);
        ok(fa_embedder_embed(e, "test", texts, NT, v, NULL) == 0, "dim %zu: embeds", dim);
        snprintf(cmd, sizeof cmd, "python3 '%s/tests/fixtures/models/hash_embed.py' %zu < '%s'",
                 root ? root : ".", dim, tmp);
        py = popen(cmd, "r");
        if (!py) {
            ok(0, "python3 runs");
        } else {
            for (size_t i = 0; i < NT; i++) {
                for (size_t k = 0; k < dim; k++) {
                    double x;
                    if (fscanf(py, "%lf", &x) != 1) {
                        mismatches++;
                        break;
                    }
                    if ((float)x != v[i * dim + k])
                        mismatches++;
                }
                rows++;
            }
            ok(pclose(py) == 0, "dim %zu: python re-implementation ran", dim);
        }
        ok(rows == NT && mismatches == 0,
           "dim %zu: every value equals the Python re-implementation's (%zu differ)", dim,
           mismatches);
        for (size_t i = 0; i < NT; i++) {
            double n = sqrt(dot(v + i * dim, v + i * dim, dim));
            if (i == 3)
                is_num(n, 0, 0, "empty text: zero vector");
            else
                is_num(n, 1, 1e-6, "unit length");
        }
        ok(dot(v, v + dim, dim) > 0.8, "case and punctuation hardly matter (cos %.3f)",
           dot(v, v + dim, dim));
        ok(dot(v, v + 2 * dim, dim) < dot(v, v + dim, dim) - 0.5, "unrelated text is further");
        w = calloc(dim, sizeof *w);
        fa_embedder_local(texts[0], dim, w);
        ok(memcmp(w, v, dim * sizeof *w) == 0, "same text, same bytes");
        free(w);
        is_str(fa_embedder_model(e), dim == 384 ? "fa-hash-384" : "fa-hash-64", "model name");
        ok(fa_embedder_dim(e) == dim, "dim");
        free(v);
        fa_embedder_close(e);
    }
    unlink(tmp);

    /* configuration: no endpoint means local, FA_EMBED_DIM honoured */
    unsetenv("FA_LLM_URL");
    setenv("FA_EMBED_DIM", "128", 1);
    e = fa_embedder_open(NULL);
    ok(e && fa_embedder_dim(e) == 128, "FA_EMBED_DIM=128 local");
    fa_embedder_close(e);
    setenv("FA_EMBED_DIM", "7", 1);
    e = fa_embedder_open(NULL);
    ok(e == NULL && strstr(fa_err_get(), "FA_EMBED_DIM") != NULL, "FA_EMBED_DIM=7 refused");
    unsetenv("FA_EMBED_DIM");
    return tap_done();
}
