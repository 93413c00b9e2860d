#!/usr/bin/env bash
# fa-sweep runs several backtests with GNU parallel and tabulates them;
# fa-cron runs a live run's missing days through today, is safe to rerun,
# and steps aside while another run holds the lock.
. "$(dirname "$0")/lib.sh"
if [ "${FA_SUITE:-plain}" = san ]; then
  skip "sweep and cron" "GNU parallel over whole pipelines; plain suite only (the same programs run under the sanitizers in t0601, t0602)"; done_testing; exit 0
fi
for p in fa-fetch fa-intel fa-retrieve fa-embed fa-reflect-low fa-reflect-high fa-tools fa-decide fa-metrics; do
  command -v "$p" >/dev/null || { skip "sweep and cron" "$p is not built"; done_testing; exit 0; }
done
export FA_LLM=offline

if command -v parallel >/dev/null; then
  run fa-sweep --out "$T/sw" --symbols AAA,BBB --variant base= --variant notools='--without tools' \
    -j 2 -- --source synth:3 --test 2023-03-06:2023-03-07 --no-charts
  is "$rc" 0 "a sweep of two symbols and two variants"
  [ "$rc" -eq 0 ] || sed "s/^/#   /" "$err" | tail -n 5
  for s in AAA BBB; do for v in base notools; do
    ok "[ -s '$T/sw/$s/$v/metrics.ndjson' ]" "$s $v ran"
  done; done
  is "$(jq -r .follow "$T/sw/AAA/notools/metrics.ndjson" | head -n 1)" decision "the agent's metrics come first"
  like "$(cat "$T/sw/metrics.md")" "## base" "a table per variant"
  is "$(grep -c '^| AAA .*decision' "$T/sw/metrics.md")" 2 "each variant's table has the agent's row"
  ok "! jq -e 'select(.kind == \"signal\")' '$T'/sw/AAA/notools/days/*.ndjson >/dev/null" "the variant's flags reached fa-run"
  run fa-sweep --out "$T/sw" --symbols AAA,BBB --variant base= --variant notools='--without tools' \
    -j 2 -- --source synth:3 --test 2023-03-06:2023-03-07 --no-charts
  is "$rc" 0 "rerunning the sweep resumes every run"
  [ "$rc" -eq 0 ] || sed "s/^/#   /" "$err" | tail -n 5
else
  skip "fa-sweep" "GNU parallel is missing"
fi
run fa-sweep --out "$T/sw2" -- --source synth:3 --test 2023-03-06:2023-03-07
is "$rc" 2 "fa-sweep without --symbols: usage error"
run fa-sweep --out "$T/sw2" --symbols AAA -- --symbol BBB --source synth:3 --test 2023-03-06:2023-03-07
is "$rc" 2 "fa-sweep sets --symbol itself"

# The rule strategies tuned on the warm-up, and used.
run fa-run -q --symbol SYN --source synth:9 --warmup 2023-02-27:2023-03-03 --test 2023-03-06:2023-03-06 \
  --tune --no-charts --out "$T/tune"
is "$rc" 0 "--tune runs"
[ "$rc" -eq 0 ] || sed "s/^/#   /" "$err" | tail -n 5
is "$(jq -c '.SYN.zmr' "$T/tune/params.json")" \
  "$(jq -c 'select(.kind == "signal" and .tool == "zmr") | .params' "$T/tune/days/2023-03-06.ndjson")" \
  "the day's signals use the tuned parameters"
run fa-run -q --symbol SYN --source synth:9 --test 2023-03-06:2023-03-06 --tune --out "$T/tune2"
is "$rc" 2 "--tune without a warm-up: usage error"

# A live run: its test period is open, so it runs through today.
from=$(date -u -d '3 days ago' +%F)
run fa-run -q --symbol SYN --source synth:9 --test "$from:" --no-charts --until "$from" --out "$T/live"
is "$rc" 0 "a live run is set up"
[ "$rc" -eq 0 ] || sed "s/^/#   /" "$err" | tail -n 5
is "$(jq -r .test.to "$T/live/config.json")" null "with an open test period"
run fa-cron "$T/live"
is "$rc" 0 "fa-cron runs it"
[ "$rc" -eq 0 ] || sed "s/^/#   /" "$err" | tail -n 5
last=$(find "$T/live/days" -name '*.ndjson' | sort | tail -n 1)
want=$(fa-fetch -q --source synth:9 --symbol SYN --from "$from" --to "$(date -u +%F)" | jq -r 'select(.kind == "price") | .date' | tail -n 1)
is "$(basename "$last" .ndjson)" "$want" "through today's last trading day"
like "$(tail -n 1 "$T/live/cron.log")" " ok: through $want" "and logs it"
ok "[ -s '$T/live/metrics.md' ]" "with fresh reports"
cp -r "$T/live/days" "$T/days.before"
run fa-cron "$T/live"
is "$rc" 0 "fa-cron again"
[ "$rc" -eq 0 ] || sed "s/^/#   /" "$err" | tail -n 5
ok "diff -r '$T/days.before' '$T/live/days' >/dev/null" "changes no day"
flock "$T/live/lock" sleep 3 &
sleep 0.3
run fa-cron "$T/live"
is "$rc" 0 "fa-cron while another run holds the lock"
[ "$rc" -eq 0 ] || sed "s/^/#   /" "$err" | tail -n 5
like "$(tail -n 1 "$T/live/cron.log")" "skipped" "steps aside and says so"
wait
run fa-cron "$T/nothing"
is "$rc" 2 "fa-cron on a directory that is not a run: exit 2"
done_testing
