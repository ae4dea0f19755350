#!/usr/bin/env bash
# The SAML sign-in in a real browser: Debian's chromium driven by playwright-core, against
# the IdP of idp.cjs (samlp) on loopback; npm packages pinned by package-lock.json. The
# same IdP serves tests/integration/test_saml.py.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v node >/dev/null; then
  echo "SKIPPED tests/saml: node is not installed (scripts/deps.sh test installs nodejs and npm)" >&2
  exit 0
fi
command -v npm >/dev/null || { echo "npm is missing (Debian: apt-get install npm)" >&2; exit 1; }
[ -d node_modules/samlp ] && [ -d node_modules/express ] && [ -d node_modules/playwright-core ] ||
  npm ci --no-audit --no-fund --loglevel=error
[ -d ../sso/node_modules/playwright-core ] || (cd ../sso && npm ci --no-audit --no-fund --loglevel=error)
GATEHOUSE_BIN="${GATEHOUSE_BIN:-$PWD/../../build/gatehouse}" CHROMIUM="${CHROMIUM:-/usr/bin/chromium}" \
  node --test --test-concurrency=1 ./saml.test.mjs
