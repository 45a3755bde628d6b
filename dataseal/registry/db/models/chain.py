"""What the indexer reads off the chain: raw logs, checkpoints, decoded events and their projections.
(Owned by the indexer; every row here can be dropped and rebuilt from the chain.)"""
