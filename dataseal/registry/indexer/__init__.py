"""The indexer: the deployment's events, followed from the chain into the registry database (see
:mod:`.indexer`), and the queries the services read them with (:mod:`.queries`)."""
from dataseal.registry.indexer.indexer import (
    DEFAULT_PAGE_BLOCKS,
    DEFAULT_REORG_WINDOW,
    Indexer,
    IndexerStateError,
    ReorgTooDeep,
    SyncReport,
)

__all__ = ["DEFAULT_PAGE_BLOCKS", "DEFAULT_REORG_WINDOW", "Indexer", "IndexerStateError", "ReorgTooDeep",
           "SyncReport"]
