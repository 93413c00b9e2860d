#!/usr/bin/env bash
# fa-day: one trading day's stream, complete and atomic; a done day is not
# run again; bad flags; a day that is not a trading day.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
for p in fa-fetch fa-intel fa-retrieve fa-embed fa-reflect-low fa-reflect-high fa-tools fa-decide fa-metrics; do
  command -v "$p" >/dev/null || { skip "fa-day" "$p is not built"; done_testing; exit 0; }
done
export FA_LLM=offline
R=$T/run
day() { run fa-day -q --out "$R" --symbol SYN --source synth:7 "$@"; }

day --date 2023-03-06
is "$rc" 0 "a day runs"
[ "$rc" -eq 0 ] || sed "s/^/#   /" "$err" | tail -n 5
f=$R/days/2023-03-06.ndjson
ok "[ -s '$f' ]" "the day's stream is in RUN/days/DATE.ndjson"
kinds=$(jq -r --arg d 2023-03-06 'select(.date == $d) | .kind' "$f" | sort -u | tr '\n' ' ')
for k in price news intel intel_past reflect_low reflect_high signal account decision llm; do
  like "$kinds" "(^| )$k( |$)" "the stream holds $k records"
done
is "$(jq -c 'select(.kind == "decision")' "$f" | wc -l)" 1 "one decision"
is "$(jq -r 'select(.kind == "decision") | .action' "$f" | grep -cE '^(BUY|SELL|HOLD|NONE)$')" 1 "the decision has an action"
is "$(jq -c . "$f" | wc -l)" "$(wc -l <"$f")" "every line is one JSON record"
# fa-day selects records by a prefix match on kind, symbol and date (fast);
# the programs it selects from must keep writing those first.
is "$(grep -E '^\{"kind":"(price|news|intel|reflect_low|reflect_high|signal|account|decision)",' "$f" |
  grep -cvE '^\{"kind":"[a-z_]+","symbol":"SYN","date":"[0-9]{4}-[0-9]{2}-[0-9]{2}"')" 0 \
  "the records fa-day selects begin with kind, symbol and date"
ok "[ ! -e '$R/work/2023-03-06' ] && ! ls '$R/days' | grep -q '^\\.'" "no work files or temporary files left"
ok "[ -d '$R/memory/intel' ] && [ -d '$R/memory/low' ] && [ -d '$R/memory/high' ]" "three memory stores"
is "$(jq -r 'select(.kind == "price") | .date' "$f" | sort -u | wc -l)" 31 "the day's bar and 30 lookback bars"
is "$(jq -c 'select(.kind == "signal" and .date != "2023-03-06")' "$f" | wc -l)" 0 "only the day's own signals"

cp "$f" "$T/before"
day --date 2023-03-06
is "$rc" 0 "a done day reruns"
[ "$rc" -eq 0 ] || sed "s/^/#   /" "$err" | tail -n 5
same_file "$f" "$T/before" "a done day is not run again"

day --date 2023-03-07 --since 2023-03-06
is "$rc" 0 "the next day runs"
[ "$rc" -eq 0 ] || sed "s/^/#   /" "$err" | tail -n 5
acc=$(jq -c 'select(.kind == "account")' "$R/days/2023-03-07.ndjson")
like "$acc" '"date":"2023-03-07"' "the day's account is marked on the day"
act=$(jq -r 'select(.kind == "decision") | .action' "$R/days/2023-03-07.ndjson")
like "$acc" "\"action\":\"$act\"" "and carries the day's decision"
prev=$(jq -r 'select(.kind == "decision") | .done' "$f")
if [ "$prev" = BUY ] || [ "$prev" = SELL ]; then
  like "$acc" "\"done\":\"$prev\"" "yesterday's order filled at today's open"
else
  like "$acc" '"done":"(HOLD|NONE)"' "no order yesterday, no fill today"
fi

is "$(jq -r 'select(.kind == "decision") | .account.from' "$R/days/2023-03-07.ndjson")" 2023-03-07 \
  "the decision saw the day's account from before it (yesterday's order filled)"
is "$(jq -r 'select(.kind == "decision") | .account.position' "$R/days/2023-03-07.ndjson")" \
  "$(jq -r .position <<<"$acc")" "whose position the day's account keeps"

day --date 2023-03-11
is "$rc" 3 "a Saturday: exit 3"
ok "[ ! -e '$R/days/2023-03-11.ndjson' ]" "no file for a day that is not a trading day"

day --date 2023-03-08 --without intel,high --without tools
is "$rc" 0 "ablations run"
[ "$rc" -eq 0 ] || sed "s/^/#   /" "$err" | tail -n 5
kinds=$(jq -r --arg d 2023-03-08 'select(.date == $d) | .kind' "$R/days/2023-03-08.ndjson" | sort -u | tr '\n' ' ')
ok "! [[ '$kinds' =~ intel|reflect_high|signal ]]" "left-out stages leave no records"
like "$kinds" "reflect_low" "the low-level reflection still runs"

day --date 2023-03-09 --without nothing
is "$rc" 2 "--without: unknown stage is a usage error"
day --date 03/09/2023
is "$rc" 2 "a bad date is a usage error"
run fa-day --date 2023-03-09
is "$rc" 2 "missing --out is a usage error"
like "$(cat "$err")" "Try 'fa-day --help'" "usage errors point to --help"
run fa-day --help
is "$rc" 0 "--help exits 0"
[ "$rc" -eq 0 ] || sed "s/^/#   /" "$err" | tail -n 5
like "$(head -n1 "$out")" "^Usage: fa-day" "--help prints the usage"
done_testing
