"""AES-256-GCM for one SOPS value: 32-byte random IV, 16-byte tag, AAD = the value's path."""

from __future__ import annotations

import os

from runtime.sops.errors import SopsFormatError, ValueIntegrityError
from runtime.sops.values import EncryptedValue, Scalar, from_bytes, parse_encrypted, to_bytes, type_tag

# Go sops uses a 32-byte GCM nonce (aes/cipher.go, nonceSize).
IV_SIZE = 32
TAG_SIZE = 16
DATA_KEY_SIZE = 32


def _aesgcm(data_key: bytes):  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(data_key) != DATA_KEY_SIZE:
        raise SopsFormatError(f"the SOPS data key must be {DATA_KEY_SIZE} bytes, got {len(data_key)}")
    return AESGCM(data_key)


def encrypt_value(value: Scalar, data_key: bytes, aad: str) -> str:
    """Encrypt one scalar; the empty string stays ``""`` as in Go sops."""
    if value == "" and isinstance(value, str):
        return ""
    tag = type_tag(value)
    iv = os.urandom(IV_SIZE)
    sealed = _aesgcm(data_key).encrypt(iv, to_bytes(value), aad.encode())
    return EncryptedValue(sealed[:-TAG_SIZE], iv, sealed[-TAG_SIZE:], tag).format()


def decrypt_value(value: str, data_key: bytes, aad: str, where: str) -> Scalar:
    """Decrypt one ``ENC[...]`` string; ``""`` decrypts to ``""``."""
    if value == "":
        return ""
    from cryptography.exceptions import InvalidTag

    parts = parse_encrypted(value, where)
    if len(parts.tag) != TAG_SIZE or not parts.iv:
        raise SopsFormatError(f"value at {where!r} has a malformed iv or tag; the file is corrupt")
    try:
        raw = _aesgcm(data_key).decrypt(parts.iv, parts.data + parts.tag, aad.encode())
    except InvalidTag:
        raise ValueIntegrityError(
            f"value at {where!r} failed authentication: it was modified, moved to another key, "
            "or the data key is wrong; restore the file from version control"
        ) from None
    except ValueError as exc:  # nonce length out of the range the library accepts
        raise SopsFormatError(f"value at {where!r} has an unusable iv ({exc}); the file is corrupt") from None
    return from_bytes(raw, parts.type, where)
