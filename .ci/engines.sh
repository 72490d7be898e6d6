#!/usr/bin/env bash
# Engine integration tests of causalkit-warehouse and the CLI's --engine path (issue 15): starts a throwaway PostgreSQL 15
# cluster on 127.0.0.1 (never another address), runs the tests against it, and stops every
# process it started by PID, also on failure. Called by .ci/run after the README's tests.
#
# `bash .ci/engines.sh --run CMD [ARGS...]` starts the same server, runs CMD with
# CAUSALKIT_PG_URL set instead of the tests, and stops the server: how the benchmark of
# benches/results/attribute_engine.md runs (CMD may itself be `bash .ci/spark.sh --run ...`).
set -euo pipefail
cd "$(dirname "$0")/.."

RUN=()
if [ "${1:-}" = "--run" ]; then
  shift
  RUN=("$@")
  [ "${#RUN[@]}" -gt 0 ] || { echo "usage: .ci/engines.sh [--run CMD ARGS...]" >&2; exit 2; }
fi

PG_BIN=/usr/lib/postgresql/15/bin
PORT=${CAUSALKIT_PG_PORT:-55432}

if [ ! -x "$PG_BIN/initdb" ]; then
  echo "== installing postgresql-15"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
fi

TMP=$(mktemp -d /tmp/causalkit-engines.XXXXXX)
PGDATA="$TMP/pg"
PG_PID=""

# initdb and the server refuse to run as root: run them as the postgres user then.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    su postgres -s /bin/bash -c "$1"
  else
    bash -c "$1"
  fi
}

cleanup() {
  local status=$?
  if [ -n "$PG_PID" ] && kill -0 "$PG_PID" 2>/dev/null; then
    echo "== stopping PostgreSQL (PID $PG_PID)"
    as_pg "$PG_BIN/pg_ctl -D '$PGDATA' -m fast -w -t 30 stop" >/dev/null 2>&1 || kill "$PG_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$PG_PID" 2>/dev/null || true
  fi
  if [ "$status" != 0 ] && [ -f "$TMP/pg.log" ]; then
    echo "== PostgreSQL log (last lines)"; tail -n 20 "$TMP/pg.log" || true
  fi
  rm -rf "$TMP"
  exit "$status"
}
trap cleanup EXIT INT TERM

mkdir -p "$PGDATA"
if [ "$(id -u)" = 0 ]; then chown -R postgres "$TMP"; fi
echo "== PostgreSQL 15 on 127.0.0.1:$PORT"
as_pg "$PG_BIN/initdb -D '$PGDATA' -A trust -U postgres" >/dev/null
as_pg "$PG_BIN/pg_ctl -D '$PGDATA' -o \"-c listen_addresses=127.0.0.1 -p $PORT -k '$PGDATA'\" -l '$TMP/pg.log' -w -t 60 start" >/dev/null
PG_PID=$(head -n 1 "$PGDATA/postmaster.pid")
echo "   started, PID $PG_PID"

export CAUSALKIT_PG_URL="postgres://postgres@127.0.0.1:$PORT/postgres"
if [ "${#RUN[@]}" -gt 0 ]; then
  echo "== running: ${RUN[*]}"
  "${RUN[@]}"
  exit 0
fi
# One build for both engine scripts: `--workspace` with every engine feature (the same set as
# .ci/spark.sh), so the workspace is compiled once more after the README's tests, not once
# per script and package. The Spark client's build needs protoc.
ENGINE_FEATURES=causalkit-warehouse/postgres,causalkit-warehouse/spark,causalkit-attribution/postgres,causalkit-attribution/spark,causalkit-cli/postgres,causalkit-cli/spark
if ! command -v protoc >/dev/null 2>&1; then
  echo "== installing protobuf-compiler"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler >/dev/null
fi
cargo test --workspace --features "$ENGINE_FEATURES" --locked --test postgres -- --nocapture
cargo test --workspace --features "$ENGINE_FEATURES" --locked --test panel_postgres
cargo test --workspace --features "$ENGINE_FEATURES" --locked --test moments_postgres
cargo test --workspace --features "$ENGINE_FEATURES" --locked --test warehouse_panel_postgres
# Release attribution with `[data] engine = "postgres://..."` equals the file-based run.
cargo test --workspace --features "$ENGINE_FEATURES" --locked --test engine_postgres -- --nocapture
# The CLI on the same server: `ab --engine postgres://...` and `causalkit sql` equal `ab --data`.
cargo test --workspace --features "$ENGINE_FEATURES" --locked --test warehouse_postgres -- --nocapture
