#!/usr/bin/env bash
# fa-fetch --source ndjson:PATH: fa records in, validated, the same records
# out (round trip through csv and synth output), other symbols skipped,
# and every kind of bad record refused with file:line and exit 1.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
F=$FIXTURES/fetch

# Round trips: what fa-fetch prints, fa-fetch reads back unchanged.
fa-fetch --source "csv:$F/prices" --symbol AAPL >"$T/aapl.ndjson"
run fa-fetch --source "ndjson:$T/aapl.ndjson" --symbol AAPL
is "$rc" 0 "round trip of csv output: exit 0"
same_file "$out" "$T/aapl.ndjson" "round trip of csv output: same bytes"
run fa-fetch --source "ndjson:$F/synth-1-AAPL-2023-01-03.ndjson" --symbol AAPL
same_file "$out" "$F/synth-1-AAPL-2023-01-03.ndjson" "round trip of synth output: same bytes"

# Several symbols in one file: only ours.
cat "$T/aapl.ndjson" "$F/synth-1-ETHUSD-2023-01-01.ndjson" >"$T/mixed.ndjson"
run fa-fetch --source "ndjson:$T/mixed.ndjson" --symbol ETHUSD
same_file "$out" "$F/synth-1-ETHUSD-2023-01-01.ndjson" "other symbols skipped"
run fa-fetch --source "ndjson:$T/aapl.ndjson" --symbol AAPL --from 2024-01-08 --to 2024-01-09 --lookback 1
is "$(jq -r '.date+" "+.kind' "$out" | tr '\n' '|')" \
  "2024-01-05 price|2024-01-08 price|2024-01-08 news|2024-01-08 guidance|2024-01-09 price|" \
  "window and lookback apply"

# Records without an id are accepted and get one.
printf '%s\n' '{"kind":"price","symbol":"X","date":"2024-01-02","open":1,"high":2,"low":0.5,"close":1.5}' >"$T/noid.ndjson"
run fa-fetch --source "ndjson:$T/noid.ndjson" --symbol X
is "$(jq -c 'del(.id)' "$out")" \
  '{"kind":"price","symbol":"X","date":"2024-01-02","asof":"2024-01-02","open":1,"high":2,"low":0.5,"close":1.5,"adj_close":1.5}' \
  "record without id completed (asof, adj_close)"
like "$(jq -r .id "$out")" '^[0-9a-f]{32}$' "and given an id"

bad() { # name line2 regex
  { head -n1 "$T/aapl.ndjson"; printf '%s\n' "$2"; } >"$T/$1.ndjson"
  run fa-fetch --source "ndjson:$T/$1.ndjson" --symbol AAPL
  is "$rc" 1 "$1: exit 1"
  like "$(cat "$err")" "$3" "$1: message"
  is "$(wc -c <"$out")" 0 "$1: no records"
}
bad notjson '{"kind":"price",' "notjson.ndjson:2"
bad notobject '[1,2]' "notobject.ndjson:2"
bad kind '{"kind":"decision","symbol":"AAPL","date":"2024-01-03"}' "kind.ndjson:2: kind 'decision' is not a source record"
bad nodate '{"kind":"price","symbol":"AAPL","open":1,"high":1,"low":1,"close":1}' "nodate.ndjson:2"
bad baddate '{"kind":"price","symbol":"AAPL","date":"2024-02-30","open":1,"high":1,"low":1,"close":1}' "baddate.ndjson:2"
bad noclose '{"kind":"price","symbol":"AAPL","date":"2024-01-03","open":1,"high":1,"low":1}' "noclose.ndjson:2: price record: no number 'close'"
bad negative '{"kind":"price","symbol":"AAPL","date":"2024-01-03","open":1,"high":1,"low":1,"close":-2}' "negative.ndjson:2: non-positive price: close -2"
bad order '{"kind":"price","symbol":"AAPL","date":"2024-01-01","open":1,"high":1,"low":1,"close":1}' "order.ndjson:2: price 2024-01-01 is out of order"
bad id '{"kind":"price","symbol":"AAPL","date":"2024-01-03","open":1,"high":1,"low":1,"close":1,"id":"0123"}' "id.ndjson:2: id '0123' does not match"
bad notitle '{"kind":"news","symbol":"AAPL","date":"2024-01-03","text":"x"}' "notitle.ndjson:2: news record: no string 'title'"
# A changed price under an unchanged id is caught.
sed '2s/"close":186.5,/"close":186.6,/' "$T/aapl.ndjson" >"$T/tampered.ndjson"
run fa-fetch --source "ndjson:$T/tampered.ndjson" --symbol AAPL
like "$(cat "$err")" "tampered.ndjson:[0-9]+: id '[0-9a-f]+' does not match" "tampered record caught"
run fa-fetch --source "ndjson:$T/missing.ndjson" --symbol AAPL
is "$rc" 1 "missing file: exit 1"
like "$(cat "$err")" "missing.ndjson" "missing file named"
done_testing
