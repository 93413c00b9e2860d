/* fa_banned.h: functions fa code must not call, poisoned at compile time.
 * Included last by every .c file (after system headers), as git's banned.h. */
#ifndef FA_BANNED_H
#define FA_BANNED_H

/* Unbounded copies and formats: use snprintf, memcpy with a checked length,
 * or the fa_str helpers. */
#pragma GCC poison strcpy strcat sprintf vsprintf gets
/* Not reentrant or not range-checked: use strtok_r, strtol/strtod with
 * end-pointer and errno checks (fa_cli_long, fa_cli_double), fa_date. */
#pragma GCC poison strtok atoi atol atoll atof gmtime localtime ctime asctime tmpnam mktemp

#endif
