"""Copy a deployed stack's credentials from Secrets Manager into a SOPS file: the library side of
``python -m runtime secrets pull``, also used by ``stacks.rotate``. boto3 is imported lazily.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from runtime.catalog.resolve import pick_region
from runtime.constants import ENV_AWS_ENDPOINT_URL, OUTPUT_SECRET_ARN, SECRET_ENV_KEYS
from runtime.errors import PortkeyBedrockError, aws_error_code


class SecretsPullError(PortkeyBedrockError):
    """The stack's credentials cannot be read or written (stack, output or secret missing...)."""


def stack_secret_arn(cfn: Any, stack: str, region: str) -> str:
    """The ``SecretArn`` output of ``stack``."""
    from botocore.exceptions import ClientError

    try:
        stacks = cfn.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc) or aws_error_code(exc) == "ValidationError":
            raise SecretsPullError(
                f"stack {stack!r} not found in {region}; deploy it first (npx cdk deploy) "
                "or pass --stack NAME / --region REGION"
            ) from None
        raise SecretsPullError(f"cannot describe stack {stack!r} ({aws_error_code(exc)})") from None
    for output in (stacks[0].get("Outputs") or []) if stacks else []:
        if output.get("OutputKey") == OUTPUT_SECRET_ARN:
            return str(output["OutputValue"])
    raise SecretsPullError(
        f"stack {stack!r} has no output {OUTPUT_SECRET_ARN}; redeploy the current version of the stack"
    )


def read_secret(secrets_manager: Any, arn: str) -> dict[str, str]:
    """The flat env JSON kept in Secrets Manager, reduced to :data:`SECRET_ENV_KEYS`."""
    from botocore.exceptions import ClientError

    try:
        raw = secrets_manager.get_secret_value(SecretId=arn).get("SecretString")
    except ClientError as exc:
        raise SecretsPullError(f"cannot read secret {arn} ({aws_error_code(exc)})") from None
    try:
        value = json.loads(raw or "")
    except json.JSONDecodeError:
        raise SecretsPullError(
            f"secret {arn} is not a JSON object; expected keys {', '.join(SECRET_ENV_KEYS)}"
        ) from None
    if not isinstance(value, dict):
        raise SecretsPullError(f"secret {arn} is not a JSON object; expected keys {', '.join(SECRET_ENV_KEYS)}")
    missing = [key for key in SECRET_ENV_KEYS if not isinstance(value.get(key), str) or not value.get(key)]
    if missing:
        raise SecretsPullError(f"secret {arn} lacks {', '.join(missing)}; redeploy the stack")
    return {key: value[key] for key in SECRET_ENV_KEYS}


def _endpoint_hint(client: Any) -> str:
    """Where a failed AWS call went: ``AWS_ENDPOINT_URL`` when it is set, else the client's URL."""
    configured = os.environ.get(ENV_AWS_ENDPOINT_URL)
    if configured:
        return f"{ENV_AWS_ENDPOINT_URL}={configured}; is local AWS running (python -m local.aws up)? else unset it"
    url = getattr(getattr(client, "meta", None), "endpoint_url", None) or "the AWS endpoint"
    return f"{url}; check the network, AWS_REGION, or set {ENV_AWS_ENDPOINT_URL}"


def pull(
    stack: str,
    path: Path,
    *,
    region: str | None = None,
    config: Path | None = None,
    profile: str | None = None,
    cloudformation: Any = None,
    secretsmanager: Any = None,
) -> dict[str, str]:
    """Write the stack's credentials into the SOPS file `path`; returns each key's change
    (added/changed/unchanged). Clients default to boto3's for `region` (and `profile`) from the
    environment; callers that target another account or endpoint pass their own (no ``os.environ``
    edits). A new file needs a ``.sops.yaml`` creation rule: checked before any AWS call."""
    import boto3
    from botocore.exceptions import BotoCoreError, NoCredentialsError, ProfileNotFound

    from runtime.sops import files
    from runtime.sops.config import rule_for

    path = Path(os.path.realpath(path))  # a symlink: match the rule on, and write, the real file
    rule = None if path.exists() else rule_for(path, config)  # fails here, before AWS and before any write
    region = pick_region(region)
    cfn = cloudformation
    try:
        session = boto3.Session(profile_name=profile, region_name=region) if profile else boto3
        cfn = cfn or session.client("cloudformation", region_name=region)
        arn = stack_secret_arn(cfn, stack, region)
        values = read_secret(secretsmanager or session.client("secretsmanager", region_name=region), arn)
    except ProfileNotFound:
        raise SecretsPullError(f"AWS profile {profile!r} not found; check ~/.aws/config or drop --profile") from None
    except NoCredentialsError:
        raise SecretsPullError("no AWS credentials found; set AWS_PROFILE or AWS_ACCESS_KEY_ID") from None
    except BotoCoreError as exc:
        raise SecretsPullError(f"AWS call failed ({type(exc).__name__}) at {_endpoint_hint(cfn)}") from None

    if rule is None:
        return files.update(path, values)
    missing_dirs = [parent for parent in reversed(path.parents) if not parent.exists()]
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        files.write(path, values, age=rule.age, kms=rule.kms, crypt=rule.crypt,
                    mac_only_encrypted=rule.mac_only_encrypted)  # fmt: skip
    except BaseException:
        for directory in reversed(missing_dirs):  # leave the tree as it was
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise
    return dict.fromkeys(values, "added")
