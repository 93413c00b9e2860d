/* fa_embedder.h: one interface over fa's two text embedders: the local
 * hashing embedder (default; no network, identical on every machine) and a
 * remote embedding model through fa_llm (FA_EMBED_MODEL with FA_LLM_URL).
 *
 * The local embedder lowercases ASCII letters, splits the text into words
 * (runs of ASCII letters, digits and bytes >= 0x80; every other byte
 * separates) and adds, for every word w, the feature "w " + w (weight 1)
 * and, for each 3-, 4- and 5-byte substring g of "<" + w + ">", the
 * feature "g " + g (weight 0.5), into dim buckets by signed hashing:
 * h = BLAKE2b with an 8-byte digest (libsodium generichash, no key) of
 * the feature's bytes, read little-endian; the bucket is h % dim and the
 * sign is + when bit 63 of h is 0, else -. Words longer than 64 bytes are
 * cut to 64. The vector is
 * then divided by its L2 norm (a text without words gives the zero
 * vector). Sums are taken in text order in double precision and rounded
 * to float32 at the end, so the rows are the same on every machine.
 * The model name is "fa-hash-<dim>" (e.g. "fa-hash-384"); stores record
 * it so that vectors of different embedders are never compared. */
#ifndef FA_EMBEDDER_H
#define FA_EMBEDDER_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include "fa_llm.h"

#define FA_EMBED_DIM_DEFAULT 384

struct fa_embedder;

/* Opens the embedder the configuration asks for: remote when an endpoint
 * and FA_EMBED_MODEL (opts->embed_model) are set and FA_LLM is not
 * "offline", else local with FA_EMBED_DIM dimensions [384] (8..65536).
 * opts may be NULL. Returns NULL with fa_err set on a configuration
 * error. */
struct fa_embedder *fa_embedder_open(const struct fa_llm_opts *opts);
/* Whether fa_embedder_open(opts) gives the local embedder (no endpoint, no
 * embedding model, or FA_LLM=offline): one that never waits on a network. */
bool fa_embedder_is_local(const struct fa_llm_opts *opts);
/* A local embedder of dim dimensions, whatever the environment says. */
struct fa_embedder *fa_embedder_open_local(size_t dim);
void fa_embedder_close(struct fa_embedder *e);

/* The model name ("fa-hash-384", or the remote model's name). */
const char *fa_embedder_model(const struct fa_embedder *e);

/* The row length. For a remote model not yet used, one probe text is
 * embedded (cached like any call) to learn it. Returns 0 with fa_err set
 * when that fails. */
size_t fa_embedder_dim(struct fa_embedder *e);

/* Embeds n texts into out (n rows of fa_embedder_dim floats, row-major,
 * caller's memory), L2-normalised (remote rows are normalised here too).
 * Appends `llm` records of remote calls to records (a JSON array) when not
 * NULL; stage names them. Returns 0, or -1 with fa_err set. */
int fa_embedder_embed(struct fa_embedder *e, const char *stage, const char *const *texts, size_t n,
                      float *out, struct json_object *records) __attribute__((warn_unused_result));

/* The local embedding of one text into out[dim] (what the local embedder
 * does per row). */
void fa_embedder_local(const char *text, size_t dim, float *out);

#endif
