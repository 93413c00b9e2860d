#!/usr/bin/env bash
# fa-day's timing record: each day run appends how long its stages took to
# RUN/timing.ndjson (fa.7), never to the day's stream; fa-run -v prints it.
# (Only the shape is checked: no test asserts a time.)
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
if [ "${FA_SUITE:-plain}" = san ]; then
  skip "timing" "the timing record is written by the shell; plain suite only"; done_testing; exit 0
fi
for p in fa-fetch fa-intel fa-retrieve fa-embed fa-reflect-low fa-reflect-high fa-tools fa-decide fa-metrics; do
  command -v "$p" >/dev/null || { skip "timing" "$p is not built"; done_testing; exit 0; }
done
export FA_LLM=offline
R=$T/run

run fa-day -q --out "$R" --symbol SYN --source synth:7 --date 2023-03-06 --no-charts
is "$rc" 0 "a day runs"
tf=$R/timing.ndjson
is "$(wc -l <"$tf")" 1 "one timing record for the day"
r=$(cat "$tf")
is "$(jq -r '"\(.kind) \(.symbol) \(.date)"' <<<"$r")" "timing SYN 2023-03-06" "kind, symbol and date first"
like "$r" '^\{"kind":"timing","symbol":"SYN","date":"2023-03-06",' "in the order every fa record has"
is "$(jq -r '.ms | keys_unsorted | join(" ")' <<<"$r")" \
  "fetch intel retrieve-intel wait-prepare intel-past reflect-low retrieve-low reflect-high retrieve-high tools own-signals decide metrics account wait-stores stored total" \
  "every stage, in the order it ran, and the total"
is "$(jq '[.ms[] | select(type == "number" and . >= 0 and floor == .)] | length' <<<"$r")" 17 \
  "whole milliseconds"
is "$(jq '.ms.total >= ([.ms | to_entries[] | select(.key != "total") | .value] | max)' <<<"$r")" true \
  "the total is at least its longest stage"
ok "! grep -q '\"kind\":\"timing\"' '$R/days/2023-03-06.ndjson'" "the day's stream holds no timing record"

run fa-day -q --out "$R" --symbol SYN --source synth:7 --date 2023-03-06 --no-charts
is "$(wc -l <"$tf")" 1 "a day that is done already adds none"

run fa-day -v --out "$R" --symbol SYN --source synth:7 --date 2023-03-07 --no-charts --without intel,high
is "$rc" 0 "an ablated day runs"
is "$(tail -n 1 "$tf" | jq -r '.ms | keys_unsorted | join(" ")')" \
  "fetch wait-prepare reflect-low retrieve-low tools own-signals decide metrics account wait-stores stored total" \
  "only the stages that ran"
like "$(cat "$err")" 'fa-day: 2023-03-07 decide +[0-9]+ records +[0-9]+ ms' "fa-day -v: a line per stage with its time"

run fa-run -v --symbol SYN --source synth:7 --test 2023-03-06:2023-03-07 --out "$T/r2" --no-charts
is "$rc" 0 "fa-run -v runs"
like "$(grep 'timing' "$err" | head -n 1)" '^fa-run: 2023-03-06 timing \(ms\): fetch [0-9]+, intel [0-9]+, .*, total [0-9]+$' \
  "fa-run -v prints each day's timing"
is "$(grep -c 'timing (ms)' "$err")" 2 "one line per day"
run fa-run -q --symbol SYN --source synth:7 --test 2023-03-06:2023-03-07 --out "$T/r3" --no-charts
is "$(cat "$err")" "" "fa-run -q prints none"
done_testing
