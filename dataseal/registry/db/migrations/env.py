"""The migration environment Alembic runs: always online, on the connection the caller put in the
configuration's ``attributes["connection"]``, inside the caller's transaction (the caller holds the lock
and commits).

Importing this module outside an Alembic run (a scan of the package's modules) does nothing.
"""
from __future__ import annotations

from alembic import context
from alembic.config import Config

from dataseal.registry.db.migrations import autogenerate_options, registry_metadata


def run_migrations(config: Config) -> None:
    connection = config.attributes.get("connection")
    if connection is None or context.is_offline_mode():
        raise RuntimeError("dataseal's migrations run online only, on a connection given in config.attributes")
    context.configure(connection=connection, target_metadata=registry_metadata(), **autogenerate_options(connection))
    with context.begin_transaction():
        context.run_migrations()


running: Config | None = getattr(context, "config", None)  # set only while Alembic runs this file
if running is not None:
    run_migrations(running)
