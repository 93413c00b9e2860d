#!/usr/bin/env bash
# fa-retrieve's streamed scan (rows read in chunks by the scan threads, the
# chunks' top k merged) finds the same hits, byte for byte, as the scan of
# the mapping: across chunk boundaries, with the day filter, one and two
# threads, several queries and retrieval types.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
export FA_EMBED_DIM=16 FA_LLM=offline
unset FA_LLM_URL FA_EMBED_MODEL FA_RETRIEVE_TOP FA_THREADS FA_SIMD FA_RETRIEVE_IO

# 1400 memories in chunks of 480 rows (FA_RETRIEVE_CHUNK; about 1 MB of
# rows by default), dated over 2022-2023; a small dimension keeps it quick.
export FA_RETRIEVE_CHUNK=480
awk 'BEGIN {
  split("rally slump outlook guidance lawsuit contract margin demand chips cloud", w, " ")
  for (i = 0; i < 1400; i++) {
    d = sprintf("%04d-%02d-%02d", 2022 + int(i / 700), 1 + int(i / 60) % 12, 1 + i % 28)
    printf "{\"kind\":\"news\",\"symbol\":\"SYN\",\"date\":\"%s\",\"asof\":\"%s\",\"title\":\"%s %s %s item %d\",\"text\":\"%s and %s\"}\n",
      d, d, w[1 + i % 10], w[1 + int(i / 10) % 10], w[1 + int(i / 100) % 10], i, w[1 + int(i / 7) % 10], w[1 + int(i / 13) % 10]
  }
}' >"$T/news.ndjson"
run_in "$T/news.ndjson" fa-embed -q --store "$T/m" --kind news --text '{title}\n{text}'
is "$rc" 0 "a store of 1400 rows"
cat >"$T/q.ndjson" <<'EOQ'
{"kind":"intel","symbol":"SYN","date":"2024-01-02","queries":{"short_term":"rally in chips demand after the outlook","medium_term":"lawsuit over cloud contract and margin","long_term":"slump in demand guidance cut for chips"}}
{"kind":"intel","symbol":"SYN","date":"2022-03-15","queries":{"short_term":"rally in chips demand after the outlook","medium_term":"margin guidance demand cloud rally","long_term":"contract lawsuit slump outlook chips"}}
{"kind":"intel","symbol":"SYN","date":"2023-07-09","queries":{"short_term":"cloud margin rally outlook demand","medium_term":"chips contract lawsuit guidance slump","long_term":"demand for chips and cloud contract rally"}}
EOQ
for t in 1 2; do
  FA_RETRIEVE_IO=map run_in "$T/q.ndjson" fa-retrieve -q --store "$T/m" --query-field queries -k 7 --threads "$t"
  is "$rc" 0 "mapped scan, $t thread(s)"
  map=$out
  FA_RETRIEVE_IO="read" run_in "$T/q.ndjson" fa-retrieve -q --store "$T/m" --query-field queries -k 7 --threads "$t"
  is "$rc" 0 "streamed scan, $t thread(s)"
  same_file "$out" "$map" "the same records, byte for byte ($t thread(s))"
done
is "$(jq -r 'select(.kind == "hit") | .memory.title' "$map" | sed 's/.* item //' | sort -un |
  awk '$1 >= 480 { hi = 1 } $1 < 480 { lo = 1 } END { print lo + hi }')" 2 \
  "hits come from both sides of a chunk boundary"
is "$(jq -r 'select(.kind == "hit" and .date == "2022-03-15") | .memory.date < "2022-03-15"' "$map" |
  sort -u)" true "the day filter holds in the streamed scan too"
FA_RETRIEVE_IO="read" run_in "$T/q.ndjson" fa-retrieve -q --store "$T/m" --query-field queries -k 7
same_file "$out" "$map" "automatic threads: the same"
done_testing
