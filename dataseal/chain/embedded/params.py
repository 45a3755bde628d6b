"""Parameters of the embedded chain's JSON-RPC methods: positional values parsed into the
chain's records, with messages that name the method, the position and what was expected.

Quantities and data follow the Ethereum JSON-RPC spec's hex encodings; anything else is
-32602 (:class:`InvalidParams`).
"""
from __future__ import annotations

import re
from typing import Any

from dataseal.chain.embedded.errors import InvalidParams
from dataseal.chain.embedded.records import BLOCK_TAGS, BlockRef, CallRequest, LogFilter, StateOverride

MISSING: Any = object()  # a parameter with no default
BLOCK_NUMBER_BITS = 63  # geth: "block number larger than int64"


class Params:
    """Positional parameters of one call, parsed with messages naming the method and position."""

    def __init__(self, method: str, values: list[Any]) -> None:
        self.method = method
        self.values = values

    def get(self, index: int, default: Any = MISSING) -> Any:
        if index < len(self.values):
            return self.values[index]
        if default is MISSING:
            raise InvalidParams(f"{self.method}: missing parameter {index}")
        return default

    def _where(self, index: int, name: str) -> str:
        return f"{self.method} param {index} ({name})"

    def quantity(self, index: int, name: str, bits: int = 256) -> int:
        return _quantity(self.get(index), self._where(index, name), bits)

    def slot(self, index: int) -> int:
        return _slot(self.get(index), self._where(index, "slot"))

    def data(self, index: int, name: str) -> bytes:
        return _data(self.get(index), self._where(index, name))

    def address(self, index: int) -> bytes:
        return _address(self.get(index), self._where(index, "address"))

    def hash32(self, index: int, name: str) -> bytes:
        return hash32(self.get(index), self._where(index, name))

    def boolean(self, index: int, name: str, default: bool) -> bool:
        value = self.get(index, default)
        if not isinstance(value, bool):
            raise InvalidParams(f"{self._where(index, name)} must be true or false, got {value!r}")
        return value

    def block(self, index: int, default: Any = "latest") -> BlockRef:
        value = self.get(index, default)
        return _block_ref(value, self._where(index, "block"))

    def call_request(self, index: int) -> CallRequest:
        return _call_request(self.get(index), self._where(index, "transaction"))

    def log_filter(self, index: int) -> LogFilter:
        return _log_filter(self.get(index), self._where(index, "filter"))

    def state_overrides(self, index: int) -> tuple[StateOverride, ...]:
        """geth's state override set (eth_call, eth_estimateGas); absent or null: none."""
        return _state_overrides(self.get(index, None), self._where(index, "state overrides"))


# --------------------------------------------------------------------------------- parsing


def kind_of(value: Any) -> str:
    return "null" if value is None else type(value).__name__


_HEX_DIGITS = re.compile(r"0[xX][0-9a-fA-F]+")  # "0x" and hex digits, nothing else (no sign, space or "_")


def _quantity(value: Any, where: str, bits: int = 256) -> int:
    """A number as geth's hexutil decodes a quantity: "0x" and hex digits without leading zeros,
    below ``2**bits`` (a whole JSON number of 0 or more is taken too)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise InvalidParams(f"{where} must not be negative, got {value}")
        number = value
    elif isinstance(value, str) and _HEX_DIGITS.fullmatch(value) is not None:
        if len(value) > 3 and value[2] == "0":
            raise InvalidParams(
                f"{where}: hex number with leading zero digits, got {short(value)} (write \"0x1a\", not \"0x001a\")"
            )
        if len(value) - 2 > (bits + 3) // 4:
            raise InvalidParams(f"{where}: hex number > {bits} bits, got {short(value)}")
        number = int(value[2:], 16)
    else:
        raise InvalidParams(f"{where} must be a hex quantity such as \"0x1a\", got {short(value)}")
    if number >= 2**bits:
        raise InvalidParams(f"{where}: number > {bits} bits, got {short(value)}")
    return number


def _data(value: Any, where: str) -> bytes:
    """Bytes as geth's hexutil decodes them: "0x" and an even number of hex digits, nothing else
    (``bytes.fromhex`` alone would skip whitespace between the digits)."""
    if isinstance(value, str) and value[:2] in ("0x", "0X") and len(value) % 2 == 0:
        try:
            raw = bytes.fromhex(value[2:])
        except ValueError:
            pass
        else:
            if 2 * len(raw) == len(value) - 2:
                return raw
    raise InvalidParams(f"{where} must be 0x-prefixed hex bytes (an even number of digits), got {short(value)}")


def _slot(value: Any, where: str) -> int:
    """A storage slot as geth reads one: a 32-byte key, "0x" and 1 to 64 hex digits (leading zeros
    allowed: slots are often written as padded hashes)."""
    if isinstance(value, str) and len(value) <= 66 and _HEX_DIGITS.fullmatch(value) is not None:
        return int(value[2:], 16)
    raise InvalidParams(f"{where} must be a storage slot: 0x and 1 to 64 hex digits, got {short(value)}")


def _address(value: Any, where: str) -> bytes:
    raw = _data(value, where)
    if len(raw) != 20:
        raise InvalidParams(f"{where} must be an address (20 bytes: 0x and 40 hex digits), got {len(raw)} bytes")
    return raw


def hash32(value: Any, where: str) -> bytes:
    raw = _data(value, where)
    if len(raw) != 32:
        raise InvalidParams(f"{where} must be a 32-byte hash (0x and 64 hex digits), got {len(raw)} bytes")
    return raw


def is_hash(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 66 and value[:2] in ("0x", "0X")


def _block_ref(value: Any, where: str) -> BlockRef:
    if isinstance(value, str) and value in BLOCK_TAGS:
        return value
    if isinstance(value, dict):  # EIP-1898
        if "blockHash" in value:
            return hash32(value["blockHash"], f"{where}.blockHash")
        if "blockNumber" in value and not isinstance(value["blockNumber"], dict):
            return _block_ref(value["blockNumber"], f"{where}.blockNumber")
        raise InvalidParams(f"{where} must name blockHash or blockNumber, got {short(sorted(value))}")
    if value is MISSING:
        raise InvalidParams(f"{where} is missing: give a block number or one of {', '.join(BLOCK_TAGS)}")
    if (isinstance(value, int) and not isinstance(value, bool) and value >= 0) or (
        isinstance(value, str) and _HEX_DIGITS.fullmatch(value) is not None
    ):
        return _quantity(value, where, BLOCK_NUMBER_BITS)  # (its own message: leading zeros, too large)
    raise InvalidParams(
        f"{where} must be a hex block number or one of {', '.join(BLOCK_TAGS)}, got {short(value)}"
    )


def _call_request(value: Any, where: str) -> CallRequest:
    if not isinstance(value, dict):
        raise InvalidParams(f"{where} must be an object with to, data, from, ...; got {kind_of(value)}")
    payload = value.get("input")
    other = value.get("data")
    if payload is not None and other is not None and payload != other:
        raise InvalidParams(f"{where}: both input and data are set and they differ; send one of them")
    payload = payload if payload is not None else other
    access_list: list[tuple[bytes, tuple[int, ...]]] = []
    raw_list = value.get("accessList") or []
    if not isinstance(raw_list, list):
        raise InvalidParams(f"{where}.accessList must be an array")
    for i, item in enumerate(raw_list):
        if not isinstance(item, dict) or not isinstance(item.get("storageKeys", []), list):
            raise InvalidParams(f"{where}.accessList[{i}] must be {{address, storageKeys}}")
        slots = tuple(
            int.from_bytes(hash32(k, f"{where}.accessList[{i}].storageKeys"), "big")
            for k in item.get("storageKeys", [])
        )
        access_list.append((_address(item.get("address"), f"{where}.accessList[{i}].address"), slots))
    return CallRequest(
        sender=None if value.get("from") is None else _address(value["from"], f"{where}.from"),
        to=None if value.get("to") is None else _address(value["to"], f"{where}.to"),
        gas=None if value.get("gas") is None else _quantity(value["gas"], f"{where}.gas"),
        value=0 if value.get("value") is None else _quantity(value["value"], f"{where}.value"),
        data=b"" if payload is None else _data(payload, f"{where}.data"),
        access_list=tuple(access_list),
    )


def _log_filter(value: Any, where: str) -> LogFilter:
    if not isinstance(value, dict):
        raise InvalidParams(f"{where} must be an object (fromBlock, toBlock, address, topics), got {kind_of(value)}")
    block_hash = value.get("blockHash")
    if block_hash is not None and (value.get("fromBlock") is not None or value.get("toBlock") is not None):
        raise InvalidParams(f"{where}: blockHash cannot be combined with fromBlock/toBlock")
    raw_address = value.get("address")
    if raw_address is None:
        addresses: tuple[bytes, ...] = ()
    elif isinstance(raw_address, list):
        addresses = tuple(_address(a, f"{where}.address[{i}]") for i, a in enumerate(raw_address))
    else:
        addresses = (_address(raw_address, f"{where}.address"),)
    raw_topics = value.get("topics") or []
    if not isinstance(raw_topics, list) or len(raw_topics) > 4:
        raise InvalidParams(f"{where}.topics must be an array of at most 4 positions")
    topics: list[tuple[bytes, ...] | None] = []
    for i, position in enumerate(raw_topics):
        if position is None or position == []:
            topics.append(None)
        elif isinstance(position, list):
            topics.append(tuple(hash32(t, f"{where}.topics[{i}]") for t in position))
        else:
            topics.append((hash32(position, f"{where}.topics[{i}]"),))
    return LogFilter(
        # Absent or null means "latest"; a block number 0 is block 0.
        from_block=_block_ref(_latest_if_none(value.get("fromBlock")), f"{where}.fromBlock"),
        to_block=_block_ref(_latest_if_none(value.get("toBlock")), f"{where}.toBlock"),
        block_hash=None if block_hash is None else hash32(block_hash, f"{where}.blockHash"),
        addresses=addresses,
        topics=tuple(topics),
    )


_OVERRIDE_FIELDS = ("balance", "nonce", "code", "state", "stateDiff")


def _state_overrides(value: Any, where: str) -> tuple[StateOverride, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise InvalidParams(f"{where} must be an object mapping addresses to overrides, got {kind_of(value)}")
    overrides: dict[bytes, StateOverride] = {}
    for key, fields in value.items():
        at = f"{where}[{short(key)}]"
        address = _address(key, at)
        if address in overrides:
            raise InvalidParams(f"{at}: the address 0x{address.hex()} is given twice; merge its overrides")
        if not isinstance(fields, dict):
            raise InvalidParams(f"{at} must be an object ({', '.join(_OVERRIDE_FIELDS)}), got {kind_of(fields)}")
        unknown = sorted(set(fields) - set(_OVERRIDE_FIELDS))
        if unknown:
            raise InvalidParams(
                f"{at}.{unknown[0]} is not supported: an override sets {', '.join(_OVERRIDE_FIELDS)}"
            )
        if fields.get("state") is not None and fields.get("stateDiff") is not None:
            raise InvalidParams(f"{at}: both state and stateDiff are set; give one (state replaces all storage)")
        nonce = None if fields.get("nonce") is None else _quantity(fields["nonce"], f"{at}.nonce")
        if nonce is not None and nonce >= 2**64:
            raise InvalidParams(f"{at}.nonce must be below 2**64, got {nonce}")
        balance = None if fields.get("balance") is None else _quantity(fields["balance"], f"{at}.balance")
        if balance is not None and balance >= 2**256:
            raise InvalidParams(f"{at}.balance must be below 2**256, got {short(balance)}")
        overrides[address] = StateOverride(
            address=address,
            balance=balance,
            nonce=nonce,
            code=None if fields.get("code") is None else _data(fields["code"], f"{at}.code"),
            state=_slots(fields.get("state"), f"{at}.state"),
            state_diff=_slots(fields.get("stateDiff"), f"{at}.stateDiff"),
        )
    return tuple(overrides.values())


def _slots(value: Any, where: str) -> tuple[tuple[int, int], ...] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidParams(f"{where} must be an object mapping 32-byte slots to 32-byte values, got {kind_of(value)}")
    return tuple(
        (int.from_bytes(hash32(slot, f"{where} key {short(slot)}"), "big"),
         int.from_bytes(hash32(word, f"{where}[{short(slot)}]"), "big"))
        for slot, word in value.items()
    )


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _latest_if_none(value: Any) -> Any:
    return "latest" if value is None else value
