#!/usr/bin/env bash
# No model answer crashes a stage: XML with empty element names, from the
# server and from the cache on a rerun, and a cached reply that is no chat
# completion at all, are output errors (one repair, then NONE) and the
# records passing through are kept.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
DAYS=$FIXTURES/stages/days.ndjson
{ grep -E '"date":"2023-05' "$DAYS"; grep '"date":"2023-06-01"' "$DAYS"; } >"$T/day.ndjson"
n_in=$(wc -l <"$T/day.ndjson")

for ans in '<output><string name="">x</string></output>' \
  '<output><map name=""><string name="a">x</string></map></output>' \
  '<output><string name=""/></output>'; do
  jq -n --arg a "$ans" '[{"stage":"decide","reply":$a}]' >"$T/replies.json"
  start_fake openai.py --replies "$T/replies.json"
  export FA_LLM_URL=http://127.0.0.1:$port FA_MODEL=fake FA_LLM_RETRIES=0 FA_API_KEY=k
  rm -rf "$FA_CACHE_DIR"
  for pass in fresh cached; do
    run fa-decide --from 2023-06-01 "$T/day.ndjson"
    is "$rc" 0 "$pass answer $ans: exit 0"
    is "$(grep -vcE '"kind":"(decision|llm)"' "$out")" "$n_in" "$pass: every input record passes through"
    is "$(jq -r 'select(.kind=="decision") | "\(.action) \(.reason|split(":")[0])"' "$out")" "NONE output" \
      "$pass: decision NONE, reason output"
    is "$(grep -c '"kind":"llm"' "$out")" 2 "$pass: the answer and one repair"
  done
  is "$(jq -r 'select(.kind=="llm") | .cache_hit' "$out" | sort -u)" true "the rerun read both from the cache"
  kill "${_pids[-1]}"
done

# a cached reply that is no chat completion: an unusable answer, not a crash
# or a server error; the repair asks the server again
jq -n '[{"stage":"decide","reply":{"analysis":"a","reasoning":"r","action":"HOLD"}}]' >"$T/replies.json"
start_fake openai.py --replies "$T/replies.json"
export FA_LLM_URL=http://127.0.0.1:$port
rm -rf "$FA_CACHE_DIR"
run fa-decide --from 2023-06-01 "$T/day.ndjson"
is "$(jq -r 'select(.kind=="decision") | .action' "$out")" HOLD "a good answer, cached"
for f in "$FA_CACHE_DIR"/*/*.json; do
  jq -c '.response = {"choices": "garbage"}' "$f" >"$f.new" && mv "$f.new" "$f"
done
run fa-decide --from 2023-06-01 "$T/day.ndjson"
is "$rc" 0 "a damaged cached reply: exit 0"
is "$(jq -r 'select(.kind=="llm") | "\(.call) \(.cache_hit)"' "$out" | tr '\n' ' ')" "chat true repair false " \
  "read as an unusable answer, then one repair from the server"
is "$(jq -r 'select(.kind=="decision") | .action' "$out")" HOLD "which answers"
done_testing
