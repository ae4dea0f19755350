#!/usr/bin/env bash
# Installs the Debian packages Gatehouse needs that are missing on this machine.
#   scripts/deps.sh          build and run
#   scripts/deps.sh test     also what the tests need
#   scripts/deps.sh bench    also what the benchmarks need
set -euo pipefail

build=(build-essential pkg-config libjansson-dev libsodium-dev libcrypt-dev
       libssl-dev libsqlite3-dev libyaml-dev libzxcvbn-dev libhiredis-dev libcurl4-openssl-dev
       liboath-dev libqrencode-dev libpq-dev liblasso3-dev)
test=(clang clang-format libclang-rt-14-dev libcmocka-dev python3 python3-pytest python3-pytest-xdist
      python3-requests python3-jwt python3-jwcrypto python3-cryptography python3-bcrypt python3-pyotp python3-yaml sqlite3
      nginx-light caddy redis-server postgresql chromium nodejs openssl curl)
bench=(wrk nginx-light openssl curl python3 python3-bcrypt redis-server)
# HTTP/2 (issue 17): libnghttp2 in the server, h2load in the tests and benchmarks.
build+=(libnghttp2-dev); test+=(nghttp2-client); bench+=(nghttp2-client)
# test_openapi_bodies.py validates answers against docs/openapi.json's schemas.
test+=(python3-jsonschema)

want=("${build[@]}")
for extra in "$@"; do
  case "$extra" in
    test) want+=("${test[@]}") ;;
    bench) want+=("${bench[@]}") ;;
    *) echo "usage: $0 [test] [bench]" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# The browser tests need npm: Debian's package, unless a nodejs that bundles it (NodeSource's,
# which conflicts with Debian's npm) is installed already.
if [[ " ${want[*]} " == *" nodejs "* ]] && ! command -v npm >/dev/null; then
  missing+=(npm)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
