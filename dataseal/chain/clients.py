"""Typed clients for dataseal's three contracts, and typed records of their events.

The contract role of the chain layer: a client encodes a call, hands it to a sender
(:class:`chain.sender.LocalSender`: signs locally, sends, waits), and decodes the receipt's
events into frozen records (:class:`AssetRecord`, :class:`GrantRecord`, :class:`UsageRecord`,
:class:`TradeRecord`, ...). A revert surfaces as :class:`chain.errors.ContractRevert` naming the
Solidity custom error and its arguments.

Every write comes in two forms::

    record = registry.register(root, manifest, rights_type=1, classification=0)      # send and wait
    pending = [registry.submit_register(r, manifest, 1, 0) for r in roots]           # many in flight
    records = wait_all(pending)

``submit_*`` reuses one gas estimate per function (times the sender's margin) instead of asking the
node for each transaction, so that a burst costs one round trip per transaction; the plain form
estimates every time, so a revert is reported before anything is spent.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from enum import IntEnum
from functools import cache, lru_cache
from typing import Any, ClassVar, Generic, Literal, Protocol, TypeVar, cast

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from dataseal.chain.artifacts import CONTRACT_NAMES, load_artifact
from dataseal.chain.contracts import DecodedEvent, Deployment, read, replay_failure
from dataseal.chain.errors import ChainError, ContractRevert
from dataseal.chain.revert import canonical_type
from dataseal.chain.sender import PendingTransaction

ZERO32 = b"\0" * 32
ESTIMATE: Literal["estimate"] = "estimate"
"""``gas=ESTIMATE``: ask the node for this very transaction (the default of the waiting methods)."""

R = TypeVar("R")


# ------------------------------------------------------------------------------------ enums


class AssetStatus(IntEnum):
    """IAssetRegistry.Status (Solidity names)."""

    None_ = 0
    Pending = 1
    Active = 2
    Suspended = 3
    Cancelled = 4
    Rejected = 5


class Lineage(IntEnum):
    """IAssetRegistry.Lineage."""

    None_ = 0
    Version = 1
    Derived = 2


class GrantStatus(IntEnum):
    """IGrantRegistry.GrantStatus."""

    None_ = 0
    Active = 1
    Revoked = 2


# ------------------------------------------------------------------------------------ records


class _Json:
    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(cast(Any, self)):
            out[f.name] = _jsonable(getattr(self, f.name))
        return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, IntEnum):
        return value.name.rstrip("_")
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, _Json):
        return value.to_json()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class TxRef(_Json):
    """Where an event was emitted: transaction, block, position in the block's logs."""

    tx_hash: str
    block_number: int
    log_index: int
    block_hash: str = ""


@dataclass(frozen=True)
class AssetRecord(_Json):
    """AssetRegistered: a registration as the chain recorded it."""

    asset_id: int
    registrant: str
    content_root: bytes
    manifest_hash: bytes
    rights_type: int
    classification: int
    status: AssetStatus
    parent_id: int
    lineage: Lineage
    registered_at: int
    tx: TxRef


@dataclass(frozen=True)
class AssetStatusChange(_Json):
    """AssetStatusChanged: approval, rejection, suspension, reinstatement, cancellation."""

    asset_id: int
    from_status: AssetStatus
    to_status: AssetStatus
    by: str
    reason_hash: bytes
    tx: TxRef


@dataclass(frozen=True)
class AssetTransfer(_Json):
    """Transfer (ERC-721) of an asset token; ``from_address`` is the zero address at registration."""

    from_address: str
    to_address: str
    asset_id: int
    tx: TxRef


@dataclass(frozen=True)
class BatchRecord(_Json):
    """BatchAnchored: the Merkle root of many asset records, committed in one transaction."""

    batch_id: int
    anchorer: str
    batch_root: bytes
    manifest_hash: bytes
    count: int
    anchored_at: int
    tx: TxRef


@dataclass(frozen=True)
class GrantRecord(_Json):
    """GrantCreated: an authorization of ``grantee`` to use ``asset_id`` for ``purpose``."""

    grant_id: int
    asset_id: int
    grantee: str
    grantor: str
    purpose: bytes
    valid_from: int
    expires_at: int
    quota: int
    scope_root: bytes
    tx: TxRef


@dataclass(frozen=True)
class GrantRevocation(_Json):
    """GrantRevoked."""

    grant_id: int
    asset_id: int
    by: str
    reason_hash: bytes
    tx: TxRef


@dataclass(frozen=True)
class UsageRecord(_Json):
    """UsageRecorded: ``units`` used under a grant for one job, with the hash of its receipt."""

    grant_id: int
    recorder: str
    units: int
    sequence: int
    receipt_hash: bytes
    tx: TxRef


@dataclass(frozen=True)
class UsageBatchRecord(_Json):
    """UsageBatchRecorded: many jobs' units, committed by the Merkle root of their receipts."""

    grant_id: int
    recorder: str
    units: int
    sequence: int
    receipts_root: bytes
    count: int
    tx: TxRef


@dataclass(frozen=True)
class TradeRecord(_Json):
    """TradeRecorded: a trade of an asset, with the hash of its off-chain settlement."""

    trade_id: int
    asset_id: int
    seller: str
    buyer: str
    price: int
    currency: bytes
    settlement_hash: bytes
    recorder: str
    tx: TxRef


@dataclass(frozen=True)
class OperatorChange(_Json):
    """OperatorSet: ``account`` (dis)approved ``operator`` to record usage and trades for it."""

    account: str
    operator: str
    approved: bool
    tx: TxRef


@dataclass(frozen=True)
class OtherEvent(_Json):
    """Any other event of the three contracts (roles, ERC-721 approvals, EIP-712 domain)."""

    contract: str
    name: str
    args: dict[str, Any]
    tx: TxRef


Record = (
    AssetRecord | AssetStatusChange | AssetTransfer | BatchRecord | GrantRecord | GrantRevocation | UsageRecord
    | UsageBatchRecord | TradeRecord | OperatorChange | OtherEvent
)


@dataclass(frozen=True)
class Asset(_Json):
    """An asset's current state (assetOf)."""

    asset_id: int
    content_root: bytes
    manifest_hash: bytes
    owner: str
    registrant: str
    registered_at: int
    rights_type: int
    classification: int
    status: AssetStatus
    parent_id: int
    lineage: Lineage


@dataclass(frozen=True)
class Batch(_Json):
    """An anchored batch (batchOf)."""

    batch_id: int
    batch_root: bytes
    manifest_hash: bytes
    anchorer: str
    anchored_at: int
    count: int


@dataclass(frozen=True)
class Grant(_Json):
    """A grant's current state (grantOf)."""

    grant_id: int
    asset_id: int
    grantee: str
    valid_from: int
    expires_at: int
    quota: int
    used: int
    sequence: int
    scope_root: bytes
    status: GrantStatus


@dataclass(frozen=True)
class GrantTerms(_Json):
    """What an owner signs for grantBySig (IGrantRegistry.GrantTerms)."""

    asset_id: int
    grantee: str
    purpose: bytes
    valid_from: int
    expires_at: int
    quota: int
    scope_root: bytes = ZERO32

    def as_tuple(self) -> tuple[Any, ...]:
        return (self.asset_id, to_checksum_address(self.grantee), _b32(self.purpose, "purpose"), self.valid_from,
                self.expires_at, self.quota, _b32(self.scope_root, "scope_root"))


# ------------------------------------------------------------------------------------ event decoding


@dataclass(frozen=True)
class _EventSpec:
    contract: str
    name: str
    indexed: tuple[tuple[str, str], ...]
    data_names: tuple[str, ...]
    data_types: tuple[str, ...]

    def decode(self, topics: Sequence[bytes], data: bytes) -> dict[str, Any]:
        if len(topics) != len(self.indexed) + 1:
            raise ChainError(f"{self.contract}.{self.name}: expected {len(self.indexed) + 1} topics, got {len(topics)}")
        args: dict[str, Any] = {}
        if self._indexed_words:  # one 32-byte word each: decoded together, as one static tuple
            args.update(zip(self._indexed_names, abi_decode(self._indexed_types, b"".join(topics[1:])), strict=True))
        else:
            for (name, abi_type), topic in zip(self.indexed, topics[1:], strict=True):
                (args[name],) = abi_decode([abi_type], topic)
        if self.data_types:
            args.update(zip(self.data_names, abi_decode(self._data_types, data), strict=True))
        for name in self._addresses:
            args[name] = _checksum(args[name])
        return args

    @property
    def _indexed_names(self) -> list[str]:
        return [name for name, _ in self.indexed]

    @property
    def _indexed_types(self) -> list[str]:
        return [abi_type for _, abi_type in self.indexed]

    @property
    def _data_types(self) -> list[str]:
        return list(self.data_types)

    @property
    def _indexed_words(self) -> bool:
        return bool(self.indexed) and all(_is_word(abi_type) for _, abi_type in self.indexed)

    @property
    def _addresses(self) -> list[str]:
        typed = (*self.indexed, *zip(self.data_names, self.data_types, strict=True))
        return [name for name, abi_type in typed if abi_type == "address"]


def _is_word(abi_type: str) -> bool:
    """Whether a value of ``abi_type`` is one 32-byte word as such (not an array, tuple, bytes or string)."""
    return abi_type in ("address", "bool") or (
        abi_type.startswith(("uint", "int", "bytes")) and abi_type[-1].isdigit() and "[" not in abi_type
    )


@lru_cache(maxsize=4096)
def _checksum(address: str) -> str:
    return str(to_checksum_address(address))


@cache
def _event_specs() -> dict[tuple[str, bytes], _EventSpec]:
    """(contract, topic0) -> event; several contracts may declare the same event (EIP712DomainChanged)."""
    specs: dict[tuple[str, bytes], _EventSpec] = {}
    for contract in CONTRACT_NAMES:
        for item in load_artifact(contract).abi:
            if item.get("type") != "event" or item.get("anonymous"):
                continue
            types = [canonical_type(i) for i in item["inputs"]]
            topic0 = keccak(text=f"{item['name']}({','.join(types)})")
            specs[(contract, topic0)] = _EventSpec(
                contract=contract,
                name=item["name"],
                indexed=tuple((i["name"], t) for i, t in zip(item["inputs"], types, strict=True) if i.get("indexed")),
                data_names=tuple(i["name"] for i in item["inputs"] if not i.get("indexed")),
                data_types=tuple(t for i, t in zip(item["inputs"], types, strict=True) if not i.get("indexed")),
            )
    return specs


def _record(contract: str, name: str, a: dict[str, Any], tx: TxRef) -> Record:
    if contract == "AssetRegistry":
        if name == "AssetRegistered":
            return AssetRecord(a["assetId"], a["registrant"], a["contentRoot"], a["manifestHash"], a["rightsType"],
                               a["classification"], AssetStatus(a["status"]), a["parentId"], Lineage(a["lineage"]),
                               a["registeredAt"], tx)
        if name == "AssetStatusChanged":
            return AssetStatusChange(a["assetId"], AssetStatus(a["from"]), AssetStatus(a["to"]), a["by"],
                                     a["reasonHash"], tx)
        if name == "Transfer":
            return AssetTransfer(a["from"], a["to"], a["tokenId"], tx)
        if name == "BatchAnchored":
            return BatchRecord(a["batchId"], a["anchorer"], a["batchRoot"], a["manifestHash"], a["count"],
                               a["anchoredAt"], tx)
    elif contract == "GrantRegistry":
        if name == "GrantCreated":
            return GrantRecord(a["grantId"], a["assetId"], a["grantee"], a["grantor"], a["purpose"], a["validFrom"],
                               a["expiresAt"], a["quota"], a["scopeRoot"], tx)
        if name == "GrantRevoked":
            return GrantRevocation(a["grantId"], a["assetId"], a["by"], a["reasonHash"], tx)
    elif contract == "TransactionLedger":
        if name == "UsageRecorded":
            return UsageRecord(a["grantId"], a["recorder"], a["units"], a["sequence"], a["receiptHash"], tx)
        if name == "UsageBatchRecorded":
            return UsageBatchRecord(a["grantId"], a["recorder"], a["units"], a["sequence"], a["receiptsRoot"],
                                    a["count"], tx)
        if name == "TradeRecorded":
            return TradeRecord(a["tradeId"], a["assetId"], a["seller"], a["buyer"], a["price"], a["currency"],
                               a["settlementHash"], a["recorder"], tx)
        if name == "OperatorSet":
            return OperatorChange(a["account"], a["operator"], a["approved"], tx)
    return OtherEvent(contract, name, a, tx)


class EventDecoder:
    """Turns logs of one deployment's contracts into typed records (or, for :func:`chain.contracts.decode_events`,
    into :class:`DecodedEvent`: the event's name and arguments).

    A log from one of the deployment's addresses that matches no event of that contract raises
    :class:`ChainError` (the record does not match the code there); logs of other addresses are skipped.
    ``deployment`` may also be a mapping of contract name to address.
    """

    def __init__(self, deployment: Deployment | Mapping[str, str]) -> None:
        addresses = deployment.addresses() if isinstance(deployment, Deployment) else deployment
        self.contracts = {to_checksum_address(address): name for name, address in addresses.items()}
        self._lower = {address.lower(): name for address, name in self.contracts.items()}

    def decode_log(self, log: Any) -> Record | None:
        decoded = self._decode(log)
        if decoded is None:
            return None
        contract, name, args = decoded
        block_hash = log.get("blockHash")
        tx = TxRef(HexBytes(log["transactionHash"]).to_0x_hex(), int(log["blockNumber"]), int(log["logIndex"]),
                   HexBytes(block_hash).to_0x_hex() if block_hash is not None else "")
        return _record(contract, name, args, tx)

    def decode_logs(self, logs: Iterable[Any]) -> list[Record]:
        out = []
        for log in logs:
            record = self.decode_log(log)
            if record is not None:
                out.append(record)
        return out

    def decode_receipt(self, receipt: TxReceipt) -> list[Record]:
        return self.decode_logs(receipt["logs"])

    def decode_events(self, receipt: TxReceipt) -> list[DecodedEvent]:
        """The receipt's events of the deployment by name and arguments, untyped."""
        events = []
        for log in receipt["logs"]:
            decoded = self._decode(log)
            if decoded is not None:
                contract, name, args = decoded
                events.append(DecodedEvent(contract, name, args, int(log["blockNumber"]),
                                           HexBytes(log["transactionHash"]).to_0x_hex(), int(log["logIndex"])))
        return events

    def _decode(self, log: Any) -> tuple[str, str, dict[str, Any]] | None:
        """(contract name, event name, arguments) of ``log``; None when it is not from the deployment."""
        address = log["address"]
        contract = self._lower.get(str(address).lower())
        if contract is None:
            return None
        topics = [bytes(HexBytes(t)) for t in log["topics"]]
        spec = _event_specs().get((contract, topics[0])) if topics else None
        if spec is None:
            raise ChainError(
                f"log {int(log['logIndex'])} of {contract} at {to_checksum_address(address)} (transaction "
                f"{HexBytes(log['transactionHash']).to_0x_hex()}) matches no event of its ABI: the deployment record "
                "does not match the code at that address"
            )
        return contract, spec.name, spec.decode(topics, bytes(HexBytes(log["data"])))


# ------------------------------------------------------------------------------------ calls


class TxSender(Protocol):
    """What the clients need from a sender (:class:`chain.sender.LocalSender` is one)."""

    @property
    def address(self) -> str: ...

    def submit(self, w3: Web3, tx: dict[str, Any], *, action: str = ...) -> PendingTransaction: ...

    def wait(self, w3: Web3, pending: PendingTransaction, *, timeout: float | None = None) -> TxReceipt: ...

    def estimate_gas(self, w3: Web3, call: dict[str, Any], action: str = ...) -> int: ...


@dataclass(frozen=True)
class _Function:
    name: str
    selector: bytes
    types: tuple[str, ...]

    def encode(self, args: Sequence[Any]) -> bytes:
        return self.selector + abi_encode(list(self.types), list(args))


@cache
def _functions(contract: str) -> dict[str, _Function]:
    out: dict[str, _Function] = {}
    for item in load_artifact(contract).abi:
        if item.get("type") == "function" and item.get("stateMutability") not in ("view", "pure"):
            types = tuple(canonical_type(i) for i in item["inputs"])
            signature = f"{item['name']}({','.join(types)})"
            selector = function_signature_to_4byte_selector(signature)
            out.setdefault(item["name"], _Function(item["name"], selector, types))
    return out


class Submitted(Generic[R]):
    """A transaction the node accepted; :meth:`wait` for its typed result."""

    def __init__(self, client: _ContractClient, function: str, pending: PendingTransaction,
                 result: Callable[[list[Record], TxReceipt], R]) -> None:
        self._client = client
        self.function = function
        self.pending = pending
        self.action = f"{client.contract_name}.{function}"
        self._result = result

    @property
    def tx_hash(self) -> str:
        return self.pending.tx_hash

    def __repr__(self) -> str:
        return f"Submitted({self.action}, {self.tx_hash})"

    def wait(self, timeout: float | None = None) -> R:
        """The decoded result once mined; a revert raises :class:`ContractRevert`."""
        client = self._client
        return self.result(client._require_sender().wait(client.w3, self.pending, timeout=timeout))

    def result(self, receipt: TxReceipt) -> R:
        """The decoded result of this transaction's ``receipt``; a revert raises :class:`ContractRevert`."""
        client = self._client
        if receipt["status"] != 1:
            raise client._failure(self.function, self.pending, receipt)
        return self._result(client.decoder.decode_receipt(receipt), receipt)


def _receipts(items: Sequence[Submitted[Any]], timeout: float | None) -> list[TxReceipt]:
    """Receipts of ``items``, fetched per sender with the sender's ``wait_all`` when it has one."""
    groups: dict[tuple[int, int], list[int]] = {}
    for index, item in enumerate(items):
        groups.setdefault((id(item._client._require_sender()), id(item._client.w3)), []).append(index)
    receipts: list[TxReceipt | None] = [None] * len(items)
    for indexes in groups.values():
        first = items[indexes[0]]
        sender, w3 = first._client._require_sender(), first._client.w3
        batch_wait = getattr(sender, "wait_all", None)
        if callable(batch_wait):
            got = batch_wait(w3, [items[i].pending for i in indexes], timeout=timeout)
        else:
            got = [sender.wait(w3, items[i].pending, timeout=timeout) for i in indexes]
        for i, receipt in zip(indexes, got, strict=True):
            receipts[i] = receipt
    return [cast(TxReceipt, r) for r in receipts]


def wait_all(items: Sequence[Submitted[R]], *, timeout: float | None = None) -> list[R]:
    """Results of every submitted transaction, in order; the first failure raises.

    Receipts are collected per sender in JSON-RPC batches (see :meth:`LocalSender.wait_all`).
    """
    return [item.result(receipt) for item, receipt in zip(items, _receipts(items, timeout), strict=True)]


def wait_all_settled(items: Sequence[Submitted[R]], *, timeout: float | None = None) -> list[R | ChainError]:
    """Like :func:`wait_all`, but a failed transaction gives its error in place of a result."""
    try:
        receipts: list[TxReceipt | None] = list(_receipts(items, timeout))
    except ChainError:  # a timeout or a dropped transaction: find out which, one by one
        receipts = [None] * len(items)
    results: list[R | ChainError] = []
    for item, receipt in zip(items, receipts, strict=True):
        try:
            results.append(item.result(receipt) if receipt is not None else item.wait(timeout))
        except ChainError as exc:
            results.append(exc)
    return results


def _only(kind: type[R]) -> Callable[[list[Record], TxReceipt], R]:
    def pick(records: list[Record], receipt: TxReceipt) -> R:
        for record in records:
            if isinstance(record, kind):
                return record
        raise ChainError(
            f"transaction {HexBytes(receipt['transactionHash']).to_0x_hex()} succeeded but emitted no "
            f"{kind.__name__}: the contract at {receipt.get('to')} is not the version this dataseal expects"
        )

    return pick


def _b32(value: bytes | str, what: str) -> bytes:
    raw = bytes(HexBytes(value)) if isinstance(value, str) else bytes(value)
    if len(raw) != 32:
        raise ValueError(f"{what} must be 32 bytes (a keccak256/Merkle hash), got {len(raw)}")
    return raw


class _ContractClient:
    contract_name: ClassVar[str]

    def __init__(self, w3: Web3, address: str, sender: TxSender | None = None, *,
                 decoder: EventDecoder | None = None) -> None:
        self.w3 = w3
        self.address = to_checksum_address(address)
        self.sender = sender
        self.contract: Contract = w3.eth.contract(address=self.address, abi=load_artifact(self.contract_name).abi)
        self.decoder = decoder or EventDecoder({self.contract_name: self.address})
        self._gas: dict[str, int] = {}
        self._gas_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.address}, sender={self.sender.address if self.sender else None})"

    def _require_sender(self) -> TxSender:
        if self.sender is None:
            raise ChainError(f"{self.contract_name} client has no sender: it can read but not send transactions; "
                             "pass an unlocked account (--account)")
        return self.sender

    def _submit(self, function: str, args: Sequence[Any], result: Callable[[list[Record], TxReceipt], R],
                gas: int | Literal["estimate"] | None) -> Submitted[R]:
        sender = self._require_sender()
        fn = _functions(self.contract_name)[function]
        action = f"{self.contract_name}.{function}"
        call: dict[str, Any] = {"to": self.address, "data": fn.encode(args), "value": 0}
        if isinstance(gas, int):
            call["gas"] = gas
        elif gas is None and function in self._gas:
            call["gas"] = self._gas[function]
        else:
            call["gas"] = sender.estimate_gas(self.w3, {**call, "from": sender.address}, action)
            with self._gas_lock:
                self._gas[function] = max(self._gas.get(function, 0), call["gas"])
        pending = sender.submit(self.w3, call, action=action)
        return Submitted(self, function, pending, result)

    def _read(self, function: str, *args: Any) -> Any:
        return read(getattr(self.contract.functions, function)(*args), f"{self.contract_name}.{function}")

    def _failure(self, function: str, pending: PendingTransaction, receipt: TxReceipt) -> ChainError:
        if int(receipt["gasUsed"]) >= int(pending.tx["gas"]):
            with self._gas_lock:  # the cached estimate may have been too low for this call: estimate afresh next time
                self._gas.pop(function, None)
        return replay_failure(self.w3, pending.tx, pending.sender, receipt, f"{self.contract_name}.{function}")


# ------------------------------------------------------------------------------------ AssetRegistry


class AssetRegistryClient(_ContractClient):
    """AssetRegistry: registrations (ERC-721 tokens), review, lineage, batch anchoring."""

    contract_name = "AssetRegistry"

    def submit_register(self, content_root: bytes, manifest_hash: bytes, rights_type: int, classification: int,
                        parent_id: int = 0, *, gas: int | Literal["estimate"] | None = None) -> Submitted[AssetRecord]:
        return self._submit("register", (_b32(content_root, "content_root"), _b32(manifest_hash, "manifest_hash"),
                                         rights_type, classification, parent_id), _only(AssetRecord), gas)

    def register(self, content_root: bytes, manifest_hash: bytes, rights_type: int, classification: int,
                 parent_id: int = 0) -> AssetRecord:
        """Register content by its Merkle root; the first registrant of a root keeps it."""
        return self.submit_register(content_root, manifest_hash, rights_type, classification, parent_id,
                                    gas=ESTIMATE).wait()

    def submit_register_version(self, parent_id: int, content_root: bytes, manifest_hash: bytes, rights_type: int,
                                classification: int, *, gas: int | Literal["estimate"] | None = None,
                                ) -> Submitted[AssetRecord]:
        return self._submit("registerVersion", (parent_id, _b32(content_root, "content_root"),
                                                _b32(manifest_hash, "manifest_hash"), rights_type, classification),
                            _only(AssetRecord), gas)

    def register_version(self, parent_id: int, content_root: bytes, manifest_hash: bytes, rights_type: int,
                         classification: int) -> AssetRecord:
        """Register a new version of ``parent_id`` (its owner only)."""
        return self.submit_register_version(parent_id, content_root, manifest_hash, rights_type, classification,
                                            gas=ESTIMATE).wait()

    def submit_register_by_sig(self, owner: str, content_root: bytes, manifest_hash: bytes, rights_type: int,
                               classification: int, parent_id: int, deadline: int, signature: bytes, *,
                               gas: int | Literal["estimate"] | None = None) -> Submitted[AssetRecord]:
        return self._submit("registerBySig", (to_checksum_address(owner), _b32(content_root, "content_root"),
                                              _b32(manifest_hash, "manifest_hash"), rights_type, classification,
                                              parent_id, deadline, bytes(signature)), _only(AssetRecord), gas)

    def register_by_sig(self, owner: str, content_root: bytes, manifest_hash: bytes, rights_type: int,
                        classification: int, parent_id: int, deadline: int, signature: bytes) -> AssetRecord:
        """Relay a registration ``owner`` signed (EIP-712, :func:`chain.signing.sign_register`)."""
        return self.submit_register_by_sig(owner, content_root, manifest_hash, rights_type, classification,
                                           parent_id, deadline, signature, gas=ESTIMATE).wait()

    def _status(self, function: str, asset_id: int, reason_hash: bytes) -> AssetStatusChange:
        return self._submit(function, (asset_id, _b32(reason_hash, "reason_hash")), _only(AssetStatusChange),
                            ESTIMATE).wait()

    def cancel(self, asset_id: int, reason_hash: bytes = ZERO32) -> AssetStatusChange:
        """Cancel an asset (its owner)."""
        return self._status("cancel", asset_id, reason_hash)

    def approve_registration(self, asset_id: int, reason_hash: bytes = ZERO32) -> AssetStatusChange:
        """Approve a pending registration (a REVIEWER, review mode)."""
        return self._status("approveRegistration", asset_id, reason_hash)

    def reject_registration(self, asset_id: int, reason_hash: bytes = ZERO32) -> AssetStatusChange:
        """Reject a pending registration (a REVIEWER, review mode)."""
        return self._status("rejectRegistration", asset_id, reason_hash)

    def suspend(self, asset_id: int, reason_hash: bytes = ZERO32) -> AssetStatusChange:
        """Suspend an active asset over a dispute (a REVIEWER)."""
        return self._status("suspend", asset_id, reason_hash)

    def reinstate(self, asset_id: int, reason_hash: bytes = ZERO32) -> AssetStatusChange:
        """Reinstate a suspended asset (a REVIEWER)."""
        return self._status("reinstate", asset_id, reason_hash)

    def submit_anchor_batch(self, batch_root: bytes, count: int, manifest_hash: bytes, *,
                            gas: int | Literal["estimate"] | None = None) -> Submitted[BatchRecord]:
        return self._submit("anchorBatch", (_b32(batch_root, "batch_root"), count,
                                            _b32(manifest_hash, "manifest_hash")), _only(BatchRecord), gas)

    def anchor_batch(self, batch_root: bytes, count: int, manifest_hash: bytes) -> BatchRecord:
        """Commit the Merkle root of ``count`` asset records."""
        return self.submit_anchor_batch(batch_root, count, manifest_hash, gas=ESTIMATE).wait()

    def transfer(self, asset_id: int, to: str) -> AssetTransfer:
        """Transfer the asset's token from the sender to ``to``."""
        sender = self._require_sender()
        return self._submit("transferFrom", (sender.address, to_checksum_address(to), asset_id),
                            _only(AssetTransfer), ESTIMATE).wait()

    def grant_reviewer(self, account: str) -> OtherEvent:
        """Give ``account`` the REVIEWER role (the admin only)."""
        role = self._read("REVIEWER_ROLE")
        return self._submit("grantRole", (role, to_checksum_address(account)), _only(OtherEvent), ESTIMATE).wait()

    # reads

    def asset(self, asset_id: int) -> Asset:
        a = self._read("assetOf", asset_id)
        return Asset(a[0], bytes(a[1]), bytes(a[2]), to_checksum_address(a[3]), to_checksum_address(a[4]), a[5],
                     a[6], a[7], AssetStatus(a[8]), a[9], Lineage(a[10]))

    def asset_id_of(self, content_root: bytes) -> int | None:
        """The asset registered with ``content_root``, or None."""
        asset_id = int(self._read("assetIdOf", _b32(content_root, "content_root")))
        return asset_id or None

    def batch(self, batch_id: int) -> Batch:
        b = self._read("batchOf", batch_id)
        return Batch(b[0], bytes(b[1]), bytes(b[2]), to_checksum_address(b[3]), b[4], b[5])

    def verify_batch_member(self, batch_id: int, leaf: bytes, proof: Sequence[bytes]) -> bool:
        return bool(self._read("verifyBatchMember", batch_id, _b32(leaf, "leaf"), [_b32(p, "proof") for p in proof]))

    def total_assets(self) -> int:
        return int(self._read("totalAssets"))

    def nonce_of(self, owner: str) -> int:
        """The EIP-712 nonce of ``owner`` (for registerBySig)."""
        return int(self._read("nonces", to_checksum_address(owner)))

    def review_mode(self) -> bool:
        return bool(self._read("reviewMode"))


# ------------------------------------------------------------------------------------ GrantRegistry


class GrantRegistryClient(_ContractClient):
    """GrantRegistry: authorizations to use an asset for a purpose, window and quota."""

    contract_name = "GrantRegistry"

    def submit_grant(self, asset_id: int, grantee: str, purpose: bytes, valid_from: int, expires_at: int,
                     quota: int, scope_root: bytes = ZERO32, *,
                     gas: int | Literal["estimate"] | None = None) -> Submitted[GrantRecord]:
        terms = GrantTerms(asset_id, grantee, purpose, valid_from, expires_at, quota, scope_root)
        return self._submit("grant", terms.as_tuple(), _only(GrantRecord), gas)

    def grant(self, asset_id: int, grantee: str, purpose: bytes, valid_from: int, expires_at: int, quota: int,
              scope_root: bytes = ZERO32) -> GrantRecord:
        """Grant ``grantee`` the use of ``asset_id`` (the asset's owner)."""
        return self.submit_grant(asset_id, grantee, purpose, valid_from, expires_at, quota, scope_root,
                                 gas=ESTIMATE).wait()

    def grant_by_sig(self, terms: GrantTerms, deadline: int, signature: bytes) -> GrantRecord:
        """Relay a grant the asset's owner signed (EIP-712, :func:`chain.signing.sign_grant`)."""
        return self._submit("grantBySig", (terms.as_tuple(), deadline, bytes(signature)), _only(GrantRecord),
                            ESTIMATE).wait()

    def revoke(self, grant_id: int, reason_hash: bytes = ZERO32) -> GrantRevocation:
        """Revoke a grant (the asset's current owner)."""
        return self._submit("revoke", (grant_id, _b32(reason_hash, "reason_hash")), _only(GrantRevocation),
                            ESTIMATE).wait()

    # reads

    def grant_of(self, grant_id: int) -> Grant:
        g = self._read("grantOf", grant_id)
        return Grant(g[0], g[1], to_checksum_address(g[2]), g[3], g[4], g[5], g[6], g[7], bytes(g[8]),
                     GrantStatus(g[9]))

    def remaining(self, grant_id: int) -> int:
        return int(self._read("remaining", grant_id))

    def is_usable(self, grant_id: int, timestamp: int) -> bool:
        return bool(self._read("isUsable", grant_id, timestamp))

    def nonce_of(self, owner: str) -> int:
        """The EIP-712 nonce of ``owner`` (for grantBySig)."""
        return int(self._read("nonces", to_checksum_address(owner)))

    def total_grants(self) -> int:
        return int(self._read("totalGrants"))


# ------------------------------------------------------------------------------------ TransactionLedger


class TransactionLedgerClient(_ContractClient):
    """TransactionLedger: metered usage under grants, and trades."""

    contract_name = "TransactionLedger"

    def submit_record_usage(self, grant_id: int, units: int, receipt_hash: bytes, *,
                            gas: int | Literal["estimate"] | None = None) -> Submitted[UsageRecord]:
        return self._submit("recordUsage", (grant_id, units, _b32(receipt_hash, "receipt_hash")),
                            _only(UsageRecord), gas)

    def record_usage(self, grant_id: int, units: int, receipt_hash: bytes) -> UsageRecord:
        """Record ``units`` used under ``grant_id`` (the grantee or its operator)."""
        return self.submit_record_usage(grant_id, units, receipt_hash, gas=ESTIMATE).wait()

    def submit_record_usage_batch(self, grant_id: int, units: int, receipts_root: bytes, count: int, *,
                                  gas: int | Literal["estimate"] | None = None) -> Submitted[UsageBatchRecord]:
        return self._submit("recordUsageBatch", (grant_id, units, _b32(receipts_root, "receipts_root"), count),
                            _only(UsageBatchRecord), gas)

    def record_usage_batch(self, grant_id: int, units: int, receipts_root: bytes, count: int) -> UsageBatchRecord:
        """Record the units of ``count`` jobs committed by the Merkle root of their receipts."""
        return self.submit_record_usage_batch(grant_id, units, receipts_root, count, gas=ESTIMATE).wait()

    def submit_record_trade(self, asset_id: int, buyer: str, seller: str, price: int, currency: bytes,
                            settlement_hash: bytes, *,
                            gas: int | Literal["estimate"] | None = None) -> Submitted[TradeRecord]:
        return self._submit("recordTrade", (asset_id, to_checksum_address(buyer), to_checksum_address(seller), price,
                                            _b32(currency, "currency"), _b32(settlement_hash, "settlement_hash")),
                            _only(TradeRecord), gas)

    def record_trade(self, asset_id: int, buyer: str, seller: str, price: int, currency: bytes,
                     settlement_hash: bytes) -> TradeRecord:
        """Record a trade (the seller or its operator); ``currency`` is 32 bytes, e.g. b"CNY" padded."""
        return self.submit_record_trade(asset_id, buyer, seller, price, currency, settlement_hash,
                                        gas=ESTIMATE).wait()

    def set_operator(self, operator: str, approved: bool = True) -> OperatorChange:
        """Let ``operator`` record usage and trades for the sender (or stop it)."""
        return self._submit("setOperator", (to_checksum_address(operator), approved), _only(OperatorChange),
                            ESTIMATE).wait()

    def is_operator(self, account: str, operator: str) -> bool:
        return bool(self._read("isOperator", to_checksum_address(account), to_checksum_address(operator)))

    def total_trades(self) -> int:
        return int(self._read("totalTrades"))


# ------------------------------------------------------------------------------------ all three


@dataclass
class DatasealContracts:
    """The three typed clients of one deployment, sharing a sender and an event decoder."""

    deployment: Deployment
    registry: AssetRegistryClient
    grants: GrantRegistryClient
    ledger: TransactionLedgerClient
    decoder: EventDecoder

    @classmethod
    def bind(cls, w3: Web3, deployment: Deployment, sender: TxSender | None = None) -> DatasealContracts:
        decoder = EventDecoder(deployment)
        return cls(
            deployment=deployment,
            registry=AssetRegistryClient(w3, deployment.asset_registry, sender, decoder=decoder),
            grants=GrantRegistryClient(w3, deployment.grant_registry, sender, decoder=decoder),
            ledger=TransactionLedgerClient(w3, deployment.transaction_ledger, sender, decoder=decoder),
            decoder=decoder,
        )


__all__ = [
    "ESTIMATE", "ZERO32", "Asset", "AssetRecord", "AssetRegistryClient", "AssetStatus", "AssetStatusChange",
    "AssetTransfer", "Batch", "BatchRecord", "ContractRevert", "DatasealContracts", "EventDecoder", "Grant",
    "GrantRecord", "GrantRegistryClient", "GrantRevocation", "GrantStatus", "GrantTerms", "Lineage",
    "OperatorChange", "OtherEvent", "Record", "Submitted", "TradeRecord", "TransactionLedgerClient", "TxRef",
    "TxSender", "UsageBatchRecord", "UsageRecord", "wait_all", "wait_all_settled",
]
