#!/usr/bin/env bash
# fa-metrics --results-only prints the account and metrics records alone
# (the lines jq would select after it); fa-metrics -o FILE and fa-tools -o
# FILE write their stream to FILE atomically: the same bytes as standard
# output, no temporary file left, a target that is not a regular file
# refused (exit 2), an unwritable place an error (exit 1).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
fa-fetch -q --source synth:3 --symbol SYN --from 2023-02-01 --to 2023-04-28 --lookback 30 >"$T/p.ndjson"
run_in "$T/p.ndjson" fa-tools -q --window 15
is "$rc" 0 "signals to standard output"
cp "$out" "$T/signals.ndjson"
run_in "$T/p.ndjson" fa-tools -q --window 15 -o "$T/sig-o.ndjson"
is "$rc" 0 "fa-tools -o"
is "$(wc -c <"$out")" 0 "nothing on standard output"
same_file "$T/sig-o.ndjson" "$T/signals.ndjson" "the same stream in the file"

m=(fa-metrics -q --follow macd --from 2023-03-01 --to 2023-04-28)
run_in "$T/signals.ndjson" "${m[@]}"
cp "$out" "$T/all.ndjson"
run_in "$T/signals.ndjson" "${m[@]}" --results-only
is "$rc" 0 "--results-only"
same_file "$out" <(jq -c 'select(.kind == "account" or .kind == "metrics")' "$T/all.ndjson") \
  "the account and metrics lines, as jq selects them"
is "$(jq -r .kind "$out" | sort -u | tr '\n' ' ')" "account metrics " "nothing else"
run_in "$T/signals.ndjson" "${m[@]}" -r -o "$T/m.ndjson"
is "$rc" 0 "-r -o FILE"
same_file "$T/m.ndjson" <(jq -c 'select(.kind == "account" or .kind == "metrics")' "$T/all.ndjson") \
  "the same lines in the file"
is "$(find "$T" -maxdepth 1 -name '.*' | wc -l)" 0 "no temporary file left"

mkdir "$T/adir"
run_in "$T/signals.ndjson" "${m[@]}" -o "$T/adir"
is "$rc" 2 "a directory as the output: exit 2"
like "$(cat "$err")" "is a directory: not replaced" "saying so"
run_in "$T/signals.ndjson" "${m[@]}" -o "$T/nodir/m.ndjson"
is "$rc" 1 "a missing directory: exit 1"
like "$(cat "$err")" "nodir/m.ndjson" "naming the file"
printf 'old\n' >"$T/keep.ndjson"
printf '{"kind":"price","symbol":"SYN","date":"2023-03-01","open":1,"high":1,"low":1,"close":1}\n{bad\n' >"$T/bad.ndjson"
run fa-metrics -q --strict -o "$T/keep.ndjson" "$T/bad.ndjson"
is "$rc" 1 "a failed run (--strict, a bad line)"
is "$(cat "$T/keep.ndjson")" "old" "leaves the file it would have replaced as it was"
is "$(find "$T" -maxdepth 1 -name '.*' | wc -l)" 0 "and no temporary file"
done_testing
