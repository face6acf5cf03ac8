"""AWS credentials as a value whose `repr`/`str` never show the secret; temporary credentials of a
role or of the default chain kept fresh by botocore (`Credentials.from_role`, `from_default_chain`)."""

from __future__ import annotations

import _thread  # the builtin behind threading, already loaded: `import threading` costs ms
import os

from runtime.constants import (
    ENV_AWS_ACCESS_KEY_ID,
    ENV_AWS_REGION,
    ENV_AWS_SECRET_ACCESS_KEY,
    ENV_AWS_SESSION_TOKEN,
    REDACTED,
)
from runtime.env import environ_region
from runtime.errors import CredentialsError
from runtime.redact import mask_key_id as mask_key_id  # the one owner; importable from here too

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime
    from typing import Any

DEFAULT_SESSION_NAME = "portkey-bedrock-access"
DEFAULT_SESSION_SECONDS = 3600  # STS's default, and IAM's default MaxSessionDuration


# Credentials.from_sops cache: path as given -> ((device, inode, size, mtime_ns), credentials).
_SOPS_CACHE: dict[str, tuple[tuple[int, int, int, int], Credentials]] = {}
_SOPS_LOCK = _thread.allocate_lock()


class Credentials:
    """Access key id, secret, optional session token and region. Immutable.

    >>> print(Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG", region="eu-west-1"))
    ... # doctest: +NORMALIZE_WHITESPACE
    Credentials(access_key_id='AKIA…MPLE', secret_access_key=<redacted>, session_token=None,
                region='eu-west-1')
    """

    __slots__ = ("access_key_id", "region", "secret_access_key", "session_token")

    access_key_id: str
    secret_access_key: str
    session_token: str | None
    region: str | None

    def __init__(
        self,
        access_key_id: str,
        secret_access_key: str,
        session_token: str | None = None,
        region: str | None = None,
    ) -> None:
        if not access_key_id or not secret_access_key:
            raise CredentialsError(
                "credentials need both an access key id and a secret access key; "
                f"set {ENV_AWS_ACCESS_KEY_ID} and {ENV_AWS_SECRET_ACCESS_KEY} or load a SOPS env file"
            )
        object.__setattr__(self, "access_key_id", access_key_id)
        object.__setattr__(self, "secret_access_key", secret_access_key)
        object.__setattr__(self, "session_token", session_token or None)
        object.__setattr__(self, "region", region or None)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Credentials are immutable")

    def __repr__(self) -> str:
        token = REDACTED if self.session_token else None
        return (
            f"Credentials(access_key_id={mask_key_id(self.access_key_id)!r}, "
            f"secret_access_key={REDACTED}, session_token={token}, region={self.region!r})"
        )

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __reduce__(self) -> tuple[object, ...]:
        return (Credentials, self._key())

    def _key(self) -> tuple[str, str, str | None, str | None]:
        return (self.access_key_id, self.secret_access_key, self.session_token, self.region)

    def as_env(self) -> dict[str, str]:
        """The flat env mapping (``AWS_ACCESS_KEY_ID`` ...) these credentials came from."""
        env = {
            ENV_AWS_ACCESS_KEY_ID: self.access_key_id,
            ENV_AWS_SECRET_ACCESS_KEY: self.secret_access_key,
        }
        if self.region:
            env[ENV_AWS_REGION] = self.region
        if self.session_token:
            env[ENV_AWS_SESSION_TOKEN] = self.session_token
        return env

    @classmethod
    def from_mapping(cls, env: Mapping[str, str], source: str = "the environment") -> Credentials:
        """Read the standard AWS names from a mapping (an env file or ``os.environ``)."""
        key_id = env.get(ENV_AWS_ACCESS_KEY_ID)
        secret = env.get(ENV_AWS_SECRET_ACCESS_KEY)
        missing = [
            name for name, value in ((ENV_AWS_ACCESS_KEY_ID, key_id), (ENV_AWS_SECRET_ACCESS_KEY, secret)) if not value
        ]
        if missing:
            pronoun = "them" if len(missing) > 1 else "it"
            raise CredentialsError(
                f"{' and '.join(missing)} missing from {source}; set {pronoun}, "
                "or load the SOPS env file (python -m runtime secrets pull)"
            )
        return cls(
            str(key_id),
            str(secret),
            env.get(ENV_AWS_SESSION_TOKEN),
            environ_region(env),
        )

    @classmethod
    def load(cls, sops_file: str | os.PathLike[str] | None = None) -> Credentials:
        """From `sops_file` when one is given (``--sops``), else from the environment."""
        return cls.from_sops(sops_file) if sops_file else cls.from_env()

    @classmethod
    def from_sops(cls, path: str | os.PathLike[str]) -> Credentials:
        """Credentials from a SOPS-encrypted env JSON file (``secrets/env.json``).

        Decrypted once per file version: the result is cached per path and re-read when the
        file's inode, size or mtime changes, so a rotated key is picked up without a restart.
        A plaintext (non-SOPS) file is refused.
        """
        name = os.fspath(path)
        if name.startswith("~"):
            name = os.path.expanduser(name)
        try:
            info = os.stat(name)  # follows symlinks: a re-pointed link is a new stamp too
        except FileNotFoundError:
            raise CredentialsError(f"{path} does not exist; create it with `python -m runtime secrets pull`") from None
        # Keyed by the name as given (no realpath: this runs once per request in runtime.gateway.client);
        # the stamp tells a different file (another cwd, a rotated file) from the cached one.
        stamp = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
        with _SOPS_LOCK:
            cached = _SOPS_CACHE.get(name)
            if cached is not None and cached[0] == stamp:
                return cached[1]
        from runtime.sops.files import load

        plain = load(name)
        values = {k: v for k, v in plain.items() if isinstance(v, str)}
        creds = cls.from_mapping(values, source=str(path))
        with _SOPS_LOCK:
            _SOPS_CACHE[name] = (stamp, creds)
        return creds

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Credentials:
        """Credentials from ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
        ``AWS_SESSION_TOKEN`` and ``AWS_REGION`` (or ``AWS_DEFAULT_REGION``)."""
        return cls.from_mapping(os.environ if env is None else env)

    def frozen(self) -> Credentials:
        """These credentials as of now: a static value (``self`` here; a refreshing subclass returns
        one consistent snapshot, so a key id is never paired with another session's secret)."""
        return self

    @classmethod
    def from_default_chain(cls, *, region: str | None = None) -> RefreshingCredentials:
        """The credentials botocore's default chain finds (environment, shared config/SSO, web
        identity, container or instance metadata), refreshed by botocore when they are temporary."""
        from runtime.credentials.assume_role import default_chain

        return default_chain(region)

    @classmethod
    def from_role(
        cls,
        role_arn: str,
        *,
        session_name: str = DEFAULT_SESSION_NAME,
        duration: int = DEFAULT_SESSION_SECONDS,
        source: Credentials | None = None,
        external_id: str | None = None,
        region: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> RefreshingCredentials:
        """Temporary credentials of `role_arn` (``sts:AssumeRole`` with `source`, else the default
        chain), kept fresh by botocore's ``RefreshableCredentials``: re-assumed in its advisory
        window before expiry, blocking in the mandatory one. `clock` (aware UTC datetimes) is for
        tests. The role is assumed once here, so a trust or duration problem fails now, one line."""
        from runtime.credentials.assume_role import assume_role

        return assume_role(
            role_arn,
            session_name=session_name,
            duration=duration,
            source=source,
            external_id=external_id,
            region=region,
            clock=clock,
        )


class RefreshingCredentials(Credentials):
    """Credentials backed by a botocore credentials object (``RefreshableCredentials`` for a role or
    the default chain's temporary credentials). Each attribute read, and :meth:`frozen`, returns the
    current value; use :meth:`frozen` for a consistent key/secret/token triple. Never pickled, and
    its repr names where the credentials come from, never a key or token."""

    __slots__ = ("_botocore", "_label")

    _botocore: Any
    _label: str

    def __init__(self, botocore_credentials: Any, *, region: str | None, label: str) -> None:
        object.__setattr__(self, "_botocore", botocore_credentials)
        object.__setattr__(self, "_label", label)
        object.__setattr__(self, "region", region or None)

    def frozen(self) -> Credentials:
        snapshot = self._botocore.get_frozen_credentials()
        return Credentials(snapshot.access_key, snapshot.secret_key, snapshot.token, self.region)

    @property  # a read-only view of the refreshed value
    def access_key_id(self) -> str:  # type: ignore[override]
        return self.frozen().access_key_id

    @property  # a read-only view of the refreshed value
    def secret_access_key(self) -> str:  # type: ignore[override]
        return self.frozen().secret_access_key

    @property  # a read-only view of the refreshed value
    def session_token(self) -> str | None:  # type: ignore[override]
        return self.frozen().session_token

    @property
    def label(self) -> str:
        """Where these credentials come from (``role arn:…/name`` or ``default chain (env)``)."""
        return str(self._label)

    def __repr__(self) -> str:
        return f"RefreshingCredentials(source={self._label!r}, region={self.region!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("RefreshingCredentials cannot be pickled; pickle .frozen() or re-assume the role")

    def as_env(self) -> dict[str, str]:
        return self.frozen().as_env()
