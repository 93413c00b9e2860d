/* fa_cache.h: the content-addressed cache of model calls, so that reruns
 * are free and a run can be replayed offline, byte for byte.
 *
 * The key is the hex BLAKE2b-256 of the canonical JSON (fa_json_canonical)
 * of {"kind": endpoint kind ("chat", "embeddings"), "request": the request
 * body as sent: model, parameters, messages, image bytes as their data
 * URLs}. The API key is never part of a request body, so never of a key
 * or an entry. An entry is DIR/ab/abcdef....json (first two hex digits as
 * a subdirectory) holding {"key", "kind", "request", "response",
 * "latency_ms"}; it is written to a temporary file in the same directory,
 * fsync'd and renamed, so concurrent writers of the same key are harmless
 * (the contents are equal) and a reader never sees half an entry.
 *
 * Modes (FA_CACHE): rw (default): read, and write new answers; ro: read
 * only; off: neither; replay: read only, and a miss is an error (proof
 * that a run reproduces without the network). */
#ifndef FA_CACHE_H
#define FA_CACHE_H

#include <json-c/json.h>

#define FA_CACHE_KEY_HEX 65 /* 64 hex digits and a NUL */

enum fa_cache_mode {
    FA_CACHE_RW = 0,
    FA_CACHE_RO,
    FA_CACHE_OFF,
    FA_CACHE_REPLAY,
};

struct fa_cache;

/* Parses "rw", "ro", "off", "replay". Returns 0, or -1 with fa_err set. */
int fa_cache_mode_parse(const char *s, enum fa_cache_mode *out) __attribute__((warn_unused_result));
const char *fa_cache_mode_name(enum fa_cache_mode m);

/* The default directory: $XDG_CACHE_HOME/fa, else $HOME/.cache/fa, else
 * ".fa-cache". malloc'd. */
char *fa_cache_default_dir(void);

/* Opens the cache in dir (created, with parents, on the first write) in
 * mode. Returns NULL with fa_err set on a bad directory. */
struct fa_cache *fa_cache_open(const char *dir, enum fa_cache_mode mode);
void fa_cache_close(struct fa_cache *c);
enum fa_cache_mode fa_cache_mode(const struct fa_cache *c);
const char *fa_cache_dir(const struct fa_cache *c);

/* The key of a request (see above) into out. */
void fa_cache_key(const char *kind, struct json_object *request, char out[FA_CACHE_KEY_HEX]);

/* Looks key up. Returns 1 with *entry (caller owns) on a hit; 0 on a miss
 * (or mode off); -1 with fa_err set when the entry is unreadable, or on a
 * miss in replay mode ("replay: no cached answer for KEY"). A corrupt
 * entry counts as a miss in rw/ro (with a warning) and an error in
 * replay. */
int fa_cache_get(struct fa_cache *c, const char *key, struct json_object **entry)
    __attribute__((warn_unused_result));

/* Stores an entry {"key","kind","request","response","latency_ms"} under
 * key (atomically). Does nothing in modes other than rw. Returns 0, or -1
 * with fa_err set. */
int fa_cache_put(struct fa_cache *c, const char *key, const char *kind, struct json_object *request,
                 struct json_object *response, long latency_ms) __attribute__((warn_unused_result));

#endif
