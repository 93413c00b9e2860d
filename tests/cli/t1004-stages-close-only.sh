#!/usr/bin/env bash
# Close-only bars (InvestorBench's date,close prices): what needs an open,
# high or low says so instead of inventing them. The Kline chart becomes a
# line of closes (image and table), the prompts say the data has closing
# prices only, and the rule strategies that need highs and lows give no
# signal.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
export FA_LLM=offline
unset FA_ASSET_TYPE
SRC=csv:$FA_ROOT/pipelines/data/investorbench
fa-fetch -q --source "$SRC" --symbol MSFT --from 2020-10-01 --to 2020-10-01 --lookback 30 >"$T/day.ndjson"
is "$(jq -c 'select(.kind == "price" and (has("open") or has("high") or has("low") or has("volume")))' "$T/day.ndjson" | wc -l)" 0 \
  "the slice's bars are close-only"

mkdir -p "$T/p"
fa-intel -q --latest --from 2020-10-01 --save-prompts "$T/p" <"$T/day.ndjson" |
  fa-reflect-low -q --no-charts --from 2020-10-01 --save-prompts "$T/p" >"$T/low.ndjson"
p=$T/p/MSFT-2020-10-01-reflect-low.txt
ok "[ -s '$p' ]" "the low-level reflection's prompt"
ok "grep -q 'the data has closing prices only (no open, high or low), so' '$p'" \
  "it says the data has closing prices only"
ok "grep -q '^date        close     MA5       upper     lower$' '$p'" "the chart's table has the close alone"
ok "! grep -qi 'open      high' '$p' && ! grep -q 'candlesticks of open' '$p'" "no open, high or low columns, no candles"
like "$(grep -c '^2020-' "$p")" '^1[45]$' "15 closes (today and 14 before), no invented bars"
ok "grep -q 'no open, high, low' '$T/p/MSFT-2020-10-01-intel-latest.txt'" \
  "the market intelligence prompt quotes only the close and says so"
is "$(jq -c 'select(.kind == "reflect_low" and .date == "2020-10-01")' "$T/low.ndjson" | wc -l)" 1 \
  "the reflection is made"

if command -v gnuplot >/dev/null 2>&1; then
  mkdir -p "$T/c"
  run fa-reflect-low -q --charts "$T/c" --from 2020-10-01 "$T/day.ndjson"
  is "$rc" 0 "with charts"
  ok "[ -s '$T/c/MSFT-2020-10-01-kline.png' ]" "a chart of closes is drawn"
else
  skip "with charts" "gnuplot is not installed"
  skip "a chart of closes is drawn" "gnuplot is not installed"
fi

# the rule strategies that read highs and lows cannot run on such bars
run_in "$T/day.ndjson" fa-tools --window 15
is "$rc" 0 "fa-tools on close-only bars"
is "$(jq -c 'select(.kind == "signal" and (.tool == "kdj_rsi" or .tool == "stoch_bb") and .date == "2020-10-01" and .action != "NONE")' "$out" | wc -l)" 0 \
  "no kdj_rsi or stoch_bb signal from made-up highs and lows"
like "$(cat "$err")" "kdj_rsi needs high and low prices" "and it says so"
is "$(jq -c 'select(.kind == "signal" and .tool == "macd" and .date == "2020-10-01")' "$out" | wc -l)" 1 \
  "the strategies on closes still run"

# and fa-decide tells the model why those two are missing
mkdir -p "$T/d"
fa-tools -q --window 15 <"$T/day.ndjson" 2>/dev/null | fa-decide -q --from 2020-10-01 --save-prompts "$T/d" >/dev/null
ok "grep -q 'kdj_rsi and stoch_bb: cannot run: they need high and low prices' '$T/d/MSFT-2020-10-01-decide.txt'" \
  "the decision's prompt says kdj_rsi and stoch_bb cannot run"
ok "grep -q '^- macd: ' '$T/d/MSFT-2020-10-01-decide.txt'" "and shows the others"
done_testing
