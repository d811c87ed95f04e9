#!/usr/bin/env bash
# Instructions per metric operation (benches/metrics.rs) and per request
# (benches/request.rs) under callgrind: a count, not a time, so a shared, noisy
# machine gives the same answer twice.
#
#   ./scripts/bench-metrics-instructions.sh                # every setup of both
#   ./scripts/bench-metrics-instructions.sh metrics        # benches/metrics.rs only
#   ./scripts/bench-metrics-instructions.sh request        # benches/request.rs only
#   KEEP=/tmp/cg ./scripts/bench-metrics-instructions.sh request
#       # also keeps /tmp/cg/<bench>-<setup>.out (the longer run) for
#       # callgrind_annotate --inclusive=yes
#
# Each recording case runs 2,000 and 12,000 operations, each request setup
# 2,000 and 12,000 requests, each render 20 and 120 renders; the difference
# over 10,000 (renders: 100) is the cost of one, export threads included, with
# setup, first registrations and teardown cancelled.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)"; exit 1; }

which=${1:-all}
[ -n "${KEEP:-}" ] && mkdir -p "$KEEP"

bench_path() { # bench name
  cargo bench --bench "$1" --no-run --message-format=json 2>/dev/null \
    | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == sys.argv[1] and m.get("executable"):
        print(m["executable"])' "$1"
}

# TOGGLE, when set, counts only inside that function (the recording cases
# run on one thread, and their setup, which calibrates clocks, varies).
count() { # bin var-prefix setup n [callgrind output file]
  env "$2_BENCH_SETUP=$3" "$2_BENCH_$6=$4" OTEL_LOG_LEVEL=none \
    valgrind --tool=callgrind --fair-sched=yes ${TOGGLE:+--toggle-collect=$TOGGLE} \
      --callgrind-out-file="${5:-/dev/null}" "$1" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

row() { # bin prefix unit-var setup small large divisor bench
  local small large
  small=$(count "$1" "$2" "$4" "$5" /dev/null "$3")
  large=$(count "$1" "$2" "$4" "$6" "${KEEP:+$KEEP/$8-$4.out}" "$3")
  printf '%-40s %14d\n' "$4" $(( (large - small) / $7 ))
}

if [ "$which" = all ] || [ "$which" = metrics ]; then
  bin=$(bench_path metrics)
  printf '%-40s %14s\n' "metrics setup" instructions/op
  for lib in tracelink prometheus prometheus_client; do
    for op in macro_counter macro_histogram handle_counter handle_histogram; do
      TOGGLE=metrics::run row "$bin" METRICS OPS "${op}_${lib}" 2000 12000 10000 metrics
    done
  done
  for lib in tracelink prometheus_client prometheus; do
    row "$bin" METRICS OPS "render_${lib}" 20 120 100 metrics
  done
fi

if [ "$which" = all ] || [ "$which" = request ]; then
  bin=$(bench_path request)
  printf '%-40s %14s\n' "request setup" instructions/request
  for setup in tracelink stock fastrace; do
    row "$bin" REQUEST REQUESTS "$setup" 2000 12000 10000 request
  done
fi
