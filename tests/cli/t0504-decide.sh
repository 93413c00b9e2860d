#!/usr/bin/env bash
# fa-decide: decisions offline and from the fake server; ablations drop
# their prompt parts; impossible actions recorded as asked and done; NONE
# on garbage; preferences; the firewall; the account of the day before its
# decision.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
DAYS=$FIXTURES/stages/days.ndjson
# a day stream as the earlier stages would leave it
{ grep -E '"date":"2023-05' "$DAYS"
  grep '"date":"2023-06-01"' "$DAYS"
  cat <<'J'
{"kind":"intel","symbol":"TEST","date":"2023-06-01","asof":"2023-06-01","summary":"Strong results. Overall sentiment: positive","analysis":"a","queries":{},"id":"i1"}
{"kind":"intel_past","symbol":"TEST","date":"2023-06-01","asof":"2023-06-01","summary":"Past good news was followed by rises.","analysis":"a","id":"ip1"}
{"kind":"reflect_low","symbol":"TEST","date":"2023-06-01","asof":"2023-06-01","reasoning":{"short_term":"LOWTEXT rising"},"query":"q","id":"rl1"}
{"kind":"reflect_high","symbol":"TEST","date":"2023-06-01","asof":"2023-06-01","reasoning":"HIGHTEXT","improvement":"i","summary":"s","query":"q","id":"rh1"}
{"kind":"hit","symbol":"TEST","date":"2023-06-01","asof":"2023-05-10","type":"query","memory":{"kind":"reflect_low","date":"2023-05-10","asof":"2023-05-10","reasoning":{"short_term":"OLDLOW"},"id":"m1"},"id":"h1"}
{"kind":"signal","symbol":"TEST","date":"2023-06-01","asof":"2023-06-01","tool":"macd","action":"BUY","explanation":"SIGTEXT crossing","past_return":0.02,"id":"s1"}
{"kind":"guidance","symbol":"TEST","date":"2023-06-01","asof":"2023-06-01","title":"Desk","text":"GUIDETEXT upside","sentiment":"positive","id":"g1"}
J
} >"$T/day.ndjson"

run fa-decide --save-prompts "$T" --from 2023-06-01 "$T/day.ndjson"
is "$rc" 0 "offline: exit 0"
is "$(grep -c '"kind":"decision"' "$out")" 1 "one decision for the day"
is "$(grep -vE '"kind":"(decision|llm)"' "$out" | cmp - "$T/day.ndjson" && echo same)" same "input passes through"
dec=$(grep '"kind":"decision"' "$out")
is "$(jq -r .action <<<"$dec")" BUY "good news, signals and guidance, cash: BUY"
is "$(jq -r '"\(.done) \(.preference) \(.sections|join(","))"' <<<"$dec")" "BUY aggressive intel,low,high,tools" \
  "done, preference and the parts used"
is "$(jq -r .account.cash <<<"$dec")" 10000 "the starting account"
p=$T/TEST-2023-06-01-decide.txt
for w in 'Strong results' 'Past good news' LOWTEXT OLDLOW HIGHTEXT SIGTEXT GUIDETEXT 'aggressive trader' 'cash 10000.00'; do
  ok "grep -q '$w' '$p'" "the prompt has $w"
done

# ablations: each part drops cleanly
for part in intel:'Market intelligence today' low:'Reflection on recent price' high:'Review of recent decisions' tools:'Rule-based strategies'; do
  name=${part%%:*} head=${part#*:}
  mkdir -p "$T/$name"
  run fa-decide --without "$name" --save-prompts "$T/$name" --from 2023-06-01 "$T/day.ndjson"
  q=$T/$name/TEST-2023-06-01-decide.txt
  ok "! grep -q '$head' '$q' && ! grep -q '{{' '$q'" "--without $name drops its part"
  ok "! grep -qzP '\n\n\n' '$q'" "--without $name leaves no hole"
  like "$(grep '"kind":"decision"' "$out" | jq -r '.sections|join(",")')" "^[a-z,]*$" "--without $name: sections listed"
done
mkdir -p "$T/none"
run fa-decide --without intel,low,high,tools --save-prompts "$T/none" --from 2023-06-01 "$T/day.ndjson"
is "$(grep '"kind":"decision"' "$out" | jq -r '"\(.action) \(.sections|length)"')" "HOLD 0" "no evidence at all: HOLD"
grep -vE '"kind":"(intel|intel_past)"' "$T/day.ndjson" >"$T/nointel.ndjson"
mkdir -p "$T/absent"
run fa-decide --save-prompts "$T/absent" --from 2023-06-01 "$T/nointel.ndjson"
ok "! grep -q 'Market intelligence today' '$T/absent/TEST-2023-06-01-decide.txt'" "absent intel records drop the part too"

# preferences
mkdir -p "$T/pref"
run fa-decide --preference conservative --save-prompts "$T/pref" --from 2023-06-01 "$T/day.ndjson"
like "$(cat "$T/pref/TEST-2023-06-01-decide.txt")" 'conservative trader' "--preference conservative"
run fa-decide --preference reckless "$T/day.ndjson"
is "$rc" 2 "unknown preference: exit 2"
echo "You only buy on Mondays." >"$T/mine.txt"
FA_PREFERENCE=$T/mine.txt run fa-decide --save-prompts "$T/pref" --from 2023-06-01 "$T/day.ndjson"
like "$(cat "$T/pref/TEST-2023-06-01-decide.txt")" 'only buy on Mondays' "a preference file through FA_PREFERENCE"

# the account: the previous day's account record
{ grep -E '"date":"2023-05' "$DAYS"
  echo '{"kind":"account","symbol":"TEST","date":"2023-05-31","asof":"2023-05-31","cash":0,"position":100,"value":9000,"id":"a1"}'
  grep -E '"date":"2023-06-01"' "$T/day.ndjson"; } >"$T/acct.ndjson"
run fa-decide --from 2023-06-01 "$T/acct.ndjson"
is "$(grep '"kind":"decision"' "$out" | jq -r '"\(.account.position) \(.account.from)"')" "100 2023-05-31" "the account record of the previous day is used"

# The day's own account from before its decision (fa-metrics' record of a
# day with a price and no decision yet: asked NONE, or no action at all) is
# the account to decide with; one that carries the day's decision, or a
# later one, is refused.
acct() { # DATE ACTION POSITION: an account record ("" ACTION: none)
  jq -nc --arg d "$1" --arg a "$2" --argjson p "$3" '{kind: "account", symbol: "TEST", date: $d, asof: $d,
    cash: 50, position: $p, value: 9000} + (if $a == "" then {} else {action: $a} end) + {id: "a-\($d)-\($a)"}'
}
decided() { grep '"kind":"decision"' "$out" | jq -r "$1"; }
acct 2023-05-31 BUY 100 >"$T/j.ndjson"
acct 2023-06-01 NONE 120 >>"$T/j.ndjson"
run fa-decide --from 2023-06-01 --journal "$T/j.ndjson" "$T/day.ndjson"
is "$rc" 0 "a journal with the day's account before its decision"
is "$(decided '"\(.account.position) \(.account.cash) \(.account.from)"')" "120 50 2023-06-01" \
  "the day's account before its decision (asked NONE) is used"
is "$(grep -c '"kind":"error"' "$out")" 0 "and not refused"
acct 2023-06-01 "" 130 >"$T/j.ndjson"
run fa-decide --from 2023-06-01 --journal "$T/j.ndjson" "$T/day.ndjson"
is "$(decided '"\(.account.position) \(.account.from)"')" "130 2023-06-01" "so is one without an action"
{ grep -E '"date":"2023-05' "$DAYS"
  grep -E '"date":"2023-06-01"' "$T/day.ndjson"
  acct 2023-06-01 NONE 140; } >"$T/sameday.ndjson"
run fa-decide --from 2023-06-01 "$T/sameday.ndjson"
is "$(decided '"\(.account.position) \(.account.from)"')" "140 2023-06-01" "in the stream's day too"
is "$(grep -vE '"kind":"(decision|llm)"' "$out" | cmp - "$T/sameday.ndjson" && echo same)" same "which passes through"
for a in BUY SELL HOLD; do
  { acct 2023-05-31 BUY 100; acct 2023-06-01 "$a" 120; } >"$T/j.ndjson"
  run fa-decide --from 2023-06-01 --journal "$T/j.ndjson" "$T/day.ndjson"
  like "$(grep '"kind":"error"' "$out" | jq -r .message)" \
    "firewall: account record \\(action $a\\) of 2023-06-01 already holds that day's decision" \
    "the day's account with its decision ($a) is refused"
  is "$(decided '"\(.account.position) \(.account.cash) \(.account.from)"')" "0 10000 paper" \
    "and the starting account is used instead"
done
{ grep -E '"date":"2023-05' "$DAYS"
  grep -E '"date":"2023-06-01"' "$T/day.ndjson"
  acct 2023-06-01 BUY 140; } >"$T/sameday.ndjson"
run fa-decide --from 2023-06-01 "$T/sameday.ndjson"
is "$(decided '"\(.account.position) \(.account.from)"')" "0 paper" "in the stream's day, one with a decision is not used"
acct 2023-06-02 NONE 120 >"$T/j.ndjson"
run fa-decide --strict --from 2023-06-01 --journal "$T/j.ndjson" "$T/day.ndjson"
is "$rc" 1 "an account of a later day: refused (--strict: exit 1)"
like "$(cat "$err")" 'firewall: account record \(action NONE\) of 2023-06-02 is after 2023-06-01' \
  "naming it"
{ acct 2023-05-31 "" 0
  echo '{"kind":"decision","symbol":"TEST","date":"2023-06-01","asof":"2023-06-01","action":"BUY","done":"BUY","price":50,"id":"d1"}'; } >"$T/j.ndjson"
run fa-decide --from 2023-06-01 --journal "$T/j.ndjson" "$T/day.ndjson"
like "$(grep '"kind":"error"' "$out" | jq -r .message)" "firewall: journal's decision record of 2023-06-01 already holds that day's decision" \
  "a journal's decision of the day itself is refused"
is "$(decided '"\(.account.position) \(.account.cash)"')" "0 10000" "and not replayed"
{ acct 2023-05-31 NONE 0
  echo '{"kind":"decision","symbol":"TEST","date":"2023-05-31","asof":"2023-05-31","action":"BUY","done":"BUY","price":10,"id":"d0"}'; } >"$T/j.ndjson"
run fa-decide --from 2023-06-01 --journal "$T/j.ndjson" "$T/day.ndjson"
is "$(decided '"\(.account.position) \(.account.cash) \(.account.from)"')" "5 0 2023-05-31" \
  "a journal's decision of the day of an account from before it is replayed on it"

# the fake server: an impossible action, garbage, XML
cat >"$T/replies.json" <<'J'
[{"stage":"decide","contains":"position 0 shares","reply":{"analysis":"a","reasoning":"sell it","action":"sell"}},
 {"stage":"decide","reply":{"analysis":"a","reasoning":"r","action":"HOLD"}}]
J
start_fake openai.py --replies "$T/replies.json" --log "$T/log.ndjson"
export FA_LLM_URL=http://127.0.0.1:$port FA_MODEL=fake FA_LLM_RETRIES=0 FA_API_KEY=k
run fa-decide --from 2023-06-01 "$T/day.ndjson"
dec=$(grep '"kind":"decision"' "$out")
is "$(jq -r '"\(.action) \(.done)"' <<<"$dec")" "SELL HOLD" "SELL without a position: asked SELL, done HOLD"
like "$(jq -r .note <<<"$dec")" 'no position' "and the note says why"
FA_CACHE=off run fa-decide --from 2023-06-01 "$T/acct.ndjson"
is "$(grep '"kind":"decision"' "$out" | jq -r .action)" HOLD "fake: HOLD with a position"
curl -s -X POST -d '{"spec":"xml:1@chat"}' "http://127.0.0.1:$port/_fault" >/dev/null
FA_CACHE=off run fa-decide --from 2023-06-01 "$T/acct.ndjson"
is "$(grep '"kind":"decision"' "$out" | jq -r .action)" HOLD "fake: XML answer"
curl -s -X POST -d '{"spec":"prose:4@chat"}' "http://127.0.0.1:$port/_fault" >/dev/null
FA_CACHE=off run fa-decide --from 2023-06-01 "$T/acct.ndjson"
is "$rc" 0 "garbage: the stream goes on"
dec=$(grep '"kind":"decision"' "$out")
is "$(jq -r '"\(.action) \(.done)"' <<<"$dec")" "NONE NONE" "garbage: action NONE, never a silent HOLD"
like "$(jq -r .reason <<<"$dec")" '^output: ' "with the reason"
is "$(grep -c '"kind":"llm"' "$out")" 2 "one llm record per request (the answer and its repair)"

# the firewall: a signal that knows tomorrow
unset FA_LLM_URL
sed 's/"tool":"macd","action":"BUY"/"tool":"macd","action":"BUY","asof":"2023-06-02"/; s/"asof":"2023-06-01","tool"/"tool"/' "$T/day.ndjson" >"$T/leak.ndjson"
run fa-decide --from 2023-06-01 "$T/leak.ndjson"
like "$(grep '"kind":"error"' "$out" | jq -r .message)" 'firewall: signal record s1 has asof 2023-06-02, after 2023-06-01' \
  "a signal from the future is refused"
ok "! grep -q SIGTEXT <<<\"\$(grep '\"kind\":\"decision\"' '$out' | jq -r .analysis)\"" "and not used"
done_testing
