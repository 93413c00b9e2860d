#!/usr/bin/env bash
# One rule for repeated and misordered days, in every program: the same
# bar again is skipped quietly; another bar of a day held is "repeated",
# an earlier day "out of order", a string or NaN price a bad record: each
# an error record, and the stream goes on (exit 1 only under --strict).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
p() { printf '{"kind":"price","symbol":"X","date":"%s","open":%s,"high":%s,"low":%s,"close":%s,"adj_close":%s}\n' "$1" "$2" "$2" "$2" "$2" "$2"; }
d() { printf '{"kind":"decision","symbol":"X","date":"%s","asof":"%s","action":"%s"}\n' "$1" "$1" "$2"; }
{ p 2024-01-02 10; d 2024-01-02 BUY
  p 2024-01-03 11
  p 2024-01-03 11              # the same bar again: quiet
  p 2024-01-03 12              # repeated with other values
  p 2024-01-01 9               # out of order
  echo '{"kind":"price","symbol":"X","date":"2024-01-04","close":"12"}'   # a string
  echo '{"kind":"price","symbol":"X","date":"2024-01-04","close":NaN}'    # NaN
  p 2024-01-04 12; d 2024-01-04 SELL
  p 2024-01-05 13; } >"$T/in.ndjson"
n_in=$(wc -l <"$T/in.ndjson")

msgs() { jq -r 'select(.kind=="error") | .message' "$out"; }
run fa-metrics "$T/in.ndjson"
is "$rc" 0 "fa-metrics: exit 0"
is "$(grep -vc '"kind":"\(error\|account\|metrics\)"' "$out")" "$n_in" "every record passes through"
is "$(msgs | grep -c 'price X 2024-01-03 is repeated with other values (the first is kept); skipped')" 1 \
  "a repeated day is called repeated"
is "$(msgs | grep -c 'price X 2024-01-01 is out of order (after 2024-01-03); skipped')" 1 \
  "an earlier day is out of order"
is "$(msgs | grep -c "no positive 'close'")" 2 "a string and a NaN close: bad records"
is "$(msgs | wc -l)" 4 "and nothing else (the same bar again is quiet)"
is "$(jq -r 'select(.kind=="account") | .date' "$out" | tr '\n' ' ')" "2024-01-02 2024-01-03 2024-01-04 2024-01-05 " \
  "the account goes on over the good days"
ok "jq -e 'select(.kind==\"metrics\")' '$out' >/dev/null" "and ends in its metrics"
run fa-metrics --strict "$T/in.ndjson"
is "$rc" 1 "fa-metrics --strict: exit 1"
like "$(cat "$err")" "is repeated with other values" "at the first"
{ d 2024-01-02 MAYBE; p 2024-01-02 10; } >"$T/dec.ndjson"
run fa-metrics "$T/dec.ndjson"
is "$rc:$(msgs | grep -c 'MAYBE')" 0:1 "a bad decision: an error record, exit 0"

run fa-tools -s macd "$T/in.ndjson"
is "$rc" 0 "fa-tools: exit 0"
is "$(msgs | grep -c 'price X 2024-01-03 is repeated with other values')" 1 "fa-tools: repeated, not out of order"
is "$(msgs | grep -c 'price X 2024-01-01 is out of order')" 1 "fa-tools: out of order"
is "$(jq -r 'select(.kind=="signal") | .date' "$out" | tr '\n' ' ')" "2024-01-02 2024-01-03 2024-01-04 2024-01-05 " \
  "fa-tools: one signal a good day"
run fa-tools --strict -s macd "$T/in.ndjson"
is "$rc" 1 "fa-tools --strict: exit 1"

# fa-fetch's ndjson: source: the same bar again is fine, a repeat with other
# values stops it (a source stops on bad input), named
{ p 2024-01-02 10; p 2024-01-03 11; p 2024-01-03 11; } >"$T/src.ndjson"
run fa-fetch --source "ndjson:$T/src.ndjson" --symbol X
is "$rc:$(grep -c price "$out")" 0:2 "fa-fetch: the same bar twice is read once"
p 2024-01-03 12 >>"$T/src.ndjson"
run fa-fetch --source "ndjson:$T/src.ndjson" --symbol X
like "$rc $(cat "$err")" "^1 .*src.ndjson:4: price 2024-01-03 is repeated with other values" "fa-fetch: a repeat with other values, named"
printf 'date,close\n2024-01-02,1\n2024-01-03,2\n2024-01-01,1\n' >"$T/c.csv"
run fa-fetch --source "csv:$T/c.csv" --symbol X
like "$(cat "$err")" "c.csv:4: price 2024-01-01 is out of order \\(after 2024-01-03\\)" "fa-fetch csv: out of order, named"
printf 'date,close\n2024-01-02,1\n2024-01-02,5\n' >"$T/c.csv"
run fa-fetch --source "csv:$T/c.csv" --symbol X
like "$(cat "$err")" "c.csv:3: price 2024-01-02 is repeated with other values" "fa-fetch csv: repeated, named"
done_testing
