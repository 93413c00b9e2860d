#!/usr/bin/env bash
# fa-days calls the stock stages in its own process. A stage that dies (a
# usage error through fa_die) ends only its call: fa-days names the stage
# and the day, stops with status 1 and keeps that day's work files, and
# only that day's (the work directory it took over from the day before
# holds nothing older). Complete days leave no work files; the same
# command resumes, and the day equals fa-day's. Charts no model looks at,
# drawn by fa-days' own thread, are the bytes fa-day draws.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
for p in fa-days fa-day fa-fetch fa-decide fa-reflect-low fa-reflect-high; do
  command -v "$p" >/dev/null || { skip "fa-days in process" "$p is not built"; done_testing; exit 0; }
done
export FA_LLM=offline
R=$T/deep/r # (a run directory whose parents do not exist yet)
base=(--symbol SYN --source synth:5 --since 2023-03-01 --no-charts)

run fa-days -q --out "$R" "${base[@]}" 2023-03-01 2023-03-02
is "$rc" 0 "two days in one process"
is "$(find "$R/work" -mindepth 1 | wc -l)" 0 "complete days leave no work files"

run fa-days -q --out "$R" "${base[@]}" --preference "$T/none.txt" 2023-03-03 2023-03-06
is "$rc" 1 "a stage that dies stops fa-days with status 1"
like "$(cat "$err")" "fa-decide: --preference: cannot open preference '.*none.txt'" \
  "the stage's own message, under its own name"
like "$(cat "$err")" "fa-days: stage 'decide' failed on 2023-03-03 \(work files kept in .*/work/2023-03-03\)" \
  "fa-days names the stage, the day and the work files"
W=$R/work/2023-03-03
ok "[ -s '$W/01-fetch.ndjson' ] && [ -e '$W/11-decide.ndjson' ]" "the day's work files are kept"
is "$(find "$W" -name '1[2-9]-*' | wc -l)" 0 "and none of the day before's later steps"
ok "[ ! -e '$R/days/2023-03-03.ndjson' ] && [ ! -e '$R/days/2023-03-06.ndjson' ]" \
  "the failed day and the days after it are not complete"

run fa-days -q --out "$R" "${base[@]}" 2023-03-03 2023-03-06
is "$rc" 0 "the same days again, mended, complete"
is "$(find "$R/work" -mindepth 1 | wc -l)" 0 "and leave no work files"
run fa-day -q --out "$T/one" --symbol SYN --source synth:5 --since 2023-03-01 --no-charts --date 2023-03-01
run fa-day -q --out "$T/one" --symbol SYN --source synth:5 --since 2023-03-01 --no-charts --date 2023-03-02
run fa-day -q --out "$T/one" --symbol SYN --source synth:5 --since 2023-03-01 --no-charts --date 2023-03-03
same_file "$R/days/2023-03-03.ndjson" "$T/one/days/2023-03-03.ndjson" "the resumed day equals fa-day's"

# charts, drawn by fa-days' thread while the day goes on
if command -v gnuplot >/dev/null; then
  for d in 2023-03-01 2023-03-02; do
    run fa-day -q --out "$T/c1" --symbol SYN --source synth:5 --since 2023-03-01 --date "$d"
  done
  run fa-days -q --out "$T/c2" --symbol SYN --source synth:5 --since 2023-03-01 2023-03-01 2023-03-02
  is "$rc" 0 "two days with charts"
  ok "[ \"\$(ls '$T/c2/charts' | wc -l)\" -ge 3 ]" "the days' Kline and trading charts"
  ok "diff -r '$T/c1/charts' '$T/c2/charts' >/dev/null && diff -r '$T/c1/days' '$T/c2/days' >/dev/null" \
    "the same charts and days as fa-day's, byte for byte"
  is "$(find "$T/c2/charts" -maxdepth 1 -name '.*' | wc -l)" 0 "no temporary chart file left"
  # a chart noted and not drawn when fa-days ended (a crash after the day
  # file was saved): drawn when fa-days starts again, the note removed
  mkdir -p "$T/c2/charts/.pending"
  printf '# fa-chart png 240 160 charts/SYN-2023-03-02-extra.png\nplot sin(x)\n' \
    >"$T/c2/charts/.pending/SYN-2023-03-02-extra.png.gp"
  run fa-days -q --out "$T/c2" --symbol SYN --source synth:5 --since 2023-03-01 2023-03-03
  is "$rc" 0 "fa-days starts again"
  is "$(head -c 4 "$T/c2/charts/SYN-2023-03-02-extra.png" | tail -c 3)" "PNG" "the noted chart is drawn"
  ok "[ ! -e '$T/c2/charts/.pending' ]" "and its note is gone"
  mkdir -p "$T/c2/charts/.pending"
  printf 'not a note\n' >"$T/c2/charts/.pending/x.png.gp"
  run fa-days -q --out "$T/c2" --symbol SYN --source synth:5 --since 2023-03-01 2023-03-06
  is "$rc" 1 "a note that is not one: exit 1"
  like "$(cat "$err")" "x.png.gp': not a chart note" "naming it"
else
  skip "charts" "gnuplot is not installed"
fi
done_testing
