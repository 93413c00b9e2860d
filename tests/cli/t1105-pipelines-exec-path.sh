#!/usr/bin/env bash
# The pipelines find fa's programs beside them, as git finds its exec-path:
# from a copy of the checkout (bin/ next to pipelines/) and from an
# install's layout (everything in one bin/), with PATH holding neither and
# no FA_EXEC_PATH, fa-run runs a day, journals it and writes its page, and
# fa-sweep's runs find fa-run. Plain suite only (shell; the C programs
# it runs are under the sanitizers elsewhere).
. "$(dirname "$0")/lib.sh"
if [ "${FA_SUITE:-plain}" = san ]; then
  skip "exec-path" "plain suite only (no C code of its own)"; done_testing; exit 0
fi
for p in fa-fetch fa-decide fa-metrics fa-report fa-journal; do
  [ -x "$FA_BIN/$p" ] || { skip "exec-path" "$p is not built"; done_testing; exit 0; }
done
export FA_LLM=offline
unset FA_EXEC_PATH
sys=/usr/local/bin:/usr/bin:/bin
# a checkout: bin/, pipelines/, prompts/
mkdir -p "$T/clone"
cp -r "$FA_BIN" "$T/clone/bin"
cp -r "$FA_ROOT/pipelines" "$FA_ROOT/prompts" "$T/clone/"
PATH=$sys run "$T/clone/pipelines/fa-run" -q --symbol SYN --source synth:3 --test 2023-03-06:2023-03-06 \
  --no-charts --out "$T/a"
is "$rc" 0 "pipelines/fa-run from a copy of the checkout, with no fa on PATH"
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$err" | tail -n 5
ok "! grep -q 'command not found' '$err'" "no program is missing"
ok "[ -s '$T/a/report/index.html' ] && [ -s '$T/a/journal.ndjson' ]" "it journaled the day and wrote its page"
PATH=$sys run "$T/clone/bin/fa-journal" verify "$T/a"
is "$rc" 0 "and the journal verifies"
# an install: programs and pipelines in one directory (the prompts go to
# PREFIX/share/fa, compiled in; a prefix made here is not that one, so
# they sit where the programs also look: ../prompts)
mkdir -p "$T/inst/bin"
cp "$FA_BIN"/fa-* "$FA_ROOT"/pipelines/fa-* "$T/inst/bin/"
cp -r "$FA_ROOT/prompts" "$T/inst/"
if command -v parallel >/dev/null; then
  PATH=$sys:$(dirname "$(command -v parallel)") run "$T/inst/bin/fa-sweep" --out "$T/sw" --symbols AAA \
    -- --source synth:3 --test 2023-03-06:2023-03-06 --no-charts
  is "$rc" 0 "an installed fa-sweep, with no fa on PATH"
  [ "$rc" -eq 0 ] || sed 's/^/#   /' "$err" | tail -n 5
  ok "[ -s '$T/sw/AAA/base/report/index.html' ]" "its runs found fa-run and everything after it"
else
  skip "an installed fa-sweep" "GNU parallel is missing"
fi
# an install moved to another prefix than the one compiled in: PREFIX/bin
# and PREFIX/share/fa/prompts; the programs find the prompts from where
# they are
mkdir -p "$T/moved/bin" "$T/moved/share/fa"
cp "$FA_BIN"/fa-* "$FA_ROOT"/pipelines/fa-* "$T/moved/bin/"
cp -r "$FA_ROOT/prompts" "$T/moved/share/fa/"
PATH=$sys run "$T/moved/bin/fa-run" -q --symbol SYN --source synth:3 --test 2023-03-06:2023-03-06 \
  --no-charts --out "$T/m"
is "$rc" 0 "an install moved to another prefix finds its prompts in ../share/fa"
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$err" | tail -n 5
done_testing
