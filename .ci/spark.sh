#!/usr/bin/env bash
# Spark engine integration tests of causalkit-warehouse (issue 15): starts a real Spark 4
# standalone cluster on 127.0.0.1 (never another address) — a master, two workers with one
# core and 1 GiB each, and the Spark Connect server — runs tests/spark.rs against it through
# Spark Connect, shows that both executors ran tasks, and stops every process it started by
# PID, also on failure. Called by .ci/run after .ci/engines.sh.
#
# Installs what it needs, only when missing: Debian openjdk-17-jre-headless,
# protobuf-compiler (the Spark Connect client's build) and python3-venv; PyPI pyspark (the
# Spark distribution, with its jars) in a venv cached under
# ${CAUSALKIT_CACHE:-$HOME/.cache/causalkit}/spark-venv (or $CAUSALKIT_SPARK_VENV).
#
# `bash .ci/spark.sh --run CMD [ARGS...]` starts the same cluster with Spark's default input
# splits (128 MiB; the tests use 16 KiB splits so their small files spread over both
# executors), runs CMD with CAUSALKIT_SPARK_URL and SPARK_HOME set instead of the tests,
# checks that both executors ran tasks, and stops the cluster: how the benchmark of
# benches/results/warehouse_spark.md runs (benches/warehouse_spark.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

RUN=()
if [ "${1:-}" = "--run" ]; then
  shift
  RUN=("$@")
  [ "${#RUN[@]}" -gt 0 ] || { echo "usage: .ci/spark.sh [--run CMD ARGS...]" >&2; exit 2; }
fi

PYSPARK_VERSION=4.1.1
CACHE=${CAUSALKIT_CACHE:-$HOME/.cache/causalkit}
VENV=${CAUSALKIT_SPARK_VENV:-$CACHE/spark-venv}
HOST=127.0.0.1
MASTER_PORT=${CAUSALKIT_SPARK_MASTER_PORT:-7077}
MASTER_UI=${CAUSALKIT_SPARK_MASTER_UI:-18080}
WORKER_UI_1=${CAUSALKIT_SPARK_WORKER_UI_1:-18081}
WORKER_UI_2=${CAUSALKIT_SPARK_WORKER_UI_2:-18082}
CONNECT_PORT=${CAUSALKIT_SPARK_PORT:-15002}

# --- installs (idempotent) -------------------------------------------------------------
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
APT_UPDATED=""
apt_install() {
  if [ -z "$APT_UPDATED" ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  echo "== installing $*"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}
JAVA17=/usr/lib/jvm/java-17-openjdk-amd64
if [ ! -x "$JAVA17/bin/java" ]; then apt_install openjdk-17-jre-headless; fi
export JAVA_HOME=$JAVA17
if ! command -v protoc >/dev/null 2>&1; then apt_install protobuf-compiler; fi
if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then apt_install python3-venv; fi
if ! "$VENV/bin/python" -c "import pyspark, sys; sys.exit(pyspark.__version__ != '$PYSPARK_VERSION')" >/dev/null 2>&1; then
  echo "== pyspark $PYSPARK_VERSION into $VENV (about 70 s)"
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "pyspark==$PYSPARK_VERSION"
fi
SPARK_HOME=$("$VENV/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
export SPARK_HOME

# Compile the tests before the cluster starts (the client's crates take a few minutes the
# first time), so the cluster runs only as long as the tests. `--workspace` with every engine
# feature, the set of .ci/engines.sh: one build serves both scripts.
ENGINE_FEATURES=causalkit-warehouse/postgres,causalkit-warehouse/spark,causalkit-attribution/postgres,causalkit-attribution/spark,causalkit-cli/postgres,causalkit-cli/spark
if [ "${#RUN[@]}" -eq 0 ]; then
  echo "== building the Spark engine tests"
  cargo test --workspace --features "$ENGINE_FEATURES" --locked --test spark --test engine_spark --test notebooks --no-run
fi

# --- the cluster ------------------------------------------------------------------------
TMP=$(mktemp -d /tmp/causalkit-spark.XXXXXX)
export SPARK_LOCAL_IP=$HOST
export SPARK_LOCAL_DIRS=$TMP/local
export SPARK_LOG_DIR=$TMP/logs
export SPARK_PID_DIR=$TMP
export SPARK_NO_DAEMONIZE=1
mkdir -p "$SPARK_LOCAL_DIRS" "$SPARK_LOG_DIR" "$TMP/w1" "$TMP/w2"
MASTER_PID=""
W1_PID=""
W2_PID=""
CONNECT_PID=""

stop_pid() { # name pid
  local name=$1 pid=$2
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  echo "== stopping $name (PID $pid)"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  # The Connect server first (it owns the executors), then the workers, then the master.
  stop_pid "Spark Connect server" "$CONNECT_PID"
  stop_pid "worker 2" "$W2_PID"
  stop_pid "worker 1" "$W1_PID"
  stop_pid "master" "$MASTER_PID"
  if [ "$status" != 0 ]; then
    for f in master w1 w2 connect; do
      if [ -f "$TMP/$f.log" ]; then echo "== $f log (last lines)"; tail -n 15 "$TMP/$f.log" || true; fi
    done
  fi
  rm -rf "$TMP"
  exit "$status"
}
trap cleanup EXIT INT TERM

# wait_for NAME PID FILE PATTERN SECONDS: until FILE has PATTERN; fails when PID died.
wait_for() {
  local name=$1 pid=$2 file=$3 pattern=$4 limit=$5
  for _ in $(seq 1 $((limit * 2))); do
    if grep -q "$pattern" "$file" 2>/dev/null; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then echo "$name exited before it was ready" >&2; return 1; fi
    sleep 0.5
  done
  echo "$name not ready after $limit s (waiting for: $pattern)" >&2
  return 1
}

port_free() { ! (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }
for p in "$MASTER_PORT" "$MASTER_UI" "$WORKER_UI_1" "$WORKER_UI_2" "$CONNECT_PORT"; do
  if ! port_free "$p"; then echo "port $HOST:$p is in use; set CAUSALKIT_SPARK_* ports" >&2; exit 1; fi
done

t0=$(date +%s)
echo "== Spark $PYSPARK_VERSION master on $HOST:$MASTER_PORT"
"$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.master.Master \
  --host "$HOST" --port "$MASTER_PORT" --webui-port "$MASTER_UI" >"$TMP/master.log" 2>&1 &
MASTER_PID=$!
wait_for master "$MASTER_PID" "$TMP/master.log" "I have been elected leader" 120
echo "   ready, PID $MASTER_PID"

start_worker() { # n ui
  "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.worker.Worker \
    --host "$HOST" --cores 1 --memory 1g --webui-port "$2" --work-dir "$TMP/w$1" \
    "spark://$HOST:$MASTER_PORT" >"$TMP/w$1.log" 2>&1 &
}
start_worker 1 "$WORKER_UI_1"; W1_PID=$!
start_worker 2 "$WORKER_UI_2"; W2_PID=$!
wait_for "worker 1" "$W1_PID" "$TMP/w1.log" "Successfully registered with master" 120
wait_for "worker 2" "$W2_PID" "$TMP/w2.log" "Successfully registered with master" 120
echo "== two workers registered (PIDs $W1_PID, $W2_PID; 1 core, 1 GiB each)"

# Small input splits: the test's Parquet files are read in many partitions, so both
# executors get tasks (Spark's default splits with --run). senderMaxStreamDuration=0: the
# server never closes a result stream early (the Rust client's collect() does not resume one;
# the engine reports it as an error).
if [ "${#RUN[@]}" -eq 0 ]; then
  SPLITS=(--conf spark.sql.files.maxPartitionBytes=16k --conf spark.sql.files.openCostInBytes=4k)
else
  SPLITS=()
fi
"$SPARK_HOME/bin/spark-submit" --class org.apache.spark.sql.connect.service.SparkConnectServer \
  --name causalkit-connect --master "spark://$HOST:$MASTER_PORT" --driver-memory 1g \
  --conf spark.driver.host=$HOST --conf spark.driver.bindAddress=$HOST \
  --conf spark.connect.grpc.binding.address=$HOST --conf spark.connect.grpc.binding.port="$CONNECT_PORT" \
  --conf spark.executor.memory=768m --conf spark.executor.cores=1 --conf spark.cores.max=2 \
  --conf spark.sql.shuffle.partitions=4 --conf spark.ui.enabled=false \
  "${SPLITS[@]}" \
  --conf spark.locality.wait=0s \
  --conf spark.connect.execute.reattachable.senderMaxStreamDuration=0 \
  spark-internal >"$TMP/connect.log" 2>&1 &
CONNECT_PID=$!
wait_for "Spark Connect server" "$CONNECT_PID" "$TMP/connect.log" "Spark Connect server started" 180
for _ in $(seq 1 240); do
  if ! port_free "$CONNECT_PORT"; then break; fi
  kill -0 "$CONNECT_PID" 2>/dev/null || { echo "the Spark Connect server exited" >&2; exit 1; }
  sleep 0.5
done
# Both executors registered with the driver before any query runs.
for _ in $(seq 1 240); do
  n=$(grep -c "Registered executor" "$TMP/connect.log" || true)
  [ "$n" -ge 2 ] && break
  kill -0 "$CONNECT_PID" 2>/dev/null || { echo "the Spark Connect server exited" >&2; exit 1; }
  sleep 0.5
done
if [ "$(grep -c "Registered executor" "$TMP/connect.log" || true)" -lt 2 ]; then
  echo "fewer than two executors registered with the driver" >&2
  exit 1
fi
echo "== Spark Connect server on $HOST:$CONNECT_PORT (PID $CONNECT_PID), 2 executors; cluster up in $(( $(date +%s) - t0 )) s"

export CAUSALKIT_SPARK_URL="sc://$HOST:$CONNECT_PORT"
if [ "${#RUN[@]}" -gt 0 ]; then
  echo "== running: ${RUN[*]}"
  "${RUN[@]}"
else
  cargo test --workspace --features "$ENGINE_FEATURES" --locked --test spark -- --nocapture
  # Release attribution with `[data] engine = "sc://..."` equals the file-based run.
  cargo test --workspace --features "$ENGINE_FEATURES" --locked --test engine_spark -- --nocapture
  # The notebooks' Spark sections (```console spark blocks) through the CLI.
  cargo test --workspace --features "$ENGINE_FEATURES" --locked --test notebooks -- notebook_spark --nocapture
fi

# --- both executors did work ------------------------------------------------------------
echo "== tasks run per worker's executor (from each executor's log)"
fail=0
for w in 1 2; do
  n=0
  while IFS= read -r f; do
    c=$(grep -c "Running task" "$f" || true)
    n=$((n + c))
  done < <(find "$TMP/w$w" -name stderr -path "*app-*" 2>/dev/null)
  echo "   worker $w: $n tasks"
  if [ "$n" -eq 0 ]; then fail=1; fi
done
if command -v curl >/dev/null 2>&1; then
  curl -s "http://$HOST:$MASTER_UI/json/" | "$VENV/bin/python" -c '
import json, sys
m = json.load(sys.stdin)
for w in m.get("workers", []):
    print("   master: worker %s cores %s/%s state %s" % (w.get("host") + ":" + str(w.get("port")), w.get("coresused"), w.get("cores"), w.get("state")))
' || true
fi
if [ "$fail" -ne 0 ]; then
  echo "an executor ran no task: the aggregation did not use both workers" >&2
  exit 1
fi
echo "== both executors ran tasks"
