#!/usr/bin/env bash
# Times `tracelink show` on a local trace store of 1,000,000 spans.
#
#   ./scripts/bench-store.sh            # 1M spans, 256 MiB files
#   SPANS=5000000 ./scripts/bench-store.sh
#
# Builds the release `tracelink` and the `generate_store` example (which
# writes through tracelink's own store writer, `tracelink::store::TraceFile`,
# as the `file` exporter and `tracelink receive` do: 10-span traces in three
# services, 512 spans a line), writes the store to a temp directory, and runs
# `tracelink show` on the oldest, middle and newest trace, RUNS times each,
# then `tracelink traces` once. Prints the median wall time of each.
#
# `tracelink show` reads the store in 32 MiB ranges on every core and looks
# for the trace id's hex with memchr's memmem; only the lines holding it are
# parsed. No index: the file is the index.
set -euo pipefail
cd "$(dirname "$0")/.."

SPANS="${SPANS:-1000000}"
MAX_BYTES="${MAX_BYTES:-256MiB}"
RUNS="${RUNS:-5}"
DIR="$(mktemp -d "${TMPDIR:-/tmp}/tracelink-bench-store.XXXXXX")"
trap 'rm -rf "$DIR"' EXIT
STORE="$DIR/traces.jsonl"

echo "== building (release)"
cargo build --release --locked -p tracelink-cli --bin tracelink --example generate_store 2>&1 | tail -n 1
TARGET="${CARGO_TARGET_DIR:-target}/release"

# Seconds between two `date +%s.%N` readings, to the millisecond.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# Median wall time of RUNS runs of "$@", in seconds.
median() {
  local times=()
  for _ in $(seq "$RUNS"); do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null
    t1=$(date +%s.%N)
    times+=("$(elapsed "$t0" "$t1")")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"
}

echo "== writing $SPANS spans to $STORE"
start=$(date +%s.%N)
"$TARGET/examples/generate_store" --spans "$SPANS" --store "$STORE" --max-bytes "$MAX_BYTES" | tee "$DIR/ids"
end=$(date +%s.%N)
echo "written in $(elapsed "$start" "$end") s"
ls -l "$DIR" | grep traces.jsonl
echo "store: $(du -ch "$STORE"* | tail -n 1 | cut -f1)"

echo "== tracelink show (median of $RUNS runs, page cache warm)"
for which in first middle last; do
  id=$(awk -v w="$which" '$1 == w { print $2 }' "$DIR/ids")
  spans=$("$TARGET/tracelink" show "$id" --store "$STORE" | grep -c '|[█ ]*|' || true)
  printf '%-7s %s  %2d spans  %s s\n' "$which" "$id" "$spans" "$(median "$TARGET/tracelink" show "$id" --store "$STORE")"
done
missing=ffffffffffffffffffffffffffffffff
printf '%-7s %s  (not found: the whole store searched)  %s s\n' "absent" "$missing" \
  "$(median sh -c "'$TARGET/tracelink' show $missing --store '$STORE' 2>/dev/null || true")"

echo "== tracelink traces --limit 20 (parses every line)"
t0=$(date +%s.%N)
"$TARGET/tracelink" traces --store "$STORE" --limit 20 >/dev/null
t1=$(date +%s.%N)
echo "$(elapsed "$t0" "$t1") s"
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
