#!/usr/bin/env bash
# fa-metrics --convention flag (FLAG-Trader's metrics) on an example
# worked by hand: cash 1000, adj_close 10 11 12 9 10 20, BUY on D0, SELL
# on D3, orders filled at the next day's close, no costs; D5 = D_K (20)
# is left out.
#   D0 BUY (pending)            V 1000
#   D1 fill 90 shares at 11     cash 10, V 10 + 990 = 1000
#   D2                          V 10 + 1080 = 1090
#   D3 SELL (pending)           V 10 + 810 = 820
#   D4 fill 90 at 10            cash 910, V 910
#   log returns: 0, ln(1090/1000) = 0.0861777, ln(820/1090) = -0.2846286,
#   ln(910/820) = 0.1041403; sum ln(910/1000) = -0.0943107 (CR -9.43%);
#   mean -0.0235777, sample sd 0.1798718: Sharpe -0.0235777/0.1798718 x
#   sqrt(252) = -2.0808367, annual vol 0.1798718 x sqrt(252) = 2.8553767;
#   MDD (1090 - 820)/1090 = 0.2477064.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=../fixtures/markets/json.sh
. "$FIXTURES/markets/json.sh"
F=$T/days.ndjson
cat >"$F" <<'END'
{"kind":"price","symbol":"X","date":"2024-03-04","open":10,"close":10,"adj_close":10}
{"kind":"decision","symbol":"X","date":"2024-03-04","action":"BUY"}
{"kind":"price","symbol":"X","date":"2024-03-05","open":11,"close":11,"adj_close":11}
{"kind":"price","symbol":"X","date":"2024-03-06","open":12,"close":12,"adj_close":12}
{"kind":"price","symbol":"X","date":"2024-03-07","open":9,"close":9,"adj_close":9}
{"kind":"decision","symbol":"X","date":"2024-03-07","action":"SELL"}
{"kind":"price","symbol":"X","date":"2024-03-08","open":10,"close":10,"adj_close":10}
{"kind":"price","symbol":"X","date":"2024-03-11","open":20,"close":20,"adj_close":20}
END

run_in "$F" fa-metrics --convention flag --cash 1000
is "$rc" 0 "flag run"
is "$(count "$out" account)" 5 "D0..D4 stepped, no account for D_K"
is "$(get "$out" account value | tr '\n' ' ')" "1000 1000 1090 820 910 " "values by hand"
is "$(get "$out" account position | tr '\n' ' ')" "0 90 90 90 0 " "fills at the next day's close"
near "$(get "$out" metrics cum_log_return)" -0.09431067947124129 1e-12 "cumulative log return ln(910/1000)"
near "$(get "$out" metrics sharpe)" -2.080836735427692 1e-9 "Sharpe of daily log returns, sample sd, x sqrt(252)"
near "$(get "$out" metrics annual_vol)" 2.8553767364487475 1e-9 "annualised volatility"
near "$(get "$out" metrics mdd)" 0.24770642201834864 1e-12 "maximum drawdown"
is "$(get "$out" metrics n)" 4 "4 log returns"
is "$(get "$out" metrics fees)" 0 "no costs"
is "$(get "$out" metrics convention)" flag "convention named"
is "$(get "$out" metrics to)" 2024-03-11 "period to D_K"

# buy and hold (BUY every day): 90 shares at 11, the leftover 10 buys one
# more at 9 on D3: V 1000 1000 1090 820 911; the jump to 20 on D_K does
# not count
jq -c 'select(.kind=="price") | ., {kind:"decision",symbol,date,action:"BUY"}' "$F" >"$T/bh.ndjson"
run_in "$T/bh.ndjson" fa-metrics --convention flag --cash 1000
near "$(get "$out" metrics cum_log_return)" "$(awk 'BEGIN { printf "%.15g", log(911/1000) }')" 1e-12 \
  "buy and hold: the jump to 20 on D_K is left out"

run_in "$F" fa-metrics --convention flag --fee 0.01
is "$rc" 2 "costs do not go with flag"
run_in "$F" fa-metrics --convention nope
is "$rc" 2 "unknown convention"
like "$(cat "$err")" "want realistic, finagent or flag" "names the three"
fa-metrics --convention flag <"$F" >"$T/m.ndjson"
run_in "$T/m.ndjson" fa-metrics --table
like "$(cat "$out")" "log ret" "table has the log return column"
done_testing
