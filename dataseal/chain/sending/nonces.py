"""Nonces for accounts that sign locally, safe across threads, processes and — with a shared store —
hosts.

A node only accepts an account's transactions in nonce order, one per nonce. Several senders
sharing one key (threads of one process, processes sharing a data folder, replicas of a service
sharing a database) must therefore agree on who takes which nonce. Two parts do this:

- a :class:`NonceStore` keeps the next nonce of each (chain id, address) and lets one sender at a
  time *hold* it, for as long as the transaction is signed and handed to the node, so that a nonce
  is either sent or given back, never lost. :class:`MemoryNonceStore` serves the threads of one
  process; :class:`FileNonceStore` the processes of one host (an exclusive ``flock`` on
  ``<folder>/<chain id>-<address>.nonce``); the registry's database-backed store (a row locked ``FOR UPDATE``,
  :class:`dataseal.registry.db.nonces.DatabaseNonceStore`) serves replicas on several hosts through the same
  protocol;
- the :class:`NonceManager` asks the node (``eth_getTransactionCount(address, "pending")``) the
  first time it hands out an account's nonce (one manager per process, or per long-lived sender), and
  whenever a send reveals the stored view was wrong
  (:meth:`Reservation.resync`): "nonce too low" after another wallet used the key, "nonce too high"
  after a transaction was dropped or the chain was reset.

The fast path (no error) costs one hold of the store and no round trip to the node.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

from eth_utils import to_checksum_address

from dataseal.chain.files import file_lock

PendingCount = Callable[[], int]
"""Asks the node for the account's transaction count including pending transactions."""

Key = tuple[int, str]  # (chain id, checksummed address)


class HeldNonce(Protocol):
    """The stored next nonce of one account, held exclusively by one sender."""

    def read(self) -> int | None:
        """The next nonce, or None when the store has none yet."""
        ...

    def write(self, value: int) -> None:
        """Store ``value`` as the next nonce."""
        ...


class NonceStore(Protocol):
    """Keeps the next nonce per (chain id, address); one sender at a time holds an account's."""

    def hold(self, key: Key) -> AbstractContextManager[HeldNonce]:
        """Hold ``key``'s nonce for the ``with`` block; other senders of that account wait."""
        ...


class _Value:
    def __init__(self) -> None:
        self.value: int | None = None

    def read(self) -> int | None:
        return self.value

    def write(self, value: int) -> None:
        self.value = value


class MemoryNonceStore:
    """Nonces in memory, for the threads of this process."""

    def __init__(self) -> None:
        self._locks: dict[Key, threading.Lock] = {}
        self._values: dict[Key, _Value] = {}
        self._guard = threading.Lock()

    def __repr__(self) -> str:
        return "MemoryNonceStore()"

    @contextmanager
    def hold(self, key: Key) -> Iterator[HeldNonce]:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
            value = self._values.setdefault(key, _Value())
        with lock:
            yield value


class FileNonceStore:
    """Nonces in files of ``folder``, one per account, for the processes (and threads) of one host.

    Each hold opens its own file description and takes an exclusive ``flock`` on it, so two threads
    of one process exclude each other just as two processes do; a killed holder's lock goes with it.
    The next nonce is decimal text, read and written in place under the lock.
    """

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)

    def __repr__(self) -> str:
        return f"FileNonceStore({str(self.folder)!r})"

    @contextmanager
    def hold(self, key: Key) -> Iterator[HeldNonce]:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        with file_lock(self.folder / f"{key[0]}-{key[1].lower()}.nonce") as fd:
            yield _NonceFile(fd)


class _NonceFile:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def read(self) -> int | None:
        text = os.pread(self.fd, 64, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None

    def write(self, value: int) -> None:
        data = f"{value}\n".encode()
        os.pwrite(self.fd, data, 0)
        os.ftruncate(self.fd, len(data))


class Reservation:
    """The nonce held by one sender while it signs and sends; see :meth:`NonceManager.reserve`."""

    def __init__(self, nonce: int, pending_count: PendingCount) -> None:
        self.nonce = nonce
        self.committed = False
        self._pending_count = pending_count

    def commit(self) -> None:
        """The transaction with :attr:`nonce` was accepted by the node: the next sender gets ``nonce + 1``."""
        self.committed = True

    def resync(self, hint: int | None = None) -> int:
        """Re-read the account's nonce from the node (and ``hint``, a nonce the node said it expects).

        Returns the new :attr:`nonce`. Used after "nonce too low" (another wallet used the key) or
        "nonce too high" (a transaction this manager counted was dropped, or the chain was reset).
        """
        count = self._pending_count()
        self.nonce = max(count, hint) if hint is not None else count
        return self.nonce

    def __repr__(self) -> str:
        return f"Reservation(nonce={self.nonce}, committed={self.committed})"


class NonceManager:
    """Hands out nonces per (chain id, address) from a :class:`NonceStore` (in memory by default)."""

    def __init__(self, store: NonceStore | None = None) -> None:
        self.store: NonceStore = store if store is not None else MemoryNonceStore()
        self._synced: set[Key] = set()  # accounts this manager has asked the node about
        self._synced_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"NonceManager({self.store!r})"

    @contextmanager
    def reserve(self, chain_id: int, address: str, pending_count: PendingCount) -> Iterator[Reservation]:
        """Hold the next nonce of ``address`` on ``chain_id`` for the ``with`` block.

        Sign and send inside the block; call :meth:`Reservation.commit` once the node accepted the
        transaction. Without a commit (the send failed) the nonce is given back. Other senders of the
        same account wait until the block ends.
        """
        key = (int(chain_id), to_checksum_address(address))
        with self.store.hold(key) as held:
            stored = held.read()
            if key not in self._synced or stored is None:
                # The node's count, not the store's: a transaction the store counted may have left the
                # node's pool, and nodes that queue a gapped nonce (geth, Besu) would never say so.
                nonce = pending_count()
                with self._synced_lock:
                    self._synced.add(key)
            else:
                nonce = stored
            reservation = Reservation(nonce, pending_count)
            yield reservation
            if reservation.committed:
                held.write(reservation.nonce + 1)
            elif reservation.nonce != nonce:  # resynced, then failed for another reason: keep what we learnt
                held.write(reservation.nonce)

    def forget(self, chain_id: int, address: str) -> None:
        """Ask the node again on the next reservation for this account (e.g. after a chain reset)."""
        with self._synced_lock:
            self._synced.discard((int(chain_id), to_checksum_address(address)))
