/* fa_date.c: civil-date arithmetic and the NYSE holiday rules.
 *
 * The day-number conversion is Howard Hinnant's well-known era algorithm
 * (public domain arithmetic). NYSE holidays follow the exchange's rules
 * since 1998: fixed-date holidays move to Friday when on a Saturday and to
 * Monday when on a Sunday (New Year's Day on a Saturday is not moved back
 * into December); Juneteenth from 2022. One-off closures (national days of
 * mourning, storms) are not modelled: data sources are the authority for
 * which days traded, this calendar only fills in where no data exists. */
#include <stdio.h>
#include <string.h>

#include "fa_date.h"
#include "fa_err.h"
#include "fa_banned.h"

int fa_date_from_ymd(int y, int m, int d)
{
    int era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void fa_date_to_ymd(int z, int *year, int *month, int *mday)
{
    int era, doe, yoe, y, doy, mp, d, m;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp + (mp < 10 ? 3 : -9);
    *year = y + (m <= 2);
    *month = m;
    *mday = d;
}

int fa_date_weekday(int day)
{
    /* 1970-01-01 was a Thursday (3 with Monday = 0). */
    int w = (day + 3) % 7;
    return w < 0 ? w + 7 : w;
}

static int days_in_month(int y, int m)
{
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

int fa_date_parse(const char *s, int *day)
{
    int y, m, d, i;

    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        goto bad;
    for (i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            goto bad;
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 1900 || y > 2199 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        goto bad;
    *day = fa_date_from_ymd(y, m, d);
    return 0;
bad:
    fa_err_set("invalid date '%.32s' (want YYYY-MM-DD)", s ? s : "(null)");
    return -1;
}

char *fa_date_format(int day, char buf[11])
{
    int y, m, d;

    fa_date_to_ymd(day, &y, &m, &d);
    buf[0] = (char)('0' + y / 1000 % 10), buf[1] = (char)('0' + y / 100 % 10);
    buf[2] = (char)('0' + y / 10 % 10), buf[3] = (char)('0' + y % 10), buf[4] = '-';
    buf[5] = (char)('0' + m / 10), buf[6] = (char)('0' + m % 10), buf[7] = '-';
    buf[8] = (char)('0' + d / 10), buf[9] = (char)('0' + d % 10), buf[10] = 0;
    return buf;
}

int fa_calendar_parse(const char *s, enum fa_calendar *cal)
{
    if (strcmp(s, "nyse") == 0)
        *cal = FA_CAL_NYSE;
    else if (strcmp(s, "crypto") == 0)
        *cal = FA_CAL_CRYPTO;
    else {
        fa_err_set("unknown calendar '%s' (want nyse or crypto)", s);
        return -1;
    }
    return 0;
}

/* The n-th (1-based) given weekday of a month; n = -1 for the last. */
static int nth_weekday(int y, int m, int wday, int n)
{
    int first, last, d;

    if (n > 0) {
        first = fa_date_from_ymd(y, m, 1);
        d = first + (wday - fa_date_weekday(first) + 7) % 7;
        return d + 7 * (n - 1);
    }
    last = fa_date_from_ymd(y, m, days_in_month(y, m));
    return last - (fa_date_weekday(last) - wday + 7) % 7;
}

/* Easter Sunday (anonymous Gregorian computus). */
static int easter(int y)
{
    int a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4;
    int f = (b + 8) / 25, g = (b - f + 1) / 3;
    int h = (19 * a + b - d - g + 15) % 30;
    int i = c / 4, k = c % 4;
    int l = (32 + 2 * e + 2 * i - h - k) % 7;
    int m = (a + 11 * h + 22 * l) / 451;
    int month = (h + l - 7 * m + 114) / 31;
    int day = (h + l - 7 * m + 114) % 31 + 1;
    return fa_date_from_ymd(y, month, day);
}

/* A fixed-date holiday as observed: Saturday -> Friday, Sunday -> Monday. */
static int observed(int day)
{
    int w = fa_date_weekday(day);
    return w == 5 ? day - 1 : w == 6 ? day + 1 : day;
}

static bool nyse_holiday(int day)
{
    int y, m, d;

    fa_date_to_ymd(day, &y, &m, &d);
    /* New Year's Day; a Saturday New Year is not observed on Dec 31. */
    if (day == fa_date_from_ymd(y, 1, 1) && fa_date_weekday(day) < 5)
        return true;
    if (day == fa_date_from_ymd(y, 1, 2) && fa_date_weekday(day) == 0)
        return true;
    if (day == nth_weekday(y, 1, 0, 3)) /* Martin Luther King Jr. Day */
        return true;
    if (day == nth_weekday(y, 2, 0, 3)) /* Washington's Birthday */
        return true;
    if (day == easter(y) - 2) /* Good Friday */
        return true;
    if (day == nth_weekday(y, 5, 0, -1)) /* Memorial Day */
        return true;
    if (y >= 2022 && day == observed(fa_date_from_ymd(y, 6, 19)))
        return true;
    if (day == observed(fa_date_from_ymd(y, 7, 4)))
        return true;
    if (day == nth_weekday(y, 9, 0, 1)) /* Labor Day */
        return true;
    if (day == nth_weekday(y, 11, 3, 4)) /* Thanksgiving */
        return true;
    if (day == observed(fa_date_from_ymd(y, 12, 25)))
        return true;
    return false;
}

bool fa_date_is_trading(int day, enum fa_calendar cal)
{
    if (cal == FA_CAL_CRYPTO)
        return true;
    return fa_date_weekday(day) < 5 && !nyse_holiday(day);
}

int fa_date_add_trading(int day, int n, enum fa_calendar cal)
{
    if (n == 0) {
        while (!fa_date_is_trading(day, cal))
            day++;
        return day;
    }
    while (n > 0) {
        day++;
        if (fa_date_is_trading(day, cal))
            n--;
    }
    while (n < 0) {
        day--;
        if (fa_date_is_trading(day, cal))
            n++;
    }
    return day;
}

int fa_date_count_trading(int from, int to, enum fa_calendar cal)
{
    int n = 0;

    for (; from <= to; from++)
        n += fa_date_is_trading(from, cal);
    return n;
}
