#!/usr/bin/env bash
# Checks the #include "..." graph of src/ against the layer order of docs/ARCHITECTURE.md
# (its "Layer order:", "Leaf folders:" and "Pending exceptions:" lines are the one source
# of truth): no include may point up the order or sideways between two folders of one
# rank, a leaf folder may include only itself and core/, and no two modules (a .c/.h pair)
# may depend on each other, directly or through others. A pending exception (an edge being
# removed by work in progress) is allowed while it exists and is an error once it is gone,
# so that its line is deleted. Exit 0 when the graph holds, 1 naming each offending edge
# or cycle.
#
#   scripts/check-layers.sh [SRC_DIR [ARCHITECTURE_MD]]
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 - "${1:-src}" "${2:-docs/ARCHITECTURE.md}" <<'PY'
import os
import re
import sys

src, doc = sys.argv[1], sys.argv[2]


def doc_line(label, required=True):
    """The backquoted texts of the doc line that starts with label."""
    with open(doc, encoding="utf-8") as f:
        for line in f:
            if line.startswith(label):
                found = re.findall(r"`([^`]+)`", line)
                if found:
                    return found
    if required:
        sys.exit(f"check-layers: {doc}: no line starting with '{label}' and a `...` value")
    return []


# "cli -> api/web -> ... -> core": ranks top to bottom; a rank may hold several folders.
ranks = [r.strip().split("/") for r in doc_line("Layer order:")[0].split("->")]
rank = {folder.strip(): i for i, r in enumerate(ranks) for folder in r}
bottom = ranks[-1][0].strip()
leaves = set(" ".join(doc_line("Leaf folders:")).replace(",", " ").split())
pending = {tuple(e.replace(" ", "").split("->")) for e in doc_line("Pending exceptions:", False)}

include = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
edges = []  # (from file, to file), both relative to src
for root, _, files in os.walk(src):
    for name in sorted(files):
        if not name.endswith((".c", ".h")):
            continue
        path = os.path.relpath(os.path.join(root, name), src)
        with open(os.path.join(src, path), encoding="utf-8", errors="replace") as f:
            for line in f:
                m = include.match(line)
                if m and os.path.isfile(os.path.join(src, m.group(1))):
                    edges.append((path, os.path.normpath(m.group(1))))

bad = []
for gone in sorted(pending - set(edges)):
    bad.append(f"{gone[0]} -> {gone[1]}: a pending exception that no longer exists (delete it "
               f"from {doc})")
for a, b in edges:
    if (a, b) in pending:
        continue
    fa, fb = a.split("/")[0], b.split("/")[0]
    for f in (fa, fb):
        if f not in rank:
            bad.append(f"{a} -> {b}: folder {f}/ is not in the layer order")
    if fa == fb or fa not in rank or fb not in rank:
        continue
    if fa in leaves and fb != bottom:
        bad.append(f"{a} -> {b}: {fa}/ is a leaf folder (it may include only {bottom}/)")
    elif rank[fb] < rank[fa]:
        bad.append(f"{a} -> {b}: points up the layer order ({fa} is below {fb})")
    elif rank[fb] == rank[fa]:
        bad.append(f"{a} -> {b}: {fa}/ and {fb}/ share a rank and may not include each other")


def cycles(graph):
    """One cycle per strongly connected component of more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(path_in(graph, set(comp), min(comp)))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def path_in(graph, comp, start):
    """A shortest cycle through start inside comp, as a list of nodes."""
    prev, queue = {start: None}, [start]
    for v in queue:
        for w in sorted(graph.get(v, ())):
            if w == start:
                p = [v]
                while prev[p[-1]] is not None:
                    p.append(prev[p[-1]])
                return p[::-1] + [start]
            if w in comp and w not in prev:
                prev[w] = v
                queue.append(w)
    return [start, start]


def module(path):
    return os.path.splitext(path)[0]


files, folders = {}, {}
for a, b in edges:
    if (a, b) in pending:
        continue
    if module(a) != module(b):
        files.setdefault(module(a), set()).add(module(b))
    if a.split("/")[0] != b.split("/")[0]:
        folders.setdefault(a.split("/")[0], set()).add(b.split("/")[0])
for c in cycles(files):
    bad.append("module cycle: " + " -> ".join(c))
for c in cycles(folders):
    bad.append("folder cycle: " + " -> ".join(c))

if bad:
    for line in bad:
        print(f"check-layers: {line}", file=sys.stderr)
    sys.exit(1)
order = " -> ".join("/".join(r) for r in ranks)
print(f"check-layers: {len(edges)} includes in {src}/ follow {order}; no cycles")
for a, b in sorted(pending):
    print(f"check-layers: pending exception: {a} -> {b}")
PY
