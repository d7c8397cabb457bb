"""The import graph of each crate in the workspace, module by module.

Nodes are a crate's top-level modules (`src/<name>.rs` or `src/<name>/`); an
edge a -> b means some file under a names `crate::b` (directly, through a
`use crate::{..}` group, or through an item `lib.rs` re-exports from b).
A file's unit tests (its trailing `#[cfg(test)] mod tests`) are left out:
they are not part of what the code depends on.
Prints a Mermaid graph of the crates and one per crate's modules; --check
exits 1 when any crate has a loop or docs/architecture.md's picture (between
its import-graph markers) is not what this prints; --write rewrites it.

Usage: python3 dev/lib/import_graph.py [--check | --write] [CRATE_DIR...]
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_CRATES = ["libs/*", "services/*", "tools/*", "tests/e2e"]

CRATE_PATH = re.compile(r"\bcrate::(\{[^;]*?\}|[A-Za-z_][A-Za-z0-9_]*)", re.S)
PUB_USE = re.compile(r"pub(?:\([^)]*\))?\s+use\s+([a-z_][a-z0-9_]*)::(\{[^;]*?\}|[A-Za-z_][A-Za-z0-9_]*)\s*;", re.S)
COMMENT = re.compile(r"//[^\n]*")
UNIT_TESTS = re.compile(r"#\[cfg\(test\)\]\s*mod tests\b.*", re.S)
DOC = ROOT / "docs" / "architecture.md"
BEGIN, END = "<!-- import-graph:begin -->", "<!-- import-graph:end -->"
DEPENDENCY = re.compile(r"^(orch-[a-z-]+)(?:\.workspace)?\s*=", re.M)
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
            text = UNIT_TESTS.sub("", COMMENT.sub("", path.read_text()))
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


def crate_graph(crates: list[pathlib.Path]) -> dict[str, set[str]]:
    """Which of our crates each crate depends on (not dev-dependencies)."""
    edges = {}
    for crate in crates:
        manifest = (crate / "Cargo.toml").read_text()
        name = re.search(r'^name\s*=\s*"([^"]+)"', manifest, re.M).group(1)
        normal = re.split(r"^\[(?:dev-|build-)dependencies\]", manifest, flags=re.M)[0]
        edges[name] = set(DEPENDENCY.findall(normal)) - {name}
    return edges


def mermaid(edges: dict[str, set[str]]) -> list[str]:
    lines = ["```mermaid", "flowchart LR"]
    for source in sorted(edges):
        lines += [f"  {source} --> {target}" for target in sorted(edges[source])]
        if not edges[source]:
            lines.append(f"  {source}")
    return lines + ["```", ""]


def picture(crates: list[pathlib.Path]) -> str:
    lines = ["Crates (an arrow: depends on):", ""] + mermaid(crate_graph(crates))
    for crate in crates:
        lines += [f"`{crate.relative_to(ROOT)}` (an arrow: imports from):", ""]
        lines += mermaid(graph(crate))
    return "\n".join(lines)


def documented() -> str | None:
    text = DOC.read_text()
    if BEGIN not in text or END not in text:
        return None
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n")


def main(argv: list[str]) -> int:
    check, write = "--check" in argv, "--write" in argv
    dirs = [a for a in argv if not a.startswith("--")]
    crates = [ROOT / d for d in dirs] if dirs else sorted(
        p for pattern in DEFAULT_CRATES for p in ROOT.glob(pattern) if (p / "src").is_dir()
    )
    failed = False
    for crate in crates:
        for cycle in loops(graph(crate)):
            failed = True
            print(f"{crate.relative_to(ROOT)}: import loop among {', '.join(cycle)}")
    drawn = picture(crates).strip("\n")
    if write:
        text = DOC.read_text()
        head, rest = text.split(BEGIN, 1)
        DOC.write_text(f"{head}{BEGIN}\n{drawn}\n{END}{rest.split(END, 1)[1]}")
    elif check:
        if not dirs and documented() != drawn:
            failed = True
            print(f"{DOC.relative_to(ROOT)}'s import graph is out of date: run python3 dev/lib/import_graph.py --write")
    else:
        print(drawn)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
