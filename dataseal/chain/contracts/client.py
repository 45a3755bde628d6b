"""What the three contract clients share: encoding a call, handing it to a sender, and decoding
its receipt into the records it emitted.

Every write comes in two forms::

    record = registry.register(Registration(root, manifest, rights_type=1, classification=0))  # send and wait
    pending = [registry.submit_register(Registration(r, manifest, 1, 0)) for r in roots]       # many in flight
    records = wait_all(pending)

``submit_*`` reuses one gas estimate per function (times the sender's margin) instead of asking the
node for each transaction, so that a burst costs one round trip per transaction; the plain form
estimates every time, so a revert is reported before anything is spent. A revert surfaces as
:class:`~dataseal.chain.errors.ContractRevert` naming the Solidity custom error and its arguments.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar, Generic, Literal, TypeVar, cast

from eth_abi import encode as abi_encode
from eth_abi.exceptions import EncodingError
from eth_utils import function_signature_to_4byte_selector
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import MismatchedABI, Web3ValidationError
from web3.types import TxReceipt

from dataseal.cached import require_io
from dataseal.chain.contracts.artifacts import load_artifact
from dataseal.chain.contracts.events import EventDecoder
from dataseal.chain.contracts.reads import HeadReads
from dataseal.chain.contracts.records import Record
from dataseal.chain.contracts.revert import as_chain_error, canonical_type, decode_revert, replay_failure
from dataseal.chain.errors import ChainError, Reverted
from dataseal.chain.sending.sender import PendingTransaction, TxSender
from dataseal.chain.values import address as checked_address
from dataseal.errors import ErrorKind, InvalidInput

ESTIMATE: Literal["estimate"] = "estimate"
"""``gas=ESTIMATE``: ask the node for this very transaction (the default of the waiting methods)."""
Gas = int | Literal["estimate"] | None
"""A write's gas: a number, :data:`ESTIMATE`, or None (the client's cached estimate for the function)."""

R = TypeVar("R")


@dataclass(frozen=True)
class _Function:
    name: str
    selector: bytes
    types: tuple[str, ...]

    def encode(self, contract: str, args: Sequence[Any]) -> bytes:
        """The calldata; an argument that does not fit its ABI type is :class:`InvalidInput`."""
        try:
            return self.selector + abi_encode(list(self.types), list(args))
        except EncodingError as exc:
            raise InvalidInput(f"{contract}.{self.name}: an argument does not fit its type ({exc})",
                               hint=f"check the values given for ({', '.join(self.types)})") from None


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


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
    """A transaction the node accepted; :meth:`wait` for its typed result (``receipt`` is then its receipt)."""

    def __init__(self, client: ContractClient, function: str, pending: PendingTransaction,
                 result: Callable[[list[Record], TxReceipt], R]) -> None:
        self._client = client
        self.function = function
        self.pending = pending
        self.action = f"{client.contract_name}.{function}"
        self._result = result
        self.receipt: TxReceipt | None = None

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
        self.receipt = receipt
        if receipt["status"] != 1:
            raise client._failure(self.function, self.pending, receipt)
        return self._result(client.decoder.decode_receipt(receipt), receipt)


def _receipts(items: Sequence[Submitted[Any]], timeout: float | None) -> list[TxReceipt]:
    """Receipts of ``items``, fetched per sender with the sender's ``wait_all`` (JSON-RPC batches)."""
    groups: dict[tuple[int, int], list[int]] = {}
    for index, item in enumerate(items):
        groups.setdefault((id(item._client._require_sender()), id(item._client.w3)), []).append(index)
    receipts: list[TxReceipt | None] = [None] * len(items)
    for indexes in groups.values():
        first = items[indexes[0]]
        sender, w3 = first._client._require_sender(), first._client.w3
        got = sender.wait_all(w3, [items[i].pending for i in indexes], timeout=timeout)
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


def only(kind: type[R]) -> Callable[[list[Record], TxReceipt], R]:
    """A result picker: the first record of ``kind`` the transaction emitted."""
    def pick(records: list[Record], receipt: TxReceipt) -> R:
        for record in records:
            if isinstance(record, kind):
                return record
        raise ChainError(
            f"transaction {HexBytes(receipt['transactionHash']).to_0x_hex()} succeeded but emitted no "
            f"{kind.__name__}", hint=f"the contract at {receipt.get('to')} is not the version this dataseal expects",
            kind=ErrorKind.INTERNAL,
        )

    return pick


class ContractClient:
    """One contract of a deployment: reads through web3, writes through a :class:`TxSender`.

    Without a sender a client reads but does not write. ``decoder`` is shared by the clients of
    one deployment (:class:`~dataseal.chain.contracts.deployed.DatasealContracts`).
    """

    contract_name: ClassVar[str]

    def __init__(self, w3: Web3, address: str, sender: TxSender | None = None, *,
                 decoder: EventDecoder | None = None, reads: HeadReads | None = None) -> None:
        self.w3 = w3
        self.reads = reads
        """Reads pinned to the head and answered once per head (:mod:`~dataseal.chain.contracts.reads`), or None."""
        self.address = checked_address(address, f"the {self.contract_name} address")
        self.sender = sender
        self.contract: Contract = w3.eth.contract(address=self.address, abi=load_artifact(self.contract_name).abi)
        self.decoder = decoder or EventDecoder({self.contract_name: self.address})
        self._gas: dict[str, int] = {}
        self._gas_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.address}, sender={self.sender.address if self.sender else None})"

    def _require_sender(self) -> TxSender:
        if self.sender is None:
            raise ChainError(f"the {self.contract_name} client has no sender: it can read but not send transactions",
                             hint="give it an unlocked signing account", options=("account",),
                             kind=ErrorKind.INVALID_INPUT)
        return self.sender

    def _submit(self, function: str, args: Sequence[Any], result: Callable[[list[Record], TxReceipt], R],
                gas: Gas) -> Submitted[R]:
        sender = self._require_sender()
        fn = _functions(self.contract_name)[function]
        action = f"{self.contract_name}.{function}"
        call: dict[str, Any] = {"to": self.address, "data": fn.encode(self.contract_name, args), "value": 0}
        try:
            if isinstance(gas, int):
                call["gas"] = gas
            elif gas is None and function in self._gas:
                call["gas"] = self._gas[function]
            else:
                call["gas"] = sender.estimate_gas(self.w3, {**call, "from": sender.address}, action)
                with self._gas_lock:
                    self._gas[function] = max(self._gas.get(function, 0), call["gas"])
            pending = sender.submit(self.w3, call, action=action)
        except Reverted as exc:  # the sender knows no contract: the revert is named here
            raise decode_revert(exc.data) from exc
        return Submitted(self, function, pending, result)

    def _read(self, function: str, *args: Any) -> Any:
        """A view function's result; a revert raises :class:`ContractRevert` with the decoded error."""
        if self.reads is not None and _hashable(args):
            return self.reads.read((self.address, function, args), lambda block: self._call(function, args, block))
        return self._call(function, args, "latest")

    def _call(self, function: str, args: tuple[Any, ...], block: int | Literal["latest"]) -> Any:
        require_io(f"{self.contract_name}.{function}")
        try:
            return getattr(self.contract.functions, function)(*args).call(block_identifier=block)
        except (Web3ValidationError, MismatchedABI) as exc:  # arguments web3 cannot encode (a negative id, ...)
            detail = " ".join(str(exc).split())  # web3's message spans lines; an error is one line
            raise InvalidInput(f"{self.contract_name}.{function}: the arguments do not fit its ABI ({detail})",
                               hint="check the values given") from None
        except Exception as exc:
            raise as_chain_error(exc, f"{self.contract_name}.{function}") from exc

    def _failure(self, function: str, pending: PendingTransaction, receipt: TxReceipt) -> ChainError:
        if int(receipt["gasUsed"]) >= int(pending.tx["gas"]):
            with self._gas_lock:  # the cached estimate may have been too low for this call: estimate afresh next time
                self._gas.pop(function, None)
        return replay_failure(self.w3, pending.tx, pending.sender, receipt, f"{self.contract_name}.{function}")
