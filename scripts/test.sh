#!/usr/bin/env bash
# Runs every test: unit (cmocka) and integration (pytest against the real binary),
# then both again under AddressSanitizer + UndefinedBehaviorSanitizer, then each libFuzzer
# target for FUZZ_SECONDS (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
make -j"$(nproc)" all
make -j"$(nproc)" build/libgh.a
make unit
make integration
make asan
make fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-10}"
echo "all suites passed"
