#!/usr/bin/env bash
# Release attribution at scale three ways, whole process against whole process, in turn
# (file, postgres, spark, file, ...), each under /usr/bin/time -v. Each run appends one line
# to LOG: design, side, wall seconds, peak RSS of the causalkit process (KiB), its user and
# system CPU seconds, 1-minute load before the run. For the engines, the server's CPU and
# memory are not in these figures (the client sends SQL and reads small results): their wall
# time is the figure.
#
# The data: `causalkit simulate intent-release --scale N --out DIR` (about 20,000 x N
# contacts per design). For each design in DESIGNS (default: randomised rollout):
# - file:     `causalkit attribute --spec DIR/DESIGN-parquet.toml` — the spec with
#             `[data] path = "DESIGN.parquet"`, read in process (the same Parquet file Spark
#             reads; written once from DESIGN.csv by duckdb);
# - postgres: `causalkit attribute --spec ... --engine $CAUSALKIT_PG_URL --table DESIGN`
#             (the CSV copied into the table once, before the runs);
# - spark:    `causalkit attribute --spec ... --engine $CAUSALKIT_SPARK_URL
#             --table parquet.\`DIR/DESIGN.parquet\``.
# The engine sides do not run the parts that need rows (the random-half refuter, the rate/mix
# decomposition); the file side does. Each side's JSON is kept (DIR/out-SIDE-DESIGN.json) so
# the effects can be compared.
#
# Usage (a PostgreSQL server and the Spark cluster of .ci/spark.sh, both on 127.0.0.1):
#   CK=target/release/causalkit bash .ci/engines.sh --run \
#     bash .ci/spark.sh --run benches/attribute_engine.sh DIR RUNS [LOG]
#   CK           a causalkit built with `--features postgres,spark`
#   PEER_PYTHON  a python with duckdb (the CSV -> Parquet conversion; default: python3)
#   SIDES        the sides to run (default: file postgres spark)
set -euo pipefail
dir=$(cd "$1" && pwd); runs=$2; log=${3:-target/attribute_engine.log}
ck=${CK:?a causalkit built with --features postgres,spark}
py=${PEER_PYTHON:-python3}
designs=(${DESIGNS:-randomised rollout})
sides=" ${SIDES:-file postgres spark} "
pg=${CAUSALKIT_PG_URL:?start PostgreSQL with .ci/engines.sh --run}
spark=${CAUSALKIT_SPARK_URL:?start the cluster with .ci/spark.sh --run}

for d in "${designs[@]}"; do
  if [ ! -f "$dir/$d.parquet" ]; then
    echo "== $d.csv -> $d.parquet (duckdb)"
    "$py" - "$dir/$d.csv" "$dir/$d.parquet" <<'EOF'
import sys, duckdb
src, dst = sys.argv[1], sys.argv[2]
duckdb.sql("SET enable_progress_bar = false")
duckdb.sql(f"COPY (SELECT * FROM read_csv('{src}', header = true)) TO '{dst}' "
           "(FORMAT parquet, ROW_GROUP_SIZE 1000000)")
EOF
  fi
  sed -e "s|^path = \"$d.csv\"|path = \"$d.parquet\"|" "$dir/$d.toml" > "$dir/$d-parquet.toml"
  grep -q "^path = \"$d.parquet\"" "$dir/$d-parquet.toml"
  # The table: numeric columns as double precision, the others as text (how the engine
  # tests load theirs); loaded once per server.
  if [ "$(psql "$pg" -Atc "SELECT count(*) FROM pg_tables WHERE tablename = '$d'")" = 0 ]; then
    echo "== COPY $d.csv into PostgreSQL table $d"
    ddl=$(head -n 1001 "$dir/$d.csv" | "$py" -c '
import sys, csv
rows = list(csv.reader(sys.stdin))
def num(v):
    try:
        float(v); return True
    except ValueError:
        return False
cols = []
for i, name in enumerate(rows[0]):
    vals = [r[i] for r in rows[1:] if r[i] != ""]
    kind = "double precision" if vals and all(num(v) for v in vals) else "text"
    cols.append("\"%s\" %s" % (name, kind))
print(", ".join(cols))')
    psql "$pg" -q -c "CREATE TABLE \"$d\" ($ddl)"
    psql "$pg" -q -c "\\copy \"$d\" FROM '$dir/$d.csv' WITH (FORMAT csv, HEADER true)"
    psql "$pg" -q -c "ANALYZE \"$d\""
  fi
done

source "$(dirname "$0")/timed.sh"
one() {
  local design=$1 side=$2; shift 2
  local load; load=$(cut -d' ' -f1 /proc/loadavg)
  local fields; fields=$(timed "$dir/out-$side-$design.json" "$@")
  echo -e "$design\t$side\t$fields\t$load" | tee -a "$log"
}
echo "# $(date -u +%FT%TZ) $(uptime) rows: $(for d in "${designs[@]}"; do echo -n "$d $(($(wc -l < "$dir/$d.csv") - 1)) "; done)" | tee -a "$log"
for _ in $(seq "$runs"); do
  for d in "${designs[@]}"; do
    spec="$dir/$d-parquet.toml"
    if [[ $sides == *" file "* ]]; then
      cat "$dir/$d.parquet" > /dev/null
      one "$d" file "$ck" attribute --spec "$spec" --format json
    fi
    if [[ $sides == *" postgres "* ]]; then
      one "$d" postgres "$ck" attribute --spec "$spec" --format json --engine "$pg" --table "$d"
    fi
    if [[ $sides == *" spark "* ]]; then
      cat "$dir/$d.parquet" > /dev/null
      one "$d" spark "$ck" attribute --spec "$spec" --format json --engine "$spark" \
        --table "parquet.\`$dir/$d.parquet\`"
    fi
  done
done
# The three sides agree: the largest relative difference of the engines' effect estimates and
# standard errors (KPIs and money) from the file's, per design.
for d in "${designs[@]}"; do
  "$py" - "$dir" "$d" <<'EOF' | tee -a "$log"
import json, sys
root, design = sys.argv[1], sys.argv[2]
import os
paths = {s: f"{root}/out-{s}-{design}.json" for s in ("file", "postgres", "spark")}
out = {s: json.load(open(p)) for s, p in paths.items() if os.path.exists(p)}
if "file" not in out:
    sys.exit(0)
def numbers(j):
    return {(e["label"], k): e[k] for e in j["effects"] for k in ("estimate", "std_error")
            if isinstance(e.get(k), (int, float))}
want = numbers(out["file"])
for side in [s for s in ("postgres", "spark") if s in out]:
    got = numbers(out[side])
    worst = max(abs(got[k] - v) / max(abs(v), 1e-300) for k, v in want.items())
    print(f"# {design}: {side} vs file, {len(want)} effect numbers, "
          f"largest relative difference {worst:.1e}")
EOF
done
echo "# $(date -u +%FT%TZ) $(uptime)" | tee -a "$log"
