#!/usr/bin/env bash
# fa-retrieve trusts no store twice: a memory that rows.idx dates before
# the query's day but whose record is dated on it is refused (an error
# record naming the store and row); a row pointing past the end of
# records.ndjson gives an error record naming store, row and what is wrong,
# and the stream goes on (--strict: exit 1).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
export FA_EMBED_DIM=16 FA_LLM=offline
unset FA_LLM_URL FA_EMBED_MODEL FA_RETRIEVE_TOP FA_THREADS FA_SIMD
for d in 2023-01-03 2023-01-04 2023-01-10; do
  printf '{"kind":"news","symbol":"X","date":"%s","asof":"%s","title":"shares rally on strong quarterly results %s","id":"n%s"}\n' "$d" "$d" "$d" "$d"
done >"$T/news.ndjson"
fa-embed --store "$T/m" --kind news --field title <"$T/news.ndjson" >/dev/null
q='{"kind":"intel","symbol":"X","date":"2023-01-10","asof":"2023-01-10","queries":{"short_term":"shares rally on strong quarterly results today"},"id":"q1"}'
echo "$q" >"$T/q.ndjson"
run_in "$T/q.ndjson" fa-retrieve --store "$T/m" -k 5
is "$(jq -r 'select(.kind=="hit") | .memory.date' "$out" | sort | tr '\n' ' ')" "2023-01-03 2023-01-04 " \
  "an intact store: the two memories before the day"

# rows.idx row 2 (dated 2023-01-10) now claims row 0's day
cp -r "$T/m" "$T/m2"
python3 - "$T/m2/rows.idx" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[2 * 32 + 12:2 * 32 + 16] = b[12:16]
open(p, "wb").write(b)
PY
run_in "$T/q.ndjson" fa-retrieve --store "$T/m2" -k 5
is "$rc" 0 "a damaged index date: exit 0"
is "$(jq -r 'select(.kind=="hit") | .memory.date' "$out" | sort | tr '\n' ' ')" "2023-01-03 2023-01-04 " \
  "the memory of the query's own day is not let through"
like "$(jq -r 'select(.kind=="error") | .message' "$out")" \
  "firewall: store '$T/m2' row 2: the record's asof 2023-01-10 is not before 2023-01-10, but rows.idx says 2023-01-03" \
  "an error record names the store and the inconsistent row"
run_in "$T/q.ndjson" fa-retrieve --strict --store "$T/m2" -k 5
is "$rc" 1 "--strict: exit 1"

# rows.idx row 0 points past the end of records.ndjson
cp -r "$T/m" "$T/m3"
python3 - "$T/m3/rows.idx" <<'PY'
import struct, sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[0:8] = struct.pack("<Q", 1 << 40)
open(p, "wb").write(b)
PY
{ echo "$q"; echo '{"kind":"price","symbol":"X","date":"2023-01-11","close":1,"id":"p"}'; } >"$T/q2.ndjson"
run_in "$T/q2.ndjson" fa-retrieve --store "$T/m3" -k 5
is "$rc" 0 "an index row past the end of the records: exit 0"
like "$(jq -r 'select(.kind=="error") | .message' "$out")" \
  "store '$T/m3': row 0: rows.idx points at bytes 1099511627776\\.\\.[0-9]+ of records.ndjson, past its end \\([0-9]+ bytes\\)" \
  "an error record names the store, the row and what is wrong"
ok "! grep -q 'Input/output error' '$err'" "not 'Input/output error'"
is "$(jq -r '.kind' "$out" | tr '\n' ' ')" "intel error hit price " "the stream goes on past it"
done_testing
