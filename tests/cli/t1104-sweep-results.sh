#!/usr/bin/env bash
# fa-sweep's results: 2 symbols x 2 variants of one-day runs give
# SWEEP/results.ndjson (a record per run, then per symbol and variant the
# mean and spread over seeds, buy and hold beside) and results.md linking
# each run's page; a rerun resumes from parallel's joblog and starts no
# run again; --seeds runs a configuration under several seeds. A shell
# pipeline test: the plain suite only (fa-report and fa-journal, the C
# code it runs, are under the sanitizers in t1101 and t1102).
. "$(dirname "$0")/lib.sh"
if [ "${FA_SUITE:-plain}" = san ]; then
  skip "fa-sweep results" "plain suite only (no C code of its own)"; done_testing; exit 0
fi
for p in parallel fa-report fa-fetch fa-decide fa-metrics; do
  command -v "$p" >/dev/null || { skip "fa-sweep results" "$p is missing"; done_testing; exit 0; }
done
export FA_LLM=offline
S=$T/sw
syms=AAA,BBB
args=(--out "$S" --symbols "$syms" --variant base= --variant notools='--without tools' -j 2
  -- --source synth:3 --test 2023-03-06:2023-03-06 --no-charts)
run fa-sweep "${args[@]}"
is "$rc" 0 "a sweep of 2 symbols x 2 variants"
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$err" | tail -n 5
is "$(jq -r 'select(.kind == "sweep_run") | "\(.symbol)/\(.variant)/\(.seed)"' "$S/results.ndjson" | paste -sd' ')" \
  "AAA/base/null AAA/notools/null BBB/base/null BBB/notools/null" "a record per run"
want=$(jq -c 'select(.follow == "decision") | .total_return' "$S/BBB/notools/metrics.ndjson")
is "$(jq -c 'select(.kind == "sweep_run" and .symbol == "BBB" and .variant == "notools") | .agent.total_return' "$S/results.ndjson")" \
  "$want" "with the agent's metrics of that run"
want=$(jq -c 'select(.follow == "buy_hold") | .total_return' "$S/BBB/notools/metrics.ndjson")
is "$(jq -c 'select(.kind == "sweep_run" and .symbol == "BBB" and .variant == "notools") | .buy_hold.total_return' "$S/results.ndjson")" \
  "$want" "and buy and hold's beside them"
is "$(jq -r 'select(.kind == "sweep_summary") | "\(.symbol)/\(.variant):\(.seeds)"' "$S/results.ndjson" | paste -sd' ')" \
  "AAA/base:1 AAA/notools:1 BBB/base:1 BBB/notools:1" "a summary per symbol and variant"
md=$(cat "$S/results.md")
like "$md" "\| BBB \| notools \| 1 \| " "results.md has the summary rows"
links=$(grep -o '](\([^)]*\))' "$S/results.md" | sed 's/^](//; s/)$//')
is "$(wc -l <<<"$links")" 4 "and links each run's page"
missing=0
for l in $links; do [ -s "$S/$l" ] || missing=$((missing + 1)); done
is "$missing" 0 "every link is a page"
cp "$S/joblog" "$T/joblog"
cp "$S/AAA/base/report/index.html" "$T/page"
run fa-sweep "${args[@]}"
is "$rc" 0 "the sweep again"
same_file "$S/joblog" "$T/joblog" "resumes from the joblog: no run starts again"
same_file "$S/AAA/base/report/index.html" "$T/page" "and no page is rewritten"

# Seeds: one configuration under two, their mean and spread.
run fa-sweep --out "$T/seeds" --symbols AAA --seeds 1,2 -j 2 -- --source synth:3 --test 2023-03-06:2023-03-06 --no-charts
is "$rc" 0 "a sweep with --seeds 1,2"
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$err" | tail -n 5
is "$(jq -r 'select(.kind == "sweep_run") | .run' "$T/seeds/results.ndjson" | paste -sd' ')" \
  "AAA/base/seed-1 AAA/base/seed-2" "a run per seed"
is "$(jq -r '.llm.seed' "$T/seeds/AAA/base/seed-2/config.json")" 2 "each with its seed in its configuration"
mean=$(jq -s '[.[] | select(.kind == "sweep_run") | .agent.total_return] | add / length' "$T/seeds/results.ndjson")
is "$(jq 'select(.kind == "sweep_summary") | .agent.total_return.mean' "$T/seeds/results.ndjson")" \
  "$mean" "the summary's mean is the runs' mean"
ok "jq -e 'select(.kind == \"sweep_summary\") | .seeds == 2 and .agent.total_return.sd >= 0 and (.buy_hold | has(\"total_return\"))' '$T/seeds/results.ndjson' >/dev/null" \
  "with its spread, and buy and hold beside"
run fa-sweep --out "$S" --symbols AAA --seeds 1,x -- --source synth:3 --test 2023-03-06:2023-03-06
is "$rc" 2 "--seeds takes counts"
run fa-sweep --out "$S" --symbols AAA --seeds 1,1 -- --source synth:3 --test 2023-03-06:2023-03-06
is "$rc" 2 "each once"
done_testing
