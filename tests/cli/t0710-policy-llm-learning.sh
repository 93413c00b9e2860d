#!/usr/bin/env bash
# fa-policy --backbone llm:DIR learns: on a market that rises every week
# (0.6% a day on average), a tiny random llama model's policy trained
# with the defaults for 1,200 steps holds on: on held-out days its
# probability of SELL when long falls below that of the same run after
# its first update (the untrained policy, near uniform), and its
# probability of BUY when flat rises above it. Measured: SELL when long
# 0.35 against 0.50, BUY when flat 0.55 against 0.49. Plain suite only
# (python3-torch writes the tiny model; t0704 runs the llm backbone under
# the sanitizers).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

py=/usr/bin/python3
if [ "${FA_SUITE:-}" = san ] || ! "$py" -c 'import torch' 2>/dev/null; then
  skip "llm backbone learning" "plain suite with python3-torch only"
  done_testing
  exit 0
fi
M=$T/tiny
"$py" "$FA_ROOT/tests/lib/make_tiny_tokenizer.py" "$M" >/dev/null && "$py" "$FA_ROOT/tests/lib/make_tiny_llama.py" "$M" --layers 3 >/dev/null
is "$?" 0 "tiny model written"

# 260 weekdays from 2020-01-01: +0.6% a day and a deterministic wiggle of
# 0.6%, as fa price records (close-only bars)
awk 'BEGIN {
  p = 100; t = mktime("2020 01 01 12 00 00")
  for (i = 0; n < 260; i++) {
    d = t + i * 86400
    if (strftime("%u", d) > 5) continue
    p *= 1.006 + 0.006 * sin(n * 1.7); n++
    ds = strftime("%Y-%m-%d", d)
    printf "{\"kind\":\"price\",\"symbol\":\"UP\",\"date\":\"%s\",\"asof\":\"%s\",\"close\":%.2f,\"adj_close\":%.2f}\n", ds, ds, p, p
  }
}' >"$T/all.ndjson"
is "$(wc -l <"$T/all.ndjson")" 260 "260 days of prices"
head -n 200 "$T/all.ndjson" >"$T/train.ndjson"
test_from=$(sed -n 201p "$T/all.ndjson" | jq -r .date)
cat >"$T/short.txt" <<'END'
Legal actions today: {{legal_actions}}

Account: position {{account.position}} shares.
END

# mean probability of SELL on the days held long, of BUY on the days flat
probs() {
  jq -r 'select(.kind=="decision") | if (.legal|index("BUY")) then "flat \(.probabilities.BUY)" else "long \(.probabilities.SELL)" end' |
    awk '{ s[$1] += $2; n[$1]++ } END { printf "%.4f %.4f\n", n["long"] ? s["long"] / n["long"] : 0.5, n["flat"] ? s["flat"] / n["flat"] : 0.5 }'
}
for steps in 40 1200; do
  run_in "$T/train.ndjson" fa-policy train -q --backbone "llm:$M" --template "$T/short.txt" --timesteps "$steps" --out "$T/ck$steps"
  is "$rc" 0 "train $steps steps"
  fa-policy act --ckpt "$T/ck$steps" --from "$test_from" <"$T/all.ndjson" >"$T/act$steps.ndjson"
  is "$?" 0 "act ($steps steps)"
done
read -r sell0 buy0 < <(probs <"$T/act40.ndjson")
read -r sell1 buy1 < <(probs <"$T/act1200.ndjson")
echo "# held out: P(SELL | long) $sell0 -> $sell1, P(BUY | flat) $buy0 -> $buy1"
ok "awk 'BEGIN { exit !($sell1 < $sell0 - 0.03) }'" "trained: less likely to sell a rising asset"
ok "awk 'BEGIN { exit !($buy1 > $buy0 + 0.03) }'" "trained: more likely to buy it"
done_testing
