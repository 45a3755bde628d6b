"""StandardMerkleTree, the ABI layer and the pure verify functions: behaviour and every error path."""

from __future__ import annotations

import copy
import io
import json
from typing import Any

import pytest

from dataseal.registry.merkle import (
    LeafEncodingError,
    ProofError,
    StandardMerkleTree,
    TreeDumpError,
    compute_root,
    keccak256,
    parse_type,
    to_checksum_address,
    verify_proof,
)
from dataseal.registry.merkle.digests import IndexedDigestTreeBuilder
from tests.registry.conftest import load_vectors

CASES = {case["name"]: case for case in load_vectors()["cases"]}
PAIR = ["uint256", "bytes32"]


def pair_values(n: int) -> list[tuple[int, bytes]]:
    return [(i, keccak256(i.to_bytes(8, "big"))) for i in range(n)]


# ---------------------------------------------------------------------- hashing


def test_keccak256_is_ethereum_keccak_not_nist_sha3() -> None:
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


# ---------------------------------------------------------------------- values and types


def test_values_are_normalised_from_python_and_json_forms_alike() -> None:
    digest = keccak256(b"x")
    from_python = StandardMerkleTree.of([(5, digest)], PAIR)
    from_json = StandardMerkleTree.of([["5", "0x" + digest.hex()]], PAIR)
    from_hex_number = StandardMerkleTree.of([["0x5", "0x" + digest.hex().upper()]], PAIR)
    assert from_python.root == from_json.root == from_hex_number.root
    assert from_json.at(0) == (5, digest)


def test_addresses_are_rendered_eip55_and_bad_checksums_refused() -> None:
    raw = bytes.fromhex("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")
    assert to_checksum_address(raw) == "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55 test vector
    tree = StandardMerkleTree.of([["0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", 1]], ["address", "uint256"])
    assert tree.dump()["values"][0]["value"] == ["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "1"]
    with pytest.raises(
        LeafEncodingError, match="bad EIP-55 checksum; expected 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    ):
        StandardMerkleTree.of([["0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", 1]], ["address", "uint256"])


@pytest.mark.parametrize(
    ("values", "encoding", "message"),
    [
        ([], PAIR, "cannot build a Merkle tree of no values"),
        ([[1]], PAIR, "values[0] has 1 items; the leaf encoding (uint256,bytes32) needs 2"),
        (["0x01"], PAIR, "values[0] '0x01' is not a list"),
        ([[-1, b"\0" * 32]], PAIR, "values[0][0] = -1 does not fit uint256: out of range"),
        ([(2, b"\0" * 32), (1 << 256, b"\0" * 32)], PAIR, "values[1][0] = 1157920892373161954235709850086879"),
        ([(True, b"\0" * 32)], PAIR, "values[0][0] = True does not fit uint256: expected an integer, got a boolean"),
        ([[1 << 256, b"\0" * 32]], PAIR, "does not fit uint256: out of range"),
        ([[True, b"\0" * 32]], PAIR, "expected an integer, got a boolean"),
        ([["12x", b"\0" * 32]], PAIR, "expected an integer or a decimal/0x-hex string"),
        ([[1, b"\0" * 31]], PAIR, "does not fit bytes32: 31 bytes; expected exactly 32"),
        ([[1, "0x123"]], PAIR, "even number of digits"),
        ([[128]], ["int8"], "does not fit int8: out of range [-128, 127]"),
        ([[1]], ["bool"], "expected true or false"),
        ([["0x1234"]], ["address"], "expected a 0x-prefixed 20-byte hex address"),
        ([[[1, 2, 3]]], ["uint8[2]"], "3 items; expected 2"),
        ([["abc"]], ["uint8[]"], "expected a list"),
        ([[5]], ["string"], "expected a string"),
    ],
)
def test_values_that_do_not_fit_the_encoding_are_refused(values: list[Any], encoding: list[str], message: str) -> None:
    with pytest.raises(LeafEncodingError) as caught:
        StandardMerkleTree.of(values, encoding)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("uint7", "size must be a multiple of 8"),
        ("bytes33", "size must be 1 to 32"),
        ("float", "unknown type 'float'"),
        ("(uint256", "unclosed '('"),
        ("uint256[0]", "is not a positive integer"),
        ("uint256[", "unclosed '['"),
        ("()", "empty tuple"),
        ("uint256)", "unexpected ')'"),
    ],
)
def test_malformed_abi_types_are_refused(text: str, message: str) -> None:
    with pytest.raises(LeafEncodingError) as caught:
        parse_type(text)
    assert message in str(caught.value)
    assert "use types such as 'uint256'" in str(caught.value)


def test_leaf_encoding_must_be_a_non_empty_list() -> None:
    with pytest.raises(LeafEncodingError, match="not a non-empty list of ABI types"):
        StandardMerkleTree.of([[1]], "uint256")
    with pytest.raises(LeafEncodingError, match="not a non-empty list of ABI types"):
        StandardMerkleTree.of([[1]], [])


def test_canonical_type_names() -> None:
    assert parse_type("uint").canonical == "uint256"
    assert parse_type("tuple(int, bytes4)[2][]").canonical == "(int256,bytes4)[2][]"


# ---------------------------------------------------------------------- proofs


def test_proof_lookups_and_errors() -> None:
    tree = StandardMerkleTree.of(pair_values(5), PAIR)
    value = pair_values(5)[3]
    assert tree.index_of(value) == 3
    assert tree.verify(3, tree.get_proof(3))
    assert not tree.verify(3, tree.get_proof(2))
    with pytest.raises(ProofError, match=r"value index 5 is out of range: the tree has 5 values \(indices 0 to 4\)"):
        tree.get_proof(5)
    with pytest.raises(ProofError, match="is not in the tree with root " + tree.root_hex):
        tree.index_of((99, value[1]))
    with pytest.raises(ProofError, match="cannot prove leaf node .* twice"):
        tree.get_multiproof([1, 1])


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
    message = str(caught.value)
    assert f"expected {tree.root_hex}, computed 0x{computed.hex()}" in message
    assert "get a fresh proof" in message


@pytest.mark.parametrize(
    ("proof", "message"),
    [
        (["0x" + "ab" * 31], "proof[0] is '0x" + "ab" * 31 + "'; expected a 32-byte hash"),
        (["0xzz" + "ab" * 31], "expected a 32-byte hash as 0x followed by 64 hex digits"),
        ([b"\0" * 33], "proof[0] is 33 bytes; expected a 32-byte hash"),
        ("0x" + "ab" * 32, "proof is str; expected a list of 32-byte hashes"),
    ],
)
def test_proofs_of_the_wrong_shape_are_refused(proof: Any, message: str) -> None:
    with pytest.raises(ProofError) as caught:
        verify_proof(b"\0" * 32, b"\1" * 32, proof)
    assert message in str(caught.value)


# ---------------------------------------------------------------------- dumps


def good_dump() -> dict[str, Any]:
    return copy.deepcopy(CASES["pair-5"]["dump"])


def mutate(change: Any) -> dict[str, Any]:
    dump = good_dump()
    change(dump)
    return dump


@pytest.mark.parametrize(
    ("dump", "message"),
    [
        (
            mutate(lambda d: d.update(format="standard-v2")),
            "unknown tree dump format 'standard-v2'; expected 'standard-v1'",
        ),
        (mutate(lambda d: d.pop("values")), "tree dump has no 'values'; the dump is incomplete"),
        (mutate(lambda d: d["tree"].pop()), "tree dump has 8 nodes; a tree of n leaves has 2n - 1 nodes"),
        (mutate(lambda d: d["values"].pop()), "tree dump has 4 values for 5 leaves"),
        (
            mutate(lambda d: d["tree"].__setitem__(0, "0x" + "00" * 32)),
            "tree[0] is not the hash of its children tree[1] and tree[2]",
        ),
        (mutate(lambda d: d["tree"].__setitem__(8, "0x" + "00" * 32)), "does not match its leaf: tree[8] is 0x0000"),
        (mutate(lambda d: d["values"][0]["value"].__setitem__(0, "77")), "values[0] does not match its leaf"),
        (
            mutate(lambda d: d["values"][1].__setitem__("treeIndex", d["values"][0]["treeIndex"])),
            "is used by another value",
        ),
        (mutate(lambda d: d["values"][0].__setitem__("treeIndex", 0)), "expected a leaf node index from 4 to 8"),
        (mutate(lambda d: d["tree"].__setitem__(3, "0x1234")), "tree[3] is '0x1234'; expected a 32-byte hash"),
        (mutate(lambda d: d["values"][2].pop("treeIndex")), "values[2] is not an object with 'value' and 'treeIndex'"),
        (mutate(lambda d: d.update(leafEncoding=["uint256", "bytes33"])), "size must be 1 to 32"),
        ([1, 2], "a tree dump is a JSON object; got list"),
    ],
)
def test_corrupt_dumps_are_refused_with_what_is_wrong(dump: Any, message: str) -> None:
    with pytest.raises((TreeDumpError, LeafEncodingError)) as caught:
        StandardMerkleTree.load(dump)
    assert message in str(caught.value)


def test_a_truncated_dump_is_refused_as_truncated() -> None:
    text = json.dumps(good_dump())
    with pytest.raises(TreeDumpError, match="not valid JSON .* truncated or corrupted"):
        StandardMerkleTree.loads(text[: len(text) // 2])


def test_validate_catches_a_tree_corrupted_after_loading() -> None:
    tree = StandardMerkleTree.load(good_dump())
    tree.validate()
    tree._nodes[0] ^= 1  # noqa: SLF001 - simulate memory corruption
    with pytest.raises(TreeDumpError, match=r"tree\[0\] is not the hash of its children"):
        tree.validate()


# ---------------------------------------------------------------------- streamed (indexed digest) trees


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
        with pytest.raises(ProofError, match=f"leaf index {n} is out of range"):
            tree.get_proof(n)


def test_an_empty_builder_refuses_to_finish() -> None:
    with IndexedDigestTreeBuilder() as builder, pytest.raises(ValueError, match="at least one leaf"):
        builder.finish()
