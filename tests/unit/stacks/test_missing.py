"""stacks/missing.py: a missing optional dependency is one line naming the extra (issue 18, item 8)."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
# the wheel installed without the `cdk` extra, simulated: aws_cdk cannot be imported
WITHOUT_CDK = (
    "import runpy, sys; sys.modules['aws_cdk'] = None; sys.argv = ['x']; runpy.run_module({!r}, run_name='__main__')"
)


@pytest.mark.parametrize("module", ["stacks.synth"])
def test_python_m_stacks_without_aws_cdk_names_the_cdk_extra(module):
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_CDK.format(module)], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        "error: aws_cdk is not installed; pip install 'portkey-bedrock-access[cdk]' (the CDK app needs it)\n"
    )


def test_another_missing_module_is_not_hidden():
    from stacks.missing import run_main

    def broken() -> int:
        import nonexistent_module_xyz  # noqa: F401

        return 0

    with pytest.raises(ModuleNotFoundError):
        run_main(broken)
