#!/usr/bin/env bash
# The point-in-time firewall, end to end: a run, then the same run on data
# where every price and news item after day t is changed: every day up to t
# (its whole stream, so every decision) is identical, and the days after t
# did see the change. Every record of a test day is dated no later than
# the day; every record of a warm-up day no later than the warm-up's end.
. "$(dirname "$0")/lib.sh"
if [ "${FA_SUITE:-plain}" = san ]; then
  skip "firewall" "the firewall proof reruns whole pipelines; plain suite only (the same programs run under the sanitizers in t0601, t0602)"; done_testing; exit 0
fi
for p in fa-fetch fa-intel fa-retrieve fa-embed fa-reflect-low fa-reflect-high fa-tools fa-decide fa-metrics; do
  command -v "$p" >/dev/null || { skip "firewall" "$p is not built"; done_testing; exit 0; }
done
export FA_LLM=offline
t=2023-03-08
# The market: a synthetic one written out as fa records, and a copy with
# everything after t changed (prices up 40% and reversed news; ids dropped
# so that fa-fetch recomputes them).
fa-fetch -q --source synth:23 --symbol SYN --from 2023-01-02 --to 2023-03-10 >"$T/market.ndjson"
jq -c --arg t "$t" 'if .date > $t then del(.id)
  | if .kind == "price" then .open *= 1.4 | .high *= 1.4 | .low *= 1.4 | .close *= 1.4 | .adj_close *= 1.4
    elif .kind == "news" then .title = "SYN collapses as regulators open a fraud probe" | .text = "Shares plunged; analysts cut targets and warned of heavy losses."
    else . end
  else . end' "$T/market.ndjson" >"$T/changed.ndjson"
is "$(jq -c --arg t "$t" 'select(.date <= $t)' "$T/changed.ndjson" | md5sum)" \
  "$(jq -c --arg t "$t" 'select(.date <= $t)' "$T/market.ndjson" | md5sum)" "the data agree up to t"
ok "! cmp -s '$T/market.ndjson' '$T/changed.ndjson'" "and differ after it"

args=(--symbol SYN --warmup 2023-03-01:2023-03-02 --test 2023-03-06:2023-03-10 --no-charts -q)
run fa-run "${args[@]}" --source "ndjson:$T/market.ndjson" --out "$T/a"
is "$rc" 0 "a run on the market"
[ "$rc" -eq 0 ] || sed "s/^/#   /" "$err" | tail -n 5
run fa-run "${args[@]}" --source "ndjson:$T/changed.ndjson" --out "$T/b"
is "$rc" 0 "the same run on the changed market"
[ "$rc" -eq 0 ] || sed "s/^/#   /" "$err" | tail -n 5

strip() { jq -c 'select(.kind != "llm")' "$1"; }
for f in "$T"/a/days/*.ndjson; do
  d=$(basename "$f" .ndjson)
  if [[ $d > $t ]]; then
    ok "! cmp -s <(strip '$f') <(strip '$T/b/days/$d.ndjson')" "$d (after t) saw the change"
  else
    same_file <(strip "$f") <(strip "$T/b/days/$d.ndjson") "$d (up to t): the same stream"
    is "$(jq -c 'select(.kind == "decision")' "$T/b/days/$d.ndjson")" \
      "$(jq -c 'select(.kind == "decision")' "$f")" "$d (up to t): the same decision"
  fi
done

# asof never after the day (test) or the warm-up's end (warm-up).
late=$(jq -r 'select((.asof // .date) > (input_filename | sub(".*/"; "") | sub("\\.ndjson$"; "")))
  | "\(input_filename | sub(".*/"; "")) \(.kind) \(.asof)"' "$T"/a/days/2023-03-{06,07,08,09,10}.ndjson)
is "$late" "" "no record of a test day is dated after it"
late=$(jq -r 'select((.asof // .date) > "2023-03-02") | "\(.kind) \(.asof)"' "$T"/a/days/2023-03-0[12].ndjson)
is "$late" "" "no record of a warm-up day is dated after the warm-up"
hind=$(jq -r 'select(.kind == "reflect_low" and .asof > .date) | .date' "$T"/a/days/*.ndjson | wc -l)
ok "[ '$hind' -gt 0 ]" "the warm-up's low-level reflections did use hindsight"
done_testing
