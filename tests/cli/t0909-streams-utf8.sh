#!/usr/bin/env bash
# Streams are UTF-8: a line with invalid UTF-8 (a stray byte, an overlong
# form, a surrogate) or a NUL byte (a line of NULs too) becomes an error
# record with its where, and never reaches the output; valid UTF-8 passes.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
good='{"kind":"news","symbol":"X","date":"2024-01-02","title":"caf\u00e9 \u65e5\u672c \ud83d\ude80"}'
{ printf '%s\n' '{"kind":"news","symbol":"X","date":"2024-01-02","title":"café 日本 🚀"}'
  printf '{"kind":"news","symbol":"X","date":"2024-01-02","title":"bad \xff byte"}\n'
  printf '{"kind":"news","symbol":"X","date":"2024-01-02","title":"overlong \xc0\xaf"}\n'
  printf '{"kind":"news","symbol":"X","date":"2024-01-02","title":"surrogate \xed\xa0\x80"}\n'
  printf '\000\000\000\000\n'
  printf '{"kind":"news","symbol":"X","date":"2024-01-02","title":"nul\000here"}\n'
  printf '%s\n' "$good"; } >"$T/in.ndjson"
utf8() { python3 -c 'import sys; sys.stdin.buffer.read().decode("utf-8")' <"$1"; }
for prog in fa-tools fa-metrics fa-decide; do
  run "$prog" "$T/in.ndjson"
  is "$rc" 0 "$prog: exit 0"
  ok "utf8 '$out' && ! grep -qaP '\\x00' '$out'" "$prog: the output is UTF-8 without NUL bytes"
  is "$(jq -r 'select(.kind=="error") | "\(.where) \(.message)"' "$out" | sed "s|$T/||" | tr '\n' '|')" \
    "in.ndjson:2 invalid UTF-8 at column 62|in.ndjson:3 invalid UTF-8 at column 67|in.ndjson:4 invalid UTF-8 at column 68|in.ndjson:5 NUL byte at column 1|in.ndjson:6 NUL byte at column 61|" \
    "$prog: an error record with where for each bad line (the line of NULs too)"
  is "$(jq -r 'select(.kind=="news") | .title' "$out" | sort -u)" "café 日本 🚀" "$prog: valid UTF-8 passes"
done
run fa-tools --strict "$T/in.ndjson"
is "$rc" 1 "--strict: exit 1"
like "$(cat "$err")" "in.ndjson:2: invalid UTF-8 at column 62" "at the first, named"
done_testing
