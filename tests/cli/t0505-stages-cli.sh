#!/usr/bin/env bash
# The four stage programs: core flags, bad flags, bad lines, closed and
# full stdout, out-of-order days.
. "$(dirname "$0")/lib.sh"
DAYS=$FIXTURES/stages/days.ndjson
for p in "fa-intel --latest" fa-reflect-low fa-reflect-high fa-decide; do
  read -ra pa <<<"$p"
  n=${pa[0]}
  run "$n" --help
  is "$rc" 0 "$n --help: exit 0"
  like "$(head -n1 "$out")" "^Usage: $n" "$n --help: usage on stdout"
  run "$n" --version
  like "$(cat "$out")" "^$n \(fa\) " "$n --version"
  run "${pa[@]}" --no-such-flag
  is "$rc" 2 "$n: a bad flag is exit 2"
  like "$(cat "$err")" "Try '$n --help'" "$n: a bad flag says how to get help"
  run "${pa[@]}" --from 2023-13-01
  is "$rc" 2 "$n: a bad date is exit 2"
  a=("${pa[@]}")
  [ "$n" != fa-intel ] && [ "$n" != fa-decide ] && a+=(--no-charts)
  run_in "$DAYS" "${a[@]}"
  is "$rc" 0 "$n: the fixture runs"
  printf '%s\n' '{"kind":"price","symbol":"TEST","date":"2023-06-01","asof":"2023-06-01","open":1,"high":2,"low":1,"close":1,"id":"p"}' 'this is not json' >"$T/bad.ndjson"
  run "${a[@]}" "$T/bad.ndjson"
  is "$rc" 0 "$n: a bad line becomes an error record"
  like "$(grep '"kind":"error"' "$out" | jq -r .where)" 'bad.ndjson:2' "$n: the error record names file:line"
  run "${a[@]}" --strict "$T/bad.ndjson"
  is "$rc" 1 "$n: --strict makes it fatal"
  ( "${a[@]}" "$DAYS" 2>"$T/pipe.err"; echo $? >"$T/pipe.rc" ) | head -n1 >/dev/null
  is "$(cat "$T/pipe.rc")" 0 "$n: a closed pipe ends quietly"
  if [ -w /dev/full ]; then
    "${a[@]}" "$DAYS" >/dev/full 2>"$T/full.err"
    is "$?" 1 "$n: a full disk is exit 1"
  else
    skip "$n: /dev/full" "no /dev/full"
  fi
  run "${a[@]}" "$T/missing.ndjson"
  is "$rc" 1 "$n: a missing input file is exit 1"
done
# days out of order
{ grep '"date":"2023-06-02"' "$DAYS" | head -n1; grep '"date":"2023-06-01"' "$DAYS" | head -n1; } >"$T/order.ndjson"
run fa-decide "$T/order.ndjson"
like "$(grep '"kind":"error"' "$out" | jq -r .message)" 'out of order' "a day that goes back in time is an error"
is "$(grep -c '"kind":"decision"' "$out")" 1 "and gets no decision"
done_testing
