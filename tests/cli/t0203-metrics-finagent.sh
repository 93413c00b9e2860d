#!/usr/bin/env bash
# fa-metrics --convention finagent on a five-day example worked by hand
# (the same numbers as tests/unit/test_market.c):
#   cash 1000, fee 0.001, adj_close 100 110 99 105 120, BUY HOLD SELL BUY
#   (the SELL on D4 = D_K is never acted on, D4 is never valued)
#   D0 BUY 9 shares: cash 99.1, V 999.1;  D1 V 99.1 + 990 = 1089.1
#   D2 SELL: 9*99*0.999 = 890.109, V 989.209
#   D3 BUY 9 at 105 + 0.945: cash 43.264, V 988.264
#   returns [0, -0.0009, ...], N = 5, ARR = (0.988264-1)/5*252 = -0.5914944
#   MDD = (1.0891 - 0.988264)/1.0891 = 0.0925865
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=../fixtures/markets/json.sh
. "$FIXTURES/markets/json.sh"
F=$FIXTURES/markets/fin5.ndjson

run_in "$F" fa-metrics --convention finagent --cash 1000
is "$rc" 0 "finagent run"
is "$(head -n 10 "$out")" "$(cat "$F")" "input passes through first"
is "$(count "$out" account)" 4 "D0..D3 stepped, no account for D_K"
i=0
for want in 999.1 1089.1 989.209 988.264; do
  i=$((i + 1)); near "$(get "$out" account value | sed -n "${i}p")" "$want" 1e-9 "value on D$((i - 1)) by hand"
done
is "$(get "$out" account position | tr '\n' ' ')" "9 9 0 9 " "positions"
is "$(get "$out" account 'done' | tr '\n' ' ')" "BUY HOLD SELL BUY " "actions done"
is "$(get "$out" account fill_price | tr '\n' ' ')" "100 null 99 105 " "fills at adj_close"
near "$(get "$out" metrics arr)" -0.5914944 1e-9 "ARR"
near "$(get "$out" metrics mdd)" 0.0925865393444128 1e-9 "MDD"
near "$(get "$out" metrics total_return)" -0.011736 1e-12 "total return"
is "$(get "$out" metrics n)" 5 "N = 5 returns"
is "$(get "$out" metrics days)" 4 "4 stepped days"
is "$(get "$out" metrics from) $(get "$out" metrics to)" "2024-03-04 2024-03-08" "period D_0..D_K"
is "$(get "$out" metrics convention)" finagent "convention named"
is "$(get "$out" metrics date)" 2024-03-08 "the metrics record is dated D_K"
python3 - "$out" >"$T/want" <<'PY'
# SR, VOL, CR, SOR from the returns by their formulas
import json, math, sys
v = [1000, 999.1, 1089.1, 989.209, 988.264]
r = [0] + [v[i] / v[i - 1] - 1 for i in range(1, 5)]
mu = sum(r) / 5
sd = math.sqrt(sum((x - mu) ** 2 for x in r) / 5)
neg = [x for x in r if x < 0]
nm = sum(neg) / len(neg)
nsd = math.sqrt(sum((x - nm) ** 2 for x in neg) / len(neg))
mdd = (1.0891 - 0.988264) / 1.0891
print(mu / sd * math.sqrt(5), sd, mu * 252 / mdd, mu * 252 / nsd)
PY
read -r sr vol cr sor <"$T/want"
near "$(get "$out" metrics sr)" "$sr" 1e-9 "SR = mean/std*sqrt(N)"
near "$(get "$out" metrics vol)" "$vol" 1e-12 "VOL = population std"
near "$(get "$out" metrics cr)" "$cr" 1e-9 "CR"
near "$(get "$out" metrics sor)" "$sor" 1e-9 "SOR"

# a sub-period: D_0 = 03-05 (HOLD with no position), D_K = 03-07
run_in "$F" fa-metrics --convention finagent --cash 1000 --from 2024-03-05 --to 2024-03-07
is "$(get "$out" account date | tr '\n' ' ')" "2024-03-05 2024-03-06 " "--from/--to bound the days"
is "$(get "$out" account 'done' | tr '\n' ' ')" "HOLD HOLD " "SELL without a position is done as HOLD"
is "$(get "$out" metrics refused)" 1 "and counted as refused"

# FA_CONVENTION and the default fee
FA_CONVENTION=finagent run_in "$F" fa-metrics
is "$(get "$out" metrics convention)" finagent "FA_CONVENTION picks the convention"
is "$(get "$out" metrics fee)" 0.001 "fee 0.1% by default"
is "$(get "$out" metrics start_value)" 10000 "cash 10000 by default"
FA_CONVENTION=finagent run_in "$F" fa-metrics --convention realistic
is "$(get "$out" metrics convention)" realistic "the flag beats the environment"

# following a tool's signals: decisions are ignored, signals traded
fa-tools --strategy buy_hold,zmr <"$F" >"$T/sig"
run_in "$T/sig" fa-metrics --convention finagent --cash 1000 --follow buy_hold
is "$rc" 0 "--follow buy_hold"
is "$(get "$out" account action | tr '\n' ' ')" "BUY BUY BUY BUY " "buy_hold's actions, not the decisions"
is "$(get "$out" metrics follow)" buy_hold "follow named in metrics"
is "$(get "$out" account position | tr '\n' ' ')" "9 9 10 10 " "a BUY when invested spends the leftover (99.1 buys one at 99)"
done_testing
