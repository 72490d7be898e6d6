# Sourced by the whole-process benchmark scripts (ab_scan_duckdb.sh, warehouse_spark.sh,
# attribute_engine.sh). `timed OUT CMD [ARGS...]` runs CMD under /usr/bin/time -v with its
# standard output in OUT and prints "wall<TAB>peak RSS (KiB)<TAB>user s<TAB>system s"; when
# CMD fails it shows time's report (with CMD's standard error) and returns 1.
timed() {
  local out=$1; shift
  local tim; tim=$(mktemp)
  if ! /usr/bin/time -v "$@" >"$out" 2>"$tim"; then
    cat "$tim" >&2
    rm -f "$tim"
    return 1
  fi
  local field pattern fields=()
  for pattern in "Elapsed (wall" "Maximum resident" "User time" "System time"; do
    field=$(grep "$pattern" "$tim" | awk '{print $NF}')
    fields+=("$field")
  done
  rm -f "$tim"
  local IFS=$'\t'
  echo "${fields[*]}"
}
