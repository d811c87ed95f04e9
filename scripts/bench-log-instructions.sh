#!/usr/bin/env bash
# Instructions per JSON log line under callgrind: a count, not a time, so a
# shared, noisy machine gives the same answer twice.
#
#   ./scripts/bench-log-instructions.sh                 # every setup
#   ./scripts/bench-log-instructions.sh tracelink stock_with_ids
#   KEEP=/tmp/cg ./scripts/bench-log-instructions.sh tracelink
#       # also keeps /tmp/cg/<setup>.out (the longer run) for
#       # callgrind_annotate --inclusive=yes /tmp/cg/tracelink.out
#   THREADS=1 ./scripts/bench-log-instructions.sh tracelink_records
#       # also the service thread's share (callgrind's thread 1): the rest
#       # is the export threads (draining, exporting, freeing); with KEEP,
#       # one file a thread, /tmp/cg/<setup>.out-01, -02, ...
#
# Each setup writes 2,000 and 12,000 lines (benches/log_line.rs, count mode);
# the difference over 10,000 is the cost of one line, with setup, the span's
# first lines and teardown cancelled. `outside_<setup>` logs outside any span;
# `*_otel_only` is the OpenTelemetry layer without a log layer (the span event
# alone). `*_records` add an OpenTelemetry log record per line, to a
# discarding exporter; `*_records_only` write the record and no line. A setup
# with records exports every one before it exits (counted), and a warning
# says so if its exporter was given fewer than it logged (dropped: the
# export thread fell behind). With tracelink's records the total moves by up
# to ~20% between runs (a scheduled export that starts mid-run exports tiny
# batches, see benches/log_line.rs); the service thread's share (THREADS=1)
# stays within 1%.
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

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

count() { # setup lines [callgrind output file] -> "all_threads [thread_1]"
  local file=${3:-} out
  if [ -z "$file" ]; then
    if [ -n "${THREADS:-}" ]; then file=$tmp/run.out; else file=/dev/null; fi
  fi
  out=$(LOG_BENCH_SETUP=$1 LOG_BENCH_LINES=$2 OTEL_LOG_LEVEL=none \
    valgrind --tool=callgrind --fair-sched=yes ${THREADS:+--separate-threads=yes} \
      --callgrind-out-file="$file" "$bin" 2>&1)
  local exported
  exported=$(sed -n 's/^log_line: .*: \([0-9]*\) of [0-9]* records exported$/\1/p' <<<"$out")
  if [ -n "$exported" ] && [ "$exported" -ne "$2" ]; then
    echo "warning: $1: $exported of $2 records exported, the rest dropped" >&2
  fi
  local total thread1=
  total=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' <<<"$out")
  if [ -n "${THREADS:-}" ]; then
    thread1=$(sed -n 's/^\(summary\|totals\): *\([0-9]*\).*/\2/p' "$file-01" | head -n 1)
    rm -f "$tmp"/run.out-*
  fi
  echo "$total $thread1"
}

setups=("$@")
if [ ${#setups[@]} -eq 0 ]; then
  setups=(tracelink stock_with_ids stock_json json_subscriber_with_ids
          tracelink_otel_only stock_otel_only outside_tracelink outside_stock_json
          tracelink_records tracelink_records_only stock_with_records stock_records_only)
fi
[ -n "${KEEP:-}" ] && mkdir -p "$KEEP"

if [ -n "${THREADS:-}" ]; then
  printf '%-34s %12s %15s\n' setup instructions/line "service thread"
else
  printf '%-34s %12s\n' setup instructions/line
fi
for setup in "${setups[@]}"; do
  read -r small small1 < <(count "$setup" 2000)
  read -r large large1 < <(count "$setup" 12000 "${KEEP:+$KEEP/$setup.out}")
  if [ -n "${THREADS:-}" ]; then
    printf '%-34s %12d %15d\n' "$setup" $(( (large - small) / 10000 )) $(( (large1 - small1) / 10000 ))
  else
    printf '%-34s %12d\n' "$setup" $(( (large - small) / 10000 ))
  fi
done
