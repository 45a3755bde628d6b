"""The SQLite store under the embedded chain: atomic batches, transactions, journal, locking."""
from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest

from dataseal.chain.embedded.errors import ChainInUseError, ChainStoreError
from dataseal.chain.embedded.store import ChainStore, SQLiteAtomicDB


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "store" / "chain.sqlite"


def test_writes_survive_reopening(path: Path) -> None:
    store = ChainStore(path)
    store.write([(b"a", b"1"), (b"b", b"2")])
    store.write([], [b"a"])
    store.close()
    store = ChainStore(path)
    try:
        assert store.get(b"a") is None
        assert store.get(b"b") == b"2"
        assert store.integrity_check() == "ok"
    finally:
        store.close()


def test_a_failed_transaction_leaves_nothing_behind_on_disk_or_in_the_cache(path: Path) -> None:
    store = ChainStore(path)
    store.write([(b"kept", b"old")])
    with pytest.raises(RuntimeError, match="boom"):
        with store.transaction():
            store.write([(b"kept", b"new"), (b"added", b"x")])
            with store.transaction():  # nested: joins the outer transaction
                store.write([], [b"kept"])
                assert store.get(b"kept") is None  # visible inside the transaction
            raise RuntimeError("boom")
    assert store.get(b"kept") == b"old"
    assert store.get(b"added") is None
    store.close()
    store = ChainStore(path)
    try:
        assert (store.get(b"kept"), store.get(b"added")) == (b"old", None)
    finally:
        store.close()


def test_atomic_batch_writes_all_or_nothing(path: Path) -> None:
    store = ChainStore(path)
    db = SQLiteAtomicDB(store)
    db[b"x"] = b"0"
    with pytest.raises(ValueError):
        with db.atomic_batch() as batch:
            batch[b"x"] = b"1"
            batch[b"y"] = b"2"
            assert batch[b"x"] == b"1"
            raise ValueError("abandon the batch")
    assert db[b"x"] == b"0" and b"y" not in db
    with db.atomic_batch() as batch:
        batch[b"y"] = b"2"
        del batch[b"x"]
        assert b"x" not in batch
        with pytest.raises(KeyError):
            del batch[b"missing"]
    assert b"x" not in db and db[b"y"] == b"2"
    with pytest.raises(KeyError):
        del db[b"missing"]
    store.close()


def test_a_batch_used_after_it_ended_is_refused(path: Path) -> None:
    store = ChainStore(path)
    db = SQLiteAtomicDB(store)
    with db.atomic_batch() as batch:
        batch[b"k"] = b"v"
    with pytest.raises(ChainStoreError, match="used after it ended"):
        batch[b"k"] = b"again"
    store.close()


def test_the_journal_keeps_acceptance_order_across_reopening(path: Path) -> None:
    store = ChainStore(path)
    store.journal_add(b"h1", b"raw1")
    store.journal_add(b"h2", b"raw2")
    store.journal_add(b"h3", b"raw3")
    store.journal_replace(b"h2", b"h2b", b"raw2b")  # a replacement keeps its place
    store.journal_remove([b"h1"])
    store.close()
    store = ChainStore(path)
    try:
        assert store.journal_items() == [(b"h2b", b"raw2b"), (b"h3", b"raw3")]
    finally:
        store.close()


def test_a_second_opener_is_refused_with_the_holders_pid(path: Path) -> None:
    store = ChainStore(path)
    try:
        expected = rf"in use by another process \(pid {os.getpid()}.*: stop it, .* or use another data folder$"
        with pytest.raises(ChainInUseError, match=expected) as info:
            ChainStore(path)
        assert info.value.options == ("data_dir",) and "--" not in str(info.value)
    finally:
        store.close()
    ChainStore(path).close()  # released on close


def test_an_sqlite_file_of_something_else_is_refused(path: Path) -> None:
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE users (name TEXT)")
    with pytest.raises(ChainStoreError, match="not a dataseal chain: use another data folder") as info:
        ChainStore(path)
    assert info.value.options == ("data_dir",)


def test_a_data_folder_that_cannot_be_made_is_refused(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file where the data folder should be")
    with pytest.raises(ChainStoreError, match="cannot create the folder of the chain file .*taken") as info:
        ChainStore(tmp_path / "taken" / "chain.sqlite")
    assert info.value.options == ("data_dir",)


def test_a_file_that_is_not_sqlite_is_refused(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ChainStoreError, match="not a readable dataseal chain.*restore it from a backup"):
        ChainStore(path)


def test_a_file_from_another_storage_version_is_refused(path: Path) -> None:
    ChainStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version=99")
    with pytest.raises(ChainStoreError, match="storage version 99; this dataseal reads version 1"):
        ChainStore(path)


def test_a_closed_store_says_so(path: Path) -> None:
    store = ChainStore(path)
    store.close()
    store.close()  # twice is fine
    with pytest.raises(ChainStoreError, match="was closed"):
        store.write([(b"k", b"v")])


def checkpointers() -> int:
    """Background checkpoint threads running in this process."""
    return sum(thread.name == "dataseal-checkpoint" for thread in threading.enumerate())


def test_checkpoints_run_in_the_background_not_in_the_commit(path: Path) -> None:
    import time

    running = checkpointers()
    store = ChainStore(path)
    try:
        assert checkpointers() == running + 1
        before = path.stat().st_size
        with store.transaction():  # ~6 MB: below SQLite's own threshold, so the commit does not checkpoint
            store.write((os.urandom(32), os.urandom(3000)) for _ in range(2000))
        assert path.stat().st_size - before < 1_000_000  # committed to the WAL only
        for _ in range(300):  # the background checkpoint copies it into the file (a functional wait)
            if path.stat().st_size - before > 5_000_000:
                break
            time.sleep(0.1)
        assert path.stat().st_size - before > 5_000_000
        assert checkpointers() == running + 1
    finally:
        store.close()
    assert checkpointers() == running  # closing the store ends its checkpoint thread
