"""Errors of the SOPS codec. Each message is one line naming the problem and the fix, and never
contains a secret value or key material."""

from runtime.errors import PortkeyBedrockError


class SopsError(PortkeyBedrockError):
    """Base class of every SOPS codec error."""


class SopsFormatError(SopsError, ValueError):
    """Malformed JSON, a bad ``ENC[...]`` value, an unknown ``type:``, bad metadata."""


class NotSopsFileError(SopsFormatError):
    """A plaintext file (no ``sops`` metadata block) where a SOPS file was expected."""


class MacMismatchError(SopsError):
    """The document's MAC is missing, undecryptable or does not match its values."""


class ValueIntegrityError(SopsError):
    """One encrypted value failed AES-GCM authentication (tampered, moved or wrong data key)."""


class DataKeyError(SopsError):
    """No recipient stanza of the file could be opened with the keys available here."""


class NoIdentityError(DataKeyError):
    """No age identity is available at all (SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, default keys file)."""


class KmsError(DataKeyError):
    """AWS KMS refused or failed to encrypt/decrypt the data key."""


class SopsConfigError(SopsError, ValueError):
    """``.sops.yaml`` missing, malformed, or without a creation rule for the file."""
