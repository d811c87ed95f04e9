#!/usr/bin/env bash
# Instructions per span under callgrind: a count, not a time, so a shared,
# noisy machine gives the same answer twice.
#
#   ./scripts/bench-instructions.sh
#
# Each setup runs 2,000 and 12,000 spans; the difference over 10,000 is the
# cost of one span, export thread included, with setup and teardown cancelled.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)"; exit 1; }
cargo bench --bench span --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "span" and m.get("executable"):
        print(m["executable"])' > /tmp/span-bench-path
bin=$(cat /tmp/span-bench-path)

count() {
  SPAN_BENCH_SETUP=$1 SPAN_BENCH_SPANS=$2 OTEL_LOG_LEVEL=none \
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

printf '%-34s %12s\n' setup instructions/span
for setup in registry stock tracelink tracelink_no_activation \
             unsampled_registry unsampled_stock unsampled_tracelink unsampled_tracelink_no_activation; do
  small=$(count "$setup" 2000)
  large=$(count "$setup" 12000)
  printf '%-34s %12d\n' "$setup" $(( (large - small) / 10000 ))
done
