"""Where the double learns secrets and policies: two small interfaces and two implementations.

`MotoKeyStore` / `MotoPolicyStore` read moto's in-memory IAM backend, so they only see what
the moto server running *in this same process* holds (AWS never returns a secret key by API,
so reading the backend is the only way to verify a signature). `DictKeyStore` /
`DictPolicyStore` are plain mappings for unit tests and standalone runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import unquote

DEFAULT_ACCOUNT = "123456789012"  # moto's default account id


@dataclass(frozen=True)
class KeyRecord:
    """The owner and secret of one access key. The secret never shows in a repr.

    For an STS session (``ASIA…`` key) `user_arn` is the assumed **role's** ARN (whose policies
    apply), `session_token` the token the request must carry, `expires` its expiry (aware UTC).
    """

    user_name: str
    user_arn: str
    secret: str = field(repr=False)
    active: bool = True
    session_token: str | None = field(default=None, repr=False)
    expires: datetime | None = None
    session_arn: str | None = None  # arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION, as AWS names the caller

    @property
    def caller_arn(self) -> str:
        """Who AWS says made the call: the session's assumed-role ARN, else the user's ARN.

        >>> KeyRecord("u", "arn:aws:iam::1:user/u", "s").caller_arn
        'arn:aws:iam::1:user/u'
        """
        return self.session_arn or self.user_arn

    @property
    def account(self) -> str:
        """The account id from the user ARN.

        >>> KeyRecord("u", "arn:aws:iam::111122223333:user/u", "s").account
        '111122223333'
        """
        parts = self.user_arn.split(":")
        return parts[4] if len(parts) > 4 and parts[4] else DEFAULT_ACCOUNT


class KeyStore(Protocol):
    def secret_for(self, access_key_id: str) -> KeyRecord | None:
        """The key's record, or None when no user owns this access key id."""


class PolicyStore(Protocol):
    def documents_for(self, user_arn: str) -> list[dict[str, Any]]:
        """Every identity policy document in force for the user (managed default versions and
        inline policies, also those of the user's groups)."""


def user_arn(user_name: str, account: str = DEFAULT_ACCOUNT, path: str = "/") -> str:
    """
    >>> user_arn("alice")
    'arn:aws:iam::123456789012:user/alice'
    """
    return f"arn:aws:iam::{account}:user{path}{user_name}"


class DictKeyStore:
    """Access key id -> KeyRecord."""

    def __init__(self, keys: Mapping[str, KeyRecord] | None = None) -> None:
        self._keys = dict(keys or {})

    def add(
        self,
        access_key_id: str,
        secret: str,
        user_name: str = "double-user",
        *,
        account: str = DEFAULT_ACCOUNT,
        active: bool = True,
    ) -> KeyRecord:
        record = KeyRecord(user_name, user_arn(user_name, account), secret, active)
        self._keys[access_key_id] = record
        return record

    def add_session(self, access_key_id: str, secret: str, token: str, role_arn: str, expires: datetime) -> KeyRecord:
        """An STS session of `role_arn` (what AssumeRole hands out)."""
        name = role_arn.rsplit("/", 1)[-1]
        session_arn = f"{role_arn.replace(':iam::', ':sts::').rsplit(':role/', 1)[0]}:assumed-role/{name}/session"
        record = KeyRecord(name, role_arn, secret, True, token, expires, session_arn)
        self._keys[access_key_id] = record
        return record

    def secret_for(self, access_key_id: str) -> KeyRecord | None:
        return self._keys.get(access_key_id)


class DictPolicyStore:
    """User ARN (or bare user name) -> policy documents."""

    def __init__(self, documents: Mapping[str, Sequence[Mapping[str, Any]]] | None = None) -> None:
        self._documents = {user: [dict(d) for d in docs] for user, docs in (documents or {}).items()}

    def set(self, user: str, documents: Sequence[Mapping[str, Any]]) -> None:
        self._documents[user] = [dict(d) for d in documents]

    def documents_for(self, user_arn: str) -> list[dict[str, Any]]:
        name = user_arn.rsplit("/", 1)[-1]
        return list(self._documents.get(user_arn, self._documents.get(name, [])))


def parse_document(document: str | Mapping[str, Any]) -> dict[str, Any]:
    """A policy document as moto may store it: a dict, JSON, or URL-encoded JSON.

    >>> parse_document('%7B%22Statement%22%3A%20%5B%5D%7D')
    {'Statement': []}
    """
    if isinstance(document, Mapping):
        return dict(document)
    try:
        parsed = json.loads(document)
    except ValueError:
        parsed = json.loads(unquote(document))
    return dict(parsed)


def _iam_backends() -> Iterator[Any]:
    from moto.iam.models import iam_backends

    for account in list(iam_backends.keys()):
        yield iam_backends[account]["global"]


def _default_document(policy: Any) -> dict[str, Any] | None:
    for version in list(policy.versions):
        if version.is_default:
            return parse_document(version.document)
    return None


def _aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # moto keeps naive UTC


class MotoKeyStore:
    """Access keys of the moto IAM backend in this process (every account moto knows), and the
    sessions moto's STS handed out (AssumeRole), each tied to its role."""

    def secret_for(self, access_key_id: str) -> KeyRecord | None:
        for backend in _iam_backends():
            for user in list(backend.users.values()):
                for key in list(user.access_keys):
                    if key.access_key_id == access_key_id:
                        return KeyRecord(user.name, user.arn, key.secret_access_key, key.status == "Active")
        return self._session(access_key_id)

    @staticmethod
    def _session(access_key_id: str) -> KeyRecord | None:
        from moto.sts.models import sts_backends

        for account in list(sts_backends.keys()):
            for backend in list(sts_backends[account].values()):
                session = backend.get_assumed_role_from_access_key(access_key_id)
                if session is not None:
                    return KeyRecord(
                        session.role_arn.rsplit("/", 1)[-1],
                        session.role_arn,
                        session.secret_access_key,
                        True,
                        session.session_token,
                        _aware(session.expiration),
                        str(session.arn),
                    )
        return None


class MotoPolicyStore:
    """Identity policies of a moto IAM user (attached managed policies at their default version,
    inline policies, and the same for the user's groups) or of a role (an STS session's)."""

    def documents_for(self, user_arn: str) -> list[dict[str, Any]]:
        account = user_arn.split(":")[4] if user_arn.count(":") >= 5 else DEFAULT_ACCOUNT
        name = user_arn.rsplit("/", 1)[-1]
        from moto.iam.models import iam_backends

        backend = iam_backends[account]["global"]
        holders: list[Any]
        if ":role/" in user_arn:
            role = next((r for r in backend.get_roles() if r.arn == user_arn), None)
            holders = [role] if role is not None else []
        else:
            user = backend.users.get(name)
            if user is None:
                return []
            holders = [user, *backend.get_groups_for_user(name)]
        documents: list[dict[str, Any]] = []
        for holder in holders:
            for policy in list(holder.managed_policies.values()):
                document = _default_document(policy)
                if document is not None:
                    documents.append(document)
            documents.extend(parse_document(doc) for doc in list(holder.policies.values()))
        return documents
