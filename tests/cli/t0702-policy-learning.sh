#!/usr/bin/env bash
# fa-policy learns from news: on fa-fetch's synthetic market, where the
# day's news tells the next days' moves, a policy trained (fixed seed) on
# 2003..2012 beats buy and hold and the best of three random policies on
# the held-out days 2013..2020 by a clear margin; trained on the same
# prices with the news made uninformative (synth noise=1) it does not
# beat the random policies.
#
# Settings, chosen so the test runs in about 20 s of CPU: the text
# backbone (paragraph pooling, local embedder of 64 dimensions per
# paragraph), one hidden layer of 32, 10,000 timesteps (250 updates of
# 40 steps), the day's return as reward and fills at the decision day's
# close (so a day's reward is the action's own consequence), gamma 0
# (each day a contextual bandit: the news moves the next 3 days, and the
# state carries the position), 8 epochs of minibatches of 20 with one
# optimiser step each, lr 3e-3 not annealed, entropy 0.1 (a smaller bonus
# lets some seeds collapse early to a constant action), the paper's KL
# penalty 0.05. With the paper's defaults (13,860 steps, lr 5e-4 annealed,
# one epoch, one optimiser step per update) the policy barely moves from
# uniform in that budget. Seeds 1..4 all pass (seed 1 is used): trained
# 1.05 0.74 1.88 0.80, uninformative -0.08 -0.35 0.02 -0.27, against buy
# and hold -0.27 and random policies between about -0.15 and 0.25.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

for n in 0 1; do
  fa-fetch --source "synth:7:noise=$n" --symbol SYN --from 2003-01-01 --to 2012-12-31 >"$T/train$n.ndjson"
  fa-fetch --source "synth:7:noise=$n" --symbol SYN --from 2013-01-01 --to 2020-12-31 --lookback 20 >"$T/test$n.ndjson"
done
ok "cmp -s <(jq -c 'select(.kind==\"price\")' '$T/test0.ndjson') <(jq -c 'select(.kind==\"price\")' '$T/test1.ndjson')" \
  "both markets have the same prices"

hp=(--embed-dim 64 --hidden 32 --timesteps 10000 --reward return --fill close --gamma 0 --lambda 0
  --lr 0.003 --no-anneal --epochs 8 --minibatch 20 --grad-accum 1 --ent-coef 0.1 --seed 1)
score() { # decisions on stdin -> total return over the test days
  fa-metrics --convention finagent --fee 0 --from 2013-01-01 | jq -r 'select(.kind=="metrics") | .total_return'
}
declare -A ret
for n in 0 1; do
  fa-policy train -q "${hp[@]}" --out "$T/ck$n" --log "$T/log$n" <"$T/train$n.ndjson"
  is "$?" 0 "train (noise=$n)"
  fa-policy act --ckpt "$T/ck$n" --from 2013-01-01 <"$T/test$n.ndjson" >"$T/act$n.ndjson"
  is "$?" 0 "act (noise=$n)"
  ret[$n]=$(score <"$T/act$n.ndjson")
done
ret0=${ret[0]} ret1=${ret[1]}
is "$(jq -r 'select(.kind=="decision") | .action' "$T/act0.ndjson" | awk '{ if (($0=="SELL" && !long) || ($0=="BUY" && long)) bad++; if ($0=="BUY") long=1; if ($0=="SELL") long=0 } END {print bad+0}')" \
  0 "no illegal action over the held-out run"
is "$(jq -r 'select(.illegal > 0)' "$T/log0" | wc -l)" 0 "no illegal action in training"

# buy and hold: BUY every day, scored the same way
bh=$(jq -c 'select(.kind=="price" and .date >= "2013-01-01") |
  {kind:"decision",symbol,date,asof:.date,action:"BUY"}' "$T/test0.ndjson" |
  cat "$T/test0.ndjson" - | score)
# random policies: an untrained network, near-uniform over the legal
# actions whatever the state (so the cheap numeric backbone), sampled
fa-policy train -q --backbone numeric --fill close --timesteps 1 --rollout 1 --out "$T/ckr" <"$T/train0.ndjson"
best=-1
for s in 1 2 3; do
  r=$(fa-policy act --ckpt "$T/ckr" --sample --seed "$s" --from 2013-01-01 <"$T/test0.ndjson" | score)
  best=$(awk -v a="$best" -v b="$r" 'BEGIN { print (b > a ? b : a) }')
done
echo "# total return 2013..2020: trained $ret0, trained on uninformative news $ret1, buy and hold $bh, best random $best"
margin=0.2
ok "awk 'BEGIN { exit !($ret0 > $bh + $margin) }'" "informative news: beats buy and hold by > $margin"
ok "awk 'BEGIN { exit !($ret0 > $best + $margin) }'" "informative news: beats the best random policy by > $margin"
ok "awk 'BEGIN { exit !($ret1 < $best + $margin) }'" "uninformative news: does not beat the best random policy by $margin"
ok "awk 'BEGIN { exit !($ret0 > $ret1 + $margin) }'" "informative beats uninformative by > $margin"
done_testing
