"""JSON in and out the way Go sops' JSON store does it.

Output (stores/json/store.go): tab indentation (``json.Indent`` with ``"\\t"``), ``"key": value``,
a trailing newline, Go ``encoding/json`` string escaping (``<``, ``>``, ``&``, U+2028 and U+2029
escaped) and Go float formatting. Input: a top-level object, integers that fit int64 stay
integers, anything else numeric is a float (``normalizeJSONNumber``).
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

from runtime.sops.errors import SopsFormatError
from runtime.sops.values import format_float, normalize_number

# Deepest nesting a SOPS file may have. Real files are a few levels deep; the encoder, decoder and
# MAC walk recurse once per level, so without a bound a crafted file ends in RecursionError.
MAX_DEPTH = 100
_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def go_json_float(value: float) -> str:
    """``encoding/json``'s float64 form: fixed notation in [1e-6, 1e21), else a short exponent.

    >>> [go_json_float(v) for v in (1.0, 0.1, 1e20, 1e21, 1e-7, 1.5e-7, -2.5e300)]
    ['1', '0.1', '100000000000000000000', '1e+21', '1e-7', '1.5e-7', '-2.5e+300']
    """
    if not math.isfinite(value):
        raise SopsFormatError(f"cannot write the non-finite number {value!r} to JSON")
    magnitude = abs(value)
    if magnitude == 0 or 1e-6 <= magnitude < 1e21:
        return format_float(value)
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    mantissa = "".join(map(str, digits))
    exp10 = exponent + len(mantissa) - 1
    body = mantissa[0] + ("." + mantissa[1:] if len(mantissa) > 1 else "")
    return f"{'-' if sign else ''}{body}e{'+' if exp10 >= 0 else '-'}{abs(exp10):02d}".replace("e-0", "e-", 1)


def go_json_string(value: str) -> str:
    """A JSON string literal as Go's ``json.Marshal`` writes it.

    >>> print(go_json_string('a<b> & "c"\\n é'))
    "a\\u003cb\\u003e \\u0026 \\"c\\"\\n é"
    """
    text = json.dumps(value, ensure_ascii=False)
    for char, escaped in _GO_ESCAPES.items():
        text = text.replace(char, escaped)
    return text


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return go_json_string(value)
    if isinstance(value, int):
        value = normalize_number(value)
        return str(value) if isinstance(value, int) else go_json_float(value)
    if isinstance(value, float):
        return go_json_float(value)
    raise SopsFormatError(f"cannot write a value of type {type(value).__name__} to JSON")


def _emit(value: object, depth: int, out: list[str]) -> None:
    pad = "\t" * (depth + 1)
    if isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            out.append(("," if i else "") + "\n" + pad + go_json_string(str(key)) + ": ")
            _emit(item, depth + 1, out)
        out.append("\n" + "\t" * depth + "}")
    elif isinstance(value, list):
        if not value:
            out.append("[]")
            return
        out.append("[")
        for i, item in enumerate(value):
            out.append(("," if i else "") + "\n" + pad)
            _emit(item, depth + 1, out)
        out.append("\n" + "\t" * depth + "]")
    else:
        out.append(_scalar(value))


def dumps(document: dict[str, Any]) -> str:
    """Serialize a document exactly as sops' JSON store emits it.

    >>> dumps({"foo": "bar", "n": [1, 2.0], "e": {}})
    '{\\n\\t"foo": "bar",\\n\\t"n": [\\n\\t\\t1,\\n\\t\\t2\\n\\t],\\n\\t"e": {}\\n}\\n'
    """
    out: list[str] = []
    _emit(document, 0, out)
    return "".join(out) + "\n"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise SopsFormatError(f"duplicate key {key!r} in JSON object; keep one of them")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise SopsFormatError(f"{name} is not valid JSON; use a finite number or a string")


def _parse_int(text: str) -> int | float:
    """An integer literal as Go reads it (int64, else float64); one past float64's range is refused.

    >>> _parse_int("-7"), _parse_int("9" * 20)
    (-7, 1e+20)
    >>> _parse_int("9" * 5000)
    Traceback (most recent call last):
    ...
    runtime.sops.errors.SopsFormatError: a 5000-digit number does not fit a 64-bit float; store it as a string
    """
    try:
        return normalize_number(int(text))
    except (ValueError, OverflowError):  # past 4300 digits (int) or past 1.8e308 (float)
        digits = len(text.lstrip("+-"))
        raise SopsFormatError(f"a {digits}-digit number does not fit a 64-bit float; store it as a string") from None


def nesting_depth(value: object) -> int:
    """How deeply ``value`` nests (iteratively: it must not recurse itself).

    >>> nesting_depth({"a": [1, {"b": {}}]}), nesting_depth("x")
    (4, 0)
    """
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, level)
            todo.extend((child, level + 1) for child in children)
    return deepest


def loads(text: str | bytes, source: str = "input") -> dict[str, Any]:
    """Parse a JSON document whose top level is an object.

    >>> loads('{"a": 1, "b": 1.0, "c": 99999999999999999999}')
    {'a': 1, 'b': 1.0, 'c': 1e+20}
    >>> loads('{"a": ' + '[' * 101 + ']' * 101 + '}')
    Traceback (most recent call last):
    ...
    runtime.sops.errors.SopsFormatError: input nests deeper than 100 levels; flatten it
    """
    too_deep = SopsFormatError(f"{source} nests deeper than {MAX_DEPTH} levels; flatten it")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_int=_parse_int,
            parse_constant=_no_constant,
        )
    except json.JSONDecodeError as exc:
        raise SopsFormatError(
            f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); fix the syntax"
        ) from exc
    except UnicodeDecodeError as exc:
        raise SopsFormatError(f"{source} is not UTF-8 text; SOPS JSON files are UTF-8") from exc
    except RecursionError:
        raise too_deep from None
    if nesting_depth(value) > MAX_DEPTH:
        raise too_deep
    if not isinstance(value, dict):
        raise SopsFormatError(
            f"{source} must be a JSON object at the top level, not {type(value).__name__}; "
            'wrap it, e.g. {"data": ...}'
        )
    return value
