/* test_csv.c: fa_csv on in-memory files: quoting with doubled quotes and
 * newlines, CRLF, a BOM, blank lines, malformed rows with their line
 * numbers, and the price header aliases. */
#include <stdio.h>
#include <string.h>

#include "fa_csv.h"
#include "fa_err.h"
#include "tap.h"
#include "fa_banned.h"

static struct fa_csv *mem(const char *s, FILE **f)
{
    *f = fmemopen((void *)(size_t)s, strlen(s), "r");
    return fa_csv_from_file(*f, "t.csv");
}

static void done(struct fa_csv *c, FILE *f)
{
    fa_csv_close(c);
    fclose(f);
}

int main(void)
{
    FILE *f;
    struct fa_csv *c;
    int idx[FA_CSV_NCOLS];

    fa_err_init("test_csv");

    /* Quotes, doubled quotes, embedded comma and newline, CRLF, BOM. */
    c = mem("\xEF\xBB\xBF"
            "a,b,c\r\n"
            "1,\"x, \"\"y\"\"\",\"two\nlines\"\r\n"
            "\r\n"
            ",,\n"
            "last,\"\",z",
            &f);
    ok(fa_csv_next(c) == FA_CSV_ROW, "header row");
    ok(fa_csv_nfields(c) == 3, "3 fields");
    is_str(fa_csv_field(c, 0), "a", "BOM stripped");
    is_str(fa_csv_field(c, 2), "c", "CR stripped");
    ok(fa_csv_next(c) == FA_CSV_ROW && fa_csv_line(c) == 2, "row 2 starts on line 2");
    is_str(fa_csv_field(c, 1), "x, \"y\"", "doubled quotes and comma");
    is_str(fa_csv_field(c, 2), "two\nlines", "quoted newline");
    ok(fa_csv_next(c) == FA_CSV_ROW, "blank line skipped");
    is_num((double)fa_csv_line(c), 5, 0, "line count after quoted newline and blank line");
    ok(fa_csv_nfields(c) == 3 && strcmp(fa_csv_field(c, 2), "") == 0, "empty fields");
    ok(fa_csv_next(c) == FA_CSV_ROW && fa_csv_nfields(c) == 3, "last row without newline");
    is_str(fa_csv_field(c, 1), "", "quoted empty field");
    is_str(fa_csv_field(c, 2), "z", "last field");
    ok(fa_csv_field(c, 3) == NULL, "out of range field is NULL");
    is_str(fa_csv_where(c), "t.csv:6", "where");
    ok(fa_csv_next(c) == FA_CSV_EOF, "EOF");
    done(c, f);

    /* Malformed rows report their line and the reader goes on. */
    c = mem("a,b\nx\"y,2\n\"open,3\n", &f);
    ok(fa_csv_next(c) == FA_CSV_ROW, "header");
    ok(fa_csv_next(c) == FA_CSV_BAD, "quote in unquoted field is bad");
    ok(strstr(fa_err_get(), "t.csv:2:") != NULL, "message has file:line: %s", fa_err_get());
    ok(fa_csv_next(c) == FA_CSV_BAD, "unterminated quote is bad");
    ok(strstr(fa_err_get(), "t.csv:3: unterminated") != NULL, "%s", fa_err_get());
    ok(fa_csv_next(c) == FA_CSV_EOF, "then EOF");
    done(c, f);

    c = mem("\"a\"b,c\nok,1\n", &f);
    ok(fa_csv_next(c) == FA_CSV_BAD, "text after closing quote is bad");
    ok(fa_csv_next(c) == FA_CSV_ROW && strcmp(fa_csv_field(c, 0), "ok") == 0,
       "next line read after a bad one");
    done(c, f);

    /* Header aliases. */
    ok(fa_csv_price_column("Adj Close") == FA_CSV_ADJ_CLOSE, "Yahoo Adj Close");
    ok(fa_csv_price_column("adj_close") == FA_CSV_ADJ_CLOSE, "adj_close");
    ok(fa_csv_price_column("adjClose") == FA_CSV_ADJ_CLOSE, "FMP adjClose");
    ok(fa_csv_price_column("Adjusted Close") == FA_CSV_ADJ_CLOSE, "Adjusted Close");
    ok(fa_csv_price_column("DATE") == FA_CSV_DATE, "DATE");
    ok(fa_csv_price_column("Volume") == FA_CSV_VOLUME, "Volume");
    ok(fa_csv_price_column("Dividends") == -1, "unknown column");

    c = mem("Date,Open,High,Low,Close,Adj Close,Volume\n", &f);
    ok(fa_csv_next(c) == FA_CSV_ROW && fa_csv_price_header(c, idx) == 0, "Yahoo header");
    ok(idx[FA_CSV_DATE] == 0 && idx[FA_CSV_ADJ_CLOSE] == 5 && idx[FA_CSV_VOLUME] == 6,
       "Yahoo columns mapped");
    done(c, f);

    c = mem("close,date,low,high,open\n", &f);
    ok(fa_csv_next(c) == FA_CSV_ROW && fa_csv_price_header(c, idx) == 0, "any column order");
    ok(idx[FA_CSV_CLOSE] == 0 && idx[FA_CSV_OPEN] == 4 && idx[FA_CSV_ADJ_CLOSE] == -1 &&
           idx[FA_CSV_VOLUME] == -1,
       "optional columns absent");
    done(c, f);

    c = mem("date,open,high,low,price\n", &f);
    ok(fa_csv_next(c) == FA_CSV_ROW && fa_csv_price_header(c, idx) == 0, "price as close");
    done(c, f);

    c = mem("date,open,high,close\n", &f);
    ok(fa_csv_next(c) == FA_CSV_ROW && fa_csv_price_header(c, idx) == -1, "no low: refused");
    ok(strstr(fa_err_get(), "t.csv:1: unknown column layout: no 'low'") != NULL, "%s",
       fa_err_get());
    done(c, f);

    c = mem("date,close,Close,open,high,low\n", &f);
    ok(fa_csv_next(c) == FA_CSV_ROW && fa_csv_price_header(c, idx) == -1, "twice: refused");
    ok(strstr(fa_err_get(), "appears twice") != NULL, "%s", fa_err_get());
    done(c, f);

    ok(fa_csv_open("/nonexistent/x.csv") == NULL, "open of a missing file fails");
    ok(strstr(fa_err_get(), "open '/nonexistent/x.csv'") != NULL, "%s", fa_err_get());
    return tap_done();
}
