#!/usr/bin/env bash
# SSO against real identity providers on loopback: oidc-provider and oauth2-mock-server
# (npm, pinned by package-lock.json) with Debian's chromium driven by playwright-core.
set -euo pipefail
cd "$(dirname "$0")"
# Without node here (a developer's machine), skipped loudly; CI installs it (scripts/deps.sh test).
if ! command -v node >/dev/null; then
  echo "SKIPPED tests/sso: node is not installed (scripts/deps.sh test installs nodejs and npm)" >&2
  exit 0
fi
command -v npm >/dev/null || { echo "npm is missing (Debian: apt-get install npm)" >&2; exit 1; }
[ -d node_modules/oidc-provider ] && [ -d node_modules/oauth2-mock-server ] &&
  [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --loglevel=error
GATEHOUSE_BIN="${GATEHOUSE_BIN:-$PWD/../../build/gatehouse}" CHROMIUM="${CHROMIUM:-/usr/bin/chromium}" \
  node --test --test-concurrency=1 ./*.test.mjs
