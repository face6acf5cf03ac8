"""Build the CDK app: context defaults from cdk.json, the stack, and the scanners that gate it."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from stacks.config import StackConfig
from stacks.validation import schema_validator, start_validation_while_importing

if TYPE_CHECKING:
    from collections.abc import Mapping

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CDK_JSON = os.path.join(REPO_ROOT, "cdk.json")


def cdk_json_context(path: str = CDK_JSON) -> dict[str, Any]:
    """The ``"context"`` object of cdk.json (the defaults when not run by the CDK CLI)."""
    with open(path, encoding="utf-8") as handle:
        context = json.load(handle).get("context", {})
    assert isinstance(context, dict)
    return context


def add_scanners(app: App) -> None:
    """Gate synthesis on cdk-nag's AWS Solutions rules: an unacknowledged finding makes
    ``app.synth()`` raise (and writes validation-report.json). The CloudFormation schema check
    runs too, as aws-cdk-lib's default does, from this process's shared engine."""
    validator = schema_validator()
    plugins = [AwsSolutionsChecks(app)] if validator is None else [validator, AwsSolutionsChecks(app)]
    Validations.of(app).add_plugins(*plugins)


def entry_context(environ: Mapping[str, str]) -> dict[str, Any]:
    """The context ``app.py`` adds under the CLI's: the deployed stack's access-key serials (looked
    up with boto3; see stacks/deployed_keys.py). The only AWS call of the app; build_app stays pure."""
    from stacks.deployed_keys import app_serial_context, cli_context

    given = cli_context(environ)
    config = StackConfig.from_mapping({**cdk_json_context(), **given}, environ=environ)  # bad context fails here
    return dict(app_serial_context(config.stack_name, config.region, config.account, given, environ))


def build_app(
    context: Mapping[str, Any] | None = None,
    *,
    outdir: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> App:
    """The app with its one stack. cdk.json's context is the base, `context` overrides it, and
    the CDK CLI's ``-c`` values (CDK_CONTEXT_JSON) override both. No AWS call (unit tests and
    ``make synth`` stay offline); ``app.py`` passes the deployed serials as `context`."""
    base = {**cdk_json_context(), **(context or {})}
    app = App(context=base, outdir=outdir)
    config = StackConfig.from_context(app.node, environ=environ)  # bad context fails fast
    start_validation_while_importing("stacks.stack")
    from stacks.stack import PortkeyBedrockAccessStack

    add_scanners(app)
    PortkeyBedrockAccessStack(app, config=config)
    return app
