"""The registry's database: an index of the chain and the local state of the services (manifests, stored
trees, receipts, transactions sent). The chain stays the source of truth: the chain-derived tables can be
dropped and rebuilt from it by the indexer."""
from dataseal.registry.db.engine import Database, DatabaseNotFound, DatabaseSchemaConflict, DatabaseUnavailable

__all__ = ["Database", "DatabaseNotFound", "DatabaseSchemaConflict", "DatabaseUnavailable"]
