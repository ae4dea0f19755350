#!/usr/bin/env bash
# scripts/check-layers.sh passes on the real tree and fails, naming the edge, on a copy of
# src/ with one planted fault each: an upward include, a two-module cycle, a leaf folder
# that includes a service, a sideways include between folders of one rank (in a doc copy
# that ranks two folders together).
set -euo pipefail
cd "$(dirname "$0")/../.."
check=scripts/check-layers.sh
doc=docs/ARCHITECTURE.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

pass() { echo "ok: $1"; }
fail() { echo "FAIL: $1"; failures=$((failures + 1)); }

# expect_fault NAME FILE LINE MESSAGE: plants LINE at the top of FILE in a fresh copy of src/
# and expects the check to fail with MESSAGE on stderr.
expect_fault() {
    local name=$1 file=$2 line=$3 message=$4 out
    rm -rf "$tmp/src" && cp -r src "$tmp/src"
    printf '%s\n' "$line" | cat - "src/$file" > "$tmp/src/$file"
    if out=$("$check" "$tmp/src" "$doc" 2>&1); then
        fail "$name: the check passed"
    elif ! grep -qF -- "$message" <<<"$out"; then
        fail "$name: expected \"$message\" in: $out"
    else
        pass "$name"
    fi
}

if out=$("$check" 2>&1); then pass "the real tree"; else fail "the real tree: $out"; fi

expect_fault "upward include" store/sqlite_schema.c '#include "api/app.h"' \
    'store/sqlite_schema.c -> api/app.h: points up the layer order'
expect_fault "two-module cycle" core/buf.c '#include "core/log.h"' \
    'module cycle: core/buf -> core/log -> core/buf'
expect_fault "leaf folder" config/conf.c '#include "authn/service.h"' \
    'config/conf.c -> authn/service.h: config/ is a leaf folder'
expect_fault "folder cycle" crypto/b64url.c '#include "authn/views.h"' \
    'folder cycle: authn -> crypto -> authn'
expect_fault "core including the top" core/err.c '#include "cli/cli.h"' \
    'core/err.c -> cli/cli.h: points up the layer order'

# expect_new_file NAME FILE TEXT MESSAGE: the same with a new file FILE holding TEXT.
expect_new_file() {
    local name=$1 file=$2 text=$3 message=$4 out
    rm -rf "$tmp/src" && cp -r src "$tmp/src"
    mkdir -p "$(dirname "$tmp/src/$file")" && printf '%s\n' "$text" > "$tmp/src/$file"
    if out=$("$check" "$tmp/src" "$doc" 2>&1); then
        fail "$name: the check passed"
    elif ! grep -qF -- "$message" <<<"$out"; then
        fail "$name: expected \"$message\" in: $out"
    else
        pass "$name"
    fi
}

expect_new_file "a folder outside the order" vault/vault.c '#include "core/err.h"' \
    'folder vault/ is not in the layer order'

# Two folders of one rank may not include each other: a doc copy that ranks api/ and web/
# together, and web/ including api/.
sed 's|^Layer order: `cli -> api -> web -> |Layer order: `cli -> api/web -> |' "$doc" > "$tmp/doc.md"
rm -rf "$tmp/src" && cp -r src "$tmp/src"
printf '%s\n' '#include "api/json.h"' > "$tmp/src/web/sideways.c"
if out=$("$check" "$tmp/src" "$tmp/doc.md" 2>&1) \
    || ! grep -qF 'web/sideways.c -> api/json.h: web/ and api/ share a rank' <<<"$out"; then
    fail "sideways between api/ and web/: $out"
else
    pass "sideways between api/ and web/"
fi

# A pending exception that no longer exists must be deleted from the doc.
sed 's|^Pending exceptions: .*|Pending exceptions: `store/store.h -> audit/audit.h`|' "$doc" > "$tmp/doc.md"
if out=$("$check" src "$tmp/doc.md" 2>&1) || ! grep -qF "no longer exists" <<<"$out"; then
    fail "a stale pending exception: $out"
else
    pass "a stale pending exception"
fi

if [ "$failures" -ne 0 ]; then
    echo "test_check_layers: $failures failed"
    exit 1
fi
echo "test_check_layers: all passed"
