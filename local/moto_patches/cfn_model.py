"""What our moto ``CloudFormationModel`` subclasses share (`oidc`, `secrets`, `spend`).

moto finds a model among ``CloudFormationModel``'s *direct* subclasses and files it by the second
dotted part of its ``__module__`` (the service name), so each model lists ``CloudFormationModel``
itself as a base after one of these mixins and sets its own ``__module__``; after defining models,
:func:`forget_model_cache` makes moto's parser look again.

>>> class Thing(OneAttributeResource):
...     CFN_TYPE, NAME_TYPE, ATTRIBUTE = "AWS::X::Thing", "ThingName", "Arn"
>>> thing = Thing("arn:x", {}, "123456789012", "eu-west-1")
>>> (Thing.cloudformation_type(), Thing.cloudformation_name_type(), thing.physical_resource_id)
('AWS::X::Thing', 'ThingName', 'arn:x')
>>> (Thing.has_cfn_attr("Arn"), Thing.has_cfn_attr("Name"), thing.get_cfn_attribute("Arn"))
(True, False, 'arn:x')
"""

from __future__ import annotations

from typing import Any


class CfnResource:
    """A resource known by its physical id, with the properties CloudFormation gave it."""

    CFN_TYPE = ""
    NAME_TYPE = ""

    def __init__(self, physical_id: str, props: dict[str, Any], account_id: str, region: str) -> None:
        self.physical_id = physical_id
        self.props = props
        self.account_id = account_id
        self.region = region

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_TYPE

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.CFN_TYPE

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    def is_created(self) -> bool:
        return True


class OneAttributeResource(CfnResource):
    """A resource whose one ``GetAtt`` attribute (``ATTRIBUTE``) is its physical id, as ``Ref`` is."""

    ATTRIBUTE = ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == cls.ATTRIBUTE

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == self.ATTRIBUTE:
            return self.physical_id
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        raise UnformattedGetAttTemplateException()


def props_of(cloudformation_json: dict[str, Any]) -> dict[str, Any]:
    """A copy of a resource's ``Properties`` (none: empty).

    >>> props_of({"Properties": {"Name": "n"}}), props_of({})
    ({'Name': 'n'}, {})
    """
    return dict(cloudformation_json.get("Properties", {}))


def forget_model_cache() -> None:
    """Make moto's CloudFormation parser list the models again (it caches them on first use)."""
    from moto.cloudformation import parsing

    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
