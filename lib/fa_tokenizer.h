/* fa_tokenizer.h: a Hugging Face tokenizer.json reader and byte-level BPE
 * encoder and decoder, as GPT-2 style models (SmolLM2) use.
 *
 * Supported: model.type "BPE" (vocab, merges as "a b" strings or [a, b]
 * pairs, ignore_merges), added_tokens (matched in the input text before
 * anything else and emitted as their ids, with the ids the tokenizers
 * library gives them), normalizer null, pre_tokenizer ByteLevel or
 * Sequence[Digits, ByteLevel] (the GPT-2 split regex by hand, with Unicode
 * 16.0 letter, number and white-space tables, as the library has them),
 * post_processor null or ByteLevel, decoder ByteLevel (or none: decoded as
 * ByteLevel too), truncation and padding null. Anything else the file asks
 * for is refused with an error naming the file and the member, never a
 * silently different tokenisation. Encodings equal the library's
 * encode(text, add_special_tokens=False) id for id.
 * A handle is read-only after open: concurrent encode/decode calls on one
 * handle from several threads are safe. */
#ifndef FA_TOKENIZER_H
#define FA_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fa_tok;

/* path: a tokenizer.json file or a directory holding one (and optionally
 * tokenizer_config.json, whose chat_template tells the role markers).
 * NULL with fa_err set naming the file (and the JSON member) on any
 * problem. Free with fa_tok_free. */
struct fa_tok *fa_tok_open(const char *path);
/* Same from memory (for fuzzing); name is used in messages. json need not
 * be NUL-terminated. */
struct fa_tok *fa_tok_parse(const char *json, size_t len, const char *name);
/* Frees t and everything it owns; NULL is a no-op. */
void fa_tok_free(struct fa_tok *t);
/* Highest id + 1 (the size an embedding table needs). */
size_t fa_tok_vocab(const struct fa_tok *t);
/* The id of a token as spelt in the file (byte-level form for the model's
 * vocabulary, e.g. "Ġthe"; literal content for added tokens); -1 if absent. */
int32_t fa_tok_id(const struct fa_tok *t, const char *token);
/* text (UTF-8, len bytes) -> malloc'd ids in *ids, their count in *n;
 * returns 0, or -1 with fa_err set. Invalid UTF-8 bytes are encoded as
 * their bytes (byte-level BPE covers all 256). The caller frees *ids (which
 * may be non-NULL even when *n is 0). */
int fa_tok_encode(const struct fa_tok *t, const char *text, size_t len, int32_t **ids, size_t *n);
/* ids -> malloc'd NUL-terminated UTF-8 string (the bytes the tokens stand
 * for; they may contain NUL or invalid UTF-8 when the ids cut a character);
 * NULL with fa_err set on an unknown id. Caller frees. */
char *fa_tok_decode(const struct fa_tok *t, const int32_t *ids, size_t n);
/* A chat prompt in the model's template (system may be NULL): ChatML
 * "<|im_start|>system\n...<|im_end|>\n<|im_start|>user\n...<|im_end|>\n"
 * then "<|im_start|>assistant\n" when gen is true; role markers taken
 * from the tokenizer. The ids are those of encoding that text (the markers
 * are added tokens), as transformers' apply_chat_template gives them. With
 * system NULL, the template's own default system message is used when it
 * has one (SmolLM2's: "You are a helpful AI assistant named SmolLM, trained
 * by Hugging Face"), else there is no system turn. Returns 0 with malloc'd
 * *ids and *n, or -1 with fa_err set (also when the tokenizer has no
 * <|im_start|>/<|im_end|> tokens, or tokenizer_config.json's chat_template
 * is not ChatML). */
int fa_tok_chat(const struct fa_tok *t, const char *system, const char *user, bool gen,
                int32_t **ids, size_t *n);

#endif
