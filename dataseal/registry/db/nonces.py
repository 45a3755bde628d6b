"""Nonces kept in the registry database, so that every process using it — replicas of `dataseal up` on several
hosts sharing one PostgreSQL database and one operator key, or the commands of one data folder sharing its
SQLite file — hands out each nonce of an account once.

:class:`DatabaseNonceStore` is a :class:`~dataseal.chain.sending.nonces.NonceStore`: a hold is one short
transaction of its own (its own connection, never a service's session) that locks the account's row of
:class:`~dataseal.registry.db.models.nonces.AccountNonce` — ``SELECT … FOR UPDATE`` on PostgreSQL, the database's
write lock (``BEGIN IMMEDIATE``) on SQLite — reads the next nonce, lets the sender sign and hand the transaction to
the node, stores the next one and commits. A sender killed while holding loses its connection, and with it the
transaction: the lock is released and the stored nonce is the one it had before (given back). If the killed
sender had already handed its transaction to the node, the stored nonce is behind; the next sender is told
"nonce too low" and re-reads the node's count (:meth:`~dataseal.chain.sending.nonces.Reservation.resync`).

The senders of one process first queue on a lock of this store, so that a process holds at most one connection
per account (on SQLite, whose write lock is the whole database's: one connection) while it waits for the others.
On SQLite a hold therefore also waits for the other writers of the file, and they for it: never send from inside
a session that has written (the hold would wait for that session's lock, held by the same thread).
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from dataseal.chain.sending.nonces import HeldNonce, Key
from dataseal.registry.db.engine import Database, database_error, is_database_failure
from dataseal.registry.db.models.nonces import AccountNonce

TABLE = AccountNonce.__table__  # type: ignore[attr-defined]


class DatabaseNonceStore:
    """Nonces in the registry database (``database``, or a callable opening it on first use)."""

    def __init__(self, database: Database | Callable[[], Database]) -> None:
        self._database = database
        self._locks: dict[Key | None, threading.Lock] = {}
        self._guard = threading.Lock()

    def __repr__(self) -> str:
        shown = self._database.url if isinstance(self._database, Database) else "the registry's database"
        return f"DatabaseNonceStore({shown})"

    @property
    def database(self) -> Database:
        return self._database if isinstance(self._database, Database) else self._database()

    @contextmanager
    def hold(self, key: Key) -> Iterator[HeldNonce]:
        database = self.database
        # SQLite's lock is the whole database's: this process's senders of every account queue in one line
        line: Key | None = key if database.dialect == "postgresql" else None
        with self._guard:
            lock = self._locks.setdefault(line, threading.Lock())
        with lock:  # this process's other senders wait here, holding no connection
            with _failures(database), database.engine.connect() as connection:
                held = _HeldRow(connection, key)
                _lock_row(connection, key)
                try:
                    yield held
                except BaseException:
                    _end(connection, commit=held.written)  # a value written is kept, whatever the block then did
                    raise
                with _failures(database):
                    connection.commit()


class _HeldRow:
    """The locked row of one account, inside the hold's transaction."""

    def __init__(self, connection: Connection, key: Key) -> None:
        self.connection = connection
        self.key = key
        self.written = False

    def read(self) -> int | None:
        chain_id, address = self.key
        value: int | None = self.connection.execute(
            select(TABLE.c.next_nonce).where(TABLE.c.chain_id == chain_id, TABLE.c.address == address)).scalar_one()
        return None if value is None else int(value)

    def write(self, value: int) -> None:
        chain_id, address = self.key
        self.connection.execute(update(TABLE).where(TABLE.c.chain_id == chain_id, TABLE.c.address == address)
                                .values(next_nonce=value))
        self.written = True


def _lock_row(connection: Connection, key: Key) -> None:
    """Begin the hold's transaction and lock ``key``'s row in it, made first if the account has none."""
    chain_id, address = key
    row = (TABLE.c.chain_id == chain_id) & (TABLE.c.address == address)
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # the database's write lock: other processes wait here
        connection.execute(sqlite_insert(TABLE).values(chain_id=chain_id, address=address).on_conflict_do_nothing())
        return
    # PostgreSQL: the row's lock; a row made by another sender that still holds it is waited for by the insert
    if connection.execute(select(TABLE.c.chain_id).where(row).with_for_update()).first() is None:
        connection.execute(postgresql_insert(TABLE).values(chain_id=chain_id, address=address)
                           .on_conflict_do_nothing())
        connection.execute(select(TABLE.c.chain_id).where(row).with_for_update()).one()


def _end(connection: Connection, *, commit: bool) -> None:
    """End the hold's transaction after its block raised (the block's error is the one that matters)."""
    try:
        if commit:
            connection.commit()
        else:
            connection.rollback()
    except DBAPIError:
        pass  # the connection is gone: so is the transaction, and with it the lock


@contextmanager
def _failures(database: Database) -> Iterator[None]:
    """A failure of the database itself (unreachable, locked past the busy timeout) as dataseal's error for it."""
    try:
        yield
    except DBAPIError as exc:
        if is_database_failure(database.engine.url, exc):
            raise database_error(database.engine.url, exc) from exc
        raise
