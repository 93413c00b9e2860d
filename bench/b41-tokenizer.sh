#!/usr/bin/env bash
# bench/b41-tokenizer.sh: fa_tokenizer's load time, chat-prompt latency and
# encode/decode throughput with a SmolLM2-sized tokenizer (49,152 tokens,
# 48,893 merges, written by tests/lib/make_tiny_tokenizer.py and kept under
# $FA_BENCH_DIR: the training takes a minute or two the first time) on
# about 4 MB of finance-like text, one document per line.
#
# Prints "bench: <name> <value> <unit>" lines. Knobs: FA_BENCH_TOK_VOCAB
# (49152), FA_BENCH_TOK_MB (4), FA_BENCH_REPS (3).
set -u
cd "$(dirname "$0")/.." || exit 2
root=$PWD
out=${FA_BENCH_DIR:-$root/bench/out}
V=${FA_BENCH_TOK_VOCAB:-49152}
MB=${FA_BENCH_TOK_MB:-4}
REPS=${FA_BENCH_REPS:-3}
py=/usr/bin/python3
dir=$out/tok$V
text=$out/tok-text-$MB.txt
mkdir -p "$out"

lib=$root/build/default/lib/libfa.a
[ -f "$lib" ] || make -s -C "$root" all >/dev/null || { echo "bench: cannot build fa"; exit 1; }
# shellcheck disable=SC2046
cc -O2 -std=c11 -D_GNU_SOURCE -Ilib bench/tok-bench.c "$lib" \
  $(pkg-config --libs json-c libsodium libcurl) -lm -pthread -o "$out/tok-bench" ||
  { echo "bench: cannot build tok-bench"; exit 1; }

if [ ! -f "$dir/tokenizer.json" ]; then
  echo "bench: training a $V-token tokenizer (once, kept in $dir)"
  "$py" tests/lib/make_tiny_tokenizer.py "$dir" --vocab "$V" || exit 1
fi
if [ ! -f "$text" ]; then
  "$py" - "$MB" >"$text" <<'PY' || exit 1
import random, sys
sys.path.insert(0, "tests/lib")
import make_tiny_tokenizer as m
r = random.Random(5)
paras = [p.replace("\n", " ").strip() for p in m.CORPUS.split("\n\n") if p.strip()]
words = m.pseudo_words(20000)
out, size = [], 0
while size < float(sys.argv[1]) * 1e6:
    line = (r.choice(paras) + "".join(r.choice(words) for _ in range(r.randint(5, 60)))
            + " %d.%02d%%" % (r.randint(0, 999), r.randint(0, 99)))
    out.append(line)
    size += len(line) + 1
print("\n".join(out))
PY
fi
"$out/tok-bench" "$dir" "$text" "$REPS"
