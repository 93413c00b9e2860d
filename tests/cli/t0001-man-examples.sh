#!/usr/bin/env bash
# Every EXAMPLES block of every man page runs and exits 0. A block is the
# text between .EX and .EE inside the EXAMPLES section; it runs as a bash
# script with -e and pipefail, in a scratch directory, offline (the
# examples use the synth source, the offline analyst and the local
# embedder). Lines that start with "# needs: CMD" skip the block when CMD
# is missing (gnuplot, say), with a reason.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
for page in "$FA_ROOT"/man/*.[1-9]; do
  [ -f "$page" ] || continue
  name=$(basename "$page")
  awk -v out="$T/ex.$name" '
    /^\.SH/ { insec = ($0 ~ /EXAMPLES/) }
    insec && /^\.EX/ { n++; f = out "." n; printf "" > f; inblk = 1; next }
    inblk && /^\.EE/ { inblk = 0; close(f); next }
    inblk { gsub(/\\e/, "\\"); gsub(/\\-/, "-"); gsub(/\\\(aq/, "\047"); gsub(/\\&/, ""); print >> f }
  ' "$page"
  for blk in "$T"/ex."$name".*; do
    [ -f "$blk" ] || continue
    need=$(sed -n 's/^# needs: //p' "$blk" | head -n1)
    if [ -n "$need" ] && ! command -v "$need" >/dev/null 2>&1; then
      skip "$name example ${blk##*.}" "needs $need"; continue
    fi
    mkdir -p "$T/work.$name.${blk##*.}"
    ( cd "$T/work.$name.${blk##*.}" && bash -e -o pipefail "$blk" ) >"$blk.out" 2>&1
    rc=$?
    is "$rc" 0 "$name example ${blk##*.} runs"
    [ "$rc" -eq 0 ] || sed 's/^/#   /' "$blk.out" | tail -n 15
  done
done
[ "$_n" -gt 0 ] || skip "man examples" "no man pages yet"
done_testing
