/* fuzz_day.c: a record stream cut into trading days as every FinAgent
 * stage reads it (fa_day: groups, error records for bad lines, the
 * backwards check) and the point-in-time firewall on each record. */
#include <json-c/json.h>

#include "fa_day.h"
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fa_day_reader *r;
    struct fa_day d = {0};
    char path[512];

    if (!(r = fa_day_open(fz_file(path, "day.ndjson", data, size))))
        return 0;
    while (fa_day_next(r, &d) == 1) {
        size_t i = 0;
        (void)fa_day_reader_backwards(r);
        while (fa_day_find(&d, "news", &i) >= 0)
            ;
        for (size_t k = 0; k < d.n; k++) {
            (void)fa_day_admit(d.recs[k], d.day, -1, d.where[k]);
            (void)fa_day_admit(d.recs[k], d.day - 1, d.day + 5, NULL);
        }
        fa_day_clear(&d);
    }
    fa_day_clear(&d);
    fa_day_free(&d);
    fa_day_close(r);
    return 0;
}
