#!/usr/bin/env bash
# b40-report: a 250-day run's page: how long fa-report takes to write it,
# how large it is, and how long headless Chromium takes to open it (from
# navigation start to the end of the load event, read from the page's own
# performance timing in a copy with a timing script added; the real page
# has no script), and the CPU seconds Chromium spends to open the page
# and draw its first screen, beyond what it spends on an empty page (all
# its processes; a figure that a busy machine does not inflate, where the
# wall-clock timing is). Goal: the page opens in under a second.
# The 250 days are a real 5-day run (charts on) repeated under 250
# weekday dates, so the page holds 250 days of real records and charts.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH=$root/bin:$root/pipelines:$PATH
dir=${FA_BENCH_DIR:-$root/bench/out}/b40
rm -rf "$dir"
mkdir -p "$dir"
unset FA_LLM_URL FA_EMBED_MODEL FA_MODEL FA_VISION_MODEL FA_LEDGER FA_BUDGET_USD
export FA_LLM=offline FA_CACHE_DIR=$dir/cache FA_JOURNAL_KEY=$dir/journal.key
src=$dir/src
fa-run -q --symbol SYN --source synth:42 --warmup 2023-02-27:2023-03-03 --test 2023-03-06:2023-03-10 \
  --out "$src" >/dev/null
mapfile -t have < <(find "$src/days" -name '*.ndjson' -printf '%f\n' | sed 's/\.ndjson$//' | sort)
# 250 weekdays from 2022-01-03, each a copy of one of the real days
run=$dir/run250
mkdir -p "$run/days" "$run/charts" "$run/report"
cp "$src/config.json" "$src/metrics.ndjson" "$run/"
cp "$src"/report/*.ndjson "$run/report/"
d=2022-01-03 n=0
while [ "$n" -lt 250 ]; do
  if [ "$(date -u -d "$d" +%u)" -le 5 ]; then
    s=${have[$((n % ${#have[@]}))]}
    sed "s/$s/$d/g" "$src/days/$s.ndjson" >"$run/days/$d.ndjson"
    for c in kline trading; do
      [ ! -f "$src/charts/SYN-$s-$c.png" ] || cp "$src/charts/SYN-$s-$c.png" "$run/charts/SYN-$d-$c.png"
    done
    n=$((n + 1))
  fi
  d=$(date -u -d "$d + 1 day" +%F)
done
jq --arg f 2022-01-03 --arg t "$(date -u -d "$d - 1 day" +%F)" '.warmup = null | .test = {from: $f, to: $t}' \
  "$src/config.json" >"$run/config.json"

t0=$(date +%s%N)
fa-report "$run"
t1=$(date +%s%N)
page=$run/report/index.html
awk -v w=$((t1 - t0)) 'BEGIN { printf "bench: report-250-write %.0f ms\n", w / 1e6 }'
awk -v b="$(stat -c %s "$page")" 'BEGIN { printf "bench: report-250-size %.1f MB\n", b / 1e6 }'
fa-report --no-images -o "$dir/small.html" "$run"
awk -v b="$(stat -c %s "$dir/small.html")" 'BEGIN { printf "bench: report-250-noimages-size %.1f MB\n", b / 1e6 }'

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "bench: report-250-open skipped (no chromium)"
  exit 0
fi
# open FILE: ms from navigation start to the load event's end, in Chromium
open_ms() {
  local timed=$dir/timed.html prof
  sed 's|<meta http-equiv="Content-Security-Policy"[^>]*>||' "$1" >"$timed"
  cat >>"$timed" <<'JS'
<script>addEventListener('load', function () { setTimeout(function () {
  var t = performance.getEntriesByType('navigation')[0];
  document.title = 'load=' + Math.round(t.loadEventEnd) + ' dcl=' + Math.round(t.domContentLoadedEventEnd);
}, 0); });</script>
JS
  prof=$(mktemp -d)
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$prof" --virtual-time-budget=5000 --dump-dom "file://$timed" 2>/dev/null |
    grep -o '<title>load=[0-9]* dcl=[0-9]*</title>' | sed 's/<title>//; s/<\/title>//'
  rm -rf "$prof"
}
# cpu_ms FILE: CPU milliseconds (user + system, every Chromium process)
# to open FILE and take a screenshot of its first screen.
cpu_ms() {
  local prof c0 c1 me=$BASHPID # (inside $(...) below, BASHPID is another process)
  prof=$(mktemp -d)
  c0=$(awk '{ print $16 + $17 }' "/proc/$me/stat")
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$prof" --window-size=1280,1000 --screenshot="$dir/shot.png" "file://$1" \
    >/dev/null 2>&1 || true
  c1=$(awk '{ print $16 + $17 }' "/proc/$me/stat")
  rm -rf "$prof"
  echo $(((c1 - c0) * 1000 / $(getconf CLK_TCK)))
}
printf '<!DOCTYPE html><title>empty</title>\n' >"$dir/empty.html"
for i in 1 2 3; do
  e=$(cpu_ms "$dir/empty.html") p=$(cpu_ms "$page")
  echo "bench: report-250-open-cpu-run$i $((p - e)) ms (Chromium CPU beyond an empty page's $e ms)"
done
for i in 1 2 3; do
  r=$(open_ms "$page")
  echo "bench: report-250-open-run$i ${r#load=} (ms: load event end, DOMContentLoaded)"
done
r=$(open_ms "$dir/small.html")
echo "bench: report-250-noimages-open ${r#load=} (ms)"
rm -rf "$src" "$run/charts" "$dir/cache" "$dir/timed.html" "$dir/shot.png" # large; the pages stay
