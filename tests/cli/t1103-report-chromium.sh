#!/usr/bin/env bash
# fa-report in a browser, as a person would see it: headless Chromium
# loads a small run's page from a file:// URL; in the DOM it dumps (after
# any script would have run) every day is there, the metrics table holds
# metrics.ndjson's numbers, and the model's <script> never ran; then a
# screenshot (kept in tests/out/SUITE/t1103-report.png for a look).
# Chromium is slow to start, so this runs in the plain suite only.
. "$(dirname "$0")/lib.sh"
if [ "${FA_SUITE:-plain}" = san ]; then
  skip "fa-report in Chromium" "runs in the plain suite only (Chromium is slow; fa-report's C code runs under the sanitizers in t1101)"
  done_testing; exit 0
fi
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { skip "fa-report in Chromium" "chromium is not installed (make check installs it: apt-get install chromium)"; done_testing; exit 0; }
for p in fa-report fa-fetch fa-decide fa-metrics python3; do
  command -v "$p" >/dev/null || { skip "fa-report in Chromium" "$p is missing"; done_testing; exit 0; }
done
start_fake openai.py --replies "$FIXTURES/report/replies.json"
export FA_LLM_URL=http://127.0.0.1:$port/v1 FA_MODEL=fake-chat FA_LLM_RETRIES=0
R=$T/run
run fa-run -q --symbol SYN --source synth:5 --warmup 2023-03-02:2023-03-03 --test 2023-03-06:2023-03-09 --out "$R"
is "$rc" 0 "a small run"
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$err" | tail -n 5

# chromium ARGS...: headless, offline, its own profile, killed after 60 s.
chromium() {
  mkdir -p "$T/profile"
  timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$T/profile" "$@" 2>>"$T/chromium.log"
}
url=file://$R/report/index.html
chromium --dump-dom "$url" >"$T/dom.html"
rc=$?
is "$rc" 0 "Chromium loads the page"
[ "$rc" -eq 0 ] || tail -n 5 "$T/chromium.log" | sed 's/^/#   /'
dom=$(cat "$T/dom.html")
like "$dom" "<title>fa run: SYN</title>" "the title is the page's own: no script of the model's ran"
is "$(grep -ci '<script' "$T/dom.html")" 0 "and there is no script element"
like "$dom" "Buy\. &lt;script&gt;" "the model's <script> is text"
want=$(find "$R/days" -name '*.ndjson' -printf '%f\n' | sed 's/\.ndjson$//' | sort | paste -sd,)
got=$(grep -o '<details id="d-[0-9-]*"' "$T/dom.html" | sed 's/.*d-//; s/"//' | sort | paste -sd,)
is "$got" "$want" "every day is in the DOM"
bad=0 n=0
while read -r follow key want; do
  n=$((n + 1))
  got=$(awk -v f="$follow" -v k="$key" '
    index($0, "id=\"metrics-test\"") { on = 1 }
    on && index($0, "data-follow=\"" f "\"") {
      s = $0; p = index(s, "data-k=\"" k "\" data-v=\""); s = substr(s, p + length(k) + 18)
      print substr(s, 1, index(s, "\"") - 1); exit }' "$T/dom.html")
  if [ "$want" = null ]; then [ "$got" = null ] || bad=$((bad + 1))
  elif ! awk -v a="$got" -v b="$want" 'BEGIN { exit !((a - b) ^ 2 <= 1e-20 * (b ^ 2 + 1e-300)) }'; then
    bad=$((bad + 1)); echo "# $follow $key: page '$got', metrics.ndjson $want"
  fi
done < <(jq -r '.follow as $f | ["total_return","sharpe","sortino","calmar","mdd","annual_vol","trades","end_value"][] as $k | "\($f) \($k) \(.[$k])"' "$R/metrics.ndjson")
ok "[ $n -ge 48 ]" "the metrics table has six strategies' numbers ($n)"
is "$bad" 0 "each equal to metrics.ndjson's"

chromium --window-size=1280,2000 --screenshot="$T/shot.png" "$url" >/dev/null
is "$?" 0 "a screenshot"
ok "[ \"\$(head -c 8 '$T/shot.png' | od -An -tx1 | tr -d ' ')\" = 89504e470d0a1a0a ] && [ \$(stat -c %s '$T/shot.png') -gt 20000 ]" \
  "a PNG with something drawn"
keep=$FA_ROOT/tests/out/${FA_SUITE:-plain}
[ -d "$keep" ] && cp "$T/shot.png" "$keep/t1103-report.png"
done_testing
