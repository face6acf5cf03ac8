"""Small AWS helpers of the integration tests."""

from __future__ import annotations

import json
from typing import Any

from stacks.cdk_cli import BOOTSTRAP_PARAMETER

MOTO_ACCOUNT = "123456789012"
REGION = "us-east-1"


def seed_bootstrap_version(ssm: Any) -> None:
    """What `cdk bootstrap` leaves behind and every CDK template reads (for in-process moto)."""
    ssm.put_parameter(Name=BOOTSTRAP_PARAMETER, Value="30", Type="String", Overwrite=True)


def active_key_ids(iam: Any, user: str) -> list[str]:
    keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    return sorted(k["AccessKeyId"] for k in keys if k["Status"] == "Active")


def secret_json(sm: Any, arn: str) -> dict[str, str]:
    value: dict[str, str] = json.loads(sm.get_secret_value(SecretId=arn)["SecretString"])
    return value
