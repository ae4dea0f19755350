#!/usr/bin/env bash
# The portal in a real browser: Debian's chromium (scripts/deps.sh test) driven by
# playwright-core, with @axe-core/playwright; both from npm, pinned by package-lock.json.
# Screenshots land in tests/browser/screenshots/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")"
command -v npm >/dev/null || { echo "npm is missing (Debian: apt-get install npm)" >&2; exit 1; }
[ -d node_modules/playwright-core ] && [ -d node_modules/@axe-core/playwright ] ||
  npm ci --no-audit --no-fund --loglevel=error
GATEHOUSE_BIN="${GATEHOUSE_BIN:-$PWD/../../build/gatehouse}" CHROMIUM="${CHROMIUM:-/usr/bin/chromium}" \
  node --test portal.test.mjs
