#!/usr/bin/env bash
# fa-fetch --source fmp|yahoo|alphavantage against the loopback fake
# (tests/fakes/providers.py): the three providers' shapes give the same
# prices; the cache makes a repeated fetch request nothing; retries on 429
# (Retry-After) and 500; a stalled server times out; truncated, malformed
# and wrongly shaped replies fail with the URL and exit 1 and are never
# cached; a missing key is exit 2; the key never reaches the cache or stderr.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export FMP_API_KEY=test-fmp-key ALPHAVANTAGE_API_KEY=test-av-key
start_fake providers.py
base=http://127.0.0.1:$port
get() { # PATH: the fake's reply body, over bash's /dev/tcp (no client needed)
  local body
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$1" >&3
  body=$(cat <&3)
  exec 3<&-
  printf '%s\n' "${body#*$'\r\n\r\n'}"
}
count() { get /_count | jq .count; }
export FA_FMP_URL=$base FA_YAHOO_URL=$base FA_ALPHAVANTAGE_URL=$base
args=(--symbol AAPL --from 2023-06-05 --to 2023-06-16 --lookback 2 --retry-delay 5 -v)

for src in fmp yahoo alphavantage; do
  run fa-fetch --source "$src" "${args[@]}"
  is "$rc" 0 "$src: exit 0"
  jq -c 'select(.kind=="price")' "$out" >"$T/$src.prices"
  jq -c 'select(.kind=="news") | del(.id, .sentiment)' "$out" >"$T/$src.news"
  cp "$err" "$T/$src.err"
done
is "$(wc -l <"$T/fmp.prices")" 12 "fmp: 10 days and 2 lookback bars"
is "$(head -n1 "$T/fmp.prices" | jq -r .date)" 2023-06-01 "fmp: lookback starts 2 bars before --from"
same_file "$T/yahoo.prices" "$T/fmp.prices" "yahoo chart gives the same prices as fmp"
same_file "$T/alphavantage.prices" "$T/fmp.prices" "alphavantage daily adjusted gives the same prices"
same_file "$T/alphavantage.news" "$T/fmp.news" "alphavantage news = fmp news"
is "$(wc -c <"$T/yahoo.news")" 0 "yahoo: no news"
is "$(head -n1 "$T/fmp.news" | jq -r '.date + " " + .time')" "2023-06-05 2023-06-03 09:30:00" \
  "weekend news carried to Monday, time kept"
is "$(jq -r .date "$T/fmp.news" | sort -c && echo ok)" ok "news in day order"
is "$(jq -c 'select(.kind=="price")|.adj_close' "$out" | head -n1)" "$(head -n1 "$T/fmp.prices" | jq .adj_close)" \
  "adjusted close carried"

# Cache: the same fetches again make no request.
n0=$(count)
for src in fmp yahoo alphavantage; do
  run fa-fetch --source "$src" "${args[@]}"
  same_file <(jq -c 'select(.kind=="price")' "$out") "$T/fmp.prices" "$src again: same prices"
done
run env FA_YAHOO_URL="$base/" fa-fetch --source yahoo "${args[@]}"
same_file <(jq -c 'select(.kind=="price")' "$out") "$T/fmp.prices" "base URL with a trailing slash"
is "$(count)" "$n0" "repeated fetches made zero requests"
run fa-fetch --source fmp "${args[@]}" --refresh
is "$(count)" "$((n0 + 2))" "--refresh asks again (prices and news)"
run fa-fetch --source fmp "${args[@]}" --cache-dir "$T/other"
is "$(count)" "$((n0 + 4))" "another cache dir starts empty"
ok "[ -n \"\$(ls '$T/other/fetch/fmp')\" ]" "--cache-dir used"

# The key never in the cache (names or contents), stderr or stdout.
is "$(grep -rl -e test-fmp-key -e test-av-key "$FA_CACHE_DIR" "$T/other" | wc -l)" 0 "no key in cache contents"
is "$(find "$FA_CACHE_DIR" "$T/other" | grep -c -e test-fmp-key -e test-av-key)" 0 "no key in cache names"
is "$(cat "$T"/*.err "$T"/*.prices | grep -c -e test-fmp-key -e test-av-key)" 0 "no key on stderr or stdout"
ok "get /_requests | grep -q 'apikey=REDACTED'" \
  "the fake did receive a key"

# Faults. Each under its own prefix so nothing is cached yet.
fault() { # spec source [extra args]
  local spec=$1 src=$2; shift 2
  local var=FA_FMP_URL
  [ "$src" = yahoo ] && var=FA_YAHOO_URL
  [ "$src" = alphavantage ] && var=FA_ALPHAVANTAGE_URL
  run env "$var=$base/fault=$spec" fa-fetch --source "$src" --symbol AAPL --from 2023-06-05 --to 2023-06-09 \
    --retries 2 --retry-delay 5 --timeout 1 -v "$@"
}
fault 429:1:ra=1 fmp
is "$rc" 0 "429 with Retry-After, then success: exit 0"
like "$(cat "$err")" "HTTP status 429; retry 1 of 2 in 1000 ms" "Retry-After honoured"
is "$(jq -r 'select(.kind=="price")|.date' "$out" | wc -l)" 5 "then the data"
fault 500:2 yahoo
is "$rc" 0 "500 twice, then success: exit 0"
is "$(grep -c 'HTTP status 500; retry' "$err")" 2 "two retries"
fault 500:all yahoo
is "$rc" 1 "500 every time: exit 1"
like "$(cat "$err")" "fa-fetch: GET 'http://127.0.0.1:[0-9]+/fault=500:all/v8/finance/chart/AAPL.*': HTTP status 500 \(after 3 attempts\)" \
  "names the URL, status and attempts"
fault 429:all:ra=0 alphavantage --retries 1
is "$rc" 1 "429 every time: exit 1"
like "$(cat "$err")" "query\?function=TIME_SERIES_DAILY_ADJUSTED&symbol=AAPL&outputsize=full': HTTP status 429" \
  "alphavantage URL shown without the key"
fault stall fmp --timeout 0.3 --retries 1
is "$rc" 1 "stalled server: exit 1"
like "$(cat "$err")" "timed out.*\(after 2 attempts\)" "stall: timeout error, retried"
is "$(wc -c <"$out")" 0 "stall: no records"
fault truncate:all fmp --retries 1
is "$rc" 1 "truncated body: exit 1"
like "$(tail -n1 "$err")" "historical-price-full/AAPL.*: transfer closed" "truncated body: reported"
fault truncate:1 fmp
is "$rc" 0 "truncated once, then success"
for src in fmp yahoo alphavantage; do
  fault malformed "$src"
  is "$rc" 1 "$src malformed body: exit 1"
  like "$(tail -n1 "$err")" "^fa-fetch: http://127.0.0.1:[0-9]+/fault=malformed/.*: reply is not JSON" "$src malformed: URL named"
  fault shape "$src"
  is "$rc" 1 "$src wrong shape: exit 1"
  like "$(tail -n1 "$err")" "reply is not (FMP's|Yahoo's|Alpha Vantage's)" "$src wrong shape: says so"
done
is "$(find "$FA_CACHE_DIR" -path '*fault=*' | wc -l)$(grep -rl -e 'not json' -e 'Thank you for using' "$FA_CACHE_DIR" | wc -l)" 00 \
  "failed replies are never cached"
fault nokey fmp
like "$(tail -n1 "$err")" "Invalid API KEY" "provider's own message shown"
is "$(grep -c test-fmp-key "$err")" 0 "no key in the message"

# Missing keys are configuration errors.
run env -u FMP_API_KEY fa-fetch --source fmp --symbol AAPL --from 2023-06-05 --to 2023-06-09
is "$rc" 2 "no FMP_API_KEY: exit 2"
like "$(cat "$err")" "FMP_API_KEY" "names the variable"
run env ALPHAVANTAGE_API_KEY= fa-fetch --source alphavantage --symbol AAPL
is "$rc" 2 "empty ALPHAVANTAGE_API_KEY: exit 2"
run env FA_YAHOO_URL=http://127.0.0.1:1 fa-fetch --source yahoo --symbol AAPL --retries 0
is "$rc" 1 "connection refused: exit 1"
done_testing
