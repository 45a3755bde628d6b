"""The one-pass trie builder and updater against py-trie's insert-one-by-one HexaryTrie."""
from __future__ import annotations

import random

import pytest
import rlp
from eth.constants import BLANK_ROOT_HASH
from eth.db.backends.memory import MemoryDB
from eth.db.batch import BatchDB
from eth.db.trie import _make_trie_root_and_nodes
from hypothesis import given, settings
from hypothesis import strategies as st
from trie import HexaryTrie

from dataseal.chain.embedded.errors import EmbeddedChainError
from dataseal.chain.embedded.tries import new_nodes_reachable, ordered_trie_root_and_nodes, trie_get, updated_trie_root
from dataseal.errors import ErrorKind


def pyevm_trie(values: tuple[bytes, ...]) -> tuple[bytes, dict[bytes, bytes]]:
    return _make_trie_root_and_nodes.__wrapped__(values)  # type: ignore[attr-defined]


@pytest.mark.parametrize("count", [*range(0, 20), 127, 128, 129, 255, 256, 257, 600])
@pytest.mark.parametrize("sizes", [(1, 4), (1, 40), (30, 300)])
def test_same_root_and_nodes_as_pyevm(count: int, sizes: tuple[int, int]) -> None:
    rng = random.Random(count * 1000 + sizes[1])
    values = tuple(rng.randbytes(rng.randint(*sizes)) for _ in range(count))

    root, nodes = ordered_trie_root_and_nodes(values)

    expected_root, expected_nodes = pyevm_trie(values)
    assert root == expected_root
    assert nodes == expected_nodes


def test_empty_trie_is_the_blank_root() -> None:
    assert ordered_trie_root_and_nodes([]) == (BLANK_ROOT_HASH, {})


# ------------------------------------------------------------------ updates of a stored trie


def stored_trie(items: dict[bytes, bytes]) -> tuple[bytes, MemoryDB]:
    """A trie of ``items`` stored in a fresh in-memory database, built by py-trie; its root."""
    db = MemoryDB()
    trie = HexaryTrie(db)
    for key, value in items.items():
        trie[key] = value
    return trie.root_hash, db


def pytrie_updates(root: bytes, db: MemoryDB, batches: list[dict[bytes, bytes | None]]) -> tuple[bytes, dict]:
    """What py-evm's storage does: a pruning HexaryTrie over a read-through batch, one key at a time."""
    batch = BatchDB(db, read_through_deletes=True)
    trie = HexaryTrie(batch, root, prune=True)
    for changes in batches:
        for key, value in changes.items():
            if value is None:
                del trie[key]
            else:
                trie[key] = value
    return trie.root_hash, dict(batch.diff().pending_items())


def batched_updates(root: bytes, db: MemoryDB, batches: list[dict[bytes, bytes | None]]) -> tuple[bytes, dict]:
    nodes: dict[bytes, bytes] = {}

    def get_node(digest: bytes) -> list:
        return rlp.decode(nodes[digest] if digest in nodes else db[digest])

    for changes in batches:
        root = updated_trie_root(root, changes, get_node, nodes)
    return root, new_nodes_reachable(root, nodes)


# Keys sharing long prefixes make deep paths, short leaves embedded in their parents (with short
# values) and extensions that split and re-join; a one-byte tail makes overwrites frequent.
PREFIXES = [b"", b"\x12" * 4, b"\x12" * 8 + b"\x30", b"\x12" * 15, b"\xab" * 31, b"\xab" * 30 + b"\x0f"]
adversarial_keys = st.sampled_from(PREFIXES).flatmap(
    lambda prefix: st.binary(min_size=32 - len(prefix), max_size=32 - len(prefix)).map(lambda tail: prefix + tail))
any_keys = st.one_of(st.binary(min_size=32, max_size=32), adversarial_keys)
values = st.one_of(st.binary(min_size=1, max_size=3), st.binary(min_size=1, max_size=70))


@st.composite
def trie_edits(draw: st.DrawFn, keys: st.SearchStrategy[bytes]) -> tuple[dict, list[dict]]:
    """A starting trie and batches of edits: sets of new keys, overwrites and deletes of present ones."""
    initial = draw(st.dictionaries(keys, values, max_size=40))
    present = set(initial)
    batches = []
    for _ in range(draw(st.integers(1, 3))):
        changes: dict[bytes, bytes | None] = {}
        for _ in range(draw(st.integers(1, 30))):
            if present and draw(st.booleans()):
                key = draw(st.sampled_from(sorted(present)))
            else:
                key = draw(keys)
            value = draw(st.one_of(st.none(), values))
            changes[key] = value
        if draw(st.booleans()):  # sometimes delete everything: down to the blank trie and back
            changes.update((key, None) for key in present if draw(st.booleans()) or len(present) < 3)
        present = {key for key in present | set(changes) if changes.get(key, b"x") is not None}
        batches.append(changes)
    return initial, batches


def check_same_as_pytrie(initial: dict[bytes, bytes], batches: list[dict[bytes, bytes | None]]) -> None:
    root, db = stored_trie(initial)
    expected_root, expected_nodes = pytrie_updates(root, MemoryDB(dict(db.kv_store)), batches)
    new_root, new_nodes = batched_updates(root, db, batches)
    assert new_root == expected_root
    # Nodes already stored may be written again by either (HexaryTrie keeps one if it pruned it
    # before re-creating it): the same bytes under the same key, so the database ends up the same.
    def unstored(nodes: dict) -> dict:
        return {key: value for key, value in nodes.items() if key not in db}

    assert unstored(new_nodes) == unstored(expected_nodes)
    final = dict(initial)
    for changes in batches:
        for key, value in changes.items():
            if value is None:
                final.pop(key, None)
            else:
                final[key] = value
    lookup = {**db.kv_store, **new_nodes}
    for key in {*initial, *final, *(k for changes in batches for k in changes)}:
        assert trie_get(new_root, key, lambda digest: rlp.decode(lookup[digest])) == final.get(key, b"")


@settings(max_examples=400, deadline=None)
@given(trie_edits(st.binary(min_size=32, max_size=32)))
def test_updates_as_pytrie_random_keys(edits: tuple[dict, list[dict]]) -> None:
    check_same_as_pytrie(*edits)


@settings(max_examples=600, deadline=None)
@given(trie_edits(any_keys))
def test_updates_as_pytrie_adversarial_keys(edits: tuple[dict, list[dict]]) -> None:
    check_same_as_pytrie(*edits)


@pytest.mark.parametrize("initial, batches", [
    ({}, [{b"\x01" * 32: b"v"}]),  # into the blank trie
    ({b"\x01" * 32: b"v"}, [{b"\x01" * 32: None}]),  # a single-key trie down to blank
    ({b"\x01" * 32: b"v"}, [{b"\x01" * 32: b"w"}]),  # a single-key trie overwritten
    ({b"\x01" * 32: b"v"}, [{b"\x02" * 32: None}]),  # deleting an absent key
    ({b"\x01" * 32: b"v", b"\x01" * 31 + b"\x02": b"w"}, [{b"\x01" * 32: None}]),  # embedded leaves rejoin
    ({b"\x01" * 32: b"v", b"\x01" * 31 + b"\x02": b"w"}, [{b"\x01" * 31 + b"\x03": b"x"}]),
    ({bytes([i]) * 32: b"v" * 40 for i in range(16)}, [{bytes([i]) * 32: None for i in range(15)}]),
    ({bytes([i]) * 32: b"v" for i in range(16)}, [{bytes([i]) * 32: None for i in range(16)}, {b"\x05" * 32: b"z"}]),
])
def test_updates_as_pytrie_edge_cases(initial: dict[bytes, bytes], batches: list[dict[bytes, bytes | None]]) -> None:
    check_same_as_pytrie(initial, batches)


def test_keys_of_mixed_lengths_are_refused() -> None:
    with pytest.raises(EmbeddedChainError, match="needs keys of one length, got keys of \\[1, 32\\] bytes") as info:
        updated_trie_root(BLANK_ROOT_HASH, {b"a" * 32: b"v", b"b": b"w"}, lambda digest: [], {})
    assert info.value.kind == ErrorKind.INTERNAL
