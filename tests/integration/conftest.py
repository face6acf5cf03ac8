"""Fixtures of the integration tier. The session-wide ones (`local_aws`, `target`, `bootstrapped`,
`synthesized`) live in tests/conftest.py, shared with the e2e tier; see its docstring for how to
share the session's server and stack. Here: `moto_env`, for tests that run moto in-process.
"""

from __future__ import annotations

import pytest

from tests.integration.helpers import REGION

# Kept so that older imports keep working; nothing is printed from it any more: timings come from
# `pytest --durations=N` (pyproject's addopts).
TIMINGS: dict[str, float] = {}


@pytest.fixture
def moto_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Environment for in-process mock_aws: throw-away credentials, no endpoint, no profile."""
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_REGION", REGION), ("AWS_DEFAULT_REGION", REGION)):  # fmt: skip
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
