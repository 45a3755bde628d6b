"""The registry's tables (SQLModel families ``XBase`` / ``XCreate`` / ``X(table=True)`` / ``XPublic``).

- :mod:`.chain`: what the indexer reads off the chain (raw logs, checkpoints, the decoded events and the
  projections built of them); dropped and rebuilt from the chain at will.
- :mod:`.local`: what only this registry knows (manifests, stored trees, usage receipts, the outbox of
  transactions sent and not yet seen mined).
- :mod:`.nonces`: the next nonce of each account the registry signs for, shared by the processes (and
  replicas) using the database.
- :mod:`.api`: what the HTTP API keeps to authenticate writes and answer them once (signed requests seen,
  operator API keys, idempotent responses).

Importing this package registers every table on ``SQLModel.metadata``.

Constraints are named by :data:`NAMING_CONVENTION` (set before any table is defined), so that a migration
can drop or alter one by name: SQLite's batch migrations rebuild a table and can only recreate constraints
they can name.
"""
from sqlmodel import SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

from dataseal.registry.db.models import api, chain, local, nonces, receipts  # noqa: E402, F401  (registers the tables)
