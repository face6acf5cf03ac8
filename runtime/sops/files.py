"""SOPS JSON files on disk: load (decrypt with the keys available here), write, update, check.

Writes are atomic: the new text goes to a temporary file in the same directory, is fsynced,
then ``os.replace``d over the old one; on any failure the old file is untouched. A symlinked file
is resolved once: the creation rule is matched on the real path and the real file is replaced (the
link stays), so the file everyone reads is the one that changed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime.atomicfile import atomic_write_text
from runtime.sops import gojson
from runtime.sops.document import (
    KEY_RULE_FIELDS,
    RULE_FIELDS,
    CryptRule,
    decrypt_document,
    encrypt_document,
    metadata_of,
)
from runtime.sops.errors import DataKeyError, NoIdentityError, NotSopsFileError, SopsError, SopsFormatError
from runtime.sops.values import is_encrypted, parse_rfc3339

# Metadata entries that hold recipient stanzas (stores/stores.go metadata struct).
RECIPIENT_FIELDS = ("age", "azure_kv", "gcp_kms", "hc_vault", "hckms", "key_groups", "kms", "pgp")
_DERIVED_FIELDS = ("lastmodified", "mac", "version", "mac_only_encrypted", *RULE_FIELDS)


@dataclass(frozen=True)
class Opened:
    """A decrypted SOPS file: plaintext, its data key and its metadata block."""

    plain: dict[str, Any]
    data_key: bytes
    metadata: dict[str, Any]

    def __repr__(self) -> str:
        return f"Opened(keys={sorted(self.plain)!r}, data_key=<redacted>)"


def read_document(path: Path) -> dict[str, Any]:
    """Parse a JSON file (no decryption)."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise SopsError(f"{path} does not exist; create it with `python -m runtime secrets pull`") from None
    except OSError as exc:
        raise SopsError(f"cannot read {path}: {exc.strerror}") from None
    return gojson.loads(raw, source=str(path))


def _stanzas(metadata: dict[str, Any], name: str) -> list[dict[str, Any]]:
    value = metadata.get(name) or []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise SopsFormatError(f"sops.{name} must be a list of objects; the file is corrupt")
    return value


def data_key_from(metadata: dict[str, Any], env: Mapping[str, str] | None = None) -> bytes:
    """Recover the data key: age stanzas first (sops' default order), then KMS."""
    from runtime.sops import age, kms

    if metadata.get("key_groups"):
        raise SopsFormatError("files with several key_groups (Shamir secret sharing) are not supported here")
    age_stanzas = _stanzas(metadata, "age")
    kms_stanzas = _stanzas(metadata, "kms")
    if not age_stanzas and not kms_stanzas:
        kinds = [name for name in RECIPIENT_FIELDS if metadata.get(name)]
        raise DataKeyError(
            f"the file has no age or kms recipient (it has {', '.join(kinds) or 'none'}); "
            "re-encrypt it for an age recipient or a KMS key"
        )
    failures: list[SopsError] = []
    key: bytes | None = None
    if age_stanzas:
        try:
            key = age.decrypt_data_key(age_stanzas, age.load_identities(env))
        except DataKeyError as exc:
            failures.append(exc)
    for stanza in kms_stanzas if key is None else []:
        try:
            key = kms.decrypt_data_key(stanza)
            break
        except DataKeyError as exc:
            failures.append(exc)
    if key is None:
        # With KMS stanzas present, a missing age identity is not the interesting failure.
        relevant = [f for f in failures if not isinstance(f, NoIdentityError)] or failures
        if len(relevant) == 1:
            raise relevant[0]
        raise DataKeyError("cannot recover the data key: " + " | ".join(str(f) for f in relevant))
    if len(key) != 32:
        raise SopsFormatError("the recovered data key is not 32 bytes; the file is corrupt")
    return key


def open_file(path: Path, *, env: Mapping[str, str] | None = None, verify_mac: bool = True) -> Opened:
    """Decrypt ``path`` with the keys available here."""
    doc = read_document(path)
    metadata = metadata_of(doc, str(path))
    data_key = data_key_from(metadata, env)
    return Opened(decrypt_document(doc, data_key, verify_mac=verify_mac), data_key, metadata)


def load(path: Path | str, *, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The plaintext of a SOPS JSON file (MAC verified)."""
    return open_file(Path(path), env=env).plain


def recipient_stanzas(data_key: bytes, age: Iterable[str] = (), kms: Iterable[Any] = ()) -> dict[str, Any]:
    """``{"age": [...], "kms": [...]}`` wrapping ``data_key`` for each recipient."""
    from runtime.sops import age as age_mod
    from runtime.sops import kms as kms_mod

    out: dict[str, Any] = {}
    age_entries = [age_mod.encrypt_data_key(data_key, r) for r in age]
    kms_entries = [
        kms_mod.encrypt_data_key(data_key, k if isinstance(k, kms_mod.KmsKey) else kms_mod.KmsKey.parse(k)) for k in kms
    ]
    if age_entries:
        out["age"] = age_entries
    if kms_entries:
        out["kms"] = kms_entries
    if not out:
        raise DataKeyError("a SOPS file needs at least one age or kms recipient")
    return out


def seal(
    plain: dict[str, Any],
    data_key: bytes,
    recipients: dict[str, Any],
    *,
    crypt: Mapping[str, str] | None = None,
    mac_only_encrypted: bool = False,
) -> dict[str, Any]:
    """Encrypt ``plain`` and attach the recipient stanzas; ``sops`` keys sorted as sops writes them."""
    if gojson.nesting_depth(plain) > gojson.MAX_DEPTH:  # the encoder recurses once per level
        raise SopsFormatError(f"the values nest deeper than {gojson.MAX_DEPTH} levels; flatten them")
    rule = dict(crypt or {})
    unsupported = sorted(set(rule) - set(KEY_RULE_FIELDS))
    if unsupported:
        raise SopsFormatError(f"{', '.join(unsupported)} is not supported for JSON files here")
    kwargs: dict[str, Any] = {name: rule.get(name) for name in KEY_RULE_FIELDS if name in rule}
    if rule and "unencrypted_suffix" not in rule:
        kwargs["unencrypted_suffix"] = None
    doc = encrypt_document(plain, data_key, mac_only_encrypted=mac_only_encrypted, **kwargs)
    doc["sops"] = dict(sorted({**doc["sops"], **recipients}.items()))
    return doc


def write(
    path: Path | str,
    plain: dict[str, Any],
    *,
    age: Iterable[str] = (),
    kms: Iterable[Any] = (),
    config: Path | None = None,
    crypt: Mapping[str, str] | None = None,
    mac_only_encrypted: bool = False,
) -> None:
    """Create or replace ``path`` with a new data key. With no recipients given, the matching
    ``.sops.yaml`` creation rule supplies them (and its unencrypted/encrypted rule)."""
    import secrets as _secrets

    from runtime.sops.config import rule_for

    path = Path(os.path.realpath(path))  # a symlink: match the rule on, and write, the real file
    age, kms = list(age), list(kms)
    rule_crypt = dict(crypt or {})
    if not age and not kms:
        rule = rule_for(path, config)
        age, kms, rule_crypt, mac_only_encrypted = (list(rule.age), list(rule.kms), rule.crypt,
                                                    rule.mac_only_encrypted)  # fmt: skip
    data_key = _secrets.token_bytes(32)
    doc = seal(plain, data_key, recipient_stanzas(data_key, age, kms), crypt=rule_crypt,
               mac_only_encrypted=mac_only_encrypted)  # fmt: skip
    atomic_write_text(path, gojson.dumps(doc))


def reseal(opened: Opened, plain: dict[str, Any]) -> dict[str, Any]:
    """Re-encrypt ``plain`` with an opened file's data key, keeping its recipients and rule."""
    metadata = opened.metadata
    recipients = {k: v for k, v in metadata.items() if k not in _DERIVED_FIELDS}
    crypt = CryptRule.from_metadata(metadata).fields()
    return seal(plain, opened.data_key, recipients, crypt=crypt,
                mac_only_encrypted=metadata.get("mac_only_encrypted") is True)  # fmt: skip


def diff_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, str]:
    """Per top-level key of ``new``: ``added``, ``changed`` or ``unchanged`` (never values).

    >>> diff_keys({"A": "1", "B": "2"}, {"A": "1", "B": "3", "C": "4"})
    {'A': 'unchanged', 'B': 'changed', 'C': 'added'}
    """
    return {key: "added" if key not in old else ("unchanged" if old[key] == new[key] else "changed") for key in new}


def update(path: Path | str, values: Mapping[str, Any], *, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Set top-level ``values`` in an existing SOPS file, keeping its other keys, data key and
    recipients; every value is re-encrypted and the MAC recomputed. Returns :func:`diff_keys`."""
    path = Path(os.path.realpath(path))  # read and replace the same real file, never the link
    opened = open_file(path, env=env)
    changes = diff_keys(opened.plain, values)
    if any(state != "unchanged" for state in changes.values()):
        merged = {**opened.plain, **values}
        atomic_write_text(path, gojson.dumps(reseal(opened, merged)))
    return changes


def check_document(doc: dict[str, Any], source: str) -> None:
    """Is ``doc`` a well-formed SOPS document? Needs no key: every value that should be
    encrypted must be ``ENC[...]`` (or empty), and the metadata must be complete."""
    metadata = metadata_of(doc, source)
    if not any(metadata.get(name) for name in RECIPIENT_FIELDS):
        raise NotSopsFileError(f"{source}: the sops block names no recipient; nobody could decrypt it")
    parse_rfc3339(metadata.get("lastmodified"), "lastmodified")
    from runtime.sops.age import check_armor

    for stanza in _stanzas(metadata, "age"):
        enc = stanza.get("enc")
        check_armor(enc if isinstance(enc, str) else "")
    if not is_encrypted(metadata.get("mac")):
        raise NotSopsFileError(f"{source}: the sops block has no encrypted MAC; re-encrypt the file")
    if not isinstance(metadata.get("version"), str):
        raise NotSopsFileError(f"{source}: the sops block has no version; re-encrypt the file")
    rule = CryptRule.from_metadata(metadata)

    def visit(value: Any, path: list[str]) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                visit(item, [*path, key])
        elif isinstance(value, list):
            for item in value:
                visit(item, path)
        elif value is not None and rule.should_encrypt(path) and value != "" and not is_encrypted(value):
            raise NotSopsFileError(
                f"{source}: value at {':'.join(path)!r} is plaintext in an encrypted file; "
                "restore it from version control or re-encrypt"
            )

    visit({k: v for k, v in doc.items() if k != "sops"}, [])


def check_file(path: Path | str) -> None:
    """:func:`check_document` on a file."""
    check_document(read_document(Path(path)), str(path))
