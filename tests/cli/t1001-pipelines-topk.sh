#!/usr/bin/env bash
# fa-day retrieves the paper's numbers by default: the top 3 past news
# items per horizon query for market intelligence and the top 5 past
# reflections for each of the two reflections (visible in the day's hit
# records as their ranks); --top-intel and --top-reflect change them.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
for p in fa-fetch fa-intel fa-retrieve fa-embed fa-reflect-low fa-reflect-high fa-tools fa-decide fa-metrics; do
  command -v "$p" >/dev/null || { skip "fa-day top-k" "$p is not built"; done_testing; exit 0; }
done
export FA_LLM=offline
R=$T/run
mkdir -p "$R/memory"
# Memories from before the day: a month of news (over 70 items), and eight
# low- and high-level reflections whose queries have enough words.
fa-fetch -q --source synth:7 --symbol SYN --from 2023-02-01 --to 2023-03-03 |
  fa-embed -q --store "$R/memory/intel" --kind news --text '{title}\n{text}' >/dev/null
for k in reflect_low reflect_high; do
  for i in 1 2 3 4 5 6 7 8; do
    jq -cn --arg k "$k" --arg d "2023-02-0$i" --arg i "$i" '{kind: $k, symbol: "SYN", date: $d,
      asof: $d, query: "the price fell after weak demand news and then recovered number \($i)",
      reasoning: {short_term: "demand news moved the price \($i)"},
      summary: "lesson \($i)", improvement: "none"}'
  done
done >"$T/reflections.ndjson"
st=${R}/memory
fa-embed -q --store "$st/low" --kind reflect_low --field query <"$T/reflections.ndjson" >/dev/null
fa-embed -q --store "$st/high" --kind reflect_high --field query <"$T/reflections.ndjson" >/dev/null

# maxrank STORE FILE: the largest rank among the day's hits from STORE
maxrank() { jq -s --arg s "$1" '[.[] | select(.kind == "hit" and .store == $s) | .rank] | max // 0' "$2"; }
count() { jq -s --arg s "$1" '[.[] | select(.kind == "hit" and .store == $s)] | length' "$2"; }

# a past day of the pass with a decision, for the high-level reflection to
# review (so it writes a query and retrieves)
mkdir -p "$R/days"
{
  fa-fetch -q --source synth:7 --symbol SYN --from 2023-03-03 --to 2023-03-03 | jq -c 'select(.kind == "price")'
  echo '{"kind":"decision","symbol":"SYN","date":"2023-03-03","asof":"2023-03-03","action":"BUY","reasoning":"a test decision"}'
} >"$R/days/2023-03-03.ndjson"
run fa-day -q --out "$R" --symbol SYN --source synth:7 --date 2023-03-06 --since 2023-03-03
is "$rc" 0 "a day runs on the stores"
[ "$rc" -eq 0 ] || sed "s/^/#   /" "$err" | tail -n 5
f=$R/days/2023-03-06.ndjson
is "$(maxrank memory/intel "$f")" 3 "intel: the top 3 per horizon query (the paper's)"
ok "[ $(count memory/intel "$f") -gt 3 ]" "intel: one query per horizon, merged"
is "$(maxrank memory/low "$f")" 5 "low-level reflections: the top 5"
is "$(count memory/low "$f")" 5 "low-level reflections: five hits for the one query"
is "$(jq -r 'select(.kind == "reflect_high") | .decisions_reviewed' "$f")" 1 "the past decision is reviewed"
is "$(maxrank memory/high "$f")" 5 "high-level reflections: the top 5"

# The same day again, the numbers changed (a new run over the same stores).
R2=$T/run2
mkdir -p "$R2"
cp -R "$R/memory" "$R2/memory"
run fa-day -q --out "$R2" --symbol SYN --source synth:7 --date 2023-03-06 --top-intel 1 --top-reflect 2
is "$rc" 0 "--top-intel 1 --top-reflect 2"
is "$(maxrank memory/intel "$R2/days/2023-03-06.ndjson")" 1 "intel: the top 1"
is "$(count memory/low "$R2/days/2023-03-06.ndjson")" 2 "low-level reflections: two hits"

run fa-day -q --out "$R2" --symbol SYN --source synth:7 --date 2023-03-07 --top-intel 0
is "$rc" 2 "--top-intel 0 is a usage error"
like "$(cat "$err")" "--top-intel: want a count" "and says which"
done_testing
