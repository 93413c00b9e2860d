#!/usr/bin/env bash
# fa-reflect-low: moves, the Kline chart (deterministic bytes), hindsight
# that never passes --hindsight-end, the firewall, the fake server.
. "$(dirname "$0")/lib.sh"
DAYS=$FIXTURES/stages/days.ndjson

run_in "$DAYS" fa-reflect-low --from 2023-06-05 --save-prompts "$T"
is "$rc" 0 "offline: exit 0"
is "$(grep -c '"kind":"reflect_low"' "$out")" 5 "one reflect_low per trading day from --from"
is "$(grep -vE '"kind":"(reflect_low|llm)"' "$out" | cmp - "$DAYS" && echo same)" same "input passes through"
r=$(grep '"kind":"reflect_low"' "$out" | tail -n1)
is "$(jq -r '.reasoning|keys|join(",")' <<<"$r")" "long_term,medium_term,short_term" "reasoning per horizon"
ok "[ -n \"$(jq -r .query <<<"$r")\" ]" "a query"
is "$(jq -r '"\(.asof) \(.hindsight)"' <<<"$r")" "2023-06-09 false" "asof is the day without hindsight"
p=$T/TEST-2023-06-09-reflect-low.txt
like "$(cat "$p")" 'over the last 14 trading days \(since 2023-05-19\)' "the prompt states the 14-day move"
like "$(cat "$p")" 'Kline chart as a table \(15 bars' "without vision the chart is a table of 15 bars"
ok "! grep -q 'Hindsight' '$p'" "no hindsight in a normal pass"

# hindsight: future bars from --history, never past --hindsight-end
head -n 1 "$DAYS" >"$T/one.ndjson"
grep '"date":"2023-06-01"' "$DAYS" | head -n1 >"$T/d1.ndjson"
run_in "$T/d1.ndjson" fa-reflect-low --history "$DAYS" --hindsight --hindsight-end 2023-06-07 --save-prompts "$T"
is "$rc" 0 "hindsight: exit 0"
r=$(grep '"kind":"reflect_low"' "$out")
is "$(jq -r .asof <<<"$r")" 2023-06-07 "asof is the last day seen, the hindsight end"
p=$T/TEST-2023-06-01-reflect-low.txt
like "$(cat "$p")" 'over the next 1 trading day \(to 2023-06-02\)' "next day's move stated"
like "$(cat "$p")" 'over the next 7 trading days: not enough price history' "nothing past --hindsight-end"
ok "! grep -qE '2023-06-0[89]' '$p'" "no bar after --hindsight-end in the prompt"
is "$(jq -r .future.d7 <<<"$r")" null "the 7-day move past the end is unknown"
run_in "$T/d1.ndjson" fa-reflect-low --history "$DAYS" --hindsight
is "$rc" 2 "--hindsight without --hindsight-end: usage error"
run_in "$T/d1.ndjson" fa-reflect-low --history "$DAYS"
is "$(grep '"kind":"reflect_low"' "$out" | jq -r .asof)" 2023-06-01 "history after the day is not used without --hindsight"

# the firewall: an intel record that knows the future
{ grep '"date":"2023-06-01"' "$DAYS" | head -n1
  echo '{"kind":"intel","symbol":"TEST","date":"2023-06-01","asof":"2023-06-05","summary":"leak","id":"feed"}'; } >"$T/leak.ndjson"
run fa-reflect-low --history "$DAYS" "$T/leak.ndjson"
like "$(grep '"kind":"error"' "$out" | jq -r .message)" 'firewall: intel record feed has asof 2023-06-05, after 2023-06-01 at .*leak.ndjson:2' \
  "a record from the future is refused, named"
is "$(grep '"kind":"reflect_low"' "$out" | jq -r .asof)" 2023-06-01 "and not used"

# charts: same bars, same bytes; gnuplot missing is exit 2
if command -v gnuplot >/dev/null 2>&1; then
  mkdir -p "$T/c1" "$T/c2"
  run_in "$DAYS" fa-reflect-low --from 2023-06-08 --charts "$T/c1"
  run_in "$DAYS" fa-reflect-low --from 2023-06-08 --charts "$T/c2"
  same_file "$T/c1/TEST-2023-06-09-kline.png" "$T/c2/TEST-2023-06-09-kline.png" "kline chart: same bars, same bytes"
  is "$(head -c 8 "$T/c1/TEST-2023-06-09-kline.png" | od -An -tx1 | tr -d ' ')" 89504e470d0a1a0a "a PNG"
  is "$(grep '"date":"2023-06-09"' "$out" | grep reflect_low | jq -r .chart)" "$T/c2/TEST-2023-06-09-kline.png" "the record names its chart"
  FA_GNUPLOT=/nonexistent/gnuplot run_in "$DAYS" fa-reflect-low --charts "$T/c1"
  is "$rc" 2 "gnuplot missing: exit 2"
  like "$(cat "$err")" 'gnuplot.*not an executable.*--no-charts' "gnuplot missing: a clear message"
else
  skip "kline chart determinism" "gnuplot not installed"
fi

# the fake server with vision: the chart goes as an image
cat >"$T/replies.json" <<'J'
[{"stage":"reflect-low","reply":{"reasoning":{"short_term":"s","medium_term":"m","long_term":"l"},"query":"fake query about a rising trend"}}]
J
start_fake openai.py --replies "$T/replies.json" --log "$T/log.ndjson"
export FA_LLM_URL=http://127.0.0.1:$port FA_MODEL=fake-vision FA_LLM_RETRIES=0 FA_API_KEY=k
if command -v gnuplot >/dev/null 2>&1; then
  run_in "$T/d1.ndjson" fa-reflect-low --history "$DAYS"
  is "$rc" 0 "fake: exit 0"
  is "$(grep '"kind":"reflect_low"' "$out" | jq -r .query)" "fake query about a rising trend" "fake: the model's query"
  like "$(jq -r '.body.messages[1].content[]? | select(.type=="image_url") | .image_url.url' "$T/log.ndjson" | head -c 30)" '^data:image/png;base64,' \
    "the Kline chart is sent as a PNG image"
else
  skip "vision request" "gnuplot not installed"
fi
run_in "$T/d1.ndjson" fa-reflect-low --history "$DAYS" --no-charts
is "$(grep '"kind":"reflect_low"' "$out" | jq -r .query)" "fake query about a rising trend" "--no-charts works with a model"
like "$(tail -n1 "$T/log.ndjson" | jq -r '.body.messages[1].content|strings')" 'Kline chart as a table' "--no-charts: the chart is text"
done_testing
