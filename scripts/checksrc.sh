#!/usr/bin/env bash
# The style check, after curl's checksrc: banned calls, clang-format and a size budget.
#
#   scripts/checksrc.sh [--banned] [--format] [--size] [-C DIR]
#
# --banned  no call to sprintf strcpy strcat strncpy strtok atoi atol sscanf gets system
#           popen rand in src/, tests/unit/ and fuzz/ (a name followed by "(", outside
#           comments, strings and character constants; a struct member's call is not one)
# --format  clang-format --dry-run -Werror over src/ and tests/unit/ (.c and .h)
# --size    no file under src/ longer than 800 lines
# Without a check option all three run. -C DIR checks the tree at DIR (default: this
# repository). Exits 1 when a check fails, after running every selected check.
set -uo pipefail

MAX_LINES=800
root="$(cd "$(dirname "$0")/.." && pwd)"
banned=0 format=0 size=0
while [ $# -gt 0 ]; do
    case "$1" in
    --banned) banned=1 ;;
    --format) format=1 ;;
    --size) size=1 ;;
    -C)
        [ $# -ge 2 ] || { echo "checksrc: -C needs a directory" >&2; exit 2; }
        root="$2"
        shift
        ;;
    -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "checksrc: unknown option $1 (--banned, --format, --size, -C DIR)" >&2; exit 2 ;;
    esac
    shift
done
if [ $((banned + format + size)) -eq 0 ]; then
    banned=1 format=1 size=1
fi
cd "$root" || exit 2

# The C files of the given folders that exist, one per line, sorted.
sources() {
    local dirs=() d
    for d in "$@"; do
        [ -d "$d" ] && dirs+=("$d")
    done
    [ ${#dirs[@]} -gt 0 ] || return 0
    find "${dirs[@]}" -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort
}

status=0

if [ $banned -eq 1 ]; then
    # Comments, strings and character constants are blanked (newlines kept, so line
    # numbers hold) before the names are looked for.
    if ! sources src tests/unit fuzz | python3 -c '
import re, sys
BANNED = "sprintf strcpy strcat strncpy strtok atoi atol sscanf gets system popen rand".split()
CALL = re.compile(r"(?<![\w.])(?<!->)(" + "|".join(BANNED) + r")\s*\(")
LEXEME = re.compile(r"/\*.*?\*/|//[^\n]*|\"(?:\\.|[^\"\\\n])*\"|\x27(?:\\.|[^\x27\\\n])*\x27", re.S)
def blank(m):
    return re.sub(r"[^\n]", " ", m.group(0))
found = 0
for path in sys.stdin.read().split():
    with open(path, encoding="utf-8", errors="replace") as f:
        code = LEXEME.sub(blank, f.read())
    for n, line in enumerate(code.split("\n"), 1):
        for m in CALL.finditer(line):
            print(f"{path}:{n}: banned call {m.group(1)}()")
            found += 1
sys.exit(1 if found else 0)
'; then
        echo "checksrc: banned calls found (use snprintf, memcpy with a length, strtol...)" >&2
        status=1
    fi
fi

if [ $format -eq 1 ]; then
    files=$(sources src tests/unit)
    # shellcheck disable=SC2086 # one file per word: paths have no blanks
    if [ -n "$files" ] && ! clang-format --dry-run -Werror $files; then
        echo "checksrc: clang-format would change the files above (make format)" >&2
        status=1
    fi
fi

if [ $size -eq 1 ]; then
    over=0
    while IFS= read -r f; do
        n=$(wc -l < "$f")
        if [ "$n" -gt $MAX_LINES ]; then
            echo "$f: $n lines, over the budget of $MAX_LINES"
            over=1
        fi
    done < <(sources src)
    if [ $over -eq 1 ]; then
        echo "checksrc: files over $MAX_LINES lines: split them by job" >&2
        status=1
    fi
fi

exit $status
