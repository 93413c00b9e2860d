#!/usr/bin/env bash
# bench/b30-policy.sh: fa-policy's speed on a synthetic market (fa-fetch
# --source synth:1, 2010..2016 to train, 2017..2018 to act) with the
# paper's PPO settings (Table 3: 13,860 timesteps = 346 updates of 40
# steps), for the numeric backbone and the text backbone (local hashing
# embedder, 384 dimensions per paragraph, 10 paragraphs). Prints
#   bench: policy-<bb>-updates       PPO updates per second (the update
#                                    phase alone: epochs, minibatches,
#                                    backward, Adam; from --log)
#   bench: policy-<bb>-rollout-steps environment steps per second while
#                                    collecting rollouts (state, encoder,
#                                    forward, sampling, market step)
#   bench: policy-<bb>-train-steps   steps per second of the whole run
#   bench: policy-<bb>-act-steps     decisions per second of act (one
#                                    process over 2 years of days)
#   ratio: policy-rollout-steps text/numeric  what the text state costs
#   bench: policy-llm-tiny-updates   PPO updates per second of the llm
#                                    backbone on the tests' tiny random
#                                    llama (3 layers, 2 trained, hidden 64;
#                                    the default state prompt, rollouts of
#                                    40, FA_BENCH_LLM_TIMESTEPS steps, 200)
#   bench: policy-llm-tiny-steps     its environment steps per second
#                                    (rollout and update together)
# Knobs: FA_BENCH_TIMESTEPS (13860). The machine is shared: compare ratios
# from one run, not absolute times.
set -u
cd "$(dirname "$0")/.." || exit 2
out=${FA_BENCH_DIR:-$PWD/bench/out}/policy
mkdir -p "$out"
PATH=$PWD/bin:$PATH
TS=${FA_BENCH_TIMESTEPS:-13860}
status=0

now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.1f\", $1 }"; }
calc3() { awk "BEGIN { printf \"%.3g\", $1 }"; }

fa-fetch --source synth:1 --symbol SYN --from 2010-01-01 --to 2016-12-31 >"$out/train.ndjson" || exit 1
fa-fetch --source synth:1 --symbol SYN --from 2017-01-01 --to 2018-12-31 --lookback 20 >"$out/test.ndjson" || exit 1
ndays=$(grep -c '"kind":"price"' "$out/test.ndjson")

declare -A roll
for bb in numeric text; do
  t0=$(now)
  if ! fa-policy train -q --backbone "$bb" --embed-dim 384 --timesteps "$TS" \
      --log "$out/log-$bb" --out "$out/ckpt-$bb" <"$out/train.ndjson"; then
    echo "bench: policy-$bb-train failed"; status=1; continue
  fi
  t1=$(now)
  fa-policy act --ckpt "$out/ckpt-$bb" <"$out/test.ndjson" >/dev/null || status=1
  t2=$(now)
  read -r nup upd rs steps < <(jq -rs '[length, (map(.update_seconds)|add),
    (map(.rollout_seconds)|add), .[-1].steps] | @tsv' "$out/log-$bb")
  roll[$bb]=$(calc "$steps / $rs")
  echo "bench: policy-$bb-updates $(calc "$nup / $upd") updates/s"
  echo "bench: policy-$bb-rollout-steps ${roll[$bb]} steps/s"
  echo "bench: policy-$bb-train-steps $(calc "$steps / ($t1 - $t0)") steps/s"
  echo "bench: policy-$bb-act-steps $(calc "$ndays / ($t2 - $t1)") steps/s"
done
if [ -n "${roll[text]:-}" ] && [ -n "${roll[numeric]:-}" ]; then
  echo "ratio: policy-rollout-steps text/numeric $(awk "BEGIN { printf \"%.3f\", ${roll[text]} / ${roll[numeric]} }")"
fi
# the llm backbone on a tiny random model (needs Debian's python3-torch)
if /usr/bin/python3 -c 'import torch' 2>/dev/null &&
  /usr/bin/python3 tests/lib/make_tiny_tokenizer.py "$out/tiny" >/dev/null &&
  /usr/bin/python3 tests/lib/make_tiny_llama.py "$out/tiny" --layers 3 >/dev/null; then
  LT=${FA_BENCH_LLM_TIMESTEPS:-200}
  t0=$(now)
  if fa-policy train -q --backbone "llm:$out/tiny" --timesteps "$LT" --log "$out/log-llm" \
      --out "$out/ckpt-llm" <"$out/train.ndjson"; then
    t1=$(now)
    read -r nup upd steps < <(jq -rs '[length, (map(.update_seconds)|add), .[-1].steps] | @tsv' "$out/log-llm")
    echo "bench: policy-llm-tiny-updates $(calc3 "$nup / $upd") updates/s"
    echo "bench: policy-llm-tiny-steps $(calc3 "$steps / ($t1 - $t0)") steps/s"
  else
    echo "bench: policy-llm-tiny failed"; status=1
  fi
else
  echo "bench: policy-llm-tiny skipped (no python3-torch)"
fi
rm -rf "$out"
exit $status
