"""CloudFormation support for ``AWS::IAM::OIDCProvider`` in moto.

moto 5.2 skips that resource type with a warning ("No Moto CloudFormation support"): the stack
reaches CREATE_COMPLETE, no provider exists, and the invoke role's web-identity trust names an
unresolved ``Ref``. :func:`register_oidc_provider_model` adds a ``CloudFormationModel`` backed by
moto's IAM (found through ``CloudFormationModel.__subclasses__()``, like `local.moto_patches.secrets`).
As on AWS, ``Ref`` and ``GetAtt Arn`` give the provider's ARN; a property change replaces it.
"""

from __future__ import annotations

from typing import Any

from local.moto_patches.cfn_model import OneAttributeResource, forget_model_cache, props_of

RESOURCE_TYPE = "AWS::IAM::OIDCProvider"
_MODEL_MODULE = "moto.iam.cloudformation_oidc_provider"

_registered: type[Any] | None = None


def register_oidc_provider_model() -> type[Any]:
    """Teach moto's CloudFormation ``AWS::IAM::OIDCProvider``; idempotent. Returns the model class."""
    global _registered
    if _registered is not None:
        return _registered

    from moto.core.common_models import CloudFormationModel
    from moto.iam.models import iam_backends

    def backend(account_id: str) -> Any:
        return iam_backends[account_id]["global"]

    class CloudFormationOidcProvider(OneAttributeResource, CloudFormationModel):
        __module__ = _MODEL_MODULE
        CFN_TYPE = RESOURCE_TYPE
        ATTRIBUTE = "Arn"

        @classmethod
        def create_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> CloudFormationOidcProvider:
            props = props_of(cloudformation_json)
            provider = backend(account_id).create_open_id_connect_provider(
                url=props["Url"],
                thumbprint_list=list(props.get("ThumbprintList") or []),
                client_id_list=list(props.get("ClientIdList") or []),
                tags=list(props.get("Tags") or []),
            )
            return cls(str(provider.arn), props, account_id, region_name)

        @classmethod
        def update_from_cloudformation_json(
            cls,
            original_resource: CloudFormationOidcProvider,
            new_resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
        ) -> CloudFormationOidcProvider:
            backend(account_id).delete_open_id_connect_provider(original_resource.physical_id)
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

        @classmethod
        def delete_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
        ) -> None:
            backend(account_id).delete_open_id_connect_provider(resource_name)

        def delete(self, account_id: str, region_name: str) -> None:
            backend(account_id).delete_open_id_connect_provider(self.physical_id)

    forget_model_cache()
    _registered = CloudFormationOidcProvider
    return CloudFormationOidcProvider
