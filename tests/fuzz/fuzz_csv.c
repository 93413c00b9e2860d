/* fuzz_csv.c: price CSV files and the csv:DIR source of fa-fetch. The
 * input is SYM.csv, optionally followed by SYM.news.ndjson and
 * SYM.guidance.ndjson after separator lines (harness.h): fa_csv reads the
 * CSV row by row, then fa_provider_csv loads the directory and every
 * record is made, as fa-fetch --source csv:DIR does. */
#include <json-c/json.h>

#include "fa_csv.h"
#include "fa_provider.h"
#include "harness.h"

static void read_rows(const uint8_t *data, size_t size)
{
    FILE *f = fz_stream(data, size);
    struct fa_csv *c;
    int idx[FA_CSV_NCOLS], rc, first = 1;

    if (!f)
        return;
    if ((c = fa_csv_from_file(f, "<fuzz>"))) {
        while ((rc = fa_csv_next(c)) != FA_CSV_EOF && rc != FA_CSV_IOERR) {
            if (rc != FA_CSV_ROW)
                continue;
            (void)fa_csv_where(c);
            if (first) {
                if (fa_csv_price_header(c, idx) != 0)
                    idx[0] = -1;
                first = 0;
            }
            for (size_t i = 0; i <= fa_csv_nfields(c); i++)
                (void)fa_csv_price_column(fa_csv_field(c, i) ? fa_csv_field(c, i) : "");
        }
        fa_csv_close(c);
    }
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"FZ.csv", "FZ.news.ndjson", "FZ.guidance.ndjson"};
    struct fa_provider_data d = {0};
    const uint8_t *part;
    size_t plen;
    char path[512];

    fz_init();
    for (int i = 0; i < 3; i++) {
        if (i > 0 && size == 0) {
            snprintf(path, sizeof path, "%s/%s", fz_init(), names[i]);
            unlink(path);
            continue;
        }
        fz_split(&data, &size, &part, &plen);
        fz_file(path, names[i], part, plen);
        if (i == 0)
            read_rows(part, plen);
    }
    if (fa_provider_csv(fz_init(), "FZ", &d) == 0)
        fz_provider_emit(&d, "FZ");
    else
        fa_provider_data_free(&d);
    return 0;
}
