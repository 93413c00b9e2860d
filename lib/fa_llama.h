/* fa_llama.h: a llama-architecture language model in C (SmolLM2 and its
 * kind), for fa-policy's FLAG-Trader backbone.
 *
 * fa_llama_open loads a checkpoint directory as Hugging Face writes it:
 * config.json (model_type "llama" or architectures LlamaForCausalLM,
 * hidden_act "silu", rope_scaling null) and model.safetensors (F32 used in
 * place from the mapping; BF16 and F16 converted to f32 once at load).
 * The forward pass is embeddings, then per layer RMSNorm, rotary positions
 * (rotate_half convention, the config's rope_theta), grouped-query causal
 * attention, RMSNorm, SwiGLU MLP, each with a residual; a final RMSNorm
 * and the output head (tied to the embeddings or lm_head.weight). Every
 * matrix product goes through one blocked, multithreaded kernel with an
 * AVX2/FMA path and a scalar path (fa_llama_gemm; FA_SIMD=scalar|avx2
 * picks, as for fa_simd; FA_THREADS caps the threads, default nproc).
 * fa_llama_open packs every layer weight and the head once into the
 * kernel's panel layout (one more f32 copy of the model in memory, on
 * huge pages where the kernel allows); softmax, SiLU and RMSNorm have
 * AVX2 versions on the AVX2 path (an exp within 2 ulp of expf's).
 *
 * Training (PPO) splits the model: the bottom n_layers - train_layers
 * layers are frozen and their output for a token sequence is computed once
 * and cached (in memory, an LRU keyed by the BLAKE2b of the ids, the
 * frozen layer count and the weights' identity: the config hash and a
 * sample of every tensor's bytes; bounded by FA_LLAMA_CACHE_MB, default
 * 256; and on disk, one file per prompt,
 * under $FA_CACHE_DIR/llama/ when that is set); the top train_layers
 * layers and the final norm are trained, either in full (their weights
 * copied to f32) or through LoRA adapters of rank r on q,k,v,o,gate,up,
 * down (W' = W + (alpha/r) B A with A (r x in) uniform in
 * [-1/sqrt(in), 1/sqrt(in)) from the seed and B (out x r) zero, so the
 * initial model is the base model; alpha = FA_LLAMA_LORA_ALPHA = 16).
 * Backward starts from the gradient of the last token's final-normed
 * hidden state, which the policy and value heads read; so the top layer
 * computes queries, attention output and MLP for the last row only (exact).
 *
 * Threads: the matrix products share one pool of FA_THREADS - 1 workers,
 * started on first use; a product that finds the pool busy (a caller on
 * another thread) runs on its caller's thread. A model or trainer object
 * is used by one thread at a time. */
#ifndef FA_LLAMA_H
#define FA_LLAMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#define FA_LLAMA_LORA_ALPHA 16.0f

struct fa_llama_config {
    char arch[32]; /* "llama" */
    int n_layers, hidden, intermediate, n_heads, n_kv_heads, vocab, max_pos;
    float rms_eps, rope_theta;
    bool tied;
};

struct fa_llama;
struct fa_llama_train;
struct fa_llama_act;

/* Opens the checkpoint in dir (config.json and model.safetensors). Returns
 * NULL with fa_err set: an unknown architecture or unsupported setting
 * names config.json and the key; a missing tensor, wrong shape, bad dtype,
 * bad header or truncated file names model.safetensors and the tensor. */
struct fa_llama *fa_llama_open(const char *dir);
void fa_llama_free(struct fa_llama *m);
const struct fa_llama_config *fa_llama_config(const struct fa_llama *m);
/* Hex BLAKE2b-256 of config.json's canonical JSON and every tensor's
 * name, shape and dtype; a policy checkpoint stores it and refuses a
 * different base model. Owned by m. */
const char *fa_llama_config_hash(const struct fa_llama *m);

/* Full forward: logits for every position of ids[0..n) into logits
 * (n x vocab, caller's buffer). Returns 0, or -1 with fa_err set (an id
 * outside the vocabulary, n < 1 or beyond max_pos, out of memory). */
int fa_llama_logits(struct fa_llama *m, const int32_t *ids, int n, float *logits)
    __attribute__((warn_unused_result));

/* The trainable part: the top train_layers layers (1..n_layers) and the
 * final norm; lora_rank 0: their full weights copied to f32; lora_rank > 0:
 * LoRA adapters on the seven projections (A from seed, B zero) plus the
 * full RMSNorm weights of those layers and the final norm. The flat
 * parameter order, per trained layer from the lowest up, is:
 *   full: input_layernorm, q, k, v, o, post_attention_layernorm, gate, up,
 *         down (each row-major as in the checkpoint);
 *   LoRA: input_layernorm, post_attention_layernorm, then for q, k, v, o,
 *         gate, up, down: A (r x in), B (out x r);
 * then the final norm (model.norm.weight). fa_llama_train_layout gives the
 * exact names, shapes and offsets. NULL with fa_err set on bad arguments. */
struct fa_llama_train *fa_llama_train_new(struct fa_llama *m, int train_layers, int lora_rank,
                                          uint64_t seed);
void fa_llama_train_free(struct fa_llama_train *t);
size_t fa_llama_train_nparams(const struct fa_llama_train *t);
/* The flat parameters (writable: an optimiser updates them in place; the
 * next forward uses the new values). */
float *fa_llama_train_params(struct fa_llama_train *t);
/* Gradients, same layout; backward accumulates into them. */
float *fa_llama_train_grads(struct fa_llama_train *t);
void fa_llama_train_zero_grad(struct fa_llama_train *t);
/* A new JSON array of {"name", "shape": [..], "offset", "size"} in the
 * flat order; the caller owns it. */
struct json_object *fa_llama_train_layout(const struct fa_llama_train *t);

/* The frozen bottom layers' output for ids (n x hidden), from the cache or
 * computed (and cached). *h stays valid until the next call on t. With
 * train_layers == n_layers it is the embedding. Returns 0, or -1 with
 * fa_err set. */
int fa_llama_frozen(struct fa_llama_train *t, const int32_t *ids, int n, const float **h)
    __attribute__((warn_unused_result));

/* The trained layers and the final norm over h (n x hidden): the last
 * token's normed hidden state into last (hidden floats). With act != NULL,
 * *act receives what backward needs (free with fa_llama_act_free). Returns
 * 0, or -1 with fa_err set. */
int fa_llama_top_forward(struct fa_llama_train *t, const float *h, int n, float *last,
                         struct fa_llama_act **act) __attribute__((warn_unused_result));

/* Accumulates d(loss)/d(params) into the grads, given dlast = d(loss)/
 * d(last) for the forward that made act. Frees nothing; act may be used
 * again. Returns 0, or -1 with fa_err set (out of memory). */
int fa_llama_top_backward(struct fa_llama_train *t, struct fa_llama_act *act, const float *dlast)
    __attribute__((warn_unused_result));
void fa_llama_act_free(struct fa_llama_act *a);

/* Cache statistics of t's frozen-state cache (since fa_llama_train_new). */
struct fa_llama_cache_stats {
    uint64_t hits, misses, disk_hits, evictions;
    size_t bytes, entries;
};
void fa_llama_cache_stats(const struct fa_llama_train *t, struct fa_llama_cache_stats *out);

/* The matrix kernel: C[m x n] = A[m x k] . B[n x k]^T (+ C when accumulate),
 * all row-major (B is a weight as stored: out x in). path: enum
 * fa_simd_path (FA_SIMD_AUTO resolves FA_SIMD, then the CPU); threads 0:
 * FA_THREADS, else nproc. Rows of C are split between threads; results
 * do not depend on the thread count. */
void fa_llama_gemm(int path, int threads, int m, int n, int k, const float *a, const float *b,
                   float *c, bool accumulate);
/* C[m x n] (+)= A[m x k] . B[k x n] (B row-major k x n), same kernel. */
void fa_llama_gemm_nn(int path, int threads, int m, int n, int k, const float *a, const float *b,
                      float *c, bool accumulate);
/* C[m x n] (+)= A[k x m]^T . B[k x n] (weight gradients), same kernel. */
void fa_llama_gemm_tn(int path, int threads, int m, int n, int k, const float *a, const float *b,
                      float *c, bool accumulate);

/* The kernel path fa_llama_logits and training use (default FA_SIMD_AUTO)
 * and thread count (0: automatic); for tests and benchmarks. */
void fa_llama_set_path(struct fa_llama *m, int path, int threads);

#endif
