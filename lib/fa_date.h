/* fa_date.h: calendar dates as day numbers, and trading-day calendars.
 *
 * A date is an int: days since 1970-01-01 (proleptic Gregorian, no time
 * zone). Conversion is pure arithmetic, so it never depends on TZ or on
 * gmtime. Calendars: "nyse" (weekdays less NYSE full-day holidays) and
 * "crypto" (every day). */
#ifndef FA_DATE_H
#define FA_DATE_H

#include <stdbool.h>

enum fa_calendar { FA_CAL_NYSE, FA_CAL_CRYPTO };

/* Parses exactly "YYYY-MM-DD" (a real date, years 1900..2199) into *day.
 * Returns 0, or -1 with fa_err set. */
int fa_date_parse(const char *s, int *day) __attribute__((warn_unused_result));
/* Writes "YYYY-MM-DD" and a NUL into buf (11 bytes). Returns buf. */
char *fa_date_format(int day, char buf[11]);
/* Day number of a civil date; month 1..12, mday 1..31 (not validated). */
int fa_date_from_ymd(int year, int month, int mday);
void fa_date_to_ymd(int day, int *year, int *month, int *mday);
/* 0 = Monday .. 6 = Sunday. */
int fa_date_weekday(int day);

/* Parses "nyse" or "crypto"; returns 0 or -1 with fa_err set. */
int fa_calendar_parse(const char *s, enum fa_calendar *cal);
/* Whether day is a full trading day on the calendar. */
bool fa_date_is_trading(int day, enum fa_calendar cal);
/* The n-th trading day after day (n > 0) or before it (n < 0); day itself
 * need not be a trading day. n == 0 returns the first trading day >= day. */
int fa_date_add_trading(int day, int n, enum fa_calendar cal);
/* Number of trading days d with from <= d <= to. */
int fa_date_count_trading(int from, int to, enum fa_calendar cal);

#endif
