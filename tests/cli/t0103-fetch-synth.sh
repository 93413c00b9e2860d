#!/usr/bin/env bash
# fa-fetch --source synth: same seed same bytes (and the same bytes as the
# golden files made on another machine), different seeds differ, windows
# do not move the data, noise=1 keeps the prices and changes the news,
# the calendars, and bad specs.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
F=$FIXTURES/fetch

run fa-fetch --source synth:1 --symbol AAPL --from 2023-01-03 --to 2023-01-10
is "$rc" 0 "synth: exit 0"
same_file "$out" "$F/synth-1-AAPL-2023-01-03.ndjson" "synth:1 AAPL matches the golden file"
run fa-fetch --source synth:1 --symbol ETHUSD --from 2023-01-01 --to 2023-01-03
same_file "$out" "$F/synth-1-ETHUSD-2023-01-01.ndjson" "synth:1 ETHUSD (crypto) matches the golden file"
is "$(jq -r 'select(.kind=="price") | .date' "$out" | tr '\n' ' ')" "2023-01-01 2023-01-02 2023-01-03 " \
  "crypto: every calendar day"

fa-fetch --source synth:42 --symbol TSLA --from 2022-01-03 --to 2022-12-30 >"$T/a"
fa-fetch --source synth:42 --symbol TSLA --from 2022-01-03 --to 2022-12-30 >"$T/b"
same_file "$T/a" "$T/b" "same seed, same bytes"
fa-fetch --source synth:43 --symbol TSLA --from 2022-01-03 --to 2022-12-30 >"$T/c"
ok "! cmp -s '$T/a' '$T/c'" "different seeds differ"
is "$(jq -r 'select(.kind=="price")|.date' "$T/a" | wc -l)" 251 "one bar per NYSE day of 2022"
is "$(jq -r .kind "$T/a" | sort -u | tr '\n' ' ')" "guidance news price " "prices, news and guidance"
is "$(jq -c 'select(.kind=="price" and (.low > .open or .low > .close or .high < .open or .high < .close or .low <= 0))' "$T/a" | wc -l)" 0 \
  "low <= open, close <= high"
is "$(jq -c 'select(.kind=="news" and (.time[0:10] > .date))' "$T/a" | wc -l)" 0 "no news from the future"
ok "[ \"\$(jq -c 'select(.kind==\"news\" and (.time[0:10] < .date))' '$T/a' | wc -l)\" -gt 20 ]" \
  "weekend and holiday news carried to the next trading day"

# The window does not move the data.
fa-fetch --source synth:42 --symbol TSLA --from 2022-06-01 --to 2022-06-30 >"$T/june"
same_file "$T/june" <(jq -c 'select(.date >= "2022-06-01" and .date <= "2022-06-30")' "$T/a") \
  "a sub-window prints the same records"
fa-fetch --source synth:42 --symbol TSLA --from 2022-06-01 --to 2022-06-30 --lookback 5 >"$T/lb"
is "$(head -n 5 "$T/lb" | jq -r .kind | sort -u)" price "lookback bars are prices"
same_file <(head -n 5 "$T/lb") <(jq -c 'select(.kind=="price" and .date < "2022-06-01")' "$T/a" | tail -n 5) \
  "lookback bars are the previous bars"

# noise=1: same prices, other news.
fa-fetch --source synth:42:noise=1 --symbol TSLA --from 2022-01-03 --to 2022-12-30 >"$T/n"
same_file <(jq -c 'select(.kind=="price")' "$T/n") <(jq -c 'select(.kind=="price")' "$T/a") \
  "noise=1 keeps the prices"
ok "! cmp -s <(jq -c 'select(.kind==\"news\")' '$T/n') <(jq -c 'select(.kind==\"news\")' '$T/a')" \
  "noise=1 changes the news"

# Calendar flag.
run fa-fetch --source synth:1 --symbol AAPL --calendar crypto --from 2023-01-07 --to 2023-01-08
is "$(jq -r 'select(.kind=="price")|.date' "$out" | tr '\n' ' ')" "2023-01-07 2023-01-08 " "--calendar crypto"
run fa-fetch --source synth --symbol AAPL
is "$rc" 0 "synth without seed or dates"
is "$(jq -r 'select(.kind=="price")|.date' "$out" | sed -n '1p;$p' | tr '\n' ' ')" "2023-01-03 2023-12-29 " \
  "default window: 2023"

for spec in synth:x synth:1:noise=2 synth:1:foo=1 synthetic; do
  run fa-fetch --source "$spec" --symbol AAPL
  is "$rc" 2 "bad spec '$spec': exit 2"
done
run fa-fetch --source synth:1 --symbol AAPL --from 1999-01-04 --to 1999-02-01
is "$rc" 2 "before the synthetic origin: exit 2"
like "$(cat "$err")" "starts on 2000-01-03" "says where it starts"
done_testing
