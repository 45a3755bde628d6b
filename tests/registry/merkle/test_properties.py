"""Property-based tests (hypothesis): round trips, and the fast paths against plain references.

The references here are deliberately naive: a per-node recursion of the library's algorithm and
eth_abi's encoder. The fast code (flat node buffer built in blocks, our ABI encoder, the
(uint256, bytes32) fast path) must agree with them on every input hypothesis finds.
"""

from __future__ import annotations

import json
from typing import Any

import eth_abi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataseal.registry.merkle import (
    ProofError,
    StandardMerkleTree,
    compute_leaf_hash,
    core,
    keccak256,
    standard_node_hash,
    verify_multiproof,
    verify_proof,
)
from dataseal.registry.merkle.abi import encode_sequence, normalize_values, parse_encoding
from dataseal.registry.merkle.digests import IndexedDigestTreeBuilder

PAIR = ["uint256", "bytes32"]
pair_values = st.lists(
    st.tuples(st.integers(0, 2**256 - 1), st.binary(min_size=32, max_size=32)), min_size=1, max_size=70
)


def reference_root(values: list[tuple[int, bytes]], sort_leaves: bool) -> bytes:
    """The library's makeMerkleTree, one Python object per node (slow and obvious)."""
    leaves = [keccak256(keccak256(i.to_bytes(32, "big") + d)) for i, d in values]
    if sort_leaves:
        leaves.sort()
    tree: list[bytes] = [b""] * (2 * len(leaves) - 1)
    for i, leaf in enumerate(leaves):
        tree[len(tree) - 1 - i] = leaf
    for i in range(len(tree) - 1 - len(leaves), -1, -1):
        tree[i] = standard_node_hash(tree[2 * i + 1], tree[2 * i + 2])
    return tree[0]


@settings(max_examples=60, deadline=None)
@given(values=pair_values, sort_leaves=st.booleans(), data=st.data())
def test_every_proof_and_multiproof_verifies_and_dumps_round_trip(
    values: list[tuple[int, bytes]], sort_leaves: bool, data: st.DataObject
) -> None:
    tree = StandardMerkleTree.of(values, PAIR, sort_leaves=sort_leaves)
    assert tree.root == reference_root(values, sort_leaves)
    for i, value in enumerate(values):
        verify_proof(tree.root, compute_leaf_hash(PAIR, value), tree.get_proof(i))
    subset = data.draw(st.sets(st.integers(0, len(values) - 1), min_size=1))
    verify_multiproof(tree.root, PAIR, tree.get_multiproof(sorted(subset)))
    loaded = StandardMerkleTree.loads(json.dumps(tree.dump()))
    assert loaded.root == tree.root and loaded.dump() == tree.dump()


@settings(max_examples=40, deadline=None)
@given(values=pair_values.filter(lambda v: len(v) >= 2), data=st.data())
def test_a_proof_does_not_prove_another_value(values: list[tuple[int, bytes]], data: st.DataObject) -> None:
    tree = StandardMerkleTree.of(values, PAIR)
    i = data.draw(st.integers(0, len(values) - 1))
    j = data.draw(st.integers(0, len(values) - 1).filter(lambda j: values[j] != values[i]))
    with pytest.raises(ProofError, match="does not lead to the expected root"):
        verify_proof(tree.root, compute_leaf_hash(PAIR, values[j]), tree.get_proof(i))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=pair_values, block=st.integers(1, 9))
def test_block_boundaries_do_not_change_the_tree(
    values: list[tuple[int, bytes]], block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inner nodes are hashed in blocks and the streamed builder flushes in blocks: tiny blocks, same tree."""
    monkeypatch.setattr(core, "_BLOCK", block)
    monkeypatch.setattr("dataseal.registry.merkle.digests._FLUSH", 32 * block)
    monkeypatch.setattr("dataseal.registry.merkle.digests._READ", 32 * block)
    assert StandardMerkleTree.of(values, PAIR, sort_leaves=False).root == reference_root(values, sort_leaves=False)
    assert StandardMerkleTree.of(values, PAIR, sort_leaves=True).root == reference_root(values, sort_leaves=True)
    indexed = [(i, digest) for i, (_, digest) in enumerate(values)]  # the streamed tree numbers its leaves
    with IndexedDigestTreeBuilder() as builder:
        for _, digest in indexed:
            builder.add(digest)
        with builder.finish() as tree:
            assert tree.root == reference_root(indexed, sort_leaves=False)
            assert [d for d in tree.iter_digests()] == [d for _, d in values]


# ---------------------------------------------------------------------- ABI encoding against eth_abi

ELEMENTARY: dict[str, st.SearchStrategy[Any]] = {
    "uint8": st.integers(0, 255),
    "uint256": st.integers(0, 2**256 - 1),
    "int64": st.integers(-(2**63), 2**63 - 1),
    "int256": st.integers(-(2**255), 2**255 - 1),
    "bool": st.booleans(),
    "address": st.binary(min_size=20, max_size=20),
    "bytes4": st.binary(min_size=4, max_size=4),
    "bytes32": st.binary(min_size=32, max_size=32),
    "bytes": st.binary(max_size=70),
    "string": st.text(max_size=40),
}


@st.composite
def typed_value(draw: st.DrawFn, depth: int = 0) -> tuple[str, Any]:
    choice = draw(
        st.sampled_from(["elementary"] * 4 + (["dynamic-array", "static-array", "tuple"] if depth < 2 else []))
    )
    if choice == "elementary":
        name = draw(st.sampled_from(sorted(ELEMENTARY)))
        return name, draw(ELEMENTARY[name])
    if choice == "tuple":
        parts = draw(st.lists(typed_value(depth + 1), min_size=1, max_size=3))
        return "(" + ",".join(t for t, _ in parts) + ")", tuple(v for _, v in parts)
    item_type, _ = draw(typed_value(depth + 1))
    strategy = _strategy_for(item_type)
    if choice == "dynamic-array":
        return item_type + "[]", draw(st.lists(strategy, max_size=3))
    size = draw(st.integers(1, 3))
    return f"{item_type}[{size}]", draw(st.lists(strategy, min_size=size, max_size=size))


def _strategy_for(type_text: str) -> st.SearchStrategy[Any]:
    """Values of an already drawn type (elementary or tuple/array of elementary)."""
    parsed = parse_encoding([type_text])[0]
    return _strategy(parsed)


def _strategy(t: Any) -> st.SearchStrategy[Any]:
    if t.kind == "tuple":
        return st.tuples(*[_strategy(c) for c in t.components])
    if t.kind == "array":
        item = _strategy(t.item)
        return st.lists(item, min_size=t.size, max_size=t.size) if t.size else st.lists(item, max_size=3)
    return ELEMENTARY[t.canonical if t.canonical in ELEMENTARY else t.canonical]


def _for_eth_abi(t: Any, value: Any) -> Any:
    if t.kind == "address":
        return value  # checksummed string
    if t.kind in ("tuple",):
        return tuple(_for_eth_abi(c, v) for c, v in zip(t.components, value, strict=True))
    if t.kind == "array":
        return [_for_eth_abi(t.item, v) for v in value]
    return value


@settings(max_examples=150, deadline=None)
@given(items=st.lists(typed_value(), min_size=1, max_size=4))
def test_abi_encoding_matches_eth_abi(items: list[tuple[str, Any]]) -> None:
    types = parse_encoding([t for t, _ in items])
    normalized = normalize_values(types, [v for _, v in items])
    ours = encode_sequence(types, normalized)
    theirs = eth_abi.encode(
        [t.canonical for t in types], [_for_eth_abi(t, v) for t, v in zip(types, normalized, strict=True)]
    )
    assert ours == theirs
    # and the JSON form normalises back to the same value
    json_form = [t.to_json(v) for t, v in zip(types, normalized, strict=True)]
    assert normalize_values(types, json.loads(json.dumps(json_form))) == normalized
