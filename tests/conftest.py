"""Session fixtures shared by every tier (unit tests use none of them; they start nothing).

Local AWS is the slow part of the integration and e2e tiers, so it is started once per session
(per xdist worker) and shared:

* ``local_aws``: the moto server + Bedrock double (:class:`local.aws.LocalAws`) in a private state
  dir, stopped by pid at the end; ``local_aws.state.bedrock_url`` is the double inside it.
* ``target``: a :class:`stacks.cdk_cli.Target` for it (us-east-1, account 123456789012).
* ``bootstrapped``: ``target`` after a *seeded* bootstrap: the CDK CLI's own bootstrap template
  (``node_modules/aws-cdk/…/bootstrap-template.yaml``) created with the CloudFormation API, which is
  what ``cdk bootstrap`` deploys, without its ~2-10 s CLI start-up. The real ``npx cdk bootstrap`` is
  proved by the README flow (tests/e2e/test_readme_app.py) and ``ensure_bootstrapped`` running the
  CLI by tests/integration/test_deploy_and_rotate.py::test_bootstrap_runs_the_cli_only_when_needed.
* ``gateway``: the real Portkey gateway (:class:`local.gateway.Gateway`, ``.base_url``), started
  once, checked not to leak at the end. Point it at a Bedrock double with the
  ``x-portkey-custom-host`` header (``local_aws.state.bedrock_url``, or tests/e2e's ``bedrock_double``).
* ``synthesized(context)``: the real app synthesized in this process (jsii starts once), memoised
  per context, for CLI_SYNTH_CONTEXT + ``context`` in us-east-1 / 123456789012.

The default stack (``PortkeyBedrockAccess``) on ``bootstrapped`` is shared too: deploy it with
``tests.support.deployers.synth_deployer()`` (CloudFormation API, no CLI) unless the test must
prove a CLI path, and read the state you start from (serial, keys) instead of assuming it: modules
run in any order. A test that leaves IAM in a state later updates cannot repair starts its own
``LocalAws`` (see tests/integration/test_plain_deploy_after_rotation.py::private_stack) and calls
``seed_bootstrap(target)`` on it. Timings: ``pytest --durations=N`` (set in pyproject).

Parallel runs (``make test`` runs ``pytest -n 2 --dist loadgroup``, pytest-xdist): every test under
tests/integration runs in one worker (group ``integration``: one session server and stack, and the
CDK CLI writing the checkout's cdk.out one at a time), every test under tests/e2e in one worker
(group ``e2e``); unit tests and doctests go to whichever worker is free. A new integration or e2e
module joins its tier's group by its path: nothing to mark.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.aws import LocalAws, local_target
from local.gateway import GATEWAY_JS, Gateway, start_gateway
from stacks.cdk_cli import Target
from tests.integration.helpers import MOTO_ACCOUNT, REGION
from tests.support.deployers import seed_bootstrap

TIER_GROUPS = ("integration", "e2e")  # directories under tests/ whose tests share one xdist worker


def tier_of(nodeid: str) -> str | None:
    """The tier group a test belongs to under ``--dist loadgroup`` (None: any worker).

    >>> tier_of("tests/integration/test_x.py::test_y"), tier_of("tests/unit/test_x.py::test_y[a/b]")
    ('integration', None)
    """
    parts = nodeid.split("::", 1)[0].split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "tests" and parts[1] in TIER_GROUPS else None


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: without xdist, pytest runs everything in-process
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup``: each tier in TIER_GROUPS is one work unit (one worker, in collection
    order, so module fixtures are set up once); every other test is a unit of its own. xdist 3.8's
    own loadgroup marks groups by rewriting ``item._nodeid``, which pytest 9 no longer reads (its
    groups were silently split over the workers, and module fixtures set up twice)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class TierScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return tier_of(nodeid) or nodeid

    return TierScheduling(config, log)


@pytest.fixture(scope="session")
def local_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAws]:
    """The moto server (+ Bedrock double), started once, stopped by pid at the end."""
    with LocalAws(state_dir=tmp_path_factory.mktemp("local-aws")) as aws:
        yield aws


@pytest.fixture(scope="session")
def target(local_aws: LocalAws) -> Target:
    return local_target(local_aws)


@pytest.fixture(scope="session")
def bootstrapped(target: Target) -> Target:
    """The server with the CDK bootstrap stack seeded (once per session)."""
    seed_bootstrap(target)
    return target


@pytest.fixture(scope="session")
def gateway() -> Iterator[Gateway]:
    """The real Portkey gateway, headless on a free port; stopped by pid, no process left."""
    if not GATEWAY_JS.is_file():
        pytest.skip(f"{GATEWAY_JS} is missing; run `npm ci`")
    gw = start_gateway()
    yield gw
    gw.stop()
    leaked = subprocess.run(
        ["pgrep", "-f", f"start-server.js --port={gw.port}"], capture_output=True, text=True, check=False
    )
    assert not gw.running() and leaked.stdout == "", f"gateway process leaked: {leaked.stdout}"


@pytest.fixture(scope="session")
def synthesized() -> Callable[[dict[str, str]], dict[str, Any]]:
    """In-process synth of the real app, memoised per context (jsii starts once)."""
    from tests.support.deployers import synth_template

    environ = {"CDK_DEFAULT_REGION": REGION, "CDK_DEFAULT_ACCOUNT": MOTO_ACCOUNT}

    def synth(context: dict[str, str]) -> dict[str, Any]:
        return synth_template(context, environ)

    return synth
