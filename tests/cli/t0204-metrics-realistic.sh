#!/usr/bin/env bash
# fa-metrics --convention realistic on hand-checked cases (the arithmetic
# is in tests/unit/test_market.c): next-open fills, commission and
# slippage, shorting, NONE apart from HOLD; then bad input and bad flags.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=../fixtures/markets/json.sh
. "$FIXTURES/markets/json.sh"
R=$FIXTURES/markets/real4.ndjson
S=$FIXTURES/markets/short3.ndjson

# cash 1000, 10 bps commission, 20 bps slippage: D0's BUY fills at D1's
# open 102*1.002 = 102.204, 9 shares, commission 0.919836; D2's SELL fills
# at D3's open 101*0.998 = 100.798 -> cash 985.518982
run_in "$R" fa-metrics --cash 1000 --commission 10 --slippage 20
is "$rc" 0 "realistic is the default"
is "$(count "$out" account)" 4 "every day is stepped"
is "$(get "$out" account 'done' | tr '\n' ' ')" "NONE BUY HOLD SELL " "fills happen the next day"
is "$(get "$out" account action | tr '\n' ' ')" "BUY HOLD SELL NONE " "the asked actions; no decision on D3 is NONE"
near "$(get "$out" account fill_price | sed -n 2p)" 102.204 1e-9 "buy at the open plus slippage"
near "$(get "$out" account fees | sed -n 2p)" 0.919836 1e-9 "commission 10 bps"
near "$(get "$out" account value | sed -n 2p)" 1015.244164 1e-9 "marked at the close"
near "$(get "$out" account fill_price | sed -n 4p)" 100.798 1e-9 "sell at the open less slippage"
near "$(get "$out" account cash | sed -n 4p)" 985.518982 1e-9 "cash after the round trip"
near "$(get "$out" metrics total_return)" -0.014481018 1e-12 "total return"
is "$(get "$out" metrics trades) $(get "$out" metrics win_rate)" "2 0" "two fills, a losing round trip"
is "$(get "$out" metrics none_days) $(get "$out" metrics hold_days)" "1 1" "NONE counted apart from HOLD"
near "$(get "$out" metrics exposure)" 0.5 0 "exposure: 2 of 4 closes"
like "$(grep '"kind":"metrics"' "$out")" '"cagr":.*"sharpe":.*"sortino":.*"calmar":.*"annual_vol":.*"turnover":' "annualised figures"

# shorting: SELL fills at 100 short 10 (cash 2000), close 90 -> 1100;
# BUY covers at 80 and buys 15 -> 1200; the explicit NONE counts
run_in "$S" fa-metrics --cash 1000 --commission 0 --slippage 0 --short
is "$(get "$out" account position | tr '\n' ' ')" "0 -10 15 " "short, then long"
is "$(get "$out" account value | tr '\n' ' ')" "1000 1100 1200 " "values by hand"
is "$(get "$out" metrics win_rate)" 1 "the short won"
is "$(get "$out" metrics none_days)" 1 "an explicit NONE decision"
is "$(get "$out" metrics short)" true "short named"
run_in "$S" fa-metrics --cash 1000 --commission 0 --slippage 0
is "$(get "$out" account 'done' | tr '\n' ' ')" "NONE HOLD BUY " "long only: the SELL is not possible"
is "$(get "$out" account position | sed -n 3p)" 12 "BUY at 80: 12 shares"
run_in "$S" fa-metrics --cash 1000 --commission 0 --slippage 0 --fill next-close
is "$(get "$out" account fill_price | sed -n 3p)" 80 "--fill next-close"

# several symbols in one stream: one metrics record each
cat "$R" "$S" >"$T/two"
run_in "$T/two" fa-metrics
is "$(get "$out" metrics symbol | tr '\n' ' ')" "RLC SHT " "one metrics record per symbol"

# the agent's model calls in the period are summed (not with --follow)
{ cat "$R"
  echo '{"kind":"llm","symbol":"RLC","date":"2024-03-05","stage":"decide","cost_usd":0.25}'
  echo '{"kind":"llm","symbol":"RLC","date":"2024-03-06","stage":"intel","cost_usd":0.5}'
  echo '{"kind":"llm","symbol":"RLC","date":"2024-03-06","stage":"embed"}'; } >"$T/llm"
run_in "$T/llm" fa-metrics --from 2024-03-05
is "$(get "$out" metrics llm_calls) $(get "$out" metrics llm_cost_usd)" "3 0.75" "LLM calls and cost"
run_in "$T/llm" fa-metrics --from 2024-03-06
is "$(get "$out" metrics llm_calls)" 2 "only the period's calls"
run_in "$T/llm" fa-metrics --follow macd
is "$(get "$out" metrics llm_calls)" null "no LLM cost when following a tool"

# bad input: positions and exit 1
{ cat "$R"; echo '{"kind":"decision","symbol":"RLC","date":"2024-03-08","action":"BUY"}'; } >"$T/noprice"
run_in "$T/noprice" fa-metrics
is "$rc" 1 "a decision for a day with no price: exit 1"
like "$(cat "$err")" "^fa-metrics: <stdin>:8: decision for RLC 2024-03-08: no price" "with its position"
sed '3{h;d};5G' "$R" >"$T/order"
run_in "$T/order" fa-metrics
like "$(cat "$err")" "<stdin>:5: price RLC 2024-03-05 is out of order \\(after 2024-03-06\\)" "prices out of order: named, with its position"
sed 's/"action":"HOLD"/"action":"hold"/' "$R" >"$T/act"
run_in "$T/act" fa-metrics
is "$rc:$(count "$out" error)" 0:1 "an unknown action: an error record, exit 0 (fa.7's rule)"
like "$(cat "$err")" "<stdin>:4: decision RLC 2024-03-05: unknown action 'hold'" "names it"
sed 's/,"action":"HOLD"//' "$R" >"$T/noact"
run_in "$T/noact" fa-metrics
is "$rc:$(count "$out" error)" 0:1 "a decision without action: an error record, exit 0"
{ cat "$R"; echo '{oops'; } >"$T/json"
run_in "$T/json" fa-metrics
is "$rc" 0 "a broken line becomes an error record"
is "$(count "$out" error)" 1 "one error record"
run_in "$T/json" fa-metrics --strict
is "$rc" 1 "--strict: exit 1"

run fa-metrics "$T/missing.ndjson"
is "$rc" 1 "a missing input file: exit 1"
run fa-metrics "$R" "$R"
is "$(count "$out" account)" 4 "the same bars again (two files) are skipped"

# bad flags: exit 2
run fa-metrics --cash -5
is "$rc" 2 "negative cash: exit 2"
like "$(cat "$err")" "invalid cash '-5'" "names the flag"
run fa-metrics --fee 0.01
is "$rc" 2 "--fee with realistic: exit 2"
run fa-metrics --convention finagent --short
is "$rc" 2 "--short with finagent: exit 2"
run fa-metrics --convention paper
is "$rc" 2 "unknown convention: exit 2"
run fa-metrics --commission 1e9
is "$rc" 2 "commission out of range: exit 2"
run fa-metrics --from 2024-13-01
is "$rc" 2 "bad date: exit 2"
run fa-metrics --format csv
is "$rc" 2 "--format without --table: exit 2"
run fa-metrics --nope
is "$rc" 2 "unknown flag: exit 2"
run fa-metrics --help
is "$rc" 0 "--help"
fa-metrics <"$R" >/dev/full 2>/dev/null
is "$?" 1 "a full disk exits 1"
done_testing
