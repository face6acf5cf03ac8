"""Dependencies: compatible ranges for library users, exact versions for dev and CI."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[3]
PINNED_TOOLS = {"ruff", "mypy"}  # lint must not drift


def _extras() -> dict[str, list[Requirement]]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return {
        extra: [Requirement(r) for r in reqs if not r.startswith("portkey-bedrock-access")]
        for extra, reqs in data["project"]["optional-dependencies"].items()
    }


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, pinned = line.partition("==")
            assert pinned, f"constraints.txt line {line!r} is not name==version"
            pins[name.lower().replace("_", "-")] = pinned
    return pins


def test_extras_use_compatible_ranges_and_only_the_linters_are_exact():
    for extra, reqs in _extras().items():
        for req in reqs:
            operators = {spec.operator for spec in req.specifier}
            if req.name in PINNED_TOOLS:
                assert operators == {"=="}, req
            else:
                assert "==" not in operators and "<" in operators and ">=" in operators, (extra, str(req))


def test_constraints_pin_every_extra_within_its_range_and_the_linters_alike():
    pins = _constraints()
    for reqs in _extras().values():
        for req in reqs:
            name = req.name.lower().replace("_", "-")
            assert name in pins, f"{req.name} is missing from constraints.txt"
            assert req.specifier.contains(pins[name], prereleases=True), (str(req), pins[name])
    assert "portkey-bedrock-access" not in pins


def test_httpx_is_declared_where_it_is_used():
    assert "import httpx" in (REPO / "runtime" / "gateway" / "client.py").read_text(encoding="utf-8")
    assert [str(r) for r in _extras()["client"]] == ["httpx<1,>=0.27"]


def test_make_installs_from_the_constraints():
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'" in makefile
