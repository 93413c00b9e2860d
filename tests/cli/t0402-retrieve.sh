#!/usr/bin/env bash
# t0402-retrieve: fa-retrieve finds stored memories by query, never one
# from the query's day or later, skips short queries, merges the retrieval
# types without duplicates, treats a missing store as empty, and handles
# bad input, and attributes its llm records.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
F=$FIXTURES/memory
export FA_EMBED_DIM=64 FA_LLM=offline
unset FA_LLM_URL FA_EMBED_MODEL FA_RETRIEVE_TOP FA_THREADS FA_SIMD

run fa-retrieve --help
is "$rc" 0 "--help exits 0"
like "$(cat "$out")" "Usage: fa-retrieve" "--help prints usage"
run fa-retrieve
is "$rc" 2 "--store is required"
run fa-retrieve --store "$T/m" --top 0
is "$rc" 2 "--top 0 is refused"
run fa-retrieve --store "$T/m" --before 2024-13-01
is "$rc" 2 "a bad --before is refused"
run fa-retrieve --store "$T/m" --kernel sse9
is "$rc" 2 "an unknown kernel is refused"
run fa-retrieve --store "$T/m" --threads many
is "$rc" 2 "a bad thread count is refused"

# Day one: no store yet, no memories, no error.
run_in "$F/intel.ndjson" fa-retrieve --store "$T/m"
is "$rc" 0 "a missing store is an empty memory"
same_file "$out" "$F/intel.ndjson" "no hits, the records pass through"

fa-embed --store "$T/m" --kind news --text '{title}\n{text}' <"$F/news.ndjson" >/dev/null
run_in "$F/intel.ndjson" fa-retrieve --store "$T/m" -k 3
is "$rc" 0 "retrieves"
jq -c 'select(.kind != "hit")' "$out" >"$T/pass"
same_file "$T/pass" "$F/intel.ndjson" "the query records pass through unchanged"
jq -c 'select(.kind == "hit")' "$out" >"$T/hits"
nh=$(wc -l <"$T/hits")
ok "[ $nh -gt 0 ]" "prints hit records"

# The firewall: every hit predates its query's day.
late=$(jq -r 'select((.memory.asof // .memory.date) >= .date) | .memory.id' "$T/hits" | wc -l)
is "$late" 0 "no memory from the query's day or later"
is "$(jq -r 'select(.date=="2024-01-05") | .memory.id' "$T/hits" | sort | tr '\n' ' ')" \
  "a0000000000000000000000000000001 a0000000000000000000000000000002 a0000000000000000000000000000003 " \
  "on 2024-01-05: only the three earlier news"
is "$(jq -r 'select(.date=="2024-01-05" and .memory.id=="a0000000000000000000000000000004")' "$T/hits" | wc -l)" 0 \
  "the same-day news most like the query is not returned"
is "$(jq -r 'select(.date=="2024-01-05" and .type=="short_term" and .rank==1) | .memory.id' "$T/hits")" \
  a0000000000000000000000000000001 "the best short-term hit is the earlier iPhone story"
is "$(jq -r 'select(.memory.id=="a0000000000000000000000000000001") | .asof' "$T/hits" | sort -u)" \
  2024-01-02 "a hit's asof is the memory's"
fa-retrieve --store "$T/m" -k 10 <"$F/intel.ndjson" >"$T/hits10"
is "$(jq -r 'select(.memory.id=="a0000000000000000000000000000006") | .asof' "$T/hits10" | sort -u)" \
  2024-01-09 "a memory without asof: its date, and found the day after"
is "$(jq -r '[.kind, .symbol, .date, .store, .type, (.rank|type), (.score|type), .query_id, (.id|length)] | join(" ")' "$T/hits" | head -n 1)" \
  "hit AAPL 2024-01-05 $T/m short_term number number b0000000000000000000000000000001 32" \
  "hit fields: kind symbol date store type rank score query_id id"

for d in 01 02 03 04 05 06 07 08 09 10 11; do
  printf '{"kind":"intel","symbol":"AAPL","date":"2024-01-%s","queries":{"short_term":"Apple iPhone app store lawsuit chip headset","long_term":"sales China estimates fees court supplier"}}\n' "$d"
done >"$T/days.ndjson"
fa-retrieve --store "$T/m" -k 10 <"$T/days.ndjson" >"$T/dayhits"
is "$(jq -r 'select(.kind=="hit" and (.asof >= .date))' "$T/dayhits" | wc -l)" 0 \
  "queries on every day from 01-01 to 01-11: never a memory of that day or later"
is "$(jq -r 'select(.kind=="hit") | .date' "$T/dayhits" | uniq -c | awk '{print $1}' | tr '\n' ' ')" \
  "1 2 3 4 4 4 5 6 6 " "and every earlier memory is found (k = 10)"

# Short queries are skipped; types merge without duplicates.
is "$(jq -r 'select(.type=="medium_term" and .date=="2024-01-05")' "$T/hits" | wc -l)" 0 \
  "the two-word medium-term query is skipped"
dups=$(jq -r '[.date, .memory.id] | join(" ")' "$T/hits" | sort | uniq -d | wc -l)
is "$dups" 0 "no memory twice for one query record"
is "$(jq -r 'select(.date=="2024-01-10" and .type=="medium_term")' "$T/hits" | wc -l)" 0 \
  "a type repeating an earlier type's query adds no memory already shown"
is "$(jq -r 'select(.type=="short_term" and .date=="2024-01-10") | .rank' "$T/hits" | tr '\n' ' ')" "1 2 3 " \
  "k per type, ranked from 1"

# --before overrides the record's date; a string query field.
printf '%s\n' '{"kind":"reflect_low","symbol":"AAPL","date":"2024-01-20","query":"app store fees lawsuit against Apple developers"}' >"$T/q.ndjson"
run_in "$T/q.ndjson" fa-retrieve --store "$T/m" --query-field query --before 2024-01-04 -k 10
is "$rc" 0 "--query-field query, --before"
is "$(jq -r 'select(.kind=="hit") | .memory.id' "$out" | sort | tr '\n' ' ')" \
  "a0000000000000000000000000000001 a0000000000000000000000000000002 " "--before 2024-01-04: the two earlier news only"
is "$(jq -r 'select(.kind=="hit") | .type' "$out" | sort -u)" query "a string query's type is the field name"

# Hits carry a query text but never ask again.
jq -c 'select(.kind=="hit")' "$out" >"$T/onlyhits"
fa-retrieve --store "$T/m" --query-field query <"$T/onlyhits" >"$T/again"
same_file "$T/again" "$T/onlyhits" "hit records pass a second fa-retrieve without new hits"

# Same answers on every kernel path and thread count.
run_in "$F/intel.ndjson" fa-retrieve --store "$T/m" -k 3 --kernel scalar
jq -r 'select(.kind=="hit") | [.type, .rank, .memory.id] | join(" ")' "$out" >"$T/scalar"
run_in "$F/intel.ndjson" fa-retrieve --store "$T/m" -k 3 --threads 2
jq -r 'select(.kind=="hit") | [.type, .rank, .memory.id] | join(" ")' "$out" >"$T/threads"
jq -r '[.type, .rank, .memory.id] | join(" ")' "$T/hits" >"$T/auto"
same_file "$T/scalar" "$T/auto" "the scalar path finds the same hits"
same_file "$T/threads" "$T/auto" "two threads find the same hits"

# Bad input
printf '%s\n' '{"kind":"intel","symbol":"AAPL","date":"2024-01-05","queries":42}' \
  '{"kind":"intel","symbol":"AAPL","queries":{"short_term":"iPhone sales China estimates strong demand"}}' \
  '{"kind":"intel","symbol":"AAPL","date":"2024-01-05","queries":{"short_term":7}}' 'not json' \
  '{"kind":"price","symbol":"AAPL","date":"2024-01-05","close":1}' >"$T/bad.ndjson"
run_in "$T/bad.ndjson" fa-retrieve --store "$T/m"
is "$rc" 0 "bad records do not stop the stream"
is "$(jq -r .kind "$out" | tr '\n' ' ')" "intel error intel error intel error error price " \
  "each bad record gets an error record after it"
run_in "$T/bad.ndjson" fa-retrieve --strict --store "$T/m"
is "$rc" 1 "--strict: exit 1"
FA_EMBED_DIM=32 run_in "$F/intel.ndjson" fa-retrieve --store "$T/m"
is "$rc" 2 "a store of another model is a configuration error"
like "$(cat "$err")" "fa-hash-64" "and names the store's model"
fa-retrieve --store "$T/m" <"$F/intel.ndjson" >/dev/full 2>/dev/null
is "$?" 1 "a full stdout exits 1"

# llm records of the query embeddings carry the query record's symbol,
# date and asof, in the conventional key order, with a valid content id.
start_fake openai.py --embed-dim 16
llm_env=(env -u FA_LLM -u FA_EMBED_DIM FA_LLM_URL="http://127.0.0.1:$port" FA_EMBED_MODEL=fake-embed)
"${llm_env[@]}" fa-embed --store "$T/remote" --kind news --field title <"$F/news.ndjson" >/dev/null
jq -c '.asof = "2024-01-09" | .date = "2024-01-10" | .symbol = "MSFT"' "$F/intel.ndjson" | head -n 1 >"$T/qm.ndjson"
cat "$F/intel.ndjson" >>"$T/qm.ndjson"
run_in "$T/qm.ndjson" "${llm_env[@]}" fa-retrieve --store "$T/remote" -k 2
is "$rc" 0 "retrieves through the fake endpoint"
jq -c 'select(.kind=="llm")' "$out" >"$T/llm"
ok "[ $(wc -l <"$T/llm") -ge $(jq -c 'select(.queries)' "$T/qm.ndjson" | wc -l) ]" \
  "llm records for the query embeddings (cache hits and misses apart)"
is "$(jq -rs 'reduce .[] as $r ({q: null, o: []};
        if $r.queries then .q = $r
        elif $r.kind == "llm" then .o += [[$r.symbol, $r.date, $r.asof] == [.q.symbol, .q.date, (.q.asof // .q.date)]]
        else . end) | .o | unique | map(tostring) | join(" ")' "$out")" true \
  "each carries its query record's symbol, date and asof"
is "$(jq -r '[.symbol, .date, .asof] | join(" ")' "$T/llm" | head -n 1)" "MSFT 2024-01-10 2024-01-09" \
  "the first one: MSFT's"
is "$(jq -r '[keys_unsorted[0:4], keys_unsorted[-1:]] | flatten | join(" ")' "$T/llm" | sort -u)" \
  "kind symbol date asof id" "llm keys: kind symbol date asof first, id last"
is "$(python3 -c '
import hashlib, json, sys
bad = 0
for line in open(sys.argv[1]):
    r = json.loads(line); i = r.pop("id")
    c = json.dumps(r, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    bad += hashlib.blake2b(c.encode(), digest_size=16).hexdigest() != i
print(bad)' "$T/llm")" 0 "their ids are their content ids"
is "$(jq -r 'select(.date == null or .symbol == null) | .kind' "$out" | wc -l)" 0 \
  "every output record has a symbol and a date"
done_testing
