#!/usr/bin/env bash
# Chart sessions (FA_GNUPLOT_SESSION, fa-reflect-low(1)): one running
# gnuplot draws many charts with the same bytes as a gnuplot per chart; a
# session that is gone falls back to a gnuplot of the stage's own; fa-run
# starts one gnuplot for the whole run.
# shellcheck source=lib.sh disable=SC2012 # ls | wc -l on our own file names
. "$(dirname "$0")/lib.sh"
real=$(command -v gnuplot || true)
[ -n "$real" ] || { skip "chart session" "gnuplot is not installed"; done_testing; exit 0; }
DAYS=$FIXTURES/stages/days.ndjson
# a gnuplot stand-in that counts its starts
cat >"$T/gnuplot" <<EOS
#!/bin/sh
echo start >>"$T/starts"
exec "$real" "\$@"
EOS
chmod +x "$T/gnuplot"
export FA_GNUPLOT=$T/gnuplot
starts() { if [ -f "$T/starts" ]; then wc -l <"$T/starts"; else echo 0; fi; }

mkdir -p "$T/c0" "$T/c1" "$T/c2" "$T/s"
run_in "$DAYS" fa-reflect-low --from 2023-06-05 --charts "$T/c0"
is "$rc" 0 "without a session: charts drawn"
n0=$(ls "$T/c0" | wc -l)
ok "[ '$n0' -ge 3 ]" "several charts ($n0)"
is "$(starts)" "$n0" "a gnuplot per chart"

# a session as fa-run starts one: a gnuplot reading a FIFO
rm -f "$T/starts"
mkfifo "$T/s/in"
"$T/gnuplot" -d <"$T/s/in" >/dev/null 2>"$T/s/err" &
gp=$!
_pids+=("$gp")
exec 8>"$T/s/in"
echo "$gp" >"$T/s/pid"
FA_GNUPLOT_SESSION=$T/s run_in "$DAYS" fa-reflect-low --from 2023-06-05 --charts "$T/c1"
is "$rc" 0 "with a session: charts drawn"
is "$(starts)" 1 "by the session's gnuplot alone (only its own start counted)"
same=0
for f in "$T"/c0/*; do cmp -s "$f" "$T/c1/${f##*/}" || { same=1; echo "# differs: ${f##*/}"; }; done
is "$same" 0 "every chart has the same bytes as a fresh gnuplot's"
is "$(ls "$T/c1" | wc -l)" "$n0" "and there are as many"
is "$(ls "$T/s" | sort | tr '\n' ' ')" "err in lock pid " "no reply FIFO or image left in the session"

# the session ends: the stage falls back to its own gnuplot, same bytes
exec 8>&-
kill "$gp" 2>/dev/null
wait "$gp" 2>/dev/null
rm -f "$T/starts"
FA_GNUPLOT_SESSION=$T/s run_in "$DAYS" fa-reflect-low --from 2023-06-05 --charts "$T/c2"
is "$rc" 0 "a dead session: charts drawn anyway"
is "$(starts)" "$n0" "by a gnuplot per chart"
same=0
for f in "$T"/c0/*; do cmp -s "$f" "$T/c2/${f##*/}" || same=1; done
is "$same" 0 "with the same bytes"
FA_GNUPLOT_SESSION=relative/dir run_in "$DAYS" fa-reflect-low --from 2023-06-09 --charts "$T/c2"
is "$rc" 0 "a relative session directory is ignored"

# fa-run: one gnuplot for the run; the same run directory as without it
export FA_LLM=offline
rm -f "$T/starts"
run fa-run -q --symbol SYN --source synth:7 --warmup 2023-03-01:2023-03-02 --test 2023-03-03:2023-03-06 --out "$T/ra"
is "$rc" 0 "fa-run with charts"
is "$(starts)" 1 "starts one gnuplot for all its charts"
ok "[ ! -e '$T/ra/work/gnuplot' ]" "and removes its session at the end"
ok "! pgrep -f '$T/gnuplot' >/dev/null" "whose gnuplot has ended"
FA_GNUPLOT_SESSION=none run fa-run -q --symbol SYN --source synth:7 --warmup 2023-03-01:2023-03-02 --test 2023-03-03:2023-03-06 --out "$T/rb"
is "$rc" 0 "fa-run with FA_GNUPLOT_SESSION=none"
# (the timing, the journal and the page that shows it carry wall-clock times)
rm -rf "$T"/r[ab]/timing.ndjson "$T"/r[ab]/journal.ndjson "$T"/r[ab]/report
ok "diff -r '$T/ra' '$T/rb' >/dev/null" "the same run directory, charts and days, byte for byte"
ok "[ \"\$(ls '$T/ra/charts' | wc -l)\" -ge 4 ]" "with its charts"
done_testing
