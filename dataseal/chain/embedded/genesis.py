"""A chain's genesis: creating one (block 0, its funding and the settings recorded beside it, in
one SQLite transaction) and reopening one (checked against the genesis asked for, and against itself)."""
from __future__ import annotations

import json
import logging
from typing import Any, cast

from eth.constants import BLANK_ROOT_HASH, POST_MERGE_DIFFICULTY, POST_MERGE_MIX_HASH, POST_MERGE_NONCE
from eth_typing import BlockNumber
from eth_utils import to_canonical_address

from dataseal.chain.embedded.clock import Clock
from dataseal.chain.embedded.defaults import DEFAULT_CHAIN_ID
from dataseal.chain.embedded.errors import ChainStoreError, GenesisMismatchError
from dataseal.chain.embedded.settings import Genesis
from dataseal.chain.embedded.store import ChainStore, SQLiteAtomicDB
from dataseal.chain.embedded.vm import EXTRA_DATA, ZERO_ADDRESS, DatasealChain, chain_class

logger = logging.getLogger("dataseal.chain.embedded")

# Settings written at genesis, which set_meta() may not change.
RESERVED_META = {"chain_id", "gas_limit", "genesis_alloc", "genesis_hash", "created_at", "fork"}


def create_genesis(store: ChainStore, genesis: Genesis, clock: Clock, interpreter: str) -> DatasealChain:
    """Make the genesis block of a new chain in ``store``, stamped with the clock's time, and record its
    settings; the chain mines with the ``interpreter`` named."""
    chain_id = DEFAULT_CHAIN_ID if genesis.chain_id is None else genesis.chain_id
    alloc = genesis.normalized_alloc()
    params = {
        "coinbase": ZERO_ADDRESS,
        "difficulty": POST_MERGE_DIFFICULTY,
        "extra_data": EXTRA_DATA,
        "gas_limit": genesis.gas_limit,
        "mix_hash": POST_MERGE_MIX_HASH,
        "nonce": POST_MERGE_NONCE,
        "receipt_root": BLANK_ROOT_HASH,
        "timestamp": int(clock.time()),
        "transaction_root": BLANK_ROOT_HASH,
    }
    state = {
        to_canonical_address(address): {"balance": wei, "nonce": 0, "code": b"", "storage": {}}
        for address, wei in alloc.items()
    }
    with store.transaction():  # the genesis block and the settings appear together or not at all
        chain_type = chain_class(chain_id, interpreter)
        created = chain_type.from_genesis(SQLiteAtomicDB(store), cast(Any, params), cast(Any, state))
        chain = cast(DatasealChain, created)
        store.set_meta({
            "chain_id": str(chain_id),
            "gas_limit": str(genesis.gas_limit),
            "genesis_alloc": json.dumps({a: str(w) for a, w in alloc.items()}, sort_keys=True),
            "genesis_hash": "0x" + bytes(chain.get_canonical_head().hash).hex(),
            "created_at": str(int(clock.time())),
            "fork": "prague",
        })
    return chain


def recorded_alloc(store: ChainStore) -> dict[str, int]:
    """The genesis funding recorded in the chain's settings."""
    try:
        return {a: int(w) for a, w in json.loads(store.get_meta("genesis_alloc") or "{}").items()}
    except (ValueError, TypeError, AttributeError):
        raise _damaged(store, "its recorded genesis funding is not a map of addresses to wei") from None


def _damaged(store: ChainStore, what: str) -> ChainStoreError:
    return ChainStoreError(f"the chain in {store.path} is damaged: {what}",
                           hint="restore it from a backup, or move it away to start a new chain")


def reopen(store: ChainStore, genesis: Genesis | None, interpreter: str) -> DatasealChain:
    """The chain already in ``store``, checked against ``genesis`` (when given) and its own records; it
    mines with the ``interpreter`` named."""
    try:
        chain_id = int(store.get_meta("chain_id") or 0)
    except ValueError:
        raise _damaged(store, f"its recorded chain id {store.get_meta('chain_id')!r} is not a number") from None
    if genesis is not None:
        if genesis.chain_id is not None and genesis.chain_id != chain_id:
            raise GenesisMismatchError(
                f"the chain in {store.path} has chain id {chain_id}, not {genesis.chain_id}",
                hint="leave the chain id out to use this chain, or choose another data folder for a new one",
                options=("chain_id", "data_dir"),
            )
        recorded = recorded_alloc(store)
        missing = {a: w for a, w in genesis.normalized_alloc().items() if recorded.get(a) != w}
        if missing:
            listed = ", ".join(f"{a} ({w} wei)" for a, w in missing.items())
            raise GenesisMismatchError(
                f"the chain in {store.path} already exists and its genesis did not fund {listed}",
                hint="funding applies only when a chain is created: send funds from a funded account instead, or "
                "use a new data folder", options=("data_dir",),
            )
    try:
        chain = cast(DatasealChain, chain_class(chain_id, interpreter)(SQLiteAtomicDB(store)))
        head = chain.get_canonical_head()
        genesis_hash = "0x" + bytes(chain.get_canonical_block_hash(BlockNumber(0))).hex()
    except Exception as exc:  # py-evm raises many types for a damaged database
        raise ChainStoreError(
            f"the chain in {store.path} cannot be read ({type(exc).__name__}: {exc})",
            hint="restore it from a backup, or move the file away to start a new chain",
        ) from None
    if genesis_hash != store.get_meta("genesis_hash"):
        raise ChainStoreError(
            f"the chain in {store.path} is inconsistent: its genesis block is {genesis_hash}, its settings say "
            f"{store.get_meta('genesis_hash')}", hint="restore it from a backup, or move it away to start a new chain",
        )
    logger.debug("reopened chain %d at block %d", chain_id, head.block_number)
    return chain
