#!/usr/bin/env bash
# fa-policy: flags and usage errors, train -> checkpoint -> act on a small
# synthetic market, bit-for-bit repeatable training, the checkpoint's
# manifest and refusals (backbone or dimension mismatch, tampered
# weights), masking over whole runs (no illegal action), pass-through,
# the progress log, and write errors.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

fa-fetch --source synth:5 --symbol SYN --from 2019-01-01 --to 2019-06-30 >"$T/train.ndjson"
fa-fetch --source synth:5 --symbol SYN --from 2019-07-01 --to 2019-09-30 --lookback 20 >"$T/test.ndjson"
small=(--embed-dim 16 --hidden 8 --timesteps 200 --rollout 20 --minibatch 10)

# --- flags ---
run fa-policy --help
is "$rc" 0 "--help exits 0"
like "$(head -n 1 "$out")" "^Usage: fa-policy train" "--help prints usage on stdout"
run fa-policy --version
is "$rc" 0 "--version exits 0"
like "$(cat "$out")" "^fa-policy \(fa\) " "--version prints one line"
run fa-policy
is "$rc" 2 "no command: exit 2"
like "$(cat "$err")" "want a command" "no command: says so"
run fa-policy fly
is "$rc" 2 "unknown command: exit 2"
run fa-policy train --bogus
is "$rc" 2 "unknown flag: exit 2"
like "$(cat "$err")" "Try 'fa-policy --help'" "unknown flag: try line"
run_in "$T/train.ndjson" fa-policy train --out "$T/x"  --gamma 1.5
is "$rc" 2 "gamma out of range: exit 2"
like "$(cat "$err")" "gamma" "gamma out of range: names it"
run_in "$T/train.ndjson" fa-policy train --out "$T/x" --hidden 8,,8
is "$rc" 2 "bad --hidden: exit 2"
run_in "$T/train.ndjson" fa-policy train --out "$T/x" --backbone lstm
is "$rc" 2 "unknown backbone: exit 2"
run_in "$T/train.ndjson" fa-policy train --out "$T/x" --reward pnl
is "$rc" 2 "unknown reward: exit 2"
run_in "$T/train.ndjson" fa-policy train --out "$T/x" --timesteps 0
is "$rc" 2 "zero timesteps: exit 2"
run_in "$T/train.ndjson" fa-policy train
is "$rc" 2 "train without --out: exit 2"
run_in "$T/test.ndjson" fa-policy act
is "$rc" 2 "act without --ckpt: exit 2"
run_in "$T/test.ndjson" fa-policy act --ckpt "$T/none"
is "$rc" 2 "act with a missing checkpoint: exit 2"
run_in "$T/test.ndjson" fa-policy act --ckpt "$T/none" --lr 0.1
is "$rc" 2 "act refuses training flags"
head -n 3 "$T/train.ndjson" >"$T/short.ndjson"
run_in "$T/short.ndjson" fa-policy train -q --out "$T/x" "${small[@]}"
is "$rc" 1 "one day of data: exit 1"
like "$(cat "$err")" "at least 2 trading days" "one day of data: says why"

# --- train, twice: same bytes ---
run_in "$T/train.ndjson" fa-policy train "${small[@]}" --seed 7 --out "$T/a" --log "$T/a.log"
is "$rc" 0 "train exits 0"
is "$(wc -c <"$out")" 0 "train prints nothing on stdout"
is "$(grep -c '^fa-policy: update ' "$err")" 10 "one progress line per update (200/20)"
like "$(head -n 1 "$err")" "return .* pg .* value .* entropy .* kl .* clip " "progress line fields"
is "$(jq -r .kind "$T/a.log" | sort -u)" ppo_update "log: ppo_update records"
is "$(wc -l <"$T/a.log")" 10 "log: one record per update"
is "$(jq -r '[.update,.steps,.illegal]|@tsv' "$T/a.log" | tail -n 1)" "$(printf '10\t200\t0')" \
  "log: last update, steps, no illegal action"
ok "[ -s '$T/a/weights.bin' ] && [ -s '$T/a/manifest.json' ]" "checkpoint: weights and manifest"
ok "! ls -A '$T/a' | grep -q '^\.'" "checkpoint: no temporary files left"
run_in "$T/train.ndjson" fa-policy train "${small[@]}" --seed 7 --out "$T/b" -q
same_file "$T/a/weights.bin" "$T/b/weights.bin" "same seed: identical weights"
same_file "$T/a/manifest.json" "$T/b/manifest.json" "same seed: identical manifest"
run_in "$T/train.ndjson" fa-policy train "${small[@]}" --seed 8 --out "$T/c" -q
ok "! cmp -s '$T/a/weights.bin' '$T/c/weights.bin'" "other seed: other weights"
FA_SEED=7 fa-policy train "${small[@]}" -q --out "$T/d" <"$T/train.ndjson"
same_file "$T/a/weights.bin" "$T/d/weights.bin" "FA_SEED gives the seed"

m=$T/a/manifest.json
is "$(jq -r '[.backbone,.embed_model,.input_dim,.pool]|@tsv' "$m")" \
  "$(printf 'text\tfa-hash-16/sections-10\t160\tsections')" "manifest: backbone, model, dimension"
is "$(jq -c '[.hidden,.activation,.seed,.symbol,.from,.to]' "$m")" \
  '[[8],"tanh",7,"SYN","2019-01-02","2019-06-28"]' "manifest: split, seed, data period"
is "$(jq -r .value_trunk "$m")" own "manifest: the value head has its own trunk"
is "$(jq -c '.ppo|[.timesteps,.rollout,.minibatch,.lr,.gamma,.lambda,.clip,.ent_coef,.vf_coef,.kl_coef,.max_grad_norm,.grad_accum,.max_episode,.epochs]' "$m")" \
  '[200,20,10,0.0005,0.95,0.98,0.2,0.05,0.5,0.05,0.5,8,65,1]' "manifest: PPO hyperparameters (Table 3)"
is "$(jq -r '.env|[.reward,.fill,.cash,.commission_bps]|@tsv' "$m")" "$(printf 'sharpe\tnext-close\t10000\t0')" \
  "manifest: environment"
like "$(jq -r .data_blake2b "$m")" "^[0-9a-f]{64}$" "manifest: hash of the training data"
like "$(jq -r .weights_blake2b "$m")" "^[0-9a-f]{64}$" "manifest: hash of the weights"
grep -v '"news"' "$T/train.ndjson" | fa-policy train "${small[@]}" --seed 7 -q --out "$T/e"
ok "[ \"\$(jq -r .data_blake2b '$T/e/manifest.json')\" != \"\$(jq -r .data_blake2b '$m')\" ]" \
  "other training data, other data hash"

# --- act ---
run_in "$T/test.ndjson" fa-policy act --ckpt "$T/a" --from 2019-07-01
is "$rc" 0 "act exits 0"
days=$(jq -r 'select(.kind=="price" and .date >= "2019-07-01") | .date' "$T/test.ndjson" | wc -l)
is "$(jq -r 'select(.kind=="decision") | .date' "$out" | wc -l)" "$days" "one decision per trading day from --from"
is "$(jq -c 'select(.kind!="decision")' "$out" | md5sum)" "$(jq -c . "$T/test.ndjson" | md5sum)" \
  "every input record passed through unchanged, in order"
is "$(jq -r 'select(.kind=="decision") | [.symbol,.date==.asof,.agent,(.probabilities|keys|join(","))] | @tsv' "$out" | sort -u)" \
  "$(printf 'SYN\ttrue\tfa-policy\tBUY,HOLD,SELL')" "decision fields"
is "$(jq -r 'select(.kind=="decision") | (.probabilities.BUY+.probabilities.HOLD+.probabilities.SELL - 1 | fabs < 1e-9)' "$out" | sort -u)" \
  true "probabilities sum to 1"
# a decision comes after its day's records and before the next price
is "$(jq -r 'select(.date >= "2019-07-01") | .kind' "$out" | awk '$0=="price"{if(p && !d) bad++; p=1; d=0} $0=="decision"{d=1} END{print bad+0}')" 0 \
  "each day's decision before the next day's price"
# masking over the whole run: SELL only when long, BUY only when flat
is "$(jq -r 'select(.kind=="decision") | .action' "$out" | awk '{ if (($0=="SELL" && !long) || ($0=="BUY" && long)) bad++; if ($0=="BUY") long=1; if ($0=="SELL") long=0 } END {print bad+0}')" \
  0 "act: no illegal action (greedy)"
is "$(jq -r 'select(.kind=="decision") | select(.action as $a | (.legal | index($a)) == null) | .date' "$out" | wc -l)" 0 \
  "act: every action is in its legal set"
is "$(jq -r 'select(.kind=="decision") | [.legal[] as $l | .probabilities[$l]] | add' "$out" | awk '$1 < 0.999999 {b++} END {print b+0}')" 0 \
  "illegal actions get probability 0"
run_in "$T/test.ndjson" fa-policy act --ckpt "$T/a" --sample --seed 3
is "$(jq -r 'select(.kind=="decision") | .action' "$out" | awk '{ if (($0=="SELL" && !long) || ($0=="BUY" && long)) bad++; if ($0=="BUY") long=1; if ($0=="SELL") long=0 } END {print bad+0}')" \
  0 "act --sample: no illegal action"
run_in "$T/test.ndjson" fa-policy act --ckpt "$T/a" --sample --seed 3
cp "$out" "$T/s1"
run_in "$T/test.ndjson" fa-policy act --ckpt "$T/a" --sample --seed 3
same_file "$out" "$T/s1" "act --sample with a seed is repeatable"
fa-policy act --ckpt "$T/a" --print-state <"$T/test.ndjson" | jq -r 'select(.kind=="decision") | .state' >"$T/state"
ok "grep -q '^Legal actions today: ' '$T/state' && grep -q '^Account: cash ' '$T/state' && grep -q \"^Today's news:\" '$T/state'" \
  "--print-state: the four parts of the prompt"
run fa-policy act --ckpt "$T/a"
is "$rc" 0 "act on empty input: exit 0"
is "$(wc -c <"$out")" 0 "act on empty input: nothing out"
printf '{"kind":"price","symbol":"SYN","date":"2019-07-01","close":-3}\nnot json\n' >"$T/bad.ndjson"
run_in "$T/bad.ndjson" fa-policy act --ckpt "$T/a"
is "$(jq -r .kind "$out" | sort | uniq -c | awk '{print $2":"$1}' | tr '\n' ' ')" "error:2 price:1 " \
  "bad records: error records, the stream goes on"
run_in "$T/bad.ndjson" fa-policy act --ckpt "$T/a" --strict
is "$rc" 1 "bad record under --strict: exit 1"

# --- refusals ---
run_in "$T/test.ndjson" fa-policy act --ckpt "$T/a" --backbone numeric
is "$rc" 2 "backbone mismatch: exit 2"
like "$(cat "$err")" "trained with backbone text" "backbone mismatch: says so"
run_in "$T/test.ndjson" fa-policy act --ckpt "$T/a" --embed-dim 32
is "$rc" 2 "dimension mismatch: exit 2"
like "$(cat "$err")" "fa-hash-16/sections-10, 160 dims" "dimension mismatch: names both"
FA_EMBED_DIM=24 fa-policy act --ckpt "$T/a" <"$T/test.ndjson" >/dev/null 2>"$T/err.env"
is "$?" 2 "FA_EMBED_DIM mismatch: exit 2"
cp -r "$T/a" "$T/t"
printf 'x' | dd of="$T/t/weights.bin" bs=1 seek=100 conv=notrunc 2>/dev/null
run_in "$T/test.ndjson" fa-policy act --ckpt "$T/t"
is "$rc" 2 "tampered weights: exit 2"
like "$(cat "$err")" "do not match the manifest" "tampered weights: says so"

# --- numeric backbone ---
run_in "$T/train.ndjson" fa-policy train --backbone numeric --hidden 16 --timesteps 400 -q --out "$T/n"
is "$rc" 0 "numeric backbone trains"
is "$(jq -r '[.backbone,.embed_model,.input_dim]|@tsv' "$T/n/manifest.json")" "$(printf 'numeric\tprice-features-v1\t8')" \
  "numeric manifest"
run_in "$T/test.ndjson" fa-policy act --ckpt "$T/n"
is "$(jq -r 'select(.kind=="decision") | .action' "$out" | awk '{ if (($0=="SELL" && !long) || ($0=="BUY" && long)) bad++; if ($0=="BUY") long=1; if ($0=="SELL") long=0 } END {print bad+0}')" \
  0 "numeric: no illegal action"
run_in "$T/test.ndjson" fa-policy act --ckpt "$T/n" --backbone text
is "$rc" 2 "numeric checkpoint with the text backbone: refused"

# --- fill close and the return reward ---
run_in "$T/train.ndjson" fa-policy train "${small[@]}" --fill close --reward return -q --out "$T/f"
is "$(jq -r '.env|[.fill,.reward]|@tsv' "$T/f/manifest.json")" "$(printf 'close\treturn')" "--fill close --reward return recorded"

# --- --source runs fa-fetch ---
run fa-policy train "${small[@]}" --seed 7 -q --source synth:5 --symbol SYN --from 2019-01-01 --to 2019-06-30 --out "$T/g"
is "$rc" 0 "--source: exit 0"
same_file "$T/g/weights.bin" "$T/a/weights.bin" "--source gives the same training as the stream on stdin"
run fa-policy train "${small[@]}" -q --source nosuch:x --symbol SYN --out "$T/h"
is "$rc" 1 "--source with a failing fa-fetch: exit 1"
ok "[ ! -e '$T/h/weights.bin' ]" "no checkpoint after a failed fetch"

# --- write errors ---
if [ -w /dev/full ]; then
  fa-policy act --ckpt "$T/a" <"$T/test.ndjson" >/dev/full 2>"$T/err.full"
  is "$?" 1 "act to /dev/full: exit 1"
else
  skip "act to /dev/full" "no /dev/full"
fi
fa-policy act --ckpt "$T/a" <"$T/test.ndjson" | head -n 1 >/dev/null
is "${PIPESTATUS[0]}" 0 "act into a closed pipe: quiet exit 0"
mkdir -p "$T/ro" && chmod 555 "$T/ro"
if [ "$(id -u)" != 0 ]; then
  run_in "$T/train.ndjson" fa-policy train "${small[@]}" -q --out "$T/ro/ck"
  is "$rc" 1 "unwritable checkpoint directory: exit 1"
else
  skip "unwritable checkpoint directory" "running as root"
fi
done_testing
