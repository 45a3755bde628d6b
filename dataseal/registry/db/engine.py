"""The registry's database: one :class:`Database` per process, opened at a front door from the settings.

SQLite (WAL, foreign keys on, a busy timeout so that several dataseal processes of one data folder wait
for each other) by default, PostgreSQL through ``DATABASE_URL`` (``postgresql+psycopg://…``). Opening
brings the schema up to date. Nothing connects before :meth:`Database.open`.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session, SQLModel, create_engine

from dataseal.errors import ConfigError, Unavailable

SQLITE_BUSY_TIMEOUT_MS = 30_000


class DatabaseUnavailable(Unavailable):
    """The registry database did not answer (a server down, a locked or unwritable SQLite file)."""


class Database:
    """An engine and the sessions made of it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Database:
        """Open the database at ``url`` and, with ``migrate``, bring its schema up to date."""
        engine = create_database_engine(url)
        database = cls(engine)
        if migrate:
            database.migrate()
        return database

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def url(self) -> str:
        """The URL without its password."""
        return self.engine.url.render_as_string(hide_password=True)

    def migrate(self) -> None:
        """Bring the schema up to date."""
        from dataseal.registry.db import models  # noqa: F401  (the tables register on SQLModel.metadata)

        try:
            SQLModel.metadata.create_all(self.engine)
        except OperationalError as exc:
            raise unavailable(self.url, exc) from exc

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work is committed when the block ends, and rolled back if it raises."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except OperationalError as exc:
                session.rollback()
                raise unavailable(self.url, exc) from exc
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


def create_database_engine(url: str) -> Engine:
    """An engine for ``url``; a malformed URL or an unknown driver raises ConfigError naming it."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"the database URL {url!r} is not a valid SQLAlchemy URL: {exc}",
                          hint="give sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:PORT/NAME",
                          options=("database_url",)) from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, the driver dataseal ships
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    elif parsed.get_backend_name() == "postgresql":
        kwargs["pool_pre_ping"] = True
    else:
        backend = parsed.get_backend_name()
        raise ConfigError(f"the database URL names {backend!r}; dataseal runs on SQLite and PostgreSQL",
                          hint="give sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:PORT/NAME",
                          options=("database_url",))
    try:
        engine = create_engine(parsed, **kwargs)
    except Exception as exc:  # a driver that does not load, a bad query argument
        raise ConfigError(f"the database URL {parsed.render_as_string(hide_password=True)} cannot be used: {exc}",
                          hint="check the URL's driver and options", options=("database_url",)) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: Any, record: Any) -> None:
    cursor = connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def unavailable(url: str, exc: BaseException) -> DatabaseUnavailable:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return DatabaseUnavailable(f"the registry database at {url} did not answer: {reason}",
                               hint="check that the database server is running and reachable (or that the SQLite "
                                    "file's folder is writable), then try again",
                               options=("database_url",))
