#!/usr/bin/env python3
"""Fails when a module of a crate imports one that imports it back (directly
or around a longer circle): the architecture issue's rule. Reads `crate::`
and `super::` paths outside comments, for every crate in crates/.

    python3 scripts/import-cycles.py      (from the workspace root)
"""
import glob
import os
import re
import sys


def graph(src):
    mods = {}
    for p in glob.glob(os.path.join(src, "**/*.rs"), recursive=True):
        rel = os.path.relpath(p, src)[:-3]
        m = rel.replace(os.sep + "mod", "").replace(os.sep, "::")
        if m in ("main", "lib"):
            m = "crate"
        text = open(p, encoding="utf-8").read()
        mods[m] = "\n".join(l for l in text.split("\n") if not l.strip().startswith("//"))
    edges = {}
    for m, s in mods.items():
        deps = set()
        for x in re.findall(r"crate::([a-z_0-9]+(?:::[a-z_0-9]+)*)", s):
            parts = x.split("::")
            for k in range(len(parts), 0, -1):
                cand = "::".join(parts[:k])
                if cand in mods:
                    deps.add(cand)
                    break
        parent = "::".join(m.split("::")[:-1]) if "::" in m else "crate"
        for x in re.findall(r"\bsuper::([a-z_0-9]+)", s):
            cand = x if parent == "crate" else parent + "::" + x
            deps.add(cand if cand in mods else parent)
        deps.discard(m)
        edges[m] = deps
    return edges


def cycles(edges):
    color, found = {}, []

    def dfs(u, stack):
        color[u] = 1
        stack.append(u)
        for v in sorted(edges.get(u, ())):
            if color.get(v) == 1:
                found.append(" -> ".join(stack[stack.index(v):] + [v]))
            elif not color.get(v):
                dfs(v, stack)
        stack.pop()
        color[u] = 2

    for u in sorted(edges):
        if not color.get(u):
            dfs(u, [])
    return found


bad = 0
for src in sorted(glob.glob("crates/*/src")):
    for c in cycles(graph(src)):
        print(f"{src}: {c}")
        bad += 1
print(f"import circles: {bad}")
sys.exit(1 if bad else 0)
