# Sourced by the bench scripts that run the release binary on generated organisations: the
# binary, the PostgreSQL server, a scratch folder, and the databases they make, all removed on
# exit; then the timing helpers.
target=${CARGO_TARGET_DIR:-target}
bin="$(realpath "$target/release/evident")"
[ -x "$bin" ] || { echo "build first: cargo build --release -p evident" >&2; exit 1; }
pg_admin=${EVIDENT_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test}
work=$(mktemp -d)
bench_dbs=()
cleanup() {
  rm -rf "$work"
  for d in "${bench_dbs[@]}"; do
    psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT
export EVIDENT_ACTOR=bench

# use_db sqlite|postgres NAME: the workspaces made next keep their program in SQLite (the
# workspace's file) or in a fresh PostgreSQL database NAME.
use_db() {
  unset EVIDENT_DATABASE_URL
  if [ "$1" = postgres ]; then
    bench_dbs+=("$2")
    psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $2 WITH (FORCE)" >/dev/null 2>&1
    psql "$pg_admin" -qc "CREATE DATABASE $2" >/dev/null
    export EVIDENT_DATABASE_URL="${pg_admin%/*}/$2"
  fi
}

source bench/measure.sh
