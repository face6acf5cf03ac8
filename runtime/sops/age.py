"""age recipients: wrap the data key the way sops stores it, find identities where sops looks.

A stanza is ``{"enc": <armored age file>, "recipient": "age1..."}``: the 32-byte data key
encrypted to the recipient and ASCII-armored (64 columns, ``-----END AGE ENCRYPTED FILE-----``
plus a newline), as age/keysource.go ``MasterKey.Encrypt`` writes it. Identities come from
``SOPS_AGE_KEY`` (several per line allowed), ``SOPS_AGE_KEY_FILE`` and the default keys file
``$XDG_CONFIG_HOME/sops/age/keys.txt`` (``~/.config/sops/age/keys.txt``), all of them read.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runtime.constants import ENV_HOME, ENV_SOPS_AGE_KEY, ENV_SOPS_AGE_KEY_FILE, ENV_XDG_CONFIG_HOME
from runtime.sops.errors import DataKeyError, NoIdentityError, SopsConfigError, SopsFormatError

ARMOR_HEADER = "-----BEGIN AGE ENCRYPTED FILE-----"
ARMOR_FOOTER = "-----END AGE ENCRYPTED FILE-----"
DEFAULT_KEYS_FILE = Path("sops", "age", "keys.txt")
_RECIPIENT = re.compile(r"age1[02-9ac-hj-np-z]{58}")


def is_recipient(text: str) -> bool:
    """Whether ``text`` looks like an X25519 age recipient (Bech32 ``age1`` + 58 characters).

    >>> is_recipient("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"), is_recipient("age1xyz")
    (True, False)
    """
    return _RECIPIENT.fullmatch(text) is not None


def parse_recipient(text: str) -> Any:
    """A pyrage recipient for ``age1…``; a pasted identity is refused without echoing it."""
    import pyrage

    from runtime.redact import is_age_identity

    text = text.strip()
    if is_age_identity(text):
        raise SopsConfigError(
            "that is a private age identity (AGE-SECRET-KEY-1…), not a recipient; pass its age1… public key "
            "(the '# public key:' line of your keys file), and keep the identity out of shell history"
        )
    if not is_recipient(text):
        raise SopsConfigError(
            f"{_shown_recipient(text)} is not an age X25519 recipient (age1... 62 characters); "
            "generate one with `python -m runtime secrets keygen`"
        )
    try:
        return pyrage.x25519.Recipient.from_str(text)
    except Exception as exc:  # pyrage raises its own RecipientError
        raise SopsConfigError(f"{text!r} is not a valid age recipient ({type(exc).__name__})") from None


def _shown_recipient(text: str) -> str:
    """A wrong recipient as shown in an error: quoted, cut short (it may be anything pasted)."""
    from runtime.redact import redact

    shown = redact(text)
    return repr(shown if len(shown) <= 70 else shown[:20] + "…")


def encrypt_data_key(data_key: bytes, recipient: str) -> dict[str, str]:
    """A sops ``age`` stanza wrapping ``data_key`` for ``recipient`` (keys in sops' order)."""
    import pyrage

    armored = pyrage.encrypt(data_key, [parse_recipient(recipient)], armored=True).decode("ascii")
    return {"enc": armored, "recipient": recipient.strip()}


def check_armor(enc: str) -> None:
    """Refuse an ``enc`` that is not a strict age armor (what Go's armor reader accepts).

    >>> check_armor(ARMOR_HEADER + "\\nYWJj\\n" + ARMOR_FOOTER + "\\n")
    >>> check_armor("garbage")
    Traceback (most recent call last):
    ...
    runtime.sops.errors.SopsFormatError: an age stanza's enc is not an armored age file; the file is corrupt
    """
    lines = enc.strip().split("\n")
    body = lines[1:-1]
    if (
        not enc.isascii()  # armor is base64 between ASCII lines; anything else is not age's
        or len(lines) < 3
        or lines[0].strip() != ARMOR_HEADER
        or lines[-1].strip() != ARMOR_FOOTER
        or any(len(line.strip()) > 64 for line in body)
        or any(len(line.strip()) != 64 for line in body[:-1])
    ):
        raise SopsFormatError("an age stanza's enc is not an armored age file; the file is corrupt")


@dataclass
class Identities:
    """The age identities found, and where sops would have looked."""

    identities: list[Any] = field(default_factory=list)
    looked_in: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _parse_lines(text: str, location: str, many_per_line: bool, found: Identities) -> None:
    """Add every identity in ``text``; at most ONE short error per location (a JSON or PEM file
    given by mistake must not turn into one message per line, nor echo its content)."""
    import pyrage

    count = other = malformed = 0
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for word in line.split() if many_per_line else [line]:
            if not word.startswith("AGE-SECRET-KEY-1"):
                other += 1
                continue
            try:
                found.identities.append(pyrage.x25519.Identity.from_str(word))
                count += 1
            except Exception:
                malformed += 1
    if malformed:
        found.errors.append(f"{location} holds {malformed} malformed age identit{'y' if malformed == 1 else 'ies'}")
    elif count == 0 and other:
        found.errors.append(f"{location} is not an age keys file (no AGE-SECRET-KEY-1 line)")
    elif count == 0:
        found.errors.append(f"{location} holds no age identity")


def default_keys_file(env: Mapping[str, str] | None = None) -> Path:
    """``os.UserConfigDir()``/sops/age/keys.txt: $XDG_CONFIG_HOME if set, else ~/.config.

    >>> str(default_keys_file({"XDG_CONFIG_HOME": "/cfg"}))
    '/cfg/sops/age/keys.txt'
    """
    env = os.environ if env is None else env
    base = env.get(ENV_XDG_CONFIG_HOME) or str(Path(env.get(ENV_HOME) or Path.home()) / ".config")
    return Path(base) / DEFAULT_KEYS_FILE


def load_identities(env: Mapping[str, str] | None = None) -> Identities:
    """Every age identity available: SOPS_AGE_KEY, SOPS_AGE_KEY_FILE and the default keys file."""
    env = os.environ if env is None else env
    found = Identities()
    found.looked_in.append(ENV_SOPS_AGE_KEY)
    if env.get(ENV_SOPS_AGE_KEY):
        _parse_lines(env[ENV_SOPS_AGE_KEY], ENV_SOPS_AGE_KEY, True, found)
    found.looked_in.append(ENV_SOPS_AGE_KEY_FILE)
    if env.get(ENV_SOPS_AGE_KEY_FILE):
        path = Path(env[ENV_SOPS_AGE_KEY_FILE]).expanduser()
        try:
            _parse_lines(path.read_text(encoding="utf-8"), f"{ENV_SOPS_AGE_KEY_FILE} ({path})", False, found)
        except OSError as exc:
            found.errors.append(f"cannot read {ENV_SOPS_AGE_KEY_FILE} ({path}): {exc.strerror}")
    default = default_keys_file(env)
    found.looked_in.append(str(default))
    if default.is_file():
        try:
            _parse_lines(default.read_text(encoding="utf-8"), str(default), False, found)
        except OSError as exc:
            found.errors.append(f"cannot read {default}: {exc.strerror}")
    return found


def decrypt_data_key(stanzas: list[dict[str, Any]], found: Identities) -> bytes:
    """Open the first age stanza any available identity can open."""
    import pyrage

    if not found.identities:
        detail = f" ({'; '.join(found.errors)})" if found.errors else ""
        raise NoIdentityError(
            f"no age identity available{detail}; set {ENV_SOPS_AGE_KEY_FILE} to your keys file, "
            f"or {ENV_SOPS_AGE_KEY}, or put it in {found.looked_in[-1]}"
        )
    for stanza in stanzas:
        enc = stanza.get("enc")
        if not isinstance(enc, str):
            raise SopsFormatError("an age stanza has no enc string; the file is corrupt")
        check_armor(enc)
        with contextlib.suppress(pyrage.DecryptError):  # no identity opens this stanza: try the next
            return bytes(pyrage.decrypt(enc.encode("ascii"), found.identities))
    recipients = ", ".join(str(s.get("recipient", "?")) for s in stanzas)
    raise DataKeyError(
        f"none of the {len(found.identities)} age identities found matches the file's recipients "
        f"({recipients}); use the identity for one of them, or re-encrypt the file for yours"
    )


def generate_identity() -> tuple[str, str]:
    """A fresh age X25519 identity: ``(identity, recipient)``. The identity is a secret."""
    import pyrage

    identity = pyrage.x25519.Identity.generate()
    return str(identity), str(identity.to_public())


def keys_file_text(identity: str, recipient: str, created: datetime | None = None) -> str:
    """An ``age-keygen``-style keys file.

    >>> print(keys_file_text("AGE-SECRET-KEY-1X", "age1y", datetime(2026, 1, 2, tzinfo=UTC)), end="")
    # created: 2026-01-02T00:00:00Z
    # public key: age1y
    AGE-SECRET-KEY-1X
    """
    from runtime.sops.values import rfc3339

    stamp = rfc3339(created or datetime.now(UTC))
    return f"# created: {stamp}\n# public key: {recipient}\n{identity}\n"
