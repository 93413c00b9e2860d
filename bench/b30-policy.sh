#!/usr/bin/env bash
# bench/b30-policy.sh: fa-policy's training and acting speed on a synthetic
# market (fa-fetch --source synth:1, 2010..2016 for training, 2017..2018 to
# act), with the paper's PPO settings (Table 3: 13,860 timesteps = 346
# updates of 40 steps) for the numeric backbone and the text backbone
# (local hashing embedder, 384 dims per paragraph). Prints
#   bench: policy-<backbone>-train-steps    environment steps per second
#   bench: policy-<backbone>-updates        PPO updates per second (wall
#                                           time of the whole run, so the
#                                           rollouts are included)
#   bench: policy-<backbone>-act-steps      decisions per second (act)
#   ratio: policy-train-steps text/numeric  how much the text state costs
# Knobs: FA_BENCH_TIMESTEPS (13860). The machine is shared: compare ratios
# from one run, not absolute times.
set -u
cd "$(dirname "$0")/.." || exit 2
out=${FA_BENCH_DIR:-$PWD/bench/out}/policy
mkdir -p "$out"
PATH=$PWD/bin:$PATH
TS=${FA_BENCH_TIMESTEPS:-13860}
R=40
status=0

now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.1f\", $1 }"; }

fa-fetch --source synth:1 --symbol SYN --from 2010-01-01 --to 2016-12-31 >"$out/train.ndjson" || exit 1
fa-fetch --source synth:1 --symbol SYN --from 2017-01-01 --to 2018-12-31 --lookback 20 >"$out/test.ndjson" || exit 1
ndays=$(grep -c '"kind":"price"' "$out/test.ndjson")

declare -A steps
for bb in numeric text; do
  t0=$(now)
  if ! fa-policy train -q --backbone "$bb" --embed-dim 384 --timesteps "$TS" --rollout $R \
      --out "$out/ckpt-$bb" <"$out/train.ndjson"; then
    echo "bench: policy-$bb-train failed"; status=1; continue
  fi
  t1=$(now)
  fa-policy act --ckpt "$out/ckpt-$bb" <"$out/test.ndjson" >/dev/null || status=1
  t2=$(now)
  steps[$bb]=$(calc "$TS / ($t1 - $t0)")
  echo "bench: policy-$bb-train-steps ${steps[$bb]} steps/s"
  echo "bench: policy-$bb-updates $(calc "($TS / $R) / ($t1 - $t0)") updates/s"
  echo "bench: policy-$bb-act-steps $(calc "$ndays / ($t2 - $t1)") steps/s"
done
if [ -n "${steps[text]:-}" ] && [ -n "${steps[numeric]:-}" ]; then
  echo "ratio: policy-train-steps text/numeric $(awk "BEGIN { printf \"%.3f\", ${steps[text]} / ${steps[numeric]} }")"
fi
rm -rf "$out"
exit $status
