"""CloudFormation support for ``AWS::SecretsManager::Secret`` in moto.

moto 5.2 silently skips that resource type: the stack reaches CREATE_COMPLETE but the secret
never exists and every output that references it vanishes. :func:`register_secret_model`
defines a ``CloudFormationModel`` subclass backed by moto's own Secrets Manager backend, which
moto discovers through ``CloudFormationModel.__subclasses__()``. In server mode it must run
inside the server process, before the first stack is created.

Behaviour follows AWS: ``Ref`` and ``GetAtt Id`` return the ARN; a new ``SecretString`` makes a
new version (AWSCURRENT moves); ``KmsKeyId``/``Description`` change in place; a new ``Name``
replaces the secret; delete removes it without a recovery window.

>>> from local.moto_patches.secrets import generated_secret_string
>>> generated_secret_string({"SecretStringTemplate": '{"user": "a"}', "GenerateStringKey": "pw",
...                          "PasswordLength": 4, "ExcludeCharacters": ""}, lambda props: "xyzw")
'{"user": "a", "pw": "xyzw"}'
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from local.moto_patches.cfn_model import OneAttributeResource, forget_model_cache, props_of

RESOURCE_TYPE = "AWS::SecretsManager::Secret"
# moto files models by the second dotted part of __module__ (its service name).
_MODEL_MODULE = "moto.secretsmanager.cloudformation_secret"

_registered: type[Any] | None = None


def generated_secret_string(generate: dict[str, Any], password: Callable[[dict[str, Any]], str]) -> str:
    """The SecretString that a ``GenerateSecretString`` block asks for.

    >>> generated_secret_string({}, lambda props: "s3cr3t")
    's3cr3t'
    """
    value = password(generate)
    template = generate.get("SecretStringTemplate")
    key = generate.get("GenerateStringKey")
    if template and key:
        document = json.loads(template)
        document[key] = value
        return json.dumps(document)
    return value


def _random_password(generate: dict[str, Any]) -> str:
    from moto.secretsmanager.utils import random_password

    def flag(name: str) -> bool:
        return str(generate.get(name, False)).lower() == "true"

    return str(
        random_password(
            password_length=int(generate.get("PasswordLength", 32)),
            exclude_characters=str(generate.get("ExcludeCharacters", "")),
            exclude_numbers=flag("ExcludeNumbers"),
            exclude_punctuation=flag("ExcludePunctuation"),
            exclude_uppercase=flag("ExcludeUppercase"),
            exclude_lowercase=flag("ExcludeLowercase"),
            include_space=flag("IncludeSpace"),
            require_each_included_type=str(generate.get("RequireEachIncludedType", True)).lower() == "true",
        )
    )


def register_secret_model() -> type[Any]:
    """Teach moto's CloudFormation ``AWS::SecretsManager::Secret``; idempotent. Returns the model class."""
    global _registered
    if _registered is not None:
        return _registered

    from moto.core.common_models import CloudFormationModel
    from moto.secretsmanager.models import secretsmanager_backends

    def backend(account_id: str, region_name: str) -> Any:
        return secretsmanager_backends[account_id][region_name]

    def secret_string(props: dict[str, Any]) -> str | None:
        if "SecretString" in props:
            return str(props["SecretString"])
        if "GenerateSecretString" in props:
            return generated_secret_string(props["GenerateSecretString"], _random_password)
        return None

    class CloudFormationSecret(OneAttributeResource, CloudFormationModel):
        __module__ = _MODEL_MODULE
        CFN_TYPE = RESOURCE_TYPE
        NAME_TYPE = "Name"
        ATTRIBUTE = "Id"

        def __init__(self, name: str, arn: str, props: dict[str, Any], account_id: str, region: str) -> None:
            super().__init__(arn, props, account_id, region)
            self.name = name

        def __repr__(self) -> str:  # never shows the secret value
            return f"CloudFormationSecret(name={self.name!r})"

        @classmethod
        def create_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> CloudFormationSecret:
            props = props_of(cloudformation_json)
            created = backend(account_id, region_name).create_secret(
                name=resource_name,
                secret_string=secret_string(props),
                secret_binary=None,
                description=props.get("Description"),
                tags=props.get("Tags"),
                kms_key_id=props.get("KmsKeyId"),
                client_request_token=None,
                replica_regions=[],
                force_overwrite=False,
            )
            arn = json.loads(created)["ARN"]
            return cls(resource_name, arn, props, account_id, region_name)

        @classmethod
        def update_from_cloudformation_json(
            cls,
            original_resource: CloudFormationSecret,
            new_resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
        ) -> CloudFormationSecret:
            props = props_of(cloudformation_json)
            # Without a Name property moto hands us a fresh random name on every update.
            if "Name" in props and props["Name"] != original_resource.name:
                original_resource.delete(account_id, region_name)
                return cls.create_from_cloudformation_json(
                    new_resource_name, cloudformation_json, account_id, region_name
                )
            old = original_resource.props
            value: str | None = None
            if props.get("SecretString") != old.get("SecretString") or props.get("GenerateSecretString") != old.get(
                "GenerateSecretString"
            ):
                value = secret_string(props)
            backend(account_id, region_name).update_secret(
                secret_id=original_resource.name,
                secret_string=value,
                client_request_token=str(uuid.uuid4()),
                kms_key_id=props.get("KmsKeyId"),
                description=props.get("Description"),
            )
            if value is None and "GenerateSecretString" in old:
                props["GenerateSecretString"] = old["GenerateSecretString"]
            return cls(original_resource.name, original_resource.physical_id, props, account_id, region_name)

        @classmethod
        def delete_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
        ) -> None:
            backend(account_id, region_name).delete_secret(
                resource_name, recovery_window_in_days=None, force_delete_without_recovery=True
            )

        def delete(self, account_id: str, region_name: str) -> None:
            self.delete_from_cloudformation_json(self.physical_id, {}, account_id, region_name)

    forget_model_cache()
    _registered = CloudFormationSecret
    return CloudFormationSecret
