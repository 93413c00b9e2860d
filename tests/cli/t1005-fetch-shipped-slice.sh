#!/usr/bin/env bash
# The real data shipped with fa (pipelines/data/investorbench: MSFT closes
# and news, 2020-06..2021-05, from InvestorBench) carry their licence and
# their sources, stay small, and are read by fa-fetch as they are.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
D=$FA_ROOT/pipelines/data/investorbench
ok "grep -q '^MIT License' '$D/LICENSE' && grep -q 'Copyright (c) 2024 Haohang Li, Yupeng Cao, Yangyang Yu' '$D/LICENSE'" \
  "the MIT licence notice is shipped with the data"
ok "grep -q 'felis33/INVESTOR-BENCH' '$D/SOURCES.md' && grep -q 'LICENSE' '$D/SOURCES.md'" \
  "SOURCES.md names the source and the licence"
is "$(head -n 1 "$D/MSFT.csv")" "date,close" "the prices are InvestorBench's close-only file"
ok "[ \$(du -k '$D' | tail -n 1 | cut -f1) -lt 5120 ]" "the slice is under 5 MB"

run fa-fetch --source "csv:$D" --symbol MSFT --from 2020-06-01 --to 2021-05-31
is "$rc" 0 "fa-fetch reads the slice"
[ "$rc" -eq 0 ] || sed "s/^/#   /" "$err" | tail -n 5
is "$(jq -c 'select(.kind == "price")' "$out" | wc -l)" 236 "236 trading days of prices"
is "$(jq -r 'select(.kind == "price") | .date' "$out" | sed -n '1p;$p' | tr '\n' ' ')" "2020-06-01 2021-05-06 " \
  "from 2020-06-01 to 2021-05-06"
is "$(jq -c 'select(.kind == "price" and (has("open") or has("high") or has("low") or has("volume")))' "$out" | wc -l)" 0 \
  "close-only bars: no open, high, low or volume"
is "$(jq -c 'select(.kind == "news")' "$out" | wc -l)" 3160 "3160 news items"
is "$(jq -r 'select(.kind == "news") | .date' "$out" | sort -u | wc -l)" 227 "on 227 days"
is "$(jq -c 'select(.kind == "news" and (.title == "" or .text == ""))' "$out" | wc -l)" 0 \
  "every item has a title and a text"
is "$(jq -c 'select(.kind == "error")' "$out" | wc -l)" 0 "no error records"
done_testing
