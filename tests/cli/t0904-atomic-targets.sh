#!/usr/bin/env bash
# An atomic write never replaces what is not a regular file: fa-tools
# --tune -o, fa-metrics --plot, fa-day's day file, a store's files and the
# cache refuse a directory, a FIFO or a symbolic link (exit 2, named) and
# leave it as it was.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
fa-fetch --source synth:3 --symbol SYN --from 2023-01-02 --to 2023-03-31 >"$T/p.ndjson"
mkfifo "$T/fifo"
mkdir "$T/adir"
echo '{}' >"$T/real.json"
ln -s real.json "$T/link"
for t in fifo adir link; do
  run fa-tools --tune --from 2023-01-02 --to 2023-03-31 --trials 2 -o "$T/$t" "$T/p.ndjson"
  is "$rc" 2 "fa-tools --tune -o $t: exit 2"
  like "$(cat "$err")" "'$T/$t' is a" "naming it"
done
ok "[ -p '$T/fifo' ] && [ -d '$T/adir' ] && [ -L '$T/link' ] && [ \"\$(cat '$T/real.json')\" = '{}' ]" \
  "each left as it was (and the link's target too)"
run fa-tools --tune --from 2023-01-02 --to 2023-03-31 --trials 2 -o "$T/real.json" "$T/p.ndjson"
is "$rc:$(jq -r 'keys[0]' "$T/real.json")" 0:SYN "a regular file is replaced"
ok "! ls -A '$T' | grep -q '^\\.'" "no temporary file left"

if command -v gnuplot >/dev/null; then
  fa-metrics -q "$T/p.ndjson" >"$T/m.ndjson"
  run fa-metrics --plot "$T/fifo" "$T/m.ndjson"
  is "$rc" 2 "fa-metrics --plot to a FIFO: exit 2"
  ok "[ -p '$T/fifo' ]" "the FIFO is still one"
else
  skip "fa-metrics --plot to a FIFO" "gnuplot is not installed"
  skip "the FIFO is still one" "gnuplot is not installed"
fi

# fa-day: a directory where the day's file goes
export FA_LLM=offline
mkdir -p "$T/run/days/2023-03-06.ndjson"
run fa-day -q --out "$T/run" --symbol SYN --source synth:7 --date 2023-03-06
is "$rc" 2 "fa-day: the day's file is a directory: exit 2"
like "$(cat "$err")" "2023-03-06.ndjson' is not a regular file" "naming it"
ok "[ -z \"\$(ls -A '$T/run/days/2023-03-06.ndjson')\" ]" "nothing moved into it"

# a store whose records file is a FIFO is refused, not appended to
echo '{"kind":"news","symbol":"SYN","date":"2023-01-03","asof":"2023-01-03","title":"t","text":"x","id":"n1"}' >"$T/n.ndjson"
export FA_EMBED_DIM=16
run fa-embed --store "$T/st" --kind news --field title "$T/n.ndjson"
is "$rc" 0 "a store is made"
rm "$T/st/records.ndjson" && mkfifo "$T/st/records.ndjson"
run fa-embed --store "$T/st" --kind news --field title "$T/n.ndjson"
is "$rc" 1 "a store file that is a FIFO: exit 1"
like "$(cat "$err")" "records.ndjson is not a regular file" "naming it"
done_testing
