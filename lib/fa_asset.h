/* fa_asset.h: what kind of asset a symbol is (a stock or a
 * cryptocurrency), which FinAgent's prompts name and which sets how many
 * past decisions its high-level reflection reviews (14 for stocks, 7 for
 * crypto, as in the paper).
 *
 * The kind comes from an explicit choice (a flag, FA_ASSET_TYPE) when
 * there is one, else from the symbol: a symbol ending in "USD" (BTCUSD,
 * ETHUSD, BTC-USD, ETH/USD) is a cryptocurrency, anything else a stock.
 * That is the same rule fa-fetch uses to pick the crypto calendar. */
#ifndef FA_ASSET_H
#define FA_ASSET_H

enum fa_asset { FA_ASSET_AUTO = -1, FA_ASSET_STOCK = 0, FA_ASSET_CRYPTO = 1 };

/* Parses "stock" or "crypto" (also "cryptocurrency") into *a. Returns 0,
 * or -1 with fa_err set ("unknown asset type 'X' (want stock or
 * crypto)"). */
int fa_asset_parse(const char *s, enum fa_asset *a) __attribute__((warn_unused_result));

/* The kind of symbol by the rule above (NULL or "": a stock). */
enum fa_asset fa_asset_of_symbol(const char *symbol);

/* a when it is not FA_ASSET_AUTO, else fa_asset_of_symbol(symbol). */
enum fa_asset fa_asset_resolve(enum fa_asset a, const char *symbol);

/* The word the prompts use: "stock" or "cryptocurrency". */
const char *fa_asset_noun(enum fa_asset a);

/* The flag's word: "stock" or "crypto". */
const char *fa_asset_name(enum fa_asset a);

/* Past decisions FinAgent's high-level reflection reviews: 14 for a
 * stock, 7 for a cryptocurrency. */
int fa_asset_decisions(enum fa_asset a);

#endif
