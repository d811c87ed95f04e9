#!/usr/bin/env bash
# Runs the official W3C Trace Context test suite, at Level 2 and full
# strictness, against examples/w3c_test_service.rs (ServerLayer in,
# send_traced out).
#
#   bash scripts/w3c-trace-context.sh
#   W3C_TRACE_CONTEXT_DIR=~/src/trace-context bash scripts/w3c-trace-context.sh
#
# The suite is the test/ folder of a w3c/trace-context checkout: the one in
# $W3C_TRACE_CONTEXT_DIR, else a shallow clone of
# https://github.com/w3c/trace-context made in target/w3c-trace-context on the
# first run and reused afterwards (delete it to get the latest suite; target/
# is never committed). Not part of scripts/test.sh nor CI, since it clones
# from GitHub.
#
# Needs the venv of scripts/install-test-deps.sh (target/test-venv); the
# suite's harness also needs aiohttp, which this script installs into that
# venv when it is missing.
#
# The service and the suite's harness each listen on a free port of
# 127.0.0.1; the service is stopped by its pid when the script exits. Its
# output (JSON log lines) is in target/w3c-test-service.log.
#
# Exit status: 0 when every test passed, non-zero otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

SUITE_URL=https://github.com/w3c/trace-context
VENV=target/test-venv
PYTHON="$ROOT/$VENV/bin/python"
# What the suite's CI installs (`pip install aiohttp`), pinned.
AIOHTTP=aiohttp==3.14.5
SERVICE_LOG="$ROOT/target/w3c-test-service.log"

log() { echo "w3c-trace-context: $*" >&2; }
die() { log "$*"; exit 2; }

# ------------------------------------------------------------------- suite

if [ -n "${W3C_TRACE_CONTEXT_DIR:-}" ]; then
  SUITE="$W3C_TRACE_CONTEXT_DIR"
  [ -f "$SUITE/test/test.py" ] ||
    die "W3C_TRACE_CONTEXT_DIR=$SUITE has no test/test.py: point it at a w3c/trace-context checkout"
else
  SUITE="$ROOT/target/w3c-trace-context"
  if [ ! -f "$SUITE/test/test.py" ]; then
    log "cloning $SUITE_URL into target/w3c-trace-context"
    rm -rf "$SUITE"
    git clone --quiet --depth 1 "$SUITE_URL" "$SUITE"
  fi
fi
if [ -e "$SUITE/.git" ]; then
  log "suite: $SUITE at $(git -C "$SUITE" log -1 --format='%h (%cs) %s' 2>/dev/null || echo '?')"
else
  log "suite: $SUITE"
fi

# ---------------------------------------------------------------- python

[ -x "$PYTHON" ] ||
  die "$VENV is missing: run \`bash scripts/install-test-deps.sh\` first"
if ! "$PYTHON" -c 'import aiohttp' >/dev/null 2>&1; then
  log "pip install $AIOHTTP into $VENV (the suite's harness needs it)"
  "$PYTHON" -m pip install -q --disable-pip-version-check --no-input "$AIOHTTP"
fi

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --------------------------------------------------------------- service

log "building examples/w3c_test_service.rs"
cargo build --quiet --locked --example w3c_test_service --features tower,reqwest
SERVICE="${CARGO_TARGET_DIR:-$ROOT/target}/debug/examples/w3c_test_service"
[ -x "$SERVICE" ] || die "the build left no $SERVICE"

SERVICE_PORT="$(free_port)"
HARNESS_PORT="$(free_port)"
while [ "$HARNESS_PORT" = "$SERVICE_PORT" ]; do HARNESS_PORT="$(free_port)"; done

service_pid=""
stop_service() {
  if [ -n "$service_pid" ] && kill -0 "$service_pid" 2>/dev/null; then
    kill -TERM "$service_pid" 2>/dev/null || true
    # It flushes and exits on SIGTERM; give it 10 s, then kill it.
    for _ in $(seq 100); do
      kill -0 "$service_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$service_pid" 2>/dev/null || true
  fi
  if [ -n "$service_pid" ]; then
    wait "$service_pid" 2>/dev/null || true
  fi
}
trap stop_service EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Spans are not exported unless OTEL_TRACES_EXPORTER says so (see the
# example's docs); no /metrics listener unless asked for.
OTEL_METRICS_EXPORTER="${OTEL_METRICS_EXPORTER:-none}" \
  "$SERVICE" --port "$SERVICE_PORT" >"$SERVICE_LOG" 2>&1 &
service_pid=$!

# Wait until it accepts connections (or dies).
ready=""
for _ in $(seq 300); do
  if ! kill -0 "$service_pid" 2>/dev/null; then
    cat "$SERVICE_LOG" >&2
    die "the service exited before listening"
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$SERVICE_PORT") 2>/dev/null; then
    ready=yes
    break
  fi
  sleep 0.1
done
[ -n "$ready" ] || die "the service did not listen on 127.0.0.1:$SERVICE_PORT within 30 s"
log "service (pid $service_pid) on http://127.0.0.1:$SERVICE_PORT/test, harness on 127.0.0.1:$HARNESS_PORT"

# ------------------------------------------------------------------ suite

REPORT="$(mktemp)"
status=0
(
  cd "$SUITE/test"
  STRICT_LEVEL=2 SPEC_LEVEL=2 HARNESS_HOST=127.0.0.1 HARNESS_PORT="$HARNESS_PORT" \
    "$PYTHON" test.py "http://127.0.0.1:$SERVICE_PORT/test"
) >"$REPORT" 2>&1 || status=$?
cat "$REPORT"

ran="$(grep -E '^Ran [0-9]+ tests? in ' "$REPORT" | tail -n 1 || true)"
verdict="$(grep -E '^(OK|FAILED)( \(.*\))?$' "$REPORT" | tail -n 1 || true)"
rm -f "$REPORT"
echo
if [ "$status" -eq 0 ] && [ "${verdict%% *}" = OK ]; then
  echo "w3c-trace-context: PASSED: ${ran:-?} ${verdict}"
  exit 0
fi
echo "w3c-trace-context: FAILED (exit $status): ${ran:-no summary} ${verdict}"
echo "w3c-trace-context: the service's output is in $SERVICE_LOG"
exit "$(( status == 0 ? 1 : status ))"
