"""ABI types of leaf values: parsing, normalising, encoding (``abi.encode``) and JSON rendering.

A tree's *leaf encoding* is a list of Solidity ABI type strings, e.g. ``["uint256", "bytes32"]``;
a leaf *value* is a list with one item per type. Values are normalised to one Python form per
type, whatever form they came in (Python objects, or the strings and numbers of a JSON dump):

=============  ===========================================  ============================
type           accepted                                     normalised / JSON
=============  ===========================================  ============================
uintN, intN    int, decimal or 0x-hex string                int / decimal string
address        0x-hex string (EIP-55 checked if mixed case)  EIP-55 string / same
bool           bool                                         bool / true, false
bytesN, bytes  bytes, 0x-hex string                         bytes / 0x-hex (lowercase)
string         str                                          str / same
T[], T[k]      list or tuple                                tuple / list
(T1,...,Tn)    list or tuple                                tuple / list
=============  ===========================================  ============================

Big numbers are rendered as strings in JSON because a JSON number loses precision above 2**53
in JavaScript; this is also what ``@openzeppelin/merkle-tree`` users put in their values.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dataseal.registry.merkle.errors import LeafEncodingError
from dataseal.registry.merkle.hashing import keccak256

_ELEMENTARY = re.compile(r"^(uint|int)(\d*)$|^bytes(\d+)$|^(address|bool|bytes|string)$")
_HEX = re.compile(r"^0[xX][0-9a-fA-F]*$")
_NAME_TYPES = "use types such as 'uint256', 'bytes32', 'address', 'string', 'bytes32[]' or '(uint256,address)'"


@dataclass(frozen=True)
class AbiType:
    """One parsed ABI type. ``kind`` is uint, int, address, bool, fixed-bytes, bytes, string, array, tuple."""

    kind: str
    canonical: str
    size: int = 0  # bits of uint/int, bytes of fixed-bytes, length of a fixed array (0 = dynamic array)
    item: AbiType | None = None
    components: tuple[AbiType, ...] = ()

    @property
    def dynamic(self) -> bool:
        if self.kind in ("bytes", "string"):
            return True
        if self.kind == "array":
            assert self.item is not None
            return self.size == 0 or self.item.dynamic
        if self.kind == "tuple":
            return any(c.dynamic for c in self.components)
        return False

    # ------------------------------------------------------------------ normalise

    def normalize(self, value: Any, where: str) -> Any:
        """``value`` in this type's normalised Python form; :class:`LeafEncodingError` if it does not fit."""
        kind = self.kind
        if kind in ("uint", "int"):
            number = _to_int(value, self, where)
            low, high = (0, 1 << self.size) if kind == "uint" else (-(1 << (self.size - 1)), 1 << (self.size - 1))
            if not low <= number < high:
                raise _misfit(value, self, where, f"out of range [{low}, {high - 1}]")
            return number
        if kind == "address":
            return _to_address(value, self, where)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            raise _misfit(value, self, where, "expected true or false")
        if kind == "fixed-bytes":
            data = _to_bytes(value, self, where)
            if len(data) != self.size:
                raise _misfit(value, self, where, f"{len(data)} bytes; expected exactly {self.size}")
            return data
        if kind == "bytes":
            return _to_bytes(value, self, where)
        if kind == "string":
            if isinstance(value, str):
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError as exc:
                    raise _misfit(value, self, where, f"not encodable as UTF-8 ({exc.reason})") from None
                return value
            raise _misfit(value, self, where, "expected a string")
        if kind == "array":
            assert self.item is not None
            if isinstance(value, (str, bytes, bytearray)) or not isinstance(value, Sequence):
                raise _misfit(value, self, where, "expected a list")
            if self.size and len(value) != self.size:
                raise _misfit(value, self, where, f"{len(value)} items; expected {self.size}")
            return tuple(self.item.normalize(v, f"{where}[{i}]") for i, v in enumerate(value))
        if kind == "tuple":
            return normalize_values(self.components, value, where)
        raise AssertionError(kind)  # pragma: no cover

    # ------------------------------------------------------------------ encode

    def encode(self, value: Any) -> bytes:
        """ABI encoding of a normalised ``value``: the static words, or the tail of a dynamic type."""
        kind = self.kind
        if kind == "uint":
            return int(value).to_bytes(32, "big")
        if kind == "int":
            return int(value).to_bytes(32, "big", signed=True)
        if kind == "address":
            return bytes(12) + bytes.fromhex(value[2:])
        if kind == "bool":
            return (1 if value else 0).to_bytes(32, "big")
        if kind == "fixed-bytes":
            return bytes(value).ljust(32, b"\0")
        if kind in ("bytes", "string"):
            data = value.encode("utf-8") if kind == "string" else bytes(value)
            return len(data).to_bytes(32, "big") + data.ljust(-(-len(data) // 32) * 32, b"\0")
        if kind == "array":
            assert self.item is not None
            body = encode_sequence([self.item] * len(value), value)
            return body if self.size else len(value).to_bytes(32, "big") + body
        if kind == "tuple":
            return encode_sequence(self.components, value)
        raise AssertionError(kind)  # pragma: no cover

    # ------------------------------------------------------------------ JSON

    def to_json(self, value: Any) -> Any:
        """A normalised ``value`` as JSON data (big numbers as decimal strings, bytes as 0x-hex)."""
        kind = self.kind
        if kind in ("uint", "int"):
            return str(value)
        if kind in ("fixed-bytes", "bytes"):
            return "0x" + bytes(value).hex()
        if kind == "array":
            assert self.item is not None
            return [self.item.to_json(v) for v in value]
        if kind == "tuple":
            return [c.to_json(v) for c, v in zip(self.components, value, strict=True)]
        return value  # address (EIP-55 string), bool, string


def parse_type(text: str) -> AbiType:
    """Parse one ABI type string (``uint256``, ``bytes32[]``, ``(address,uint96)[2]``, ...)."""
    if not isinstance(text, str):
        raise LeafEncodingError(f"leaf encoding type {text!r} is not a string, so not an ABI type such as 'uint256'",
                                hint="write each type of the leaf encoding as a string")
    return _parse_cached(text)


@functools.lru_cache(maxsize=256)
def _parse_cached(text: str) -> AbiType:
    if not text:
        raise LeafEncodingError("leaf encoding type '' is empty", hint=_NAME_TYPES)
    try:
        parsed, rest = _parse(text.replace(" ", ""), 0)
        if rest != len(text.replace(" ", "")):
            raise ValueError(f"unexpected {text.replace(' ', '')[rest:]!r}")
        return parsed
    except ValueError as exc:
        raise LeafEncodingError(f"leaf encoding type {text!r} is not a Solidity ABI type ({exc})",
                                hint=_NAME_TYPES) from None


def parse_encoding(types: Sequence[str]) -> tuple[AbiType, ...]:
    """Parse a leaf encoding (a non-empty list of ABI type strings)."""
    if isinstance(types, str) or not isinstance(types, Sequence) or len(types) == 0:
        raise LeafEncodingError(
            f"leaf encoding {types!r} is not a non-empty list of ABI types",
            hint="give a list of ABI type strings, e.g. ['uint256', 'bytes32']",
        )
    return tuple(parse_type(t) for t in types)


def normalize_values(types: Sequence[AbiType], value: Any, where: str = "value") -> tuple[Any, ...]:
    """Normalise a leaf value (one item per type) to a tuple of normalised items."""
    if isinstance(value, (str, bytes, bytearray)) or not isinstance(value, Sequence):
        raise LeafEncodingError(
            f"{where} {_show(value)} is not a list",
            hint=f"give a leaf value as a list with one item per type of ({','.join(t.canonical for t in types)})",
        )
    if len(value) != len(types):
        raise LeafEncodingError(
            f"{where} has {len(value)} items, but the leaf encoding ({','.join(t.canonical for t in types)}) "
            f"needs {len(types)}",
            hint="give one item per type, in the order of the leaf encoding",
        )
    return tuple(t.normalize(v, f"{where}[{i}]") for i, (t, v) in enumerate(zip(types, value, strict=True)))


def encode_sequence(types: Sequence[AbiType], values: Sequence[Any]) -> bytes:
    """``abi.encode`` of normalised ``values`` as a tuple of ``types`` (heads, then tails)."""
    if not any(t.dynamic for t in types):
        return b"".join(t.encode(v) for t, v in zip(types, values, strict=True))
    heads: list[bytes] = []
    tails: list[bytes] = []
    offset = sum(32 * _head_words(t) for t in types)
    for t, v in zip(types, values, strict=True):
        if t.dynamic:
            heads.append(offset.to_bytes(32, "big"))
            tail = t.encode(v)
            tails.append(tail)
            offset += len(tail)
        else:
            heads.append(t.encode(v))
    return b"".join(heads) + b"".join(tails)


def values_to_json(types: Sequence[AbiType], value: Sequence[Any]) -> list[Any]:
    """A normalised leaf value as a JSON list."""
    return [t.to_json(v) for t, v in zip(types, value, strict=True)]


def to_checksum_address(raw: bytes) -> str:
    """EIP-55 mixed-case form of a 20-byte address."""
    hex_digits = raw.hex()
    digest = keccak256(hex_digits.encode("ascii")).hex()
    return "0x" + "".join(c.upper() if int(d, 16) >= 8 else c for c, d in zip(hex_digits, digest[:40], strict=True))


# ---------------------------------------------------------------------- internals


def _head_words(t: AbiType) -> int:
    """Words a type takes in the head of a tuple: 1 when dynamic (an offset), else its static size."""
    if t.dynamic:
        return 1
    if t.kind == "array":
        assert t.item is not None
        return t.size * _head_words(t.item)
    if t.kind == "tuple":
        return sum(_head_words(c) for c in t.components)
    return 1


def _parse(text: str, pos: int) -> tuple[AbiType, int]:
    if text.startswith("tuple(", pos):
        pos += len("tuple")
    if pos < len(text) and text[pos] == "(":
        components: list[AbiType] = []
        pos += 1
        if pos < len(text) and text[pos] == ")":
            raise ValueError("empty tuple")
        while True:
            component, pos = _parse(text, pos)
            components.append(component)
            if pos >= len(text):
                raise ValueError("unclosed '('")
            if text[pos] == ",":
                pos += 1
                continue
            if text[pos] == ")":
                pos += 1
                break
            raise ValueError(f"unexpected {text[pos]!r}")
        base = AbiType("tuple", "(" + ",".join(c.canonical for c in components) + ")", components=tuple(components))
    else:
        match = re.match(r"[a-z]+\d*", text[pos:])
        if match is None:
            raise ValueError(f"expected a type name at {text[pos:]!r}")
        name = match.group(0)
        pos += len(name)
        base = _elementary(name)
    while pos < len(text) and text[pos] == "[":
        end = text.find("]", pos)
        if end < 0:
            raise ValueError("unclosed '['")
        length_text = text[pos + 1 : end]
        if length_text and (not length_text.isdigit() or int(length_text) == 0):
            raise ValueError(f"array length {length_text!r} is not a positive integer")
        length = int(length_text) if length_text else 0
        base = AbiType("array", f"{base.canonical}[{length_text}]", size=length, item=base)
        pos = end + 1
    return base, pos


def _elementary(name: str) -> AbiType:
    match = _ELEMENTARY.match(name)
    if match is None:
        raise ValueError(f"unknown type {name!r}")
    if match.group(1):
        bits = int(match.group(2) or 256)
        if bits % 8 or not 8 <= bits <= 256:
            raise ValueError(f"{name}: size must be a multiple of 8 from 8 to 256")
        return AbiType(match.group(1), f"{match.group(1)}{bits}", size=bits)
    if match.group(3):
        size = int(match.group(3))
        if not 1 <= size <= 32:
            raise ValueError(f"{name}: size must be 1 to 32")
        return AbiType("fixed-bytes", f"bytes{size}", size=size)
    return AbiType(match.group(4), match.group(4))


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 70 else text[:67] + "..."


def _misfit(value: Any, t: AbiType, where: str, reason: str) -> LeafEncodingError:
    return LeafEncodingError(f"{where} = {_show(value)} does not fit {t.canonical}: {reason}", hint=_accepted(t))


def _accepted(t: AbiType) -> str:
    """What to give for a value of type ``t`` (the forms :meth:`AbiType.normalize` accepts)."""
    if t.kind in ("uint", "int"):
        return f"give an integer that fits {t.canonical}, as a number or a decimal or 0x-hex string"
    if t.kind == "address":
        return "give a 0x-prefixed 20-byte hex address, with its EIP-55 checksum or all lowercase"
    if t.kind == "bool":
        return "give a boolean (true or false), not a string or a number"
    if t.kind == "fixed-bytes":
        return f"give exactly {t.size} bytes, as bytes or a 0x-prefixed hex string"
    if t.kind == "bytes":
        return "give bytes, or a 0x-prefixed hex string with an even number of digits"
    if t.kind == "string":
        return "give Unicode text (a string without lone surrogates)"
    assert t.item is not None  # an array: tuples are lists checked by normalize_values
    return f"give a list of {t.size or 'any number of'} items of {t.item.canonical}"


def _to_int(value: Any, t: AbiType, where: str) -> int:
    if isinstance(value, bool):
        raise _misfit(value, t, where, "expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        negative = text.startswith("-")
        digits = text[1:] if negative else text
        try:
            if _HEX.match(digits) and len(digits) > 2:
                number = int(digits[2:], 16)
            elif digits.isdigit() and digits.isascii():
                number = int(digits)
            else:
                raise ValueError(digits)
        except ValueError:
            raise _misfit(value, t, where, "expected an integer or a decimal/0x-hex string") from None
        return -number if negative else number
    raise _misfit(value, t, where, "expected an integer or a decimal/0x-hex string")


def _to_bytes(value: Any, t: AbiType, where: str) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        if not _HEX.match(value) or len(value) % 2:
            raise _misfit(value, t, where, "expected bytes or a 0x-prefixed hex string with an even number of digits")
        return bytes.fromhex(value[2:])
    raise _misfit(value, t, where, "expected bytes or a 0x-prefixed hex string")


def _to_address(value: Any, t: AbiType, where: str) -> str:
    if isinstance(value, (bytes, bytearray)) and len(value) == 20:
        return to_checksum_address(bytes(value))
    if not isinstance(value, str) or not _HEX.match(value) or len(value) != 42:
        raise _misfit(value, t, where, "expected a 0x-prefixed 20-byte hex address (42 characters)")
    body = value[2:]
    checksummed = to_checksum_address(bytes.fromhex(body))
    if body != body.lower() and body != body.upper() and checksummed[2:] != body:
        raise _misfit(value, t, where, f"bad EIP-55 checksum; expected {checksummed} (or all lowercase)")
    return checksummed
