/* Unit tests for fa_date: day numbers, parsing, the NYSE calendar. */
#include <string.h>

#include "fa_date.h"
#include "tap.h"
#include "fa_banned.h"

int main(void)
{
    char buf[11];
    int d, y, m, md, i, bad;

    ok(fa_date_parse("1970-01-01", &d) == 0 && d == 0, "epoch is day 0");
    ok(fa_date_parse("2000-03-01", &d) == 0 && d == 11017, "2000-03-01 is day 11017");
    ok(fa_date_parse("2024-02-29", &d) == 0, "leap day 2024 parses");
    ok(fa_date_parse("2023-02-29", &d) < 0, "2023-02-29 refused");
    ok(fa_date_parse("2023-13-01", &d) < 0, "month 13 refused");
    ok(fa_date_parse("2023-1-01", &d) < 0, "short form refused");
    ok(fa_date_parse("2023-01-01x", &d) < 0, "trailing text refused");
    ok(fa_date_parse("1900-02-29", &d) < 0, "1900 is not a leap year");
    is_str(fa_date_format(19523, buf), "2023-06-15", "format day 19523");
    /* Round trip over 300 years, one day at a time. */
    bad = 0;
    for (i = fa_date_from_ymd(1900, 1, 1); i < fa_date_from_ymd(2200, 1, 1); i++) {
        fa_date_to_ymd(i, &y, &m, &md);
        if (fa_date_from_ymd(y, m, md) != i || fa_date_parse(fa_date_format(i, buf), &d) || d != i)
            bad++;
    }
    ok(bad == 0, "format/parse round trip 1900..2199 (%d bad)", bad);
    ok(fa_date_parse("2023-06-01", &d) == 0 && fa_date_weekday(d) == 3, "2023-06-01 is a Thursday");
    /* NYSE: 250 sessions in 2023, 251 in 2022, 252 in 2024 (exchange calendars). */
    is_num(fa_date_count_trading(fa_date_from_ymd(2023, 1, 1), fa_date_from_ymd(2023, 12, 31),
                                 FA_CAL_NYSE),
           250, 0, "NYSE 2023 has 250 sessions");
    is_num(fa_date_count_trading(fa_date_from_ymd(2022, 1, 1), fa_date_from_ymd(2022, 12, 31),
                                 FA_CAL_NYSE),
           251, 0, "NYSE 2022 has 251 sessions");
    is_num(fa_date_count_trading(fa_date_from_ymd(2024, 1, 1), fa_date_from_ymd(2024, 12, 31),
                                 FA_CAL_NYSE),
           252, 0, "NYSE 2024 has 252 sessions (less Carter day)");
    is_num(fa_date_count_trading(fa_date_from_ymd(2023, 6, 1), fa_date_from_ymd(2023, 12, 31),
                                 FA_CAL_NYSE),
           147, 0, "147 sessions 2023-06-01..2023-12-31");
    ok(!fa_date_is_trading(fa_date_from_ymd(2023, 4, 7), FA_CAL_NYSE), "Good Friday 2023 closed");
    ok(!fa_date_is_trading(fa_date_from_ymd(2023, 6, 19), FA_CAL_NYSE), "Juneteenth 2023 closed");
    ok(!fa_date_is_trading(fa_date_from_ymd(2021, 12, 24), FA_CAL_NYSE),
       "Christmas 2021 observed Fri");
    ok(fa_date_is_trading(fa_date_from_ymd(2021, 12, 31), FA_CAL_NYSE),
       "2021-12-31 open (Sat New Year)");
    ok(fa_date_is_trading(fa_date_from_ymd(2023, 6, 10), FA_CAL_CRYPTO),
       "crypto trades on Saturday");
    d = fa_date_add_trading(fa_date_from_ymd(2023, 6, 30), 1, FA_CAL_NYSE);
    is_str(fa_date_format(d, buf), "2023-07-03", "next session after 2023-06-30");
    d = fa_date_add_trading(fa_date_from_ymd(2023, 7, 5), -2, FA_CAL_NYSE);
    is_str(fa_date_format(d, buf), "2023-06-30", "two sessions before 2023-07-05");
    return tap_done();
}
