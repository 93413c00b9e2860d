#!/usr/bin/env bash
# fa-tools: signal records after each price, selection, windows, params,
# multi-symbol streams, bad input and bad flags.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=../fixtures/markets/json.sh
. "$FIXTURES/markets/json.sh"
P=$FIXTURES/markets/prices.ndjson

run_in "$P" fa-tools
is "$rc" 0 "all strategies by default"
is "$(count "$out" price)" 120 "every price passes through"
is "$(count "$out" signal)" 600 "five signals per price record"
is "$(head -n1 "$out")" "$(head -n1 "$P")" "input passes through unchanged"
is "$(sed -n 2p "$out" | python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); print(" ".join(list(r)[:4]), list(r)[-1])')" \
  "kind symbol date asof id" "signal: kind symbol date asof first, id last"
is "$(get "$out" signal tool AAA | sort -u | tr '\n' ' ')" "buy_hold kdj_rsi macd stoch_bb zmr " "the five tools"
is "$(get "$out" signal action | grep -cE '^(BUY|SELL|HOLD)$')" 600 "every action is BUY, SELL or HOLD"
like "$(grep '"tool":"zmr"' "$out" | tail -n1)" '"explanation":"z-score of close [0-9.]+ against' "explanation with values"
ok "[ \$(get '$out' signal past_days AAA | tail -n1) = 59 ]" "past performance over the 59 days before the last"

# selection and window
run_in "$P" fa-tools --strategy macd,zmr --window 15
is "$rc" 0 "--strategy macd,zmr --window 15"
is "$(get "$out" signal tool | sort -u | tr '\n' ' ')" "macd zmr " "only the selected tools"
is "$(get "$out" signal window AAA | sort -n | tail -n1)" 15 "never more than 15 bars"
is "$(get "$out" signal window AAA | sed -n 1p)" 1 "one bar on the first day"

# the window restarts the recursions: the last day computed on the stream
# cut to its last 15 AAA bars gives the same signal
grep '"symbol":"AAA"' "$P" | tail -n 15 >"$T/last15"
run_in "$T/last15" fa-tools --strategy macd
a=$(grep '"tool":"macd"' "$out" | tail -n1 | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["explanation"])')
run_in "$P" fa-tools --strategy macd --window 15
b=$(grep '"tool":"macd"' "$out" | grep AAA | tail -n1 | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["explanation"])')
is "$b" "$a" "--window 15 equals a fresh start on the last 15 bars"

# per-symbol params
cat >"$T/p.json" <<'J'
{"AAA": {"macd": {"s": 6}, "zmr": {"thr": 0.5}}, "*": {"zmr": {"thr": 3}}}
J
run_in "$P" fa-tools --strategy macd,zmr --params "$T/p.json"
is "$(grep '"tool":"macd"' "$out" | grep -c '"params":{"s":6}')" 60 "AAA's macd uses s = 6"
is "$(grep '"symbol":"BBB"' "$out" | grep -c '"params":{"thr":3}')" 60 "BBB uses the \"*\" entry"
FA_TOOLS_PARAMS=$T/p.json run_in "$P" fa-tools --strategy zmr
is "$(grep -c '"params":{"thr":0.5}' "$out")" 60 "FA_TOOLS_PARAMS is read"

# the shipped FinAgent params load
run_in "$P" fa-tools --params "$FA_ROOT/prompts/params-finagent.json" --strategy kdj_rsi
is "$rc" 0 "prompts/params-finagent.json loads"

# bad input
printf '%s\n' '{"kind":"price","symbol":"X","date":"2024-01-03","close":10,"high":11,"low":9}' \
  '{"kind":"price","symbol":"X","date":"2024-01-02","close":10,"high":11,"low":9}' \
  'not json' '{"kind":"price","symbol":"X","date":"2024-01-04","high":11}' >"$T/bad"
run_in "$T/bad" fa-tools --strategy buy_hold
is "$rc" 0 "bad records do not stop the stream"
is "$(count "$out" error)" 3 "three error records"
like "$(cat "$err")" "<stdin>:2: price X 2024-01-02 is out of order" "out of order, with position"
is "$(count "$out" signal)" 1 "signals only for the good record"
run_in "$T/bad" fa-tools --strict
is "$rc" 1 "--strict: a bad record exits 1"

# bad flags and files
run fa-tools --window -1
is "$rc" 2 "negative window: exit 2"
run fa-tools --strategy rsi
is "$rc" 2 "unknown strategy: exit 2"
like "$(cat "$err")" "unknown strategy 'rsi'" "says which"
run fa-tools --params "$T/missing.json"
is "$rc" 2 "missing params file: exit 2"
echo '{"AAA": {"macd": {"s": "six"}}}' >"$T/bad.json"
run fa-tools --params "$T/bad.json"
is "$rc" 2 "bad params file: exit 2"
like "$(cat "$err")" "AAA.*macd.*invalid s" "names symbol, strategy and key"
run fa-tools --bogus
is "$rc" 2 "unknown flag: exit 2"
like "$(cat "$err")" "Try 'fa-tools --help'" "try help"
run fa-tools --from 2024-01-01
is "$rc" 2 "--from without --tune: exit 2"
run fa-tools --help
is "$rc" 0 "--help exits 0"
like "$(cat "$out")" "Usage: fa-tools" "--help prints usage to stdout"
run fa-tools --version
like "$(cat "$out")" "fa-tools \\(fa\\)" "--version"

run fa-tools "$T/missing.ndjson"
is "$rc" 1 "a missing input file: exit 1"
like "$(cat "$err")" "missing.ndjson" "names the file"
run fa-tools "$P" "$P"
is "$(count "$out" signal)" 600 "the same bars again (two files) give no new signals"

# output errors
fa-tools <"$P" >/dev/full 2>"$T/full.err"
is "$?" 1 "a full disk exits 1"
fa-tools <"$P" | head -n1 >/dev/null
is "${PIPESTATUS[0]}" 0 "a closed pipe ends quietly"
done_testing
