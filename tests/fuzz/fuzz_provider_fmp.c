/* fuzz_provider_fmp.c: Financial Modeling Prep's replies (historical-
 * price-full, then stock_news / crypto_news) as fa-fetch parses them
 * before caching. The first byte picks the reply ('n': news, else prices), the rest is its body. */
#include "fa_provider.h"
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fa_provider_data d = {0};
    const char *reply;
    char *body;

    fz_init();
    if (size < 1)
        return 0;
    reply = data[0] == 'n' ? "news" : "prices";
    body = fz_str(data + 1, size - 1);
    if (fa_provider_parse_reply("fmp", reply, body, size - 1, &d) == 0)
        fz_provider_emit(&d, "FZ");
    else
        fa_provider_data_free(&d);
    free(body);
    return 0;
}
