#!/usr/bin/env bash
# A real stage (fa-intel) against the loopback OpenAI-compatible fake:
# answers parsed, llm records with usage and cost, a rerun answered from
# the cache (the server sees no new request), replay with the server
# stopped giving the same bytes, the budget stop, and the key in no file
# the run wrote nor in stderr (only in the Authorization header).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1

key="sk-t0301-$$-$RANDOM$RANDOM"
cat >replies.json <<'JSON'
{"rules": [], "default": {"analysis": "fake analysis", "summary": "fake summary",
 "queries": {"short_term": "q short", "medium_term": "q medium", "long_term": "q long"}}}
JSON
printf 'fake-model\t100\t200\n' >prices.tsv
start_fake openai.py --replies replies.json --log requests.ndjson
export FA_LLM_URL=http://127.0.0.1:$port FA_MODEL=fake-model FA_API_KEY=$key
export FA_PRICES=$T/prices.tsv
fa-fetch --source synth:7 --symbol AAPL --from 2024-03-01 --to 2024-03-08 \
  --lookback 3 >week.ndjson 2>/dev/null

run_in week.ndjson fa-intel --latest
is "$rc" 0 "fa-intel against the fake"
cp "$out" first.ndjson; cp "$err" first.err
calls=$(wc -l <requests.ndjson)
ok "[ $calls -gt 0 ]" "the fake was asked ($calls requests)"
is "$(jq -s '[.[] | select(.kind == "llm")] | length' first.ndjson)" "$calls" \
  "one llm record per request"
is "$(jq -s '[.[] | select(.kind == "intel" and .summary == "fake summary")] | length' first.ndjson)" \
  "$calls" "intel records carry the model's answer"
is "$(jq -r 'select(.kind == "llm") | .model' first.ndjson | sort -u)" "fake-model" "model in the record"
like "$(jq -s '[.[] | select(.kind == "llm") | .cost_usd] | add' first.ndjson)" '^0\.[0-9]+' \
  "cost counted from the price table"

run_in week.ndjson fa-intel --latest
is "$rc" 0 "rerun"
cp "$out" second.ndjson
is "$(wc -l <requests.ndjson)" "$calls" "rerun: the server saw no new request"
is "$(jq -r 'select(.kind == "llm") | .cache_hit' second.ndjson | sort -u)" "true" "rerun: cache hits"
same_file <(jq -c 'select(.kind != "llm")' first.ndjson) <(jq -c 'select(.kind != "llm")' second.ndjson) \
  "rerun: same records"

kill "${_pids[0]}"; wait "${_pids[0]}" 2>/dev/null
FA_CACHE=replay run_in week.ndjson fa-intel --latest
is "$rc" 0 "replay with the server stopped"
same_file "$out" second.ndjson "replay: the same bytes as the cached rerun"
FA_CACHE=replay run_in week.ndjson fa-intel --latest --temperature 0.5
is "$rc" 1 "replay: a request not in the cache fails"
like "$(cat "$err")" "replay: no cached answer" "replay: says why"

start_fake openai.py --replies replies.json --log requests2.ndjson
export FA_LLM_URL=http://127.0.0.1:$port
FA_CACHE=off FA_BUDGET_USD=0.00001 FA_LEDGER=$T/ledger.tsv run_in week.ndjson fa-intel --latest
is "$rc" 1 "budget: the run stops"
like "$(cat "$err")" "budget: this call .* would exceed FA_BUDGET_USD=1e-05" "budget: says why"
ok "[ ! -s requests2.ndjson ]" "budget: no request was made"

# the key: only ever in the Authorization header the fake received
is "$(jq -r --arg k "$key" '.headers.Authorization == "Bearer " + $k' requests.ndjson | sort -u)" \
  "true" "the key arrived as Authorization: Bearer"
is "$(jq -c 'del(.headers.Authorization)' requests.ndjson | grep -c -- "$key")" 0 \
  "nowhere else in the requests"
leaks=$(grep -rl -- "$key" "$T" "$FA_CACHE_DIR" 2>/dev/null | grep -v "/requests.ndjson$" || true)
is "$leaks" "" "the key is in no file the run wrote (cache, ledger, outputs, stderr)"
done_testing
