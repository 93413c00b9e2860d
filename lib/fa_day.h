/* fa_day.h: a record stream cut into trading days, and the point-in-time firewall.
 *
 * The FinAgent stages act once per (symbol, date). fa_day reads a stream
 * and hands over one group at a time: the run of consecutive records that
 * share a symbol and a date, in their original order. Records without a
 * date (a metrics summary, say) stay with the group they follow. A line
 * that is not a record becomes an error record in its place (and is fatal
 * under --strict, as fa_bad_record says). Memory is O(one day): a group
 * is held only until the caller has emitted it.
 *
 * The firewall: a stage working on day t may use a record only when the
 * record's asof (its date when it has none) is not after t, or, in a
 * warm-up pass, not after the warm-up's last day (the hindsight limit).
 * fa_day_admit says whether a record may be used, and why not. */
#ifndef FA_DAY_H
#define FA_DAY_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

/* One day's group. symbol/date are "" for a leading group of undated
 * records; day is then -1. recs[i] came from where[i] ("file:line"). */
struct fa_day {
    char symbol[64];
    char date[11];
    int day;
    size_t n, cap;
    struct json_object **recs;
    char **where;
};

struct fa_day_reader;

/* Opens path ("-" or NULL: stdin). Returns NULL with fa_err set. */
struct fa_day_reader *fa_day_open(const char *path) __attribute__((warn_unused_result));
void fa_day_close(struct fa_day_reader *r);

/* The one rule for a daily record (a price bar) of a symbol arriving in a
 * stream, which every program follows (fa.7, "Bad, repeated and
 * misordered records"). last is the latest day already taken for the
 * symbol (-1: none), held whether day itself was taken, same whether the
 * record taken for that day is this one again (equal values). Returns
 * FA_DAY_TAKE (a new day after last: use it), FA_DAY_AGAIN (the same
 * record again, as concatenated streams and overlapping windows give:
 * skip it quietly), or -1 with fa_err set to "SUBJECT DATE is repeated
 * with other values (the first is kept)" or "SUBJECT DATE is out of
 * order (after LAST)" (subject e.g. "price MSFT"): the caller writes an
 * error record (fa_bad_record: exit 1 under --strict) and goes on. */
enum { FA_DAY_TAKE = 0, FA_DAY_AGAIN = 1 };
int fa_day_order(const char *subject, int last, int day, bool held, bool same)
    __attribute__((warn_unused_result));

/* Fills d (which must be empty: zeroed or fa_day_clear'ed) with the next
 * group. Returns 1 with a group, 0 at end of input, -1 on a read error
 * (fa_err set). A group with a date that goes back in time for its symbol
 * is still returned (the caller decides); fa_day_reader_backwards tells. */
int fa_day_next(struct fa_day_reader *r, struct fa_day *d) __attribute__((warn_unused_result));
/* Whether the group last returned is dated before an earlier group of the
 * same symbol (the stream is out of order). */
bool fa_day_reader_backwards(const struct fa_day_reader *r);

/* Appends a record to d (d takes the reference); where may be NULL. */
void fa_day_add(struct fa_day *d, struct json_object *rec, const char *where);
/* Drops every record of d (their references) and empties it for reuse. */
void fa_day_clear(struct fa_day *d);
/* Frees d's arrays (after fa_day_clear). */
void fa_day_free(struct fa_day *d);

/* The index of the first record of kind at or after *i (and for the
 * group's symbol when the record has one), or -1. Advances *i past it, so
 * a loop "while ((k = fa_day_find(d, "news", &i)) >= 0)" visits them all. */
long fa_day_find(const struct fa_day *d, const char *kind, size_t *i);

/* Whether rec may be used by a stage working on day (a day number):
 * true when its asof (else date) is <= day, or <= limit when limit >= 0
 * (the warm-up's hindsight limit). Otherwise false with fa_err set to
 * "firewall: KIND record ID has asof ASOF, after DATE" (where: "at
 * file:line" appended when given). A record without a valid asof or date
 * is admitted (there is nothing it could leak). */
bool fa_day_admit(struct json_object *rec, int day, int limit, const char *where);

/* The later of two dates "YYYY-MM-DD" (either may be NULL/""): returns
 * one of the two pointers, or NULL when both are empty. */
const char *fa_day_later(const char *a, const char *b);

#endif
