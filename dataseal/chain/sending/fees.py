"""Transaction fees: EIP-1559 fields from the latest block's base fee, or a legacy gas price.

:class:`FeeOracle` asks the node once per ``ttl`` seconds per chain, so that a burst of
transactions costs no extra round trips; a refused fee (the base fee rose) invalidates it.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from web3 import Web3

from dataseal.chain.connection.failures import is_connection_failure

DEFAULT_PRIORITY_FEE = 10**9  # 1 gwei, when the node cannot suggest one


@dataclass(frozen=True)
class Fees:
    """Fee fields of a transaction: EIP-1559 (``max_fee``, ``priority_fee``) or legacy (``gas_price``)."""

    max_fee: int | None = None
    priority_fee: int | None = None
    gas_price: int | None = None

    @property
    def legacy(self) -> bool:
        return self.gas_price is not None

    def per_gas_cap(self) -> int:
        return int(self.gas_price if self.gas_price is not None else self.max_fee or 0)

    def as_tx_fields(self) -> dict[str, int]:
        if self.gas_price is not None:
            return {"gasPrice": self.gas_price}
        return {"maxFeePerGas": int(self.max_fee or 0), "maxPriorityFeePerGas": int(self.priority_fee or 0)}


class FeeOracle:
    """EIP-1559 fees from the latest block's base fee (``max_fee = 2 * base + tip``), cached ``ttl`` seconds.

    Legacy ``eth_gasPrice`` only when the latest block has no base fee (a pre-London chain).
    """

    def __init__(self, *, ttl: float = 2.0, base_fee_multiplier: int = 2, priority_fee: int | None = None) -> None:
        self.ttl = ttl
        self.base_fee_multiplier = base_fee_multiplier
        self.priority_fee = priority_fee
        self._cached: dict[int, tuple[float, Fees]] = {}
        self._lock = threading.Lock()

    def fees(self, w3: Web3, chain_id: int) -> Fees:
        with self._lock:
            hit = self._cached.get(chain_id)
            if hit is not None and time.monotonic() - hit[0] < self.ttl:
                return hit[1]
        fees = self._fetch(w3)
        with self._lock:
            self._cached[chain_id] = (time.monotonic(), fees)
        return fees

    def invalidate(self, chain_id: int) -> None:
        with self._lock:
            self._cached.pop(chain_id, None)

    def _fetch(self, w3: Web3) -> Fees:
        block = w3.eth.get_block("latest")
        base = block.get("baseFeePerGas")
        if base is None:
            return Fees(gas_price=int(w3.eth.gas_price))
        tip = self.priority_fee
        if tip is None:
            try:
                tip = int(w3.eth.max_priority_fee)
            except Exception as exc:  # method missing on some nodes: a sensible default
                if is_connection_failure(exc):
                    raise
                tip = DEFAULT_PRIORITY_FEE
        return Fees(max_fee=int(base) * self.base_fee_multiplier + tip, priority_fee=tip)
