"""The import graph of each crate in the workspace, module by module.

Nodes are a crate's top-level modules (`src/<name>.rs` or `src/<name>/`); an
edge a -> b means some file under a names `crate::b` (directly, through a
`use crate::{..}` group, or through an item `lib.rs` re-exports from b).
Prints a Mermaid graph per crate and exits 1 when any crate has a loop, so
docs/architecture.md's picture can be regenerated and checked.

Usage: python3 dev/lib/import_graph.py [--check] [CRATE_DIR...]
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_CRATES = ["libs/*", "services/*", "tools/*", "tests/e2e"]

CRATE_PATH = re.compile(r"\bcrate::(\{[^;]*?\}|[A-Za-z_][A-Za-z0-9_]*)", re.S)
PUB_USE = re.compile(r"pub(?:\([^)]*\))?\s+use\s+([a-z_][a-z0-9_]*)::(\{[^;]*?\}|[A-Za-z_][A-Za-z0-9_]*)\s*;", re.S)
COMMENT = re.compile(r"//[^\n]*")
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def modules(src: pathlib.Path) -> dict[str, list[pathlib.Path]]:
    """Each top-level module and the files that make it up."""
    found = {}
    for path in sorted(src.iterdir()):
        if path.suffix == ".rs" and path.stem not in ("lib", "main"):
            found.setdefault(path.stem, []).append(path)
        elif path.is_dir() and path.name != "bin":
            found.setdefault(path.name, []).extend(sorted(path.rglob("*.rs")))
    return found


def top_names(group: str) -> list[str]:
    """The first segment of each path in `{a::b, c}` or of a single name."""
    if not group.startswith("{"):
        return [group]
    names, depth, current = [], 0, ""
    for char in group[1:-1]:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "," and depth == 0:
            names.append(current)
            current = ""
            continue
        current += char
    names.append(current)
    return [m.group(0) for n in names if (m := IDENT.search(n.strip()))]


def reexports(lib: pathlib.Path, mods: set[str]) -> dict[str, str]:
    """Names lib.rs re-exports from one of its modules: name -> module."""
    owners = {}
    if not lib.exists():
        return owners
    text = COMMENT.sub("", lib.read_text())
    for module, group in PUB_USE.findall(text):
        if module in mods:
            for name in top_names(group):
                owners[name] = module
    return owners


def graph(crate: pathlib.Path) -> dict[str, set[str]]:
    src = crate / "src"
    mods = modules(src)
    owners = reexports(src / "lib.rs", set(mods))
    edges = {name: set() for name in mods}
    for name, files in mods.items():
        for path in files:
            text = COMMENT.sub("", path.read_text())
            # A top-level file's `super::` is the crate root.
            if path.parent == src:
                text = text.replace("super::", "crate::")
            for group in CRATE_PATH.findall(text):
                for target in top_names(group):
                    target = owners.get(target, target)
                    if target in mods and target != name:
                        edges[name].add(target)
    return edges


def loops(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def main(argv: list[str]) -> int:
    check = "--check" in argv
    dirs = [a for a in argv if not a.startswith("--")]
    crates = [ROOT / d for d in dirs] if dirs else sorted(
        p for pattern in DEFAULT_CRATES for p in ROOT.glob(pattern) if (p / "src").is_dir()
    )
    failed = False
    for crate in crates:
        edges = graph(crate)
        cycles = loops(edges)
        failed |= bool(cycles)
        if check:
            for cycle in cycles:
                print(f"{crate.relative_to(ROOT)}: import loop among {', '.join(cycle)}")
            continue
        print(f"#### {crate.relative_to(ROOT)}\n\n```mermaid\nflowchart LR")
        for source in sorted(edges):
            for target in sorted(edges[source]):
                print(f"  {source} --> {target}")
            if not edges[source]:
                print(f"  {source}")
        print("```\n")
        for cycle in cycles:
            print(f"Loop: {', '.join(cycle)}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
