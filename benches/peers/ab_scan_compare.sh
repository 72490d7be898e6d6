#!/usr/bin/env bash
# Interleaved side-by-side runs of the A/B aggregation benchmark: causalkit (the ab_scan bench
# binary in one-shot mode) and the pandas + gbstats peer, each in a fresh process under
# /usr/bin/time -v, with the 1-minute load average before each run. Before each run the file
# is read once with cat (warm page cache for both sides: this VM reclaims cached file pages
# proactively, and a partly evicted file otherwise adds disk reads to whichever side runs).
# Usage: benches/peers/ab_scan_compare.sh FILE RUNS BENCH_BINARY [LOG]
# (the bench binary: CARGO_TARGET_DIR=target/bench-build cargo bench --bench ab_scan --no-run
#  prints its path). Each run appends one line to LOG (default target/ab_scan_compare.log):
#  side, pipeline seconds, wall time of the process, peak RSS (KiB), user and system CPU
#  seconds, file-system inputs (512-byte blocks read from disk), load, JSON output.
set -euo pipefail
file=$1; runs=$2; bin=$3; log=${4:-target/ab_scan_compare.log}
py=${PEER_PYTHON:-$HOME/.cache/causalkit-peers/ab/bin/python}
here=$(cd "$(dirname "$0")" && pwd)
one() {
  local side=$1; shift
  cat "$file" > /dev/null
  local load; load=$(cut -d' ' -f1 /proc/loadavg)
  local out; out=$(mktemp); local tim; tim=$(mktemp)
  /usr/bin/time -v "$@" >"$out" 2>"$tim"
  local json; json=$(tail -1 "$out")
  local rss; rss=$(grep "Maximum resident" "$tim" | awk '{print $NF}')
  local wall; wall=$(grep "Elapsed (wall" "$tim" | awk '{print $NF}')
  local usr; usr=$(grep "User time" "$tim" | awk '{print $NF}')
  local sys; sys=$(grep "System time" "$tim" | awk '{print $NF}')
  local fsin; fsin=$(grep "File system inputs" "$tim" | awk '{print $NF}')
  local secs; secs=$(echo "$json" | sed -E 's/.*"seconds": ([0-9.]+).*/\1/')
  echo -e "$side\t$secs\t$wall\t$rss\t$usr\t$sys\t$fsin\t$load\t$json" | tee -a "$log"
  rm -f "$out" "$tim"
}
for i in $(seq "$runs"); do
  CAUSALKIT_BENCH_ONCE=$file one causalkit "$bin"
  one peer "$py" "$here/ab_scan_pandas_gbstats.py" "$file" 1
done
