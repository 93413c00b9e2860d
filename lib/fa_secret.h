/* fa_secret.h: the API key, held in locked memory and wiped after use.
 *
 * The key comes from FA_API_KEY, else OPENAI_API_KEY, else the file named
 * by FA_API_KEY_FILE (or a flag), which must be a regular file of mode
 * 0600 (or 0400) owned by the user; never from argv. It lives in
 * sodium_malloc'd, mlock'd memory, is copied only into the Authorization
 * header built per request (also sodium memory, wiped after the request),
 * and is never written to logs, caches, streams or error messages:
 * fa_secret_redact blanks it out of any text before it is shown. */
#ifndef FA_SECRET_H
#define FA_SECRET_H

#include <stddef.h>

struct fa_secret;

/* Loads the key: env FA_API_KEY, OPENAI_API_KEY, then key_file (or, when
 * NULL, FA_API_KEY_FILE). Surrounding whitespace (a trailing newline) is
 * dropped. Returns 0 with *out set (NULL when no key is configured:
 * local servers need none), or -1 with fa_err set (key file missing,
 * not 0600, empty, too large; sodium init failed). */
int fa_secret_load(const char *key_file, struct fa_secret **out)
    __attribute__((warn_unused_result));

/* "Authorization: Bearer KEY" in fresh locked memory; release with
 * fa_secret_wipe_free. NULL when s is NULL. */
char *fa_secret_header(const struct fa_secret *s);
/* Wipes and frees a string from fa_secret_header; NULL is fine. */
void fa_secret_wipe_free(char *p);

/* Overwrites every occurrence of the key in text (length len) with '*'. */
void fa_secret_redact(const struct fa_secret *s, char *text, size_t len);

/* Wipes and frees the key; NULL is fine. */
void fa_secret_free(struct fa_secret *s);

#endif
