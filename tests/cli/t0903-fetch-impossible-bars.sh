#!/usr/bin/env bash
# Impossible bars are rejected with file:line: high below low, low above
# open or close, high below them, a NUL byte in a field, non-finite and
# absurd prices; a header-only file says so.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
H=date,open,high,low,close,volume
bad_row() { # ROW WANT NAME
  printf '%s\n2024-01-02,10,11,9,10,100\n%s\n' "$H" "$1" >"$T/b.csv"
  run fa-fetch --source "csv:$T/b.csv" --symbol X
  is "$rc:$(wc -c <"$out")" 1:0 "$3: exit 1, nothing printed"
  like "$(cat "$err")" "b.csv:3: $2" "$3: file:line and why"
}
bad_row 2024-01-03,10,9,11,10,100 'impossible bar: high below low' "high < low"
bad_row 2024-01-03,10,12,10.5,11,100 'impossible bar: low above open' "low above open"
bad_row 2024-01-03,10,12,9,8,100 'impossible bar: low above close' "low above close"
bad_row 2024-01-03,13,12,9,11,100 'impossible bar: high below open' "high below open"
bad_row 2024-01-03,10,12,9,12.5,100 'impossible bar: high below close' "high below close"
bad_row 2024-01-03,1e308,1e308,1e308,1e308,100 'absurd price: open 1e\+308' "1e308 prices"
bad_row 2024-01-03,inf,inf,9,10,100 "bad open 'inf'" "infinite price"
bad_row 2024-01-03,nan,11,9,10,100 "bad open 'nan'" "NaN price"
bad_row 2024-01-03,10,11,9,10,1e300 'absurd volume' "absurd volume"
printf '%s\n2024-01-02,10,11,9,10,100\n2024-01-03,10,11,9,1\000,100\n' "$H" >"$T/b.csv"
run fa-fetch --source "csv:$T/b.csv" --symbol X
is "$rc" 1 "a NUL byte inside a field: exit 1"
like "$(cat "$err")" 'b.csv:3: NUL byte in a field' "naming the line"
echo "$H" >"$T/b.csv"
run fa-fetch --source "csv:$T/b.csv" --symbol X
is "$rc" 1 "header only: exit 1"
like "$(cat "$err")" 'b.csv:1: no price rows after the header' "says so"
printf '%s\n2024-01-02,10,10,10,10,0\n' "$H" >"$T/b.csv"
run fa-fetch --source "csv:$T/b.csv" --symbol X
is "$rc" 0 "a flat bar (all four equal, no volume) is possible"
# the same checks on fa NDJSON price records
echo '{"kind":"price","symbol":"X","date":"2024-01-02","open":10,"high":9,"low":11,"close":10}' >"$T/b.ndjson"
run fa-fetch --source "ndjson:$T/b.ndjson" --symbol X
like "$(cat "$err")" 'b.ndjson:1: impossible bar: high below low' "ndjson: the same rule"
done_testing
