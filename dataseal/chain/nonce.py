"""Nonces for accounts that sign locally, safe across threads and processes.

A node only accepts an account's transactions in nonce order, one per nonce. Several senders
sharing one key (threads of one process, or processes sharing a data folder) must therefore
agree on who takes which nonce. :class:`NonceManager` does this:

- one lock per (chain id, address) in the process, and — when given a state folder — an
  exclusive file lock on ``<state_dir>/<chain id>-<address>.nonce`` held *while the transaction
  is signed and handed to the node*, so that a nonce is either sent or given back, never lost;
- the next nonce lives in that file (other processes see it) and in memory (without a folder);
- the node is asked (``eth_getTransactionCount(address, "pending")``) the first time this
  process uses an account, and whenever a send reveals the view was wrong (:meth:`Reservation.resync`):
  "nonce too low" after another wallet used the key, "nonce too high" after a transaction was
  dropped or the chain was reset.

The fast path (no error) costs one ``flock`` and a few bytes of file I/O per transaction, and no
round trip to the node.
"""
from __future__ import annotations

import fcntl
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from eth_utils import to_checksum_address

# What nodes answer when a nonce is already used / not yet usable (hardhat, geth, Besu, Nethermind,
# py-evm/eth-tester, the embedded chain).
_TOO_LOW = re.compile(r"nonce too low|nonce is too low|invalid transaction nonce|already (been )?used|"
                      r"oldnonce|nonce.*(lower|less) than", re.I)
_TOO_HIGH = re.compile(r"nonce too high|nonce is too high|nonce.*gap|future nonce|nonce.*(greater|higher) than", re.I)
_EXPECTED = re.compile(r"expected(?: nonce(?: to be)?)?:?\s*(\d+)", re.I)


def is_nonce_too_low(message: str) -> bool:
    return bool(_TOO_LOW.search(message))


def is_nonce_too_high(message: str) -> bool:
    return bool(_TOO_HIGH.search(message))


def expected_nonce(message: str) -> int | None:
    """The nonce a node said it expected ("Expected nonce to be 5 but got 3"), if it said so."""
    match = _EXPECTED.search(message)
    return int(match.group(1)) if match else None


PendingCount = Callable[[], int]
"""Asks the node for the account's transaction count including pending transactions."""


@dataclass
class _Slot:
    lock: threading.Lock = field(default_factory=threading.Lock)
    next: int | None = None  # in memory; authoritative only without a state folder
    synced: bool = False  # this process has asked the node at least once


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
    """Hands out nonces per (chain id, address); see the module documentation.

    ``state_dir`` (e.g. ``<data_dir>/nonces``) makes it safe for several processes sharing a key;
    without it, for the threads of this process only.
    """

    def __init__(self, state_dir: Path | str | None = None) -> None:
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self._slots: dict[tuple[int, str], _Slot] = {}
        self._slots_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"NonceManager(state_dir={str(self.state_dir) if self.state_dir else None!r})"

    @contextmanager
    def reserve(self, chain_id: int, address: str, pending_count: PendingCount) -> Iterator[Reservation]:
        """Hold the next nonce of ``address`` on ``chain_id`` for the ``with`` block.

        Sign and send inside the block; call :meth:`Reservation.commit` once the node accepted the
        transaction. Without a commit (the send failed) the nonce is given back. Other senders of the
        same account wait until the block ends.
        """
        key = (int(chain_id), to_checksum_address(address))
        slot = self._slot(key)
        with slot.lock, self._state_file(key) as state:
            stored = state.read() if state is not None else slot.next
            if not slot.synced or stored is None:
                nonce = pending_count()
                slot.synced = True
            else:
                nonce = stored
            reservation = Reservation(nonce, pending_count)
            yield reservation
            if reservation.committed:
                slot.next = reservation.nonce + 1
                if state is not None:
                    state.write(slot.next)
            elif reservation.nonce != nonce:  # resynced, then failed for another reason: keep what we learnt
                slot.next = reservation.nonce
                if state is not None:
                    state.write(slot.next)

    def forget(self, chain_id: int, address: str) -> None:
        """Ask the node again on the next reservation for this account (e.g. after a chain reset)."""
        self._slot((int(chain_id), to_checksum_address(address))).synced = False

    def _slot(self, key: tuple[int, str]) -> _Slot:
        with self._slots_lock:
            slot = self._slots.get(key)
            if slot is None:
                slot = self._slots[key] = _Slot()
            return slot

    @contextmanager
    def _state_file(self, key: tuple[int, str]) -> Iterator[_StateFile | None]:
        if self.state_dir is None:
            yield None
            return
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.state_dir / f"{key[0]}-{key[1].lower()}.nonce"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield _StateFile(fd)
        finally:
            os.close(fd)  # releases the lock


class _StateFile:
    """The next nonce as decimal text, read and written in place under the file's lock."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def read(self) -> int | None:
        text = os.pread(self.fd, 64, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None

    def write(self, value: int) -> None:
        data = f"{value}\n".encode()
        os.pwrite(self.fd, data, 0)
        os.ftruncate(self.fd, len(data))
