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
    FA_POLICY_REWARD_SHARPE = 0, /* change of the running Sharpe ratio */
    FA_POLICY_REWARD_RETURN = 1, /* the day's return net of costs */
};
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
 * previous + 1). The reward of the previous action becomes known here:
 * it is returned in *reward (0 for the first day) and enters the
 * history. Fills *obs for deciding on day t. Returns 0 or -1. */
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

struct fa_policy_train_conf {
    struct fa_ppo_conf ppo;
    struct fa_policy_env_conf env;
    uint64_t seed;
    int nhidden;
    int widths[FA_NN_MAXLAYERS];
    enum fa_nn_act act;
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

/* ---- checkpoints: DIR/weights.bin and DIR/manifest.json ---- */

/* Writes net and manifest (a JSON object: fa-policy adds every
 * hyperparameter; this adds "weights_blake2b") into dir, created if
 * needed, each file atomically (temp, fsync, rename), the manifest last.
 * Returns 0 or -1 with fa_err set. */
int fa_policy_ckpt_write(const char *dir, const struct fa_nn *net, struct json_object *manifest);
/* Reads a checkpoint: the manifest (caller puts it) and the weights,
 * checked against the manifest's hash. NULL with fa_err set. */
struct fa_nn *fa_policy_ckpt_read(const char *dir, struct json_object **manifest);

#endif
