#!/usr/bin/env bash
# fa-intel: --latest and --past with the offline analyst and against the
# fake OpenAI-compatible server (JSON, XML and broken replies); weekend
# news carried; sampling of busy days; the firewall.
. "$(dirname "$0")/lib.sh"
DAYS=$FIXTURES/stages/days.ndjson

# offline: one intel record per trading day of June, input passed through
run_in "$DAYS" fa-intel --latest --from 2023-06-01 --save-prompts "$T"
is "$rc" 0 "latest offline: exit 0"
is "$(grep -c '"kind":"intel"' "$out")" 7 "one intel record per trading day from --from"
is "$(grep -vE '"kind":"(intel|llm)"' "$out" | cmp - "$DAYS" && echo same)" same \
  "every input record passes through unchanged, in order"
is "$(grep -c '"kind":"llm"' "$out")" 6 "one llm record per call (the day without news makes none)"
like "$(grep '"date":"2023-06-06","asof":"2023-06-06","news_count":0' "$out")" 'No news about TEST' \
  "a day without news gets a record that says so"
sat=$(grep '"date":"2023-06-03"' "$DAYS" | jq -r .id)
like "$(grep '"kind":"intel"' "$out" | grep '"date":"2023-06-05"' | jq -r '.news_ids|join(" ")')" "$sat" \
  "weekend news is carried to the next trading day"
d2=$(grep '"kind":"intel"' "$out" | grep '"date":"2023-06-02"')
is "$(jq -r '"\(.news_count) \(.news_shown)"' <<<"$d2")" "25 20" "a busy day shows 20 of 25 items"
like "$(cat "$T/TEST-2023-06-02-intel-latest.txt")" 'There were 25 items; 20 of them, chosen at random \(seed 42\)' \
  "the prompt says the items were sampled"
is "$(jq -r '.queries|keys|join(",")' <<<"$d2")" "long_term,medium_term,short_term" "queries per horizon"
ok "! jq -r '.queries[]' <<<'$d2' | grep -qi test" "queries leave the ticker out"
like "$(jq -r .summary <<<"$d2")" 'offline analyst.*Overall sentiment' "offline summary says what it is"
run_in "$DAYS" fa-intel --latest --from 2023-06-01 --seed 7
s7=$(grep '"date":"2023-06-02"' "$out" | grep '"kind":"intel"' | jq -c .news_ids)
run_in "$DAYS" fa-intel --latest --from 2023-06-01
s42=$(grep '"date":"2023-06-02"' "$out" | grep '"kind":"intel"' | jq -c .news_ids)
is "$s42" "$(jq -c .news_ids <<<"$d2")" "the same seed gives the same sample"
[ "$s7" != "$s42" ]
is "$?" 0 "another seed gives another sample"

# --past: hits from the fixture; a day with no hits makes no call
cat >"$T/hits.ndjson" <<'J'
{"kind":"price","symbol":"TEST","date":"2023-06-09","asof":"2023-06-09","open":1,"high":2,"low":1,"close":2,"id":"p9"}
{"kind":"intel","symbol":"TEST","date":"2023-06-09","asof":"2023-06-09","summary":"Good news. Overall sentiment: positive","id":"i9"}
{"kind":"hit","symbol":"TEST","date":"2023-06-09","asof":"2023-05-02","store":"m","type":"short_term","rank":1,"score":0.9,"query":"q","memory":{"kind":"news","symbol":"TEST","date":"2023-05-02","asof":"2023-05-02","title":"Record profit beats estimates","text":"Strong growth.","id":"n1"},"id":"h1"}
{"kind":"hit","symbol":"TEST","date":"2023-06-09","asof":"2023-05-02","store":"m","type":"long_term","rank":1,"score":0.8,"query":"q","memory":{"kind":"news","symbol":"TEST","date":"2023-05-02","asof":"2023-05-02","title":"Record profit beats estimates","text":"Strong growth.","id":"n1"},"id":"h2"}
{"kind":"price","symbol":"TEST","date":"2023-06-12","asof":"2023-06-12","open":1,"high":2,"low":1,"close":2,"id":"p12"}
J
run_in "$T/hits.ndjson" fa-intel --past --history "$DAYS"
is "$rc" 0 "past offline: exit 0"
is "$(grep -c '"kind":"intel_past"' "$out")" 2 "one intel_past per trading day"
is "$(grep '"kind":"intel_past"' "$out" | head -n1 | jq .hit_count)" 1 "the same memory twice is shown once"
like "$(grep '"kind":"intel_past"' "$out" | head -n1 | jq -r .analysis)" '2023-05-02.*Record profit.*[+-][0-9.]+%' \
  "past item with its date and the later price move"
is "$(grep '"kind":"intel_past"' "$out" | tail -n1 | jq -r '"\(.hit_count) \(.source)"')" "0 none" \
  "no hits: says so"
is "$(grep -c '"kind":"llm"' "$out")" 1 "no hits: no model call"

# the firewall: a news item whose asof is after its day is refused
jq -c 'if .kind == "news" and .date == "2023-06-07" then .asof = "2023-06-20" else . end' "$DAYS" >"$T/leak.ndjson"
leak=$(grep '"asof":"2023-06-20"' "$T/leak.ndjson" | jq -r .id)
run fa-intel --latest --from 2023-06-07 "$T/leak.ndjson"
is "$rc" 0 "a refused record is an error record, the stream goes on"
like "$(grep '"kind":"error"' "$out" | jq -r .message)" "firewall: news record $leak has asof 2023-06-20, after 2023-06-07 at .*leak.ndjson:[0-9]+" \
  "the error names kind, id, asof and file:line"
is "$(grep '"kind":"intel"' "$out" | grep '"date":"2023-06-07"' | jq .news_count)" 0 "the refused item is not used"
run_in "$T/leak.ndjson" fa-intel --latest --from 2023-06-07 --strict
is "$rc" 1 "--strict: a refusal is fatal"
run_in "$T/leak.ndjson" fa-intel --latest --from 2023-06-07 --hindsight-end 2023-06-30
is "$(grep -c '"kind":"error"' "$out")" 0 "--hindsight-end admits warm-up records"

# the fake server: JSON, XML, broken
cat >"$T/replies.json" <<'J'
[{"stage":"intel-latest","reply":{"analysis":"[1] short_term positive: fake","summary":"Fake summary. Overall sentiment: positive","queries":{"short_term":"a b c d e f","medium_term":"g h i j k l","long_term":"m n o p q r"}}}]
J
start_fake openai.py --replies "$T/replies.json" --log "$T/log.ndjson"
export FA_LLM_URL=http://127.0.0.1:$port FA_MODEL=fake-model FA_LLM_RETRIES=0 FA_API_KEY=k
head -n 40 "$DAYS" | grep -E '"date":"2023-06-0[12]"' >"$T/two.ndjson"
run_in "$T/two.ndjson" fa-intel --latest
is "$rc" 0 "fake json: exit 0"
is "$(grep '"kind":"intel"' "$out" | head -n1 | jq -r .summary)" "Fake summary. Overall sentiment: positive" "fake json: the model's fields"
is "$(grep '"kind":"llm"' "$out" | head -n1 | jq -r .model)" fake-model "llm record names the model"
like "$(head -n1 "$T/log.ndjson" | jq -r '.body.messages[1].content')" "Step: read today's market intelligence" \
  "the request carries the rendered prompt"
FA_CACHE=off run_in "$T/two.ndjson" fa-intel --latest
n_before=$(wc -l <"$T/log.ndjson")
curl -s -X POST -d '{"spec":"xml:1@chat"}' "http://127.0.0.1:$port/_fault" >/dev/null
FA_CACHE=off run_in "$T/two.ndjson" fa-intel --latest
is "$(grep '"kind":"intel"' "$out" | head -n1 | jq -r .summary)" "Fake summary. Overall sentiment: positive" "fake xml reply parsed"
curl -s -X POST -d '{"spec":"prose:4@chat"}' "http://127.0.0.1:$port/_fault" >/dev/null
FA_CACHE=off run_in "$T/two.ndjson" fa-intel --latest
is "$rc" 0 "broken reply: the stream goes on"
is "$(grep -c '"kind":"intel"' "$out")" 0 "broken reply: no intel record"
like "$(grep '"kind":"error"' "$out" | head -n1 | jq -r .message)" "model call failed \(output\)" "broken reply: an error record"
ok "[ $(wc -l <"$T/log.ndjson") -gt $n_before ]" "the fake saw the requests"
done_testing
