"""The invoke role end to end: local AWS (moto STS with the trust patch) -> the stack deployed with
``principal=both`` (synth_deployer) -> an app that assumes the role -> the real Portkey gateway ->
the Bedrock double, which verifies the session's SigV4 + token and evaluates the role's policy.

Its own local AWS (no CDK bootstrap: the bootstrap version parameter is seeded), shared by the
module; the gateway is the session's. No sleeps: expiry and refresh move injected clocks.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from local.aws import LocalAws
from local.bedrock_double import DoubleClient
from local.gateway import Gateway
from runtime import constants
from runtime.cli.doctor import describe_http_error
from runtime.credentials.keys import Credentials
from runtime.errors import CredentialsError
from runtime.gateway.client import gateway_http_client
from runtime.gateway.headers import portkey_headers
from stacks import rotate as rotate_mod
from stacks.cdk_cli import Target
from stacks.deploy import deploy
from tests.integration.helpers import MOTO_ACCOUNT, REGION, active_key_ids, seed_bootstrap_version
from tests.support.deployers import synth_deployer

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

STACK = "PortkeyInvokeRoleE2E"
APP = "app-runner"  # the app's own identity (think: an ECS task role); no Bedrock rights of its own
APP_ARN = f"arn:aws:iam::{MOTO_ACCOUNT}:user/{APP}"
ROLE_CONTEXT = {
    "principal": "both",
    "role_trust": APP_ARN,
    "role_name": "e2e-invoke-role",
    "user_name": "e2e-invoke-role-user",
    "secret_name": "e2e/invoke-role",
}


class Clock:
    """botocore's refresh clock for the app: real time plus an offset the test moves."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass(frozen=True)
class Deployed:
    target: Target
    outputs: dict[str, str]
    double: DoubleClient
    bedrock_url: str
    app: Credentials  # the app's base credentials: only ever sent to STS


def _deployer() -> Any:
    """synth_deployer with the role settings always applied (as cdk.json would hold them)."""
    base = synth_deployer()

    def deploy_with_role(target: Target, stack: str, context: Any) -> dict[str, str]:
        return base(target, stack, {**ROLE_CONTEXT, **dict(context)})

    return deploy_with_role


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    aws = LocalAws(state_dir=tmp_path_factory.mktemp("local-aws-role"))
    state = aws.start()
    saved = dict(os.environ)
    try:
        assert state.bedrock_url, "local AWS must host the Bedrock double"
        os.environ.update(state.env())
        target = Target.for_endpoint(state.endpoint)
        seed_bootstrap_version(target.client("ssm"))
        iam = target.client("iam")
        iam.create_user(UserName=APP)
        key = iam.create_access_key(UserName=APP)["AccessKey"]
        app = Credentials(key["AccessKeyId"], key["SecretAccessKey"], region=REGION)
        outputs = deploy(target, STACK, {}, deployer=_deployer(), bootstrap=False, quiet=True)
        yield Deployed(target, outputs, DoubleClient(state.bedrock_url), state.bedrock_url, app)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        aws.stop()


@pytest.fixture
def double(deployed: Deployed) -> DoubleClient:
    deployed.double.reset()
    return deployed.double


def _chat(client: httpx.Client, gateway: Gateway, model_id: str) -> httpx.Response:
    body = {"model": model_id, "messages": [{"role": "user", "content": "ping"}], "max_tokens": 8}
    return client.post(f"{gateway.base_url}/chat/completions", json=body)


def _role_client(deployed: Deployed, **role_options: Any) -> httpx.Client:
    return gateway_http_client(
        lambda: deployed.app,
        role_arn=deployed.outputs[constants.OUTPUT_ROLE_ARN],
        region=REGION,
        custom_host=deployed.bedrock_url,
        role_options=role_options,
    )


def test_app_assumes_the_role_and_chats_with_every_allowed_model(deployed, double, gateway):
    model_ids = deployed.outputs[constants.OUTPUT_MODEL_IDS].split(",")
    assert len(model_ids) >= 2
    with _role_client(deployed) as client:
        statuses = {model_id: _chat(client, gateway, model_id).status_code for model_id in model_ids}
    assert statuses == dict.fromkeys(model_ids, 200)
    requests = double.requests()
    role_arn = deployed.outputs[constants.OUTPUT_ROLE_ARN]
    assert {r["user_arn"] for r in requests} == {role_arn}
    used = {r["access_key_id"] for r in requests}
    assert all(key.startswith("ASIA") for key in used)
    user_keys = set(active_key_ids(deployed.target.client("iam"), ROLE_CONTEXT["user_name"]))
    assert user_keys and not used & (user_keys | {deployed.app.access_key_id})  # no IAM user key on the wire


def test_credentials_near_expiry_are_refreshed_without_a_failed_request(deployed, double, gateway):
    clock = Clock()
    with _role_client(deployed, duration=900, clock=clock) as client:
        model_id = deployed.outputs[constants.OUTPUT_MODEL_IDS].split(",")[0]
        assert _chat(client, gateway, model_id).status_code == 200
        clock.offset = timedelta(seconds=900 - 60)  # one minute left: botocore's mandatory window
        assert _chat(client, gateway, model_id).status_code == 200
    first, second = (r["access_key_id"] for r in double.requests())
    assert first != second and second.startswith("ASIA")
    assert [r["status"] for r in double.requests()] == [200, 200]


def test_a_principal_outside_role_trust_cannot_assume_it(deployed):
    iam = deployed.target.client("iam")
    iam.create_user(UserName="outsider")
    key = iam.create_access_key(UserName="outsider")["AccessKey"]
    outsider = Credentials(key["AccessKeyId"], key["SecretAccessKey"], region=REGION)
    with pytest.raises(CredentialsError) as err:
        Credentials.from_role(deployed.outputs[constants.OUTPUT_ROLE_ARN], source=outsider)
    message = str(err.value)
    assert "AccessDenied" in message and "user/outsider is not authorized" in message and "role_trust" in message
    assert "\n" not in message and key["SecretAccessKey"] not in message


def test_a_session_used_after_expiry_gets_403_and_a_one_line_fix(deployed, double, gateway):
    frozen = Credentials.from_role(deployed.outputs[constants.OUTPUT_ROLE_ARN], source=deployed.app).frozen()
    model_id = deployed.outputs[constants.OUTPUT_MODEL_IDS].split(",")[0]
    headers = portkey_headers("claude-sonnet-4.5", frozen, REGION, custom_host=deployed.bedrock_url)
    double.set_clock_offset(3600 + 60)  # the double's clock: past the session's one hour
    body = {"model": model_id, "messages": [{"role": "user", "content": "ping"}], "max_tokens": 8}
    reply = httpx.post(f"{gateway.base_url}/chat/completions", json=body, headers=headers, timeout=30)
    assert reply.status_code == 403
    assert double.requests()[-1]["error_type"] == "ExpiredTokenException"
    line = describe_http_error(reply.status_code, reply.content, "claude-sonnet-4.5")
    assert "security token included in the request is expired" in line and "from_role" in line
    assert "\n" not in line and frozen.session_token not in line


def test_rotating_the_users_key_does_not_disturb_role_clients(deployed, double, gateway):
    clock = Clock()
    model_id = deployed.outputs[constants.OUTPUT_MODEL_IDS].split(",")[0]
    with _role_client(deployed, duration=900, clock=clock) as client:
        assert _chat(client, gateway, model_id).status_code == 200
        result = rotate_mod.rotate(deployed.target, STACK, grace_seconds=0, deployer=_deployer(), log=lambda _: None)
        assert result.new_serial == result.old_serial + 1
        assert _chat(client, gateway, model_id).status_code == 200  # the same session, after both phases
        clock.offset = timedelta(seconds=900 - 60)
        assert _chat(client, gateway, model_id).status_code == 200  # and a fresh one
    assert [r["status"] for r in double.requests()] == [200, 200, 200]
    assert result.outputs[constants.OUTPUT_ROLE_ARN] == deployed.outputs[constants.OUTPUT_ROLE_ARN]


def test_doctor_auth_role_assumes_compares_trust_and_chats(deployed, double, gateway, monkeypatch, capsys):
    from runtime.cli.doctor import main as doctor

    monkeypatch.setenv(constants.ENV_AWS_ACCESS_KEY_ID, deployed.app.access_key_id)
    monkeypatch.setenv(constants.ENV_AWS_SECRET_ACCESS_KEY, deployed.app.secret_access_key)
    argv = ["--auth", "role", "--stack", STACK, "--region", REGION]
    argv += ["--gateway-url", gateway.base_url, "--custom-host", deployed.bedrock_url]
    assert doctor(argv) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    role_arn = deployed.outputs[constants.OUTPUT_ROLE_ARN]
    assert f"ok   role {role_arn} assumed: temporary key ASIA" in out
    assert f"ok   trust of {role_arn} is what stack {STACK} deployed (1 statement(s))" in out
    assert deployed.app.secret_access_key not in out
    assert double.requests()[-1]["user_arn"] == role_arn and double.requests()[-1]["status"] == 200

    iam = deployed.target.client("iam")
    role_name = role_arn.rsplit("/", 1)[-1]
    original = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    widened = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"AWS": [APP_ARN, f"arn:aws:iam::{MOTO_ACCOUNT}:root"]},
            }
        ],
    }
    iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(widened))
    try:
        assert doctor(argv) == 1
        out = capsys.readouterr().out
        assert f"FAIL trust of {role_arn} differs from stack {STACK}'s; the role's trust was changed" in out
    finally:
        document = original if isinstance(original, str) else json.dumps(original)
        iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=document)
