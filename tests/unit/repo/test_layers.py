"""Layers: ``runtime`` <- ``stacks`` <- ``local``. A module never imports a higher layer, neither at
module level nor inside a function or an ``if TYPE_CHECKING:`` block."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
LAYERS = ("runtime", "stacks", "local")  # each may import only itself and the ones before it


def upward_imports(package: str, source: str) -> list[str]:
    """``"line name"`` for each import in `source` (a module of `package`) of a higher layer."""
    higher = set(LAYERS[LAYERS.index(package) + 1 :])
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [f"{node.lineno} {name}" for name in names if name.split(".")[0] in higher]
    return found


@pytest.mark.parametrize(
    ("package", "source", "expected"),
    [
        ("stacks", "from local.aws import LocalAws\n", ["1 local.aws"]),
        ("stacks", "def f():\n    import local.gateway as g\n", ["2 local.gateway"]),
        ("stacks", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from local import aws\n", ["3 local"]),
        ("runtime", "def f():\n    from stacks.deploy import deploy\n", ["2 stacks.deploy"]),
        ("runtime", "import json, local.load\n", ["1 local.load"]),
        ("stacks", "from runtime.constants import DEFAULT_REGION\nfrom stacks import deploy\n", []),
        ("local", "from stacks.deploy import deploy\nfrom runtime import resolve_model\n", []),
        ("stacks", "from .deploy import deploy\nimport localstack\n", []),  # relative; a name that only starts so
    ],
)
def test_upward_imports_are_found(package, source, expected):
    assert upward_imports(package, source) == expected


@pytest.mark.parametrize("package", LAYERS[:-1])
def test_no_module_imports_a_higher_layer(package):
    sources = sorted((REPO_ROOT / package).rglob("*.py"))
    assert len(sources) > 5  # the scan reads the real tree
    found = [
        f"{path.relative_to(REPO_ROOT)}:{hit}"
        for path in sources
        for hit in upward_imports(package, path.read_text(encoding="utf-8"))
    ]
    assert found == []
