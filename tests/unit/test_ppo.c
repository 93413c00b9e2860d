/* Unit tests for fa_ppo: GAE on hand-worked cases, advantage
 * normalisation, and the full PPO loss (clipped surrogate, value,
 * entropy, KL to a reference, with masked actions) against central finite
 * differences of its own value; the update's determinism. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fa_ppo.h"
#include "tap.h"
#include "fa_banned.h"

#define N   12
#define DIM 5

/* A random batch: legal masks with HOLD always legal, an action legal in
 * its mask, old log-probs near the current ones (ratios inside and
 * outside the clip range), reference log-probs from another network. */
static void make_batch(struct fa_nn *nn, struct fa_nn *ref, struct fa_ppo_sample *s, double *X,
                       struct fa_rng *r, double spread)
{
    static const unsigned masks[4] = {7, 3, 6, 2};
    for (int i = 0; i < N; i++) {
        double *x = X + i * DIM;
        for (int j = 0; j < DIM; j++)
            x[j] = fa_rng_normal(r);
        s[i].x = x;
        s[i].mask = masks[i % 4];
        double z[3], v, p[3], lp[3];
        fa_nn_forward(nn, x, z, &v);
        fa_nn_softmax(z, s[i].mask, p, lp);
        int a;
        do
            a = (int)fa_rng_below(r, 3);
        while (!(s[i].mask & (1u << a)));
        s[i].action = a;
        s[i].old_logp = lp[a] + spread * fa_rng_normal(r);
        fa_nn_forward(ref, x, z, &v);
        fa_nn_softmax(z, s[i].mask, p, s[i].ref_logp);
        s[i].adv = fa_rng_normal(r);
        s[i].ret = fa_rng_normal(r);
    }
}

/* max relative error of the analytic gradient; *kinks counts parameters
 * skipped because a clip boundary lies within the finite-difference step */
static double gradcheck(struct fa_nn *nn, const struct fa_ppo_conf *c, struct fa_ppo_sample *s,
                        int *skipped)
{
    size_t np = fa_nn_nparams(nn);
    double *p = fa_nn_params(nn);
    fa_nn_zero_grad(nn);
    fa_ppo_loss(nn, c, s, N, 1.0 / N, true, NULL);
    double *g = malloc(np * sizeof *g);
    memcpy(g, fa_nn_grads(nn), np * sizeof *g);
    double worst = 0;
    const double h = 1e-6;
    *skipped = 0;
    for (size_t i = 0; i < np; i++) {
        double keep = p[i];
        p[i] = keep + h;
        struct fa_ppo_stats sp = {0};
        double lp = fa_ppo_loss(nn, c, s, N, 1.0 / N, false, &sp);
        p[i] = keep - h;
        struct fa_ppo_stats sm = {0};
        double lm = fa_ppo_loss(nn, c, s, N, 1.0 / N, false, &sm);
        p[i] = keep;
        if (sp.clipfrac != sm.clipfrac) { /* a ratio crossed 1 +- eps */
            (*skipped)++;
            continue;
        }
        double num = (lp - lm) / (2 * h);
        double err = fabs(num - g[i]) / fmax(1e-7, fabs(num) + fabs(g[i]));
        if (err > worst)
            worst = err;
    }
    free(g);
    return worst;
}

int main(void)
{
    /* GAE, gamma = lambda = 1, no done: advantages are reward-to-go
     * minus the value */
    double rew[4] = {1, 2, 3, 4}, val[4] = {0.5, 0.5, 0.5, 0.5}, adv[4], ret[4];
    unsigned char done[4] = {0, 0, 0, 0};
    fa_ppo_gae(4, rew, val, done, 0.0, 1, 1, adv, ret);
    is_num(adv[0], 10 - 0.5, 1e-12, "gae lambda=1: A0 = sum r - V0");
    is_num(adv[3], 4 - 0.5, 1e-12, "gae lambda=1: A3");
    is_num(ret[1], 9, 1e-12, "return = A + V");
    /* lambda = 0: one-step TD errors */
    fa_ppo_gae(4, rew, val, done, 2.0, 0.9, 0, adv, ret);
    is_num(adv[1], 2 + 0.9 * 0.5 - 0.5, 1e-12, "gae lambda=0: TD error");
    is_num(adv[3], 4 + 0.9 * 2.0 - 0.5, 1e-12, "gae bootstraps from last_val");
    /* a done cuts the bootstrap and the trace */
    done[1] = 1;
    fa_ppo_gae(4, rew, val, done, 2.0, 0.9, 0.8, adv, ret);
    is_num(adv[1], 2 - 0.5, 1e-12, "gae: no bootstrap across done");
    double d0 = 1 + 0.9 * 0.5 - 0.5;
    is_num(adv[0], d0 + 0.9 * 0.8 * adv[1], 1e-12, "gae: trace inside the episode");
    done[3] = 1;
    fa_ppo_gae(4, rew, val, done, 99.0, 0.9, 0.8, adv, ret);
    is_num(adv[3], 4 - 0.5, 1e-12, "gae: last_val ignored after done");
    /* an episode cut short bootstraps from the value it reached */
    double boot[4] = {0, 7.0, 0, 3.0};
    fa_ppo_gae_boot(4, rew, val, done, boot, 99.0, 0.9, 0.8, adv, ret);
    is_num(adv[1], 2 + 0.9 * 7.0 - 0.5, 1e-12, "gae_boot: truncation bootstraps from boot");
    is_num(adv[3], 4 + 0.9 * 3.0 - 0.5, 1e-12, "gae_boot: at the rollout's end too");
    is_num(adv[0], d0 + 0.9 * 0.8 * adv[1], 1e-12, "gae_boot: the trace stays inside");
    is_num(adv[2], 3 + 0.9 * 0.5 - 0.5 + 0.9 * 0.8 * adv[3], 1e-12,
           "gae_boot: no trace across the cut");

    double a[5] = {1, 2, 3, 4, 5};
    fa_ppo_normalise(5, a);
    double m = 0, v = 0;
    for (int i = 0; i < 5; i++)
        m += a[i];
    for (int i = 0; i < 5; i++)
        v += a[i] * a[i];
    is_num(m, 0, 1e-12, "normalised mean 0");
    is_num(v / 5, 1, 1e-6, "normalised variance 1");

    struct fa_ppo_conf c;
    fa_ppo_conf_default(&c);
    ok(c.timesteps == 13860 && c.rollout == 40 && c.max_episode == 65 && c.lr == 5e-4 &&
           c.gamma == 0.95 && c.lambda == 0.98 && c.clip == 0.2 && c.epochs == 1 &&
           c.ent_coef == 0.05 && c.vf_coef == 0.5 && c.kl_coef == 0.05 && c.max_grad == 0.5 &&
           c.minibatch == 32 && c.grad_accum == 8,
       "defaults are the paper's Table 3");
    is_num(fa_ppo_lr(&c, 1, 4), 5e-4, 0, "lr starts at lr");
    is_num(fa_ppo_lr(&c, 4, 4), 5e-4 / 4, 1e-18, "lr annealed linearly");

    /* the full loss against finite differences */
    int w[2] = {6, 4};
    struct fa_rng r;
    fa_rng_seed(&r, 11);
    double X[N * DIM];
    struct fa_ppo_sample s[N];
    for (int trial = 0; trial < 4; trial++) {
        enum fa_nn_act act = trial % 2 ? FA_NN_RELU : FA_NN_TANH;
        struct fa_nn *nn = fa_nn_new(DIM, 2, w, act, 100 + (uint64_t)trial);
        struct fa_nn *ref = fa_nn_new(DIM, 2, w, act, 200 + (uint64_t)trial);
        /* make the policy head matter */
        double *p = fa_nn_params(nn);
        for (size_t i = 0; i < fa_nn_nparams(nn); i++)
            p[i] += 0.5 * fa_rng_normal(&r);
        double *q = fa_nn_params(ref);
        for (size_t i = 0; i < fa_nn_nparams(ref); i++)
            q[i] += 0.5 * fa_rng_normal(&r);
        make_batch(nn, ref, s, X, &r, trial < 2 ? 0.1 : 0.6);
        c.kl_coef = trial == 3 ? 0.5 : 0.05;
        c.ent_coef = trial == 2 ? 0.3 : 0.05;
        int skipped;
        struct fa_ppo_stats st = {0};
        fa_ppo_loss(nn, &c, s, N, 1.0 / N, false, &st);
        double e = gradcheck(nn, &c, s, &skipped);
        ok(e < 1e-5,
           "ppo loss gradcheck trial %d (%s, clipped %.0f/%d, max rel err %.2g, %d "
           "skipped)",
           trial, fa_nn_act_name(act), st.clipfrac, N, e, skipped);
        ok(st.entropy > 0 && st.kl_ref > 0, "entropy and KL terms active (trial %d)", trial);
        fa_nn_free(nn);
        fa_nn_free(ref);
    }

    /* each term on its own, with a single masked sample: the gradient of
     * an illegal logit is zero and the loss ignores illegal actions */
    {
        struct fa_nn *nn = fa_nn_new(DIM, 1, w, FA_NN_TANH, 5);
        double x[DIM] = {0.3, -0.1, 0.8, 0.2, -0.5};
        struct fa_ppo_sample one = {.x = x, .mask = 6, .action = 2, .adv = 1, .ret = 0};
        double z[3], vv, pp[3], lp[3];
        fa_nn_forward(nn, x, z, &vv);
        fa_nn_softmax(z, 6, pp, lp);
        one.old_logp = lp[2];
        memcpy(one.ref_logp, lp, sizeof lp);
        struct fa_ppo_stats st = {0};
        fa_ppo_loss(nn, &c, &one, 1, 1, false, &st);
        is_num(st.kl_ref, 0, 1e-12, "KL to itself is 0");
        is_num(st.entropy, -(pp[1] * lp[1] + pp[2] * lp[2]), 1e-12,
               "entropy over legal actions only");
        is_num(st.pg_loss, -1, 1e-12, "ratio 1: surrogate = -A");
        /* perturb only the SELL (illegal) row of the policy head: the
         * loss must not move */
        double before = fa_ppo_loss(nn, &c, &one, 1, 1, false, NULL);
        size_t np = fa_nn_nparams(nn);
        double *p = fa_nn_params(nn);
        size_t head = np - (6 + 1) - (3 * 6 + 3); /* policy head start */
        for (int j = 0; j < 6; j++)
            p[head + (size_t)j] += 10;
        double after = fa_ppo_loss(nn, &c, &one, 1, 1, false, NULL);
        is_num(after, before, 1e-12, "illegal logit does not change the loss");
        fa_nn_zero_grad(nn);
        fa_ppo_loss(nn, &c, &one, 1, 1, true, NULL);
        double *g = fa_nn_grads(nn);
        int zero = 1;
        for (int j = 0; j < 6; j++)
            zero &= g[head + (size_t)j] == 0;
        ok(zero, "illegal logit gets no gradient");
        fa_nn_free(nn);
    }

    /* update: same seed, same bits; the loss goes down on a fixed batch */
    {
        struct fa_nn *n1 = fa_nn_new(DIM, 2, w, FA_NN_TANH, 9);
        struct fa_nn *n2 = fa_nn_new(DIM, 2, w, FA_NN_TANH, 9);
        fa_rng_seed(&r, 3);
        make_batch(n1, n1, s, X, &r, 0.0);
        struct fa_rng r1, r2;
        fa_rng_seed(&r1, 5);
        fa_rng_seed(&r2, 5);
        fa_ppo_conf_default(&c);
        c.minibatch = 5;
        c.grad_accum = 1;
        c.epochs = 3;
        struct fa_ppo_stats st1 = {0}, st2 = {0};
        double l0 = fa_ppo_loss(n1, &c, s, N, 1.0 / N, false, NULL);
        fa_ppo_update(n1, &c, s, N, 1e-2, &r1, &st1);
        fa_ppo_update(n2, &c, s, N, 1e-2, &r2, &st2);
        ok(!memcmp(fa_nn_params(n1), fa_nn_params(n2), fa_nn_nparams(n1) * sizeof(double)),
           "update is bit-for-bit repeatable");
        ok(st1.n == 3 * N, "every sample seen once per epoch (%ld)", st1.n);
        double l1 = fa_ppo_loss(n1, &c, s, N, 1.0 / N, false, NULL);
        ok(l1 < l0, "loss decreases on its batch (%g -> %g)", l0, l1);
        fa_nn_free(n1);
        fa_nn_free(n2);
    }
    return tap_done();
}
