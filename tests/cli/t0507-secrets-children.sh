#!/usr/bin/env bash
# No child process fa starts gets the model's API key: gnuplot (charts)
# and fa-fetch (started by fa-policy train --source) see a clean
# environment. A stand-in gnuplot records the environment it was given.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
DAYS=$FIXTURES/stages/days.ndjson
secret="sk-test-$RANDOM$RANDOM-do-not-leak"

# A gnuplot stand-in: saves its environment, then runs the real gnuplot
# when there is one (so the chart is still drawn), else writes a tiny PNG.
real=$(command -v gnuplot || true)
cat >"$T/gnuplot" <<EOS
#!/bin/sh
env >>"$T/child-env"
if [ -n "$real" ]; then exec "$real" "\$@"; fi
cat >/dev/null
printf '\211PNG\r\n\032\n'
EOS
chmod +x "$T/gnuplot"

grep '"date":"2023-06-0[1-9]"' "$DAYS" >"$T/days.ndjson"
mkdir -p "$T/charts"
FA_GNUPLOT=$T/gnuplot FA_API_KEY=$secret OPENAI_API_KEY=$secret \
  run_in "$T/days.ndjson" fa-reflect-low --from 2023-06-09 --history "$DAYS" --charts "$T/charts"
is "$rc" 0 "fa-reflect-low draws its chart with the stand-in gnuplot"
ok "[ -s '$T/child-env' ]" "the stand-in gnuplot ran"
ok "[ -s '$T/child-env' ] && ! grep -q '$secret' '$T/child-env'" "gnuplot's environment holds no API key"
ok "! grep -rq '$secret' '$T/charts' '$out' '$err'" "no chart, record or message holds the key"

# fa-policy train --source runs fa-fetch as a child (the one beside it, else
# PATH's): beside a copy of fa-policy, put a stand-in fa-fetch that records
# its environment and then runs the real one.
mkdir -p "$T/shim"
cp "$FA_BIN/fa-policy" "$T/shim/fa-policy"
cat >"$T/shim/fa-fetch" <<EOS
#!/bin/sh
env >>"$T/fetch-env"
exec "$FA_BIN/fa-fetch" "\$@"
EOS
chmod +x "$T/shim/fa-fetch"
FA_PROMPTS=$FA_ROOT/prompts FA_API_KEY=$secret OPENAI_API_KEY=$secret \
  run "$T/shim/fa-policy" train --source synth:3 --symbol SYN --from 2022-01-03 --to 2022-03-31 \
  --backbone numeric --timesteps 80 --out "$T/ckpt"
is "$rc" 0 "fa-policy train --source runs"
ok "[ -s '$T/fetch-env' ]" "it started fa-fetch"
ok "[ -s '$T/fetch-env' ] && ! grep -q '$secret' '$T/fetch-env'" "fa-fetch's environment holds no model key"
ok "! grep -rq '$secret' '$T/ckpt' '$err'" "the checkpoint and messages hold no key"
done_testing
