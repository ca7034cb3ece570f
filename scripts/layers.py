#!/usr/bin/env python3
"""The server's layer rules, checked from its source: which top-level module of
cockpit-server/src names which (`crate::<module>`), and inside each folder which file
names which of its siblings (`super::<file>`, `crate::<folder>::<file>`), then

  1. no module imports the HTTP API (`api`) but the crate root that mounts it;
  2. no two modules import each other, directly or round a circle; nor do two files of
     one folder (its `mod.rs`, which declares them, aside).

Prints the graph's arrows on failure and exits 1. Usage: scripts/layers.py [SRC_DIR]
"""

import re
import sys
from pathlib import Path

src = Path(sys.argv[1] if len(sys.argv) > 1 else "cockpit-server/src")
ROOT = {"lib", "main"}

modules = sorted({p.stem if p.is_file() else p.name for p in src.iterdir() if p.suffix == ".rs" or p.is_dir()} - ROOT)


def module_of(path: Path) -> str:
    rel = path.relative_to(src)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.split("//", 1)[0] for line in text.splitlines())


arrows: dict[str, dict[str, str]] = {m: {} for m in modules}
for path in sorted(src.rglob("*.rs")):
    here = module_of(path)
    if here in ROOT:
        continue
    text = strip_comments(path.read_text())
    named = set(re.findall(r"\bcrate::(\w+)", text))
    for group in re.findall(r"\bcrate::\{([^}]*)\}", text):
        named |= {n.strip().split("::")[0] for n in group.split(",") if n.strip()}
    for other in named:
        if other in arrows and other != here:
            arrows[here].setdefault(other, str(path))

failures = []
for here, targets in arrows.items():
    if here != "api" and "api" in targets:
        failures.append(f"{here} imports the API ({targets['api']}): services answer with their own errors")

def find_circles(graph: dict[str, dict[str, str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one node."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    circles: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in graph:
        if v not in index:
            connect(v)
    return circles


def report(graph: dict[str, dict[str, str]], what: str) -> None:
    for circle in find_circles(graph):
        inside = [f"  {a} -> {b} ({graph[a][b]})" for a in circle for b in graph[a] if b in circle]
        failures.append(f"{what} import each other in a circle: " + ", ".join(circle) + "\n" + "\n".join(inside))


report(arrows, "modules")

# Inside each folder: its files (mod.rs aside).
for folder in sorted(p for p in src.iterdir() if p.is_dir()):
    files = {f.stem: f for f in folder.glob("*.rs") if f.stem != "mod"}
    siblings: dict[str, dict[str, str]] = {name: {} for name in files}
    for name, path in files.items():
        text = strip_comments(path.read_text())
        named = set(re.findall(r"\bsuper::(\w+)", text)) | set(re.findall(rf"\bcrate::{folder.name}::(\w+)", text))
        for group in re.findall(r"\bsuper::\{([^}]*)\}", text):
            named |= {n.strip().split("::")[0] for n in group.split(",") if n.strip()}
        for other in named:
            if other in siblings and other != name:
                siblings[name].setdefault(other, str(path))
    report(siblings, f"files of {folder.name}/")

if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
count = sum(len(t) for t in arrows.values())
print(f"cockpit-server: {len(modules)} modules, {count} arrows, none into the API, no circle")
