"""``doctor --auth role``: the invoke role can be assumed, its session works through the gateway,
and its trust policy is the one the stack deployed (not edited by hand since)."""

from __future__ import annotations

import json
from urllib.parse import unquote

from runtime.constants import OUTPUT_ROLE_ARN
from runtime.credentials.keys import Credentials, mask_key_id
from runtime.errors import PortkeyBedrockError, aws_error_code

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

FIX_NO_ROLE = "deploy with -c principal=role (or both) -c role_trust=... (python -m stacks.deploy), or pass --role-arn"
FIX_TRUST_DRIFT = "the role's trust was changed outside the stack; redeploy (python -m stacks.deploy) to restore it"


def resolve(value: Any, refs: Mapping[str, str]) -> Any:
    """A template value with ``Ref`` replaced from `refs` (pseudo parameters and logical ids).

    >>> resolve({"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}, {"AWS::AccountId": "1"})
    {'StringEquals': {'aws:SourceAccount': '1'}}
    """
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in refs:
            return refs[value["Ref"]]
        return {k: resolve(v, refs) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, refs) for v in value]
    return value


def normalized(document: Mapping[str, Any]) -> list[str]:
    """A trust policy's statements as sorted canonical JSON (lists sorted, lone values as lists).

    >>> a = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "arn:x"}}]}
    >>> b = {"Statement": {"Action": ["sts:AssumeRole"], "Effect": "Allow", "Principal": {"AWS": ["arn:x"]}}}
    >>> normalized(a) == normalized(b)
    True
    """

    def canon(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: canon(v) for k, v in value.items()}
        items = value if isinstance(value, list) else [value]
        return sorted(json.dumps(canon(i) if isinstance(i, dict) else i, sort_keys=True) for i in items)

    statements = document.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    return sorted(json.dumps(canon(s), sort_keys=True) for s in statements)


def _template_trust(cfn: Any, stack: str, account: str) -> dict[str, Any] | None:
    template = cfn.get_template(StackName=stack)["TemplateBody"]
    template = json.loads(template) if isinstance(template, str) else template
    physical = {
        r["LogicalResourceId"]: r.get("PhysicalResourceId", "")
        for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]
    }
    refs = {"AWS::AccountId": account, "AWS::Partition": "aws", **physical}
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::IAM::Role":
            return dict(resolve(resource["Properties"]["AssumeRolePolicyDocument"], refs))
    return None


def role_checks(
    credentials: Credentials | None,
    region: str,
    stack: str,
    role_arn: str | None,
    live: Any,
) -> list[Any]:
    """The role checks, in order; `live(credentials)` sends one chat through the gateway."""
    import boto3
    import botocore.exceptions

    from runtime.cli.doctor import Check

    try:
        base = credentials or Credentials.from_default_chain(region=region)
    except PortkeyBedrockError as err:
        return [Check(False, str(err))]
    snapshot = base.frozen()
    session = boto3.session.Session(
        region_name=region,
        aws_access_key_id=snapshot.access_key_id,
        aws_secret_access_key=snapshot.secret_access_key,
        aws_session_token=snapshot.session_token,
    )
    checks = []
    try:
        cfn = session.client("cloudformation")
        if role_arn is None:
            outputs = cfn.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
            role_arn = next((o["OutputValue"] for o in outputs if o["OutputKey"] == OUTPUT_ROLE_ARN), None)
        if role_arn is None:
            return [Check(False, f"stack {stack} has no {OUTPUT_ROLE_ARN} output; {FIX_NO_ROLE}")]
    except botocore.exceptions.ClientError as err:
        return [Check(False, f"cannot read stack {stack} ({aws_error_code(err)}); pass --role-arn or --stack")]
    try:
        role = Credentials.from_role(role_arn, source=base, region=region)
        key = mask_key_id(role.frozen().access_key_id)
        checks.append(Check(True, f"role {role_arn} assumed: temporary key {key}, refreshed by botocore"))
    except PortkeyBedrockError as err:
        return [Check(False, str(err))]
    try:
        account = role_arn.split(":")[4]
        expected = _template_trust(cfn, stack, account)
        deployed = session.client("iam").get_role(RoleName=role_arn.rsplit("/", 1)[-1])["Role"]
        document = deployed["AssumeRolePolicyDocument"]
        document = json.loads(unquote(document)) if isinstance(document, str) else document
        if expected is None:
            checks.append(Check(False, f"stack {stack}'s template has no role; {FIX_NO_ROLE}"))
        elif normalized(expected) != normalized(document):
            checks.append(Check(False, f"trust of {role_arn} differs from stack {stack}'s; {FIX_TRUST_DRIFT}"))
        else:
            count = len(normalized(document))
            checks.append(Check(True, f"trust of {role_arn} is what stack {stack} deployed ({count} statement(s))"))
    except botocore.exceptions.ClientError as err:
        checks.append(Check(False, f"cannot compare the role's trust ({aws_error_code(err)}); pass an admin profile"))
    checks.append(live(role))
    return checks
