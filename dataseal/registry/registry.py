"""The services' one handle: the chain (a :class:`~dataseal.registry.context.Context`) and the registry
database, opened from one :class:`~dataseal.registry.settings.Settings` at a front door.

Both open on first use: a command that only reads the chain never touches the database, and one that only
reads the database (an audit of what was indexed) never connects to a node.
"""
from __future__ import annotations

from pathlib import Path

from dataseal.cached import require_io
from dataseal.registry.context import Context
from dataseal.registry.db import Database
from dataseal.registry.db.nonces import DatabaseNonceStore
from dataseal.registry.settings import Settings


class Registry:
    """The chain and the database of one set of settings. Close it (or use it as a context manager) when done."""

    def __init__(self, settings: Settings, *, context: Context | None = None, database: Database | None = None) -> None:
        self.settings = settings
        self._context = context
        self._database = database

    @classmethod
    def open(cls, settings: Settings) -> Registry:
        return cls(settings)

    @property
    def context(self) -> Context:
        """The chain's parts (connects on first use); their senders keep nonces in the database (opened when the
        first transaction is sent)."""
        if self._context is None:
            require_io("the chain's context")
            # the senders' nonces through the database: every process and replica using it shares them
            self._context = Context.open(self.settings, nonces=DatabaseNonceStore(lambda: self.db))
        return self._context

    @property
    def db(self) -> Database:
        """The registry database, schema up to date (opens on first use; creates the data folder for SQLite)."""
        if self._database is None:
            require_io("the database")
            if self.settings.database_url is None:
                Path(self.settings.data_dir).mkdir(parents=True, exist_ok=True)
            self._database = Database.open(self.settings.effective_database_url())
        return self._database

    @property
    def data_dir(self) -> Path:
        return Path(self.settings.data_dir)

    def close(self) -> None:
        if self._context is not None:
            self._context.close()
            self._context = None
        if self._database is not None:
            self._database.close()
            self._database = None

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
