"""Encrypt and decrypt a whole SOPS document with a known data key (no recipients here).

Mirrors getsops/sops ``sops.go``: values are visited in document order; a value's AAD is its
key path joined with ``:`` plus a trailing ``:`` (list items add nothing to the path); ``null``
is left alone and not hashed; the MAC is the uppercase hex SHA-512 of the plaintext bytes of
every visited value (only the encrypted ones when ``mac_only_encrypted``), stored encrypted
with AAD = the ``lastmodified`` timestamp.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from runtime.sops.cipher import decrypt_value, encrypt_value
from runtime.sops.errors import MacMismatchError, NotSopsFileError, SopsFormatError, ValueIntegrityError
from runtime.sops.regex import compile_pattern, search
from runtime.sops.values import Scalar, parse_rfc3339, rfc3339, to_bytes

METADATA_KEY = "sops"
DEFAULT_UNENCRYPTED_SUFFIX = "_unencrypted"
# The sops release whose file format this codec writes (and was checked against).
SOPS_VERSION = "3.13.1"
# sops.go MACOnlyEncryptedInitialization: sha256(b"sops"), hashed first when mac_only_encrypted.
MAC_ONLY_ENCRYPTED_INIT = hashlib.sha256(b"sops").digest()

# Which values a file encrypts: the key rules apply to JSON; the comment rules only to YAML comments.
KEY_RULE_FIELDS = ("unencrypted_suffix", "encrypted_suffix", "unencrypted_regex", "encrypted_regex")
COMMENT_RULE_FIELDS = ("unencrypted_comment_regex", "encrypted_comment_regex")
RULE_FIELDS = (*KEY_RULE_FIELDS, *COMMENT_RULE_FIELDS)


@dataclass(frozen=True)
class CryptRule:
    """Which values stay in clear. At most one field is set (sops refuses more)."""

    unencrypted_suffix: str | None = DEFAULT_UNENCRYPTED_SUFFIX
    encrypted_suffix: str | None = None
    unencrypted_regex: str | None = None
    encrypted_regex: str | None = None
    unencrypted_comment_regex: str | None = None
    encrypted_comment_regex: str | None = None

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any]) -> CryptRule:
        """The rule a file's metadata names; none named means the default ``_unencrypted`` suffix.

        >>> CryptRule.from_metadata({"encrypted_regex": "^pass"}).fields()
        {'encrypted_regex': '^pass'}
        >>> CryptRule.from_metadata({}).fields()
        {'unencrypted_suffix': '_unencrypted'}
        """
        found = {name: metadata[name] for name in RULE_FIELDS if metadata.get(name)}
        if len(found) > 1:
            raise SopsFormatError(f"sops metadata sets {', '.join(sorted(found))}; sops allows only one of them")
        for name, value in found.items():
            if not isinstance(value, str):
                raise SopsFormatError(f"sops.{name} must be a string")
        for name in ("encrypted_regex", "unencrypted_regex"):
            if name in found:
                compile_pattern(found[name], f"sops.{name}", SopsFormatError)
        if not found:
            return cls()
        return cls(**{"unencrypted_suffix": None, **found})

    def fields(self) -> dict[str, str]:
        """The one rule written into the ``sops`` metadata block."""
        return {name: getattr(self, name) for name in RULE_FIELDS if getattr(self, name)}

    def should_encrypt(self, path: list[str]) -> bool:
        """``Tree.shouldBeEncrypted`` for a JSON document (which has no comments).

        >>> CryptRule().should_encrypt(["db", "host_unencrypted", "port"])
        False
        >>> CryptRule(None, encrypted_regex="^pass").should_encrypt(["password"])
        True
        """
        encrypted = True
        if self.unencrypted_suffix and any(p.endswith(self.unencrypted_suffix) for p in path):
            encrypted = False
        if self.encrypted_suffix:
            encrypted = any(p.endswith(self.encrypted_suffix) for p in path)
        if self.unencrypted_regex and any(_matches(self.unencrypted_regex, p, "unencrypted_regex") for p in path):
            encrypted = False
        if self.encrypted_regex:
            encrypted = any(_matches(self.encrypted_regex, p, "encrypted_regex") for p in path)
        if self.encrypted_comment_regex:
            encrypted = False  # no comment can match in JSON
        return encrypted


def _matches(pattern: str, key: str, name: str) -> bool:
    """Go sops' ``regexp.MatchString`` on one key of the path (RE2 semantics, runtime.sops.regex)."""
    return search(pattern, key, name, SopsFormatError)


Leaf = Callable[[Scalar, list[str]], Scalar]


def _walk(value: Any, path: list[str], on_leaf: Leaf) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise SopsFormatError(f"key {key!r} at {':'.join(path) or 'top level'} is not a string")
            out[key] = _walk(item, [*path, key], on_leaf)
        return out
    if isinstance(value, list):
        return [_walk(item, path, on_leaf) for item in value]
    if value is None:
        return None
    if isinstance(value, str | int | float | bool):
        return on_leaf(value, path)
    raise SopsFormatError(f"value at {':'.join(path)!r} has unsupported type {type(value).__name__}")


def _aad(path: list[str]) -> str:
    return ":".join(path) + ":"


def _new_hash(mac_only_encrypted: bool) -> Any:
    digest = hashlib.sha512()
    if mac_only_encrypted:
        digest.update(MAC_ONLY_ENCRYPTED_INIT)
    return digest


def compute_mac(plain: dict[str, Any], rule: CryptRule | None = None, *, mac_only_encrypted: bool = False) -> str:
    """The plaintext MAC of a document: uppercase hex SHA-512 over its leaves in order.

    >>> compute_mac({"a": "x", "b": [1, True], "c": None}) == hashlib.sha512(b"x1True").hexdigest().upper()
    True
    """
    rule = rule or CryptRule()
    digest = _new_hash(mac_only_encrypted)

    def leaf(value: Scalar, path: list[str]) -> Scalar:
        if not mac_only_encrypted or rule.should_encrypt(path):
            digest.update(to_bytes(value))
        return value

    _walk(plain, [], leaf)
    return str(digest.hexdigest().upper())


def encrypt_document(
    plain: dict[str, Any],
    data_key: bytes,
    *,
    lastmodified: datetime | None = None,
    unencrypted_suffix: str | None = DEFAULT_UNENCRYPTED_SUFFIX,
    encrypted_suffix: str | None = None,
    unencrypted_regex: str | None = None,
    encrypted_regex: str | None = None,
    mac_only_encrypted: bool = False,
    version: str = SOPS_VERSION,
) -> dict[str, Any]:
    """Plaintext tree -> tree of ``ENC[...]`` leaves plus a ``sops`` block without recipients.

    Setting another rule drops the default ``unencrypted_suffix`` (sops allows one rule).
    """
    if METADATA_KEY in plain:
        raise SopsFormatError(f"top-level key {METADATA_KEY!r} is reserved for SOPS metadata; rename it")
    others = {"encrypted_suffix": encrypted_suffix, "unencrypted_regex": unencrypted_regex,
              "encrypted_regex": encrypted_regex}  # fmt: skip
    chosen = {name: value for name, value in others.items() if value}
    if len(chosen) > 1:
        raise SopsFormatError(f"choose one of {', '.join(sorted(chosen))}; sops allows only one rule")
    if chosen and unencrypted_suffix == DEFAULT_UNENCRYPTED_SUFFIX:
        unencrypted_suffix = None
    if chosen and unencrypted_suffix:
        raise SopsFormatError("choose unencrypted_suffix or another rule; sops allows only one rule")
    rule = CryptRule(unencrypted_suffix, **chosen) if chosen else CryptRule(unencrypted_suffix or None)
    for name, pattern in (("encrypted_regex", encrypted_regex), ("unencrypted_regex", unencrypted_regex)):
        if pattern:
            compile_pattern(pattern, name, SopsFormatError)

    digest = _new_hash(mac_only_encrypted)

    def leaf(value: Scalar, path: list[str]) -> Scalar:
        encrypted = rule.should_encrypt(path)
        if not mac_only_encrypted or encrypted:
            digest.update(to_bytes(value))
        return encrypt_value(value, data_key, _aad(path)) if encrypted else value

    tree: dict[str, Any] = _walk(plain, [], leaf)
    stamp = rfc3339((lastmodified or datetime.now(UTC)).astimezone(UTC))
    metadata: dict[str, Any] = {
        "lastmodified": stamp,
        "mac": encrypt_value(digest.hexdigest().upper(), data_key, stamp),
        **rule.fields(),
        "version": version,
    }
    if mac_only_encrypted:
        metadata["mac_only_encrypted"] = True
    tree[METADATA_KEY] = dict(sorted(metadata.items()))
    return tree


def metadata_of(doc: dict[str, Any], source: str = "the document") -> dict[str, Any]:
    """The ``sops`` block of an encrypted document; a plaintext document is refused."""
    metadata = doc.get(METADATA_KEY)
    if metadata is None:
        raise NotSopsFileError(
            f"{source} is not a SOPS file (no 'sops' metadata); encrypt it with "
            "`python -m runtime secrets pull` or sops, and never commit plaintext secrets"
        )
    if not isinstance(metadata, dict):
        raise NotSopsFileError(f"{source} has a 'sops' entry that is not an object; it is not a SOPS file")
    return metadata


def decrypt_document(doc: dict[str, Any], data_key: bytes, *, verify_mac: bool = True) -> dict[str, Any]:
    """Tree with ``ENC[...]`` leaves and a ``sops`` block -> plaintext tree (without ``sops``)."""
    metadata = metadata_of(doc)
    rule = CryptRule.from_metadata(metadata)
    mac_only_encrypted = metadata.get("mac_only_encrypted") is True
    digest = _new_hash(mac_only_encrypted)

    def leaf(value: Scalar, path: list[str]) -> Scalar:
        encrypted = rule.should_encrypt(path)
        if encrypted:
            if not isinstance(value, str):
                raise SopsFormatError(
                    f"value at {':'.join(path)!r} should be encrypted but is a bare {type(value).__name__}; "
                    "restore the file from version control"
                )
            value = decrypt_value(value, data_key, _aad(path), ":".join(path))
        if not mac_only_encrypted or encrypted:
            digest.update(to_bytes(value))
        return value

    body = {key: value for key, value in doc.items() if key != METADATA_KEY}
    plain: dict[str, Any] = _walk(body, [], leaf)
    if verify_mac:
        _verify_mac(metadata, data_key, digest.hexdigest().upper())
    return plain


def _verify_mac(metadata: dict[str, Any], data_key: bytes, computed: str) -> None:
    stored = metadata.get("mac")
    if not stored or not isinstance(stored, str):
        raise MacMismatchError("the file has no MAC, so its integrity cannot be checked; re-create it with sops")
    stamp = rfc3339(parse_rfc3339(metadata.get("lastmodified"), "lastmodified"))
    try:
        mac = decrypt_value(stored, data_key, stamp, "sops:mac")
    except (ValueIntegrityError, SopsFormatError):
        raise MacMismatchError(
            "cannot decrypt the file's MAC (sops.mac or sops.lastmodified was altered); "
            "restore the file from version control"
        ) from None
    if mac != computed:
        raise MacMismatchError(
            "MAC mismatch: values were added, removed, reordered or altered outside sops; "
            "restore the file from version control"
        )
