#!/usr/bin/env bash
# Runs every test: the include graph (scripts/check-layers.sh) and the style check
# (scripts/checksrc.sh: banned calls, clang-format, 800 lines a file), each with its own
# test, unit (cmocka), integration (pytest against the real binary) and the portal in a
# real browser (tests/browser: chromium and playwright-core), SSO against real identity
# providers on loopback (tests/sso: oidc-provider, oauth2-mock-server), then unit and integration again
# under AddressSanitizer + UndefinedBehaviorSanitizer, then each libFuzzer target for
# FUZZ_SECONDS (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
scripts/check-layers.sh
tests/scripts/test_check_layers.sh
scripts/checksrc.sh
tests/scripts/test_checksrc.sh
make -j"$(nproc)" all
make -j"$(nproc)" build/libgh.a
make unit
# the SAML tests' identity provider (tests/saml/idp.cjs) and its npm packages
(cd tests/saml && npm ci --no-audit --no-fund --loglevel=error)
make integration
tests/browser/run.sh
tests/sso/run.sh
tests/openapi/run.sh
tests/saml/run.sh
make asan
make fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-10}"
echo "all suites passed"
