/* fa_journal.h: a run's decision journal: RUN/journal.ndjson, append-only,
 * one entry per complete day, each holding the day's decision, the
 * SHA-256 of the day's whole stream (RUN/days/DATE.ndjson), the wall-clock
 * time, the SHA-256 of the previous entry's line (a chain) and an Ed25519
 * signature over the entry, by a key of the machine that ran the day
 * (its public half in RUN/journal.pub). fa_journal_verify checks all of
 * it later, so a run can prove its decisions were fixed when it says. */
#ifndef FA_JOURNAL_H
#define FA_JOURNAL_H

#include <stddef.h>

#define FA_JOURNAL_PK_BYTES 32
#define FA_JOURNAL_SK_BYTES 64

/* A signing key: the Ed25519 secret key (seed and public half) and the
 * public key. */
struct fa_journal_key {
    unsigned char pk[FA_JOURNAL_PK_BYTES];
    unsigned char sk[FA_JOURNAL_SK_BYTES];
};

/* Where the signing key lives: FA_JOURNAL_KEY when set and non-empty,
 * else $XDG_CONFIG_HOME/fa/journal.key, else $HOME/.config/fa/journal.key.
 * Writes it to buf (size n). Returns 0, or -1 with fa_err set (no HOME,
 * or the path is too long). */
int fa_journal_key_path(char *buf, size_t n) __attribute__((warn_unused_result));

/* Loads the key at path (one line: the 32-byte Ed25519 seed in hex). With
 * create non-zero and no file there, makes a new key and writes it
 * (directories 0700, the file 0600, atomically) and sets *created to 1.
 * A key file that group or others may read is refused. Returns 0, or -1
 * with fa_err set. The key is wiped by fa_journal_key_wipe. */
int fa_journal_key_load(const char *path, int create, struct fa_journal_key *k, int *created)
    __attribute__((warn_unused_result));
void fa_journal_key_wipe(struct fa_journal_key *k);

/* The lowercase hex of a public key: out must hold 65 bytes. */
void fa_journal_pk_hex(const unsigned char pk[FA_JOURNAL_PK_BYTES], char out[65]);

/* Appends an entry for every complete day of run (RUN/days/DATE.ndjson)
 * that has none yet, oldest first, under an exclusive lock on the
 * journal, each written and fsync'd before the next; with date non-NULL,
 * only that day (an error when its stream is not complete). A torn last
 * line (an append cut short) is cut off first and counted in *recovered.
 * Writes RUN/journal.pub on first use; a journal whose journal.pub is
 * another key is refused (one run, one key). Stores the number of entries
 * written in *appended. Returns 0, or -1 with fa_err set. */
int fa_journal_append(const char *run, const char *date, const struct fa_journal_key *k,
                      size_t *appended, size_t *recovered) __attribute__((warn_unused_result));

/* Called by fa_journal_verify for each problem: the journal line it is
 * about (1-based; 0 for a problem of the run as a whole) and a message. */
typedef void (*fa_journal_report_fn)(void *ctx, unsigned long line, const char *msg);

/* Checks run's journal: every line an entry in its place (seq), the
 * chain (each prev is the SHA-256 of the line before), every signature
 * by the public key pin (or, when pin is NULL, RUN/journal.pub's), each
 * day stream still hashing as recorded, and every complete day having
 * an entry. Each problem goes to report. Stores the number of entries in
 * *entries. Returns the number of problems (0: the journal is good), or
 * -1 with fa_err set when the journal cannot be read at all. */
long fa_journal_verify(const char *run, const unsigned char *pin, fa_journal_report_fn report,
                       void *ctx, size_t *entries) __attribute__((warn_unused_result));

#endif
