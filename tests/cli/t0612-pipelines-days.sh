#!/usr/bin/env bash
# fa-days runs a run's days in one process (the stock stages linked in,
# called in its own process) and makes the same run as fa-day once per day, byte
# for byte: days, memories, charts, metrics, ledger. A stage found in
# FA_EXEC_PATH is that program instead; a stage that fails stops the run
# with its work files kept; fa-run resumes.
# shellcheck source=lib.sh disable=SC2016,SC2012 # regexes in single quotes; ls of our own names
. "$(dirname "$0")/lib.sh"
if [ "${FA_SUITE:-plain}" = san ]; then
  skip "fa-days" "whole runs twice over; plain suite only (fa-run runs its days through fa-days under the sanitizers in t0602, t0606, t1101)"
  done_testing; exit 0
fi
for p in fa-days fa-fetch fa-intel fa-retrieve fa-embed fa-reflect-low fa-reflect-high fa-tools fa-decide fa-metrics fa-journal; do
  command -v "$p" >/dev/null || { skip "fa-days" "$p is not built"; done_testing; exit 0; }
done
export FA_LLM=offline
args=(--symbol SYN --source synth:5 --warmup 2023-03-01:2023-03-03 --test 2023-03-06:2023-03-08)

# same_run A B NAME: the two run directories hold the same run (the timing,
# the journal and the page carry wall-clock times; the journal is verified
# on its own)
same_run() {
  local a=$1 b=$2 f d=0
  for f in days memory charts metrics.ndjson metrics.md warmup.md ledger.md report/test.agent.ndjson; do
    [ -e "$a/$f" ] || [ -e "$b/$f" ] || continue
    diff -r "$a/$f" "$b/$f" >/dev/null || { d=1; echo "# differs: $f"; }
  done
  is "$d" 0 "$3"
}

# 1. fa-run through fa-days (the default) and through fa-day per day
run fa-run -q "${args[@]}" --out "$T/days"
is "$rc" 0 "fa-run runs its days through fa-days"
[ "$rc" -eq 0 ] || sed "s/^/#   /" "$err" | tail -n 5
FA_DAY_ENGINE=shell run fa-run -q "${args[@]}" --out "$T/shell"
is "$rc" 0 "and with FA_DAY_ENGINE=shell through fa-day"
is "$(find "$T/days/days" -name '*.ndjson' | wc -l)" 6 "six day files"
same_run "$T/days" "$T/shell" "the same run, byte for byte"
if command -v gnuplot >/dev/null; then
  ok "[ \"\$(find '$T/days/charts' -name '*.png' | wc -l)\" -ge 6 ]" "with its charts"
else
  skip "with its charts" "gnuplot is not installed"
fi
run fa-journal verify "$T/days"
is "$rc" 0 "its journal has every day, signed"
is "$(grep -c '"kind":"timing"' "$T/days/timing.ndjson")" 6 "a timing record per day"

# another configuration: ablations, the other convention, no charts
a2=(--symbol SYN --source synth:5 --warmup 2023-03-01:2023-03-02 --test 2023-03-03:2023-03-07
  --convention finagent --without high --without tools --no-charts --preference conservative)
run fa-run -q "${a2[@]}" --out "$T/days2"
is "$rc" 0 "an ablated run through fa-days"
FA_DAY_ENGINE=shell run fa-run -q "${a2[@]}" --out "$T/shell2"
same_run "$T/days2" "$T/shell2" "equals fa-day's"
ok "! grep -q '\"kind\":\"\\(signal\\|reflect_high\\)\"' '$T'/days2/days/*.ndjson" "left-out stages leave no records"

# the progress lines (fa-run's, printed by fa-days)
run fa-run "${args[@]}" --out "$T/days3" --until 2023-03-02
is "$rc" 0 "a run stopped early"
like "$(sed -n 1p "$err")" '^fa-run: 2023-03-01 warmup 1/2 (BUY|SELL|HOLD) value [0-9]+(\.[0-9]{1,2})? cost \$0 \([0-9]+ calls\), [0-9]+\.[0-9]{2} days/s, [0-9]+s left$' \
  "a progress line per day, as fa-run prints it"

# 2. a stage of your own: found in FA_EXEC_PATH, run instead of the stock one
mkdir -p "$T/mine"
cat >"$T/mine/fa-tools" <<'EOS'
#!/bin/sh
# passes the stream through and signals nothing
echo ran >>"$(dirname "$0")/ran"
exec cat
EOS
chmod +x "$T/mine/fa-tools"
FA_EXEC_PATH=$T/mine:$FA_BIN run fa-run -q "${args[@]}" --out "$T/mine-run" --no-charts
is "$rc" 0 "a run with a stage of one's own"
is "$(wc -l <"$T/mine/ran")" 8 "that stage ran once a day (and once a pass for the reports)"
ok "! grep -q '\"kind\":\"signal\"' '$T'/mine-run/days/*.ndjson" "instead of the stock one (no signals)"
ok "grep -q '\"kind\":\"decision\"' '$T/mine-run/days/2023-03-08.ndjson'" "and the other stages ran as always"

# 3. fa-days alone
R=$T/alone
run fa-days -q --out "$R" --symbol SYN --source synth:5 --since 2023-03-01 2023-03-01 2023-03-04 2023-03-06
is "$rc" 0 "fa-days alone, on three dates"
is "$(ls "$R/days" | tr '\n' ' ')" "2023-03-01.ndjson 2023-03-06.ndjson " "a Saturday is no trading day: skipped"
like "$(cat "$err")" "2023-03-04 is not a trading day" "and it says so"
run fa-day -q --out "$T/alone-day" --symbol SYN --source synth:5 --date 2023-03-01
same_file "$R/days/2023-03-01.ndjson" "$T/alone-day/days/2023-03-01.ndjson" "a day equals fa-day's"
before=$(md5sum <"$R/days/2023-03-06.ndjson")
run fa-days -q --out "$R" --symbol SYN --source synth:5 --since 2023-03-01 2023-03-06
is "$rc:$(md5sum <"$R/days/2023-03-06.ndjson")" "0:$before" "a complete day is left as it is"

run fa-days --out "$R" --symbol SYN --source synth:5
is "$rc" 2 "no DATE: exit 2"
run fa-days --out "$R" --symbol SYN --source synth:5 2023-3-7
is "$rc" 2 "a bad date: exit 2"
like "$(cat "$err")" "2023-3-7" "named"
run fa-days --out "$R" --symbol SYN --source synth:5 --without news 2023-03-07
is "$rc" 2 "an unknown stage: exit 2"
run fa-days --out "$R" --symbol SYN --source synth:5 --since 2023-03-08 2023-03-07
is "$rc" 2 "--since after the day: exit 2"

# 4. a stage that fails: the run stops, the day's work files are kept, the
# days before it are complete; fa-run resumes once the stage is mended
mkdir -p "$T/bad"
cat >"$T/bad/fa-decide" <<'EOS'
#!/bin/sh
cat >/dev/null
echo "fa-decide: broken on purpose" >&2
exit 1
EOS
chmod +x "$T/bad/fa-decide"
FA_EXEC_PATH=$T/bad:$FA_BIN run fa-run -q "${args[@]}" --out "$T/broken" --no-charts
is "$rc" 1 "a failing stage fails the run"
like "$(cat "$err")" "stage 'decide' failed on 2023-03-01 \(work files kept in .*/work/2023-03-01\)" \
  "naming the stage, the day and the work files"
ok "[ -d '$T/broken/work/2023-03-01' ] && [ ! -e '$T/broken/days/2023-03-01.ndjson' ]" "the day is not complete"
run fa-run -q "${args[@]}" --out "$T/broken" --no-charts
is "$rc" 0 "the same command resumes with the stock stage"
is "$(find "$T/broken/days" -name '*.ndjson' | wc -l)" 6 "every day complete"
done_testing
