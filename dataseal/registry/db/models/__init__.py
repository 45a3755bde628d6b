"""The registry's tables (SQLModel families ``XBase`` / ``XCreate`` / ``X(table=True)`` / ``XPublic``).

- :mod:`.chain`: what the indexer reads off the chain (raw logs, checkpoints, the decoded events and the
  projections built of them); dropped and rebuilt from the chain at will.
- :mod:`.local`: what only this registry knows (manifests, stored trees, usage receipts, the outbox of
  transactions sent and not yet seen mined).

Importing this package registers every table on ``SQLModel.metadata``.
"""
from dataseal.registry.db.models import chain, local, receipts  # noqa: F401  (registers the tables)
