"""Issue 18, item 5: local AWS agrees with itself while the grant widens and shrinks.

`allowed_models=all` needs a second managed policy (IAM's 6,144-character limit), one model needs
one. Walking the session's stack shrink → widen → shrink → widen (synth deployer, no CLI), after each
step CloudFormation's `PolicyArn` output names exactly the policies IAM has attached to the user, and
each of them exists. Before the fix in `local/moto_patches/fixes.py` (`fix_removed_resources`), the
second widen named a deleted policy and the next shrink failed `NoSuchEntity`; the failing case is
`tests/unit/local/moto_patches/test_fixes.py`. The walk ends on cdk.json's `allowed_models=all`, so
the shared stack is left as the other modules expect it.
"""

from __future__ import annotations

import pytest

from runtime import constants as c
from stacks import deploy as deploy_mod
from stacks.cdk_cli import Target
from stacks.deployed_keys import deploy_context
from tests.support.deployers import synth_deployer

pytestmark = pytest.mark.integration
STACK = c.DEFAULT_STACK_NAME
NARROW = {"allowed_models": "claude-haiku-4.5"}
WIDE = {"allowed_models": "all"}


def consistent_policy_arns(target: Target) -> list[str]:
    """The stack's `PolicyArn` output, asserted equal to IAM's attached policies, each one live."""
    found = deploy_mod.read_deployed(target, STACK)
    assert found is not None
    iam = target.client("iam")
    declared = sorted(found.outputs[c.OUTPUT_POLICY_ARN].split(","))
    attached = iam.list_attached_user_policies(UserName=found.outputs[c.OUTPUT_USER_NAME])["AttachedPolicies"]
    assert declared == sorted(p["PolicyArn"] for p in attached)
    for arn in declared:
        assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    return declared


def test_widen_shrink_widen_shrink_keeps_cloudformation_and_iam_in_step(bootstrapped: Target) -> None:
    deployer = synth_deployer()
    counts, wide_sets = [], []
    for context in (WIDE, NARROW, WIDE, NARROW, WIDE):  # the first deploy brings the stack to the start
        deployer(bootstrapped, STACK, deploy_context(context, deploy_mod.read_deployed(bootstrapped, STACK)))
        arns = consistent_policy_arns(bootstrapped)
        counts.append(len(arns))
        if context is WIDE:
            wide_sets.append(arns)
    assert counts == [2, 1, 2, 1, 2]
    assert len(set(wide_sets[0]) & set(wide_sets[1])) == 1  # the re-added second policy is a new one, as on AWS
