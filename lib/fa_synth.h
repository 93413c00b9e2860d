/* fa_synth.h: a deterministic synthetic market for demos, tests and
 * control experiments: a regime-switching random walk of daily bars, news
 * whose sentiment carries real but noisy information about the next days'
 * returns, and now and then an analyst's guidance.
 *
 * The same seed and symbol give the same bytes on every machine: our own
 * integer generator (xoshiro256**), normals as sums of uniforms, only
 * correctly rounded arithmetic (+ - * / floor) in anything that reaches a
 * record, prices rounded to cents. The series starts on FA_SYNTH_ORIGIN
 * and is generated forward, so a day's data do not depend on the window
 * asked for. How news relates to returns is documented in fa-fetch(1). */
#ifndef FA_SYNTH_H
#define FA_SYNTH_H

#include <stdint.h>

#include "fa_date.h"
#include "fa_provider.h"

#define FA_SYNTH_ORIGIN  "2000-01-03"
#define FA_SYNTH_HORIZON 3 /* trading days a news event moves returns */

struct fa_synth_opts {
    uint64_t seed;        /* default 1 */
    double noise;         /* 0: informative news (default) .. 1: none */
    enum fa_calendar cal; /* trading days of the series */
};

/* Parses the part of a source after "synth": "" or ":SEED" or
 * ":SEED:noise=X" (SEED a decimal integer, may be empty for the default;
 * X in [0, 1]). Leaves o->cal alone. Returns 0, or -1 with fa_err set. */
int fa_synth_parse(const char *spec, struct fa_synth_opts *o) __attribute__((warn_unused_result));

/* Generates the series of symbol from FA_SYNTH_ORIGIN through day to and
 * keeps bars and items dated keep_from or later in d. Returns 0, or -1
 * with fa_err set (to before the origin, out of memory). */
int fa_synth_generate(const struct fa_synth_opts *o, const char *symbol, int keep_from, int to,
                      struct fa_provider_data *d) __attribute__((warn_unused_result));

#endif
