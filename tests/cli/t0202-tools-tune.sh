#!/usr/bin/env bash
# fa-tools --tune: a seeded search, reported on stderr, written atomically
# as a params file that --params reads back.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=../fixtures/markets/json.sh
. "$FIXTURES/markets/json.sh"
P=$FIXTURES/markets/prices.ndjson
mkdir "$T/d"

run_in "$P" fa-tools --tune --from 2024-01-16 --to 2024-03-22 --window 15 --seed 7 --trials 40 -o "$T/d/p1.json"
is "$rc" 0 "tune exits 0"
is "$(count "$out" price)" 120 "records pass through"
is "$(count "$out" signal)" 0 "no signals while tuning"
is "$(grep -c 'tune AAA ' "$err")" 4 "one report line per tuned strategy of AAA"
like "$(grep 'tune BBB zmr' "$err")" "40 trials, best SR -?[0-9.]+ .*starting SR" "the report names trials and SRs"
ok "python3 -c 'import json,sys; json.load(open(sys.argv[1]))' '$T/d/p1.json'" "a JSON params file"
is "$(ls "$T/d")" "p1.json" "no temporary file left"
ok "python3 - '$err' <<'PY'
import re, sys
for line in open(sys.argv[1]):
    m = re.search(r'best SR (\S+) .*starting SR (\S+),', line)
    if m and float(m.group(1)) < float(m.group(2)) - 1e-12:
        sys.exit(1)
PY" "the best SR is never below the starting parameters'"

run_in "$P" fa-tools --strategy macd,kdj_rsi,stoch_bb,zmr --params "$T/d/p1.json" --window 15
is "$rc" 0 "--params reads the tuned file"

run_in "$P" fa-tools --tune --from 2024-01-16 --to 2024-03-22 --window 15 --seed 7 --trials 40 -o "$T/d/p2.json"
same_file "$T/d/p1.json" "$T/d/p2.json" "the same seed gives the same file"
run_in "$P" fa-tools --tune --strategy zmr --from 2024-01-16 --to 2024-03-22 --window 15 --seed 7 --trials 40 -o "$T/d/p3.json"
is "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["AAA"]["zmr"])' "$T/d/p3.json")" \
  "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["AAA"]["zmr"])' "$T/d/p1.json")" \
  "selecting one strategy draws the same candidates for it"

run_in "$P" fa-tools --tune --from 2024-01-16 --to 2024-03-22 -o "$T/nodir/p.json"
is "$rc" 1 "an unwritable output exits 1"
ok "[ ! -e '$T/nodir/p.json' ]" "and leaves no file"
run fa-tools --tune --from 2024-01-16 --to 2024-03-22
is "$rc" 2 "--tune without --output: exit 2"
run fa-tools --tune --from 2024-03-22 --to 2024-01-16 -o "$T/x.json"
is "$rc" 2 "--from after --to: exit 2"
run fa-tools --tune --from 2024-02-30 --to 2024-03-22 -o "$T/x.json"
is "$rc" 2 "an invalid date: exit 2"
run fa-tools --tune --from 2024-01-16 --to 2024-03-22 --trials 0 -o "$T/x.json"
is "$rc" 2 "--trials 0: exit 2"
done_testing
