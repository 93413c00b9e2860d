#!/usr/bin/env bash
# Replay: a short run through the fake OpenAI-compatible server (canned
# replies), then the same run with FA_CACHE=replay and the server stopped:
# identical decisions and streams, every call answered from the cache, zero
# requests. And replay without the cache fails instead of guessing.
. "$(dirname "$0")/lib.sh"
if [ "${FA_SUITE:-plain}" = san ]; then
  skip "replay" "the replay proof reruns whole pipelines; plain suite only (the cache replay path runs under the sanitizers in t0301)"; done_testing; exit 0
fi
for p in fa-fetch fa-intel fa-retrieve fa-embed fa-reflect-low fa-reflect-high fa-tools fa-decide fa-metrics; do
  command -v "$p" >/dev/null || { skip "replay" "$p is not built"; done_testing; exit 0; }
done
command -v python3 >/dev/null || { skip "replay" "python3 is missing"; done_testing; exit 0; }
start_fake openai.py --replies "$FIXTURES/pipelines/replies.json" --log "$T/requests.log"
export FA_LLM_URL=http://127.0.0.1:$port/v1 FA_MODEL=fake-chat FA_EMBED_MODEL=fake-embed
args=(--symbol SYN --source synth:5 --warmup 2023-03-02:2023-03-03 --test 2023-03-06:2023-03-09 -q)

run fa-run "${args[@]}" --out "$T/a"
is "$rc" 0 "a run through the fake server"
sed 's/^/# /' "$err" | head -n 5
n1=$(wc -l <"$T/requests.log")
ok "[ '$n1' -gt 0 ]" "it made requests ($n1)"
stages=$(jq -r 'select(.kind == "llm") | .stage' "$T"/a/days/*.ndjson | sort -u | tr '\n' ' ')
for s in intel-latest intel-past reflect-low reflect-high decide; do
  like "$stages" "$s" "the $s stage called the model"
done
is "$(jq -r 'select(.kind == "decision") | .action' "$T/a/days/2023-03-08.ndjson")" SELL \
  "the canned replies reach the decisions"

curl -s -X POST "http://127.0.0.1:$port/_shutdown" >/dev/null 2>&1 || true
for p in "${_pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
_pids=()
ok "! curl -s --max-time 1 'http://127.0.0.1:$port/_stats' >/dev/null" "the server is stopped"

FA_CACHE=replay run fa-run "${args[@]}" --out "$T/b"
is "$rc" 0 "the same run replayed with the server stopped"
[ "$rc" = 0 ] || sed 's/^/# /' "$err"
sed 's/^/# /' "$err" | head -n 5
is "$(wc -l <"$T/requests.log")" "$n1" "zero requests"
is "$(jq -c 'select(.kind == "decision")' "$T"/b/days/*.ndjson | md5sum)" \
  "$(jq -c 'select(.kind == "decision")' "$T"/a/days/*.ndjson | md5sum)" "identical decisions"
strip() { jq -c 'select(.kind != "llm")' "$1"; }
same=0
for f in "$T"/a/days/*.ndjson; do
  cmp -s <(strip "$f") <(strip "$T/b/days/${f##*/}") || same=1
done
is "$same" 0 "identical day streams (llm records aside)"
same_file "$T/a/metrics.ndjson" "$T/b/metrics.ndjson" "identical metrics"
misses=$(jq -c 'select(.kind == "llm" and ((.cache_hit // .cached) != true))' "$T"/b/days/*.ndjson | wc -l)
is "$misses" 0 "every call of the replay was a cache hit"
hits=$(jq -c 'select(.kind == "llm" and .cache_hit == true)' "$T"/b/days/*.ndjson | wc -l)
is "$(awk -F'|' '/^\| \*\*total/ { gsub(/ /, "", $7); print $7 }' "$T/b/ledger.md")" "$hits" \
  "the ledger counts them as cache hits ($hits)"
is "$(awk -F'|' '/^\| \*\*total/ { gsub(/ /, "", $3); print $3 }' "$T/b/ledger.md")" \
  "$(awk -F'|' '/^\| \*\*total/ { gsub(/ /, "", $3); print $3 }' "$T/a/ledger.md")" "and the same number of calls"

FA_CACHE=replay FA_CACHE_DIR=$T/empty run fa-run "${args[@]}" --out "$T/c"
ok "[ '$rc' -ne 0 ]" "replay with an empty cache fails"
like "$(cat "$err")" "replay" "and says it was a replay miss"
ok "[ ! -e '$T/c/days/2023-03-02.ndjson' ]" "leaving no day behind"
done_testing
