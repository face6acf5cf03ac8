"""`import runtime` must stay cheap: only the standard library, and not even json or re."""

import subprocess
import sys

import pytest

HEAVY = ["boto3", "botocore", "aws_cdk", "cryptography", "pyrage", "yaml", "stacks", "local", "jsii"]
# with the catalog cache warm, even these stay unloaded: each costs milliseconds at start-up
SLOW_STDLIB = ["json", "re", "typing", "dataclasses", "argparse", "difflib", "threading"]

# The Legacy-model warning is silenced: printing a warning reads the caller's source line
# (linecache -> tokenize -> re), a once-per-process cost of the warning path, not of the calls.
PROBE = """
import sys, warnings, runtime
warnings.simplefilter("ignore", FutureWarning)
runtime.resolve_model("claude-large")
runtime.portkey_headers("claude-sonnet-4.5", runtime.Credentials("AKIAIOSFODNN7EXAMPLE", "x" * 40))
runtime.portkey_config(["claude-large", "claude-sonnet-4.5"], runtime.Credentials("AKIAIOSFODNN7EXAMPLE", "x" * 40))
print(" ".join(sorted(sys.modules)))
"""


@pytest.fixture(scope="module")
def loaded_modules() -> set[str]:
    # run twice: the first run may write the catalog cache, the second shows the warm path
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", PROBE],
            capture_output=True,
            text=True,
            check=True,
            env={"PATH": "/usr/bin"},
        )
    return set(done.stdout.split())


@pytest.mark.parametrize("module", HEAVY + SLOW_STDLIB)
def test_heavy_module_not_loaded(loaded_modules, module):
    assert module not in loaded_modules


def test_runtime_itself_is_loaded(loaded_modules):
    # proves the probe ran the code it claims (a test that could not fail would be useless)
    assert {"runtime", "runtime.catalog.model", "runtime.catalog.resolve"} <= loaded_modules


def test_only_standard_library_modules():
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE + "\nimport sys\nprint([m for m in sys.modules if m.split('.')[0] not in "
            "sys.stdlib_module_names and m.split('.')[0] not in ('runtime', '__main__', '_distutils_hack')])",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"


def _imports(path):
    import ast

    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node, node.module


def _runtime_sources():
    from pathlib import Path

    import runtime

    return sorted(Path(runtime.__file__).parent.rglob("*.py"))


def test_runtime_never_imports_cdk_stacks_or_local_anywhere():
    forbidden = {"aws_cdk", "constructs", "cdk_nag", "stacks", "local", "jsii"}
    found = [
        f"{path.name}:{node.lineno} {name}"
        for path in _runtime_sources()
        for node, name in _imports(path)
        if name.split(".")[0] in forbidden
    ]
    assert found == []


def test_runtime_module_level_imports_are_standard_library_only():
    import ast

    offenders = []
    for path in _runtime_sources():
        tree = ast.parse(path.read_text())
        for node in tree.body:  # module level only: third-party imports must be inside functions
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "runtime" and top != "__future__":
                    offenders.append(f"{path.name}:{node.lineno} {name}")
    assert offenders == []
