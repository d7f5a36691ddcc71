"""The core's shape (issue 17): no import cycles, SQL only in the store, no oversized modules.

The import graph includes imports inside functions, so a cycle cannot hide behind a
function-level import.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tray_app"
MAX_LINES = 400
LARGE_ALLOWED = {"demo/synth.py"}  # the generator: one long description of anatomy
SQL = re.compile(
    r"^\s*(SELECT\b[\s\S]*\bFROM\b|INSERT\s+(OR\s+\w+\s+)?INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b"
    r"|WITH\s+\w+|REPLACE\s+INTO\b|PRAGMA\b|CREATE\s+(TABLE|INDEX|TRIGGER|VIEW)\b|BEGIN\b|SAVEPOINT\b)"
)


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _resolve(module: str, level: int, current: str, is_package: bool) -> str:
    if not level:
        return module
    base = current.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(node.module or "", node.level, name, is_package)
                targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
            for target in targets:
                # `from pkg import mod` names a module; `from mod import func` names the module
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
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
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def sql_outside_store() -> list[str]:
    hits = {}
    for name, path in _modules().items():
        if name == "tray_app.store" or name.startswith("tray_app.store."):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            text = None
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
            elif isinstance(node, ast.JoinedStr):
                text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            if text and SQL.match(text):
                where = f"{path.relative_to(PACKAGE).as_posix()}:{node.lineno}"
                hits.setdefault(where, f"{where}: {' '.join(text.split())[:70]}")
    return sorted(hits.values())


def test_no_import_cycles():
    cycles = strongly_connected(import_graph())
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_no_sql_outside_the_store():
    hits = sql_outside_store()
    assert not hits, f"{len(hits)} SQL statements outside tray_app/store/:\n" + "\n".join(hits)


def test_no_oversized_modules():
    big = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES and rel not in LARGE_ALLOWED:
            big.append(f"{rel}: {lines} lines")
    assert not big, "modules over 400 lines:\n" + "\n".join(big)


def test_the_cycle_finder_finds_a_function_level_cycle(tmp_path):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize("text, is_sql", [
    ("SELECT id FROM images WHERE sha256=?", True),
    ("UPDATE outbox SET state=? WHERE id=?", True),
    ("INSERT OR IGNORE INTO audit(x) VALUES (?)", True),
    ("Select a study", False),
    ("Delete the old files from the share", False),
])
def test_the_sql_pattern(text, is_sql):
    assert bool(SQL.match(text)) is is_sql
