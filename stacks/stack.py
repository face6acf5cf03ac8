"""The stack: an IAM user and/or an invoke role, their Bedrock invoke policy, the user's access key(s)
in a KMS-encrypted secret (``principal=user|role|both``, see `stacks.role_settings`).

It only wires the constructs of `stacks.constructs.invoke_policy` and `stacks.constructs.access_credentials`
together and publishes the outputs named in `runtime.constants` (never the key id or the secret).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Environment, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from runtime.catalog.model import Catalog, load_catalog
from runtime.constants import (
    OUTPUT_ACCESS_KEY_SERIAL,
    OUTPUT_KMS_KEY_ARN,
    OUTPUT_MODEL_IDS,
    OUTPUT_POLICY_ARN,
    OUTPUT_REGION,
    OUTPUT_ROLE_ARN,
    OUTPUT_SECRET_ARN,
    OUTPUT_SOURCE_REGIONS,
    OUTPUT_USER_ARN,
    OUTPUT_USER_NAME,
)
from stacks.bedrock_policy import POLICY_MODE_FULL, build_statements
from stacks.config import StackConfig
from stacks.constructs.access_credentials import AccessCredentials
from stacks.constructs.invoke_policy import BedrockInvokePolicy
from stacks.constructs.invoke_role import InvokeRole
from stacks.constructs.spend_controls import SpendControls
from stacks.names import policy_description, stack_description


class PortkeyBedrockAccessStack(Stack):
    """Everything Portkey needs to call Claude on Bedrock as one least-privilege IAM user and/or role."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str | None = None,
        *,
        config: StackConfig,
        catalog: Catalog | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id or config.stack_name,
            env=Environment(account=config.account, region=config.region),
            description=stack_description(config.stack_name, config.user_name),
            **kwargs,
        )
        catalog = catalog or load_catalog()
        self.config = config

        # principal=user|both: the seed's IAM user and access key; role|both: the invoke role
        self.user = iam.User(self, "User", user_name=config.user_name) if config.role.has_user else None
        self.invoke_role = (
            InvokeRole(self, "InvokeRole", settings=config.role, account=self.account) if config.role.has_role else None
        )
        statements = (
            []
            if config.policy_mode == POLICY_MODE_FULL
            else build_statements(
                catalog,
                config.policy_regions,
                self.account,
                config.admitted(catalog),
                partition=self.partition,
                api_keys=config.api_keys,
            )
        )
        self.invoke_policy = BedrockInvokePolicy(
            self,
            "BedrockInvoke",
            user=self.user,
            statements=statements,
            mode=config.policy_mode,
            description=policy_description(config.user_name),
            roles=[self.invoke_role.role] if self.invoke_role else [],
        )
        # cost tags, budget, stop and alarms belong to the access user (principal=user|both)
        self.spend = (
            SpendControls(
                self,
                "Spend",
                user=self.user,
                spend=config.spend,
                region=config.region,
                model_ids=config.model_ids(catalog),
            )
            if self.user is not None
            else None
        )

        outputs = {
            OUTPUT_POLICY_ARN: self.invoke_policy.policy_arn,
            OUTPUT_REGION: config.region,
            OUTPUT_MODEL_IDS: ",".join(config.model_ids(catalog)),
            OUTPUT_SOURCE_REGIONS: ",".join(config.policy_regions),
        }
        if self.invoke_role is not None:
            outputs[OUTPUT_ROLE_ARN] = self.invoke_role.role_arn
        if self.user is not None:
            self.credentials = AccessCredentials(
                self,
                "Credentials",
                user=self.user,
                user_name=config.user_name,
                region=config.region,
                secret_name=config.secret_name,
                access_key_serial=config.access_key_serial,
                retained_access_key_serial=config.retained_access_key_serial,
                kms_principals=config.kms_principals,
                secret_readers=config.secret_readers,
            )
            outputs.update(
                {
                    OUTPUT_USER_NAME: self.user.user_name,
                    OUTPUT_USER_ARN: self.user.user_arn,
                    OUTPUT_SECRET_ARN: self.credentials.secret.secret_arn,
                    OUTPUT_KMS_KEY_ARN: self.credentials.key.key_arn,
                    OUTPUT_ACCESS_KEY_SERIAL: str(config.access_key_serial),
                }
            )
        for name, value in outputs.items():
            CfnOutput(self, name, value=value)
