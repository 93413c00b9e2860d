#!/usr/bin/env bash
# make demo-real in small: FinAgent and FLAG-Trader on the shipped MSFT
# slice (real closes and news), no key and no network, a few days; the
# metrics come next to buy and hold. Nothing outside the project is read.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
for p in fa-fetch fa-intel fa-retrieve fa-embed fa-reflect-low fa-reflect-high fa-tools fa-decide fa-metrics fa-policy; do
  command -v "$p" >/dev/null || { skip "fa-demo --real" "$p is not built"; done_testing; exit 0; }
done
command -v jq >/dev/null || { skip "fa-demo --real" "jq is missing"; done_testing; exit 0; }
# fa-demo runs the programs of the source tree's bin/ (the plain build):
# under the sanitizer suite it would only repeat the plain run
if [ "${FA_SUITE:-}" = san ]; then
  skip "fa-demo --real" "runs the plain build's programs; covered by the plain suite"
  done_testing
  exit 0
fi
# no endpoint, no network: fa-demo unsets the model variables; make a
# stray one fail loudly
export FA_LLM_URL=http://127.0.0.1:9/v1

# (three warm-up days: an action's reward is the P&L of the position it sets, over
# the day after its fill, so FLAG-Trader trains on at least three days)
run fa-demo --real --warmup 2020-09-28:2020-09-30 --to 2020-10-02 --timesteps 80 --out "$T/demo"
is "$rc" 0 "fa-demo --real runs a short window"
[ "$rc" -eq 0 ] || sed "s/^/#   /" "$err" | tail -n 8
ok "grep -q 'InvestorBench (MIT licence' '$err'" "it names the data and its licence"
is "$(find "$T/demo/finagent/days" -name "*.ndjson" | wc -l)" 5 "FinAgent: 3 warm-up and 2 test days"
is "$(jq -r '.symbol + " " + .source' "$T/demo/finagent/config.json")" \
  "MSFT csv:$FA_ROOT/pipelines/data/investorbench" "on the shipped slice"
is "$(jq -r .asset_type "$T/demo/finagent/config.json")" stock "as a stock"
is "$(jq -c 'select(.kind == "news" and .date == "2020-10-01")' "$T/demo/finagent/days/2020-10-01.ndjson" | wc -l)" \
  "$(jq -c 'select(.date == "2020-10-01")' "$FA_ROOT/pipelines/data/investorbench/MSFT.news.ndjson" | wc -l)" \
  "the day's real news reach the agent"
is "$(jq -r 'select(.kind == "intel") | .source' "$T/demo/finagent/days/2020-10-01.ndjson")" offline \
  "the offline analyst read them"
is "$(jq -r 'select(.kind == "metrics") | .follow' "$T/demo/finagent/metrics.ndjson" | head -n 2 | tr '\n' ' ')" \
  "decision buy_hold " "FinAgent's metrics next to buy and hold"
is "$(jq -r 'select(.kind == "metrics") | .follow' "$T/demo/flag-trader/metrics.ndjson" | tr '\n' ' ')" \
  "decision buy_hold " "FLAG-Trader's metrics next to buy and hold"
is "$(jq -c 'select(.kind == "decision")' "$T/demo/flag-trader/test.ndjson" | jq -r .date | tr '\n' ' ')" \
  "2020-10-01 2020-10-02 " "FLAG-Trader decides each test day"
ok "[ -s '$T/demo/flag-trader/ckpt/manifest.json' ]" "its checkpoint"
like "$(cat "$out")" "FinAgent on MSFT, test 2020-10-01..2020-10-02" "the report: FinAgent"
like "$(cat "$out")" "FLAG-Trader on MSFT, trained on 2020-09-28..2020-09-30" "the report: FLAG-Trader"
like "$(cat "$out")" "\| MSFT +\| buy_hold " "the report shows buy and hold"
like "$(cat "$out")" "FinAgent: 5 trading days in [0-9.]+s; FLAG-Trader: training and acting in [0-9.]+s" \
  "and how long each took"

run fa-demo --real --to 2021-06-01 --out "$T/bad"
is "$rc" 2 "a test end past the data: usage error"
ok "[ ! -e '$T/bad' ]" "and nothing made"
done_testing
