/* fa_nn.h: a small multilayer perceptron for fa-policy, by hand, in double.
 *
 * A trunk of fully connected layers (tanh or ReLU) feeds two heads: a
 * policy head of FA_NN_ACTIONS logits and a value head of one number; the
 * value head either shares the policy's trunk or has its own of the same
 * shape (fa_nn_new_trunks).
 * Forward and backward passes are written out (no autodiff), loops run in
 * a fixed order and nothing is threaded, so a seed gives the same bits on
 * every run. Also here: the seeded PRNG (xoshiro256** seeded by
 * splitmix64), masked softmax over legal actions, global gradient-norm
 * clipping, Adam, and a small binary weight format. */
#ifndef FA_NN_H
#define FA_NN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FA_NN_ACTIONS   3 /* SELL, HOLD, BUY: see fa_policy.h */
#define FA_NN_MAXLAYERS 8 /* hidden layers of the trunk, at most */
#define FA_NN_MAXWIDTH  4096

enum fa_nn_act {
    FA_NN_TANH = 0,
    FA_NN_RELU = 1,
};

/* The PRNG state: xoshiro256** (Blackman and Vigna), seeded by splitmix64.
 * Plain struct so that callers can keep several independent streams. */
struct fa_rng {
    uint64_t s[4];
};
/* Seeds r from seed (any value, 0 included). */
void fa_rng_seed(struct fa_rng *r, uint64_t seed);
/* The next 64 random bits. */
uint64_t fa_rng_next(struct fa_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double fa_rng_uniform(struct fa_rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t fa_rng_below(struct fa_rng *r, uint64_t n);
/* Standard normal (Box-Muller, the cosine branch only: one draw, two
 * uniforms, so the stream position never depends on history). */
double fa_rng_normal(struct fa_rng *r);

struct fa_nn;

/* A new network over in_dim inputs with nhidden trunk layers of the given
 * widths (nhidden 0: both heads are linear in the input), activation act.
 * Weights: Glorot-uniform for the trunk, the policy head scaled by 0.01
 * (near-uniform initial policy), the value head by 1; biases 0; all drawn
 * from fa_rng seeded with seed. Returns NULL with fa_err set on bad shape
 * or OOM. Caller frees with fa_nn_free. */
struct fa_nn *fa_nn_new(int in_dim, int nhidden, const int *widths, enum fa_nn_act act,
                        uint64_t seed);
/* The same with trunks 1 (fa_nn_new: the heads share the trunk) or 2 (the
 * value head reads a second trunk of the same widths, drawn after the
 * first: the value loss never reaches the policy's layers). With nhidden
 * 0 there is no trunk and trunks is 1. */
struct fa_nn *fa_nn_new_trunks(int in_dim, int nhidden, const int *widths, enum fa_nn_act act,
                               int trunks, uint64_t seed);
/* 1 or 2, as above. */
int fa_nn_trunks(const struct fa_nn *nn);
/* A deep copy of the weights and shape (gradients and Adam state zero). */
struct fa_nn *fa_nn_clone(const struct fa_nn *nn);
void fa_nn_free(struct fa_nn *nn);

int fa_nn_in_dim(const struct fa_nn *nn);
int fa_nn_nhidden(const struct fa_nn *nn);
int fa_nn_width(const struct fa_nn *nn, int layer); /* 0 <= layer < nhidden */
enum fa_nn_act fa_nn_activation(const struct fa_nn *nn);
/* "tanh" or "relu"; fa_nn_act_parse returns the enum or -1. */
const char *fa_nn_act_name(enum fa_nn_act act);
int fa_nn_act_parse(const char *s);

/* The number of trainable parameters, and the flat parameter and gradient
 * arrays (same layout: per layer W row-major [out][in] then b; trunk
 * layers in order, then the value trunk's (trunks 2), then the policy
 * head, then the value head). The
 * pointers stay valid for the network's life; callers may write params. */
size_t fa_nn_nparams(const struct fa_nn *nn);
double *fa_nn_params(struct fa_nn *nn);
double *fa_nn_grads(struct fa_nn *nn);
void fa_nn_zero_grad(struct fa_nn *nn);

/* Input standardisation: when set, the forward pass feeds the trunk
 * clamp((x_i - mean_i) inv_sd_i, +-clip) instead of x_i, clip
 * FA_NN_NORM_CLIP (FA_NN_NORM_CLIP_V2 in networks read from a FANN0002
 * file, which were trained with it). The arrays (in_dim each) are copied,
 * kept by fa_nn_clone and stored by fa_nn_write. Not trained. 0 or -1
 * (OOM). */
#define FA_NN_NORM_CLIP    3.0
#define FA_NN_NORM_CLIP_V2 10.0
int fa_nn_set_input_norm(struct fa_nn *nn, const double *mean, const double *inv_sd);
bool fa_nn_has_input_norm(const struct fa_nn *nn);
/* The clamp of the standardised inputs, and a way to set it (a resumed
 * run keeps its checkpoint's); c > 0. */
double fa_nn_input_clip(const struct fa_nn *nn);
void fa_nn_set_input_clip(struct fa_nn *nn, double c);

/* Forward pass of one input x[in_dim]: the FA_NN_ACTIONS logits and the
 * value (value NULL: the logits only, and no value trunk is run). Keeps
 * the activations for a following fa_nn_backward (value not NULL). */
void fa_nn_forward(struct fa_nn *nn, const double *x, double *logits, double *value);
/* Backward pass of the last forward: given dL/dlogits and dL/dvalue,
 * ADDS dL/dparams into the gradient array (so samples accumulate). */
void fa_nn_backward(struct fa_nn *nn, const double *dlogits, double dvalue);

/* Multiplies every gradient by s. */
void fa_nn_scale_grad(struct fa_nn *nn, double s);
/* The global L2 norm of the gradient; when it exceeds max_norm (> 0) the
 * gradient is scaled down to max_norm. Returns the norm before clipping. */
double fa_nn_clip_grad(struct fa_nn *nn, double max_norm);
/* One Adam step (beta1 0.9, beta2 0.999, epsilon 1e-5, bias-corrected)
 * of the current gradient with learning rate lr. */
void fa_nn_adam_step(struct fa_nn *nn, double lr);

/* The Adam state, to save and restore a run: the first and second
 * moments (fa_nn_nparams each, writable) and the number of steps taken. */
double *fa_nn_adam_m(struct fa_nn *nn);
double *fa_nn_adam_v(struct fa_nn *nn);
long fa_nn_adam_steps(const struct fa_nn *nn);
void fa_nn_adam_set_steps(struct fa_nn *nn, long t);

/* Masked softmax. mask bit a set = action a legal; at least one must be.
 * Writes p[a] (0 for illegal) and logp[a] (-INFINITY for illegal).
 * Returns 0, or -1 with fa_err set when no action is legal. */
int fa_nn_softmax(const double *logits, unsigned mask, double *p, double *logp);
/* Samples a legal action from p with one uniform draw of r; never
 * returns an action with p 0 (illegal). */
int fa_nn_sample(const double *p, unsigned mask, struct fa_rng *r);
/* The legal action with the highest probability (lowest index on ties). */
int fa_nn_argmax(const double *p, unsigned mask);

/* Binary weights: "FANN0001", in_dim, nhidden, act, widths (uint32 LE),
 * nparams (uint64 LE), then each parameter as an IEEE-754 double LE.
 * "FANN0002": the same followed by the input standardisation (means, then
 * inverse standard deviations; clamp FA_NN_NORM_CLIP_V2). "FANN0003": a
 * uint32 of flags after act (1: the standardisation follows, then its
 * clamp as a double; 2: two trunks), then as FANN0002. Written for a
 * network with two trunks or another clamp than FANN0002's.
 * fa_nn_write returns 0 or -1 with fa_err set; fa_nn_read returns a new
 * network or NULL with fa_err set (bad magic, shape, truncation). name
 * is for messages. */
int fa_nn_write(const struct fa_nn *nn, FILE *f, const char *name);
struct fa_nn *fa_nn_read(FILE *f, const char *name);

#endif
