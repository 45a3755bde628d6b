"""Canonical JSON (RFC 8785, "JCS"), used for row leaves and for the manifest hash.

- objects: keys sorted by their UTF-16 code units, no duplicate keys;
- no whitespace; strings escaped as ECMAScript ``JSON.stringify`` does (``\\"``, ``\\\\``,
  ``\\b \\f \\n \\r \\t``, other control characters as ``\\u00xx``), everything else literal UTF-8;
- numbers: floats in ECMAScript ``Number.prototype.toString`` form (``1.0`` → ``1``,
  ``1e21`` → ``1e+21``); NaN and infinities are refused.

One deliberate difference from RFC 8785: integers are written exactly, in decimal, whatever
their size (JCS would round those above 2**53 to the nearest double, silently changing data).
"""
from __future__ import annotations

import json
import math
from typing import Any

_escape = json.JSONEncoder(ensure_ascii=False).encode  # same escaping as JSON.stringify


class CanonicalJsonError(ValueError):
    """A value cannot be written as canonical JSON (NaN, a non-string key, an unsupported type)."""


def canonical_json(value: Any) -> str:
    """``value`` (dict, list, str, int, float, bool, None) as canonical JSON text."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def canonical_json_bytes(value: Any) -> bytes:
    return canonical_json(value).encode("utf-8")


def utf16_key(text: str) -> bytes:
    """Sort key of JCS: the string's UTF-16 code units."""
    return text.encode("utf-16-be", "surrogatepass")


def format_float(number: float) -> str:
    """ECMAScript ``Number.prototype.toString`` of a finite double."""
    if math.isnan(number) or math.isinf(number):
        raise CanonicalJsonError(f"{number!r} has no JSON form; use null or a string")
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    text = repr(abs(number))  # shortest digits that round-trip, like ECMAScript
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    point = len(whole) + (int(exponent) if exponent else 0)  # decimal point position in whole+fraction
    point -= len(whole + fraction) - len((whole + fraction).lstrip("0"))
    digits = digits.rstrip("0") or "0"
    k, n = len(digits), point
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        body = (digits[0] + ("." + digits[1:] if k > 1 else "")) + "e" + ("+" if e >= 0 else "-") + str(abs(e))
    return sign + body


def _write(value: Any, parts: list[str]) -> None:
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, str):
        parts.append(_escape(value))
    elif isinstance(value, int):
        parts.append(str(int(value)))
    elif isinstance(value, float):
        parts.append(format_float(value))
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise CanonicalJsonError(f"object key {key!r} is not a string")
        parts.append("{")
        for i, key in enumerate(sorted(value, key=utf16_key)):
            if i:
                parts.append(",")
            parts.append(_escape(key))
            parts.append(":")
            _write(value[key], parts)
        parts.append("}")
    elif isinstance(value, (list, tuple)):
        parts.append("[")
        for i, item in enumerate(value):
            if i:
                parts.append(",")
            _write(item, parts)
        parts.append("]")
    else:
        raise CanonicalJsonError(f"{type(value).__name__} value {value!r:.60} has no canonical JSON form")
