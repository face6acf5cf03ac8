"""The construct that gives the user its Bedrock permissions, built by `stacks.bedrock_policy`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Acknowledgment, Token, Validations
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.bedrock_policy import (
    POLICY_MODE_FULL,
    POLICY_MODE_LEAST_PRIVILEGE,
    Statement,
    check_policy_mode,
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
        if check_policy_mode(mode) == POLICY_MODE_FULL:
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
        else:
            validate_statements(statements)
            self.policy = iam.ManagedPolicy(
                self,
                "Policy",
                description="Invoke the catalog's Claude models through their inference profiles only",
                statements=[iam.PolicyStatement.from_json(s) for s in statements],
                users=[user],
            )
            for finding in any_region_model_findings(statements):
                Validations.of(self.policy).acknowledge(
                    Acknowledgment(
                        id=finding,
                        reason="the region of this one foundation-model ARN is * and the statement only "
                        "allows it through the model's exact inference profile (StringEquals "
                        "bedrock:InferenceProfileArn), so Bedrock alone picks the destination region; "
                        "see stacks/bedrock_policy.py",
                    )
                )

    @property
    def policy_arn(self) -> str:
        return self.policy.managed_policy_arn


def any_region_model_findings(statements: Sequence[Statement]) -> list[str]:
    """The granular cdk-nag AwsSolutions-IAM5 finding ids of the validated statements' ``*``-region
    foundation-model ARNs (the only wildcard `validate_statements` lets through), one per exact
    model ARN; cdk-nag writes an unresolved partition as ``<AWS::Partition>``.

    >>> any_region_model_findings([{"Resource": ["arn:aws:bedrock:*::foundation-model/m-v1:0", "arn:x"]}])
    ['AwsSolutions-IAM5[Resource::arn:aws:bedrock:*::foundation-model/m-v1:0]']
    """
    findings = []
    for statement in statements:
        resources = statement.get("Resource")
        for resource in resources if isinstance(resources, list) else [resources]:
            if isinstance(resource, str) and "*" in resource:
                if Token.is_unresolved(resource):
                    resource = "arn:<AWS::Partition>:" + resource.split(":", 2)[2]
                findings.append(f"AwsSolutions-IAM5[Resource::{resource}]")
    return list(dict.fromkeys(findings))
