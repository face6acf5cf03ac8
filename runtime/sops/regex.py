"""Regular expressions of ``.sops.yaml`` and of a file's metadata (``path_regex``,
``encrypted_regex``, ``unencrypted_regex``), evaluated as Go sops evaluates them: with RE2.

Python's ``re`` differs from Go's ``regexp`` exactly where it matters for which values are
encrypted: ``\\w``, ``\\d``, ``\\s`` and ``\\b`` are ASCII-only in RE2 (``pässwort`` does not match
``^\\w+$``), and RE2 knows ``[[:upper:]]``, ``\\z`` and ``\\pL``. A file encrypted with ``re``
semantics gets a MAC that Go sops rejects, so the engine is ``google-re2`` (imported lazily:
``import runtime`` stays stdlib-only). A pattern that does not compile is one line naming where it
came from, never a traceback, and RE2's own error log is turned off.
"""

from __future__ import annotations

import functools
from typing import Any

from runtime.sops.errors import SopsConfigError, SopsError

INSTALL_HINT = "pip install 'portkey-bedrock-access[sops]'"


@functools.lru_cache(maxsize=64)
def _compiled(pattern: str) -> Any:
    """The RE2 program for ``pattern``, or the RE2 error text (cached either way)."""
    try:
        import re2
    except ImportError:
        raise SopsConfigError(
            f"SOPS regular expressions need google-re2 (Go sops' RE2 semantics); {INSTALL_HINT}"
        ) from None
    options = re2.Options()
    options.log_errors = False  # RE2 would print its own multi-line log to stderr
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else ""
        return reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)


def compile_pattern(pattern: str, where: str, error: type[SopsError] = SopsConfigError) -> Any:
    """``pattern`` compiled with RE2; a bad one raises ``error`` naming ``where``.

    >>> compile_pattern(r"^\\w+$", "encrypted_regex").search("pässwort") is None  # ASCII \\w, as in Go
    True
    >>> compile_pattern(r"[[:upper:]]", "encrypted_regex").search("aB") is not None
    True
    >>> compile_pattern(r"(?<=a)b", "encrypted_regex")
    Traceback (most recent call last):
    ...
    runtime.sops.errors.SopsConfigError: encrypted_regex '(?<=a)b' is not a valid RE2 (Go) regular expression \
(invalid perl operator: (?<=); fix it
    """
    compiled = _compiled(pattern)
    if isinstance(compiled, str):
        raise error(f"{where} {pattern!r} is not a valid RE2 (Go) regular expression ({compiled}); fix it")
    return compiled


def search(pattern: str, text: str, where: str, error: type[SopsError] = SopsConfigError) -> bool:
    """Whether ``pattern`` matches anywhere in ``text`` (Go's ``regexp.MatchString``).

    >>> search(r"key\\z", "apikey", "unencrypted_regex"), search(r"^\\pL+$", "pässwort", "encrypted_regex")
    (True, True)
    """
    return compile_pattern(pattern, where, error).search(text) is not None
