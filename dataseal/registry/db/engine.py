"""The registry's database: one :class:`Database` per process, opened at a front door from the settings.

SQLite (WAL, foreign keys on, a busy timeout so that several dataseal processes of one data folder wait
for each other) by default, PostgreSQL through ``DATABASE_URL`` (``postgresql+psycopg://…``). Opening
brings the schema up to date with the Alembic migrations shipped in :mod:`dataseal.registry.db.migrations`,
under a lock, so that processes starting together migrate once. Nothing connects before :meth:`Database.open`.

Every failure to reach or use the database is a :class:`~dataseal.errors.DatasealError` whose message names
the URL without its password.
"""
from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.util.exc import CommandError
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    DBAPIError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlmodel import Session, create_engine

from dataseal.errors import ConfigError, Conflict, DatasealError, InternalError, NotFound, Unavailable
from dataseal.registry.db.migrations import (
    VERSION_TABLE,
    alembic_config,
    compute_database_revisions,
    compute_head_revisions,
    compute_known_revisions,
    registry_metadata,
)

SQLITE_BUSY_TIMEOUT_MS = 30_000

URL_FORMS = "give sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:PORT/NAME"

# The key of the PostgreSQL advisory lock taken around a migration (advisory locks are per database).
MIGRATION_LOCK_KEY = int.from_bytes(hashlib.sha256(b"dataseal.registry.db.migrate").digest()[:8], "big", signed=True)

# The drivers dataseal ships and tests, per backend.
DRIVERS = {"sqlite": ("pysqlite",), "postgresql": ("psycopg",)}


class DatabaseUnavailable(Unavailable):
    """The registry database did not answer (a server down, a locked or unwritable SQLite file)."""


class DatabaseNotFound(NotFound):
    """The database named in the URL does not exist on its server."""


class DatabaseSchemaConflict(Conflict):
    """The database's schema is not one this dataseal's migrations made (a newer dataseal migrated it, or
    something else made its tables)."""


class Database:
    """An engine and the sessions made of it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Database:
        """Open the database at ``url`` and, with ``migrate``, bring its schema up to date.

        Raises :class:`~dataseal.errors.ConfigError` for a malformed or unsupported URL, refused credentials
        or an unusable SQLite folder; :class:`DatabaseNotFound`, :class:`DatabaseUnavailable`, or
        :class:`DatabaseSchemaConflict` for a database a newer dataseal has migrated.
        """
        engine = create_database_engine(url)
        database = cls(engine)
        if migrate:
            try:
                database.migrate()
            except BaseException:
                database.close()
                raise
        return database

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def url(self) -> str:
        """The URL without its password."""
        return self.engine.url.render_as_string(hide_password=True)

    def migrate(self) -> None:
        """Bring the schema up to the newest revision this dataseal knows, holding a lock while it does.

        A database already at the newest revision is left alone without locking. Otherwise two processes that
        start at once both wait for the lock (PostgreSQL: a transaction-scoped advisory lock; SQLite: the write
        lock, ``BEGIN IMMEDIATE``), read the revision again under it, and the second finds the schema current
        and does nothing. The whole upgrade is one transaction: it is applied entirely or not at all.
        """
        heads, known = compute_head_revisions(), compute_known_revisions()
        try:
            with self.engine.connect() as connection:
                current = compute_database_revisions(connection)
                self.verify_revisions_known(current, known)
                if set(current) == set(heads):
                    return  # up to date: no lock needed (the usual start)
                connection.rollback()  # end the read before taking the lock
                with _migration_lock(connection):
                    current = compute_database_revisions(connection)  # again: another process may have migrated
                    self.verify_revisions_known(current, known)
                    if not current:
                        self.verify_no_foreign_tables(connection)
                    if set(current) != set(heads):
                        command.upgrade(alembic_config(connection), "heads")
        except DatasealError:
            raise
        except DBAPIError as exc:
            if is_database_failure(self.engine.url, exc):  # the database, not the migration: unreachable, locked
                raise database_error(self.engine.url, exc) from exc
            raise self.migration_failed(heads, exc) from exc
        except (SQLAlchemyError, CommandError) as exc:
            raise self.migration_failed(heads, exc) from exc

    def migration_failed(self, heads: tuple[str, ...], exc: BaseException) -> InternalError:
        """A migration that fails on this database (a table in the way, a bug in a revision)."""
        return InternalError(f"migrating the registry database at {self.url} to revision {', '.join(heads)} "
                             f"failed: {_first_line(exc, self.engine.url)}",
                             hint="nothing was changed (the migration is one transaction); if something else made "
                                  "objects of that name in this database, give dataseal a database of its own, "
                                  "otherwise report this as a bug with the message", options=("database_url",))

    def verify_revisions_known(self, current: tuple[str, ...], known: frozenset[str]) -> None:
        """Raise :class:`DatabaseSchemaConflict` when the database records a revision this dataseal lacks."""
        unknown = [revision for revision in current if revision not in known]
        if unknown:
            heads = ", ".join(compute_head_revisions()) or "none"
            raise DatabaseSchemaConflict(
                f"the registry database at {self.url} is at schema revision {', '.join(unknown)}, which this "
                f"dataseal does not know (its newest is {heads}): a newer dataseal has migrated it",
                hint="run the dataseal version that migrated this database (or a newer one), or give a "
                     "database of its own to this one",
                options=("database_url",))

    def verify_no_foreign_tables(self, connection: Connection) -> None:
        """Raise :class:`DatabaseSchemaConflict` when a database with no migration record already holds
        tables of the registry's names (made by something else, or by a dataseal before migrations)."""
        ours = set(registry_metadata().tables)
        present = sorted(ours & set(inspect(connection).get_table_names()))
        if present:
            raise DatabaseSchemaConflict(
                f"the registry database at {self.url} already holds tables named like dataseal's "
                f"({', '.join(present[:5])}{', …' if len(present) > 5 else ''}) but no record of dataseal's "
                f"migrations ({VERSION_TABLE})",
                hint="give dataseal an empty database, or one its migrations made", options=("database_url",))

    def get_schema_revision(self) -> str | None:
        """The schema revision the database is at (None if it was never migrated)."""
        try:
            with self.engine.connect() as connection:
                current = compute_database_revisions(connection)
        except DBAPIError as exc:
            if is_database_failure(self.engine.url, exc):
                raise database_error(self.engine.url, exc) from exc
            raise
        return ", ".join(current) or None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work is committed when the block ends, and rolled back if it raises (a failure of the
        database itself, such as a connection lost mid-transaction, becomes :class:`DatabaseUnavailable` or
        another error of :func:`database_error`; other errors, a violated constraint say, are raised as they are)."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except DBAPIError as exc:
                session.rollback()
                if is_database_failure(self.engine.url, exc):
                    raise database_error(self.engine.url, exc) from exc
                raise
            except BaseException:
                session.rollback()
                raise

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Database({self.url})"


@contextmanager
def _migration_lock(connection: Connection) -> Iterator[None]:
    """Hold the database's migration lock for the block, inside one transaction committed at its end (rolled
    back if it raises)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        try:
            yield
        except BaseException:
            connection.rollback()
            raise
        connection.commit()  # releases the lock
        return
    # SQLite: batch migrations copy tables, which foreign keys would block; the pragma is a no-op inside a
    # transaction, so it is switched off first, the integrity checked before committing, and switched back on.
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock: a second process waits here
        try:
            yield
            violations = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if violations:
                raise InternalError(f"a migration left {len(violations)} rows whose foreign keys point nowhere "
                                    f"(first: {tuple(violations[0])})",
                                    hint="nothing was changed; report this as a bug with the message")
        except BaseException:
            connection.rollback()
            raise
        connection.commit()
    finally:
        if not connection.closed and not connection.invalidated:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


def create_database_engine(url: str) -> Engine:
    """An engine for ``url`` (no connection yet); a malformed or unsupported URL, or a SQLite file in a folder
    that is missing or not writable, raises ConfigError naming it (never its password)."""
    try:
        parsed = make_url(url)
        port = parsed.port  # parsed on first use: "host:abc" fails here
    except (ArgumentError, ValueError):
        raise ConfigError(f"the database URL {redact_url(url)!r} is not a valid SQLAlchemy URL",
                          hint=URL_FORMS, options=("database_url",)) from None
    if port is not None and not 0 < port < 65536:
        raise ConfigError(f"the database URL {redact_url(url)!r} names the port {port}, outside 1..65535",
                          hint=URL_FORMS, options=("database_url",))
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, the driver dataseal ships
    shown = parsed.render_as_string(hide_password=True)
    backend = parsed.get_backend_name()
    if backend not in DRIVERS:
        raise ConfigError(f"the database URL {shown} names {backend!r}; dataseal runs on SQLite and PostgreSQL",
                          hint=URL_FORMS, options=("database_url",))
    driver = parsed.get_driver_name()  # after the backend is known: without "+driver" it loads the dialect
    if driver not in DRIVERS[backend]:
        raise ConfigError(f"the database URL {shown} names the driver {driver!r}; dataseal talks to {backend} "
                          f"through {' or '.join(DRIVERS[backend])}", hint=URL_FORMS, options=("database_url",))
    kwargs: dict[str, Any] = {}
    if backend == "sqlite":
        verify_sqlite_folder(parsed)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **kwargs)
    except Exception as exc:  # a bad query argument
        raise ConfigError(f"the database URL {shown} cannot be used: {_first_line(exc, parsed)}",
                          hint="check the URL's options", options=("database_url",)) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def verify_sqlite_folder(url: URL) -> None:
    """Raise ConfigError when a SQLite file URL points into a folder that is missing or cannot be written."""
    path = url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    folder = Path(path).expanduser().absolute().parent
    shown = url.render_as_string(hide_password=True)
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise ConfigError(f"the registry database at {shown} cannot be created: its folder {folder} {what}",
                          hint="create the folder, or give a path in an existing one", options=("database_url",))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"the registry database at {shown} cannot be written: its folder {folder} is not writable "
                          f"by this user", hint="give a path in a folder this user can write (SQLite writes its "
                                                "journal beside the file)", options=("database_url",))


def _sqlite_pragmas(connection: Any, record: Any) -> None:
    cursor = connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


# SQLite reports these as OperationalError / DatabaseError too, but they are about the SQL, not the database.
SQLITE_FAILURES = ("locked", "busy", "disk i/o", "unable to open", "readonly", "disk is full", "not a database",
                   "malformed")


def is_database_failure(url: URL, exc: DBAPIError) -> bool:
    """Whether ``exc`` says the database failed (unreachable, refused, locked, unwritable, not a database) rather
    than the statement (a duplicate key, a missing table: a bug or an unexpected schema)."""
    if url.get_backend_name() == "sqlite":
        reason = str(exc.orig).lower()
        return isinstance(exc, DatabaseError) and any(word in reason for word in SQLITE_FAILURES)
    return isinstance(exc, (OperationalError, InterfaceError))


def database_error(url: URL, exc: BaseException) -> DatasealError:
    """The error to raise for a driver's failure on the database at ``url``: refused credentials and a wrong
    SQLite file are ConfigError, a missing database DatabaseNotFound, anything else DatabaseUnavailable.
    The URL is shown without its password, and the password is struck from the driver's message."""
    shown = url.render_as_string(hide_password=True)
    reason = _first_line(exc, url)
    lowered = reason.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered or (
            "role" in lowered and "does not exist" in lowered):
        return ConfigError(f"the registry database at {shown} refused the user {url.username!r}: {reason}",
                           hint="check the user name and password in the database URL", options=("database_url",))
    if re.search(r'database ".*" does not exist', reason):
        return DatabaseNotFound(f"the registry database {url.database!r} does not exist on the server at {shown}",
                                hint=f"create it on the server (CREATE DATABASE {url.database}), or give the "
                                     f"URL of an existing database", options=("database_url",))
    if url.get_backend_name() == "sqlite" and ("not a database" in lowered or "malformed" in lowered):
        return ConfigError(f"the registry database at {shown} is not a SQLite database dataseal can read: {reason}",
                           hint="give the path of the registry's SQLite file (or of a new one), and move this file "
                                "away if it is not needed", options=("database_url",))
    if url.get_backend_name() == "sqlite" and ("unable to open" in lowered or "readonly" in lowered):
        return ConfigError(f"the registry database at {shown} cannot be written: {reason}",
                           hint="give a path to a file (and a folder) this user can write",
                           options=("database_url",))
    if url.get_backend_name() == "sqlite":
        hint = "check that no other process holds the SQLite file locked and that its disk is sound, then try again"
    else:
        hint = "check that the database server is running and reachable at that address, then try again"
    return DatabaseUnavailable(f"the registry database at {shown} did not answer: {reason}", hint=hint,
                               options=("database_url",))


def redact_url(url: str) -> str:
    """``url`` with the password of any ``scheme://user:password@`` part replaced by ``***``."""
    return re.sub(r"(://[^:/@?#]*):[^/?#]*@", r"\1:***@", url)


def _first_line(exc: BaseException, url: URL) -> str:
    """The driver's own message (its first line), without the URL's password."""
    reason = str(getattr(exc, "orig", None) or exc).strip()
    reason = reason.splitlines()[0].strip() if reason else type(exc).__name__
    # libpq: 'connection failed: connection to server at "HOST", port N failed: FATAL:  WHY' (the URL says where)
    reason = re.sub(r'^connection failed: connection to server at .*?, port \d+ failed: (FATAL: +)?', "", reason)
    if url.password:
        reason = reason.replace(str(url.password), "***")
    return reason
