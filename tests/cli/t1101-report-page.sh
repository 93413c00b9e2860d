#!/usr/bin/env bash
# fa-report: fa-run ends by writing RUN/report/index.html, one
# self-contained page (no script, nothing fetched from elsewhere): the
# configuration, the metrics of every strategy as in metrics.ndjson, the
# equity chart as inline SVG, the model calls, the journal, and a row per
# day that opens to its evidence, charts as data URIs. Model answers are
# escaped: a <script> in a reasoning shows as text; a NONE day shows why.
. "$(dirname "$0")/lib.sh"
for p in fa-report fa-fetch fa-decide fa-metrics; do
  command -v "$p" >/dev/null || { skip "fa-report" "$p is not built"; done_testing; exit 0; }
done
command -v python3 >/dev/null || { skip "fa-report" "python3 is missing"; done_testing; exit 0; }
start_fake openai.py --replies "$FIXTURES/report/replies.json"
export FA_LLM_URL=http://127.0.0.1:$port/v1 FA_MODEL=fake-chat FA_LLM_RETRIES=0
R=$T/run
run fa-run -q --symbol SYN --source synth:5 --warmup 2023-03-02:2023-03-03 --test 2023-03-06:2023-03-09 --out "$R"
is "$rc" 0 "a run through the fake model"
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$err" | tail -n 5
P=$R/report/index.html
ok "[ -s '$P' ]" "fa-run wrote the page"
html=$(cat "$P")
for d in "$R"/days/*.ndjson; do
  d=$(basename "$d" .ndjson)
  ok "grep -q '<details id=\"d-$d\"' '$P'" "day $d has its row"
done
is "$(grep -o '<details id="d-' "$P" | wc -l)" "$(find "$R/days" -name '*.ndjson' | wc -l)" "one row per day"
is "$(grep -ci '<script' "$P")" 0 "no script element anywhere"
like "$html" "Buy\. &lt;script&gt;document\.title=&#39;pwned&#39;&lt;/script&gt;&lt;/div&gt;&lt;/details&gt;" \
  "a <script> in the model's reasoning is shown as text"
like "$html" "&lt;img src=x onerror=alert\(1\)&gt;" "so is markup in the intel analysis"
like "$html" "Mostly positive &amp; &quot;quoted&quot; news; &lt;b&gt;overall&lt;/b&gt;" "quotes and ampersands too"
ok "! grep -Eq '(src|href)=\"(https?:)?//' '$P'" "nothing is loaded from elsewhere"
like "$html" "Content-Security-Policy\" content=\"default-src 'none'" "and the page forbids it"
# the NONE day: its row is flagged and its body says why
row=$(grep -o '<details id="d-2023-03-08".*</summary>' "$P")
like "$row" 'class="flag"' "the NONE day's row is flagged"
like "$row" '<span class="NONE">NONE</span>' "with its action"
reason=$(jq -r 'select(.kind == "decision") | .reason' "$R/days/2023-03-08.ndjson")
ok "[ -n '$reason' ]" "the NONE decision has a reason"
esc=$(printf '%s' "${reason:0:40}" | sed "s/&/\\&amp;/g; s/</\\&lt;/g; s/>/\\&gt;/g; s/\"/\\&quot;/g; s/'/\\&#39;/g")
ok "grep -qF -- '$esc' '$P'" "which the page shows"
# metrics: every strategy's row, every number as in metrics.ndjson
is "$(grep -o '<tr data-follow="[a-z_]*"' "$P" | sort | uniq -c | awk '{print $1}' | sort -u)" 2 \
  "each strategy has a test row and a warm-up row"
bad=0
while read -r follow key want; do
  got=$(awk -v f="$follow" -v k="$key" '
    index($0, "id=\"metrics-test\"") { on = 1 } on && index($0, "</table>") { on = 0 }
    on && index($0, "data-follow=\"" f "\"") {
      s = $0; p = index(s, "data-k=\"" k "\" data-v=\""); s = substr(s, p + length(k) + 18)
      print substr(s, 1, index(s, "\"") - 1) }' "$P")
  if [ "$want" = null ]; then [ "$got" = null ] || bad=$((bad + 1))
  elif ! awk -v a="$got" -v b="$want" 'BEGIN { exit !((a - b) ^ 2 <= 1e-20 * (b ^ 2 + 1e-300)) }'; then
    bad=$((bad + 1)); echo "# $follow $key: page $got, metrics.ndjson $want"
  fi
done < <(jq -r '.follow as $f | ["total_return","cagr","sharpe","sortino","calmar","mdd","annual_vol","trades","win_rate","end_value"][] as $k | "\($f) \($k) \(.[$k])"' "$R/metrics.ndjson")
is "$bad" 0 "the test metrics table holds metrics.ndjson's numbers"
agent_tr=$(jq -r 'select(.follow == "decision") | .total_return * 10000 | round / 100' "$R/metrics.ndjson")
like "$html" "data-k=\"total_return\" data-v=\"[^\"]*\">$(printf '%.2f' "$agent_tr")%" "and shows them rounded"
like "$html" '<figure><svg' "the equity and drawdown chart is inline SVG"
is "$(grep -o 'src="data:image/png;base64,' "$P" | wc -l)" "$(jq -r 'select(.kind == "reflect_low" or .kind == "reflect_high") | select(.chart) | .chart' "$R"/days/*.ndjson | wc -l)" \
  "every Kline and trading chart is in the page as a data URI"
calls=$(jq -s '[.[] | select(.kind == "llm")] | length' "$R"/days/*.ndjson)
like "$html" "<td>total</td><td class=\"n\">$calls</td>" "the ledger counts every call ($calls)"
like "$html" "$(cat "$R/journal.pub")" "the journal's key is named"

# regenerating alone; a smaller page without the day charts; usage
cp "$P" "$T/page1"
run fa-report "$R"
is "$rc" 0 "fa-report alone regenerates the page"
same_file "$P" "$T/page1" "the same page"
run fa-report --no-images -o "$T/small.html" "$R"
is "$rc" 0 "--no-images -o FILE"
is "$(grep -c 'data:image/png' "$T/small.html")" 0 "leaves the day charts out"
run fa-report "$T/nothing"
is "$rc" 2 "a directory that is not a run: exit 2"
run fa-report
is "$rc" 2 "no RUN: usage error"
run fa-report -o /dev/full/x "$R"
is "$rc" 1 "an unwritable output: exit 1"
done_testing
