"""Streamed (indexed digest) trees: the unsorted standard tree, built without an object per leaf."""

from __future__ import annotations

import io
import json

import pytest

from dataseal.errors import ErrorKind
from dataseal.registry.merkle import LeafEncodingError, ProofError, StandardMerkleTree, keccak256
from dataseal.registry.merkle.digests import IndexedDigestTreeBuilder

PAIR = ["uint256", "bytes32"]


def pair_values(n: int) -> list[tuple[int, bytes]]:
    return [(i, keccak256(i.to_bytes(8, "big"))) for i in range(n)]


@pytest.mark.parametrize("n", [1, 2, 3, 7, 64, 129])
def test_streamed_digest_tree_is_the_unsorted_standard_tree(n: int) -> None:
    values = pair_values(n)
    reference = StandardMerkleTree.of(values, PAIR, sort_leaves=False)
    with IndexedDigestTreeBuilder() as builder:
        for i, (_, digest) in enumerate(values):
            if i % 2:
                builder.add(digest)
            else:
                builder.add_many(digest)
        tree = builder.finish()
    with tree:
        assert tree.root == reference.root
        assert tree.nodes == reference.nodes
        assert [tree.get_proof(i) for i in range(n)] == [reference.get_proof(i) for i in range(n)]
        assert tree.at(n - 1) == reference.at(n - 1)
        out = io.StringIO()
        tree.write_dump(out)
        assert json.loads(out.getvalue()) == reference.dump()
        with pytest.raises(ProofError) as caught:
            tree.get_proof(n)
        assert caught.value.message == f"leaf index {n} is out of range: the tree has {n} leaves"
        assert caught.value.hint == f"give an index from 0 to {n - 1}"
        assert caught.value.kind is ErrorKind.NOT_FOUND
        with pytest.raises(ProofError) as caught:
            tree.digest("0")  # type: ignore[arg-type]
        assert caught.value.message == "leaf index '0' is not an integer"
        assert caught.value.kind is ErrorKind.INVALID_INPUT


def test_an_empty_builder_refuses_to_finish() -> None:
    with IndexedDigestTreeBuilder() as builder, pytest.raises(LeafEncodingError) as caught:
        builder.finish()
    assert str(caught.value) == "cannot build a Merkle tree of no digests: add at least one digest first"


def test_digests_of_the_wrong_size_are_refused() -> None:
    with IndexedDigestTreeBuilder() as builder:
        with pytest.raises(LeafEncodingError) as caught:
            builder.add(b"\0" * 31)
        assert str(caught.value) == "a digest is 32 bytes, got 31: give the 32-byte hash of the data"
        with pytest.raises(LeafEncodingError) as caught:
            builder.add_many(b"\0" * 65)
        assert caught.value.message == "65 bytes of digests are not a whole number of 32-byte values"
        assert caught.value.hint == "give whole 32-byte digests, concatenated"
        assert len(builder) == 0
