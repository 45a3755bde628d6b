"""Stored trees: proofs read from the compact file equal core's from the node buffer, and bad files are refused."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataseal.errors import ErrorKind
from dataseal.registry.merkle import ProofError, core, keccak256
from dataseal.registry.merkle.errors import MerkleError, StoredTreeError
from dataseal.registry.merkle.stored import (
    FORMAT_VERSION,
    StoredTree,
    cut_depth,
    stored_size,
    top_count,
    write_stored_tree,
)

HEADER = 64


def leaves_of(n: int, seed: bytes = b"") -> list[bytes]:
    return [keccak256(seed + i.to_bytes(8, "big")) for i in range(n)]


def stored(tmp_path: Path, n: int, seed: bytes = b"") -> tuple[Path, bytearray, list[bytes]]:
    leaves = leaves_of(n, seed)
    nodes = core.build(leaves)
    path = tmp_path / f"tree-{n}.dstree"
    write_stored_tree(path, nodes, n)
    return path, nodes, leaves


def check_every_leaf(path: Path, nodes: bytearray, leaves: list[bytes]) -> None:
    n = len(leaves)
    root = core.node_at(nodes, 0)
    with StoredTree.open(path) as tree:
        assert tree.leaf_count == n and tree.root == root
        for i, leaf in enumerate(leaves):
            proof = tree.proof(i)
            assert proof == core.get_proof(nodes, core.leaf_tree_index(n, i)), f"leaf {i} of {n}"
            assert tree.leaf(i) == leaf
            assert core.process_proof(leaf, proof) == root


# ---------------------------------------------------------------------- proofs and nodes


@pytest.mark.parametrize("n", range(1, 71))
def test_every_proof_of_a_small_tree_equals_cores(tmp_path: Path, n: int) -> None:
    check_every_leaf(*stored(tmp_path, n))


@pytest.mark.parametrize("n", [255, 256, 257, 511, 512, 513, 1000, 4097])
def test_every_proof_of_a_tree_cut_below_its_top_equals_cores(tmp_path: Path, n: int) -> None:
    path, nodes, leaves = stored(tmp_path, n)
    check_every_leaf(path, nodes, leaves)
    with StoredTree.open(path) as tree:
        assert tree.cut_depth == cut_depth(n)
        if n > 512:  # height 10 and more
            assert tree.cut_depth > 0  # the proofs above went through the recomputed subtrees


@pytest.mark.parametrize("n", [1, 2, 7, 300, 1025])
def test_every_node_reads_as_in_the_node_buffer_stored_or_recomputed(tmp_path: Path, n: int) -> None:
    path, nodes, _ = stored(tmp_path, n)
    with StoredTree.open(path) as tree:
        assert [tree.node(t) for t in range(core.node_count(n))] == [
            core.node_at(nodes, t) for t in range(core.node_count(n))
        ]


def test_a_node_below_the_cut_has_at_most_256_leaves_under_it() -> None:
    for n in [2, 255, 256, 257, 1000, 4097, 10_000_000, 2**24, 2**24 + 1]:
        c = cut_depth(n)
        height = (2 * n - 1).bit_length() - 1
        assert 2 ** (height - c - 1) <= 256 or c == 0
        assert c == 0 or 2 ** (height - c) > 256  # and the cut is no deeper than it needs to be


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(min_value=1, max_value=2000), seed=st.binary(max_size=8), data=st.data())
def test_property_a_stored_proof_is_cores_and_leads_to_the_root(tmp_path: Path, n: int, seed: bytes,
                                                                 data: st.DataObject) -> None:
    path, nodes, leaves = stored(tmp_path, n, seed)
    with StoredTree.open(path) as tree:
        for i in data.draw(st.lists(st.integers(min_value=0, max_value=n - 1), min_size=1, max_size=10)):
            proof = tree.proof(i)
            assert proof == core.get_proof(nodes, core.leaf_tree_index(n, i))
            assert core.process_proof(leaves[i], proof) == tree.root == core.node_at(nodes, 0)


# ---------------------------------------------------------------------- the file


@pytest.mark.parametrize("n", [1000, 1024, 1025, 4097, 65_537])
def test_a_stored_tree_takes_at_most_33_bytes_a_leaf_beside_its_header(tmp_path: Path, n: int) -> None:
    path, _, _ = stored(tmp_path, n)
    size = path.stat().st_size
    assert size == stored_size(n, cut_depth(n)) == HEADER + 32 * (top_count(n, cut_depth(n)) + n)
    assert size <= HEADER + 33 * n


def test_writing_replaces_the_file_whole_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path, _, _ = stored(tmp_path, 5)
    nodes = core.build(leaves_of(9, b"other"))
    os.rename(path, tmp_path / "tree.dstree")
    write_stored_tree(tmp_path / "tree.dstree", nodes, 9)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tree.dstree"]
    with StoredTree.open(tmp_path / "tree.dstree") as tree:
        assert tree.leaf_count == 9 and tree.root == core.node_at(nodes, 0)


def test_a_node_buffer_that_is_not_the_leaf_counts_tree_is_refused(tmp_path: Path) -> None:
    nodes = core.build(leaves_of(4))
    with pytest.raises(StoredTreeError) as caught:
        write_stored_tree(tmp_path / "t", nodes, 5)
    assert caught.value.message == "a node buffer of 224 bytes is not a tree of 5 leaves (288 bytes)"
    assert caught.value.hint == "give the node buffer built from these leaves, with their count"
    with pytest.raises(StoredTreeError, match="cannot store a tree of 0 leaves"):
        write_stored_tree(tmp_path / "t", b"", 0)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------- refusals


def refused(path: Path) -> StoredTreeError:
    with pytest.raises(StoredTreeError) as caught:
        StoredTree.open(path)
    assert isinstance(caught.value, MerkleError) and caught.value.hint
    return caught.value


def test_a_file_that_is_not_a_stored_tree_is_refused(tmp_path: Path) -> None:
    (tmp_path / "tree.json").write_text('{"format": "standard-v1"}')
    error = refused(tmp_path / "tree.json")
    assert error.message == f"{tmp_path / 'tree.json'} is not a stored tree: it does not start with b'DSTREE'"
    (tmp_path / "empty").write_bytes(b"")
    assert "is not a stored tree" in refused(tmp_path / "empty").message
    assert "it is not a regular file" in refused(tmp_path).message
    missing = refused(tmp_path / "missing")
    assert missing.kind == ErrorKind.NOT_FOUND and "the file does not exist" in missing.message


def test_a_truncated_stored_tree_is_refused(tmp_path: Path) -> None:
    path, _, _ = stored(tmp_path, 300)
    content = path.read_bytes()
    path.write_bytes(content[:-1])
    assert refused(path).message == (
        f"stored tree {path} is truncated: {len(content) - 1:,} bytes, but a tree of 300 leaves cut at depth "
        f"{cut_depth(300)} takes {len(content):,}"
    )
    path.write_bytes(content[:40])
    assert "shorter than its 64-byte header" in refused(path).message
    path.write_bytes(content + b"\0")
    assert "1 bytes follow its last leaf" in refused(path).message


def test_a_stored_tree_of_another_format_version_is_refused(tmp_path: Path) -> None:
    path, _, _ = stored(tmp_path, 10)
    content = bytearray(path.read_bytes())
    content[6:8] = struct.pack(">H", FORMAT_VERSION + 1)
    path.write_bytes(content)
    error = refused(path)
    assert error.message == f"stored tree {path} is of format version 2; this dataseal reads version 1"


def test_a_corrupted_header_is_refused(tmp_path: Path) -> None:
    path, _, _ = stored(tmp_path, 10)
    content = path.read_bytes()
    flipped = bytearray(content)
    flipped[HEADER - 1] ^= 1  # the last byte of the root in the header
    path.write_bytes(flipped)
    assert "its header names root" in refused(path).message
    wrong_count = bytearray(content)
    wrong_count[8:16] = struct.pack(">Q", 11)
    path.write_bytes(wrong_count)
    assert "is truncated" in refused(path).message
    no_leaves = bytearray(content)
    no_leaves[8:16] = struct.pack(">Q", 0)
    path.write_bytes(no_leaves)
    assert "its header says it has no leaves" in refused(path).message
    deep_cut = bytearray(content)
    deep_cut[16:18] = struct.pack(">H", 9)
    path.write_bytes(deep_cut)
    assert "cut depth 9 is below the bottom of a tree of 10 leaves (height 4)" in refused(path).message


def test_a_corrupted_leaf_changes_the_proofs_so_they_no_longer_reach_the_root(tmp_path: Path) -> None:
    path, nodes, leaves = stored(tmp_path, 600)
    content = bytearray(path.read_bytes())
    content[-32 * 600] ^= 1  # leaf 0
    path.write_bytes(content)
    with StoredTree.open(path) as tree:  # the top is intact, so the file opens; leaf 1's proof holds leaf 0
        assert tree.leaf(0) != leaves[0]
        assert core.process_proof(leaves[1], tree.proof(1)) != tree.root


def test_an_index_out_of_range_is_refused_with_the_trees_size(tmp_path: Path) -> None:
    path, _, _ = stored(tmp_path, 3)
    with StoredTree.open(path) as tree:
        for call in (tree.proof, tree.leaf):
            with pytest.raises(ProofError) as caught:
                call(3)
            assert caught.value.message == "leaf index 3 is out of range: the tree has 3 leaves"
            assert caught.value.hint == "give an index from 0 to 2" and caught.value.kind == ErrorKind.NOT_FOUND
            with pytest.raises(ProofError, match="leaf index -1 is out of range"):
                call(-1)
            with pytest.raises(ProofError, match="leaf index True is not an integer"):
                call(True)
        with pytest.raises(ProofError, match="node index 5 is out of range: the tree has 5 nodes"):
            tree.node(5)
    with pytest.raises(StoredTreeError, match="is closed: open it again"):
        tree.proof(0)
