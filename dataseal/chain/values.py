"""Checked conversions of the values a caller hands the chain layer: an address, a 32-byte hash.

What a caller gives wrong is :class:`~dataseal.errors.InvalidInput` naming the value, never the
``ValueError`` eth-utils or ``bytes.fromhex`` would raise.
"""
from __future__ import annotations

import functools

from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address

from dataseal.errors import InvalidInput


@functools.lru_cache(maxsize=4096)
def checksummed(value: str) -> ChecksumAddress:
    """An address the chain returned (40 hex digits, checksummed or not) in its checksummed form: eth-utils's, kept
    for the last 4,096 addresses (it hashes the address each time: some 20 µs, twice in every asset record read and
    once a field in every event decoded)."""
    return to_checksum_address(value)


def address(value: str, what: str) -> ChecksumAddress:
    """``value`` as a checksummed address; :class:`InvalidInput` naming ``what`` otherwise."""
    try:
        return to_checksum_address(value)
    except (ValueError, TypeError):
        raise InvalidInput(f"{what} {value!r} is not an address", hint="give 0x followed by 40 hex digits") from None


def bytes32(value: bytes | str, what: str) -> bytes:
    """``value`` (bytes or 0x-hex) as 32 bytes; :class:`InvalidInput` naming ``what`` otherwise."""
    if isinstance(value, str):
        text = value[2:] if value[:2].lower() == "0x" else value
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise InvalidInput(f"{what} {value!r} is not hex", hint="give 32 bytes as 0x followed by 64 hex digits",
                               ) from None
    elif isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
    else:  # bytes(32) would be 32 zero bytes, not an error
        raise InvalidInput(f"{what} is {type(value).__name__}, not a hash", hint="give 0x followed by 64 hex digits")
    if len(raw) != 32:
        raise InvalidInput(f"{what} must be 32 bytes (a keccak256/Merkle hash), got {len(raw)}",
                           hint="give 0x followed by 64 hex digits")
    return raw
