#!/usr/bin/env bash
# t0403-compact: stores with a compact copy (fa-embed --dtype f16|int8):
# the format fa-store(5) documents, fa-retrieve's compact scan giving
# byte-identical hits to a float32 store's, --kernel f32 forcing the
# float32 scan, element type checks on append, and crash recovery of the
# compact files (torn tails, cuts at random points).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
export FA_EMBED_DIM=48 FA_LLM=offline
unset FA_LLM_URL FA_EMBED_MODEL FA_EMBED_STORE FA_EMBED_DTYPE FA_RETRIEVE_TOP FA_RETRIEVE_KERNEL \
  FA_THREADS FA_SIMD
cd "$T" || exit 1

# 240 news over 60 days, and 12 intel records with three queries each.
python3 - <<'EOF'
import json, random
random.seed(5)
w = ("apple iphone sales china chip supplier lawsuit court fees store regulators headset demand "
     "growth margin quarter earnings guidance buyback dividend tariff factory india services "
     "cloud model vision watch revenue forecast analyst upgrade downgrade").split()
with open("news.ndjson", "w") as f:
    for i in range(240):
        d = "2024-%02d-%02d" % (1 + i // 120, 1 + (i // 4) % 28)
        t = " ".join(random.choice(w) for _ in range(9))
        f.write(json.dumps({"kind": "news", "symbol": "AAPL", "date": d, "title": t},
                           separators=(",", ":")) + "\n")
with open("q.ndjson", "w") as f:
    for i in range(12):
        d = "2024-%02d-%02d" % (1 + i % 2, 3 + 2 * i)
        q = {k: " ".join(random.choice(w) for _ in range(7))
             for k in ("short_term", "medium_term", "long_term")}
        f.write(json.dumps({"kind": "intel", "symbol": "AAPL", "date": d, "queries": q},
                           separators=(",", ":")) + "\n")
EOF
n=$(wc -l <news.ndjson)

run fa-embed --store x --field title --dtype f64
is "$rc" 2 "an unknown --dtype is a usage error"
like "$(cat "$err")" "f32, f16 or int8" "and names the types"

# Three stores of the same records; each in its own directory under the
# same name, so that hit records (which name the store) compare byte for
# byte.
for t in f32 f16 int8; do
  mkdir "$t"
  (cd "$t" && fa-embed --store mem --dtype "$t" --field title <../news.ndjson >/dev/null)
done
is "$(cd f32/mem && echo *)" "records.ndjson rows.idx vectors.f32" "an f32 store: three files"
is "$(cd int8/mem && echo *)" "records.ndjson rows.idx scales.f32 vectors.f32 vectors.i8" \
  "an int8 store: the compact rows and their scales too"
is "$(stat -c %s f16/mem/vectors.f16 int8/mem/vectors.i8 int8/mem/scales.f32 | tr '\n' ' ')" \
  "$((n * 48 * 2)) $((n * 48)) $((n * 4)) " "compact files: 2 and 1 bytes an element, 4 a scale"
tail -c +257 f32/mem/vectors.f32 >rows.f32
tail -c +257 int8/mem/vectors.f32 >rows.i8
same_file rows.i8 rows.f32 "the float32 rows are the same in every store"

# The layout fa-store(5) documents, read with the standard library.
check=$(python3 - <<'EOF'
import struct
def load(d):
    v = open(d + "/vectors.f32", "rb").read()
    _, _, size, dim, elem, count = struct.unpack_from("<8sIIIIQ", v, 0)
    rows = [struct.unpack_from("<%df" % dim, v, size + 4 * dim * r) for r in range(count)]
    return elem, dim, count, rows
out = []
e, dim, count, rows = load("f16/mem")
h = open("f16/mem/vectors.f16", "rb").read()
s = struct.unpack("<%df" % count, open("f16/mem/scales.f32", "rb").read())
halves = [struct.unpack_from("<%de" % dim, h, 2 * dim * r) for r in range(count)]
good = all(struct.unpack("<e", struct.pack("<e", x))[0] == y
           for r in range(count) for x, y in zip(rows[r], halves[r]))
good = good and all(abs(s[r] - max(abs(x) for x in rows[r])) < 1e-7 for r in range(count))
out.append("f16 %d %s" % (e, good))
e, dim, count, rows = load("int8/mem")
q = open("int8/mem/vectors.i8", "rb").read()
s = struct.unpack("<%df" % count, open("int8/mem/scales.f32", "rb").read())
ints = [struct.unpack_from("<%db" % dim, q, dim * r) for r in range(count)]
good = all(abs(x - s[r] * k) <= s[r] * 0.5001 for r in range(count) for x, k in zip(rows[r], ints[r]))
good = good and all(max(abs(k) for k in ints[r]) == 127 for r in range(count))
out.append("int8 %d %s" % (e, good))
print(" ".join(out))
EOF
)
is "$check" "f16 2 True int8 3 True" \
  "header element type 2 / 3; halves are the rounded floats, int8 x ~ scale * q per row"

# Retrieval: the same bytes from every store.
for t in f32 f16 int8; do
  (cd "$t" && fa-retrieve -v --store mem -k 8 <../q.ndjson >hits 2>err)
done
nh=$(jq -c 'select(.kind=="hit")' f32/hits | wc -l)
ok "[ $nh -gt 100 ]" "the f32 store gives hits ($nh)"
same_file f16/hits f32/hits "the f16 store: byte-identical hit records"
same_file int8/hits f32/hits "the int8 store: byte-identical hit records"
like "$(cat int8/err)" "searched 'mem': [0-9]+ rows, int8 scan" "the int8 store is scanned in int8"
like "$(cat f16/err)" "f16 scan" "the f16 store in f16"
like "$(cat int8/err)" "[1-9][0-9]* re-scored in f32" "and its candidates re-scored in float32"
(cd int8 && fa-retrieve -v --store mem -k 8 --kernel f32 <../q.ndjson >hits.f32 2>err.f32)
same_file int8/hits.f32 f32/hits "--kernel f32: the float32 scan, the same hits"
like "$(cat int8/err.f32)" "f32 scan" "and says so"
(cd int8 && FA_RETRIEVE_KERNEL=scalar,f32 fa-retrieve --store mem -k 30 --threads 2 <../q.ndjson >s.f32)
(cd int8 && fa-retrieve --store mem -k 30 --kernel scalar,compact <../q.ndjson >s.i8)
(cd f16 && fa-retrieve --store mem -k 30 --kernel scalar <../q.ndjson >s.f16)
same_file int8/s.i8 int8/s.f32 "scalar path, k 30: int8 scan equals the float32 scan"
same_file f16/s.f16 int8/s.f32 "scalar path, k 30: f16 scan equals it too"
run fa-retrieve --store int8/mem --kernel f64 </dev/null
is "$rc" 2 "an unknown --kernel word is refused"

# One store, one element type.
head -n 3 news.ndjson | sed 's/"title":"/"title":"again /' >more.ndjson
run_in more.ndjson fa-embed --store int8/mem --dtype f16 --field title
is "$rc" 2 "appending f16 rows to an int8 store is refused"
like "$(cat "$err")" "holds int8 rows, not f16" "and says why"
FA_EMBED_DTYPE=f32 run_in more.ndjson fa-embed --store int8/mem --field title
is "$rc" 2 "FA_EMBED_DTYPE is checked the same way"
is "$(wc -l <int8/mem/records.ndjson)" "$n" "nothing was stored"
cp -r int8 int8b
run_in more.ndjson fa-embed --store int8b/mem --field title
is "$rc:$(wc -l <int8b/mem/records.ndjson)" "0:$((n + 3))" "without --dtype the store's type is used"
is "$(stat -c %s int8b/mem/vectors.i8 int8b/mem/scales.f32 | tr '\n' ' ')" \
  "$(((n + 3) * 48)) $(((n + 3) * 4)) " "and its compact rows appended"

# A torn tail in the compact files only: cut by the next writer.
printf 'half a row' >>int8/mem/vectors.i8
printf 'xy' >>int8/mem/scales.f32
(cd int8 && fa-retrieve --store mem -k 8 <../q.ndjson >hits.torn 2>/dev/null)
same_file int8/hits.torn f32/hits "a reader ignores bytes past the committed rows"
run fa-embed --store int8/mem --field title </dev/null
is "$rc" 0 "a writer opens the store"
like "$(cat "$err")" "torn tail.*10 of compact rows, 2 of scales" "and cuts the torn tail"
is "$(stat -c %s int8/mem/vectors.i8 int8/mem/scales.f32 | tr '\n' ' ')" "$((n * 48)) $((n * 4)) " \
  "back to the committed rows"

# Cut from outside at random points: the store is read, then cut back, to
# the last row whole in every file; storing the news again restores it.
seed=7
for t in int8 f16; do
  for f in "vectors.${t/int/i}" scales.f32; do
    for _ in 1 2; do
      cp -r "$t" cut
      size=$(stat -c %s "cut/mem/$f")
      seed=$(((seed * 1103515245 + 12345) % 2147483648))
      at=$((seed % size))
      truncate -s "$at" "cut/mem/$f"
      case $f in
        scales.f32) whole=$((at / 4)) ;;
        vectors.i8) whole=$((at / 48)) ;;
        *) whole=$((at / 96)) ;;
      esac
      (cd cut && fa-retrieve -v --store mem -k 8 <../q.ndjson >/dev/null 2>err)
      like "$(cat cut/err)" "only $whole are whole; reading those.*searched 'mem': $whole rows" \
        "$t: $f cut at byte $at: a reader uses the $whole whole rows"
      (cd cut && fa-embed --store mem --field title <../news.ndjson >/dev/null 2>err)
      like "$(cat cut/err)" "only $whole are whole; cut back" "a writer cuts the store back to them"
      is "$(wc -l <cut/mem/records.ndjson)" "$n" "storing the news again restores all $n rows"
      (cd cut && fa-retrieve --store mem -k 8 <../q.ndjson >hits)
      same_file cut/hits f32/hits "and the hits are the float32 store's again"
      rm -rf cut
    done
  done
done
done_testing
