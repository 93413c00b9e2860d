/* fuzz_ndjson.c: NDJSON records as every stage reads them: fa_ndjson's
 * line reader (a small line cap, so oversize lines are exercised), then
 * fa_record's checks, accessors, canonical form and content id; and the
 * same bytes as fa-fetch's ndjson:PATH source for symbol AAPL. */
#include <json-c/json.h>

#include "fa_ndjson.h"
#include "fa_provider.h"
#include "fa_record.h"
#include "harness.h"

static const char *const skip_id[] = {"id", NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f;
    struct fa_ndjson_reader *r;
    struct json_object *o;
    int rc;
    struct fa_provider_data d = {0};
    char path[512];

    fz_init();
    if (!(f = fz_stream(data, size)))
        return 0;
    if (!(r = fa_ndjson_from_file(f, "<fuzz>", 4096))) {
        fclose(f);
        return 0;
    }
    while ((rc = fa_ndjson_next(r, &o)) != FA_NDJSON_EOF && rc != FA_NDJSON_IOERR) {
        double x;
        char *c;

        (void)fa_ndjson_where(r);
        if (rc != FA_NDJSON_RECORD)
            continue;
        if (fa_record_validate(o) == 0) {
            (void)fa_record_kind(o);
            (void)fa_record_symbol(o);
            (void)fa_record_date(o);
            (void)fa_record_asof(o);
        }
        (void)fa_record_num(o, "close", &x);
        (void)fa_record_str(o, "title");
        c = fa_json_canonical(o, skip_id);
        free(c);
        (void)fa_record_set_id(o);
        o = fa_record_attribute(o, "X", "2024-01-02", NULL);
        json_object_put(o);
    }
    fa_ndjson_close(r);
    fclose(f);
    if (fa_provider_ndjson(fz_file(path, "in.ndjson", data, size), "AAPL", &d) == 0)
        fz_provider_emit(&d, "AAPL");
    else
        fa_provider_data_free(&d);
    return 0;
}
