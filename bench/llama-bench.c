/* llama-bench.c: fa_llama's speed, for bench/b40-llama.sh.
 *
 *   llama-bench MODELDIR THREADS TOKENS PROMPTS REPS
 *
 * Prints two lines:
 *   forward_tps X   tokens per second of a full forward (logits for every
 *                   position) over one TOKENS-token prompt;
 *   ppo_sps X       "PPO update" samples per second: for PROMPTS prompts of
 *                   TOKENS tokens whose frozen states are already cached
 *                   (computed before the clock starts), the cache lookup,
 *                   the forward of the top 2 layers and the final norm, and
 *                   the backward into the gradients.
 * Each is the best of REPS runs after one warm-up run (as in
 * bench/llama-torch.py).
 * Token ids are a fixed pseudo-random sequence (the same as
 * bench/llama-torch.py's). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fa_err.h"
#include "fa_llama.h"
#include "fa_simd.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void make_ids(int32_t *ids, int n, int vocab, int prompt)
{
    uint64_t s = 12345 + (uint64_t)prompt * 7919;
    for (int i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        ids[i] = (int32_t)((s >> 33) % (uint64_t)vocab);
    }
}

int main(int argc, char **argv)
{
    fa_err_init(argv[0]);
    if (argc != 6) {
        fprintf(stderr, "usage: llama-bench MODELDIR THREADS TOKENS PROMPTS REPS\n");
        return 2;
    }
    int threads = atoi(argv[2]), n = atoi(argv[3]), np = atoi(argv[4]), reps = atoi(argv[5]);
    struct fa_llama *m = fa_llama_open(argv[1]);
    if (!m)
        fa_die_err(2);
    fa_llama_set_path(m, FA_SIMD_AUTO, threads);
    const struct fa_llama_config *c = fa_llama_config(m);
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)n * np);
    float *logits = malloc(sizeof(float) * (size_t)n * c->vocab);
    float *last = malloc(sizeof(float) * c->hidden), *dl = malloc(sizeof(float) * c->hidden);
    for (int p = 0; p < np; p++)
        make_ids(ids + (size_t)p * n, n, c->vocab, p);
    double best = 1e30;
    for (int r = 0; r <= reps; r++) {
        double t0 = now();
        if (fa_llama_logits(m, ids, n, logits) < 0)
            fa_die_err(1);
        double t = now() - t0;
        if (r > 0 && t < best) /* the first run warms up */
            best = t;
    }
    printf("forward_tps %.1f\n", n / best);
    unsetenv("FA_CACHE_DIR");
    struct fa_llama_train *t = fa_llama_train_new(m, 2, 0, 1);
    if (!t)
        fa_die_err(1);
    const float *h;
    for (int p = 0; p < np; p++)
        if (fa_llama_frozen(t, ids + (size_t)p * n, n, &h) < 0)
            fa_die_err(1);
    best = 1e30;
    for (int r = 0; r <= reps; r++) {
        fa_llama_train_zero_grad(t);
        double t0 = now();
        for (int p = 0; p < np; p++) {
            struct fa_llama_act *act = NULL;
            if (fa_llama_frozen(t, ids + (size_t)p * n, n, &h) < 0 ||
                fa_llama_top_forward(t, h, n, last, &act) < 0)
                fa_die_err(1);
            for (int i = 0; i < c->hidden; i++)
                dl[i] = 1.0f / (float)(i + 1) + last[i];
            if (fa_llama_top_backward(t, act, dl) < 0)
                fa_die_err(1);
            fa_llama_act_free(act);
        }
        double dt = now() - t0;
        if (r > 0 && dt < best)
            best = dt;
    }
    printf("ppo_sps %.2f\n", np / best);
    fa_llama_train_free(t);
    fa_llama_free(m);
    free(ids);
    free(logits);
    free(last);
    free(dl);
    return 0;
}
