#!/usr/bin/env bash
# t0401-embed: fa-embed stores selected records, passes the stream on,
# skips ids already stored, checks model and dimension, recovers a torn
# tail, turns bad records into error records, and attributes its llm
# records.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
F=$FIXTURES/memory
export FA_EMBED_DIM=16 FA_LLM=offline
unset FA_LLM_URL FA_EMBED_MODEL FA_EMBED_STORE

run fa-embed --help
is "$rc" 0 "--help exits 0"
like "$(cat "$out")" "Usage: fa-embed" "--help prints usage to stdout"
run fa-embed --version
is "$rc" 0 "--version exits 0"
run fa-embed --bogus
is "$rc" 2 "a bad flag exits 2"
like "$(cat "$err")" "Try 'fa-embed --help'" "a bad flag points to --help"
run fa-embed --text '{title}'
is "$rc" 2 "--store is required"
run fa-embed --store "$T/m" --text '{title}' --field title
is "$rc" 2 "--text and --field exclude each other"
run fa-embed --store "$T/m" --text '{title'
is "$rc" 2 "an unclosed field in the template is a usage error"
like "$(cat "$err")" "template" "and says so"
run fa-embed --store "$T/m" --text 'a\qb'
is "$rc" 2 "an unknown escape is a usage error"
run fa-embed --store "$T/m" --field t --batch 0
is "$rc" 2 "--batch 0 is refused"

# Store the news; everything passes through unchanged.
run_in "$F/news.ndjson" fa-embed --store "$T/m" --kind news --text '{title}\n{text}'
is "$rc" 0 "embeds the news"
same_file "$out" "$F/news.ndjson" "every record passes through unchanged"
is "$(wc -l <"$T/m/records.ndjson")" 6 "six news stored, the price record not"
is "$(jq -r .id "$T/m/records.ndjson" | tr '\n' ' ')" \
  "$(jq -r 'select(.kind=="news") | .id' "$F/news.ndjson" | tr '\n' ' ')" "stored in input order"
is "$(stat -c %s "$T/m/vectors.f32")" $((256 + 6 * 16 * 4)) "vectors file: header and 6 rows of 16 floats"
is "$(stat -c %s "$T/m/rows.idx")" $((6 * 32)) "index: 32 bytes a row"
hdr=$(python3 - "$T/m/vectors.f32" <<'EOF'
import struct, sys, math
b = open(sys.argv[1], 'rb').read()
magic, ver, hsz, dim, elem, count = struct.unpack_from('<8sIIIIQ', b, 0)
model = b[32:160].split(b'\0')[0].decode()
rows = [struct.unpack_from('<%df' % dim, b, hsz + 4 * dim * r) for r in range(count)]
norms = {round(math.sqrt(sum(x * x for x in r)), 4) for r in rows}
print(magic, ver, hsz, dim, elem, count, model, sorted(norms))
EOF
)
is "$hdr" "b'FASTORE\\x00' 1 256 16 1 6 fa-hash-16 [1.0]" "header fields as fa-store(5) says; unit rows"

# Again: nothing new is stored.
cp "$T/m/records.ndjson" "$T/before.ndjson"
run_in "$F/news.ndjson" fa-embed -v --store "$T/m" --kind news --text '{title}\n{text}'
is "$rc" 0 "second run"
same_file "$T/m/records.ndjson" "$T/before.ndjson" "ids already stored are not stored again"
like "$(cat "$err")" "stored 0 new records" "and says so with -v"

# --field, and a record without id gets its content id in the store.
printf '%s\n' '{"kind":"reflect_low","symbol":"AAPL","date":"2024-01-05","query":"why did the price fall after the lawsuit"}' >"$T/r.ndjson"
run_in "$T/r.ndjson" fa-embed --store "$T/refl" --field query
is "$rc" 0 "--field query"
same_file "$out" "$T/r.ndjson" "the record passes unchanged (no id added)"
like "$(cat "$T/refl/records.ndjson")" '"id":"[0-9a-f]{32}"' "the stored copy carries its content id"

run_in "$T/r.ndjson" fa-embed --store "$T/deep/er/refl" --field query
is "$rc:$(wc -l <"$T/deep/er/refl/records.ndjson")" "0:1" "a store's missing parent directories are made"

# Without --kind, hit, error and llm records are never stored.
printf '%s\n' '{"kind":"hit","symbol":"AAPL","date":"2024-01-06","query":"a query text of some words"}' \
  '{"kind":"error","stage":"x","message":"a query text","query":"q"}' >"$T/h.ndjson"
run_in "$T/h.ndjson" fa-embed --store "$T/refl" --field query
same_file "$out" "$T/h.ndjson" "hit and error records pass"
is "$(wc -l <"$T/refl/records.ndjson")" 1 "and are not stored"

# Bad records: missing field, no date, a bad line; the stream goes on.
printf '%s\n' '{"kind":"news","symbol":"X","date":"2024-01-02","text":"no title here"}' \
  '{"kind":"news","symbol":"X","title":"undated news item"}' 'not json' \
  '{"kind":"news","symbol":"X","date":"2024-01-03","title":"a good one"}' >"$T/bad.ndjson"
run_in "$T/bad.ndjson" fa-embed --store "$T/b" --kind news --field title
is "$rc" 0 "bad records do not stop the stream"
is "$(jq -r .kind "$out" | tr '\n' ' ')" "news error news error error news " "each bad record gets an error record"
like "$(jq -r 'select(.kind=="error") | .message' "$out" | tr '\n' '|')" "no string or number field 'title'.*asof or date" "errors say why"
is "$(wc -l <"$T/b/records.ndjson")" 1 "the good record is stored"
run_in "$T/bad.ndjson" fa-embed --strict --store "$T/b2" --kind news --field title
is "$rc" 1 "--strict: a bad record exits 1"

# One store, one model: another dimension is a configuration error.
FA_EMBED_DIM=32 run_in "$F/news.ndjson" fa-embed --store "$T/m" --kind news --field title
is "$rc" 2 "another embedding dimension exits 2"
like "$(cat "$err")" "fa-hash-16" "and names the store's model"

# A torn tail (a writer died before moving the count) is cut on open.
printf 'garbage row bytes' >>"$T/m/vectors.f32"
printf '{"kind":"news","half' >>"$T/m/records.ndjson"
printf '%s\n' '{"kind":"news","symbol":"AAPL","date":"2024-01-11","title":"Apple new record after the tail","id":"a0000000000000000000000000000009"}' >"$T/n.ndjson"
run_in "$T/n.ndjson" fa-embed --store "$T/m" --kind news --field title
is "$rc" 0 "appends after a torn tail"
like "$(cat "$err")" "torn tail" "warns about the torn tail"
is "$(wc -l <"$T/m/records.ndjson")" 7 "the six rows kept, one added"
is "$(jq -r .id "$T/m/records.ndjson" | tail -n 1)" a0000000000000000000000000000009 "the new record is last and whole"
is "$(stat -c %s "$T/m/vectors.f32")" $((256 + 7 * 16 * 4)) "vectors file holds exactly 7 rows"

# llm records of remote embedding calls carry symbol, date and asof: a
# batch is one (symbol, date) group, embedded before the next group passes,
# so its llm records carry that symbol and date, its latest asof, and keep
# the stream's day order; conventional key order, a valid content id.
start_fake openai.py --embed-dim 16
printf '%s\n' '{"kind":"news","symbol":"AAPL","date":"2024-01-02","title":"iPhone sales beat"}' \
  '{"kind":"news","symbol":"AAPL","date":"2024-01-02","asof":"2024-01-01","title":"an older report"}' \
  '{"kind":"price","symbol":"AAPL","date":"2024-01-02","close":1}' \
  '{"kind":"news","symbol":"MSFT","date":"2024-01-02","title":"cloud revenue beats"}' \
  '{"kind":"price","symbol":"AAPL","date":"2024-01-03","close":2}' \
  '{"kind":"news","symbol":"AAPL","date":"2024-01-04","asof":"2024-01-03","title":"fees lawsuit"}' \
  '{"kind":"price","symbol":"AAPL","date":"2024-01-05","close":3}' >"$T/mix.ndjson"
llm_env=(env -u FA_LLM -u FA_EMBED_DIM FA_LLM_URL="http://127.0.0.1:$port" FA_EMBED_MODEL=fake-embed)
run_in "$T/mix.ndjson" "${llm_env[@]}" fa-embed --store "$T/remote" --kind news --field title
is "$rc" 0 "embeds through the fake endpoint"
is "$(jq -c 'select(.kind!="llm")' "$out")" "$(cat "$T/mix.ndjson")" "the records pass through unchanged"
is "$(jq -r '[.kind, .symbol, .date, .asof // "-", .texts // "-"] | join(" ")' "$out" | tr '\n' '|')" \
  "news AAPL 2024-01-02 - -|news AAPL 2024-01-02 2024-01-01 -|price AAPL 2024-01-02 - -|llm AAPL 2024-01-02 2024-01-02 2|news MSFT 2024-01-02 - -|llm MSFT 2024-01-02 2024-01-02 1|price AAPL 2024-01-03 - -|news AAPL 2024-01-04 2024-01-03 -|llm AAPL 2024-01-04 2024-01-03 1|price AAPL 2024-01-05 - -|" \
  "one call per (symbol, date) group, its llm record after the group, with its symbol, date, latest asof"
jq -c 'select(.kind=="llm")' "$out" >"$T/llm"
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
run_in "$T/mix.ndjson" "${llm_env[@]}" fa-embed --store "$T/remote" --kind news --field title
is "$(jq -c 'select(.kind=="llm")' "$out" | wc -l)" 0 "records without id already stored: no call, no llm record"
run_in "$T/mix.ndjson" "${llm_env[@]}" fa-embed --store "$T/remote1" --kind news --field title --batch 1
is "$(jq -r 'select(.kind=="llm") | [.symbol, .date, .asof, .cache_hit] | join(" ")' "$out" | tr '\n' '|')" \
  "AAPL 2024-01-02 2024-01-02 true|AAPL 2024-01-02 2024-01-01 true|MSFT 2024-01-02 2024-01-02 true|AAPL 2024-01-04 2024-01-03 true|" \
  "--batch 1: each call carries its own record's symbol, date and asof (from the cache too)"
is "$(jq -r 'select(.symbol == null or .date == null) | .kind' "$out" | wc -l)" 0 \
  "every output record has a symbol and a date"

# Output errors
fa-embed --store "$T/full" --kind news --field title <"$F/news.ndjson" >/dev/full 2>"$T/full.err"
is "$?" 1 "a full disk on stdout exits 1"
fa-embed --store "$T/pipe" --kind news --field title <"$F/news.ndjson" | head -n 1 >/dev/null
is "${PIPESTATUS[0]}" 0 "a closed pipe ends quietly"
done_testing
