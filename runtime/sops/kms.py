"""AWS KMS recipients: ``kms:Encrypt``/``kms:Decrypt`` of the 32-byte data key.

A stanza is what stores/stores.go ``kmskey`` serializes, keys sorted as sops writes them:
``arn``, ``aws_profile`` (always present, may be empty), ``context`` (only if set),
``created_at`` (RFC 3339), ``enc`` (standard base64 of the ciphertext blob), ``role`` (only
if set). The region comes from the key ARN (kms/keysource.go ``createKMSConfig``); credentials
and ``AWS_ENDPOINT_URL`` come from the usual boto3 chain.
"""

from __future__ import annotations

import base64
import binascii
import re
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from runtime.errors import aws_error_code
from runtime.sops.errors import KmsError, SopsConfigError, SopsFormatError
from runtime.sops.values import rfc3339

# kms/keysource.go arnRegex: what a file written by Go sops may hold (read leniently).
ARN_PATTERN = re.compile(r"^arn:aws[\w-]*:kms:(.+):[0-9]+:(key|alias)/.+$")
# What `secrets init` accepts for a NEW recipient: a real region of a real partition, a 12-digit
# account, and a key id (UUID, or mrk- + 32 hex for a multi-Region key) or an alias name.
_AREA = r"(?:us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov|us-iso|us-isob|eusc)"
_DIRECTION = r"(?:north|south|east|west|central|northeast|northwest|southeast|southwest)"
STRICT_ARN = re.compile(
    rf"^arn:(?P<partition>aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-eusc):kms:"
    rf"(?P<region>{_AREA}-{_DIRECTION}-[1-9]):(?P<account>[0-9]{{12}}):"
    r"(?:key/(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})"
    r"|alias/[A-Za-z0-9/_-]{1,250})$"
)
_PARTITION_OF_AREA = {"cn": "aws-cn", "us-gov": "aws-us-gov", "us-iso": "aws-iso", "us-isob": "aws-iso-b",
                      "eusc": "aws-eusc"}  # fmt: skip


def check_new_arn(arn: str) -> None:
    """Refuse a KMS key ARN that cannot name a real key: unknown region or partition, a partition
    that does not hold the region, an account that is not 12 digits, a malformed key id.

    >>> check_new_arn("arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    >>> check_new_arn("arn:aws:kms:mars-1:111122223333:alias/sops")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    runtime.sops.errors.SopsConfigError: 'arn:aws:kms:mars-1:111122223333:alias/sops' ... (region 'mars-1' is not ...
    """
    match = STRICT_ARN.match(arn)
    parts = arn.split(":")
    problem = ""
    if match is None:
        if len(parts) < 6 or parts[0] != "arn" or parts[2] != "kms":
            problem = "expected arn:PARTITION:kms:REGION:ACCOUNT:key/ID"
        elif not re.fullmatch(rf"{_AREA}-{_DIRECTION}-[1-9]", parts[3]):
            problem = f"region {parts[3]!r} is not an AWS region"
        elif not re.fullmatch(r"aws(?:-cn|-us-gov|-iso|-iso-b|-eusc)?", parts[1]):
            problem = f"partition {parts[1]!r} is not an AWS partition"
        elif not re.fullmatch(r"[0-9]{12}", parts[4]):
            problem = f"account {parts[4]!r} is not 12 digits"
        else:
            problem = "the key part must be key/<uuid>, key/mrk-<32 hex> or alias/<name>"
    else:
        region = match.group("region")
        area = next((a for a in sorted(_PARTITION_OF_AREA, key=len, reverse=True) if region.startswith(a + "-")), "")
        expected = _PARTITION_OF_AREA.get(area, "aws")
        if match.group("partition") != expected:
            problem = f"region {region} is in partition {expected}, not {match.group('partition')}"
    if problem:
        raise SopsConfigError(
            f"{arn!r} is not a KMS key ARN ({problem}); use the KmsKeyArn stack output, "
            "e.g. arn:aws:kms:us-east-1:111122223333:key/<uuid>"
        )


@dataclass(frozen=True)
class KmsKey:
    """One KMS recipient: key ARN, optional role to assume, context and profile."""

    arn: str
    role: str = ""
    context: tuple[tuple[str, str], ...] = ()
    aws_profile: str = ""

    @classmethod
    def parse(cls, text: str, aws_profile: str = "") -> KmsKey:
        """``ARN`` or ``ARN+ROLE_ARN`` as in ``.sops.yaml`` and ``--kms``.

        >>> KmsKey.parse("arn:aws:kms:eu-west-1:111122223333:key/k+arn:aws:iam::111122223333:role/r").role
        'arn:aws:iam::111122223333:role/r'
        """
        text = text.replace(" ", "")
        arn, role = text, ""
        split = text.find("+arn:")
        if split > 0:
            arn, role = text[:split], text[split + 1 :]
        if not ARN_PATTERN.match(arn):
            raise SopsConfigError(f"{arn!r} is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID or alias/NAME)")
        return cls(arn, role, (), aws_profile)

    @property
    def region(self) -> str:
        """The region named in the ARN.

        >>> KmsKey("arn:aws:kms:eu-west-1:111122223333:alias/sops").region
        'eu-west-1'
        """
        match = ARN_PATTERN.match(self.arn)
        if match is None:
            raise SopsFormatError(f"{self.arn!r} is not a KMS key ARN; the file is corrupt")
        return match.group(1)

    def stanza(self, enc: str, created_at: datetime | None = None) -> dict[str, Any]:
        """The metadata entry sops writes for this key (sorted keys)."""
        entry: dict[str, Any] = {
            "arn": self.arn,
            "aws_profile": self.aws_profile,
            "created_at": rfc3339(created_at or datetime.now(UTC)),
            "enc": enc,
        }
        if self.context:
            entry["context"] = dict(sorted(self.context))
        if self.role:
            entry["role"] = self.role
        return dict(sorted(entry.items()))

    @classmethod
    def from_stanza(cls, stanza: dict[str, Any]) -> KmsKey:
        arn = stanza.get("arn")
        if not isinstance(arn, str) or not ARN_PATTERN.match(arn):
            raise SopsFormatError("a kms stanza has no valid arn; the file is corrupt")
        context = stanza.get("context") or {}
        if not isinstance(context, dict) or not all(isinstance(v, str) for v in context.values()):
            raise SopsFormatError("a kms stanza's context is not a string map; the file is corrupt")
        return cls(arn, str(stanza.get("role") or ""), tuple(sorted(context.items())),
                   str(stanza.get("aws_profile") or ""))  # fmt: skip


def _client(key: KmsKey) -> Any:
    import boto3

    session = boto3.Session(profile_name=key.aws_profile or None, region_name=key.region)
    if key.role:
        sts = session.client("sts")
        name = "sops@" + re.sub(r"[^\w+=,.@-]", "", socket.gethostname())
        creds = sts.assume_role(RoleArn=key.role, RoleSessionName=name[:64])["Credentials"]
        session = boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=key.region,
        )
    return session.client("kms", region_name=key.region)


def _fail(action: str, key: KmsKey, exc: Exception) -> KmsError:
    code = aws_error_code(exc)
    hint = "check that your AWS credentials may use this key (kms:Encrypt/kms:Decrypt)"
    if code in ("NoCredentialsError", "PartialCredentialsError"):
        hint = "no AWS credentials found; set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
    return KmsError(f"AWS KMS could not {action} the data key with {key.arn} ({code}); {hint}")


def encrypt_data_key(data_key: bytes, key: KmsKey, created_at: datetime | None = None) -> dict[str, Any]:
    """A sops ``kms`` stanza wrapping ``data_key`` with ``key``."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        out = _client(key).encrypt(KeyId=key.arn, Plaintext=data_key, EncryptionContext=dict(key.context))
    except (BotoCoreError, ClientError) as exc:
        raise _fail("encrypt", key, exc) from None
    return key.stanza(base64.b64encode(out["CiphertextBlob"]).decode("ascii"), created_at)


def decrypt_data_key(stanza: dict[str, Any]) -> bytes:
    """Open one ``kms`` stanza."""
    from botocore.exceptions import BotoCoreError, ClientError

    key = KmsKey.from_stanza(stanza)
    try:
        blob = base64.b64decode(str(stanza.get("enc", "")), validate=True)
    except (binascii.Error, ValueError):
        raise SopsFormatError(f"the kms stanza for {key.arn} has bad base64 in enc; the file is corrupt") from None
    try:
        out = _client(key).decrypt(KeyId=key.arn, CiphertextBlob=blob, EncryptionContext=dict(key.context))
    except (BotoCoreError, ClientError) as exc:
        raise _fail("decrypt", key, exc) from None
    return bytes(out["Plaintext"])
