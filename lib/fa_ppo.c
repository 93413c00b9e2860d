/* fa_ppo.c: GAE, the masked PPO loss with its hand-written gradient, and
 * the minibatch update. See fa_ppo.h for every formula. */
#include "fa_ppo.h"

#include <math.h>
#include <stdlib.h>

#include "fa_err.h"
#include "fa_banned.h"

/* Same bits with every compiler: GCC keeps floating-point contraction off
 * under -std=c11; clang needs telling (no fused multiply-adds). */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

void fa_ppo_conf_default(struct fa_ppo_conf *c)
{
    c->timesteps = 13860;
    c->rollout = 40;
    c->max_episode = 65;
    c->lr = 5e-4;
    c->anneal = true;
    c->gamma = 0.95;
    c->lambda = 0.98;
    c->clip = 0.2;
    c->epochs = 1;
    c->minibatch = 32;
    c->grad_accum = 8;
    c->ent_coef = 0.05;
    c->vf_coef = 0.5;
    c->kl_coef = 0.05;
    c->max_grad = 0.5;
    c->norm_adv = true;
}

void fa_ppo_gae(int n, const double *rew, const double *val, const unsigned char *done,
                double last_val, double gamma, double lambda, double *adv, double *ret)
{
    fa_ppo_gae_boot(n, rew, val, done, NULL, last_val, gamma, lambda, adv, ret);
}

void fa_ppo_gae_boot(int n, const double *rew, const double *val, const unsigned char *done,
                     const double *boot, double last_val, double gamma, double lambda, double *adv,
                     double *ret)
{
    double next_adv = 0, next_val = last_val;
    for (int t = n - 1; t >= 0; t--) {
        /* an episode that ends after step t: the trace stops there, and
         * the value after it is boot[t] (truncated) or 0 (terminal) */
        double nd = done[t] ? 0.0 : 1.0;
        double nv = done[t] ? (boot ? boot[t] : 0.0) : next_val;
        double delta = rew[t] + gamma * nv - val[t];
        adv[t] = delta + gamma * lambda * nd * next_adv;
        ret[t] = adv[t] + val[t];
        next_adv = adv[t];
        next_val = val[t];
    }
}

void fa_ppo_normalise(int n, double *a)
{
    if (n < 2) {
        for (int i = 0; i < n; i++)
            a[i] = 0;
        return;
    }
    double m = 0;
    for (int i = 0; i < n; i++)
        m += a[i];
    m /= n;
    double v = 0;
    for (int i = 0; i < n; i++)
        v += (a[i] - m) * (a[i] - m);
    double sd = sqrt(v / n) + 1e-8;
    for (int i = 0; i < n; i++)
        a[i] = (a[i] - m) / sd;
}

/* fa_nn as an fa_ppo_model */
static int nn_forward(void *self, const struct fa_ppo_sample *s, double *z, double *v)
{
    fa_nn_forward(self, s->x, z, v);
    return 0;
}

static int nn_backward(void *self, const double *dz, double dv)
{
    fa_nn_backward(self, dz, dv);
    return 0;
}

static double nn_clip(void *self, double max_norm)
{
    return fa_nn_clip_grad(self, max_norm);
}

static void nn_adam(void *self, double lr)
{
    fa_nn_adam_step(self, lr);
}

static void nn_zero(void *self)
{
    fa_nn_zero_grad(self);
}

static void nn_model(struct fa_nn *nn, struct fa_ppo_model *m)
{
    m->self = nn;
    m->forward = nn_forward;
    m->backward = nn_backward;
    m->clip_grad = nn_clip;
    m->adam_step = nn_adam;
    m->zero_grad = nn_zero;
}

double fa_ppo_loss(struct fa_nn *nn, const struct fa_ppo_conf *c, const struct fa_ppo_sample *s,
                   int n, double weight, bool grad, struct fa_ppo_stats *st)
{
    struct fa_ppo_model m;
    double total = 0;
    nn_model(nn, &m);
    fa_ppo_loss_model(&m, c, s, n, weight, grad, st, &total);
    return total;
}

int fa_ppo_loss_model(const struct fa_ppo_model *m, const struct fa_ppo_conf *c,
                      const struct fa_ppo_sample *s, int n, double weight, bool grad,
                      struct fa_ppo_stats *st, double *totalp)
{
    double total = 0;
    for (int i = 0; i < n; i++) {
        const struct fa_ppo_sample *x = &s[i];
        double z[FA_NN_ACTIONS], p[FA_NN_ACTIONS], lp[FA_NN_ACTIONS], v;
        if (m->forward(m->self, x, z, &v) < 0)
            return -1;
        if (fa_nn_softmax(z, x->mask, p, lp) < 0)
            continue; /* no legal action: callers never store one */
        int a = x->action;
        double logr = lp[a] - x->old_logp;
        double r = exp(logr);
        double rc = r < 1 - c->clip ? 1 - c->clip : r > 1 + c->clip ? 1 + c->clip : r;
        double l1 = -x->adv * r, l2 = -x->adv * rc;
        double pg = l1 >= l2 ? l1 : l2;
        /* d pg / d log p(a): through r when the unclipped term is the max
         * (when both are equal r is inside the clip range, same slope) */
        double dpg = l1 >= l2 ? -x->adv * r : 0.0;
        double H = 0, KL = 0, dref = 0;
        for (int b = 0; b < FA_NN_ACTIONS; b++) {
            if (!(x->mask & (1u << b)) || p[b] <= 0)
                continue;
            H -= p[b] * lp[b];
            KL += p[b] * (lp[b] - x->ref_logp[b]);
        }
        dref = KL; /* sum_b p_b (lp_b - ref_b) */
        double vl = 0.5 * (v - x->ret) * (v - x->ret);
        double li = pg + c->vf_coef * vl - c->ent_coef * H + c->kl_coef * KL;
        total += weight * li;
        if (st) {
            st->loss += li;
            st->pg_loss += pg;
            st->v_loss += vl;
            st->entropy += H;
            st->kl_ref += KL;
            st->approx_kl += (r - 1) - logr;
            st->clipfrac += fabs(r - 1) > c->clip ? 1 : 0;
            st->n++;
        }
        if (!grad)
            continue;
        double dz[FA_NN_ACTIONS];
        for (int j = 0; j < FA_NN_ACTIONS; j++) {
            if (!(x->mask & (1u << j))) {
                dz[j] = 0; /* illegal: no probability, no gradient */
                continue;
            }
            /* d log p(a)/dz_j = [a==j] - p_j
             * dH/dz_j = -p_j (log p_j + H)
             * dKL/dz_j = p_j (d_j - sum_b p_b d_b), d = log p - ref */
            double dlogpa = (a == j ? 1.0 : 0.0) - p[j];
            double lpj = p[j] > 0 ? lp[j] : 0;
            double dH = -p[j] * (lpj + H);
            double dKL = p[j] > 0 ? p[j] * ((lp[j] - x->ref_logp[j]) - dref) : 0;
            dz[j] = weight * (dpg * dlogpa - c->ent_coef * dH + c->kl_coef * dKL);
        }
        if (m->backward(m->self, dz, weight * c->vf_coef * (v - x->ret)) < 0)
            return -1;
    }
    if (totalp)
        *totalp = total;
    return 0;
}

static void step(const struct fa_ppo_model *m, const struct fa_ppo_conf *c, double lr,
                 struct fa_ppo_stats *st)
{
    double norm = m->clip_grad(m->self, c->max_grad);
    if (st)
        st->grad_norm = norm;
    m->adam_step(m->self, lr);
    m->zero_grad(m->self);
}

void fa_ppo_update(struct fa_nn *nn, const struct fa_ppo_conf *c, struct fa_ppo_sample *buf, int n,
                   double lr, struct fa_rng *rng, struct fa_ppo_stats *st)
{
    struct fa_ppo_model m;
    nn_model(nn, &m);
    fa_ppo_update_model(&m, c, buf, n, lr, rng, st);
}

int fa_ppo_update_model(const struct fa_ppo_model *md, const struct fa_ppo_conf *c,
                        struct fa_ppo_sample *buf, int n, double lr, struct fa_rng *rng,
                        struct fa_ppo_stats *st)
{
    int *perm = malloc((size_t)(n > 0 ? n : 1) * sizeof *perm);
    if (!perm) {
        fa_err_set("out of memory");
        return -1;
    }
    struct fa_ppo_sample *mb = malloc((size_t)(n > 0 ? n : 1) * sizeof *mb);
    if (!mb) {
        free(perm);
        fa_err_set("out of memory");
        return -1;
    }
    int rc = 0;
    int mbs = c->minibatch > 0 ? c->minibatch : n;
    int acc = c->grad_accum > 0 ? c->grad_accum : 1;
    md->zero_grad(md->self);
    for (int e = 0; e < c->epochs && rc == 0; e++) {
        for (int i = 0; i < n; i++)
            perm[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = (int)fa_rng_below(rng, (uint64_t)i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        /* Each optimiser step gathers up to acc minibatches: the samples
         * [g0, g1) of the permutation; its gradient is their mean. */
        int per_step = mbs * acc;
        for (int g0 = 0; g0 < n && rc == 0; g0 += per_step) {
            int g1 = g0 + per_step < n ? g0 + per_step : n;
            int m = g1 - g0;
            for (int k = 0; k < m; k++)
                mb[k] = buf[perm[g0 + k]];
            /* minibatch by minibatch, in order: same sum, same bits as one
             * pass, but it is the accumulation the flag promises */
            for (int b0 = 0; b0 < m && rc == 0; b0 += mbs) {
                int b1 = b0 + mbs < m ? b0 + mbs : m;
                rc = fa_ppo_loss_model(md, c, mb + b0, b1 - b0, 1.0 / m, true, st, NULL);
            }
            if (rc == 0)
                step(md, c, lr, st);
        }
    }
    free(mb);
    free(perm);
    return rc;
}

double fa_ppo_lr(const struct fa_ppo_conf *c, long k, long total)
{
    if (!c->anneal || total <= 0)
        return c->lr;
    double frac = 1.0 - (double)(k - 1) / (double)total;
    return c->lr * frac;
}
