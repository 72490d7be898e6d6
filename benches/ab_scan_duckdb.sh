#!/usr/bin/env bash
# One-pass A/B aggregation, whole process against whole process: causalkit's example binary
# `ab_scan_onepass` (two metrics + a covariate from one Parquet pass, kpi_moments_scan_many)
# and the duckdb peer (benches/peers/ab_scan_duckdb.py: one GROUP BY query of the same sums),
# run in turn (ours, duckdb, ours, duckdb, ...) under /usr/bin/time -v, each in a fresh
# process. The file is read once with cat before every run (both sides start from a warm page
# cache). Each run appends one line to LOG: side, wall seconds, peak RSS (KiB), user and system
# CPU seconds, 1-minute load before the run.
#
# Usage: benches/ab_scan_duckdb.sh FILE RUNS BINARY [LOG]
#   FILE    the 100M-row Parquet file of benches/peers/ab_scan_gen.py
#   BINARY  cargo build --release -p causalkit-data --example ab_scan_onepass
#           (then target/release/examples/ab_scan_onepass)
#   PEER_PYTHON  a python with duckdb (pip install duckdb; default: python3)
# A third side, `single`, runs the same binary with one scan per metric (the old way) when
# SINGLE=1.
set -euo pipefail
file=$1; runs=$2; bin=$3; log=${4:-target/ab_scan_duckdb.log}
py=${PEER_PYTHON:-python3}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/timed.sh"
one() {
  local side=$1; shift
  cat "$file" > /dev/null
  local load; load=$(cut -d' ' -f1 /proc/loadavg)
  local fields; fields=$(timed /dev/null "$@")
  echo -e "$side\t$fields\t$load" | tee -a "$log"
}
for i in $(seq "$runs"); do
  one causalkit "$bin" "$file" many
  one duckdb "$py" "$here/peers/ab_scan_duckdb.py" "$file"
  if [ "${SINGLE:-0}" = 1 ]; then
    one single "$bin" "$file" single
  fi
done
