"""The construct that gives the user its Bedrock permissions, built by `stacks.bedrock_policy`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.bedrock_policy import (
    POLICY_MODE_FULL,
    POLICY_MODE_LEAST_PRIVILEGE,
    POLICY_MODES,
    PolicyValidationError,
    Statement,
    validate_statements,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

FULL_ACCESS_MANAGED_POLICY = "AmazonBedrockFullAccess"


class BedrockInvokePolicy(Construct):
    """Least-privilege mode: a customer-managed policy of `statements`, attached with
    ``users=[user]`` (moto ignores ``AWS::IAM::User.ManagedPolicyArns``, which
    ``user.add_managed_policy`` emits, but honours the policy's own ``Users`` list).

    Full mode: the AWS-managed AmazonBedrockFullAccess, attached the only way CDK can attach an
    AWS-managed policy, through the user's ManagedPolicyArns. Known limitation: under moto the
    policy is not attached; full mode is an explicit opt-in and not the tested default.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        user: iam.IUser,
        statements: Sequence[Statement],
        mode: str = POLICY_MODE_LEAST_PRIVILEGE,
    ) -> None:
        super().__init__(scope, construct_id)
        self.policy: iam.IManagedPolicy
        if mode == POLICY_MODE_FULL:
            self.policy = iam.ManagedPolicy.from_aws_managed_policy_name(FULL_ACCESS_MANAGED_POLICY)
            user.add_managed_policy(self.policy)
            Validations.of(user).acknowledge(
                Acknowledgment(
                    # cdk-nag names the exact managed policy in a granular finding id
                    id=f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{FULL_ACCESS_MANAGED_POLICY}]",
                    reason="policyMode=full is an explicit operator choice of the AWS-managed "
                    "AmazonBedrockFullAccess; the default least-privilege mode attaches none",
                )
            )
        elif mode == POLICY_MODE_LEAST_PRIVILEGE:
            validate_statements(statements)
            self.policy = iam.ManagedPolicy(
                self,
                "Policy",
                description="Invoke the catalog's Claude models through their inference profiles only",
                statements=[iam.PolicyStatement.from_json(s) for s in statements],
                users=[user],
            )
        else:
            raise PolicyValidationError(f"policy mode {mode!r} is unknown; use one of: {', '.join(POLICY_MODES)}")

    @property
    def policy_arn(self) -> str:
        return self.policy.managed_policy_arn
