#!/usr/bin/env bash
# Tests of scripts/checksrc.sh: each check passes on a clean tree and fails on a planted
# fault; a banned name inside a comment, a string, a character constant, a longer name or
# a struct member's call does not count. Runs on small trees in a temporary directory.
set -uo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
check="$repo/scripts/checksrc.sh"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0

# expect STATUS NAME [checksrc arguments...]: runs the check on $tmp/tree.
expect() {
    local want="$1" name="$2"
    shift 2
    local out got
    out="$("$check" -C "$tmp/tree" "$@" 2>&1)"
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL $name: exit $got, expected $want"
        printf '%s\n' "$out" | sed 's/^/    /'
        failures=$((failures + 1))
    else
        echo "ok   $name"
    fi
    LAST_OUTPUT="$out"
}

# A fresh tree: the repository's .clang-format and one clean, formatted file per folder.
fresh_tree() {
    rm -rf "$tmp/tree"
    mkdir -p "$tmp/tree/src/core" "$tmp/tree/tests/unit" "$tmp/tree/fuzz"
    cp "$repo/.clang-format" "$tmp/tree/"
    printf '#include <stdio.h>\n\nint gh_ok(char *buf, size_t n)\n{\n    return snprintf(buf, n, "%%d", 1);\n}\n' \
        > "$tmp/tree/src/core/ok.c"
    cp "$tmp/tree/src/core/ok.c" "$tmp/tree/tests/unit/test_ok.c"
    cp "$tmp/tree/src/core/ok.c" "$tmp/tree/fuzz/fuzz_ok.c"
}

fresh_tree
expect 0 "clean tree passes every check"

# --banned
fresh_tree
cat > "$tmp/tree/src/core/planted.c" <<'C'
#include <stdio.h>

void gh_planted(char *buf)
{
    sprintf(buf, "%d", 1);
}
C
expect 1 "a planted sprintf call fails" --banned
case "$LAST_OUTPUT" in
*"src/core/planted.c:5: banned call sprintf()"*) echo "ok   the failure names file and line" ;;
*) echo "FAIL the failure names file and line: $LAST_OUTPUT"; failures=$((failures + 1)) ;;
esac

fresh_tree
printf 'int gh_f(void);\nint gh_f(void)\n{\n    return atoi ("7");\n}\n' > "$tmp/tree/fuzz/fuzz_x.c"
expect 1 "a call with a blank before ( fails, in fuzz/" --banned

fresh_tree
printf 'int gh_f(void);\nint gh_f(void)\n{\n    return rand();\n}\n' > "$tmp/tree/tests/unit/test_x.c"
expect 1 "a call in tests/unit fails" --banned

fresh_tree
cat > "$tmp/tree/src/core/quiet.c" <<'C'
#include <stdio.h>
#include <string.h>

struct gen {
    int (*rand)(void);
};

/* Never sprintf(buf, ...) or strcpy(a, b): see STYLE.md. */
int gh_quiet(struct gen *g, char *buf, size_t n)
{
    const char *msg = "do not call system(\"sh\") or gets(s)"; // nor popen(cmd)
    char q = '"';
    (void)q;
    snprintf(buf, n, "%s", msg);
    return g->rand() + strlen("strtok(") > 0 ? (*g).rand() : 0; /* atoi(
                                                                    sscanf( */
}
C
expect 0 "names in comments, strings, members and longer names do not count" --banned

# The repository's own sources: clean of banned calls, until one is planted in a copy.
rm -rf "$tmp/tree"
mkdir -p "$tmp/tree/tests"
cp -r "$repo/src" "$repo/fuzz" "$tmp/tree/"
cp -r "$repo/tests/unit" "$tmp/tree/tests/"
expect 0 "a copy of the repository has no banned call" --banned
printf 'void gh_planted(char *d);\nvoid gh_planted(char *d)\n{\n    strcpy(d, "x");\n}\n' \
    >> "$tmp/tree/src/core/buf.c"
expect 1 "a strcpy planted in the copy fails" --banned

# --size
fresh_tree
for i in $(seq 800); do echo "/* $i */"; done > "$tmp/tree/src/core/long.c"
expect 0 "800 lines are within the budget" --size
echo "/* 801 */" >> "$tmp/tree/src/core/long.c"
expect 1 "801 lines are over the budget" --size
for i in $(seq 900); do echo "/* $i */"; done > "$tmp/tree/tests/unit/test_long.c"
rm "$tmp/tree/src/core/long.c"
expect 0 "the budget is for src/ only" --size

# --format
fresh_tree
printf 'int gh_bad( int x ){return x;}\n' > "$tmp/tree/src/core/bad.c"
expect 1 "a badly formatted file fails" --format
expect 0 "--banned alone ignores the format" --banned
expect 1 "without an option every check runs"

if [ "$failures" -ne 0 ]; then
    echo "$failures checksrc test(s) failed"
    exit 1
fi
echo "all checksrc tests passed"
