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
 * all three files.
 *
 * A store of a compact element type (float16 or int8) also keeps, in
 * DIR/vectors.f16 or DIR/vectors.i8, a compact copy of every row, and in
 * DIR/scales.f32 one float32 per row (int8: the row's step, x = step * q;
 * float16: the row's largest |x|); a search scans the compact copy and
 * re-scores only its best candidates from vectors.f32, so its results are
 * exactly those of a float32 scan. Those files follow the same rules:
 * appended with the rest, before the count moves; cut back with the rest. */
#ifndef FA_STORE_H
#define FA_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#define FA_STORE_MAGIC     "FASTORE\0" /* 8 bytes */
#define FA_STORE_VERSION   1
#define FA_STORE_HEADER    256       /* bytes before the first row */
#define FA_STORE_MODEL_MAX 127       /* longest model name */
#define FA_STORE_ELEM_F32  1         /* float32 rows only */
#define FA_STORE_ELEM_F16  2         /* also a float16 copy */
#define FA_STORE_ELEM_I8   3         /* also an int8 copy with one step per row */
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

/* fa_store_open with an element type: FA_STORE_ELEM_* is checked against
 * the store's ("store 'DIR': holds int8 rows, not f16") and used for a new
 * one; 0 accepts any store and creates float32 ones. */
struct fa_store *fa_store_open_elem(const char *dir, int mode, const char *model, size_t dim,
                                    int elem);

/* "f32", "f16" or "int8" for FA_STORE_ELEM_*; "?" otherwise. */
const char *fa_store_elem_name(int elem);
/* FA_STORE_ELEM_* of "f32", "f16" or "int8"; -1 with fa_err set otherwise. */
int fa_store_elem_parse(const char *name);

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
/* The store's element type (FA_STORE_ELEM_*). */
int fa_store_elem(const struct fa_store *s);
/* READ: the compact copy, count x dim uint16 halves (F16) or int8 (I8),
 * mapped; NULL for a float32 store or when empty. */
const void *fa_store_compact(const struct fa_store *s);
/* READ: the count per-row scales of the compact copy (see above); NULL
 * for a float32 store or when empty. */
const float *fa_store_scales(const struct fa_store *s);
/* READ: why a compact store's copy is not used (a compact file missing,
 * a scale that is NaN, negative, 0 for a
 * row that is not zero, too large, or not the float32 row's), or NULL.
 * The store then gives NULL compact rows and scales and is searched in
 * its float32 rows (the same hits); the caller should warn. */
const char *fa_store_compact_problem(const struct fa_store *s);

/* READ: one asof day per row (fa_date day numbers), FA_STORE_NO_DAY for a
 * record without asof or date. NULL when empty. */
const int32_t *fa_store_days(const struct fa_store *s);

/* The stored record of row r (parsed from records.ndjson); the caller owns
 * it. NULL with fa_err set on a read or parse error. */
struct json_object *fa_store_record(struct fa_store *s, size_t r);

/* True when a record with this id (32 hex digits) is stored or pending. */
bool fa_store_has_id(const struct fa_store *s, const char *id);

/* WRITE: queues rec (its compact JSON is copied; rec is not changed) with
 * its vector (dim floats, all finite; within +-65504 in a float16 store),
 * and its compact row in a compact store. A record without a string "id"
 * gets its content id in the stored copy. Returns 1 when queued, 0 when
 * the id is already stored or queued (nothing done), -1 with fa_err set
 * (not a writer, a non-finite or out-of-range value, out of memory). */
int fa_store_add(struct fa_store *s, struct json_object *rec, const float *vec)
    __attribute__((warn_unused_result));

/* WRITE: appends what is queued under the lock: rows, records, index
 * entries (and compact rows and scales), fsync, then the new count in the header, fsync. Records
 * whose id another writer committed meanwhile are dropped. Returns the number of rows committed, or
 * -1 with fa_err set (the store is then unchanged: the count was not moved). */
long fa_store_commit(struct fa_store *s) __attribute__((warn_unused_result));

/* Pending (queued, not committed) records. */
size_t fa_store_pending(const struct fa_store *s);

#endif
