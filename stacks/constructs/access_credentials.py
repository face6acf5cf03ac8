"""The user's access key(s), the KMS key and the Secrets Manager secret that holds the active key.

Rotation is two-phase and driven by two serials (see `stacks.rotate`):

* phase 1 deploys ``access_key_serial=N+1, retained_access_key_serial=N``: both keys exist and the
  secret points at N+1, so clients still holding key N keep working;
* phase 2 deploys ``access_key_serial=N+1`` alone: key N is deleted.

Each key's construct id is derived from its serial, so a serial that stays in the config keeps
its logical id and is never replaced.

``secret_readers`` (default empty: no resource policy) adds a resource policy to the secret that
denies ``secretsmanager:GetSecretValue`` to every principal but those named and the account's root
user. Without it any principal of the account with broad IAM rights (``secretsmanager:*`` on ``*``)
reads the key. The root user stays as break-glass: it can always rewrite the policy anyway, so
excluding it would only lock out the account owner when every named reader is gone. The operator
and CI principals that run ``secrets pull`` and ``stacks.rotate`` must be among the readers.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from aws_cdk import Acknowledgment, Aws, SecretValue, Stack, Token, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from runtime.constants import ENV_AWS_ACCESS_KEY_ID, ENV_AWS_REGION, ENV_AWS_SECRET_ACCESS_KEY
from stacks.names import key_description, kms_alias, secret_description
from stacks.principals import foreign_principals_warning

if TYPE_CHECKING:
    from collections.abc import Sequence

# What SOPS needs of a KMS recipient: wrap (Encrypt/GenerateDataKey) and unwrap (Decrypt).
SOPS_KMS_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")
READ_SECRET_ACTION = "secretsmanager:GetSecretValue"  # noqa: S105 (an IAM action)


def access_key_id_for(serial: int) -> str:
    """The construct id of the access key with `serial`; stable, so is its logical id.

    >>> access_key_id_for(3)
    'AccessKey3'
    """
    return f"AccessKey{serial}"


class AccessCredentials(Construct):
    """Access keys for `user`, and a KMS-encrypted secret with the active one as
    ``{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"}``. The template only carries
    ``Ref``/``Fn::GetAtt`` of the key: CloudFormation fills the secret in at deploy time."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        user: iam.IUser,
        user_name: str,
        region: str,
        secret_name: str,
        access_key_serial: int,
        retained_access_key_serial: int | None = None,
        kms_principals: Sequence[str] = (),
        secret_readers: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        account = Stack.of(self).account
        warning = foreign_principals_warning(
            "kms_principals", tuple(kms_principals), None if Token.is_unresolved(account) else account
        )
        if warning:  # allowed (a CI account may encrypt), but never silently
            print(warning, file=sys.stderr)
        self.key = kms.Key(
            self,
            "Key",
            alias=kms_alias(user_name),
            description=key_description(user_name, secret_name),
            enable_key_rotation=True,
        )
        if kms_principals:
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="SopsRecipients",
                    principals=[iam.ArnPrincipal(arn) for arn in kms_principals],
                    actions=list(SOPS_KMS_ACTIONS),
                    # In a key policy "*" means this key only.
                    resources=["*"],
                )
            )

        serials = [access_key_serial]
        if retained_access_key_serial is not None and retained_access_key_serial != access_key_serial:
            serials.append(retained_access_key_serial)
        self.access_keys = {
            serial: iam.AccessKey(self, access_key_id_for(serial), user=user, serial=serial)
            for serial in sorted(serials)
        }
        self.active_key = self.access_keys[access_key_serial]

        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            secret_name=secret_name,
            description=secret_description(user_name),
            encryption_key=self.key,
            secret_object_value={
                ENV_AWS_ACCESS_KEY_ID: SecretValue.resource_attribute(self.active_key.access_key_id),
                ENV_AWS_SECRET_ACCESS_KEY: self.active_key.secret_access_key,
                ENV_AWS_REGION: SecretValue.unsafe_plain_text(region),  # not a secret
            },
        )
        if secret_readers:
            self.secret.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="OnlyNamedReaders",
                    effect=iam.Effect.DENY,
                    principals=[iam.AnyPrincipal()],
                    actions=[READ_SECRET_ACTION],
                    resources=["*"],  # in a resource policy: this secret
                    conditions={
                        "ArnNotEquals": {
                            "aws:PrincipalArn": [*secret_readers, f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:root"]
                        }
                    },
                )
            )
        Validations.of(self.secret).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SMG4",
                reason="the secret holds an IAM access key that is rotated by the two-phase "
                "access_key_serial procedure (make rotate), not by a Secrets Manager rotation Lambda",
            )
        )
