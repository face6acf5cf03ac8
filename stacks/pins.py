"""The npm tools' pinned versions, read from their one owner: ``package.json``'s devDependencies
(``npm ci`` installs exactly those; code and tests ask here instead of repeating a version).

>>> cdk_cli_version().startswith("2."), gateway_version().count(".")
(True, 2)
"""

from __future__ import annotations

import functools
import json

from stacks.config import REPO_ROOT

PACKAGE_JSON = REPO_ROOT / "package.json"
CDK_CLI_PACKAGE = "aws-cdk"
GATEWAY_PACKAGE = "@portkey-ai/gateway"


@functools.cache
def npm_pins() -> dict[str, str]:
    """package.json's devDependencies: npm package -> exact version."""
    pins: dict[str, str] = json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))["devDependencies"]
    return pins


def cdk_cli_version() -> str:
    """The CDK CLI version the project deploys with (aws-cdk-lib's assemblies need it)."""
    return npm_pins()[CDK_CLI_PACKAGE]


def gateway_version() -> str:
    """The Portkey gateway version the project runs and was verified against."""
    return npm_pins()[GATEWAY_PACKAGE]


def installed_version(package: str) -> str | None:
    """The version of `package` in node_modules (None: not installed)."""
    path = REPO_ROOT / "node_modules" / package / "package.json"
    try:
        version: str = json.loads(path.read_text(encoding="utf-8"))["version"]
    except (OSError, ValueError, KeyError):
        return None
    return version
