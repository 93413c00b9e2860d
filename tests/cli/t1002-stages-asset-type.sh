#!/usr/bin/env bash
# The asset type: every prompt names a stock or a cryptocurrency (never a
# "traded asset"), and the high-level reflection reviews the last 14
# decisions of a stock, 7 of a cryptocurrency (FinAgent's numbers). The
# type comes from --asset-type, else FA_ASSET_TYPE, else the symbol
# (crypto when it ends in USD).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
export FA_LLM=offline
unset FA_ASSET_TYPE
DAYS=$FIXTURES/stages/days.ndjson
# the fixture's days as a stock (TEST) and as a cryptocurrency (ETHUSD)
jq -c 'select(.kind=="price" and .date < "2023-06-01") | {kind:"decision",symbol,date,asof:.date,
  action:(if (.close|floor)%2==0 then "BUY" else "SELL" end), reasoning:("reason of "+.date),
  id:("d"+.date)}' "$DAYS" >"$T/journal.ndjson"
{
  grep -E '"date":"2023-06-01"' "$DAYS"
  # a retrieved past news item, so that the past-intel stage has a call to make
  echo '{"kind":"hit","symbol":"TEST","date":"2023-06-01","asof":"2023-05-02","store":"m","type":"short_term","rank":1,"score":0.9,"query":"q","memory":{"kind":"news","symbol":"TEST","date":"2023-05-02","asof":"2023-05-02","title":"Record profit beats estimates","text":"Strong growth.","id":"n1"},"id":"h1"}'
  grep -E '"date":"2023-06-02"' "$DAYS"
} >"$T/june.ndjson"
sed 's/"symbol":"TEST"/"symbol":"ETHUSD"/g' "$DAYS" >"$T/days-eth.ndjson"
sed 's/"symbol":"TEST"/"symbol":"ETHUSD"/g' "$T/journal.ndjson" >"$T/journal-eth.ndjson"
sed 's/"symbol":"TEST"/"symbol":"ETHUSD"/g' "$T/june.ndjson" >"$T/june-eth.ndjson"

reviewed() { grep '"kind":"reflect_high"' "$out" | head -n1 | jq .decisions_reviewed; }
high() { run fa-reflect-high --no-charts --journal "$T/journal.ndjson" --history "$DAYS" "$@" "$T/june.ndjson"; }
high_eth() { run fa-reflect-high --no-charts --journal "$T/journal-eth.ndjson" --history "$T/days-eth.ndjson" "$@" "$T/june-eth.ndjson"; }

mkdir -p "$T/p1" "$T/p2"
high --save-prompts "$T/p1"
is "$rc" 0 "a stock: runs"
is "$(reviewed)" 14 "a stock: the last 14 decisions"
is "$(grep -c 'Reasoning then: reason of' "$T/p1/TEST-2023-06-01-reflect-high.txt")" 14 "14 of them in the prompt"
ok "grep -q 'TEST (stock)' '$T/p1/TEST-2023-06-01-reflect-high.txt'" "the prompt names a stock"
high_eth --save-prompts "$T/p2"
is "$rc" 0 "a cryptocurrency: runs"
is "$(reviewed)" 7 "a cryptocurrency (ETHUSD): the last 7 decisions"
is "$(grep -c 'Reasoning then: reason of' "$T/p2/ETHUSD-2023-06-01-reflect-high.txt")" 7 "7 of them in the prompt"
ok "grep -q 'ETHUSD (cryptocurrency)' '$T/p2/ETHUSD-2023-06-01-reflect-high.txt'" \
  "the prompt names a cryptocurrency"

high --asset-type crypto
is "$(reviewed)" 7 "--asset-type crypto on a stock symbol: 7"
FA_ASSET_TYPE=crypto high
is "$(reviewed)" 7 "FA_ASSET_TYPE=crypto: 7"
FA_ASSET_TYPE=crypto high --asset-type stock
is "$(reviewed)" 14 "the flag wins over the environment"
high_eth --asset-type stock
is "$(reviewed)" 14 "--asset-type stock on a *USD symbol: 14"
high_eth --decisions 10
is "$(reviewed)" 10 "--decisions N wins over the asset type"
high --asset-type bond
is "$rc" 2 "--asset-type bond: usage error"
like "$(cat "$err")" "asset-type: unknown asset type 'bond' \(want stock or crypto\)" "and says why"
FA_ASSET_TYPE=bond high
is "$rc" 2 "FA_ASSET_TYPE=bond: usage error"
like "$(cat "$err")" "FA_ASSET_TYPE: unknown asset type 'bond'" "and names the variable"

# Every stage's prompt, system message included, names the type.
mkdir -p "$T/all" "$T/all-eth"
chain() { # DIR DAYS JOURNAL INPUT
  fa-intel -q --latest --save-prompts "$1" <"$4" |
    fa-intel -q --past --history "$2" --save-prompts "$1" |
    fa-reflect-low -q --no-charts --history "$2" --save-prompts "$1" |
    fa-reflect-high -q --no-charts --journal "$3" --history "$2" --save-prompts "$1" |
    fa-decide -q --history "$2" --save-prompts "$1" >/dev/null
}
chain "$T/all" "$DAYS" "$T/journal.ndjson" "$T/june.ndjson"
chain "$T/all-eth" "$T/days-eth.ndjson" "$T/journal-eth.ndjson" "$T/june-eth.ndjson"
for s in intel-latest intel-past reflect-low reflect-high decide; do
  ok "grep -q 'TEST (stock)' '$T/all/TEST-2023-06-01-$s.txt'" "$s: the prompt says stock"
  ok "grep -q 'ETHUSD (cryptocurrency)' '$T/all-eth/ETHUSD-2023-06-01-$s.txt'" "$s: the prompt says cryptocurrency"
done
ok "grep -q '^stock\. Each day several steps' '$T/all/TEST-2023-06-01-decide.txt'" "the system message says stock"
ok "grep -q '^cryptocurrency\. Each day several steps' '$T/all-eth/ETHUSD-2023-06-01-decide.txt'" \
  "the system message says cryptocurrency"
is "$(cat "$T"/all/*.txt "$T"/all-eth/*.txt | grep -c 'traded asset')" 0 "no prompt says 'traded asset'"
done_testing
