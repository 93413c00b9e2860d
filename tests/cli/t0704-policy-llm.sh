#!/usr/bin/env bash
# fa-policy --backbone llm:DIR end to end on a tiny random llama model
# (tests/lib/make_tiny_llama.py, make_tiny_tokenizer.py): train with the
# paper's preset (few steps) and act; illegal actions get probability 0;
# LoRA; a stopped and resumed run gives the bytes of one never stopped;
# a checkpoint refuses another base model (exit 2, named); loading errors
# exit 2 with the model's message. Under the sanitizers (slow) the LoRA,
# --print-state and other-model parts are skipped.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

py=/usr/bin/python3
if ! "$py" -c 'import torch' 2>/dev/null; then
  skip "llm backbone" "no python3-torch for the tiny model"
  done_testing
  exit 0
fi
M=$T/tiny
"$py" "$FA_ROOT/tests/lib/make_tiny_tokenizer.py" "$M" >/dev/null && "$py" "$FA_ROOT/tests/lib/make_tiny_llama.py" "$M" --layers 3 >/dev/null
is "$?" 0 "tiny model written"

fa-fetch --source synth:5 --symbol SYN --from 2020-01-01 --to 2020-03-31 >"$T/days.ndjson"
# a short state prompt keeps the sequences small (the default template is
# the same code path, about 1,500 tokens with this byte-level tokenizer)
cat >"$T/short.txt" <<'END'
Task: trade {{symbol}} once a day.

Legal actions today: {{legal_actions}}

News: {{news}}

Account: position {{account.position}}.
END
hp=(--backbone "llm:$M" --template "$T/short.txt" --preset flag --timesteps 24 --rollout 8 --max-episode 5 --minibatch 4 --grad-accum 1)
run_in "$T/days.ndjson" fa-policy train "${hp[@]}" --out "$T/ck"
is "$rc" 0 "train --backbone llm:DIR --preset flag"
is "$(jq -c '[.backbone, .train_layers, .lora, (.base_config_blake2b|length), .complete]' "$T/ck/manifest.json")" \
  '["llm",2,0,64,true]' "manifest: backbone, layers, base model hash"
ok "[ -s '$T/ck/state.bin' ]" "optimiser state stored"
run_in "$T/days.ndjson" fa-policy act --ckpt "$T/ck" --from 2020-03-01
is "$rc" 0 "act trades"
dec=$(grep -c '"kind":"decision"' "$out")
ok "[ $dec -ge 15 ]" "one decision per day ($dec)"
is "$(jq -r 'select(.kind=="decision") | select((.legal|index("BUY")) == null and .probabilities.BUY != 0 or (.legal|index("SELL")) == null and .probabilities.SELL != 0) | .date' "$out" | wc -l)" \
  0 "illegal actions have probability 0"
san=false
[ "${FA_SUITE:-}" = san ] && san=true
if $san; then
  skip "--print-state" "sanitizers: slow"
  skip "--lora" "sanitizers: slow"
  skip "--lora parameters" "sanitizers: slow"
else
  run_in "$T/days.ndjson" fa-policy act --ckpt "$T/ck" --from 2020-03-01 --print-state
  like "$(grep -m1 '"kind":"decision"' "$out")" '"state":"Task: trade SYN' "the state prompt of the template"
  run_in "$T/days.ndjson" fa-policy train "${hp[@]}" --lora 4 --out "$T/lo"
  is "$rc" 0 "train with --lora 4"
  ok "[ $(jq .parameters "$T/lo/manifest.json") -lt $(jq .parameters "$T/ck/manifest.json") ]" "LoRA trains fewer parameters"
fi

run_in "$T/days.ndjson" fa-policy train -q "${hp[@]}" --stop-after 1 --out "$T/rs"
is "$rc" 0 "stopped after one update"
run_in "$T/days.ndjson" fa-policy train -q --resume "$T/rs"
is "$rc" 0 "resumed"
for f in weights.bin state.bin manifest.json; do
  ok "cmp -s '$T/ck/$f' '$T/rs/$f'" "$f: the same bytes as the run never stopped"
done

# another base model: the same files with another rms_norm_eps (config hash)
mkdir -p "$T/other"
ln -s "$M/model.safetensors" "$M/tokenizer.json" "$M/tokenizer_config.json" "$T/other/"
jq '.rms_norm_eps = 1e-3' "$M/config.json" >"$T/other/config.json"
run_in "$T/days.ndjson" fa-policy act --ckpt "$T/ck" --backbone "llm:$T/other"
is "$rc" 2 "another base model: exit 2"
like "$(cat "$err")" "trained on another base model" "named"

run_in "$T/days.ndjson" fa-policy train --backbone "llm:$T/nowhere" --out "$T/n"
is "$rc" 2 "a missing model: exit 2"
like "$(cat "$err")" "config.json" "the model's message"
: >"$T/trunc/model.safetensors" 2>/dev/null || { mkdir -p "$T/trunc"; cp "$M"/*.json "$T/trunc/"; head -c 100 "$M/model.safetensors" >"$T/trunc/model.safetensors"; }
run_in "$T/days.ndjson" fa-policy train --backbone "llm:$T/trunc" --out "$T/n"
is "$rc" 2 "a truncated model: exit 2"
like "$(cat "$err")" "model.safetensors" "names the file"
done_testing
