#!/usr/bin/env bash
# fa-journal: fa-run journals each day as it completes (signed, chained);
# fa-journal verify passes an untouched run and catches every tampering:
# an edited entry, a deleted one (in the middle and at the end), reordered
# entries, an edited or deleted day stream, an entry re-signed with another
# key, a whole journal re-signed with another key (against a pinned key),
# a torn last line. Resume and replay append nothing twice.
. "$(dirname "$0")/lib.sh"
for p in fa-journal fa-fetch fa-decide fa-metrics; do
  command -v "$p" >/dev/null || { skip "fa-journal" "$p is not built"; done_testing; exit 0; }
done
export FA_LLM=offline
R=$T/run
run fa-run -q --symbol SYN --source synth:5 --test 2023-03-06:2023-03-09 --no-charts --until 2023-03-07 --out "$R"
is "$rc" 0 "a run stopped after two days"
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$err" | tail -n 5
is "$(wc -l <"$R/journal.ndjson")" 2 "one journal entry per complete day"
ok "[ \"\$(stat -c %a '$FA_JOURNAL_KEY')\" = 600 ]" "the key was made on first use, mode 0600"
is "$(cat "$R/journal.pub")" "$(fa-journal pubkey)" "its public half is in the run"
run fa-run -q --out "$R"
is "$rc" 0 "resumed to the end"
is "$(jq -r .date "$R/journal.ndjson" | paste -sd,)" "2023-03-06,2023-03-07,2023-03-08,2023-03-09" \
  "the chain goes on, one entry per day, in order"
is "$(jq -r .seq "$R/journal.ndjson" | paste -sd,)" "1,2,3,4" "numbered"
is "$(jq -c '[.decision.action, .decision.date]' "$R/journal.ndjson" | head -n 1)" \
  "$(jq -c 'select(.kind == "decision") | [.action, .date]' "$R/days/2023-03-06.ndjson")" \
  "an entry holds the day's decision"
is "$(jq -r .stream_sha256 "$R/journal.ndjson" | head -n 1)" \
  "$(sha256sum <"$R/days/2023-03-06.ndjson" | cut -d' ' -f1)" "and the SHA-256 of the day's stream"
is "$(jq -r .prev "$R/journal.ndjson" | sed -n 2p)" \
  "$(head -n 1 "$R/journal.ndjson" | tr -d '\n' | sha256sum | cut -d' ' -f1)" \
  "and the hash of the entry before"
cp "$R/journal.ndjson" "$T/good"
run fa-run -q --out "$R"
run fa-journal append "$R"
same_file "$R/journal.ndjson" "$T/good" "a replay of the finished run appends nothing"
run fa-journal verify "$R"
is "$rc" 0 "verify passes the untouched run"
like "$(cat "$out")" "4 entries good" "and says so"

# verify_bad NAME LINE: verify fails, naming journal line LINE (0: the run).
verify_bad() {
  run fa-journal verify "$R" "${@:3}"
  is "$rc" 1 "$1: verify exits 1"
  if [ "$2" = 0 ]; then
    like "$(cat "$err")" "run: days/" "$1: reported"
  else
    like "$(cat "$err")" "journal.ndjson:$2: " "$1: reported at line $2"
  fi
  cp "$T/good" "$R/journal.ndjson"
}
jq -c 'if .seq == 2 then .decision.action = "SELL" else . end' "$T/good" >"$R/journal.ndjson"
verify_bad "an edited decision" 2
like "$(cat "$err")" "signature does not verify" "as a bad signature"
sed -i '2s/"time":"[^"]*"/"time":"2023-03-07T20:00:00Z"/' "$R/journal.ndjson"
verify_bad "a back-dated entry" 2
sed -i '2d' "$R/journal.ndjson"
verify_bad "a deleted entry" 2
sed -i '$d' "$R/journal.ndjson"
verify_bad "a deleted last entry" 0
like "$(cat "$err")" "2023-03-09.ndjson has no journal entry" "names the day left without an entry"
awk 'NR == 2 { l = $0; next } NR == 3 { print; print l; next } { print }' "$T/good" >"$R/journal.ndjson"
verify_bad "reordered entries" 2
cp "$R/days/2023-03-08.ndjson" "$T/day"
sed -i 's/"action":"[A-Z]*"/"action":"BUY"/' "$R/days/2023-03-08.ndjson"
verify_bad "an edited day stream" 3
like "$(cat "$err")" "2023-03-08.ndjson no longer hashes" "as a changed stream"
rm "$R/days/2023-03-08.ndjson"
verify_bad "a deleted day stream" 3
cp "$T/day" "$R/days/2023-03-08.ndjson"

# Re-signing with another key: the last entry, then the whole journal.
cp -r "$R" "$T/forged"
sed -i '$d' "$T/forged/journal.ndjson"
rm "$T/forged/journal.pub"
FA_JOURNAL_KEY=$T/other.key fa-journal -q append "$T/forged"
cp "$R/journal.pub" "$T/forged/journal.pub"
run fa-journal verify "$T/forged"
is "$rc" 1 "an entry re-signed with another key: verify exits 1"
like "$(cat "$err")" "journal.ndjson:4: signed by another key" "reported at its line"
rm "$T/forged/journal.ndjson" "$T/forged/journal.pub"
FA_JOURNAL_KEY=$T/other.key fa-journal -q append "$T/forged"
run fa-journal verify --pubkey "$R/journal.pub" "$T/forged"
is "$rc" 1 "a journal re-signed whole with another key fails against the run's key"
like "$(cat "$err")" "journal.ndjson:1: signed by another key" "from its first line"
run fa-journal verify --pubkey "$(cat "$R/journal.pub")" "$R"
is "$rc" 0 "the true journal passes against its key given as hex"
FA_JOURNAL_KEY=$T/other.key run fa-journal append "$R"
is "$rc" 1 "appending to a run with another key is refused"
like "$(cat "$err")" "another key" "and says why"

# A torn last line (an append cut short): reported, then cut off and redone.
head -c -40 "$T/good" >"$R/journal.ndjson"
verify_bad "a torn last line" 4
head -c -40 "$T/good" >"$R/journal.ndjson"
run fa-journal append "$R"
is "$rc" 0 "append after a torn line"
like "$(cat "$err")" "torn last line" "says it cut it off"
run fa-journal verify "$R"
is "$rc" 0 "the day is journaled again and the journal verifies"
is "$(wc -l <"$R/journal.ndjson")" 4 "one entry per day still"

# A crash between a day's completion and its entry: the next fa-run adds it.
sed -i '$d' "$R/journal.ndjson"
run fa-run -q --out "$R"
is "$rc" 0 "fa-run after such a crash"
is "$(jq -r .date "$R/journal.ndjson" | tail -n 1)" 2023-03-09 "journals the missing day"
run fa-journal verify "$R"
is "$rc" 0 "and the journal verifies"

# The key: where it lives, and its mode.
unset FA_JOURNAL_KEY
HOME=$T/home XDG_CONFIG_HOME=$T/xdg run fa-journal pubkey
is "$rc" 0 "pubkey with XDG_CONFIG_HOME"
ok "[ -f '$T/xdg/fa/journal.key' ] && [ ! -e '$T/home/.config' ]" "the key is made under XDG_CONFIG_HOME"
chmod 644 "$T/xdg/fa/journal.key"
HOME=$T/home XDG_CONFIG_HOME=$T/xdg run fa-journal pubkey
is "$rc" 1 "a key others may read is refused"
like "$(cat "$err")" "chmod 600" "with the fix"
HOME=$T/home XDG_CONFIG_HOME="" run fa-journal pubkey
ok "[ -f '$T/home/.config/fa/journal.key' ]" "else under ~/.config/fa"
for i in 1 2 3 4 5 6; do FA_JOURNAL_KEY=$T/race/key fa-journal -q pubkey >"$T/race.$i" & done
wait
is "$(cat "$T"/race.* | sort -u | wc -l)" 1 "processes making the key at once all get the one key"
run fa-journal verify
is "$rc" 2 "verify without RUN: usage error"
run fa-journal frob "$R"
is "$rc" 2 "an unknown command: usage error"
run fa-journal verify --pubkey nothex "$R"
is "$rc" 2 "a bad --pubkey: usage error"
run fa-journal verify "$T/nothing"
is "$rc" 1 "verify of a run with no journal: exit 1"
done_testing
