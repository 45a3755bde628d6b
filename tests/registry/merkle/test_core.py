"""The flat node buffer: the layout of @openzeppelin/merkle-tree, and the shapes it refuses."""

from __future__ import annotations

import pytest

from dataseal.registry.merkle import LeafEncodingError, StandardMerkleTree, core, keccak256


def test_a_buffer_built_from_leaf_hashes_is_the_tree_of_the_library_layout() -> None:
    values = [(i, keccak256(bytes([i]))) for i in range(5)]
    tree = StandardMerkleTree.of(values, ["uint256", "bytes32"], sort_leaves=False)
    leaves = [tree.leaf_hash(value) for value in values]
    nodes = core.build(leaves)
    assert bytes(nodes) == tree.nodes and core.node_at(nodes, 0) == tree.root
    assert core.leaf_tree_index(5, 0) == 8 and core.node_count(5) == 9


def test_no_leaves_and_ragged_leaf_blocks_are_refused() -> None:
    with pytest.raises(LeafEncodingError) as caught:
        core.allocate(0)
    assert str(caught.value) == "cannot build a Merkle tree of no leaves: give at least one leaf"
    nodes = core.allocate(2)
    with pytest.raises(LeafEncodingError) as caught:
        core.place_leaves(nodes, 2, 0, b"\0" * 33)
    assert caught.value.message == "a leaf block of 33 bytes is not a whole number of 32-byte hashes"
    assert caught.value.hint == "give the leaf hashes concatenated, 32 bytes each"
