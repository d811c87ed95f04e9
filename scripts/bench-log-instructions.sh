#!/usr/bin/env bash
# Instructions per JSON log line under callgrind: a count, not a time, so a
# shared, noisy machine gives the same answer twice.
#
#   ./scripts/bench-log-instructions.sh                 # every setup
#   ./scripts/bench-log-instructions.sh tracelink stock_with_ids
#   KEEP=/tmp/cg ./scripts/bench-log-instructions.sh tracelink
#       # also keeps /tmp/cg/<setup>.out (the longer run) for
#       # callgrind_annotate --inclusive=yes /tmp/cg/tracelink.out
#
# Each setup writes 2,000 and 12,000 lines (benches/log_line.rs, count mode);
# the difference over 10,000 is the cost of one line, with setup, the span's
# first lines and teardown cancelled. `outside_<setup>` logs outside any span;
# `*_otel_only` is the OpenTelemetry layer without a log layer (the span event
# alone).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)"; exit 1; }
cargo bench --bench log_line --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "log_line" and m.get("executable"):
        print(m["executable"])' > /tmp/log-line-bench-path
bin=$(cat /tmp/log-line-bench-path)

count() { # setup lines [callgrind output file]
  LOG_BENCH_SETUP=$1 LOG_BENCH_LINES=$2 OTEL_LOG_LEVEL=none \
    valgrind --tool=callgrind --fair-sched=yes --callgrind-out-file="${3:-/dev/null}" "$bin" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

setups=("$@")
if [ ${#setups[@]} -eq 0 ]; then
  setups=(tracelink stock_with_ids stock_json json_subscriber_with_ids
          tracelink_otel_only stock_otel_only outside_tracelink outside_stock_json)
fi
[ -n "${KEEP:-}" ] && mkdir -p "$KEEP"

printf '%-34s %12s\n' setup instructions/line
for setup in "${setups[@]}"; do
  small=$(count "$setup" 2000)
  large=$(count "$setup" 12000 "${KEEP:+$KEEP/$setup.out}")
  printf '%-34s %12d\n' "$setup" $(( (large - small) / 10000 ))
done
