/* fa_asset.c: stock or cryptocurrency, from an explicit choice or the
 * symbol (see fa_asset.h). */
#include <string.h>

#include "fa_asset.h"
#include "fa_err.h"
#include "fa_banned.h"

int fa_asset_parse(const char *s, enum fa_asset *a)
{
    if (s && strcmp(s, "stock") == 0) {
        *a = FA_ASSET_STOCK;
        return 0;
    }
    if (s && (strcmp(s, "crypto") == 0 || strcmp(s, "cryptocurrency") == 0)) {
        *a = FA_ASSET_CRYPTO;
        return 0;
    }
    fa_err_set("unknown asset type '%s' (want stock or crypto)", s ? s : "");
    return -1;
}

enum fa_asset fa_asset_of_symbol(const char *symbol)
{
    size_t n = symbol ? strlen(symbol) : 0;

    /* BTCUSD, BTC-USD, BTC/USD; a bare "USD" is no pair */
    if (n > 3 && strcmp(symbol + n - 3, "USD") == 0)
        return FA_ASSET_CRYPTO;
    return FA_ASSET_STOCK;
}

enum fa_asset fa_asset_resolve(enum fa_asset a, const char *symbol)
{
    return a == FA_ASSET_AUTO ? fa_asset_of_symbol(symbol) : a;
}

const char *fa_asset_noun(enum fa_asset a)
{
    return a == FA_ASSET_CRYPTO ? "cryptocurrency" : "stock";
}

const char *fa_asset_name(enum fa_asset a)
{
    return a == FA_ASSET_CRYPTO ? "crypto" : "stock";
}

int fa_asset_decisions(enum fa_asset a)
{
    return a == FA_ASSET_CRYPTO ? 7 : 14;
}
