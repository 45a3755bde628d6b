"""The embedded chain's storage: one SQLite file.

Tables (``PRAGMA application_id`` marks the file as dataseal's):

``kv(k, v)``
    py-evm's key-value database: state and storage trie nodes, code, headers, block bodies,
    transaction and receipt tries, the canonical-chain pointers and the transaction index.
``meta(key, value)``
    the chain's settings, written once at genesis (chain id, genesis allocation, operator, ...).
``pending(seq, hash, raw)``
    the journal of transactions accepted by ``eth_sendRawTransaction`` and not yet mined.

Writes happen in SQLite transactions (``BEGIN IMMEDIATE … COMMIT``). :class:`SQLiteAtomicDB`
gives py-evm an ``AtomicDB`` whose ``atomic_batch()`` writes the whole batch in one of them,
and :meth:`ChainStore.transaction` lets the miner wrap a whole block (every batch py-evm makes
for it plus the journal clean-up) in a single SQLite transaction: after a kill -9 the file holds
every block up to some block, whole, and nothing of the next. The journal uses WAL with
``synchronous=NORMAL``: a commit survives the process dying at any moment; a power cut may lose
the last commits but never leaves a torn block.

Checkpoints (copying the WAL back into the file, with an fsync) run on a connection of their
own in a background thread, a moment after commits: SQLite's automatic ones ran inside the
committing transaction, adding milliseconds to the miner's commit — time during which the chain's
lock is held and requests wait. SQLite's own remains as a safety net for a large WAL
(WAL_SAFETY_PAGES). A checkpoint never blocks a writer (PASSIVE) and a crash during one loses
nothing: the WAL still holds every committed page.

One process at a time: the file is locked (``flock`` on ``<file>.lock``) while open, and a
second opener gets :class:`ChainInUseError` naming the holder's pid.
"""
from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eth.abc import AtomicWriteBatchAPI, DatabaseAPI
from eth.db.backends.base import BaseAtomicDB, BaseDB
from eth.db.diff import DBDiff, DBDiffTracker, DiffMissingError
from lru import LRU

from dataseal.chain.embedded.errors import ChainInUseError, ChainStoreError
from dataseal.errors import ErrorKind

APPLICATION_ID = 0x64736C31  # "dsl1"
SCHEMA_VERSION = 1
DEFAULT_CACHE_ENTRIES = 100_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pending (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    hash BLOB NOT NULL UNIQUE,
    raw BLOB NOT NULL
);
"""

logger = logging.getLogger("dataseal.chain.embedded.store")

_DELETED = None  # overlay marker for a key deleted in the open transaction
CHECKPOINT_DELAY_SECONDS = 0.2  # the background checkpoint runs this long after the commit that asks for it
WAL_SAFETY_PAGES = 16_384  # SQLite checkpoints in the commit itself only past this (64 MB of 4 KiB pages)


class ChainStore:
    """The SQLite file of one embedded chain.

    The chain serialises writers; reads may come from another thread meanwhile (the miner executes
    a block while requests are answered), so every use of the connection holds ``_mutex``, a
    write transaction for its whole length.
    """

    def __init__(self, path: Path | str, *, cache_entries: int = DEFAULT_CACHE_ENTRIES) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ChainStoreError(f"cannot create the folder of the chain file {self.path}: {exc.strerror}",
                                  hint="use another data folder", options=("data_dir",)) from None
        self._lock_fd = _lock_exclusively(self.path.with_name(self.path.name + ".lock"), self.path)
        try:
            self._db = self._connect()
        except BaseException:
            os.close(self._lock_fd)
            raise
        self._mutex = threading.RLock()
        self._depth = 0
        self._overlay: dict[bytes, bytes | None] | None = None
        self._cache: Any = LRU(cache_entries)
        self.closed = False
        self._committed = threading.Event()  # set by each commit: the checkpointer has work
        self._stop_checkpoints = threading.Event()
        self._checkpointer = threading.Thread(target=self._checkpoint_loop, name="dataseal-checkpoint", daemon=True)
        self._checkpointer.start()

    def _connect(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise ChainStoreError(f"cannot open the chain file {self.path}: {exc}",
                                  hint="check that the data folder is a folder you can write to",
                                  options=("data_dir",)) from None
        try:
            app_id = db.execute("PRAGMA application_id").fetchone()[0]
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if app_id not in (0, APPLICATION_ID) or (app_id == 0 and tables):
                raise ChainStoreError(
                    f"{self.path} is an SQLite file but not a dataseal chain",
                    hint="use another data folder, or move the file away", options=("data_dir",),
                )
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(f"PRAGMA wal_autocheckpoint={WAL_SAFETY_PAGES}")
            db.execute("PRAGMA foreign_keys=OFF")
            if app_id == 0:
                db.execute(f"PRAGMA application_id={APPLICATION_ID}")
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA_VERSION:
                raise ChainStoreError(
                    f"{self.path} has storage version {version}; this dataseal reads version {SCHEMA_VERSION}",
                    hint="use the dataseal release that created it",
                )
            db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            db.close()
            raise ChainStoreError(
                f"{self.path} is not a readable dataseal chain ({exc})",
                hint="restore it from a backup, or move it away to start a new chain",
            ) from None
        except BaseException:
            db.close()
            raise
        return db

    # ----------------------------------------------------------------------------- transactions

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One SQLite write transaction; nested uses join the outermost one."""
        with self._mutex:
            with self._transaction():
                yield

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._check_open()
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        self._overlay = {}
        try:
            yield
        except BaseException:
            self._overlay = None
            self._depth = 0
            self._db.execute("ROLLBACK")
            raise
        overlay, self._overlay = self._overlay, None
        self._depth = 0
        self._db.execute("COMMIT")
        self._committed.set()
        for key, value in overlay.items():
            if value is _DELETED:
                self._cache.pop(key, None)
            else:
                self._cache[key] = value

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    # ----------------------------------------------------------------------------- key-value

    def get(self, key: bytes) -> bytes | None:
        with self._mutex:
            overlay = self._overlay
            if overlay is not None and key in overlay:
                return overlay[key]
            value = self._cache.get(key)
            if value is None:
                row = self._db.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
                if row is None:
                    return None
                value = bytes(row[0])
                self._cache[key] = value
            return value

    def write(self, puts: Iterable[tuple[bytes, bytes]], deletes: Iterable[bytes] = ()) -> None:
        """Set and delete keys in one transaction (or in the open one)."""
        puts = list(puts)
        deletes = list(deletes)
        if not puts and not deletes:
            return
        with self.transaction():
            if puts:
                self._db.executemany("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", puts)
            if deletes:
                self._db.executemany("DELETE FROM kv WHERE k = ?", [(k,) for k in deletes])
            assert self._overlay is not None
            self._overlay.update(puts)
            self._overlay.update(dict.fromkeys(deletes, _DELETED))

    # ----------------------------------------------------------------------------- metadata

    def get_meta(self, key: str) -> str | None:
        with self._mutex:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, values: dict[str, str]) -> None:
        with self.transaction():
            self._db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(values.items()))

    # ----------------------------------------------------------------------------- journal

    # One statement each: outside a transaction SQLite commits it on its own (the connection is in
    # autocommit mode), inside one it joins it; either way it is atomic, without BEGIN and COMMIT.

    def journal_add(self, tx_hash: bytes, raw: bytes) -> None:
        with self._mutex:
            self._check_open()
            self._db.execute("INSERT OR IGNORE INTO pending (hash, raw) VALUES (?, ?)", (tx_hash, raw))

    def journal_replace(self, old_hash: bytes, tx_hash: bytes, raw: bytes) -> None:
        with self._mutex:
            self._check_open()
            self._db.execute("UPDATE pending SET hash = ?, raw = ? WHERE hash = ?", (tx_hash, raw, old_hash))

    def journal_remove(self, hashes: Iterable[bytes]) -> None:
        rows = [(h,) for h in hashes]
        if rows:
            with self.transaction():
                self._db.executemany("DELETE FROM pending WHERE hash = ?", rows)

    def journal_items(self) -> list[tuple[bytes, bytes]]:
        """(hash, raw transaction) of every journalled transaction, in acceptance order."""
        with self._mutex:
            rows = self._db.execute("SELECT hash, raw FROM pending ORDER BY seq").fetchall()
        return [(bytes(h), bytes(r)) for h, r in rows]

    # ----------------------------------------------------------------------------- lifecycle

    def integrity_check(self) -> str:
        """SQLite's own verdict on the file ('ok' when sound)."""
        with self._mutex:
            return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])

    def _checkpoint_loop(self) -> None:
        """Background checkpoints (see the module doc), on a connection of this thread's own."""
        try:
            db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        except sqlite3.Error:  # pragma: no cover - the main connection just opened the same file
            logger.exception("cannot open a connection for checkpoints; SQLite will checkpoint in commits")
            return
        try:
            while not self._stop_checkpoints.is_set():
                if not self._committed.wait(1.0):
                    continue
                if self._stop_checkpoints.wait(CHECKPOINT_DELAY_SECONDS):  # let a burst of commits pass first
                    break
                self._committed.clear()
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as exc:  # busy, or the disk: the next commit asks again
                    logger.warning("checkpointing %s failed (%s); will try again", self.path, exc)
        finally:
            db.close()

    def close(self) -> None:
        with self._mutex:
            if self.closed:
                return
            self.closed = True
            self._stop_checkpoints.set()
            self._checkpointer.join()
            try:
                self._db.close()
            finally:
                os.close(self._lock_fd)

    def _check_open(self) -> None:
        if self.closed:
            raise ChainStoreError(f"the chain file {self.path} was closed", hint="open the chain again",
                                  kind=ErrorKind.UNAVAILABLE)


class SQLiteAtomicDB(BaseAtomicDB):
    """py-evm's view of a :class:`ChainStore`: an AtomicDB whose batches are SQLite transactions."""

    def __init__(self, store: ChainStore) -> None:
        self.store = store

    def __getitem__(self, key: bytes) -> bytes:
        value = self.store.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.store.write([(key, value)])

    def __delitem__(self, key: bytes) -> None:
        if self.store.get(key) is None:
            raise KeyError(key)
        self.store.write([], [key])

    def _exists(self, key: bytes) -> bool:
        return self.store.get(key) is not None

    @contextmanager
    def atomic_batch(self) -> Iterator[AtomicWriteBatchAPI]:
        batch = _WriteBatch(self)
        try:
            yield batch
            diff = batch.diff()
        finally:
            batch.close()
        self.store.write(diff.pending_items(), diff.deleted_keys())


class _WriteBatch(BaseDB, AtomicWriteBatchAPI):
    """Changes of one ``atomic_batch()``: readable inside the batch, written when it ends."""

    def __init__(self, target: DatabaseAPI) -> None:
        self._target: DatabaseAPI | None = target
        self._tracker: DBDiffTracker | None = DBDiffTracker()

    def _live(self) -> tuple[DatabaseAPI, DBDiffTracker]:
        if self._target is None or self._tracker is None:
            raise ChainStoreError("a py-evm write batch was used after it ended",
                                  hint="this is a bug in dataseal: report it", kind=ErrorKind.INTERNAL)
        return self._target, self._tracker

    def __getitem__(self, key: bytes) -> bytes:
        target, tracker = self._live()
        try:
            return tracker[key]
        except DiffMissingError as missing:
            if missing.is_deleted:
                raise KeyError(key) from None
            return target[key]

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._live()[1][key] = value

    def __delitem__(self, key: bytes) -> None:
        if key not in self:
            raise KeyError(key)
        del self._live()[1][key]

    def _exists(self, key: bytes) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True

    def diff(self) -> DBDiff:
        return self._live()[1].diff()

    def close(self) -> None:
        self._target = None
        self._tracker = None


def _lock_exclusively(lock_path: Path, chain_path: Path) -> int:
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise ChainStoreError(f"cannot open the lock file {lock_path} of the chain {chain_path}: {exc.strerror}",
                              hint="check the data folder's permissions, or use another one",
                              options=("data_dir",)) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise ChainInUseError(
            f"the chain {chain_path} is in use by another process (pid {holder}, probably a running dataseal node)",
            hint="stop it, talk to it over JSON-RPC, or use another data folder", options=("data_dir",),
        ) from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd
