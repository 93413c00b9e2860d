#!/usr/bin/env bash
# fa-reflect-high: the last N decisions from the journal, the trading
# chart, no call without history, the firewall, the fake server.
. "$(dirname "$0")/lib.sh"
DAYS=$FIXTURES/stages/days.ndjson
# a journal: a decision on every trading day in May, alternating
jq -c 'select(.kind=="price" and .date < "2023-06-01") | {kind:"decision",symbol,date,asof:.date,
  action:(if (.close|floor)%3==0 then "BUY" elif (.close|floor)%3==1 then "SELL" else "HOLD" end),
  reasoning:("reason of "+.date),id:("d"+.date)}' "$DAYS" >"$T/journal.ndjson"
grep -E '"date":"2023-06-0[1-9]"' "$DAYS" >"$T/june.ndjson"

run fa-reflect-high --journal "$T/journal.ndjson" --history "$DAYS" --save-prompts "$T" "$T/june.ndjson"
is "$rc" 0 "offline: exit 0"
is "$(grep -c '"kind":"reflect_high"' "$out")" 7 "one reflect_high per trading day"
r=$(grep '"kind":"reflect_high"' "$out" | head -n1)
is "$(jq .decisions_reviewed <<<"$r")" 14 "the last 14 decisions"
for f in reasoning improvement summary query; do
  ok "[ -n \"\$(jq -r .$f <<<'$r' | head -c 5)\" ]" "field $f"
done
p=$T/TEST-2023-06-01-reflect-high.txt
is "$(grep -c 'Reasoning then: reason of' "$p")" 14 "14 decisions in the prompt"
ok "! grep -q 'reason of 2023-05-10' '$p' && grep -q 'reason of 2023-05-31' '$p'" "the most recent ones, with their reasoning"
like "$(cat "$p")" 'Trading chart in words' "without vision the trading chart is text"
run fa-reflect-high --journal "$T/journal.ndjson" --history "$DAYS" --decisions 7 "$T/june.ndjson"
is "$(grep '"kind":"reflect_high"' "$out" | head -n1 | jq .decisions_reviewed)" 7 "--decisions 7 (crypto)"

head -n 5 "$T/journal.ndjson" >"$T/five.ndjson"
cat "$T/five.ndjson" "$T/five.ndjson" >"$T/twice.ndjson"
run fa-reflect-high --journal "$T/twice.ndjson" --history "$DAYS" --no-charts "$T/june.ndjson"
is "$(grep '"kind":"reflect_high"' "$out" | head -n1 | jq .decisions_reviewed)" 5 "a decision seen twice is reviewed once"

run fa-reflect-high "$T/june.ndjson"
is "$(grep '"kind":"reflect_high"' "$out" | head -n1 | jq -r '"\(.decisions_reviewed) \(.source)"')" "0 none" \
  "no past decisions: says so"
is "$(grep -c '"kind":"llm"' "$out")" 0 "and makes no call"

# the firewall: a journal decision made with hindsight past the day
jq -c 'if .date == "2023-05-31" then .asof = "2023-06-20" else . end' "$T/journal.ndjson" >"$T/leak.ndjson"
run fa-reflect-high --journal "$T/leak.ndjson" --history "$DAYS" "$T/june.ndjson"
like "$(grep '"kind":"error"' "$out" | head -n1 | jq -r .message)" 'firewall: decision record d2023-05-31 has asof 2023-06-20, after 2023-06-01 at .*leak.ndjson:[0-9]+' \
  "a journal record from the future is refused"
run fa-reflect-high --journal "$T/leak.ndjson" --history "$DAYS" --hindsight-end 2023-06-30 "$T/june.ndjson"
is "$(grep -c '"kind":"error"' "$out")" 0 "within --hindsight-end it is admitted"
is "$(grep '"kind":"reflect_high"' "$out" | head -n1 | jq -r .asof)" 2023-06-20 "and the reflection's asof says so"

if command -v gnuplot >/dev/null 2>&1; then
  mkdir -p "$T/c1" "$T/c2"
  run fa-reflect-high --journal "$T/journal.ndjson" --history "$DAYS" --charts "$T/c1" "$T/june.ndjson"
  run fa-reflect-high --journal "$T/journal.ndjson" --history "$DAYS" --charts "$T/c2" "$T/june.ndjson"
  same_file "$T/c1/TEST-2023-06-05-trading.png" "$T/c2/TEST-2023-06-05-trading.png" "trading chart: same days, same bytes"
else
  skip "trading chart determinism" "gnuplot not installed"
fi

cat >"$T/replies.json" <<'J'
[{"stage":"reflect-high","reply":"<output><string name=\"reasoning\">r</string><string name=\"improvement\">i</string><string name=\"summary\">fake lessons</string><string name=\"query\">q q q q q q</string></output>"}]
J
start_fake openai.py --replies "$T/replies.json" --log "$T/log.ndjson"
export FA_LLM_URL=http://127.0.0.1:$port FA_MODEL=fake FA_LLM_RETRIES=0 FA_API_KEY=k
grep '"date":"2023-06-01"' "$T/june.ndjson" >"$T/d1.ndjson"
run fa-reflect-high --journal "$T/journal.ndjson" --history "$DAYS" --no-charts "$T/d1.ndjson"
is "$(grep '"kind":"reflect_high"' "$out" | jq -r .summary)" "fake lessons" "fake: an XML answer is parsed"
is "$(grep -c '"kind":"llm"' "$out")" 1 "one llm record"
done_testing
