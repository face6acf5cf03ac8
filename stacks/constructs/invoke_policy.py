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
    is_short_term_api_key_statement,
    split_statements,
    validate_statements,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

FULL_ACCESS_MANAGED_POLICY = "AmazonBedrockFullAccess"


class BedrockInvokePolicy(Construct):
    """Least-privilege mode: customer-managed policies of `statements` (more than one only when
    IAM's 6,144-character limit requires; `policy_arn` then joins their ARNs with commas), attached with
    ``users=[user]`` and ``roles=[...]`` (the invoke role gets the same policies; moto ignores the
    ``ManagedPolicyArns`` of ``AWS::IAM::User`` and ``AWS::IAM::Role`` alike, which
    ``add_managed_policy`` emits, but honours the policy's own ``Users`` / ``Roles`` lists).

    Full mode: the AWS-managed AmazonBedrockFullAccess, attached the only way CDK can attach an
    AWS-managed policy, through the user's (and role's) ManagedPolicyArns. Known limitation: under
    moto the policy is not attached; full mode is an explicit opt-in and not the tested default.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        user: iam.IUser | None,
        statements: Sequence[Statement],
        description: str,  # stacks.names.policy_description
        mode: str = POLICY_MODE_LEAST_PRIVILEGE,
        roles: Sequence[iam.IRole] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.policy: iam.IManagedPolicy
        self.policies: list[iam.IManagedPolicy] = []
        if check_policy_mode(mode) == POLICY_MODE_FULL:
            self.policy = iam.ManagedPolicy.from_aws_managed_policy_name(FULL_ACCESS_MANAGED_POLICY)
            holders: list[iam.IUser | iam.IRole] = [*([user] if user else []), *roles]
            for holder in holders:
                holder.add_managed_policy(self.policy)
            self.policies.append(self.policy)
            for holder in holders:
                Validations.of(holder).acknowledge(
                    Acknowledgment(
                        # cdk-nag names the exact managed policy in a granular finding id
                        id=f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{FULL_ACCESS_MANAGED_POLICY}]",
                        reason="policyMode=full is an explicit operator choice of the AWS-managed "
                        "AmazonBedrockFullAccess; the default least-privilege mode attaches none",
                    )
                )
        else:
            validate_statements(statements)
            # IAM caps a managed policy at 6,144 characters; the catalog's models can need more,
            # so the statements are spread over as few policies as fit ("Policy", "Policy2", ...).
            for index, part in enumerate(split_statements(statements)):
                policy = iam.ManagedPolicy(
                    self,
                    "Policy" if index == 0 else f"Policy{index + 1}",
                    description=description,
                    statements=[iam.PolicyStatement.from_json(s) for s in part],
                    users=[user] if user else None,
                    roles=list(roles) or None,
                )
                self.policies.append(policy)
                for finding in any_region_model_findings(part):
                    Validations.of(policy).acknowledge(
                        Acknowledgment(
                            id=finding,
                            reason="the region of this one foundation-model ARN is * and the statement only "
                            "allows it through the model's exact inference profile (StringEquals "
                            "bedrock:InferenceProfileArn), so Bedrock alone picks the destination region; "
                            "see stacks/bedrock_policy.py",
                        )
                    )
                if any(is_short_term_api_key_statement(s) for s in part):
                    Validations.of(policy).acknowledge(
                        Acknowledgment(
                            id="AwsSolutions-IAM5[Resource::*]",
                            reason="api_keys=short-term: bedrock:CallWithBearerToken has no resource type, so "
                            "IAM needs Resource * there; the statement allows only that action and only for "
                            "bedrock:bearerTokenType = SHORT_TERM (see stacks/bedrock_policy.py)",
                        )
                    )
            self.policy = self.policies[0]

    @property
    def policy_arn(self) -> str:
        """The ARN of the policy, or the comma-joined ARNs when the grants span several."""
        return ",".join(policy.managed_policy_arn for policy in self.policies)


def any_region_model_findings(statements: Sequence[Statement]) -> list[str]:
    """The granular cdk-nag AwsSolutions-IAM5 finding ids of the validated statements' ``*``-region
    foundation-model ARNs (the only wildcard `validate_statements` lets through), one per exact
    model ARN; cdk-nag writes an unresolved partition as ``<AWS::Partition>``.

    >>> any_region_model_findings([{"Resource": ["arn:aws:bedrock:*::foundation-model/m-v1:0", "arn:x"]}])
    ['AwsSolutions-IAM5[Resource::arn:aws:bedrock:*::foundation-model/m-v1:0]']
    """
    findings = []
    for statement in statements:
        if is_short_term_api_key_statement(statement):
            continue  # its "*" is acknowledged with its own reason
        resources = statement.get("Resource")
        for resource in resources if isinstance(resources, list) else [resources]:
            if isinstance(resource, str) and "*" in resource:
                if Token.is_unresolved(resource):
                    resource = "arn:<AWS::Partition>:" + resource.split(":", 2)[2]
                findings.append(f"AwsSolutions-IAM5[Resource::{resource}]")
    return list(dict.fromkeys(findings))
