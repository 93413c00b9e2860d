/* fa_ppo.h: proximal policy optimisation over an fa_nn policy/value net.
 *
 * The pieces FLAG-Trader trains with, each fully specified: generalised
 * advantage estimation, the clipped surrogate loss with a value loss, an
 * entropy bonus and an optional KL penalty to a frozen reference policy,
 * all over masked action distributions; and the update: epochs of shuffled
 * minibatches, gradient accumulation, global-norm clipping and Adam. The
 * environment and the rollouts live in fa_policy.h. */
#ifndef FA_PPO_H
#define FA_PPO_H
#include <stdbool.h>

#include "fa_nn.h"

/* Hyperparameters. fa_ppo_conf_default fills the paper's Table 3. */
struct fa_ppo_conf {
    long timesteps;  /* environment steps in all (13860) */
    int rollout;     /* steps per rollout, one update each (40) */
    int max_episode; /* steps per episode at most (65) */
    double lr;       /* Adam learning rate at the start (5e-4) */
    bool anneal;     /* anneal lr linearly to 0 over the updates (yes) */
    double gamma;    /* discount (0.5; Table 3: 0.95) */
    double lambda;   /* GAE lambda (0.98) */
    double clip;     /* surrogate clip epsilon (0.2) */
    int epochs;      /* update epochs over each rollout (1) */
    int minibatch;   /* samples per minibatch (32) */
    int grad_accum;  /* minibatches accumulated per optimiser step (8) */
    double ent_coef; /* entropy bonus (0.05) */
    double vf_coef;  /* value loss (0.5) */
    double kl_coef;  /* KL(policy || reference) penalty (0.05) */
    double max_grad; /* global gradient-norm clip, 0 none (0.5) */
    bool norm_adv;   /* normalise advantages over the rollout (yes) */
};
void fa_ppo_conf_default(struct fa_ppo_conf *c);

/* One stored step of a rollout, ready for the loss. */
struct fa_ppo_sample {
    const double *x;                /* network input (owned elsewhere) */
    int idx;                        /* the sample's index, for models whose
                                       input lives elsewhere (fa_ppo_model) */
    unsigned mask;                  /* legal actions (bit a) */
    int action;                     /* action taken (legal) */
    double old_logp;                /* its log-probability when taken */
    double ref_logp[FA_NN_ACTIONS]; /* reference policy, masked */
    double adv;                     /* advantage (after normalisation) */
    double ret;                     /* value target: adv + old value */
};

/* Loss terms averaged over the samples seen (see fa_ppo_loss). */
struct fa_ppo_stats {
    double loss, pg_loss, v_loss, entropy, kl_ref, approx_kl, clipfrac, grad_norm;
    long n;
};

/* GAE over n steps: rew[t], val[t] = V(s_t), done[t] nonzero when the
 * episode ended after step t (then no bootstrap across it), last_val =
 * V(s_n) for the state after the last step (ignored if done[n-1]).
 *   delta_t = r_t + gamma V(s_{t+1}) (1 - done_t) - V(s_t)
 *   A_t     = delta_t + gamma lambda (1 - done_t) A_{t+1}
 *   ret_t   = A_t + V(s_t)                                       */
void fa_ppo_gae(int n, const double *rew, const double *val, const unsigned char *done,
                double last_val, double gamma, double lambda, double *adv, double *ret);

/* GAE where an episode may be cut short rather than end: when done[t],
 * boot[t] is the value of the state the episode reached after step t
 * (V(s_{t+1}) of a truncated episode, 0 for a true terminal one), so
 *   delta_t = r_t + gamma (done_t ? boot_t : V(s_{t+1})) - V(s_t)
 *   A_t     = delta_t + gamma lambda (1 - done_t) A_{t+1}
 * boot NULL: every done is terminal (fa_ppo_gae). */
void fa_ppo_gae_boot(int n, const double *rew, const double *val, const unsigned char *done,
                     const double *boot, double last_val, double gamma, double lambda, double *adv,
                     double *ret);

/* Normalises a[0..n) to mean 0, standard deviation 1 (population std,
 * plus 1e-8); leaves a single sample at 0. */
void fa_ppo_normalise(int n, double *a);

/* The per-sample PPO loss, with the masked distribution p of the net:
 *   r      = exp(log p(a) - old_logp)
 *   pg     = max(-A r, -A clip(r, 1-eps, 1+eps))
 *   v      = 0.5 (V - ret)^2
 *   H      = -sum_a p(a) log p(a)                 (legal a)
 *   KL     = sum_a p(a) (log p(a) - ref_logp(a))  (legal a)
 *   loss_i = pg + vf_coef v - ent_coef H + kl_coef KL
 * Returns weight * sum_i loss_i. When grad is true, ADDS weight * d/dparams
 * of that sum into the net's gradients. Adds unweighted per-sample sums
 * of the terms to st (if not NULL; approx_kl is (r-1) - log r, clipfrac
 * the share with |r-1| > eps). */
double fa_ppo_loss(struct fa_nn *nn, const struct fa_ppo_conf *c, const struct fa_ppo_sample *s,
                   int n, double weight, bool grad, struct fa_ppo_stats *st);

/* One PPO update over a rollout buf[0..n) with learning rate lr: for each
 * epoch, a fresh permutation from rng; minibatches of c->minibatch in that
 * order (the last one shorter); an optimiser step after every
 * c->grad_accum minibatches and after the last one of the epoch, its
 * gradient the mean over the samples of the minibatches it gathered;
 * clipped to c->max_grad; Adam. Advantages must be final (normalised or
 * not) on entry. Statistics (means per sample) go to st. */
void fa_ppo_update(struct fa_nn *nn, const struct fa_ppo_conf *c, struct fa_ppo_sample *buf, int n,
                   double lr, struct fa_rng *rng, struct fa_ppo_stats *st);

/* Any policy/value model, for the PPO of a model that is not an fa_nn
 * (fa-policy's language-model backbone). forward gives the 3 logits and
 * the value of sample s and keeps what backward needs; backward ADDS
 * d/dparams given dL/dlogits and dL/dvalue of the last forward; clip_grad
 * returns the global gradient norm and scales it down to max_norm (> 0);
 * adam_step and zero_grad as fa_nn's. forward and backward return 0 or -1
 * (fa_err set). */
struct fa_ppo_model {
    void *self;
    int (*forward)(void *self, const struct fa_ppo_sample *s, double *logits, double *value);
    int (*backward)(void *self, const double *dlogits, double dvalue);
    double (*clip_grad)(void *self, double max_norm);
    void (*adam_step)(void *self, double lr);
    void (*zero_grad)(void *self);
};
/* fa_ppo_loss and fa_ppo_update over m; -1 when the model failed. */
int fa_ppo_loss_model(const struct fa_ppo_model *m, const struct fa_ppo_conf *c,
                      const struct fa_ppo_sample *s, int n, double weight, bool grad,
                      struct fa_ppo_stats *st, double *total);
int fa_ppo_update_model(const struct fa_ppo_model *m, const struct fa_ppo_conf *c,
                        struct fa_ppo_sample *buf, int n, double lr, struct fa_rng *rng,
                        struct fa_ppo_stats *st);

/* The learning rate of update k (1-based) of total under c: lr, or
 * lr (1 - (k-1)/total) when annealed. */
double fa_ppo_lr(const struct fa_ppo_conf *c, long k, long total);

#endif
