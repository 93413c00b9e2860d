#!/usr/bin/env bash
# bench/b40-llama.sh: fa_llama against PyTorch on CPU, same thread count
# (1 and 2), on the tests' tiny random llama (4 layers, hidden 64) and on a
# random model of SmolLM2-135M's shape (30 layers, hidden 576, 9 heads, 3
# kv heads, intermediate 1536, vocab 49152, tied; generated under
# $FA_BENCH_DIR, removed afterwards). Prints
#   bench: llama-<model>-<impl>-t<T>-forward  tokens/s of a full forward
#                                              (logits at every position)
#   bench: llama-<model>-<impl>-t<T>-ppo      samples/s of the PPO update
#                                              (cached frozen states; top 2
#                                              layers forward + backward)
#   ratio: fa/torch llama-<model>-t<T>-forward|ppo X
# Goal: fa >= 2x torch. Each side's figure is its best over
# FA_BENCH_LLAMA_ROUNDS (2) alternating rounds of FA_BENCH_LLAMA_REPS (3)
# runs after a warm-up; "bench: llama-load" gives the load average at the
# start and end (a loaded machine hurts 2-thread runs most, torch's far
# more than fa's). Knobs: FA_BENCH_LLAMA_TOKENS (300),
# FA_BENCH_LLAMA_PROMPTS (8), FA_BENCH_LLAMA_BIG=0 skips the 135M-shaped
# model. Needs Debian's python3-torch. Debian's torch
# calls the system BLAS, by default the netlib reference one (about 1
# GFLOP/s): when libopenblas0-pthread is installed its directory is put
# first on LD_LIBRARY_PATH for the torch runs, so torch gets OpenBLAS
# without changing the system's alternative; "bench: llama-torch-blas"
# says which one torch used.
set -u
cd "$(dirname "$0")/.." || exit 2
root=$PWD
out=${FA_BENCH_DIR:-$PWD/bench/out}/llama
mkdir -p "$out"
N=${FA_BENCH_LLAMA_TOKENS:-300}
P=${FA_BENCH_LLAMA_PROMPTS:-8}
R=${FA_BENCH_LLAMA_REPS:-3}
RO=${FA_BENCH_LLAMA_ROUNDS:-2}
PY=/usr/bin/python3
status=0

if ! $PY -c 'import torch' 2>/dev/null; then
  echo "bench: llama skipped: $PY has no torch (python3-torch)"; exit 0
fi
lib=$root/build/default/lib/libfa.a
if [ ! -f "$lib" ]; then
  make -s -C "$root" all >/dev/null || { echo "bench: cannot build fa"; exit 1; }
fi
# shellcheck disable=SC2046
cc -O2 -g -std=c11 -D_GNU_SOURCE -I"$root/lib" $(pkg-config --cflags json-c) \
  -o "$out/llama-bench" bench/llama-bench.c "$lib" \
  $(pkg-config --libs libcurl json-c libsodium) -lm -pthread ||
  { echo "bench: cannot build llama-bench"; exit 1; }

# the best of a file's values for key $1
num() { awk -v k="$1" '$1 == k && (b == "" || $2 > b) { b = $2 } END { if (b != "") print b }' "$2"; }
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }

blasdir=/usr/lib/x86_64-linux-gnu/openblas-pthread
if [ -e "$blasdir/libblas.so.3" ]; then
  torch_ld=$blasdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  echo "bench: llama-torch-blas openblas"
else
  torch_ld=${LD_LIBRARY_PATH:-}
  echo "bench: llama-torch-blas system (netlib unless an optimised libblas.so.3 is selected)"
fi

load() { echo "bench: llama-load $1 $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null) (1, 5, 15 min; $(nproc) cpus)"; }
load start

models="tiny"
$PY tests/lib/make_tiny_llama.py "$out/tiny" || exit 1
if [ "${FA_BENCH_LLAMA_BIG:-1}" != 0 ]; then
  $PY tests/lib/make_tiny_llama.py "$out/135m" --layers 30 --hidden 576 --heads 9 \
    --kv-heads 3 --inter 1536 --vocab 49152 --tied --seed 2 || exit 1
  models="tiny 135m"
fi

for model in $models; do
  np=$P
  [ "$model" = 135m ] && np=$(( P > 4 ? 4 : P ))
  for t in 1 2; do
    # fa and torch take turns, RO rounds, each keeping its best figures:
    # on a shared machine both see the same spells of load
    for impl in fa torch; do : >"$out/$model-$impl-t$t.txt"; done
    for _ in $(seq "$RO"); do
      for impl in fa torch; do
        f=$out/$model-$impl-t$t.txt
        if [ $impl = fa ]; then
          FA_THREADS=$t "$out/llama-bench" "$out/$model" "$t" "$N" "$np" "$R" >>"$f" || status=1
        else
          LD_LIBRARY_PATH=$torch_ld OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t \
            $PY bench/llama-torch.py "$out/$model" "$t" "$N" "$np" "$R" >>"$f" ||
            status=1
        fi
      done
    done
    for impl in fa torch; do
      f=$out/$model-$impl-t$t.txt
      echo "bench: llama-$model-$impl-t$t-forward $(num forward_tps "$f") tokens/s"
      echo "bench: llama-$model-$impl-t$t-ppo $(num ppo_sps "$f") samples/s"
    done
    for what in forward_tps:forward ppo_sps:ppo; do
      a=$(num "${what%%:*}" "$out/$model-fa-t$t.txt") b=$(num "${what%%:*}" "$out/$model-torch-t$t.txt")
      if [ -n "$a" ] && [ -n "$b" ]; then
        echo "ratio: fa/torch llama-$model-t$t-${what##*:} $(calc "$a / $b")"
      fi
    done
  done
done
load end
rm -rf "$out/135m"
exit $status
