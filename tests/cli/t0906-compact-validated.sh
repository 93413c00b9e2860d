#!/usr/bin/env bash
# A compact store's copy is validated when it is opened for reading: a
# compact file missing or short, or a scale that is 0 for a non-zero row,
# NaN, negative, 1e38 or not the row's, makes fa-retrieve search the
# float32 rows instead (the same hits) with a warning naming the problem;
# a writer refuses a store whose compact file is missing.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
export FA_EMBED_DIM=16 FA_LLM=offline
unset FA_LLM_URL FA_EMBED_MODEL FA_EMBED_STORE FA_EMBED_DTYPE FA_RETRIEVE_TOP FA_RETRIEVE_KERNEL FA_THREADS FA_SIMD
for i in $(seq 1 30); do
  printf '{"kind":"news","symbol":"X","date":"2023-01-%02d","title":"shares rally on strong results number %d with word%d"}\n' $((i % 9 + 1)) "$i" $((i * 7 % 11))
done >"$T/n.ndjson"
echo '{"kind":"intel","symbol":"X","date":"2023-02-10","queries":{"short_term":"shares rally on strong quarterly results today"}}' >"$T/q.ndjson"
hits() { jq -c 'select(.kind=="hit") | [.memory.title, .score]' "$out"; }
for dt in int8 f16; do
  c=vectors.i8; [ "$dt" = f16 ] && c=vectors.f16
  fa-embed --store "$T/$dt" --dtype "$dt" --kind news --field title <"$T/n.ndjson" >/dev/null
  run_in "$T/q.ndjson" fa-retrieve --store "$T/$dt" -k 8 --kernel f32
  hits >"$T/want"
  is "$(wc -l <"$T/want")" 8 "$dt: 8 hits from the float32 rows"
  damage() { # NAME CMD: a copy of the store damaged by CMD (run in it)
    rm -rf "$T/d" && cp -r "$T/$dt" "$T/d" && (cd "$T/d" && eval "$2")
    run_in "$T/q.ndjson" fa-retrieve --store "$T/d" -k 8
    hits >"$T/got"
    is "$rc" 0 "$dt, $1: exit 0"
    same_file "$T/got" "$T/want" "$dt, $1: the same hits as the float32 scan"
    like "$(cat "$err")" "store '$T/d': compact copy not used \\(.*$3.*\\): searching the float32 rows" \
      "$dt, $1: a warning says why"
  }
  scale() { python3 -c "import struct,sys; b=bytearray(open('scales.f32','rb').read()); b[0:4]=struct.pack('<f',float(sys.argv[1])); open('scales.f32','wb').write(b)" "$1"; }
  damage "compact file missing" "rm $c" "$c is missing"
  damage "scale 0" "scale 0" "row 0's scale 0 is 0 for a row that is not zero"
  damage "scale NaN" "scale nan" "is not a number"
  damage "scale negative" "scale -0.5" "is negative"
  damage "scale 1e38" "scale 1e38" "larger than any row allows"
  damage "scale wrong" "scale 0.5" "not the float32 row's"
  run_in "$T/q.ndjson" fa-retrieve --store "$T/$dt" -k 8
  is "$(wc -c <"$err")" 0 "$dt: an intact store, no warning"
done
rm -rf "$T/d" && cp -r "$T/int8" "$T/d" && rm "$T/d/vectors.i8"
run_in "$T/n.ndjson" fa-embed --store "$T/d" --kind news --field title
is "$rc" 1 "a writer refuses a compact store without its compact file"
like "$(cat "$err")" "vectors.i8" "naming it"
done_testing
