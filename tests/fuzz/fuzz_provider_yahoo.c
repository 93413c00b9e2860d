/* fuzz_provider_yahoo.c: Yahoo's v8 chart replies as fa-fetch parses
 * them before caching (the whole input is the body). */
#include "fa_provider.h"
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fa_provider_data d = {0};
    char *body;

    fz_init();
    body = fz_str(data, size);
    if (fa_provider_parse_reply("yahoo", "prices", body, size, &d) == 0)
        fz_provider_emit(&d, "FZ");
    else
        fa_provider_data_free(&d);
    free(body);
    return 0;
}
