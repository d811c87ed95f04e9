#!/usr/bin/env bash
# The outage soak (issue 13), over gRPC and then OTLP/HTTP: a service making
# 20,000 spans/s (4 workers; a span, a child span, a JSON log line to
# /dev/null per request) exports to a `tracelink receive` the soak starts on
# a free 127.0.0.1 port, kills by pid, and restarts on the same port. Not run
# by CI; about 60 s per protocol plus the release builds.
#
#   ./scripts/soak.sh                        # both protocols: 15 s up, 25 s down, 20 s up
#   SOAK_UP=10 SOAK_DOWN=15 SOAK_AFTER=15 ./scripts/soak.sh
#   SOAK_PROTOCOL=grpc SOAK_RATE=40000 SOAK_WORKERS=2 ./scripts/soak.sh
#   OTEL_BSP_MAX_QUEUE_SIZE=512 OTEL_BSP_SCHEDULE_DELAY=100 ./scripts/soak.sh
#       # OTEL_*, TRACELINK_* and RUST_LOG reach tracelink in the soak
#       # (TRACELINK_LOG_FORMAT=none: no log lines); the endpoint and the
#       # protocol are the soak's own
#   ./scripts/soak.sh --up 5 --down 5 --after 5   # extra arguments go to the bench
#
# Every second: elapsed time, spans produced, exported / dropped / failed
# (Guard::stats().spans()), pending (in the queue or in flight), RSS, the
# worst request stall of that second. At the end of each protocol: flush and
# shutdown results, produced == exported + dropped + failed (PASS/FAIL),
# peak RSS (VmHWM), the worst stall (per phase too), the time from the
# receiver's restart until `exported` rises again and until the last loss,
# the spans the receiver stored (unique ids) against `exported`, and the log
# lines' counts; then one table for both protocols. Exit status 1 if a check
# failed. See benches/soak.rs.
set -euo pipefail
cd "$(dirname "$0")/.."

# The executable cargo built for target $1, from --message-format=json on stdin.
executable() {
  python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == sys.argv[1] and m.get("executable"):
        print(m["executable"])' "$1" | tail -1
}

tracelink=$(cargo build --release -p tracelink-cli --message-format=json | executable tracelink)
bench=$(cargo bench --bench soak --no-run --message-format=json | executable soak)
[ -x "$tracelink" ] || { echo "soak.sh: no tracelink binary was built"; exit 2; }
[ -x "$bench" ] || { echo "soak.sh: no soak bench was built"; exit 2; }

exec "$bench" --bench \
  --protocol "${SOAK_PROTOCOL:-both}" \
  --workers "${SOAK_WORKERS:-4}" \
  --rate "${SOAK_RATE:-20000}" \
  --up "${SOAK_UP:-15}" \
  --down "${SOAK_DOWN:-25}" \
  --after "${SOAK_AFTER:-20}" \
  --tracelink "$tracelink" \
  "$@"
