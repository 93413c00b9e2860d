#!/usr/bin/env bash
# A run whose days have no news says so: once before the first day, and in
# metrics.md ("N of M days had no news: the market intelligence stages ran
# empty"). The progress line shows the pace and the time left.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
if [ "${FA_SUITE:-plain}" = san ]; then
  skip "no-news" "fa-run's messages are shell; plain suite only"; done_testing; exit 0
fi
for p in fa-fetch fa-intel fa-retrieve fa-embed fa-reflect-low fa-reflect-high fa-tools fa-decide fa-metrics; do
  command -v "$p" >/dev/null || { skip "fa-run no news" "$p is not built"; done_testing; exit 0; }
done
command -v jq >/dev/null || { skip "fa-run no news" "jq is missing"; done_testing; exit 0; }
export FA_LLM=offline
unset FA_ASSET_TYPE
SLICE=$FA_ROOT/pipelines/data/investorbench
mkdir -p "$T/src"
cp "$SLICE/MSFT.csv" "$T/src/"
# news for 2020-10-01, none for 2020-10-02
jq -c 'select(.date == "2020-10-01")' "$SLICE/MSFT.news.ndjson" >"$T/src/MSFT.news.ndjson"

run fa-run --symbol MSFT --source "csv:$T/src" --test 2020-10-01:2020-10-02 --no-charts --out "$T/r1"
is "$rc" 0 "a run with a day without news"
[ "$rc" -eq 0 ] || sed "s/^/#   /" "$err" | tail -n 5
is "$(grep -c 'have no news' "$err")" 1 "it says so once"
like "$(grep 'have no news' "$err")" "^fa-run: 1 of 2 days have no news in csv:.*/src: the market intelligence stages will run empty on them$" \
  "how many, in which source"
ok "[ \"\$(grep -n 'have no news' '$err' | cut -d: -f1)\" -lt \"\$(grep -n '2020-10-01 test' '$err' | cut -d: -f1)\" ]" \
  "before the first day"
is "$(tail -n 1 "$T/r1/metrics.md")" "1 of 2 days had no news: the market intelligence stages ran empty" \
  "metrics.md says so"
like "$(grep '2020-10-02 test' "$err")" ' 2/2 .*, [0-9]+\.[0-9]{2} days/s, [0-9]+s left$' \
  "the progress line shows days per second and the time left"
is "$(jq -c 'select(.kind == "news" and .date == "2020-10-02")' "$T/r1/days/2020-10-02.ndjson" | wc -l)" 0 \
  "(that day has no news records indeed)"

# every day with news: no message, no line
run fa-run --symbol MSFT --source "csv:$T/src" --test 2020-10-01:2020-10-01 --no-charts --out "$T/r2"
is "$rc" 0 "a run with news every day"
is "$(grep -c 'no news' "$err" "$T/r2/metrics.md" | awk -F: '{ s += $2 } END { print s }')" 0 \
  "says nothing about news"

# the ablation without intel: nothing to say (one day, no reports)
run fa-run --symbol MSFT --source "csv:$T/src" --test 2020-10-01:2020-10-02 --until 2020-10-01 \
  --no-charts --without intel --out "$T/r3"
is "$rc" 0 "--without intel and a day without news"
is "$(grep -c 'no news' "$err")" 0 "says nothing about news"
done_testing
