"""Transactions accepted by the node and not yet mined.

Acceptance keeps each sender's nonces gap-free (the chain refuses a nonce beyond the sender's
next one), so acceptance order is nonce order per sender. A replacement (same sender and nonce,
higher fees) takes the place of the transaction it replaces, so that order holds: a sender's
nonces are kept in insertion order, which is nonce order, and the highest is the last. The pool
keeps what each sender's pending transactions may cost at most, for admission to check a new one
against the sender's balance with the others (:func:`transaction_cost`).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from eth.abc import SignedTransactionAPI


def transaction_cost(tx: SignedTransactionAPI) -> int:
    """The most a transaction can cost its sender: all its gas at its fee cap, and its value."""
    return int(tx.gas) * int(tx.max_fee_per_gas) + int(tx.value)


@dataclass(frozen=True)
class PendingTx:
    seq: int  # acceptance order
    tx: SignedTransactionAPI
    raw: bytes
    sender: bytes
    hash: bytes

    @property
    def nonce(self) -> int:
        return int(self.tx.nonce)

    @property
    def cost(self) -> int:
        return transaction_cost(self.tx)


class PendingPool:
    """Pending transactions by hash and by (sender, nonce). Not thread-safe: the chain locks."""

    def __init__(self) -> None:
        self._by_hash: dict[bytes, PendingTx] = {}
        self._by_sender: dict[bytes, dict[int, bytes]] = {}
        self._seq = itertools.count()
        self._cost: dict[bytes, int] = {}  # sender -> the most its pending transactions can cost it
        self.total_gas = 0  # sum of the pending transactions' gas limits

    def __len__(self) -> int:
        return len(self._by_hash)

    def __contains__(self, tx_hash: object) -> bool:
        return tx_hash in self._by_hash

    def get(self, tx_hash: bytes) -> PendingTx | None:
        return self._by_hash.get(tx_hash)

    def count_from(self, sender: bytes) -> int:
        return len(self._by_sender.get(sender, ()))

    def cost_from(self, sender: bytes) -> int:
        """The most ``sender``'s pending transactions can cost it together (see :func:`transaction_cost`)."""
        return self._cost.get(sender, 0)

    def next_nonce(self, sender: bytes, state_nonce: int) -> int:
        """The nonce the next transaction of ``sender`` must carry."""
        nonces = self._by_sender.get(sender)
        return next(reversed(nonces)) + 1 if nonces else state_nonce

    def at_nonce(self, sender: bytes, nonce: int) -> PendingTx | None:
        tx_hash = self._by_sender.get(sender, {}).get(nonce)
        return None if tx_hash is None else self._by_hash[tx_hash]

    def add(self, tx: SignedTransactionAPI, raw: bytes, sender: bytes) -> PendingTx:
        entry = PendingTx(next(self._seq), tx, raw, sender, tx.hash)
        self._insert(entry)
        return entry

    def replace(self, old: PendingTx, tx: SignedTransactionAPI, raw: bytes) -> PendingTx:
        entry = PendingTx(old.seq, tx, raw, old.sender, tx.hash)
        del self._by_hash[old.hash]
        self._by_hash[entry.hash] = entry
        self._by_sender[old.sender][old.nonce] = entry.hash  # in place: the sender's nonces stay in order
        self.total_gas += int(tx.gas) - int(old.tx.gas)
        self._cost[old.sender] += entry.cost - old.cost
        return entry

    def remove(self, tx_hash: bytes) -> PendingTx | None:
        entry = self._by_hash.pop(tx_hash, None)
        if entry is not None:
            self.total_gas -= int(entry.tx.gas)
            nonces = self._by_sender[entry.sender]
            del nonces[entry.nonce]
            if nonces:
                self._cost[entry.sender] -= entry.cost
            else:
                del self._by_sender[entry.sender]
                del self._cost[entry.sender]
        return entry

    def ordered(self) -> list[PendingTx]:
        """Every pending transaction in acceptance order."""
        return sorted(self._by_hash.values(), key=lambda entry: entry.seq)

    def _insert(self, entry: PendingTx) -> None:
        self.total_gas += int(entry.tx.gas)
        self._by_hash[entry.hash] = entry
        self._by_sender.setdefault(entry.sender, {})[entry.nonce] = entry.hash
        self._cost[entry.sender] = self._cost.get(entry.sender, 0) + entry.cost
