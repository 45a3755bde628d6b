"""py-evm's account database with storage tries updated in one pass per block.

py-evm's ``StorageLookup`` writes each changed slot into a pruning ``HexaryTrie`` as soon as
the journal is flushed (at every state root), which re-decodes, re-encodes and re-hashes the
whole path of the slot, and prunes the nodes it replaced, once per slot: about a quarter of the
CPU of a block of registrations. :class:`BatchedStorageLookup` keeps the slots written since
the last root in a dict instead, reads them from there, and applies all of them at once, sorted,
with :func:`dataseal.chain.embedded.tries.updated_trie_root` when the root is asked for. Roots,
values read and nodes persisted are py-evm's (``tests/chain/embedded/interpreter/test_storage.py``
replays random storage edits on both; ``test_differential.py`` mines the same blocks with the fast
and the stock interpreter; ``test_tries.py`` compares the trie updates with py-trie's).

The rest of py-evm's machinery is kept: the journals (checkpoints, reverts), the storage cache,
the wipe/restore stack of a storage deleted and revived by a revert (:meth:`new_trie`,
:meth:`rollback_trie`), and where nodes go: into the database batch ``AccountDB.persist`` opens.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import rlp
from eth.abc import AccountStorageDatabaseAPI, AtomicDatabaseAPI, DatabaseAPI
from eth.constants import BLANK_ROOT_HASH
from eth.db.account import AccountDB
from eth.db.backends.memory import MemoryDB
from eth.db.cache import CacheDB
from eth.db.journal import JournalDB
from eth.db.storage import CLEAR_COUNT_KEY_NAME, AccountStorageDB, StorageLookup
from eth.vm.interrupt import MissingStorageTrieNode
from eth_typing import Address, Hash32
from eth_utils import ValidationError, to_bytes
from trie.typing import Nibbles

from dataseal.chain.embedded.interpreter.hooks import give_way
from dataseal.chain.embedded.tries import new_nodes_reachable, trie_get, updated_trie_root


class _Trie(NamedTuple):
    """One storage trie being changed: what ``StorageLookup`` keeps in a ``PendingWrites``."""

    starting_root: Hash32  # as persisted (or blank after a wipe): reads of untouched nodes start there
    root: Hash32  # starting_root with the writes applied up to the last root computation
    pending: dict[bytes, bytes | None]  # hashed slot -> value written since (None: deleted)
    nodes: dict[Hash32, bytes]  # nodes created since starting_root, by hash (some replaced since)


class BatchedStorageLookup(StorageLookup):
    """A ``StorageLookup`` that applies its writes to the trie in one pass, when the root is asked for."""

    _trie: _Trie
    _dirty: bool  # a write since the last commit or wipe: StorageLookup's "write trie exists"
    _wiped: list[_Trie]  # the tries replaced by new_trie(), for rollback_trie()
    _kept: tuple[Hash32, dict[Hash32, bytes], dict[Hash32, bytes]] | None  # a root, its nodes, the new ones it uses

    def __init__(self, db: DatabaseAPI, storage_root: Hash32, address: Address) -> None:
        # Decoded nodes by hash, shared by reads and updates; content-addressed, so never stale.
        self._decoded: dict[bytes, Any] = {}
        super().__init__(db, storage_root, address)

    def _node(self, digest: bytes) -> Any:
        node = self._decoded.get(digest)
        if node is None:
            encoded = self._trie.nodes.get(Hash32(digest))
            node = self._decoded[digest] = rlp.decode(encoded if encoded is not None else self._db[digest])
        return node

    def _missing(self, exc: KeyError, hashed_slot: bytes) -> MissingStorageTrieNode:
        return MissingStorageTrieNode(exc.args[0], self._trie.starting_root, Hash32(hashed_slot), Nibbles(()),
                                      self._address)

    def __getitem__(self, key: bytes) -> bytes:
        hashed_slot = self._decode_key(key)
        pending = self._trie.pending
        if hashed_slot in pending:
            return pending[hashed_slot] or b""
        try:
            return trie_get(self._trie.root, hashed_slot, self._node)
        except KeyError as exc:
            raise self._missing(exc, hashed_slot) from exc

    def _exists(self, key: bytes) -> bool:
        return self[key] != b""

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._trie.pending[self._decode_key(key)] = value or None
        self._dirty = True

    def __delitem__(self, key: bytes) -> None:
        self._trie.pending[self._decode_key(key)] = None
        self._dirty = True

    @property
    def has_changed_root(self) -> bool:
        return self._dirty

    def get_changed_root(self) -> Hash32:
        if not self._dirty:
            raise ValidationError("Asked for changed root when no writes have been made")
        trie = self._trie
        if trie.pending:
            give_way()  # the miner computing a block's state root: requests being served first
            try:
                root = updated_trie_root(trie.root, trie.pending, self._node, trie.nodes)
            except KeyError as exc:
                raise self._missing(exc, b"") from exc
            self._trie = trie._replace(root=root, pending={})
            self._reachable(root)  # now, while the miner holds no lock; commit_to writes them
        return self._trie.root

    def _reachable(self, root: Hash32) -> dict[Hash32, bytes]:
        """The new nodes ``root`` refers to, worked out once per root: the miner asks for the root
        while executing a block without the chain's lock, and writes the nodes later, with it held."""
        nodes = self._trie.nodes
        if self._kept is None or self._kept[0] != root or self._kept[1] is not nodes:
            give_way()
            self._kept = (root, nodes, new_nodes_reachable(root, nodes))
        return self._kept[2]

    def _initialize_to_root_hash(self, root_hash: Hash32) -> None:
        self._trie = _Trie(root_hash, root_hash, {}, {})
        self._dirty = False
        self._wiped = []
        self._kept = None

    def commit_to(self, db: DatabaseAPI) -> None:
        """Write the new nodes the root refers to (HexaryTrie's pruning would have dropped the others)."""
        if not self._dirty:
            raise ValidationError("It is invalid to commit an account's storage if it has no pending changes.")
        root = self.get_changed_root()
        for digest, encoded in self._reachable(root).items():
            db[digest] = encoded
        self._initialize_to_root_hash(root)

    def new_trie(self) -> int:
        self._wiped.append(self._trie)
        self._trie = _Trie(BLANK_ROOT_HASH, BLANK_ROOT_HASH, {}, {})
        self._dirty = False
        return len(self._wiped)

    def rollback_trie(self, trie_index: int) -> None:
        if trie_index >= len(self._wiped):
            raise ValidationError(
                f"Trying to roll back a delete to index {trie_index}, but there are "
                f"only {len(self._wiped)} indices available."
            )
        self._trie = self._wiped[trie_index]
        # StorageLookup's new_trie() made a write trie for the trie it saved: it counts as changed.
        self._dirty = True
        del self._wiped[trie_index:]


class BatchedAccountStorageDB(AccountStorageDB):
    """``AccountStorageDB`` over a :class:`BatchedStorageLookup` (the same pipes, see py-evm's ``__init__``)."""

    def __init__(self, db: AtomicDatabaseAPI, storage_root: Hash32, address: Address) -> None:
        self._address = address
        self._storage_lookup = BatchedStorageLookup(db, storage_root, address)
        self._storage_cache = CacheDB(self._storage_lookup)
        self._locked_changes = JournalDB(self._storage_cache)
        self._journal_storage = JournalDB(self._locked_changes)
        self._accessed_slots: set[int] = set()
        self._clear_count = JournalDB(MemoryDB({CLEAR_COUNT_KEY_NAME: to_bytes(0)}))


class BatchedAccountDB(AccountDB):
    """``AccountDB`` whose accounts' storage is a :class:`BatchedAccountStorageDB`."""

    def _get_address_store(self, address: Address) -> AccountStorageDatabaseAPI:
        store = self._account_stores.get(address)
        if store is None:
            store = BatchedAccountStorageDB(self._raw_store_db, self._get_storage_root(address), address)
            self._account_stores[address] = store
        return store
