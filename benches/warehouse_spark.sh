#!/usr/bin/env bash
# The 100M-row A/B aggregation three ways, whole process against whole process, in turn
# (spark, causalkit, duckdb, spark, ...), each under /usr/bin/time -v, the file read with cat
# before every run (a warm page cache for every side). Each run appends one line to LOG: side,
# wall seconds, peak RSS of the client process (KiB), user and system CPU seconds of the
# client, 1-minute load before the run. For Spark the CPU and memory of the cluster's JVMs are
# not in these figures (the client sends SQL and reads a few rows): its wall time is the figure.
#
# The request: per-arm statistics of `ratio(metric, denominator)` and `mean(metric)`, then
# the A/B review (`--format json`).
# - spark:     `causalkit ab --engine $CAUSALKIT_SPARK_URL --table parquet.`FILE``
#              (schema check, 1000-row pilot for the shift constants, one aggregation pass in
#              the cluster), a build with `--features spark` ($CK_SPARK);
# - causalkit: `causalkit ab --data FILE --scan`, release build ($CK);
# - duckdb:    benches/peers/ab_scan_duckdb.py (one GROUP BY over the file; it also sums the
#              covariate's products, three more columns than this request needs).
# A side whose binary is not given is skipped.
#
# Usage (the cluster of .ci/spark.sh with Spark's default input splits):
#   CK=target/release/causalkit CK_SPARK=/path/to/causalkit-with-spark \
#     bash .ci/spark.sh --run benches/warehouse_spark.sh FILE RUNS [LOG]
#   FILE         the 100M-row Parquet file of benches/peers/ab_scan_gen.py (an absolute path)
#   PEER_PYTHON  a python with duckdb (default: python3)
set -euo pipefail
file=$1; runs=$2; log=${3:-target/warehouse_spark.log}
py=${PEER_PYTHON:-python3}
here=$(cd "$(dirname "$0")" && pwd)
metrics=(--arm arm --metric 'ratio(metric, denominator)' --metric 'mean(metric)' --format json)
source "$here/timed.sh"
one() {
  local side=$1; shift
  cat "$file" > /dev/null
  local load; load=$(cut -d' ' -f1 /proc/loadavg)
  local out; out=$(mktemp)
  local fields; fields=$(timed "$out" "$@")
  echo -e "$side\t$fields\t$load" | tee -a "$log"
  if [ -n "${SHOW:-}" ]; then head -c 2000 "$out"; echo; fi
  rm -f "$out"
}
echo "# $(date -u +%FT%TZ) $(uptime)" | tee -a "$log"
for _ in $(seq "$runs"); do
  if [ -n "${CK_SPARK:-}" ]; then
    one spark "$CK_SPARK" ab --engine "${CAUSALKIT_SPARK_URL:?start the cluster with .ci/spark.sh --run}" \
      --table "parquet.\`$file\`" "${metrics[@]}"
  fi
  if [ -n "${CK:-}" ]; then
    one causalkit "$CK" ab --data "$file" --scan "${metrics[@]}"
  fi
  one duckdb "$py" "$here/peers/ab_scan_duckdb.py" "$file"
done
echo "# $(date -u +%FT%TZ) $(uptime)" | tee -a "$log"
