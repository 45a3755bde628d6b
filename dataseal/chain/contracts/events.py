"""Turning logs into records: one table maps each (contract, event) to the record it becomes.

Every event the three contracts can emit is in :data:`EVENTS`; the table and the ABIs are checked
against each other when the decoder is first used (an event the table lacks is a broken
installation, not something to pass through untyped). A log from one of a deployment's addresses
whose event its contract does not declare is an error too: the deployment record does not match
the code at that address. A log of a declared event that does not decode (short data, bad padding, a
value out of its type's range, topics missing) raises :class:`MalformedLog`, naming the contract, the
event and the log's transaction and index, never eth_abi's own error.
"""
from __future__ import annotations

import binascii
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes
from web3.types import TxReceipt

from dataseal.chain.contracts.artifacts import CONTRACT_NAMES, load_artifact
from dataseal.chain.contracts.deployment import Deployment
from dataseal.chain.contracts.records import (
    AdminChange,
    AssetRecord,
    AssetRenewal,
    AssetStatus,
    AssetStatusChange,
    AssetTransfer,
    BatchRecord,
    CommitRecord,
    DomainChange,
    GrantRecord,
    GrantRevocation,
    Lineage,
    NonceUse,
    ObjectionRecord,
    OperatorApproval,
    OperatorChange,
    Record,
    RoleAdminChange,
    RoleChange,
    RootReservation,
    Settlement,
    TokenApproval,
    TradeRecord,
    TxRef,
    UsageBatchRecord,
    UsageRecord,
)
from dataseal.chain.contracts.revert import canonical_type
from dataseal.chain.errors import ChainError
from dataseal.chain.values import address as checked_address
from dataseal.chain.values import checksummed
from dataseal.errors import ErrorKind, InternalError

Builder = Callable[[dict[str, Any], TxRef], Record]


class MalformedLog(ChainError):
    """A log from one of a deployment's contracts that names one of its events but does not decode as that event
    (``contract``, ``event``, ``tx_hash``, ``log_index`` say which): the node served a log no build of the contract
    emits."""

    kind = ErrorKind.INVALID_INPUT

    def __init__(self, message: str, *, contract: str, event: str, tx_hash: str, log_index: int | None,
                 hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.contract, self.event, self.tx_hash, self.log_index = contract, event, tx_hash, log_index


class _Undecodable(Exception):
    """A log's topics or data are not an encoding of its event (internal: :class:`MalformedLog` says where)."""

_NO_ADMIN = "0x0000000000000000000000000000000000000000"

#: (contract, event) -> how its decoded arguments (by Solidity name) become a record
EVENTS: dict[tuple[str, str], Builder] = {
    ("AssetRegistry", "AssetRegistered"): lambda a, tx: AssetRecord(
        a["assetId"], a["registrant"], a["contentRoot"], a["manifestHash"], a["rightsType"], a["classification"],
        AssetStatus(a["status"]), a["parentId"], Lineage(a["lineage"]), a["registeredAt"], a["validUntil"], tx),
    ("AssetRegistry", "AssetStatusChanged"): lambda a, tx: AssetStatusChange(
        a["assetId"], AssetStatus(a["from"]), AssetStatus(a["to"]), a["by"], a["reasonHash"], tx),
    ("AssetRegistry", "Transfer"): lambda a, tx: AssetTransfer(a["from"], a["to"], a["tokenId"], tx),
    ("AssetRegistry", "Approval"): lambda a, tx: TokenApproval(a["owner"], a["approved"], a["tokenId"], tx),
    ("AssetRegistry", "ApprovalForAll"): lambda a, tx: OperatorApproval(a["owner"], a["operator"], a["approved"], tx),
    ("AssetRegistry", "BatchAnchored"): lambda a, tx: BatchRecord(
        a["batchId"], a["anchorer"], a["batchRoot"], a["manifestHash"], a["count"], a["anchoredAt"], tx),
    ("AssetRegistry", "RoleGranted"): lambda a, tx: RoleChange(a["role"], a["account"], a["sender"], True, tx),
    ("AssetRegistry", "RoleRevoked"): lambda a, tx: RoleChange(a["role"], a["account"], a["sender"], False, tx),
    ("AssetRegistry", "RoleAdminChanged"): lambda a, tx: RoleAdminChange(
        a["role"], a["previousAdminRole"], a["newAdminRole"], tx),
    ("AssetRegistry", "EIP712DomainChanged"): lambda a, tx: DomainChange("AssetRegistry", tx),
    ("AssetRegistry", "Committed"): lambda a, tx: CommitRecord(a["commitment"], a["by"], tx),
    ("AssetRegistry", "RootReserved"): lambda a, tx: RootReservation(
        a["contentRoot"], a["beneficiary"], a["assetId"], a["reservedUntil"], tx),
    ("AssetRegistry", "ObjectionFiled"): lambda a, tx: ObjectionRecord(
        a["assetId"], a["objector"], a["evidenceHash"], tx),
    ("AssetRegistry", "AssetRenewed"): lambda a, tx: AssetRenewal(
        a["assetId"], a["previousValidUntil"], a["validUntil"], a["by"], tx),
    ("AssetRegistry", "NonceUsed"): lambda a, tx: NonceUse("AssetRegistry", a["owner"], a["nonce"], tx),
    ("AssetRegistry", "DefaultAdminTransferScheduled"): lambda a, tx: AdminChange(
        "transfer_scheduled", a["newAdmin"], 0, a["acceptSchedule"], tx),
    ("AssetRegistry", "DefaultAdminTransferCanceled"): lambda a, tx: AdminChange(
        "transfer_canceled", _NO_ADMIN, 0, 0, tx),
    ("AssetRegistry", "DefaultAdminDelayChangeScheduled"): lambda a, tx: AdminChange(
        "delay_change_scheduled", _NO_ADMIN, a["newDelay"], a["effectSchedule"], tx),
    ("AssetRegistry", "DefaultAdminDelayChangeCanceled"): lambda a, tx: AdminChange(
        "delay_change_canceled", _NO_ADMIN, 0, 0, tx),
    ("GrantRegistry", "GrantCreated"): lambda a, tx: GrantRecord(
        a["grantId"], a["assetId"], a["grantee"], a["grantor"], a["purpose"], a["validFrom"], a["expiresAt"],
        a["quota"], a["scopeRoot"], tx),
    ("GrantRegistry", "GrantRevoked"): lambda a, tx: GrantRevocation(
        a["grantId"], a["assetId"], a["by"], a["reasonHash"], tx),
    ("GrantRegistry", "EIP712DomainChanged"): lambda a, tx: DomainChange("GrantRegistry", tx),
    ("GrantRegistry", "NonceUsed"): lambda a, tx: NonceUse("GrantRegistry", a["owner"], a["nonce"], tx),
    ("TransactionLedger", "UsageRecorded"): lambda a, tx: UsageRecord(
        a["grantId"], a["recorder"], a["units"], a["sequence"], a["receiptHash"], tx),
    ("TransactionLedger", "UsageBatchRecorded"): lambda a, tx: UsageBatchRecord(
        a["grantId"], a["recorder"], a["units"], a["sequence"], a["receiptsRoot"], a["count"], tx),
    ("TransactionLedger", "TradeRecorded"): lambda a, tx: TradeRecord(
        a["tradeId"], a["assetId"], a["seller"], a["buyer"], a["price"], a["currency"], a["settlementHash"],
        Settlement(a["settlement"]), a["grantId"], a["recorder"], tx),
    ("TransactionLedger", "OperatorSet"): lambda a, tx: OperatorChange(
        a["account"], a["operator"], a["powers"], tx),
    ("TransactionLedger", "NonceUsed"): lambda a, tx: NonceUse("TransactionLedger", a["owner"], a["nonce"], tx),
    ("TransactionLedger", "EIP712DomainChanged"): lambda a, tx: DomainChange("TransactionLedger", tx),
}


#: Decodes one 32-byte word of an ABI type; returns :data:`_BAD` when the word is not a valid encoding (its
#: padding is not what the type requires), and eth_abi then decodes the whole log, raising as it always did.
WordDecoder = Callable[[bytes], Any]

_BAD = object()
_ZERO12 = bytes(12)
_FALSE_WORD = bytes(32)
_TRUE_WORD = bytes(31) + b"\x01"


def _uint_word(bits: int) -> WordDecoder:
    if bits == 256:
        return lambda word: int.from_bytes(word, "big")

    def decode(word: bytes) -> Any:
        value = int.from_bytes(word, "big")
        return _BAD if value >> bits else value
    return decode


def _int_word(bits: int) -> WordDecoder:
    low, high = -(1 << (bits - 1)), 1 << (bits - 1)

    def decode(word: bytes) -> Any:
        value = int.from_bytes(word, "big", signed=True)
        return value if low <= value < high else _BAD
    return decode


def _address_word(word: bytes) -> Any:
    return "0x" + word[12:].hex() if word[:12] == _ZERO12 else _BAD


def _bool_word(word: bytes) -> Any:
    return False if word == _FALSE_WORD else True if word == _TRUE_WORD else _BAD


def _bytes_word(size: int) -> WordDecoder:
    if size == 32:
        return lambda word: word
    padding = bytes(32 - size)
    return lambda word: word[:size] if word[size:] == padding else _BAD


def _word_decoder(abi_type: str) -> WordDecoder | None:
    """How to decode one word of ``abi_type`` directly (None: not a single static word; eth_abi decodes it)."""
    if not _is_word(abi_type):
        return None
    if abi_type == "address":
        return _address_word
    if abi_type == "bool":
        return _bool_word
    for prefix, make in (("uint", _uint_word), ("int", _int_word), ("bytes", _bytes_word)):
        if abi_type.startswith(prefix):
            size = int(abi_type[len(prefix):] or (256 if prefix != "bytes" else 0))
            bound = 256 if prefix != "bytes" else 32
            if not (0 < size <= bound and (prefix == "bytes" or size % 8 == 0)):
                return None  # (not a valid type: eth_abi says so)
            return make(size)
    return None


@dataclass(frozen=True)
class _EventSpec:
    contract: str
    name: str
    indexed: tuple[tuple[str, str], ...]
    data_names: tuple[str, ...]
    data_types: tuple[str, ...]
    #: (name, word decoder) of the indexed and the data fields when every one is a single static word (the fast
    #: path, which reads words directly instead of through eth_abi), else None
    _fast: tuple[tuple[tuple[str, WordDecoder], ...], tuple[tuple[str, WordDecoder], ...]] | None = field(
        default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        indexed = [(name, _word_decoder(abi_type)) for name, abi_type in self.indexed]
        data = [(name, _word_decoder(abi_type)) for name, abi_type in zip(self.data_names, self.data_types,
                                                                            strict=True)]
        if all(decoder is not None for _, decoder in (*indexed, *data)):
            fast = (tuple((n, d) for n, d in indexed if d is not None), tuple((n, d) for n, d in data if d is not None))
            object.__setattr__(self, "_fast", fast)

    def decode(self, topics: Sequence[bytes], data: bytes) -> dict[str, Any]:
        if len(topics) != len(self.indexed) + 1:
            raise _Undecodable(f"expected {len(self.indexed) + 1} topics, got {len(topics)}")
        args = self._decode_words(topics, data) if self._fast is not None else None
        if args is None:
            args = self._decode_abi(topics, data)
        for name in self._addresses:
            args[name] = checksummed(args[name])
        return args

    def _decode_words(self, topics: Sequence[bytes], data: bytes) -> dict[str, Any] | None:
        """The fields read word by word; None when a word is not exactly what eth_abi accepts (eth_abi then
        decodes the log, and raises what it raises)."""
        assert self._fast is not None
        indexed, words = self._fast
        if len(data) != 32 * len(words):
            return None
        args: dict[str, Any] = {}
        position = 1
        for name, decode in indexed:
            topic = topics[position]
            position += 1
            value = decode(topic) if len(topic) == 32 else _BAD
            if value is _BAD:
                return None
            args[name] = value
        offset = 0
        for name, decode in words:
            value = decode(data[offset:offset + 32])
            offset += 32
            if value is _BAD:
                return None
            args[name] = value
        return args

    def _decode_abi(self, topics: Sequence[bytes], data: bytes) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if self._indexed_words:  # one 32-byte word each: decoded together, as one static tuple
            args.update(zip(self._indexed_names, abi_decode(self._indexed_types, b"".join(topics[1:])), strict=True))
        else:
            for (name, abi_type), topic in zip(self.indexed, topics[1:], strict=True):
                (args[name],) = abi_decode([abi_type], topic)
        if self.data_types:
            args.update(zip(self.data_names, abi_decode(self._data_types, data), strict=True))
        return args

    @cached_property
    def _indexed_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.indexed)

    @cached_property
    def _indexed_types(self) -> tuple[str, ...]:
        return tuple(abi_type for _, abi_type in self.indexed)

    @cached_property
    def _data_types(self) -> tuple[str, ...]:
        return tuple(self.data_types)

    @cached_property
    def _indexed_words(self) -> bool:
        return bool(self.indexed) and all(_is_word(abi_type) for _, abi_type in self.indexed)

    @cached_property
    def _addresses(self) -> tuple[str, ...]:
        typed = (*self.indexed, *zip(self.data_names, self.data_types, strict=True))
        return tuple(name for name, abi_type in typed if abi_type == "address")


def _is_word(abi_type: str) -> bool:
    """Whether a value of ``abi_type`` is one 32-byte word as such (not an array, tuple, bytes or string)."""
    return abi_type in ("address", "bool") or (
        abi_type.startswith(("uint", "int", "bytes")) and abi_type[-1].isdigit() and "[" not in abi_type
    )


def as_bytes(value: Any) -> bytes:
    """``value`` (bytes, or 0x-hex as a node sends it) as bytes; anything else as :class:`HexBytes` reads it (and
    with its errors)."""
    if type(value) is bytes:
        return value
    if isinstance(value, str) and value[:2] == "0x" and not len(value) % 2:
        try:
            return binascii.unhexlify(value[2:])
        except (binascii.Error, ValueError):
            pass  # (HexBytes raises its own error)
    return bytes(HexBytes(value))


def as_hex(value: Any) -> str:
    """``value`` (bytes, or 0x-hex in any case) as lowercase 0x-hex."""
    return "0x" + as_bytes(value).hex()


def as_int(value: Any) -> int:
    """A quantity as web3 formats it (int) or as the node sends it (0x-hex)."""
    return int(value, 16) if isinstance(value, str) and value[:2] == "0x" else int(value)


@cache
def _event_specs() -> dict[tuple[str, bytes], tuple[_EventSpec, Builder]]:
    """(contract, topic0) -> the event and its record builder; several contracts may declare the same
    event (EIP712DomainChanged). Raises :class:`InternalError` when :data:`EVENTS` and the ABIs differ."""
    specs: dict[tuple[str, bytes], tuple[_EventSpec, Builder]] = {}
    declared: set[tuple[str, str]] = set()
    for contract in CONTRACT_NAMES:
        for item in load_artifact(contract).abi:
            if item.get("type") != "event" or item.get("anonymous"):
                continue
            types = [canonical_type(i) for i in item["inputs"]]
            topic0 = keccak(text=f"{item['name']}({','.join(types)})")
            declared.add((contract, item["name"]))
            builder = EVENTS.get((contract, item["name"]))
            if builder is None:
                raise InternalError(
                    f"{contract} declares the event {item['name']}, which dataseal's event table does not map to a "
                    "record", hint="the shipped artifacts and dataseal's code disagree: reinstall dataseal")
            specs[(contract, topic0)] = _EventSpec(
                contract=contract,
                name=item["name"],
                indexed=tuple((i["name"], t) for i, t in zip(item["inputs"], types, strict=True) if i.get("indexed")),
                data_names=tuple(i["name"] for i in item["inputs"] if not i.get("indexed")),
                data_types=tuple(t for i, t in zip(item["inputs"], types, strict=True) if not i.get("indexed")),
            ), builder
    stale = sorted(set(EVENTS) - declared)
    if stale:
        raise InternalError(f"dataseal's event table maps events no contract declares: {stale}",
                            hint="the shipped artifacts and dataseal's code disagree: reinstall dataseal")
    return specs


@dataclass(frozen=True)
class _Where:
    """Where a log is from, for :class:`MalformedLog` (read leniently: the log is the thing in doubt)."""

    contract: str
    address: str
    log: Any

    @property
    def tx_hash(self) -> str:
        try:
            return as_hex(self.log["transactionHash"])
        except (KeyError, ValueError, TypeError):
            return "unknown"

    @property
    def log_index(self) -> int | None:
        try:
            return as_int(self.log["logIndex"])
        except (KeyError, ValueError, TypeError):
            return None

    def position(self, event: str, block_hash: Any) -> TxRef:
        """Where the log was emitted, read strictly (a log without its transaction, block or index, or with one that
        is not hex, would be stored under a made-up key)."""
        fields: list[Any] = []
        for name, read, what in (("transactionHash", as_hex, "a 32-byte hash"), ("blockNumber", as_int, "a number"),
                                 ("logIndex", as_int, "a number")):
            try:
                value = read(self.log[name])
            except KeyError:
                raise self.malformed(event, f"it has no {name}") from None
            except (ValueError, TypeError) as exc:
                raise self.malformed(event, f"its {name} is not {what} ({exc})") from None
            if name == "transactionHash" and len(str(value)) != 66:
                raise self.malformed(event, f"its transactionHash {value} is not 32 bytes")
            fields.append(value)
        try:
            hashed = as_hex(block_hash)
        except (ValueError, TypeError) as exc:
            raise self.malformed(event, f"its blockHash is not a 32-byte hash ({exc})") from None
        if len(hashed) != 66:
            raise self.malformed(event, f"its blockHash {hashed} is not 32 bytes")
        return TxRef(fields[0], fields[1], fields[2], hashed)

    def malformed(self, event: str | None, reason: str) -> MalformedLog:
        index = "?" if self.log_index is None else self.log_index
        try:
            block = f", block {as_int(self.log['blockNumber'])}"
        except (KeyError, ValueError, TypeError):
            block = ""
        return MalformedLog(
            f"log {index} of transaction {self.tx_hash}{block}, from {self.contract} at {self.address}, is not a "
            f"valid {event + ' event' if event else 'log of an event'}: {reason}",
            hint=f"no build of {self.contract} emits such a log: check that the node serves this chain's logs "
            "unaltered, and that the deployment record names dataseal's contracts",
            contract=self.contract, event=event or "unknown", tx_hash=self.tx_hash, log_index=self.log_index)


class EventDecoder:
    """Turns logs of one deployment's contracts into records (see :data:`EVENTS`).

    A log from one of the deployment's addresses that matches no event of that contract raises
    :class:`ChainError` (the record does not match the code there); logs of other addresses are skipped.
    ``deployment`` may also be a mapping of contract name to address.
    """

    def __init__(self, deployment: Deployment | Mapping[str, str]) -> None:
        addresses = deployment.addresses() if isinstance(deployment, Deployment) else deployment
        self.contracts = {checked_address(address, f"the {name} address"): name for name, address in addresses.items()}
        self._lower = {address.lower(): name for address, name in self.contracts.items()}

    def decode_log(self, log: Any) -> Record | None:
        """The record of ``log``; None when it is not from one of the deployment's contracts.

        ``log`` is a log as web3 formats it (bytes and ints) or as the node sent it (0x-hex strings). A log of one
        of the contracts that does not decode raises :class:`MalformedLog` (or :class:`ChainError` when its event
        is not the contract's)."""
        address = log["address"]
        contract = self._lower.get(address.lower() if isinstance(address, str) else str(address).lower())
        if contract is None:
            return None
        where = _Where(contract, str(address), log)
        try:
            topics = [as_bytes(t) for t in log["topics"]]
        except (ValueError, TypeError) as exc:
            raise where.malformed(None, f"a topic is not 32 bytes of hex ({exc})") from None
        found = _event_specs().get((contract, topics[0])) if topics else None
        tx_hash = where.tx_hash
        if found is None:
            raise ChainError(
                f"log {where.log_index} of {contract} at {to_checksum_address(address)} (transaction "
                f"{tx_hash}) matches no event of its ABI",
                hint="the deployment record does not match the code at that address", kind=ErrorKind.INTERNAL,
            )
        spec, build = found
        block_hash = log.get("blockHash")
        if block_hash is None:
            raise ChainError(f"log {where.log_index} of transaction {tx_hash} has no block hash",
                             hint="the node handed out a log of a pending block; read mined blocks only",
                             kind=ErrorKind.INTERNAL)
        tx = where.position(spec.name, block_hash)
        try:
            data = as_bytes(log["data"])
        except (ValueError, TypeError) as exc:
            raise where.malformed(spec.name, f"its data is not hex ({exc})") from None
        try:
            return build(spec.decode(topics, data), tx)
        except _Undecodable as exc:
            reason = str(exc)
        except DecodingError as exc:  # eth_abi's InsufficientDataBytes, NonEmptyPaddingBytes, ...
            reason = f"{type(exc).__name__}: {exc}"
        except ValueError as exc:  # a value the record's enum does not have (a status, a lineage, a settlement)
            reason = str(exc)
        raise where.malformed(spec.name, reason)

    def decode_logs(self, logs: Iterable[Any]) -> list[Record]:
        """The records of those ``logs`` that come from the deployment, in order."""
        out = []
        for log in logs:
            record = self.decode_log(log)
            if record is not None:
                out.append(record)
        return out

    def decode_receipt(self, receipt: TxReceipt) -> list[Record]:
        """The records of a transaction's receipt."""
        return self.decode_logs(receipt["logs"])
