#!/usr/bin/env bash
# b20-day: fa's own time per FinAgent trading day, model time excluded:
# fa-run over a synthetic market (a) with the offline analyst, charts on
# and off, and (b) replaying the same run of the fake OpenAI-compatible
# server from the cache (FA_CACHE=replay, the server stopped), so the real
# client, cache and ledger paths are timed with no model behind them.
# Prints wall and CPU milliseconds per day ("bench: ..." lines), then
# where a day's wall time goes, stage by stage (the mean of the days'
# timing records, RUN/timing.ndjson; "stage:" lines, largest first), so
# the next place to cut is in plain sight. The replay runs its days through
# fa-days (one process for the run), then again through fa-day per day
# (FA_DAY_ENGINE=shell), for the ratio. Goal (issue 12): replay with
# charts at most 50 ms/day; the machine is shared, so compare runs made
# together. The replay with charts runs FA_BENCH_REPEAT times (3): its
# figure is the median, with every run's beside it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH=$root/bin:$root/pipelines:$PATH
dir=${FA_BENCH_DIR:-$root/bench/out}/b20
rm -rf "$dir"
mkdir -p "$dir"
unset FA_LLM_URL FA_EMBED_MODEL FA_MODEL FA_VISION_MODEL FA_LEDGER FA_BUDGET_USD
args=(--symbol SYN --source synth:42 --warmup 2023-01-03:2023-02-28 --test 2023-03-01:2023-04-28 -q)

# run NAME FA-RUN-FLAGS...: times a fresh run; prints per-day figures
# (and keeps the wall nanoseconds per day in wall[NAME]).
declare -A wall=()
run() {
  local name=$1 t0 t1 c0 c1 days
  shift
  t0=$(date +%s%N)
  c0=$(awk '{ print $14 + $15 + $16 + $17 }' /proc/$$/stat)
  fa-run "${args[@]}" --out "$dir/$name" "$@" >/dev/null
  t1=$(date +%s%N)
  # CPU of this shell's waited-for children (utime, stime, cutime, cstime)
  c1=$(awk '{ print $14 + $15 + $16 + $17 }' /proc/$$/stat)
  days=$(find "$dir/$name/days" -name '*.ndjson' | wc -l)
  wall[$name]=$(((t1 - t0) / days))
  awk -v n="$name" -v w=$((t1 - t0)) -v c=$((c1 - c0)) -v d="$days" -v hz="$(getconf CLK_TCK)" 'BEGIN {
    printf "bench: day-%s-wall %.0f ms/day\n", n, w / 1e6 / d
    printf "bench: day-%s-cpu %.0f ms/day\n", n, c * 1000 / hz / d
    printf "bench: day-%s-days %d days\n", n, d }'
  jq -rs --arg n "$name" 'length as $d | map(.ms | to_entries[]) | group_by(.key)
    | map({k: .[0].key, v: (map(.value) | add / $d)}) | sort_by(-.v)[]
    | "stage: day-\($n) \(.k) \(.v * 10 | round / 10) ms/day"' "$dir/$name/timing.ndjson"
}

export FA_LLM=offline FA_CACHE_DIR=$dir/cache
run offline
run offline-nocharts --no-charts

# The fake server once (not timed), then the replay (timed).
unset FA_LLM
pf=$dir/port
python3 "$root/tests/fakes/openai.py" --port-file "$pf" \
  --replies "$root/tests/fixtures/pipelines/replies.json" >"$dir/fake.log" 2>&1 &
fake=$!
for _ in $(seq 100); do [ -s "$pf" ] && break; sleep 0.05; done
port=$(cat "$pf")
export FA_LLM_URL=http://127.0.0.1:$port/v1 FA_MODEL=fake-chat FA_EMBED_MODEL=fake-embed
fa-run "${args[@]}" --out "$dir/record" >/dev/null
fa-run "${args[@]}" --out "$dir/record-nocharts" --no-charts >/dev/null
kill "$fake"
wait "$fake" 2>/dev/null || true
export FA_CACHE=replay
reps=()
for r in $(seq "${FA_BENCH_REPEAT:-3}"); do
  run "replay-$r" >"$dir/replay-$r.out" # (not in a pipe: run sets wall[])
  sed -n "s/^bench: day-replay-$r-wall/bench: day-replay-run$r-wall/p" "$dir/replay-$r.out"
  reps+=("${wall[replay-$r]}")
done
# the median run, printed in full as "replay"
med=$(printf '%s\n' "${reps[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
for r in $(seq "${FA_BENCH_REPEAT:-3}"); do
  if [ "${wall[replay-$r]}" = "$med" ]; then
    mv "$dir/replay-$r" "$dir/replay"
    break
  fi
done
wall[replay]=$med
rm -rf "$dir"/replay-[0-9]* # (the other runs)
awk -v w="$med" -v all="${reps[*]}" 'BEGIN {
  n = split(all, a, " "); s = ""
  for (i = 1; i <= n; i++) s = s sprintf("%s%.0f", i > 1 ? " " : "", a[i] / 1e6)
  printf "bench: day-replay-wall %.0f ms/day (median of %d runs: %s)\n", w / 1e6, n, s }'
jq -rs 'length as $d | map(.ms | to_entries[]) | group_by(.key)
  | map({k: .[0].key, v: (map(.value) | add / $d)}) | sort_by(-.v)[]
  | "stage: day-replay \(.k) \(.v * 10 | round / 10) ms/day"' "$dir/replay/timing.ndjson"
run replay-nocharts --no-charts
# the same replay with fa-day once per day (FA_DAY_ENGINE=shell), for the ratio
FA_DAY_ENGINE=shell run replay-shell
# what a process costs here: fa-days forks a child per stage (no exec);
# fa-day forks and execs one, from bash
t0=$(date +%s%N)
for _ in $(seq 200); do /bin/true; done
t1=$(date +%s%N)
echo "bench: process-fork-exec $(((t1 - t0) / 200000)) us (bash running /bin/true)"
awk -v s="${wall[replay-shell]}" -v d="${wall[replay]}" 'BEGIN {
  printf "ratio: day-replay-wall fa-day/fa-days %.2f\n", s / d }'
awk -v w="${wall[replay]}" 'BEGIN { v = w / 1e6
  printf "goal: day-replay-wall at most 50 ms/day (issue 12): %s (%.0f)\n", v <= 50 ? "met" : "NOT met", v }'
rm -rf "$dir"/*/memory "$dir/cache"
