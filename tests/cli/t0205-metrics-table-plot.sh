#!/usr/bin/env bash
# fa-metrics --table (text, markdown, CSV) and --plot (PNG, SVG).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=../fixtures/markets/json.sh
. "$FIXTURES/markets/json.sh"
P=$FIXTURES/markets/prices.ndjson

fa-tools --window 15 --strategy buy_hold,macd <"$P" >"$T/sig"
for t in buy_hold macd; do
  fa-metrics --convention finagent --follow $t <"$T/sig" >"$T/fin.$t"
  fa-metrics --follow $t <"$T/sig" >"$T/real.$t"
done
cat "$T"/fin.* "$T"/real.* >"$T/all"
is "$(count "$T/all" metrics)" 8 "eight runs"

run_in "$T/all" fa-metrics --table
is "$rc" 0 "--table"
is "$(wc -l <"$out")" 9 "a header and eight rows"
like "$(head -n1 "$out")" "^symbol +follow +convention +from +to +days +return +ARR +CAGR +SR +Sharpe" "header"
ok "[ \$(awk '{print length}' '$out' | sort -u | wc -l) -eq 1 ]" "aligned: every line has the same width"
like "$(grep 'AAA  *buy_hold  *finagent' "$out")" " -  " "a figure the run has not is a dash"

run_in "$T/all" fa-metrics --table --format markdown
like "$(sed -n 2p "$out")" '^\|-+\|-+\|.*-+:\|$' "markdown separator, numbers right-aligned"
is "$(grep -c '^| ' "$out")" 9 "markdown rows"

run_in "$T/all" fa-metrics --table --format csv
is "$(head -n1 "$out" | cut -d, -f1-7)" "symbol,follow,convention,from,to,days,total_return" "CSV header"
want=$(get "$T/fin.macd" metrics arr BBB)
col=$(head -n1 "$out" | tr ',' '\n' | grep -n '^arr$' | cut -d: -f1)
is "$(grep '^BBB,macd,finagent' "$out" | cut -d, -f"$col")" "$want" "CSV holds the record's exact fraction"
is "$(grep -c '^BBB,' "$out")" 4 "four BBB rows"
run fa-metrics --table --format html
is "$rc" 2 "unknown format: exit 2"
echo '{"kind":"metrics","symbol":"Q,\"x\"","total_return":0.5}' >"$T/q"
run_in "$T/q" fa-metrics --table --format csv
like "$(sed -n 2p "$out")" '^"Q,""x""",' "CSV quoting"

if command -v gnuplot >/dev/null 2>&1; then
  cat "$T/real.buy_hold" "$T/real.macd" >"$T/acc"
  run_in "$T/acc" fa-metrics --plot "$T/eq.png" --convention finagent
  is "$rc" 0 "--plot from account records"
  is "$(head -c 4 "$T/eq.png" | od -An -c | tr -d ' ')" '211PNG' "a PNG"
  is "$(count "$out" metrics)" "$(count "$T/acc" metrics)" "account records are drawn, not simulated again"
  run_in "$T/acc" fa-metrics --plot "$T/eq2.png" --convention finagent
  same_file "$T/eq.png" "$T/eq2.png" "the same runs give the same bytes"
  run_in "$T/sig" fa-metrics --follow macd --plot "$T/eq.svg"
  is "$rc" 0 "--plot while simulating"
  like "$(head -c 300 "$T/eq.svg")" "<svg" "an SVG by extension"
  is "$(count "$out" metrics)" 2 "the stream is still printed"
  run_in "$T/acc" fa-metrics --plot "$T/nodir/x.png"
  is "$rc" 1 "an unwritable plot: exit 1"
else
  skip "--plot" "gnuplot is not installed"
fi
FA_GNUPLOT=$T/no-gnuplot run_in "$T/sig" fa-metrics --plot "$T/x.png"
is "$rc" 2 "gnuplot missing: exit 2"
done_testing
