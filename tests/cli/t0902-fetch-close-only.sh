#!/usr/bin/env bash
# Close-only price files (date,close; InvestorBench's layout): price
# records with a close and no open, high, low or volume at all; what
# reads them (fa-fetch ndjson:, fa-tools, fa-metrics, fa-intel, fa-policy)
# works from the close or says what it cannot do.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/d"
{ echo "date,close"
  # 40 trading days, a gentle saw
  d=2020-06-01
  for i in $(seq 0 39); do
    echo "$d,$((100 + (i % 7) * 2 - i / 5)).25"
    d=$(date -u -d "$d + 1 day" +%F)
    case $(date -u -d "$d" +%u) in 6) d=$(date -u -d "$d + 2 day" +%F) ;; 7) d=$(date -u -d "$d + 1 day" +%F) ;; esac
  done; } >"$T/d/CO.csv"
echo '{"date":"2020-06-02","title":"Real news","text":"t"}' >"$T/d/CO.news.ndjson"

run fa-fetch --source "csv:$T/d" --symbol CO
is "$rc" 0 "close-only csv: exit 0"
is "$(grep -c '"kind":"price"' "$out")" 40 "one price record a row"
is "$(head -n1 "$out" | jq -c 'del(.id)')" \
  '{"kind":"price","symbol":"CO","date":"2020-06-01","asof":"2020-06-01","close":100.25,"adj_close":100.25}' \
  "open, high, low and volume absent (not null, not invented)"
is "$(jq -r 'select(.kind=="price") | has("open") or has("high") or has("low") or has("volume")' "$out" | sort -u)" \
  false "on every bar"
is "$(jq -r 'select(.kind=="news") | .date' "$out")" 2020-06-02 "news beside it"
cp "$out" "$T/co.ndjson"
run fa-fetch --source "ndjson:$T/co.ndjson" --symbol CO
same_file "$out" "$T/co.ndjson" "ndjson: close-only price records read back as they are"

printf 'date,open,close\n2020-06-01,1,2\n' >"$T/part.csv"
run fa-fetch --source "csv:$T/part.csv" --symbol CO
is "$rc" 1 "open without high and low: exit 1"
like "$(cat "$err")" "part.csv:1: unknown column layout: no 'high' column" "naming the missing column"
printf 'date,close,volume\n2020-06-01,2,100\n' >"$T/vol.csv"
run fa-fetch --source "csv:$T/vol.csv" --symbol CO
is "$(jq -c 'del(.id,.kind,.symbol,.asof)' "$out")" '{"date":"2020-06-01","close":2,"adj_close":2,"volume":100}' \
  "close-only with a volume column keeps it"
sed -i '2a\2020-06-02,-1' "$T/vol.csv"
run fa-fetch --source "csv:$T/vol.csv" --symbol CO
like "$(cat "$err")" "vol.csv:3: " "close-only rows are still checked"

# fa-tools: the close-based tools signal; the ones reading high and low say
# they cannot
run fa-tools "$T/co.ndjson"
is "$rc" 0 "fa-tools: exit 0"
is "$(jq -r 'select(.kind=="signal") | .tool' "$out" | sort -u | tr '\n' ' ')" "buy_hold macd zmr " \
  "signals from buy_hold, macd and zmr only"
is "$(grep -c 'needs high and low prices' "$err")" 2 "one warning each for kdj_rsi and stoch_bb"
run fa-tools --tune --from 2020-06-01 --to 2020-07-01 -o "$T/p.json" "$T/co.ndjson"
is "$(jq -r '.CO | keys | join(",")' "$T/p.json")" macd,zmr "--tune leaves them out"

# fa-metrics, realistic: the next-open fill is at the close when there is
# no open
{ head -n 3 "$T/co.ndjson" | grep price
  echo '{"kind":"decision","symbol":"CO","date":"2020-06-01","asof":"2020-06-01","action":"BUY"}'; } >"$T/m.ndjson"
run fa-metrics --commission 0 --slippage 0 "$T/m.ndjson"
is "$rc" 0 "fa-metrics: exit 0"
is "$(jq -r 'select(.kind=="account" and .date=="2020-06-02") | .position' "$out")" \
  "$(jq -rn '10000 / 102.25 | floor')" "bought at the next day's close"

# fa-intel (offline): the prompt quotes only the close
run fa-intel --latest --save-prompts "$T" "$T/co.ndjson"
is "$rc" 0 "fa-intel: exit 0"
p=$(grep -l 'close 102.25' "$T"/CO-2020-06-02-*.txt | head -n1)
ok "[ -n '$p' ] && grep -q 'no open, high, low or volume in the data' '$p' && ! grep -q 'open 0.00' '$p'" \
  "fa-intel's prompt: the close, no made-up open"
done_testing
