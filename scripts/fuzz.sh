#!/usr/bin/env bash
# Fuzzes the JSON log lines (fuzz/fuzz_targets/json_line.rs) for a while.
#
#   ./scripts/fuzz.sh            # 60 seconds
#   ./scripts/fuzz.sh 600        # 600 seconds
#   ./scripts/fuzz.sh 60 -jobs=2 # extra arguments go to libFuzzer
#
# Installs cargo-fuzz if it is missing. cargo-fuzz passes nightly `-Z` flags
# (`-Zsanitizer=address`); on a stable toolchain RUSTC_BOOTSTRAP=1 lets rustc
# accept them. Not part of the test suite (scripts/test.sh).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-60}"
shift || true

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

# Harmless on nightly; needed on stable.
export RUSTC_BOOTSTRAP=1

echo "== fuzzing json_line for ${seconds}s"
cargo fuzz run json_line -- -max_total_time="${seconds}" "$@"
