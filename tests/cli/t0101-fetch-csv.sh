#!/usr/bin/env bash
# fa-fetch --source csv:PATH: a file, a directory with news and guidance,
# the Yahoo and FMP-like layouts (BOM, CRLF, quotes), --from/--to/--lookback,
# weekend and holiday news carried to the next trading day, and bad rows
# (file:line, exit 1, nothing printed).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
F=$FIXTURES/fetch

# A plain file.
run fa-fetch --source "csv:$F/prices/AAPL.csv" --symbol AAPL
is "$rc" 0 "csv file: exit 0"
is "$(wc -l <"$out")" 41 "csv file: one record per row"
is "$(jq -r .kind "$out" | sort -u)" price "csv file: prices only"
is "$(head -n1 "$out" | jq -c 'del(.id)')" \
  '{"kind":"price","symbol":"AAPL","date":"2024-01-02","asof":"2024-01-02","open":181.25,"high":183.1,"low":180.35,"close":182,"adj_close":181.09,"volume":50000000}' \
  "csv file: first record, fields in order"
is "$(jq -r 'keys_unsorted | last' "$out" | sort -u)" id "id is the last field"
is "$(jq -c 'select(.asof != .date)' "$out" | wc -l)" 0 "asof = date"
is "$(jq -r '.date' "$out" | sort -c && echo sorted)" sorted "dates ascending"

# --from/--to window and --lookback.
run fa-fetch --source "csv:$F/prices/AAPL.csv" --symbol AAPL --from 2024-01-16 --to 2024-01-19
is "$(jq -r .date "$out" | tr '\n' ' ')" "2024-01-16 2024-01-17 2024-01-18 2024-01-19 " "window"
run fa-fetch --source "csv:$F/prices/AAPL.csv" --symbol AAPL --from 2024-01-16 --to 2024-01-19 --lookback 3
is "$(jq -r .date "$out" | tr '\n' ' ')" \
  "2024-01-10 2024-01-11 2024-01-12 2024-01-16 2024-01-17 2024-01-18 2024-01-19 " \
  "lookback prints 3 bars before --from (across the holiday)"
run fa-fetch --source "csv:$F/prices/AAPL.csv" --symbol AAPL --from 2024-01-03 --lookback 50 --to 2024-01-03
is "$(jq -r .date "$out" | tr '\n' ' ')" "2024-01-02 2024-01-03 " "lookback beyond the data"
run fa-fetch --source "csv:$F/prices/AAPL.csv" --symbol AAPL --to 2024-01-20
is "$(jq -r .date "$out" | tail -n1)" 2024-01-19 "nothing after --to (a Saturday)"

# A directory: prices, news, guidance.
run fa-fetch --source "csv:$F/prices" --symbol AAPL --from 2024-01-05 --to 2024-01-16
is "$rc" 0 "directory: exit 0"
is "$(jq -r '[.date,.kind,(.time // "")] | join(" ")' "$out" | head -n 9 | tr '\n' '|')" \
  "2024-01-05 price |2024-01-05 news 2024-01-05 08:15:00|2024-01-05 news 2024-01-05 16:45:00|2024-01-08 price |2024-01-08 news 2024-01-06 10:00:00|2024-01-08 guidance 2024-01-08|2024-01-09 price |2024-01-10 price |2024-01-11 price |" \
  "price, then news, then guidance; Saturday news on Monday with its time"
is "$(jq -r 'select(.title=="Weekend note") | .date' "$out")" 2024-01-16 \
  "Saturday guidance goes to the next trading day (after a holiday)"
is "$(jq -r 'select(.kind=="news" and (.time|startswith("2024-01-15"))) | .date' "$out")" 2024-01-16 \
  "holiday news carried to the next trading day"
is "$(jq -r 'select(.kind=="news" and (.time|startswith("2024-01-15"))) | .sentiment' "$out")" 0.4 \
  "extra item fields kept"
is "$(jq -r 'select(.url=="https://fixture.example/1") | .text' "$out")" \
  'Quoted "words", commas, and unicode: café – ok.' "news text intact"
is "$(jq -c 'select(.kind=="news") | keys_unsorted' "$out" | head -n1)" \
  '["kind","symbol","date","asof","time","title","text","source","url","id"]' "news fields"
run fa-fetch --source "csv:$F/prices" --symbol AAPL --from 2024-02-29
is "$(jq -r '[.date,.kind] | join(" ")' "$out" | tr '\n' '|')" "2024-02-29 price|2024-02-29 news|" \
  "news after the last bar and after --to (default: end of data) not printed"
run fa-fetch --source "csv:$F/prices" --symbol AAPL --from 2024-02-29 --to 2024-03-04
is "$(jq -r 'select(.title=="After the data") | .date' "$out")" 2024-03-04 \
  "news after the last bar go to the next NYSE day within --to"
run fa-fetch --source "csv:$F/prices" --symbol MSFT
is "$rc" 1 "directory without SYM.csv: exit 1"
like "$(cat "$err")" "open '.*/MSFT.csv': No such file" "names the missing file"

# Other layouts.
run fa-fetch --source "csv:$F/yahoo-MSFT.csv" --symbol MSFT
is "$rc" 0 "Yahoo layout with BOM, CRLF, quotes: exit 0"
is "$(wc -l <"$out")" 10 "Yahoo layout: 10 records"
run fa-fetch --source "csv:$F/prices/AAPL.csv" --symbol MSFT --to 2024-01-16
same_file <(jq -c 'del(.id)' "$out") <(fa-fetch --source "csv:$F/yahoo-MSFT.csv" --symbol MSFT | jq -c 'del(.id)') \
  "Yahoo layout gives the same records as the lowercase one"
run fa-fetch --source "csv:$F/fmp-like.csv" --symbol AAPL
is "$rc" 0 "FMP-like layout (adjClose, extra columns)"
same_file "$out" <(fa-fetch --source "csv:$F/prices/AAPL.csv" --symbol AAPL --to 2024-01-08) \
  "FMP-like layout gives the same records"

# Bad input: file:line, exit 1, nothing on stdout.
bad() { # name content expected-message-regex
  printf "%b" "$2" >"$T/$1.csv"
  run fa-fetch --source "csv:$T/$1.csv" --symbol X
  is "$rc" 1 "$1: exit 1"
  like "$(cat "$err")" "$3" "$1: message"
  is "$(wc -c <"$out")" 0 "$1: no records"
}
H='date,open,high,low,close,adj_close,volume\n'
bad malformed "${H}2024-01-02,1,2,1,1,1,10\n2024-01-03,1,\"2,1,1,1,10\n" "^fa-fetch: .*/malformed.csv:3: unterminated quoted field"
bad quote "${H}2024-01-02,1,2,1,1,1,1\"0\n" "quote.csv:2: quote inside an unquoted field"
bad short "${H}2024-01-02,1,2,1,1,1,10\n2024-01-03,1,2\n" "short.csv:3: malformed row"
bad layout "Day,Price\n2024-01-02,1\n" "layout.csv:1: unknown column layout: no 'date'"
bad order "${H}2024-01-03,1,2,1,1,1,10\n2024-01-02,1,2,1,1,1,10\n" "order.csv:3: price 2024-01-02 is out of order \\(after 2024-01-03\\)"
bad dup "${H}2024-01-03,1,2,1,1,1,10\n2024-01-03,1,2,1,1.5,1,10\n" "dup.csv:3: price 2024-01-03 is repeated with other values"
bad zero "${H}2024-01-02,1,2,1,1,1,10\n2024-01-03,1,2,0,1,1,10\n" "zero.csv:3: non-positive price: low 0"
bad negvol "${H}2024-01-02,1,2,1,1,1,-10\n" "negvol.csv:2: negative volume"
bad number "${H}2024-01-02,1,2,1,1.2.3,1,10\n" "number.csv:2: bad close '1.2.3'"
bad date "${H}02/01/2024,1,2,1,1,1,10\n" "date.csv:2: bad date '02/01/2024'"
bad empty "" "empty.csv:1: unknown column layout: empty file"
printf '%s\n' '{"title":"ok","time":"2024-01-02 10:00:00"}' 'not json' >"$T/n.news.ndjson"
mkdir -p "$T/d" && cp "$F/prices/AAPL.csv" "$T/d/X.csv" && cp "$T/n.news.ndjson" "$T/d/X.news.ndjson"
run fa-fetch --source "csv:$T/d" --symbol X
is "$rc" 1 "bad news line: exit 1"
like "$(cat "$err")" "X.news.ndjson:2" "bad news line: file:line"
printf '%s\n' '{"title":"no date"}' >"$T/d/X.news.ndjson"
run fa-fetch --source "csv:$T/d" --symbol X
like "$(cat "$err")" "X.news.ndjson:1: missing date" "news without date: file:line"
done_testing
