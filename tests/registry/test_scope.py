"""Scope trees: the root of a grant's covered indexes, scope files, multiproofs that touched indexes are inside."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataseal.registry.merkle import StandardMerkleTree
from dataseal.registry.receipts import build_receipt
from dataseal.registry.scope import (
    MAX_SCOPE_INDEXES,
    IndexTree,
    ScopeError,
    ScopeProof,
    compute_scope_root,
    format_ranges,
    parse_indexes,
    parse_ranges,
    read_scope_file,
    verify_indexes_in_scope,
    verify_receipt_in_scope,
    verify_scope_proof,
)

ZERO = "0x" + "00" * 32


def test_the_scope_root_is_openzeppelins_standard_tree_over_uint256_indexes() -> None:
    indexes = [0, 1, 2, 7, 1000, 2**255]
    tree = StandardMerkleTree.of([[i] for i in indexes], ["uint256"])
    assert compute_scope_root(indexes) == tree.root
    assert compute_scope_root(reversed(indexes)) == tree.root  # a set: order does not matter
    mine = IndexTree.of(indexes)
    proof = mine.multiproof([7, 0])
    theirs = tree.get_multiproof([indexes.index(i) for i in proof.indexes])
    assert [p.hex() for p in theirs.proof] == [p[2:] for p in proof.proof]
    assert theirs.proof_flags == proof.proof_flags


@settings(max_examples=40, deadline=None)
@given(st.sets(st.integers(0, 10_000), min_size=1, max_size=60), st.data())
def test_a_multiproof_of_any_subset_verifies(scope: set[int], data: st.DataObject) -> None:
    tree = IndexTree.of(scope)
    touched = data.draw(st.sets(st.sampled_from(sorted(scope)), min_size=1))
    proof = tree.multiproof(touched)
    verify_indexes_in_scope(sorted(touched), tree.root, proof)
    again = ScopeProof.from_json_data(json.loads(json.dumps(proof.to_json_data())))
    assert again == proof


def test_indexes_outside_the_scope_are_refused_by_name() -> None:
    tree = IndexTree.of(range(10))
    with pytest.raises(ScopeError, match=r"2 of the 3 indexes are outside the scope 0x[0-9a-f]{64} \(first: 10-11\)"):
        tree.multiproof([3, 10, 11])
    other = IndexTree.of(range(11))
    forged = other.multiproof([10]).model_copy(update={"scope_root": tree.root_hex})
    with pytest.raises(ScopeError, match="does not lead to the scope root: expected"):
        verify_scope_proof(tree.root, forged)
    with pytest.raises(ScopeError, match="is for scope 0x"):
        verify_scope_proof(tree.root, other.multiproof([10]))


def test_a_proof_of_other_indexes_than_those_touched_is_refused() -> None:
    tree = IndexTree.of(range(10))
    proof = tree.multiproof([1, 2])
    with pytest.raises(ScopeError, match="it leaves out 3"):
        verify_indexes_in_scope([1, 2, 3], tree.root, proof)
    with pytest.raises(ScopeError, match="it proves 2, which were not touched"):
        verify_indexes_in_scope([1], tree.root, proof)
    with pytest.raises(ScopeError, match="no proof that the touched indexes are inside"):
        verify_indexes_in_scope([1], tree.root, None)
    verify_indexes_in_scope([1], ZERO, None)  # the whole asset: nothing to prove
    with pytest.raises(ScopeError, match="is not a 32-byte hash"):
        verify_indexes_in_scope([1], "0x1234", proof)


def test_a_tampered_proof_is_malformed_or_wrong() -> None:
    tree = IndexTree.of(range(16))
    proof = tree.multiproof([1, 5])
    with pytest.raises(ScopeError, match="malformed"):
        verify_scope_proof(tree.root, proof.model_copy(update={"proof": proof.proof[:-1]}))
    flipped = proof.proof[0][:-1] + ("0" if proof.proof[0][-1] != "0" else "1")
    with pytest.raises(ScopeError, match="does not lead to the scope root"):
        verify_scope_proof(tree.root, proof.model_copy(update={"proof": (flipped, *proof.proof[1:])}))
    with pytest.raises(ScopeError, match="scope proof is invalid: proofFlags"):
        ScopeProof.from_json_data({**proof.to_json_data(), "proofFlags": ["yes"]})


def test_receipts_in_scope() -> None:
    scope = IndexTree.of(parse_indexes(["0-99"]))
    common = dict(chain_id=1, grant_registry="0x" + "11" * 20, grant_id=1, job_id="j", purpose="p", unit="row",
                  started_at=0, ended_at=1, units=2, result_hash="0x" + "ab" * 32)
    receipt = build_receipt(indexes=[3, 4], **common)  # type: ignore[arg-type]
    verify_receipt_in_scope(receipt, scope.root, scope.multiproof([3, 4]))
    outside = build_receipt(indexes=[3, 100], **common)  # type: ignore[arg-type]
    with pytest.raises(ScopeError, match="it leaves out 100"):
        verify_receipt_in_scope(outside, scope.root, scope.multiproof([3]))
    hidden = build_receipt(indexes=[3, 4], disclose_indexes=False, **common)  # type: ignore[arg-type]
    with pytest.raises(ScopeError, match="gives only the root 0x[0-9a-f]{64} of the 2 indexes it touched"):
        verify_receipt_in_scope(hidden, scope.root, scope.multiproof([3, 4]))
    verify_receipt_in_scope(hidden, bytes(32), None)


def test_scope_files_in_json_and_text(tmp_path: Path) -> None:
    text = tmp_path / "scope.txt"
    text.write_text("# rows of 2024\n0-4, 10\n\n7 # and one more\n")
    assert read_scope_file(text) == (0, 1, 2, 3, 4, 7, 10)
    listed = tmp_path / "scope.json"
    listed.write_text(json.dumps([10, "0-4", 7, 3]))
    assert read_scope_file(listed) == (0, 1, 2, 3, 4, 7, 10)
    assert format_ranges([0, 1, 2, 3, 4, 7, 10, 11]) == "0-4,7,10-11"
    assert parse_ranges("0-4,7,10-11") == (0, 1, 2, 3, 4, 7, 10, 11)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("", "lists no index"),
        ("# nothing\n", "lists no index"),
        ("1, two\n", "item 2 is 'two', neither an index"),
        ("5-3\n", "the range '5-3', whose last index is below its first"),
        ("-1\n", "neither an index"),
        ("[1, -2]", "item 2 is -2, a negative index"),
        ("[1, true]", "item 2 is True, not an index"),
        ("[1, 2", "is not valid JSON"),
        (f"0-{MAX_SCOPE_INDEXES}\n", f"covers more than {MAX_SCOPE_INDEXES} indexes"),
    ],
)
def test_bad_scope_files_are_refused_with_what_is_wrong(tmp_path: Path, content: str, needle: str) -> None:
    path = tmp_path / "scope.txt"
    path.write_text(content)
    with pytest.raises(ScopeError) as caught:
        read_scope_file(path)
    assert needle in caught.value.message


def test_a_missing_scope_file(tmp_path: Path) -> None:
    with pytest.raises(ScopeError, match="does not exist"):
        read_scope_file(tmp_path / "nope.txt")
    with pytest.raises(ScopeError, match="is not a regular file"):
        read_scope_file(tmp_path)
