"""Regular expressions of ``.sops.yaml`` and of a file's metadata (``path_regex``,
``encrypted_regex``, ``unencrypted_regex``), evaluated in one place.

A pattern that does not compile is one line naming where it came from, never a traceback.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from runtime.sops.errors import SopsConfigError


@functools.lru_cache(maxsize=64)
def _compiled(pattern: str) -> Any:
    return re.compile(pattern)


def compile_pattern(pattern: str, where: str) -> Any:
    """``pattern`` compiled; a bad one raises :class:`SopsConfigError` naming ``where``.

    >>> compile_pattern("^pass", "encrypted_regex").search("password") is not None
    True
    """
    try:
        return _compiled(pattern)
    except re.error as exc:
        raise SopsConfigError(f"{where} {pattern!r} is not a valid regular expression ({exc}); fix it") from None


def search(pattern: str, text: str, where: str) -> bool:
    """Whether ``pattern`` matches anywhere in ``text`` (Go's ``regexp.MatchString``)."""
    return compile_pattern(pattern, where).search(text) is not None
