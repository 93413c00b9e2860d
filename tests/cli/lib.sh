# tests/cli/lib.sh: TAP helpers for fa's shell tests; sourced, not run.
#
#   . "$(dirname "$0")/lib.sh"
#   run fa-fetch --source synth:1 ...   # sets $rc, $out (file), $err (file)
#   is "$rc" 0 "exit status"; ok "[ -s $out ]" "prints records"
#   done_testing
# Each test gets a scratch directory $T, removed at exit.
# shellcheck shell=bash disable=SC2034
set -u
T=$(mktemp -d "${TMPDIR:-/tmp}/fa-test.XXXXXX")
FA_ROOT=${FA_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
FA_BIN=${FA_BIN:-$FA_ROOT/bin}
PATH="$FA_BIN:$FA_ROOT/pipelines:$PATH"
# the pipelines run the programs under test (the sanitizer build in the san suite)
export FA_EXEC_PATH=$FA_BIN
# fa-run signs its journal: with a key of the test's own, never the user's
export FA_JOURNAL_KEY=$T/journal.key
export FA_CACHE_DIR=$T/cache
FAKES=$FA_ROOT/tests/fakes
export FIXTURES=$FA_ROOT/tests/fixtures
_n=0 _failed=0 _pids=()
cleanup() {
  local p
  for p in "${_pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT

_report() { # cond-status name
  _n=$((_n + 1))
  if [ "$1" -eq 0 ]; then echo "ok $_n - $2"; else echo "not ok $_n - $2"; _failed=$((_failed + 1)); fi
}
# ok 'shell condition' name
ok() { eval "$1"; _report $? "$2"; }
# is GOT WANT name
is() {
  if [ "$1" = "$2" ]; then _report 0 "$3"; else _report 1 "$3"; printf '#   got:  %s\n#   want: %s\n' "$1" "$2"; fi
}
# like GOT REGEX name
like() {
  if [[ $1 =~ $2 ]]; then _report 0 "$3"; else _report 1 "$3"; printf '#   got:  %s\n#   want match: %s\n' "$1" "$2"; fi
}
# same_file A B name: byte-identical files
same_file() {
  if cmp -s "$1" "$2"; then _report 0 "$3"; else _report 1 "$3"; diff "$1" "$2" | head -n 10 | sed 's/^/#   /'; fi
}
skip() { _n=$((_n + 1)); echo "ok $_n - $1 # SKIP ${2:-}"; }
# run CMD...: stdout to $out, stderr to $err, status in $rc
_runs=0
run() {
  _runs=$((_runs + 1)); out=$T/out.$_runs; err=$T/err.$_runs
  "$@" >"$out" 2>"$err" </dev/null; rc=$?
}
# run_in FILE CMD...: like run, stdin from FILE
run_in() {
  local in=$1; shift
  _runs=$((_runs + 1)); out=$T/out.$_runs; err=$T/err.$_runs
  "$@" >"$out" 2>"$err" <"$in"; rc=$?
}
# start_fake SCRIPT ARGS...: starts a loopback fake server, sets $port.
start_fake() {
  local script=$1; shift
  local pf=$T/port.$RANDOM
  python3 "$FAKES/$script" --port-file "$pf" "$@" >"$T/fake.$RANDOM.log" 2>&1 &
  _pids+=($!)

  for _ in $(seq 100); do [ -s "$pf" ] && break; sleep 0.05; done
  port=$(cat "$pf")
}
done_testing() {
  echo "1..$_n"
  [ "$_failed" -eq 0 ]
}
