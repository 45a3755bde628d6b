"""The migration environment Alembic runs: always online, on the connection the caller put in the
configuration's ``attributes["connection"]``, inside the caller's transaction (the caller holds the lock
and commits)."""
from __future__ import annotations

from alembic import context

from dataseal.registry.db.migrations import autogenerate_options, registry_metadata

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("dataseal's migrations run online only, on a connection given in config.attributes")

context.configure(connection=connection, target_metadata=registry_metadata(), **autogenerate_options(connection))
with context.begin_transaction():
    context.run_migrations()
