/* fa_store.h: fa's memory store, an append-only directory of embedded
 * records (format in fa-store(5)).
 *
 * DIR/vectors.f32 holds a 256-byte header (magic, version, dimension,
 * element type, committed row count, embedding model name) and then the
 * rows, little-endian float32; DIR/records.ndjson the stored records, one a
 * line, in row order; DIR/rows.idx one 32-byte entry per row (offset and
 * length of its NDJSON line, its asof day, its binary id). The count in
 * the header is the commit point: it is written, and fsync'd, only after
 * the rows, records and entries it covers are on disk. Readers take no
 * lock and see the rows up to that count, a consistent snapshot. A writer
 * takes an exclusive flock on vectors.f32 for each commit; anything beyond
 * the committed count then is the torn tail of a writer that died, and is
 * cut off with a warning. Files shorter than the count claims (a store
 * truncated from outside) are cut back to the last whole row present in
 * all three files. */
#ifndef FA_STORE_H
#define FA_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#define FA_STORE_MAGIC     "FASTORE\0" /* 8 bytes */
#define FA_STORE_VERSION   1
#define FA_STORE_HEADER    256 /* bytes before the first row */
#define FA_STORE_MODEL_MAX 127 /* longest model name */
#define FA_STORE_ELEM_F32  1
#define FA_STORE_IDX_ENTRY 32        /* bytes per rows.idx entry */
#define FA_STORE_NO_DAY    INT32_MAX /* rows.idx day of a record without a date */

struct fa_store;

enum {
    FA_STORE_READ = 0,  /* snapshot of the committed rows, no lock */
    FA_STORE_WRITE = 1, /* also append; creates the store when missing */
};

/* Opens the store in dir. model and dim are checked against the store's
 * (a mismatch is an error: one store, one embedding model); model may be
 * NULL and dim 0 to accept any when reading. WRITE creates dir (and
 * its parents) and the files when missing, with model and dim (both needed
 * then), and recovers a torn tail. READ of a missing store returns NULL
 * with errno ENOENT and fa_err set. Returns NULL with fa_err set on any
 * error ("store 'DIR': why"). */
struct fa_store *fa_store_open(const char *dir, int mode, const char *model, size_t dim);

/* Commits what is pending (WRITE), unmaps and closes. Returns 0, or -1
 * with fa_err set when the final commit failed. NULL is fine. */
int fa_store_close(struct fa_store *s);

const char *fa_store_dir(const struct fa_store *s);
const char *fa_store_model(const struct fa_store *s);
size_t fa_store_dim(const struct fa_store *s);
/* Rows in the snapshot (READ: as opened; WRITE: as last committed). */
size_t fa_store_count(const struct fa_store *s);

/* READ: the count x dim float32 rows, mapped (NULL when empty). */
const float *fa_store_rows(const struct fa_store *s);
/* READ: one asof day per row (fa_date day numbers), FA_STORE_NO_DAY for a
 * record without asof or date. NULL when empty. */
const int32_t *fa_store_days(const struct fa_store *s);

/* The stored record of row r (parsed from records.ndjson); the caller owns
 * it. NULL with fa_err set on a read or parse error. */
struct json_object *fa_store_record(struct fa_store *s, size_t r);

/* True when a record with this id (32 hex digits) is stored or pending. */
bool fa_store_has_id(const struct fa_store *s, const char *id);

/* WRITE: queues rec (its compact JSON is copied; rec is not changed) with
 * its vector (dim floats, all finite). A record without a string "id"
 * gets its content id in the stored copy. Returns 1 when queued, 0 when
 * the id is already stored or queued (nothing done), -1 with fa_err set
 * (not a writer, a non-finite value, out of memory). */
int fa_store_add(struct fa_store *s, struct json_object *rec, const float *vec)
    __attribute__((warn_unused_result));

/* WRITE: appends what is queued under the lock: rows, records and index
 * entries, fsync, then the new count in the header, fsync. Records whose
 * id another writer committed meanwhile are dropped. Returns the number
 * of rows committed, or -1 with fa_err set (the store is then unchanged:
 * the count was not moved). */
long fa_store_commit(struct fa_store *s) __attribute__((warn_unused_result));

/* Pending (queued, not committed) records. */
size_t fa_store_pending(const struct fa_store *s);

#endif
