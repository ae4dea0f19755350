#!/usr/bin/env bash
# Lints docs/openapi.json (what GET /openapi.json serves) with @redocly/cli's recommended
# rules (npm, pinned by package-lock.json); test_openapi.py holds it to the route table.
set -euo pipefail
cd "$(dirname "$0")"
# Without node here (a developer's machine), skipped loudly; CI installs it (scripts/deps.sh test).
if ! command -v node >/dev/null; then
  echo "SKIPPED tests/openapi: node is not installed (scripts/deps.sh test installs nodejs and npm)" >&2
  exit 0
fi
command -v npm >/dev/null || { echo "npm is missing (Debian: apt-get install npm)" >&2; exit 1; }
[ -x node_modules/.bin/redocly ] || npm ci --no-audit --no-fund --loglevel=error
node_modules/.bin/redocly lint --format=stylish ../../docs/openapi.json
