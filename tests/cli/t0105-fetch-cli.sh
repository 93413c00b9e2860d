#!/usr/bin/env bash
# fa-fetch's command line: --help, --version, bad flags and values (exit 2),
# a full disk (/dev/full, exit 1) and a closed pipe (| head -n1, quiet).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
F=$FIXTURES/fetch

run fa-fetch --help
is "$rc" 0 "--help: exit 0"
like "$(head -n1 "$out")" "^Usage: fa-fetch --source SRC --symbol SYM" "--help: usage on stdout"
is "$(wc -c <"$err")" 0 "--help: nothing on stderr"
run fa-fetch -V
is "$rc" 0 "-V: exit 0"
like "$(cat "$out")" "^fa-fetch \(fa\) [0-9]" "-V: one version line"

usage() { # name expected-regex args...
  local name=$1 re=$2; shift 2
  run fa-fetch "$@"
  is "$rc" 2 "$name: exit 2"
  like "$(head -n1 "$err")" "$re" "$name: message"
  like "$(tail -n1 "$err")" "^Try 'fa-fetch --help'\.$" "$name: try line"
  is "$(wc -c <"$out")" 0 "$name: nothing on stdout"
}
usage "unknown flag" "unrecognized option" --frobnicate
usage "missing argument" "requires an argument" --source
usage "no source" "no --source given" --symbol AAPL
usage "no symbol" "no --symbol given" --source synth
usage "bad symbol" "invalid symbol '../x'" --source synth --symbol ../x
usage "bad date" "--from: bad date|--from: .*2023-02-30" --source synth --symbol A --from 2023-02-30
usage "from after to" "--from 2023-03-01 is after --to 2023-02-01" --source synth --symbol A --from 2023-03-01 --to 2023-02-01
usage "bad lookback" "invalid --lookback '-1'" --source synth --symbol A --lookback -1
usage "bad calendar" "--calendar" --source synth --symbol A --calendar lse
usage "bad timeout" "invalid --timeout 'x'" --source synth --symbol A --timeout x
usage "bad retries env" "invalid --retries 'many'" --source synth --symbol A --retries many
usage "unknown source" "unknown source 'ftp'" --source ftp --symbol A
usage "empty csv path" "no path in --source 'csv:'" --source csv: --symbol A
usage "extra argument" "unexpected argument 'extra'" --source synth --symbol A extra
run env FA_HTTP_RETRIES=lots fa-fetch --source synth --symbol A
is "$rc" 2 "bad FA_HTTP_RETRIES: exit 2"
run env FA_SOURCE="csv:$F/prices/AAPL.csv" fa-fetch --symbol AAPL --to 2024-01-03
is "$(wc -l <"$out")" 2 "FA_SOURCE used when --source is absent"

# Output failures.
if [ -w /dev/full ]; then
  fa-fetch --source synth:1 --symbol AAPL >/dev/full 2>"$T/full.err"
  is "$?" 1 "/dev/full: exit 1"
  like "$(cat "$T/full.err")" "No space left on device" "/dev/full: says why"
else
  skip "/dev/full: exit 1" "no /dev/full"
  skip "/dev/full: says why" "no /dev/full"
fi
fa-fetch --source synth:1 --symbol AAPL --from 2000-01-03 --to 2020-12-31 2>"$T/pipe.err" | head -n1 >"$T/first"
is "${PIPESTATUS[0]}" 0 "closed pipe: exit 0"
is "$(wc -c <"$T/pipe.err")" 0 "closed pipe: quiet"
is "$(jq -r .kind "$T/first")" price "closed pipe: first record printed"
done_testing
