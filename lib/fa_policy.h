/* fa_policy.h: FLAG-Trader's trading environment, state and backbones.
 *
 * The environment steps one symbol's trading days through fa_market (the
 * execution model every fa program shares): all-in BUY, all-out SELL,
 * HOLD, filled at the next day's close by default (or at the day's own
 * close) with zero costs unless asked. The state of day t is built only
 * from records dated t or earlier. A backbone turns that state into the
 * input vector of the trainable top (fa_nn): "text" renders the state
 * prompt (prompts/policy-state.txt) and embeds it with the frozen
 * fa_embedder (cached per distinct text), "numeric" computes price
 * features (FLAG-Trader's PPO baseline). The backbone is a small vtable
 * so a native transformer can plug in later. */
#ifndef FA_POLICY_H
#define FA_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "fa_market.h"
#include "fa_nn.h"
#include "fa_ppo.h"

struct fa_embedder;

/* Network action indices (the logits' order). */
enum fa_policy_action {
    FA_POLICY_SELL = 0,
    FA_POLICY_HOLD = 1,
    FA_POLICY_BUY = 2,
};
#define FA_POLICY_HIST    10 /* rewards, values, actions shown in the state */
#define FA_POLICY_MAXNEWS 8  /* headlines per day kept in the state */

/* "SELL" "HOLD" "BUY"; the fa_market action of an index. */
const char *fa_policy_action_name(int a);
enum fa_market_action fa_policy_market_action(int a);

/* ---- data: one symbol's days, in date order ---- */

struct fa_policy_day {
    char date[11];
    struct fa_market_bar bar;
    int nnews;
    char *news[FA_POLICY_MAXNEWS]; /* headlines (title, else text) */
    char *intel;                   /* an intel record's summary, if any */
    bool close_only;               /* no open in the price record (bar.open
                                      holds the close) */
};

struct fa_policy_data {
    char *symbol;
    struct fa_policy_day *days;
    int n, cap;
    void *hash_state; /* crypto_generichash_state of the used records */
    char hash[65];    /* hex BLAKE2b-256, after fa_policy_data_finish */
};

/* Empty data for symbol (NULL: the first price record's symbol). */
void fa_policy_data_init(struct fa_policy_data *d, const char *symbol);
/* Takes one record. price: starts a new day (its date must be after the
 * last day's, else -1); news: a headline for the day of that date (which
 * must be the last day, else it is ignored: news of a day without a
 * price); intel: its summary. Other kinds and other symbols are ignored
 * (returns 1). Used records feed the data hash (their canonical JSON,
 * one per line). Returns 0 when used, 1 when ignored, -1 with fa_err
 * set on a bad record. */
int fa_policy_data_add(struct fa_policy_data *d, struct json_object *rec);
/* Completes the hash (d->hash). */
void fa_policy_data_finish(struct fa_policy_data *d);
void fa_policy_data_free(struct fa_policy_data *d);

/* ---- environment ---- */

enum fa_policy_reward {
    FA_POLICY_REWARD_SHARPE = 0,        /* differential Sharpe ratio (Moody and
                                           Saffell) of the day's dollar P&L */
    FA_POLICY_REWARD_RETURN = 1,        /* the day's return net of costs */
    FA_POLICY_REWARD_SHARPE_CHANGE = 2, /* change of the episode's running
                                           Sharpe ratio of the P&L */
};
/* The differential Sharpe ratio's moving-average rate eta. */
#define FA_POLICY_DSR_ETA 0.05
enum fa_policy_fill {
    FA_POLICY_FILL_NEXT_CLOSE = 0, /* order of day t fills at t+1's close */
    FA_POLICY_FILL_CLOSE = 1,      /* fills at day t's own close */
};

struct fa_policy_env_conf {
    enum fa_policy_reward reward;
    enum fa_policy_fill fill;
    double cash;           /* initial cash [10000] */
    double commission_bps; /* per side [0] */
    double slippage_bps;   /* per side [0] */
};
void fa_policy_env_conf_default(struct fa_policy_env_conf *c);

/* What a state shows: the account as it will be once any pending order
 * fills (at the latest close), and the history of the episode. */
struct fa_policy_obs {
    const struct fa_policy_data *data;
    int t;         /* index of the day in data */
    unsigned mask; /* legal actions, bit per index */
    double cash, position, value, price;
    int nhist; /* entries in the history, <= HIST */
    double hist_reward[FA_POLICY_HIST];
    double hist_value[FA_POLICY_HIST];
    int hist_action[FA_POLICY_HIST]; /* oldest first */
    char hist_date[FA_POLICY_HIST][11];
};

struct fa_policy_env;

/* A new environment over data (which must outlive it). NULL + fa_err. */
struct fa_policy_env *fa_policy_env_new(const struct fa_policy_data *data,
                                        const struct fa_policy_env_conf *c);
void fa_policy_env_free(struct fa_policy_env *e);
/* Starts an episode at day index start: a fresh account. Returns 0 or -1. */
int fa_policy_env_reset(struct fa_policy_env *e, int start);
/* Moves to day index t (the first call after reset: t = start; then t =
 * previous + 1) and returns in *reward the reward of the previous action
 * (0 for the first day): that of the P&L of the position it sets over
 * the first day it is held. With fills at the close that is day t-1's
 * close to day t's; with next-close fills, from its fill at day t's
 * close (costs included) to day t+1's close (0 when t is the last day),
 * a price the state of day t does not show: an action enters the
 * history (which states show) once its reward is known, so with
 * next-close fills the history of day t ends with day t-2's action.
 * Fills *obs for deciding on day t. Returns 0 or -1. */
int fa_policy_env_observe(struct fa_policy_env *e, int t, double *reward,
                          struct fa_policy_obs *obs);
/* Takes action a (an index; must be legal in the last observation) on
 * the last observed day. Returns 0, or -1 with fa_err set (illegal
 * action, market error). */
int fa_policy_env_act(struct fa_policy_env *e, int a);
/* The number of illegal actions refused so far (tests: always 0). */
long fa_policy_env_illegal(const struct fa_policy_env *e);

/* ---- backbones ---- */

struct fa_policy_backbone;

/* The table a backbone fills: name ("text", "numeric", ...), model (the
 * embedding model or "price-features-v1"), dim, encode (state -> dim
 * doubles; 0 or -1 with fa_err), free. */
struct fa_policy_backbone_ops {
    const char *name;
    const char *(*model)(const struct fa_policy_backbone *b);
    size_t (*dim)(const struct fa_policy_backbone *b);
    int (*encode)(struct fa_policy_backbone *b, const struct fa_policy_obs *obs, double *out);
    void (*free)(struct fa_policy_backbone *b);
};
struct fa_policy_backbone {
    const struct fa_policy_backbone_ops *ops;
    void *self;
    long encodes, cache_hits; /* counters for progress and benchmarks */
};

/* numeric: FA_POLICY_NUMERIC_DIM price features of day t. */
#define FA_POLICY_NUMERIC_DIM 8
struct fa_policy_backbone *fa_policy_backbone_numeric(void);
/* How the text backbone pools the prompt into one vector. */
enum fa_policy_pool {
    FA_POLICY_POOL_SECTIONS = 0, /* embed each paragraph (blank-line
                                    separated) and concatenate: K x dim */
    FA_POLICY_POOL_WHOLE = 1,    /* embed the whole prompt: dim */
};
/* text: the prompt template (name or path, NULL: "policy-state") through
 * the embedder e (taken over: closed by free). With sections pooling, K
 * is the number of paragraphs of the template rendered on a one-day
 * example; a state with more paragraphs has the extra ones joined to the
 * last, one with fewer gets zero vectors. Model name: the embedder's,
 * plus "/sections-K" when pooled by sections. NULL with fa_err set when
 * the template cannot be loaded or the embedder has no dimension. */
struct fa_policy_backbone *fa_policy_backbone_text(const char *tmpl, struct fa_embedder *e,
                                                   enum fa_policy_pool pool);
/* By name: "numeric" or "text" (which opens the configured embedder,
 * local of embed_dim when embed_dim > 0). */
struct fa_policy_backbone *fa_policy_backbone_open(const char *name, const char *tmpl,
                                                   size_t embed_dim, enum fa_policy_pool pool);
void fa_policy_backbone_free(struct fa_policy_backbone *b);
/* The state prompt of obs rendered with tmpl (malloc'd) or NULL + fa_err.
 * Exposed for fa-policy's --print-state and tests. */
char *fa_policy_state_text(const char *tmpl, const struct fa_policy_obs *obs);

/* ---- training ---- */

/* One update's figures, for the progress line and --log. */
struct fa_policy_progress {
    long update, updates, steps, episodes;
    double ep_return; /* mean return of the episodes ended in this rollout
                         (NAN when none ended) */
    double lr;
    struct fa_ppo_stats st; /* already averaged per sample */
    long illegal;
    double rollout_seconds, update_seconds; /* wall time of this update's
                                               two phases (monotonic) */
};

/* ---- the language-model policy (--backbone llm:DIR) ----
 * FLAG-Trader's policy: the state prompt (the template rendered, as the
 * user turn of the model's chat template, assistant turn opened) through
 * a llama model whose bottom layers are frozen (their output cached) and
 * whose top train_layers layers (or LoRA adapters of rank lora on them)
 * and final norm are trained, with a policy head (3 logits) and a value
 * head (1 number) on the last token's normed hidden state. */
struct fa_policy_llm;
/* Opens dir (config.json, model.safetensors, tokenizer.json); the heads
 * are drawn from seed (policy head N(0, 1/H) x 0.01, value head N(0,
 * 1/H), biases 0). NULL with fa_err set naming the file at fault. */
struct fa_policy_llm *fa_policy_llm_open(const char *dir, int train_layers, int lora, uint64_t seed,
                                         const char *tmpl);
void fa_policy_llm_free(struct fa_policy_llm *l);
/* The base model's config hash (fa_llama_config_hash) and config. */
const char *fa_policy_llm_config_hash(const struct fa_policy_llm *l);
int fa_policy_llm_hidden(const struct fa_policy_llm *l);
/* All trained parameters: the model's (fa_llama_train_params order),
 * then the policy head W (3 x H), b (3), the value head w (H), b. */
size_t fa_policy_llm_nparams(const struct fa_policy_llm *l);
void fa_policy_llm_get(const struct fa_policy_llm *l, float *out);
void fa_policy_llm_set(struct fa_policy_llm *l, const float *in);
/* The logits and value of a state. 0 or -1 with fa_err set. */
int fa_policy_llm_eval(struct fa_policy_llm *l, const struct fa_policy_obs *obs, double *logits,
                       double *value);
/* Prompt tokens of the last fa_policy_llm_eval (statistics). */
long fa_policy_llm_last_tokens(const struct fa_policy_llm *l);

struct fa_policy_train_conf {
    struct fa_ppo_conf ppo;
    struct fa_policy_llm *llm; /* not NULL: train it (the backbone then
                                  only names the run) instead of an fa_nn */
    struct fa_policy_env_conf env;
    uint64_t seed;
    int nhidden;
    int widths[FA_NN_MAXLAYERS];
    enum fa_nn_act act;
    int trunks; /* 2: the value head has its own trunk; else shared */
    /* called after each update; a non-zero return stops training */
    int (*progress)(const struct fa_policy_progress *p, void *arg);
    void *arg;
};

/* Trains a new network on days [0, data->n) of data with backbone b.
 * Episodes start at a uniformly drawn day (so that at most max_episode
 * actions fit before the last day) and run max_episode actions or to the
 * second-to-last day. Returns the trained network, or NULL with fa_err
 * set (too few days, backbone failure). */
struct fa_nn *fa_policy_train(const struct fa_policy_data *data, struct fa_policy_backbone *b,
                              const struct fa_policy_train_conf *c);

/* A training run as an object, so that it can stop and resume: a new run
 * (the network seeded from c->seed); NULL with fa_err set (too few days,
 * OOM). data and b must outlive it. */
struct fa_policy_trainer;
struct fa_policy_trainer *fa_policy_trainer_new(const struct fa_policy_data *data,
                                                struct fa_policy_backbone *b,
                                                const struct fa_policy_train_conf *c);
void fa_policy_trainer_free(struct fa_policy_trainer *tr);
/* Runs updates until the run is complete, or max (> 0) updates were made
 * in this call, or the progress callback asks to stop. Returns 1 when the
 * run is complete, 0 when it stopped before, -1 with fa_err set. */
int fa_policy_trainer_run(struct fa_policy_trainer *tr, long max);
/* The network being trained (owned by the trainer). */
const struct fa_nn *fa_policy_trainer_net(const struct fa_policy_trainer *tr);
/* Updates made so far, and in all. */
long fa_policy_trainer_update(const struct fa_policy_trainer *tr);
long fa_policy_trainer_updates(const struct fa_policy_trainer *tr);
/* The optimiser state between two updates (Adam moments and step, the
 * lr schedule's position, both PRNGs, the counters, the episode under
 * way as its first day and actions) as bytes: *out malloc'd. 0 or -1. */
int fa_policy_trainer_state(struct fa_policy_trainer *tr, char **out, size_t *len);
/* Continues a run: the weights of net (NULL for an llm run, whose
 * weights the caller sets with fa_policy_llm_set) and the state bytes of an equal
 * run (same data, backbone and configuration) stopped between updates;
 * the episode under way is replayed to rebuild the account. Then
 * fa_policy_trainer_run gives the bits of the run never stopped. 0, or
 * -1 with fa_err set (shape or state mismatch, truncation). */
int fa_policy_trainer_restore(struct fa_policy_trainer *tr, const struct fa_nn *net,
                              const void *state, size_t len);

/* ---- checkpoints: DIR/weights.bin, DIR/state.bin, DIR/manifest.json ---- */

/* Writes net, the optimiser state (state, len bytes; NULL: none) and
 * manifest (a JSON object: fa-policy adds every hyperparameter; this adds
 * "weights_blake2b" and "state_blake2b") into dir, created if needed,
 * each file atomically (temp, fsync, rename), the manifest last.
 * Returns 0 or -1 with fa_err set. */
int fa_policy_ckpt_write(const char *dir, const struct fa_nn *net, const void *state, size_t len,
                         struct json_object *manifest);
/* The same with the weights as bytes (the llm policy's: "FALLMW01", u64
 * LE count, then that many IEEE-754 floats LE). */
int fa_policy_ckpt_write_raw(const char *dir, const void *weights, size_t wlen, const void *state,
                             size_t slen, struct json_object *manifest);
/* Reads manifest and weights bytes (checked against weights_blake2b):
 * *weights malloc'd. 0, or -1 with fa_err set. */
int fa_policy_ckpt_read_raw(const char *dir, struct json_object **manifest, char **weights,
                            size_t *wlen);
/* The optimiser state of a checkpoint read with fa_policy_ckpt_read:
 * *out malloc'd, checked against the manifest's state_blake2b. 0, or -1
 * with fa_err set (absent, altered). */
int fa_policy_ckpt_read_state(const char *dir, struct json_object *manifest, char **out,
                              size_t *len);
/* Reads a checkpoint: the manifest (caller puts it) and the weights,
 * checked against the manifest's hash. NULL with fa_err set. */
struct fa_nn *fa_policy_ckpt_read(const char *dir, struct json_object **manifest);

#endif
