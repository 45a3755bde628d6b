"""Canonical JSON (RFC 8785, "JCS"), used for row leaves and for the manifest hash.

- objects: keys sorted by their UTF-16 code units, no duplicate keys;
- no whitespace; strings escaped as ECMAScript ``JSON.stringify`` does (``\\"``, ``\\\\``,
  ``\\b \\f \\n \\r \\t``, other control characters as ``\\u00xx``), everything else literal UTF-8;
- numbers: floats in ECMAScript ``Number.prototype.toString`` form (``1.0`` → ``1``,
  ``1e21`` → ``1e+21``); NaN and infinities are refused;
- strings (and keys) must be Unicode text: a lone surrogate (``"\\ud800"`` in JSON) is refused,
  as I-JSON (RFC 7493) requires, since it has no UTF-8 form to hash.

One deliberate difference from RFC 8785: integers are written exactly, in decimal, whatever
their size (JCS would round those above 2**53 to the nearest double, silently changing data).
"""
from __future__ import annotations

import json
import math
import re
import sys
from itertools import accumulate
from typing import Any

from dataseal.errors import DatasealError

_escape = json.JSONEncoder(ensure_ascii=False).encode  # same escaping as JSON.stringify
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # in a str, a surrogate is always unpaired
_KEEP_QUOTES_AND_BRACKETS = bytes(b for b in range(256) if b not in b'"[]{}')  # to delete
_BRACKET_STEP = [0] * 256  # by byte value: +1 opens a level, -1 closes one
_BRACKET_STEP[ord("[")] = _BRACKET_STEP[ord("{")] = 1
_BRACKET_STEP[ord("]")] = _BRACKET_STEP[ord("}")] = -1


class CanonicalJsonError(DatasealError):
    """A value cannot be written as canonical JSON (NaN, a lone surrogate, a non-string key, an unsupported type,
    an integer of more digits than Python converts)."""


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


def exceeds_json_depth(data: bytes, limit: int) -> bool:
    """Whether the JSON text ``data`` (UTF-8) nests arrays and objects more than ``limit`` levels deep.

    Checked on the text, before parsing (a parser recurses once per level: a few hundred thousand
    ``[`` would exhaust the stack). Brackets inside strings do not count; after an unterminated
    string nothing counts (the parser refuses that text anyway). Linear, at memory speed: a
    250 MB tree dump takes a fraction of a second.
    """
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    # Drop escaped backslashes, then escaped quotes: every quote left opens or closes a string.
    if b"\\" in data:  # a one-byte search runs at memory speed; most documents have no escapes
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Keep quotes and brackets only; dropping two adjacent quotes keeps every bracket's side of the
    # quotes (inside or outside a string), and leaves only strings with brackets in them.
    skeleton = data.translate(None, _KEEP_QUOTES_AND_BRACKETS).replace(b'""', b"")
    outside = b"".join(skeleton.split(b'"')[::2])  # even pieces lie outside strings
    return max(accumulate(map(_BRACKET_STEP.__getitem__, outside)), default=0) > limit


def format_float(number: float) -> str:
    """ECMAScript ``Number.prototype.toString`` of a finite double."""
    if math.isnan(number) or math.isinf(number):
        raise CanonicalJsonError(f"{number!r} has no JSON form", hint="use null or a string")
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
        _check_text(value)
        parts.append(_escape(value))
    elif isinstance(value, int):
        try:
            parts.append(str(int(value)))
        except ValueError:  # more digits than sys.get_int_max_str_digits() allows
            raise CanonicalJsonError(
                f"an integer of {value.bit_length()} bits has more than {sys.get_int_max_str_digits()} digits, "
                "more than dataseal writes",
                hint="write such a number as a string",
            ) from None
    elif isinstance(value, float):
        parts.append(format_float(value))
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise CanonicalJsonError(f"object key {key!r} is not a string",
                                         hint="give every object key as a string")
            _check_text(key)
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
        raise CanonicalJsonError(
            f"{type(value).__name__} value {value!r:.60} has no canonical JSON form",
            hint="give JSON values only: objects, arrays, strings, numbers, booleans and null",
        )


def _check_text(text: str) -> None:
    if text.isascii():
        return
    match = _LONE_SURROGATE.search(text)
    if match is not None:
        raise CanonicalJsonError(
            f"the string {text!r:.60} holds a lone surrogate U+{ord(match.group()):04X}, which is not Unicode text "
            "(I-JSON, RFC 7493, refuses it)",
            hint="write the character it stands for, or remove it",
        )
