"""CloudFormation schema validation of our apps, its engine started while Python imports the stack.

aws-cdk-lib checks every synthesized template against the CloudFormation resource schemas with
a WASM engine (`CloudFormationValidatePlugin`). Building that engine is about two seconds of
node time, most of a small app's synth, and Python only waits on the jsii pipe meanwhile. So we
register the plugin ourselves: its engine is built while a helper thread imports the stack's
modules, and every app built in this process shares one engine (aws-cdk-lib's own default keeps
one per process too). The checks are aws-cdk-lib's default ones, reported the same way (its
errors become warnings unless ``@aws-cdk/core:validateAgainstDefaultRules`` is set), and
``CDK_VALIDATION=false`` (what ``cdk synth --no-validation`` sets) turns them off as it would.

    validator = start_validation_while_importing("stacks.stack")
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Mapping

from aws_cdk import CloudFormationValidatePlugin

from runtime.constants import ENV_CDK_VALIDATION

_validator: CloudFormationValidatePlugin | None = None


def validation_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """False only for an explicit ``CDK_VALIDATION=false``, the rule aws-cdk-lib applies.

    >>> validation_enabled({"CDK_VALIDATION": "false"})
    False
    >>> validation_enabled({}), validation_enabled({"CDK_VALIDATION": "0"})
    (True, True)
    """
    env = os.environ if environ is None else environ
    return env.get(ENV_CDK_VALIDATION) != "false"


def schema_validator() -> CloudFormationValidatePlugin | None:
    """This process's one validator (built on first use), or None when validation is off."""
    global _validator
    if not validation_enabled():
        return None
    if _validator is None:
        _validator = CloudFormationValidatePlugin()
    return _validator


def start_validation_while_importing(module: str) -> CloudFormationValidatePlugin | None:
    """Import `module` on a helper thread while this thread builds :func:`schema_validator`.

    Only this thread talks to jsii: the jsii kernel is one pipe and must never see two calls at
    once, and importing aws_cdk's submodules is plain Python (the assembly is loaded already).
    An import error is raised here, after both are done.
    """
    failures: list[BaseException] = []

    def load() -> None:
        try:
            importlib.import_module(module)
        except BaseException as err:  # re-raised on the calling thread
            failures.append(err)

    loader = threading.Thread(target=load, name=f"import {module}", daemon=True)
    loader.start()
    try:
        validator = schema_validator()
    finally:
        loader.join()
    if failures:
        raise failures[0]
    return validator
