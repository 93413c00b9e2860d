/* fa_record.h: fa's record conventions on top of json-c objects.
 *
 * A record is a json_object with at least kind, symbol, date, id and asof
 * (see fa(7)). These helpers build records, read typed fields with clear
 * errors, format numbers in their shortest exact form, and compute the
 * content id: the hex BLAKE2b-128 of the record's canonical JSON (keys
 * sorted, compact, "id" left out), so equal content gives equal ids on
 * every machine. */
#ifndef FA_RECORD_H
#define FA_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#define FA_ID_HEX 33 /* 32 hex digits and a NUL */

/* A new record {"kind","symbol","date"} (symbol/date may be NULL and are
 * then left out). Caller owns the reference. Never NULL (aborts on OOM). */
struct json_object *fa_record_new(const char *kind, const char *symbol, const char *date);

/* A JSON number that prints in its shortest round-trip form (0.1, not
 * 0.10000000000000001); integral values within 2^53 print as integers.
 * Non-finite values become JSON null. */
struct json_object *fa_json_num(double v);

/* Setters: add or replace key; take ownership of nothing but v's copy. */
void fa_record_set_str(struct json_object *r, const char *key, const char *v);
void fa_record_set_num(struct json_object *r, const char *key, double v);
void fa_record_set_int(struct json_object *r, const char *key, int64_t v);
void fa_record_set_bool(struct json_object *r, const char *key, bool v);

/* Getters. fa_record_str returns the string value or NULL when absent or
 * not a string (the pointer lives as long as the record). fa_record_num
 * returns 0 and stores a finite number (ints or doubles), or -1. */
const char *fa_record_str(struct json_object *r, const char *key);
int fa_record_num(struct json_object *r, const char *key, double *out);
const char *fa_record_kind(struct json_object *r);
const char *fa_record_symbol(struct json_object *r);
const char *fa_record_date(struct json_object *r);
const char *fa_record_asof(struct json_object *r); /* asof, else date */

/* Canonical JSON of v (keys sorted at every level, compact, numbers in
 * their shortest form), leaving out top-level keys listed in skip (NULL-
 * terminated, may be NULL). Returns a malloc'd string, caller frees. */
char *fa_json_canonical(struct json_object *v, const char *const *skip);

/* Hex BLAKE2b-128 of len bytes. */
void fa_hash_hex(const void *data, size_t len, char out[FA_ID_HEX]);

/* Computes the record's content id (canonical JSON without "id") and sets
 * "id". Returns the id string, valid until the record's "id" is replaced
 * or the record is freed. */
const char *fa_record_set_id(struct json_object *r);

/* The record r rebuilt for symbol, date and asof (each may be NULL: left
 * out), in the conventional key order (kind, symbol, date, asof, r's other
 * fields, id) with its id recomputed. Used to attribute a record made
 * without them (an embedding call's llm record) to the records it served.
 * Takes ownership of r; returns the new record. */
struct json_object *fa_record_attribute(struct json_object *r, const char *symbol, const char *date,
                                        const char *asof);

/* An error record: {"kind":"error","stage","message","where"?} plus symbol,
 * date and asof (= date) when known, and its content id. where is
 * "file:line" or NULL. */
struct json_object *fa_record_error(const char *stage, const char *symbol, const char *date,
                                    const char *where, const char *message);

/* Checks the conventions every record must meet: an object with string
 * kind; symbol and date strings when present; date/asof valid dates.
 * Returns 0 or -1 with fa_err set (naming the field). */
int fa_record_validate(struct json_object *r);

#endif
