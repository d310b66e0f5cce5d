"""The package's import graph has no cycle, lazy imports inside functions included.

A cycle that only works because one side imports lazily is still a cycle: it
breaks as soon as someone moves the import to the top of the file, and it means
two modules each need the other. Edges are read from the source with ``ast``
(nothing is imported), resolved to the module actually named: ``from . import
x`` points at ``x`` when ``x`` is a module, ``from .pkg import name`` at
``pkg.name`` when that is a module and at ``pkg`` otherwise.
"""

from __future__ import annotations

import ast
from pathlib import Path

from helpers import REPO_ROOT

PACKAGE = "gridanim"


def _modules() -> dict[str, Path]:
    root = REPO_ROOT / PACKAGE
    mods = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = path
    return mods


def _resolve(current: str, is_pkg: bool, level: int, module: str | None) -> str:
    base = current.split(".")
    if level:
        base = base if is_pkg else base[:-1]
        base = base[: len(base) - (level - 1)]
        return ".".join(base + (module.split(".") if module else []))
    return module or ""


def import_graph() -> dict[str, set[str]]:
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(name, is_pkg, node.level, node.module)
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    targets.append(sub if sub in mods else target)
            for t in targets:
                # the nearest enclosing module of ours (``gridanim.layout.x`` -> ``gridanim.layout``)
                while t and t not in mods:
                    t = t.rpartition(".")[0]
                if t and t != name and t != PACKAGE:
                    graph[name].add(t)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path ``[a, b, ..., a]``, or None."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_sees_lazy_and_relative_imports():
    graph = import_graph()
    # __main__ imports the CLI lazily-or-not; the walker must see that edge
    assert any(t.startswith(f"{PACKAGE}.cli") for t in graph[f"{PACKAGE}.__main__"])
    assert len(graph) > 10


def test_gridanim_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)
