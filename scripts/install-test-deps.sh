#!/usr/bin/env bash
# Installs the real peers the test suite checks the `/metrics` exposition with:
#
#   * Debian's `prometheus` server (2.42 on bookworm), run by the tests
#     themselves on a free loopback port: the system service is never started;
#   * a Python venv at target/test-venv with the pinned packages of
#     tests/tools/requirements.txt: the official `prometheus_client`, whose
#     OpenMetrics parser tests/tools/openmetrics_check.py uses, and the
#     OpenTelemetry Python SDK with its OTLP/HTTP exporter, the other side of
#     the cross-language tests.
#
#   bash scripts/install-test-deps.sh      # as root (CI runs it so, CI=true)
#
# Idempotent and non-interactive; when everything is already there it only
# checks versions and returns in under a second. `cargo clean` deletes the
# venv: run it again then. PYTHON=... picks the interpreter for the venv.
set -euo pipefail
cd "$(dirname "$0")/.."

REQUIREMENTS=tests/tools/requirements.txt
VENV=target/test-venv
export DEBIAN_FRONTEND=noninteractive

log() { echo "install-test-deps: $*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

# ---------------------------------------------------------------- prometheus

# Stops a Prometheus started by the Debian package (init script or systemd),
# by the service's own pid, never by process name.
stop_system_prometheus() {
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    as_root systemctl disable --now prometheus.service >/dev/null 2>&1 || true
  fi
  local pidfile
  for pidfile in /run/prometheus/prometheus.pid /run/prometheus.pid /var/run/prometheus.pid; do
    if [ -s "$pidfile" ]; then
      local pid
      pid="$(cat "$pidfile")"
      # A stale pid file may name an unrelated process by now.
      if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = prometheus ]; then
        log "stopping the system prometheus (pid $pid from $pidfile)"
        as_root kill "$pid" || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      fi
      as_root rm -f "$pidfile"
    fi
  done
  # Last check: whoever still listens on :9090 as /usr/bin/prometheus.
  local pids
  pids="$(ss -Htlnp 'sport = :9090' 2>/dev/null | grep -o '"prometheus",pid=[0-9]*' | grep -o '[0-9]*$' || true)"
  for pid in $pids; do
    log "stopping a prometheus listening on :9090 (pid $pid)"
    as_root kill "$pid" || true
  done
}

prometheus_ok() {
  command -v prometheus >/dev/null 2>&1 && prometheus --version >/dev/null 2>&1
}

if prometheus_ok; then
  log "prometheus already installed: $(prometheus --version 2>&1 | head -n 1)"
else
  # Keep the package's postinst from starting the service: a policy-rc.d that
  # denies every start, removed again afterwards if we created it.
  created_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
    as_root chmod 755 /usr/sbin/policy-rc.d
    created_policy=yes
  fi
  cleanup_policy() {
    if [ -n "$created_policy" ]; then as_root rm -f /usr/sbin/policy-rc.d; fi
  }
  trap cleanup_policy EXIT

  apt_install() {
    as_root apt-get install -y -q --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
      prometheus
  }
  # `apt-get update` only when the lists don't know the package, or when the
  # install fails on them (stale lists point at files the mirror dropped).
  updated=""
  if ! apt-cache show prometheus >/dev/null 2>&1; then
    log "apt-get update (no package list knows prometheus)"
    as_root apt-get update -q
    updated=yes
  fi
  log "apt-get install prometheus"
  if ! apt_install; then
    if [ -z "$updated" ]; then
      log "install failed; apt-get update and retry"
      as_root apt-get update -q
      apt_install
    else
      exit 1
    fi
  fi
  cleanup_policy
  trap - EXIT
  log "installed: $(prometheus --version 2>&1 | head -n 1)"
fi
stop_system_prometheus

# ---------------------------------------------------------------------- venv

# Every pinned package at its version, and the modules the tests import.
venv_ok() {
  [ -x "$VENV/bin/python" ] &&
    "$VENV/bin/python" - "$REQUIREMENTS" <<'EOF' >/dev/null 2>&1
import sys
from importlib.metadata import version
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if line:
        name, pinned = line.split("==")
        if version(name) != pinned:
            sys.exit(1)
import prometheus_client.openmetrics.parser  # noqa: F401
import opentelemetry.sdk.trace  # noqa: F401
import opentelemetry.exporter.otlp.proto.http.trace_exporter  # noqa: F401
EOF
}

if venv_ok; then
  log "$VENV already has every package of $REQUIREMENTS"
else
  python="${PYTHON:-python3}"
  if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    log "apt-get install python3-venv (no usable venv module in $python)"
    as_root apt-get install -y -q --no-install-recommends python3-venv ||
      { as_root apt-get update -q && as_root apt-get install -y -q --no-install-recommends python3-venv; }
    python=/usr/bin/python3
  fi
  if [ -e "$VENV" ] && ! "$VENV/bin/python" -c '' >/dev/null 2>&1; then
    log "removing $VENV: its python no longer runs"
    rm -rf "$VENV"
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV with $("$python" --version 2>&1)"
    mkdir -p "$(dirname "$VENV")"
    "$python" -m venv "$VENV"
  fi
  log "pip install -r $REQUIREMENTS into $VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input \
    -r "$REQUIREMENTS"
  venv_ok || { log "the packages of $REQUIREMENTS did not install in $VENV"; exit 1; }
fi

# -------------------------------------------------------------------- verify

log "prometheus: $(prometheus --version 2>&1 | head -n 1)"
log "python: $("$VENV/bin/python" -c 'import sys; from importlib.metadata import version; print(sys.version.split()[0], "prometheus_client", version("prometheus_client"), "opentelemetry-sdk", version("opentelemetry-sdk"))')"
