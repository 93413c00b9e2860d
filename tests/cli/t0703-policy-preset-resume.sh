#!/usr/bin/env bash
# fa-policy --preset flag sets the paper's Table 3; a run stopped with
# --stop-after and continued with --resume (twice, with the episode under
# way cut each time) ends in the same checkpoint bytes as a run never
# stopped; the progress line shows '-' for the return of an update where
# no episode ended.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

fa-fetch --source synth:3 --symbol SYN --from 2020-01-01 --to 2020-12-31 >"$T/days.ndjson"

run_in "$T/days.ndjson" fa-policy train --backbone numeric --preset flag --timesteps 40 --out "$T/p"
is "$rc" 0 "--preset flag trains"
is "$(jq -c '.ppo | [.timesteps,.rollout,.max_episode,.lr,.anneal,.gamma,.lambda,.clip,.epochs,.minibatch,.grad_accum,.ent_coef,.vf_coef,.kl_coef,.max_grad_norm]' "$T/p/manifest.json")" \
  '[40,40,65,0.0005,true,0.95,0.98,0.2,1,32,8,0.05,0.5,0.05,0.5]' "Table 3 (but the timesteps asked after it)"
is "$(jq -c '.env | [.reward,.fill,.cash,.commission_bps,.slippage_bps]' "$T/p/manifest.json")" \
  '["sharpe","next-close",10000,0,0]' "the paper's environment"
run_in "$T/days.ndjson" fa-policy train --backbone numeric --timesteps 40 --out "$T/d"
is "$(jq -c 'del(.ppo.timesteps) | [.ppo, .env]' "$T/d/manifest.json")" \
  "$(jq -c 'del(.ppo.timesteps) | [.ppo, .env]' "$T/p/manifest.json")" "the defaults are the preset"
run_in "$T/days.ndjson" fa-policy train --preset nope --out "$T/x"
is "$rc" 2 "unknown preset"

run_in "$T/days.ndjson" fa-policy train -v --backbone numeric --timesteps 40 --rollout 8 --out "$T/v"
like "$(cat "$err")" "update 1/5 steps 8 episodes 0 return - pg" "no episode ended: return -"
ok "! grep -q nan '$err'" "never nan"

hp=(--backbone numeric --timesteps 480 --rollout 16 --max-episode 7 --seed 5)
fa-policy train -q "${hp[@]}" --out "$T/a" <"$T/days.ndjson"
is "$?" 0 "a run never stopped"
run_in "$T/days.ndjson" fa-policy train -q "${hp[@]}" --stop-after 4 --out "$T/b"
is "$rc" 0 "stopped after 4 updates"
is "$(jq -c '[.updates_done, .complete]' "$T/b/manifest.json")" '[4,false]' "the manifest says so"
run_in "$T/days.ndjson" fa-policy train -q --resume "$T/b" --stop-after 7
is "$rc" 0 "resumed, stopped again"
run_in "$T/days.ndjson" fa-policy train -q --resume "$T/b"
is "$rc" 0 "resumed to the end"
for f in weights.bin state.bin manifest.json; do
  ok "cmp -s '$T/a/$f' '$T/b/$f'" "$f: the same bytes as the run never stopped"
done
run_in "$T/days.ndjson" fa-policy train --resume "$T/b" --lr 0.1
is "$rc" 2 "--resume takes no training flags"
head -n 200 "$T/days.ndjson" >"$T/other.ndjson"
run_in "$T/other.ndjson" fa-policy train --resume "$T/b" --out "$T/c"
is "$rc" 2 "--resume refuses other data"
like "$(cat "$err")" "trained on other data" "and says why"
done_testing
