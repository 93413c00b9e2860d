#!/usr/bin/env bash
# Provider news is never cut silently: FMP is paged (page=0,1,...) until a
# page is not full, Alpha Vantage's time window split while a reply is
# full; each page is cached; a period of 2500 items comes back whole.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export FMP_API_KEY=test-fmp-key ALPHAVANTAGE_API_KEY=test-av-key
start_fake providers.py --news-per-day 5
base=http://127.0.0.1:$port
export FA_FMP_URL=$base FA_ALPHAVANTAGE_URL=$base
reqs() { curl -s "$base/_requests" | jq -r '.requests[]' | grep -c "$1"; }
# 500 days x 5 items = 2500 news items
args=(--symbol AAPL --from 2023-01-02 --to 2024-05-15 --retry-delay 5)

run fa-fetch --source fmp "${args[@]}"
is "$rc" 0 "fmp: exit 0"
is "$(grep -c '"kind":"news"' "$out")" 2500 "fmp: all 2500 items, not the first 1000"
is "$(jq -r 'select(.kind=="news") | .url' "$out" | sort -u | wc -l)" 2500 "each once"
is "$(reqs 'stock_news')" 3 "three pages asked (1000, 1000, 500)"
is "$(curl -s "$base/_requests" | jq -r '.requests[]' | grep stock_news | grep -o 'page=[0-9]*' | tr '\n' ' ')" \
  "page=0 page=1 page=2 " "pages 0, 1, 2"
jq -c 'select(.kind=="news")' "$out" >"$T/fmp.news"
run fa-fetch --source fmp "${args[@]}"
is "$(reqs 'stock_news')" 3 "fmp again: every page from the cache"
same_file <(jq -c 'select(.kind=="news")' "$out") "$T/fmp.news" "the same items"

run fa-fetch --source alphavantage "${args[@]}"
is "$rc" 0 "alphavantage: exit 0"
is "$(grep -c '"kind":"news"' "$out")" 2500 "alphavantage: all 2500 items"
is "$(jq -r 'select(.kind=="news") | .url' "$out" | sort -u | wc -l)" 2500 "each once"
is "$(reqs 'NEWS_SENTIMENT')" 7 "a full window split in halves: 1 + 2 + 4 requests"
same_file <(jq -c 'select(.kind=="news") | del(.id, .sentiment)' "$out") <(jq -c 'del(.id)' "$T/fmp.news") \
  "the same items as fmp's"
run fa-fetch --source alphavantage "${args[@]}"
is "$(reqs 'NEWS_SENTIMENT')" 7 "alphavantage again: from the cache"

# one day that fills a reply cannot be split: kept, and a warning says so
start_fake providers.py --news-per-day 1001
export FA_ALPHAVANTAGE_URL=http://127.0.0.1:$port
run fa-fetch --source alphavantage --symbol AAPL --from 2023-01-03 --to 2023-01-03
is "$rc:$(grep -c '"kind":"news"' "$out")" 0:1000 "a full single day: its 1000 items"
like "$(cat "$err")" "alphavantage: news of AAPL on 2023-01-03 fill a reply of 1000 items; the provider's cap may still hide more" \
  "and a message that the cap may hide more"
done_testing
