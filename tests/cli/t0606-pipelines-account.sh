#!/usr/bin/env bash
# fa-day's account: the decision of day t sees the account as of day t
# before its decision. Realistic: yesterday's order filled at today's open
# (so a BUY yesterday is a position today, and a SELL is then legal);
# finagent: yesterday's trade filled at yesterday's close. The journal's
# account of the day (asked NONE: no decision yet) stays out of the day's
# stream.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
for p in fa-fetch fa-decide fa-metrics; do
  command -v "$p" >/dev/null || { skip "fa-day account" "$p is not built"; done_testing; exit 0; }
done
# A model that buys when flat and sells when it holds shares.
cat >"$T/replies.json" <<'J'
[{"stage":"decide","contains":"position 0 shares","reply":{"analysis":"flat","reasoning":"buy","action":"BUY"}},
 {"stage":"decide","reply":{"analysis":"long","reasoning":"sell","action":"SELL"}}]
J
start_fake openai.py --replies "$T/replies.json" --log "$T/log.ndjson"
export FA_LLM_URL=http://127.0.0.1:$port FA_MODEL=fake FA_LLM_RETRIES=0 FA_API_KEY=k
export FA_LEDGER=$T/ledger.tsv
days=(2023-03-06 2023-03-07 2023-03-08)
# runday RUN CONVENTION DATE
runday() {
  run fa-day -q --out "$1" --convention "$2" --date "$3" --since "${days[0]}" \
    --symbol SYN --source synth:7 --without intel,low,high,tools --no-charts
  is "$rc" 0 "$2: $3 runs"
  [ "$rc" -eq 0 ] || sed "s/^/#   /" "$err" | tail -n 5
}
# dec RUN DATE JQ: a jq expression on the day's decision record
dec() { jq -r "select(.kind == \"decision\" and .date == \"$2\") | $3" "$1/days/$2.ndjson"; }
acc() { jq -r "select(.kind == \"account\" and .date == \"$2\") | $3" "$1/days/$2.ndjson"; }

# ---- realistic ----
R=$T/real
for d in "${days[@]}"; do runday "$R" realistic "$d"; done
is "$(dec "$R" 2023-03-06 '"\(.account.position) \(.action) \(.done)"')" "0 BUY BUY" \
  "day t: flat, the model buys"
is "$(acc "$R" 2023-03-06 .position)" 0 "day t's account: the order has not filled yet"
pos=$(dec "$R" 2023-03-07 .account.position)
ok "[ '$pos' -gt 0 ]" "day t+1's decision sees the shares bought at t+1's open ($pos)"
is "$(dec "$R" 2023-03-07 .account.from)" 2023-03-07 "from day t+1's own account, before its decision"
is "$(dec "$R" 2023-03-07 '"\(.account.cash) \(.account.position)"')" \
  "$(acc "$R" 2023-03-07 '"\(.cash) \(.position)"')" "the same cash and position as that day's account record"
is "$(acc "$R" 2023-03-07 '"\(.done) \(.shares)"')" "BUY $pos" "which filled day t's BUY"
open=$(jq -r 'select(.kind == "price" and .date == "2023-03-07") | .open * .adj_close / .close' \
  "$R/days/2023-03-07.ndjson" | head -n 1)
ok "awk -v f=\"\$(acc '$R' 2023-03-07 .fill_price)\" -v o='$open' 'BEGIN { exit !(f >= o && f < o * 1.001) }'" \
  "at t+1's open (plus slippage)"
is "$(dec "$R" 2023-03-07 '"\(.action) \(.done) \(.note // "-")"')" "SELL SELL -" "so a SELL on t+1 is legal"
is "$(dec "$R" 2023-03-08 '"\(.account.position) \(.action) \(.done)"')" "0 BUY BUY" \
  "and on t+2 the SELL has filled: flat again"
prompt=$(jq -r 'select(.stage == "decide") | .body.messages[-1].content | if type == "array" then map(.text // "") | join("") else . end' \
  "$T/log.ndjson" | grep -c "position $pos shares")
is "$prompt" 1 "the model's prompt of t+1 shows the position"
is "$(jq -c 'select(.kind == "account")' "$R"/days/*.ndjson | wc -l)" 3 "one account record per day file"
is "$(jq -c 'select(.kind == "account" and .action == "NONE")' "$R"/days/*.ndjson | wc -l)" 0 \
  "the journal's account before the decision stays out of the streams"
is "$(jq -c 'select(.kind == "error")' "$R"/days/*.ndjson | wc -l)" 0 "nothing refused"
# the run's metrics, as fa-run computes them: no day without a decision
m=$(for d in "${days[@]}"; do jq -c --arg d "$d" 'select(.date == $d and (.kind == "price" or .kind == "decision"))' "$R/days/$d.ndjson"; done |
  fa-metrics -q | jq -r 'select(.kind == "metrics") | "\(.none_days) \(.buy_days) \(.sell_days)"')
is "$m" "0 2 1" "metrics: no NONE day, the two BUYs and the SELL"

# ---- finagent: fills at the decision day's close ----
F=$T/fin
for d in "${days[@]:0:2}"; do runday "$F" finagent "$d"; done
pos=$(dec "$F" 2023-03-07 .account.position)
ok "[ '$pos' -gt 0 ]" "finagent: day t+1 sees day t's BUY ($pos shares)"
is "$(dec "$F" 2023-03-07 .account.from)" 2023-03-06 "finagent: from day t's account"
is "$(dec "$F" 2023-03-07 '"\(.action) \(.done)"')" "SELL SELL" "finagent: a SELL on t+1 is legal"
done_testing
