#!/usr/bin/env bash
# Issue 14's figures: field encryption and decryption calls per second for 1 KiB values
# (in the library and over HTTP) against `openssl speed -evp aes-256-gcm` for 1 KiB on the
# same machine, and `gatehouse key rewrap` values per second for N stored vault values.
#   bench/crypto.sh                 (DURATION=10 s per wrk run, N=100000)
#   DURATION=5 N=20000 bench/crypto.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh bench
B=${BUILD:-build}
make -j"$(nproc)" BUILD="$B" "$B/gatehouse" "$B/bench/crypto_cost" >/dev/null

D=${DURATION:-10}
N=${N:-100000}
WORK=$(mktemp -d /tmp/gh-bench-crypto-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
. bench/lib.sh

echo "== openssl speed -evp aes-256-gcm, 1 KiB (one core)"
SSL=$(timeout 60 openssl speed -seconds "$D" -bytes 1024 -evp aes-256-gcm 2>/dev/null |
      awk '/^AES-256-GCM/ { sub(/k$/, "", $2); printf "%.0f", $2 * 1000 / 1024 }')
echo "openssl: $SSL 1-KiB encryptions/s"

echo "== library: gh_field_seal / gh_field_open, 1 KiB (one thread)"
timeout 120 "$B/bench/crypto_cost" field "$WORK/lib" | tee "$WORK/lib.txt"
SEAL=$(awk '/seal/ {print $4}' "$WORK/lib.txt")
OPEN=$(awk '/open/ {print $4}' "$WORK/lib.txt")
echo "seal/openssl $(ratio "$SEAL" "$SSL"), open/openssl $(ratio "$OPEN" "$SSL")"

echo "== HTTP: POST /api/v1/crypto/encrypt and decrypt, 1 KiB, wrk -t1 -c16"
PORT=$(free_port)
export GATEHOUSE_ADMIN_PASSWORD="Bench-Only-Passphrase-1" GATEHOUSE_AUTH_ALGORITHM=ES256 \
  GATEHOUSE_RATE_LIMIT_GLOBAL=0 GATEHOUSE_RATE_LIMIT_AUTH=0 GATEHOUSE_LOG_ACCESS=false \
  GATEHOUSE_PASSWORD_BCRYPT_COST=4 GATEHOUSE_AUTH_ACCESS_TTL=1h
"$B/gatehouse" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/http" \
  > "$WORK/server.log" 2>&1 & SPID=$!; PIDS+=($SPID)
wait_http "http://127.0.0.1:$PORT/healthz"
TOKEN=$(curl -fs -H 'Content-Type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$GATEHOUSE_ADMIN_PASSWORD\"}" \
  "http://127.0.0.1:$PORT/api/v1/auth/login" | /usr/bin/python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')
PT=$(head -c 768 /dev/urandom | base64 -w0 | head -c 1024)
printf '{"plaintext":"%s","field":"bench"}' "$PT" > "$WORK/enc.json"
CT=$(curl -fs -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  --data-binary @"$WORK/enc.json" "http://127.0.0.1:$PORT/api/v1/crypto/encrypt" |
  /usr/bin/python3 -c 'import json,sys;print(json.load(sys.stdin)["ciphertext"])')
printf '{"ciphertext":"%s","field":"bench"}' "$CT" > "$WORK/dec.json"
for op in enc dec; do
  path=$([ $op = enc ] && echo encrypt || echo decrypt)
  GH_TOKEN=$TOKEN GH_BODY="$WORK/$op.json" run_wrk_cpu "$WORK/$op.out" "$SPID" -t1 -c16 --latency \
    -d "${D}s" -s bench/crypto.lua "http://127.0.0.1:$PORT/api/v1/crypto/$path"
  echo "$path: $(rps "$WORK/$op.out") req/s, p99 $(p99 "$WORK/$op.out"), non-2xx $(non2xx "$WORK/$op.out"), $(per_cpu "$WORK/$op.out") per server CPU-s; req/s / openssl $(ratio "$(rps "$WORK/$op.out")" "$SSL")"
done
kill "$SPID"; wait "$SPID" 2>/dev/null || true

echo "== gatehouse key rewrap, $N vault values (64 bytes each)"
unset GATEHOUSE_MASTER_KEY
timeout 1200 "$B/bench/crypto_cost" seed "$WORK/rewrap" "$N"
"$B/gatehouse" key rotate --data-dir "$WORK/rewrap" >/dev/null
T0=$(date +%s.%N)
timeout 1200 "$B/gatehouse" key rewrap --batch 1000 --data-dir "$WORK/rewrap" 2>/dev/null
T1=$(date +%s.%N)
awk -v n="$N" -v a="$T0" -v b="$T1" 'BEGIN { printf "rewrap: %d values in %.1f s = %.0f values/s\n", n, b - a, n / (b - a) }'
