"""Everything local AWS changes in moto, installed in one call (inside the server process, or in
a test process before ``mock_aws``).

* ``AWS::SecretsManager::Secret`` in CloudFormation (:mod:`local.moto_patches.secrets`);
* ``AWS::IAM::OIDCProvider`` in CloudFormation (:mod:`local.moto_patches.oidc`, the invoke role's
  GitHub provider);
* the spend controls' resources (:mod:`local.moto_patches.spend`);
* change sets as ``cdk deploy`` uses them (:mod:`local.moto_patches.changesets`);
* ``AWS::KMS::Key`` from CloudFormation: moto stores the ``KeyPolicy`` object as is, and every
  later KMS call that checks the policy (DescribeKey, Encrypt, ...) crashes on ``json.loads`` of
  it; AWS stores the policy document as JSON text. :func:`fix_kms_key_policy` serialises it.
* ``AWS::IAM::ManagedPolicy`` from CloudFormation has no update or delete in moto: a changed
  policy (other models) is dropped from the stack, and deleting the stack fails ("must detach
  all policies first"). :func:`fix_managed_policy` updates in place (new default version; the
  difference between the old and new ``Users`` attached/detached, so attachments made outside
  the template stay, as in AWS) and deletes after detaching, as AWS does.
* A modified resource whose moto model has no update (``AWS::KMS::Key``, ...) is replaced by
  ``None`` in the stack, so every later ``Ref``/``GetAtt`` of it fails ("references undefined
  resource"). :func:`fix_update_without_model` keeps the existing resource instead.
* ``sts:AssumeRole`` ignores trust policies and ``MaxSessionDuration``:
  :func:`local.moto_patches.trust.fix_assume_role_trust` checks both.
* A resource removed by a stack update is deleted but stays in the stack's cache of parsed
  resources, so when a later update adds the same logical id again (``allowed_models`` widened,
  shrunk, widened: the second ``BedrockInvokePolicy2…`` comes and goes) moto hands back the deleted
  object instead of creating it. CloudFormation then names a policy IAM no longer has, and the next
  update that removes it fails ``NoSuchEntity``. :func:`fix_removed_resources` forgets what an
  update removed, as AWS does.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from local.moto_patches.changesets import fix_change_sets
from local.moto_patches.oidc import register_oidc_provider_model
from local.moto_patches.secrets import register_secret_model
from local.moto_patches.spend import register_spend_models
from local.moto_patches.trust import fix_assume_role_trust

_kms_patched = False
_policy_patched = False
_update_patched = False
_removed_patched = False


def policy_text(policy: Any) -> Any:
    """A key policy as AWS stores it: JSON text (text stays as it is).

    >>> policy_text({"Version": "2012-10-17"}), policy_text('{"a": 1}')
    ('{"Version": "2012-10-17"}', '{"a": 1}')
    """
    return json.dumps(policy) if isinstance(policy, dict) else policy


def fix_kms_key_policy() -> None:
    """Make CloudFormation-created KMS keys keep their policy as JSON text; idempotent."""
    global _kms_patched
    if _kms_patched:
        return
    from moto.kms.models import KmsBackend

    original_create_key = KmsBackend.create_key

    def create_key(self: Any, policy: Any, *args: Any, **kwargs: Any) -> Any:
        return original_create_key(self, policy_text(policy), *args, **kwargs)

    setattr(KmsBackend, "create_key", create_key)  # noqa: B010 (patching moto)
    _kms_patched = True


def fix_managed_policy() -> None:
    """Give moto's CloudFormation ``AWS::IAM::ManagedPolicy`` an update and a delete; idempotent."""
    global _policy_patched
    if _policy_patched:
        return
    from moto.iam.models import ManagedPolicy, iam_backends
    from moto.utilities.utils import get_partition

    def backend(account_id: str, region_name: str) -> Any:
        return iam_backends[account_id][get_partition(region_name)]

    def sync_users(iam: Any, policy: Any, wanted: set[str]) -> None:
        attached = {name for name, user in iam.users.items() if policy.arn in user.managed_policies}
        for name in sorted(attached - wanted):
            iam.detach_user_policy(policy.arn, name)
        for name in sorted(wanted - attached):
            iam.attach_user_policy(policy_arn=policy.arn, user_name=name)

    def update_from_cloudformation_json(
        cls: Any,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        props = cloudformation_json.get("Properties", {})
        iam = backend(account_id, region_name)
        name = props.get("ManagedPolicyName")
        if name and name != original_resource.name:  # a new name replaces the policy
            delete_from_cloudformation_json(cls, original_resource.arn, {}, account_id, region_name)
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
        document = json.dumps(props.get("PolicyDocument"))
        current = next((v.document for v in original_resource.versions if v.is_default), "null")
        if json.loads(document) != json.loads(current or "null"):
            for version in list(original_resource.versions):
                if not version.is_default and len(original_resource.versions) >= 5:
                    iam.delete_policy_version(original_resource.arn, version.version_id)
            iam.create_policy_version(original_resource.arn, document, set_as_default=True)
        # As CloudFormation does: attach/detach the difference between the old and the new Users
        # property only, so an attachment made outside the template (AWS Budgets' stop) stays.
        before = set(getattr(original_resource, "cfn_users", set()))
        wanted = set(props.get("Users", []))
        attached = {name for name, user in iam.users.items() if original_resource.arn in user.managed_policies}
        for name in sorted((before - wanted) & attached):
            iam.detach_user_policy(original_resource.arn, name)
        for name in sorted(wanted - attached):
            iam.attach_user_policy(policy_arn=original_resource.arn, user_name=name)
        original_resource.cfn_users = wanted
        return original_resource

    def delete_from_cloudformation_json(
        cls: Any, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        iam = backend(account_id, region_name)
        policy = iam.get_policy(resource_name)
        sync_users(iam, policy, set())
        for group in iam.groups.values():
            if policy.arn in group.managed_policies:
                policy.detach_from(group)
        for role in iam.roles.values():
            if policy.arn in role.managed_policies:
                policy.detach_from(role)
        iam.delete_policy(policy.arn)

    original_create = ManagedPolicy.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(
        cls: Any, /, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kw: Any,
    ) -> Any:  # fmt: skip
        created = original_create(cls, resource_name, cloudformation_json, account_id, region_name, **kw)
        # what the template attached (an update detaches only users the template drops)
        created.cfn_users = set(cloudformation_json.get("Properties", {}).get("Users", []))
        return created

    setattr(ManagedPolicy, "create_from_cloudformation_json", classmethod(create_from_cloudformation_json))  # noqa: B010
    setattr(ManagedPolicy, "update_from_cloudformation_json", classmethod(update_from_cloudformation_json))  # noqa: B010
    setattr(ManagedPolicy, "delete_from_cloudformation_json", classmethod(delete_from_cloudformation_json))  # noqa: B010
    _policy_patched = True


def fix_update_without_model() -> None:
    """Keep a modified resource that moto cannot update, rather than dropping it; idempotent."""
    global _update_patched
    if _update_patched:
        return
    from moto.cloudformation import parsing

    original = parsing.parse_and_update_resource

    def parse_and_update_resource(
        logical_id: str, resource_json: dict[str, Any], resources_map: Any, account_id: str, region_name: str
    ) -> Any:
        updated = original(logical_id, resource_json, resources_map, account_id, region_name)
        if updated is None:
            return resources_map._parsed_resources.get(logical_id)
        return updated

    setattr(parsing, "parse_and_update_resource", parse_and_update_resource)  # noqa: B010
    _update_patched = True


def fix_removed_resources() -> None:
    """Make a stack update forget the resources it removed (re-adding one creates it); idempotent."""
    global _removed_patched
    if _removed_patched:
        return
    from moto.cloudformation.parsing import ResourceMap

    original_update = ResourceMap.update

    @functools.wraps(original_update)  # __wrapped__ keeps moto's own, for the failing-case test
    def update(self: Any, template: dict[str, Any], parameters: dict[str, Any] | None = None) -> None:
        diff = self.build_resource_diff(template, parameters)
        # a stale entry left by an earlier update (before this fix) would still be reused
        for logical_id in diff["Add"]:
            self._parsed_resources.pop(logical_id, None)
        original_update(self, template, parameters)
        for logical_id in diff["Remove"]:  # all deleted: moto's update raises otherwise
            self._parsed_resources.pop(logical_id, None)

    setattr(ResourceMap, "update", update)  # noqa: B010 (patching moto)
    _removed_patched = True


def install() -> None:
    """Install every fix above; idempotent."""
    register_secret_model()
    register_oidc_provider_model()
    fix_change_sets()
    fix_kms_key_policy()
    fix_managed_policy()
    fix_update_without_model()
    fix_assume_role_trust()
    register_spend_models()
    fix_removed_resources()
