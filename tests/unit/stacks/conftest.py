"""One synthesized app per test session: the default stack plus variants built from the same
code path, synthesized together (each synth costs seconds, a stack inside it costs little)."""

from __future__ import annotations

import dataclasses
import json
import os

import pytest

from stacks.cdk_cli import QUIET_JSII_ENV

for _name, _value in QUIET_JSII_ENV.items():
    os.environ.setdefault(_name, _value)

# The base context of the session app: explicit, so the developer's CDK_DEFAULT_* do not leak in.
BASE_CONTEXT = {"region": "us-east-1", "account": None, "kms_principals": "arn:aws:iam::111122223333:role/sops"}
VARIANTS = {
    "Full": {"policy_mode": "full"},
    "Restricted": {"allowed_models": "claude-large"},
    "Eu": {"region": "eu-west-1"},
    "RotationPhase1": {"access_key_serial": "2", "retained_access_key_serial": "1"},
    "RotationPhase2": {"access_key_serial": "2"},
    "ApiKeys": {"api_keys": "short-term"},
    "TwoRegions": {"source_regions": "us-east-1,us-west-2"},
    "SecretReaders": {"secret_readers": "arn:aws:iam::111122223333:role/ci,arn:aws:iam::111122223333:user/ops"},
    "RoleOnly": {
        "principal": "role",
        "role_trust": "arn:aws:iam::111122223333:role/app,ecs-tasks.amazonaws.com,repo:acme/app:ref:refs/heads/main",
        "github_oidc_provider": "create",
        "role_external_id": "portkey-ext-1",
        "maximum_session_duration": "7200",
    },
    "Both": {"principal": "both", "role_trust": "lambda.amazonaws.com,ec2.amazonaws.com"},
    "Spend": {
        "cost_tags": "team=search,env=prod",
        "monthly_budget_usd": "20",
        "budget_notify": "ops@example.com",
        "budget_action": "deny",
        "allowed_models": "claude-large",
    },
}


@dataclasses.dataclass
class Synthesized:
    templates: dict[str, dict]  # stack id -> template JSON
    outdir: str


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory) -> Synthesized:
    from stacks.app import build_app
    from stacks.config import StackConfig
    from stacks.stack import PortkeyBedrockAccessStack

    outdir = str(tmp_path_factory.mktemp("cdk.out"))
    app = build_app(BASE_CONTEXT, outdir=outdir, environ={})
    for name, overrides in VARIANTS.items():
        config = StackConfig.from_mapping({**BASE_CONTEXT, **overrides}, environ={})
        PortkeyBedrockAccessStack(app, name, config=config)
    assembly = app.synth()  # the cdk-nag gate runs here, over every stack
    templates = {}
    for stack in assembly.stacks:
        with open(stack.template_full_path, encoding="utf-8") as handle:
            templates[stack.stack_name] = json.load(handle)
    return Synthesized(templates=templates, outdir=outdir)


@pytest.fixture(scope="session")
def default_template(synthesized) -> dict:
    from runtime.constants import DEFAULT_STACK_NAME

    return synthesized.templates[DEFAULT_STACK_NAME]
