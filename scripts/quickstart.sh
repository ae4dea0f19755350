#!/usr/bin/env bash
# New machine to running server: installs what is missing, builds, and serves on
# http://127.0.0.1:8080 with SQLite and the signing key in ./var. On the first start it
# prints the bootstrap admin's one-time password (or uses GATEHOUSE_ADMIN_PASSWORD).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
make -j"$(nproc)"
exec build/gatehouse serve --data-dir ./var "$@"
