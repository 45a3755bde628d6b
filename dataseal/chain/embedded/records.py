"""What the embedded chain takes in and hands out: block references, call requests, log filters,
and the records of blocks mined, transactions, receipts, logs and fee history (frozen values;
py-evm's own objects inside, as the JSON-RPC serializer reads them)."""
from __future__ import annotations

from dataclasses import dataclass

from eth.abc import BlockHeaderAPI, ReceiptAPI, SignedTransactionAPI

BlockRef = int | bytes | str  # a number, a 32-byte hash, or latest/earliest/pending/safe/finalized
BLOCK_TAGS = ("latest", "earliest", "pending", "safe", "finalized")


@dataclass(frozen=True)
class MinedBlock:
    number: int
    hash: bytes
    transactions: tuple[bytes, ...]
    dropped: tuple[tuple[bytes, str], ...]  # (transaction hash, reason)


@dataclass(frozen=True)
class CallRequest:
    """What eth_call and eth_estimateGas execute. Fees are ignored: calls run at gas price 0."""

    sender: bytes | None = None
    to: bytes | None = None  # None: contract creation
    gas: int | None = None
    value: int = 0
    data: bytes = b""
    access_list: tuple[tuple[bytes, tuple[int, ...]], ...] = ()


@dataclass(frozen=True)
class StateOverride:
    """What eth_call / eth_estimateGas change of one account for that call only (geth's format):
    None leaves a field as it is; ``state`` replaces the whole storage, ``state_diff`` sets slots."""

    address: bytes
    balance: int | None = None
    nonce: int | None = None
    code: bytes | None = None
    state: tuple[tuple[int, int], ...] | None = None  # (slot, value)
    state_diff: tuple[tuple[int, int], ...] | None = None


@dataclass(frozen=True)
class LogFilter:
    from_block: BlockRef = "latest"
    to_block: BlockRef = "latest"
    block_hash: bytes | None = None
    addresses: tuple[bytes, ...] = ()  # empty: any address
    topics: tuple[tuple[bytes, ...] | None, ...] = ()  # per position: None (any) or alternatives


@dataclass(frozen=True)
class TransactionRecord:
    """A transaction and where it is: ``header``/``index`` are None while it is pending."""

    tx: SignedTransactionAPI
    sender: bytes
    header: BlockHeaderAPI | None
    index: int | None


@dataclass(frozen=True)
class ReceiptRecord:
    tx: SignedTransactionAPI
    sender: bytes
    header: BlockHeaderAPI
    index: int
    receipt: ReceiptAPI
    gas_used: int
    first_log_index: int


@dataclass(frozen=True)
class LogRecord:
    address: bytes
    topics: tuple[bytes, ...]
    data: bytes
    header: BlockHeaderAPI
    tx_hash: bytes
    tx_index: int
    log_index: int


@dataclass(frozen=True)
class FeeHistory:
    oldest_block: int
    base_fee_per_gas: list[int]
    gas_used_ratio: list[float]
    reward: list[list[int]] | None
