"""The pure verify functions: expected and computed roots, proofs of the wrong shape."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode as abi_encode

from dataseal.registry.merkle import (
    ProofError,
    StandardMerkleTree,
    compute_leaf_hash,
    compute_root,
    compute_values_hash,
    keccak256,
    verify_proof,
)

PAIR = ["uint256", "bytes32"]


def pair_values(n: int) -> list[tuple[int, bytes]]:
    return [(i, keccak256(i.to_bytes(8, "big"))) for i in range(n)]


def test_verify_proof_reports_expected_and_computed_root() -> None:
    tree = StandardMerkleTree.of(pair_values(6), PAIR)
    leaf = tree.leaf_hash(pair_values(6)[2])
    proof = tree.get_proof(2)
    verify_proof(tree.root, leaf, proof)
    assert compute_root(leaf, proof) == tree.root
    wrong = tree.get_proof(3)
    computed = compute_root(leaf, wrong)
    with pytest.raises(ProofError) as caught:
        verify_proof(tree.root_hex, "0x" + leaf.hex(), ["0x" + p.hex() for p in wrong])
    message = caught.value.message
    assert f"expected {tree.root_hex}, computed 0x{computed.hex()}" in message
    assert message.endswith("the value or the proof was altered, or the proof belongs to another tree")
    assert caught.value.hint == "get a fresh proof from the sealed data"


@pytest.mark.parametrize(
    ("proof", "message"),
    [
        (["0x" + "ab" * 31], "proof[0] is '0x" + "ab" * 31 + "'; expected a 32-byte hash"),
        (["0xzz" + "ab" * 31], "expected a 32-byte hash as 0x followed by 64 hex digits"),
        (["0x" + "ab" * 31 + "  "], "expected a 32-byte hash as 0x followed by 64 hex digits"),
        ([b"\0" * 33], "proof[0] is 33 bytes; expected a 32-byte hash"),
        ("0x" + "ab" * 32, "proof is str; expected a list of 32-byte hashes"),
    ],
)
def test_proofs_of_the_wrong_shape_are_refused(proof: Any, message: str) -> None:
    with pytest.raises(ProofError) as caught:
        verify_proof(b"\0" * 32, b"\1" * 32, proof)
    assert message in caught.value.message
    assert caught.value.hint == (
        "give the proof's sibling hashes as a list, from the leaf up" if isinstance(proof, str)
        else "check that the hash was copied whole"
    )


def test_values_hash_is_the_abi_encoding_hashed_once_and_the_leaf_hashes_it_again() -> None:
    """What AssetRegistry.verifyBatchMember takes (v2): the contract hashes the leaf from it itself."""
    value = pair_values(3)[1]
    values_hash = compute_values_hash(PAIR, value)
    assert values_hash == keccak256(abi_encode(PAIR, list(value)))
    tree = StandardMerkleTree.of(pair_values(3), PAIR)
    assert keccak256(values_hash) == compute_leaf_hash(PAIR, value) == tree.leaf_hash(value)
