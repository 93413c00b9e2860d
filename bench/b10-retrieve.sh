#!/usr/bin/env bash
# bench/b10-retrieve.sh: fa's exact top-k search on a synthetic memory store
# of 1,000,000 x 768 float32 (3.07 GB), against the machine's memory read
# bandwidth, numpy + OpenBLAS, Debian's FAISS and FAISS built with AVX2
# from Debian's source package (IndexFlatIP), all on the same vectors in
# the same run; int8 and f16 compact stores (fa-embed --dtype) searched by
# the kernel and by fa-retrieve; then fa-retrieve as a one-shot process.
# Every top k is checked against numpy's exact reference (score, then
# lower row).
#
# Prints "bench: <name> <value> <unit>", "ratio: <what> <case> <value>",
# "check: ..." and "goal: ..." lines. Exit 1 when a check fails.
# Knobs: FA_BENCH_ROWS (1000000), FA_BENCH_DIM (768), FA_BENCH_REPS (5),
# FA_BENCH_KEEP=1 keeps the store (under $FA_BENCH_DIR, git-ignored).
# The machine is shared: compare ratios from one run, not absolute times.
set -u
cd "$(dirname "$0")/.." || exit 2
root=$PWD
out=${FA_BENCH_DIR:-$root/bench/out}
mkdir -p "$out"
N=${FA_BENCH_ROWS:-1000000}
D=${FA_BENCH_DIM:-768}
REPS=${FA_BENCH_REPS:-5}
K=5
store=$out/retrieve-store
rb=$out/retrieve-bench
status=0

say() { echo "$@"; }
num() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }

[ "${FA_BENCH_NO_SETUP:-0}" = 1 ] || bash bench/retrieve-setup.sh

# The C helper, on fa's library as built by make.
lib=$root/build/default/lib/libfa.a
if [ ! -f "$lib" ]; then
  make -s -C "$root" all >/dev/null || { say "bench: cannot build fa"; exit 1; }
fi
# shellcheck disable=SC2046
cc -O2 -g -std=c11 -D_GNU_SOURCE -I"$root/lib" $(pkg-config --cflags json-c) \
  -o "$rb" bench/retrieve-bench.c "$lib" \
  $(pkg-config --libs libcurl json-c libsodium) -lm -pthread ||
  { say "bench: cannot build retrieve-bench"; exit 1; }

# FAISS programs: Debian's package, and the AVX2 build.
faiss_deb="" faiss_avx2=""
if [ -e /usr/include/faiss/IndexFlat.h ] &&
   g++ -O2 -std=c++17 -fopenmp -o "$out/retrieve-faiss-debian" bench/retrieve-faiss.cpp -lfaiss -lblas -llapack \
     2>"$out/faiss-debian.log"; then
  faiss_deb=$out/retrieve-faiss-debian
else
  say "note: Debian's FAISS (libfaiss-dev) is not available; skipped"
fi
fdir=$out/faiss-avx2
if ls "$fdir"/lib/libfaiss_avx2.* >/dev/null 2>&1 &&
   g++ -O2 -std=c++17 -fopenmp -I"$fdir/include" -o "$out/retrieve-faiss-avx2" \
     bench/retrieve-faiss.cpp -L"$fdir/lib" -lfaiss_avx2 -Wl,-rpath,"$fdir/lib" -lopenblas \
     2>"$out/faiss-avx2.log"; then
  faiss_avx2=$out/retrieve-faiss-avx2
else
  say "note: no FAISS built with AVX2 (see $fdir/build.log); ratios use Debian's generic FAISS"
fi
py=python3
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import numpy" 2>/dev/null && py=/usr/bin/python3
have_numpy=true
"$py" -c "import numpy" 2>/dev/null || { have_numpy=false; say "note: no numpy; no reference check"; }

# The store: N x D unit rows in fa-store(5) format.
want=$((256 + N * D * 4))
if [ "$(stat -c %s "$store/vectors.f32" 2>/dev/null)" != "$want" ]; then
  rm -rf "$store"
  t0=$(date +%s.%N)
  "$rb" gen "$store" "$N" "$D" 1 || { say "bench: cannot make the store"; exit 1; }
  say "bench: retrieve.store_gen $(calc "$(date +%s.%N) - $t0") s"
fi
bytes=$((N * D * 4))
say "bench: retrieve.store_bytes $bytes B"
"$rb" queries "$store" 16 7 "$out/q16.f32" || exit 1

# Memory read bandwidth: a streaming read of a 2 GiB buffer.
for t in 1 2; do
  "$rb" bw 2048 "$t" "$REPS" >"$out/bw.$t"
  bw[t]=$(num gbps "$out/bw.$t")
  say "bench: bandwidth.t$t ${bw[t]} GB/s"
done

# numpy first: it is the reference for every check.
declare -A mv
os=()
if $have_numpy; then
  for nq in 1 16; do
    for t in 1 2; do
      OPENBLAS_NUM_THREADS=$t "$py" bench/retrieve-ref.py "$store" "$out/q16.f32" "$nq" "$K" \
        "$REPS" "$out/ids.numpy.q$nq.t$t" >"$out/numpy.q$nq.t$t" || status=1
      s=$(num seconds "$out/numpy.q$nq.t$t")
      mv[numpy.q$nq.t$t]=$(calc "$N * $nq / $s / 1e6")
      say "bench: numpy.q$nq.t$t ${mv[numpy.q$nq.t$t]} Mvec/s"
    done
  done
fi

check() { # name idsfile reffile
  if ! $have_numpy; then return; fi
  if cmp -s "$2" "$3"; then
    say "check: $1 top-$K ids equal the exact reference: yes"
  else
    say "check: $1 top-$K ids equal the exact reference: NO"
    status=1
  fi
}

# fa's kernel on the mapped store (mapping set up by a first run).
for nq in 1 16; do
  for t in 1 2; do
    "$rb" search "$store" "$out/q16.f32" "$nq" "$K" "$t" "$REPS" "$out/ids.fa.q$nq.t$t" \
      >"$out/fa.q$nq.t$t" || { say "bench: fa search failed"; exit 1; }
    mv[fa.q$nq.t$t]=$(num mvecs "$out/fa.q$nq.t$t")
    g=$(num gbps "$out/fa.q$nq.t$t")
    say "bench: fa.q$nq.t$t ${mv[fa.q$nq.t$t]} Mvec/s"
    say "bench: fa.q$nq.t$t.gbps $g GB/s"
    say "bench: fa.q$nq.t$t.first_run_gbps $(calc "$bytes / $(num first_seconds "$out/fa.q$nq.t$t") / 1e9") GB/s"
    check "fa q$nq t$t" "$out/ids.fa.q$nq.t$t" "$out/ids.numpy.q$nq.t1"
    if [ "$nq" = 1 ]; then
      say "ratio: fa/bandwidth q1.t$t $(calc "$g / ${bw[t]}")"
    fi
  done
done
# int8 first pass with an exact float32 re-rank (a quarter of the bytes).
"$rb" search "$store" "$out/q16.f32" 16 "$K" 1 "$REPS" "$out/ids.fa8.q16.t1" i8 >"$out/fa8.q16.t1" &&
  say "bench: fa.int8.q16.t1 $(num mvecs "$out/fa8.q16.t1") Mvec/s" &&
  say "bench: fa.int8.q16.t1.rescored $(num rescored "$out/fa8.q16.t1") rows" &&
  check "fa int8+rerank q16 t1" "$out/ids.fa8.q16.t1" "$out/ids.numpy.q16.t1"

# The one-shot query (fa-retrieve below) and its reference.
text="memory bandwidth bound exact search over one million stored vectors"
printf '{"kind":"query","symbol":"SYN","date":"2030-01-01","query":"%s"}\n' "$text" >"$out/query.ndjson"
"$rb" embed "$D" "$out/qe.f32" "$text"
$have_numpy && "$py" bench/retrieve-ref.py "$store" "$out/qe.f32" 1 "$K" 0 "$out/ids.numpy.embed" >/dev/null

# Compact stores (fa-embed --dtype f16|int8): the same rows with a compact
# copy on disk; the kernel scans the store's own compact files and re-ranks
# candidates from its float32 rows; then fa-retrieve one-shot on it, and
# with --kernel f32 on the same store. One at a time (each copies the rows).
for e in int8 f16; do
  cs=$out/retrieve-store-$e
  rm -rf "$cs"
  "$rb" compact "$store" "$cs" "$e" || { say "bench: cannot make the $e store"; status=1; continue; }
  for nq in 1 16; do
    for t in 1 2; do
      c=q$nq.t$t
      "$rb" search "$cs" "$out/q16.f32" "$nq" "$K" "$t" "$REPS" "$out/ids.fa-$e.$c" store \
        >"$out/fa-$e.$c" || { say "bench: fa $e search failed"; status=1; continue; }
      mv[fa-$e.$c]=$(num mvecs "$out/fa-$e.$c")
      say "bench: fa.$e-store.$c ${mv[fa-$e.$c]} Mvec/s"
      say "bench: fa.$e-store.$c.gbps $(num gbps "$out/fa-$e.$c") GB/s"
      say "bench: fa.$e-store.$c.rescored $(num rescored "$out/fa-$e.$c") rows"
      check "fa $e store $c" "$out/ids.fa-$e.$c" "$out/ids.numpy.q$nq.t1"
      say "ratio: fa-$e-store/fa $c $(calc "${mv[fa-$e.$c]} / ${mv[fa.$c]}")"
    done
  done
  for kern in compact f32; do
    for t in 1 2; do
      t0=$(date +%s.%N)
      FA_EMBED_DIM=$D FA_LLM=offline "$root/bin/fa-retrieve" --store "$cs" --query-field query \
        -k "$K" --threads "$t" --kernel "$kern" <"$out/query.ndjson" >"$out/retrieve-$e.$kern.t$t" ||
        { say "bench: fa-retrieve failed"; status=1; }
      s=$(calc "$(date +%s.%N) - $t0")
      say "bench: fa-retrieve.$e-store.$kern.oneshot.t$t $(calc "$bytes / $s / 1e9") GB/s (float32 equivalent)"
      jq -r 'select(.kind == "hit") | .memory.n' "$out/retrieve-$e.$kern.t$t" | tr '\n' ' ' |
        sed 's/ $/\n/' >"$out/ids.retrieve-$e.$kern.t$t"
      check "fa-retrieve $e store --kernel $kern t$t" "$out/ids.retrieve-$e.$kern.t$t" "$out/ids.numpy.embed"
    done
  done
  [ "${FA_BENCH_KEEP:-0}" = 1 ] || rm -rf "$cs"
done

# FAISS
for v in debian avx2; do
  prog=$faiss_deb
  [ "$v" = avx2 ] && prog=$faiss_avx2
  [ -n "$prog" ] || continue
  "$prog" "$store" "$out/q16.f32" "$K" "$REPS" "$out/ids.faiss-$v" >"$out/res.faiss-$v" ||
    { say "bench: faiss-$v failed"; status=1; continue; }
  for nq in 1 16; do
    for t in 1 2; do
      s=$(awk -v c="q$nq" -v t="t$t" '$1 == c && $2 == t { print $3 }' "$out/res.faiss-$v")
      mv[faiss-$v.q$nq.t$t]=$(calc "$N * $nq / $s / 1e6")
      say "bench: faiss-$v.q$nq.t$t ${mv[faiss-$v.q$nq.t$t]} Mvec/s"
      check "faiss-$v q$nq t$t" "$out/ids.faiss-$v.q$nq.t$t" "$out/ids.numpy.q$nq.t1"
    done
  done
done

ref=faiss-avx2
[ -n "$faiss_avx2" ] || ref=faiss-debian
for nq in 1 16; do
  for t in 1 2; do
    c=q$nq.t$t
    [ -n "${mv[$ref.$c]:-}" ] && say "ratio: fa/faiss $c $(calc "${mv[fa.$c]} / ${mv[$ref.$c]}")"
    [ -n "${mv[faiss-debian.$c]:-}" ] && [ "$ref" != faiss-debian ] &&
      say "ratio: fa/faiss-debian $c $(calc "${mv[fa.$c]} / ${mv[faiss-debian.$c]}")"
    [ -n "${mv[numpy.$c]:-}" ] && say "ratio: fa/numpy $c $(calc "${mv[fa.$c]} / ${mv[numpy.$c]}")"
  done
done
[ "$ref" = faiss-avx2 ] || say "note: fa/faiss ratios are against Debian's FAISS without AVX2"

# fa-retrieve as a one-shot process: start, embed, read the rows, search,
# print; the default (rows read by a reader thread while the chunk before
# is scanned, FA_RETRIEVE_IO=read) and, for comparison, the mapping
# (FA_RETRIEVE_IO=map). Each as a ratio to the bandwidth probe.
for io in read map; do
  for t in 1 2; do
    t0=$(date +%s.%N)
    FA_RETRIEVE_IO=$io FA_EMBED_DIM=$D FA_LLM=offline "$root/bin/fa-retrieve" --store "$store" \
      --query-field query -k "$K" --threads "$t" <"$out/query.ndjson" >"$out/retrieve.t$t" ||
      { say "bench: fa-retrieve failed"; status=1; }
    s=$(calc "$(date +%s.%N) - $t0")
    g=$(calc "$bytes / $s / 1e9")
    sfx=""
    [ "$io" = read ] || sfx=.$io
    say "bench: fa-retrieve.oneshot$sfx.t$t $g GB/s"
    say "ratio: fa-retrieve/bandwidth oneshot$sfx.t$t $(calc "$g / ${bw[t]}")"
    [ "$io" = read ] && os[t]=$g
    jq -r 'select(.kind == "hit") | .memory.n' "$out/retrieve.t$t" | tr '\n' ' ' | sed 's/ $/\n/' \
      >"$out/ids.retrieve.t$t"
    check "fa-retrieve one-shot ($io) t$t" "$out/ids.retrieve.t$t" "$out/ids.numpy.embed"
  done
done

# Goals (../shared/PERF.md and the issue), from this run's figures.
goal() { # description value threshold
  if awk "BEGIN { exit !($2 >= $3) }"; then say "goal: $1: met ($2 >= $3)"; else say "goal: $1: NOT met ($2 < $3)"; fi
}
for t in 1 2; do
  goal "fa q1 t$t at least 85% of bandwidth" "$(calc "$(num gbps "$out/fa.q1.t$t") / ${bw[t]}")" 0.85
  [ -n "${mv[$ref.q1.t$t]:-}" ] &&
    goal "fa q1 t$t at least $ref" "$(calc "${mv[fa.q1.t$t]} / ${mv[$ref.q1.t$t]}")" 1
  [ -n "${mv[$ref.q16.t$t]:-}" ] &&
    goal "fa q16 t$t at least 5x $ref" "$(calc "${mv[fa.q16.t$t]} / ${mv[$ref.q16.t$t]}")" 5
done
goal "fa q16 t1 at least 25 Mvec/s per thread" "${mv[fa.q16.t1]}" 25
goal "fa-retrieve one-shot t1 at least 8 GB/s" "${os[1]}" 8
goal "fa-retrieve one-shot t2 at least 12 GB/s" "${os[2]}" 12

if [ "${FA_BENCH_KEEP:-0}" != 1 ]; then
  rm -rf "$store"
  say "note: removed the ${bytes}-byte store (FA_BENCH_KEEP=1 keeps it)"
fi
exit $status
