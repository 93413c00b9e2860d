/* fa_csv.h: a streaming CSV reader (RFC 4180 quoting with doubled quotes,
 * quoted newlines, CRLF or LF, a leading UTF-8 BOM) that keeps "file:line"
 * for every message, and the column aliases of daily price files (Yahoo's
 * "Adj Close", lowercase "adj_close", FMP's "adjClose", ...). */
#ifndef FA_CSV_H
#define FA_CSV_H

#include <stddef.h>
#include <stdio.h>

#define FA_CSV_MAXROW (1u << 20) /* bytes in one row, quotes included */

struct fa_csv;

/* Opens path ("-": stdin, named "<stdin>"). Returns NULL with fa_err set
 * ("open 'path': why"). */
struct fa_csv *fa_csv_open(const char *path);
/* Wraps an open stream (not closed by fa_csv_close); name is for messages. */
struct fa_csv *fa_csv_from_file(FILE *f, const char *name);
void fa_csv_close(struct fa_csv *c);

enum {
    FA_CSV_EOF = 0,   /* no more rows */
    FA_CSV_ROW = 1,   /* a row is ready: fa_csv_nfields, fa_csv_field */
    FA_CSV_BAD = -1,  /* malformed row (fa_err "file:line: why"); the
                         reader has skipped to the next line */
    FA_CSV_IOERR = -2 /* read error (fa_err set); stop */
};

/* Reads the next row; blank lines are skipped. Fields are unquoted; a row
 * larger than FA_CSV_MAXROW, or holding a NUL byte, is BAD. */
int fa_csv_next(struct fa_csv *c) __attribute__((warn_unused_result));
size_t fa_csv_nfields(const struct fa_csv *c);
/* Field i of the current row (NUL-terminated, valid until the next call),
 * or NULL when i is out of range. */
const char *fa_csv_field(const struct fa_csv *c, size_t i);
/* "file:line" of the line where the current row starts. */
const char *fa_csv_where(struct fa_csv *c);
unsigned long fa_csv_line(const struct fa_csv *c);

/* The columns of a daily price file. */
enum fa_csv_col {
    FA_CSV_DATE,
    FA_CSV_OPEN,
    FA_CSV_HIGH,
    FA_CSV_LOW,
    FA_CSV_CLOSE,
    FA_CSV_ADJ_CLOSE,
    FA_CSV_VOLUME,
    FA_CSV_NCOLS
};

/* Maps a header name to a price column, ignoring case, blanks, '_', '-'
 * and '.': "Date"/"timestamp", "Open", "High", "Low", "Close"/"Price",
 * "Adj Close"/"adj_close"/"adjClose"/"Adjusted Close", "Volume"/"Vol".
 * Returns the column, or -1 for anything else. */
int fa_csv_price_column(const char *name);

/* Reads the current row as a price header: idx[col] = field index or -1.
 * Date and close are required; open, high and low come all three or none
 * (none: a close-only file, "date,close", whose bars have no open, high
 * or low); adj_close and volume are optional. Returns 0, or -1 with
 * fa_err "file:line: unknown column layout ..." naming what is missing or
 * repeated. */
int fa_csv_price_header(struct fa_csv *c, int idx[FA_CSV_NCOLS])
    __attribute__((warn_unused_result));

#endif
