#!/usr/bin/env bash
# The whole test suite: what CI runs, and what a newcomer runs.
#
#   ./scripts/test.sh
#
# Installs what the tests need and runs every test target, the doc tests,
# and each bench once in test mode (so they keep compiling and running).
set -euo pipefail
cd "$(dirname "$0")/.."

# On CI every build is a clean one: incremental state only costs disk there.
if [ "${CI:-}" = true ]; then export CARGO_INCREMENTAL=0; fi
# The disk a build has left, printed after each stage: a linker killed by
# SIGBUS is a full disk, and this says so.
disk() { df -h . | awk 'NR==2 {print "   (disk: " $4 " free; target/ " t ")"}' t="$(du -sh target 2>/dev/null | cut -f1)"; }

echo "== test dependencies (Prometheus, the Python OpenMetrics parser)"
bash scripts/install-test-deps.sh

echo "== building"
cargo build --workspace --all-targets --locked --features tower,reqwest 2>&1 | tail -n 3
disk

echo "== feature combinations"
for features in "" otlp-grpc otlp-http tls tower reqwest; do
  cargo check --lib --locked --no-default-features --features "$features" 2>&1 | tail -n 1
done
disk

echo "== lints (clippy, the workspace lint table, warnings are errors)"
if cargo clippy --version >/dev/null 2>&1; then
  cargo clippy --workspace --all-targets --all-features --locked -- -D warnings 2>&1 | tail -n 3
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "clippy found warnings: run the command above"; exit 1; }
else
  echo "clippy is not installed with this toolchain (rustup component add clippy); lints not checked"
fi
echo "== tests"
cargo test --workspace --all-targets --locked --features tower,reqwest
disk

echo "== doc tests"
cargo test --doc --locked --features tower,reqwest
