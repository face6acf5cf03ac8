"""Build the CDK app: context defaults from cdk.json, the stack, and the scanners that gate it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from stacks.checks.validation import schema_validator, start_validation_while_importing
from stacks.config import CDK_JSON as CDK_JSON
from stacks.config import StackConfig, cdk_json_context
from stacks.context_keys import check_context_keys
from stacks.deployed_config import add_config_output

if TYPE_CHECKING:
    from collections.abc import Mapping


def add_scanners(app: App) -> None:
    """Gate synthesis on cdk-nag's AWS Solutions rules: an unacknowledged finding makes
    ``app.synth()`` raise (and writes validation-report.json). The CloudFormation schema check
    runs too, as aws-cdk-lib's default does, from this process's shared engine."""
    validator = schema_validator()
    plugins = [AwsSolutionsChecks(app)] if validator is None else [validator, AwsSolutionsChecks(app)]
    Validations.of(app).add_plugins(*plugins)


def build_app(
    context: Mapping[str, Any] | None = None,
    *,
    outdir: str | None = None,
    environ: Mapping[str, str] | None = None,
    resolved: Mapping[str, Any] | None = None,
) -> App:
    """The app with its one stack. cdk.json's context is the base, `context` overrides it, the
    CDK CLI's ``-c`` values (CDK_CONTEXT_JSON) override both, and `resolved` overrides them all:
    what ``app.py`` resolved against the deployed stack (serials, settings; see
    stacks/deployed_config.py). No AWS call here (unit tests and ``make synth`` stay offline).
    An unknown context key fails here, in one line."""
    cdk_json = cdk_json_context()
    app = App(context={**cdk_json, **(context or {})}, outdir=outdir, post_cli_context=dict(resolved or {}) or None)
    check_context_keys(app.node.get_all_context())
    config = StackConfig.from_context(app.node, environ=environ)  # bad context fails fast
    start_validation_while_importing("stacks.stack")
    from stacks.stack import PortkeyBedrockAccessStack

    add_scanners(app)
    stack = PortkeyBedrockAccessStack(app, config=config)
    add_config_output(stack, config, app.node.try_get_context, cdk_json)
    return app
