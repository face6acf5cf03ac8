"""Shared fixtures of the integration tier: one local AWS server and one in-process synth per
session (both are the slow parts), plus small AWS helpers.

The server lives in a private state dir, so a developer's own `python -m local.aws up` (which
uses .local/) is neither reused nor stopped by the tests.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.aws import LocalAws, local_target
from stacks.cdk_cli import Target, ensure_bootstrapped
from tests.integration.helpers import MOTO_ACCOUNT, REGION

TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="session")
def local_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAws]:
    """The moto server (+ Bedrock double), started once, stopped by pid at the end."""
    aws = LocalAws(state_dir=tmp_path_factory.mktemp("local-aws"))
    began = time.monotonic()
    with aws:
        TIMINGS["moto server start"] = time.monotonic() - began
        yield aws


@pytest.fixture(scope="session")
def target(local_aws: LocalAws) -> Target:
    return local_target(local_aws)


@pytest.fixture(scope="session")
def bootstrapped(target: Target) -> Target:
    """The server after a real `cdk bootstrap` (once per session)."""
    began = time.monotonic()
    ran = ensure_bootstrapped(target, quiet=True)
    if ran:
        TIMINGS["cdk bootstrap"] = time.monotonic() - began
    return target


@pytest.fixture(scope="session")
def synthesized() -> Callable[[dict[str, str]], dict[str, Any]]:
    """In-process synth of the real app, memoised per context (jsii starts once)."""
    from tests.support.deployers import synth_template

    cache: dict[str, dict[str, Any]] = {}

    def synth(context: dict[str, str]) -> dict[str, Any]:
        key = json.dumps(context, sort_keys=True)
        if key not in cache:
            began = time.monotonic()
            environ = {"CDK_DEFAULT_REGION": REGION, "CDK_DEFAULT_ACCOUNT": MOTO_ACCOUNT}
            cache[key] = synth_template(context, environ)
            TIMINGS.setdefault("in-process synth (first via fixture; jsii may be warm)", time.monotonic() - began)
        return cache[key]

    return synth


@pytest.fixture
def moto_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Environment for in-process mock_aws: throw-away credentials, no endpoint, no profile."""
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_REGION", REGION), ("AWS_DEFAULT_REGION", REGION)):  # fmt: skip
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TIMINGS:
        terminalreporter.write_sep("-", "integration timings")
        for name, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{name}: {seconds:.1f}s")
