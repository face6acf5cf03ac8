"""One line instead of a traceback when an optional dependency of ``stacks`` is not installed
(e.g. the wheel installed without the ``cdk`` extra): ``python -m stacks.synth`` and friends."""

from __future__ import annotations

import sys
from collections.abc import Callable

# top-level module -> the extra of pyproject.toml that installs it
EXTRA_OF = {
    "aws_cdk": "cdk",
    "constructs": "cdk",
    "cdk_nag": "cdk",
    "jsii": "cdk",
    "boto3": "sops",
    "botocore": "sops",
    "yaml": "sops",
}


def missing_dependency_line(err: ModuleNotFoundError) -> str | None:
    """The fix for a missing optional module, or None for any other missing module (a bug).

    >>> missing_dependency_line(ModuleNotFoundError("No module named 'aws_cdk'", name="aws_cdk.aws_iam"))
    "error: aws_cdk is not installed; pip install 'portkey-bedrock-access[cdk]' (the CDK app needs it)"
    >>> missing_dependency_line(ModuleNotFoundError("x", name="nonexistent")) is None
    True
    """
    top = (err.name or "").split(".")[0]
    extra = EXTRA_OF.get(top)
    if extra is None:
        return None
    why = "the CDK app needs it" if extra == "cdk" else "AWS calls and SOPS files need it"
    return f"error: {top} is not installed; pip install 'portkey-bedrock-access[{extra}]' ({why})"


def run_main(main: Callable[[], int]) -> int:
    """``main()``, with a missing optional dependency turned into :func:`missing_dependency_line`
    and exit status 2."""
    try:
        return main()
    except ModuleNotFoundError as err:
        line = missing_dependency_line(err)
        if line is None:
            raise
        print(line, file=sys.stderr)
        return 2
