"""`runtime` stays easy to find one's way in: a few top-level modules, the rest grouped by concern
into subpackages, and no import cycles (module level: what runs on import; imports inside functions
and under ``if TYPE_CHECKING:`` are not followed). ``local`` and ``stacks`` keep no cycles either."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
MAX_TOP_LEVEL_MODULES = 12


def module_name(root: Path, path: Path) -> str:
    """``runtime/catalog/model.py`` -> ``runtime.catalog.model``; a package's ``__init__`` is the package.

    >>> module_name(Path("/r"), Path("/r/runtime/catalog/__init__.py"))
    'runtime.catalog'
    """
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If):
            if not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
                pending += [*node.body, *node.orelse]
        elif isinstance(node, ast.Try):
            pending += [*node.body, *node.orelse, *node.finalbody, *(s for h in node.handlers for s in h.body)]
        elif isinstance(node, ast.With):
            pending += node.body
    return found


def import_graph(sources: dict[str, str], packages: set[str]) -> dict[str, set[str]]:
    """module -> the modules of `sources` it imports at module level (`packages`: which are packages)."""
    graph: dict[str, set[str]] = {name: set() for name in sources}
    for name, source in sources.items():
        for node in _module_level_imports(ast.parse(source)):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    here = name if name in packages else name.rpartition(".")[0]
                    for _ in range(node.level - 1):
                        here = here.rpartition(".")[0]
                    base = f"{here}.{base}" if base else here
                # `from pkg import sub` imports the submodule; `from mod import name` the module
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in sources else base for a in node.names]
            graph[name] |= {t for t in targets if t in sources and t != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as ``[a, b, …, a]``, or ``[]``.

    >>> find_cycle({"a": {"b"}, "b": {"c"}, "c": set()})
    []
    >>> find_cycle({"a": {"b"}, "b": {"a"}})
    ['a', 'b', 'a']
    """
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return []


def package_sources(package: str) -> tuple[dict[str, str], set[str]]:
    paths = sorted((REPO / package).rglob("*.py"))
    sources = {module_name(REPO, p): p.read_text(encoding="utf-8") for p in paths}
    packages = {module_name(REPO, p) for p in paths if p.name == "__init__.py"}
    return sources, packages


@pytest.mark.parametrize(
    ("sources", "cycle"),
    [
        ({"p.a": "from p.b import x\n", "p.b": "import p.a\n"}, ["p.a", "p.b", "p.a"]),
        ({"p": "", "p.a": "from p import b\n", "p.b": "from . import a\n"}, ["p.a", "p.b", "p.a"]),
        ({"p.a": "from p.b import x\n", "p.b": "def f():\n    import p.a\n"}, []),  # inside a function
        ({"p.a": "import p.b\n", "p.b": "TYPE_CHECKING = False\nif TYPE_CHECKING:\n    import p.a\n"}, []),
        (
            {"p.a": "import p.b\n", "p.b": "try:\n    import p.a\nexcept ImportError:\n    pass\n"},
            ["p.a", "p.b", "p.a"],
        ),
    ],
)
def test_cycles_are_found(sources, cycle):
    assert find_cycle(import_graph(sources, {"p"})) == cycle


@pytest.mark.parametrize("package", ["runtime", "stacks", "local"])
def test_no_import_cycles(package):
    sources, packages = package_sources(package)
    graph = import_graph(sources, packages)
    assert sum(len(edges) for edges in graph.values()) > 20  # the scan reads the real tree
    assert find_cycle(graph) == []


def test_the_two_old_circles_stay_broken():
    runtime = import_graph(*package_sources("runtime"))
    assert "runtime.catalog.model" not in runtime["runtime.catalog.rules"]
    assert "runtime.catalog.terms" in runtime["runtime.catalog.rules"]
    local = import_graph(*package_sources("local"))
    assert "local.aws" not in local["local.gateway"]
    assert "local.paths" in local["local.gateway"]


def test_runtime_has_few_top_level_modules_and_groups_the_rest():
    top = sorted(p.name for p in (REPO / "runtime").glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top
    for package in ("catalog", "gateway", "credentials", "cli", "sops"):
        assert (REPO / "runtime" / package / "__init__.py").is_file(), package
    for data in ("catalog.json", "catalog.schema.json", "overlay.schema.json"):  # the data beside its code
        assert (REPO / "runtime" / "catalog" / data).is_file(), data
