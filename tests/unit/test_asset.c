/* test_asset: stock or cryptocurrency, by flag or by symbol. */
#include <stdlib.h>

#include "fa_asset.h"
#include "fa_err.h"
#include "tap.h"
#include "fa_banned.h"

int main(void)
{
    enum fa_asset a = FA_ASSET_AUTO;

    fa_err_init("test_asset");
    ok(fa_asset_parse("stock", &a) == 0 && a == FA_ASSET_STOCK, "parse stock");
    ok(fa_asset_parse("crypto", &a) == 0 && a == FA_ASSET_CRYPTO, "parse crypto");
    ok(fa_asset_parse("cryptocurrency", &a) == 0 && a == FA_ASSET_CRYPTO, "parse cryptocurrency");
    a = FA_ASSET_STOCK;
    ok(fa_asset_parse("bond", &a) == -1 && a == FA_ASSET_STOCK, "bond refused, *a unchanged");
    is_str(fa_err_get(), "unknown asset type 'bond' (want stock or crypto)", "and the message");
    ok(fa_asset_parse(NULL, &a) == -1 && fa_asset_parse("", &a) == -1, "NULL and empty refused");

    ok(fa_asset_of_symbol("BTCUSD") == FA_ASSET_CRYPTO, "BTCUSD is crypto");
    ok(fa_asset_of_symbol("ETH-USD") == FA_ASSET_CRYPTO, "ETH-USD is crypto");
    ok(fa_asset_of_symbol("ETH/USD") == FA_ASSET_CRYPTO, "ETH/USD is crypto");
    ok(fa_asset_of_symbol("MSFT") == FA_ASSET_STOCK, "MSFT is a stock");
    ok(fa_asset_of_symbol("USD") == FA_ASSET_STOCK, "a bare USD is no pair");
    ok(fa_asset_of_symbol("USDX") == FA_ASSET_STOCK, "USD not at the end");
    ok(fa_asset_of_symbol(NULL) == FA_ASSET_STOCK && fa_asset_of_symbol("") == FA_ASSET_STOCK,
       "no symbol: a stock");

    ok(fa_asset_resolve(FA_ASSET_AUTO, "ETHUSD") == FA_ASSET_CRYPTO, "auto: by the symbol");
    ok(fa_asset_resolve(FA_ASSET_STOCK, "ETHUSD") == FA_ASSET_STOCK, "explicit wins");
    ok(fa_asset_resolve(FA_ASSET_CRYPTO, "MSFT") == FA_ASSET_CRYPTO, "explicit wins (crypto)");

    is_str(fa_asset_noun(FA_ASSET_STOCK), "stock", "noun: stock");
    is_str(fa_asset_noun(FA_ASSET_CRYPTO), "cryptocurrency", "noun: cryptocurrency");
    is_str(fa_asset_name(FA_ASSET_CRYPTO), "crypto", "name: crypto");
    ok(fa_asset_decisions(FA_ASSET_STOCK) == 14, "a stock: 14 decisions");
    ok(fa_asset_decisions(FA_ASSET_CRYPTO) == 7, "crypto: 7 decisions");
    return tap_done();
}
