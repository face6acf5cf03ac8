"""The invoke role: an IAM role with the user's invoke permissions, assumable only by `role_trust`.

The permissions are not built here: the stack attaches the same managed policies
(`stacks.constructs.invoke_policy`, one builder) to the role through their ``Roles`` list, which
moto honours as it does ``Users``. This construct owns the trust policy alone: one statement per
kind of trusted principal, never a ``*`` principal (`stacks.checks.trust` checks the synthesized
template too).
"""

from __future__ import annotations

from typing import Any

import jsii
from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct, IValidation

from stacks.checks.trust import trust_problems
from stacks.role_settings import (
    GITHUB_OIDC_AUDIENCE,
    GITHUB_OIDC_HOST,
    OIDC_CREATE,
    TRUST_ARN,
    TRUST_GITHUB,
    TRUST_SERVICE,
    RoleSettings,
)


class InvokeRole(Construct):
    """The role named ``settings.role_name``; `account` pins ``aws:SourceAccount`` for services."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: RoleSettings, account: str) -> None:
        super().__init__(scope, construct_id)
        principals: list[iam.IPrincipal] = []
        arns = [e.value for e in settings.trust if e.kind == TRUST_ARN]
        services = [e.value for e in settings.trust if e.kind == TRUST_SERVICE]
        subjects = [e.value for e in settings.trust if e.kind == TRUST_GITHUB]
        for arn in arns:
            principal: iam.IPrincipal = iam.ArnPrincipal(arn)
            if settings.external_id:
                principal = iam.PrincipalWithConditions(
                    principal, {"StringEquals": {"sts:ExternalId": settings.external_id}}
                )
            principals.append(principal)
        for service in services:
            # the confused-deputy guard: only this account's tasks/functions/instances
            principals.append(
                iam.PrincipalWithConditions(
                    iam.ServicePrincipal(service), {"StringEquals": {"aws:SourceAccount": account}}
                )
            )
        self.oidc_provider_arn: str | None = None
        if subjects:
            self.oidc_provider_arn = self._github_provider(settings)
            principals.append(
                iam.WebIdentityPrincipal(
                    self.oidc_provider_arn,
                    {
                        "StringEquals": {
                            f"{GITHUB_OIDC_HOST}:aud": GITHUB_OIDC_AUDIENCE,
                            f"{GITHUB_OIDC_HOST}:sub": subjects if len(subjects) > 1 else subjects[0],
                        }
                    },
                )
            )
        self.role = iam.Role(
            self,
            "Role",
            role_name=settings.role_name,
            assumed_by=iam.CompositePrincipal(*principals),
            max_session_duration=Duration.seconds(settings.maximum_session_duration),
            description="Invoke the allowed Bedrock models with temporary credentials (portkey-bedrock-access)",
        )
        # the same trust check as `python -m stacks.synth`, at every synth (cdk deploy included)
        self.node.add_validation(TrustValidation(self.role))

    def _github_provider(self, settings: RoleSettings) -> str:
        if settings.github_oidc_provider == OIDC_CREATE:
            provider = iam.OidcProviderNative(
                self,
                "GitHubOidc",
                url=f"https://{GITHUB_OIDC_HOST}",
                client_ids=[GITHUB_OIDC_AUDIENCE],
            )
            return provider.oidc_provider_arn
        assert settings.github_oidc_provider is not None  # role_settings refuses a subject without one
        return settings.github_oidc_provider

    @property
    def role_arn(self) -> str:
        return self.role.role_arn


@jsii.implements(IValidation)
class TrustValidation:
    """Fails synthesis when the role's trust policy has a finding of `stacks.checks.trust`."""

    def __init__(self, role: iam.Role) -> None:
        self._role = role

    def validate(self) -> list[str]:
        document: Any = Stack.of(self._role).resolve(self._role.assume_role_policy.to_json())  # type: ignore[union-attr]
        role = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": document}}
        return trust_problems({"Resources": {self._role.node.path: role}})
