#!/usr/bin/env bash
# fa-run resumes: a run killed in the middle of a day (in the warm-up and
# in the test period) and started again equals the run that was never
# interrupted: the same day streams, memories, decisions and metrics. A
# different configuration is refused; a second fa-run on the same RUN too.
. "$(dirname "$0")/lib.sh"
for p in fa-fetch fa-intel fa-retrieve fa-embed fa-reflect-low fa-reflect-high fa-tools fa-decide fa-metrics; do
  command -v "$p" >/dev/null || { skip "fa-run resume" "$p is not built"; done_testing; exit 0; }
done
export FA_LLM=offline
args=(--symbol SYN --source synth:11 --warmup 2023-03-01:2023-03-02 --test 2023-03-06:2023-03-08 --no-charts)

run fa-run -q "${args[@]}" --out "$T/a"
is "$rc" 0 "an uninterrupted run"
[ "$rc" -eq 0 ] || sed "s/^/#   /" "$err" | tail -n 5
is "$(find "$T/a/days" -name '*.ndjson' | wc -l)" 5 "five day files"
ok "[ -s '$T/a/metrics.md' ] && [ -s '$T/a/ledger.md' ]" "metrics table and ledger"

# Killed right after the warm-up day's news went into the memory, and
# again in the test period after the low-level reflection was stored.
FA_DAY_KILL=2023-03-02:store-news run fa-run -q "${args[@]}" --out "$T/b"
ok "[ '$rc' -ne 0 ]" "the run is killed in the middle of a warm-up day"
ok "[ ! -e '$T/b/days/2023-03-02.ndjson' ] && [ -d '$T/b/work/2023-03-02' ]" "the killed day is not complete"
FA_DAY_KILL=2023-03-07:store-low run fa-run -q "${args[@]}" --out "$T/b"
ok "[ '$rc' -ne 0 ] && [ ! -e '$T/b/days/2023-03-07.ndjson' ]" "killed again in a test day"
is "$(find "$T/b/days" -name '*.ndjson' | wc -l)" 3 "the days before it are complete"
run fa-run -q "${args[@]}" --out "$T/b"
is "$rc" 0 "the same command resumes"
[ "$rc" -eq 0 ] || sed "s/^/#   /" "$err" | tail -n 5

strip() { jq -c 'select(.kind != "llm")' "$1"; }
same=0
for f in "$T"/a/days/*.ndjson; do
  d=$(basename "$f")
  cmp -s <(strip "$f") <(strip "$T/b/days/$d") || { same=1; echo "# differs: $d"; }
done
is "$same" 0 "every day's stream equals the uninterrupted run's (llm records aside)"
is "$(jq -c 'select(.kind == "decision")' "$T"/b/days/*.ndjson | md5sum)" \
  "$(jq -c 'select(.kind == "decision")' "$T"/a/days/*.ndjson | md5sum)" "the same decisions"
same_file "$T/a/metrics.ndjson" "$T/b/metrics.ndjson" "the same metrics"
for s in intel low high; do
  is "$(cat "$T"/b/memory/$s/*.ndjson | md5sum)" "$(cat "$T"/a/memory/$s/*.ndjson | md5sum)" "the same $s memory"
done
ok "[ ! -e '$T/b/work/2023-03-07' ]" "the half-done day's work files are gone"

# Killed at whatever point it has reached (the whole process group, so a
# store may be cut in the middle of a write), then resumed.
setsid fa-run -q "${args[@]}" --out "$T/k" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 400); do
  [ "$(find "$T/k/days" -name '*.ndjson' 2>/dev/null | wc -l)" -ge 2 ] && break
  sleep 0.05
done
sleep 0.$((RANDOM % 4))
kill -KILL -- "-$pid" 2>/dev/null
wait "$pid" 2>/dev/null
if [ -e "$T/k/metrics.ndjson" ]; then
  skip "a run SIGKILLed at a random point" "it had finished before the kill"
else
  n=$(find "$T/k/days" -name '*.ndjson' | wc -l)
  run fa-run -q "${args[@]}" --out "$T/k"
  is "$rc" 0 "a run SIGKILLed at a random point (after $n days) resumes"
  [ "$rc" -eq 0 ] || sed "s/^/#   /" "$err" | tail -n 5
  same_file "$T/a/metrics.ndjson" "$T/k/metrics.ndjson" "to the same metrics"
  is "$(jq -c 'select(.kind == "decision")' "$T"/k/days/*.ndjson | md5sum)" \
    "$(jq -c 'select(.kind == "decision")' "$T"/a/days/*.ndjson | md5sum)" "and the same decisions"
fi

run fa-run -q "${args[@]}" --out "$T/b"
is "$rc" 0 "rerunning a finished run"
[ "$rc" -eq 0 ] || sed "s/^/#   /" "$err" | tail -n 5
same_file "$T/a/metrics.ndjson" "$T/b/metrics.ndjson" "changes nothing"
run fa-run -q --out "$T/b"
is "$rc" 0 "fa-run --out RUN resumes with the recorded configuration"
[ "$rc" -eq 0 ] || sed "s/^/#   /" "$err" | tail -n 5

run fa-run -q "${args[@]}" --preference conservative --out "$T/b"
is "$rc" 2 "another configuration is refused"
like "$(cat "$err")" "preference" "and the message names what differs"
run fa-run -q --symbol SYN --source synth:11 --test 2023-03-06:2023-03-08 --no-charts --out "$T/b"
is "$rc" 2 "so is leaving the warm-up out"

flock "$T/b/lock" sleep 3 &
sleep 0.3
run fa-run -q --out "$T/b"
is "$rc" 75 "a RUN in use by another fa-run: exit 75"
wait

run fa-run -q "${args[@]}" --out "$T/c" --until 2023-03-01
is "$rc" 0 "--until stops early"
[ "$rc" -eq 0 ] || sed "s/^/#   /" "$err" | tail -n 5
is "$(find "$T/c/days" -name '*.ndjson' | wc -l)" 1 "after that day"
ok "[ ! -e '$T/c/metrics.md' ]" "with no reports yet"

run fa-run --symbol SYN --source synth:11 --test 2023-03-06 --out "$T/d"
is "$rc" 2 "--test without a colon is a usage error"
run fa-run --symbol SYN --source synth:11 --warmup 2023-03-01:2023-03-07 --test 2023-03-06:2023-03-08 --out "$T/d"
is "$rc" 2 "a warm-up overlapping the test period is refused"
done_testing
