"""The ABI layer: leaf values normalised from Python and JSON forms, type strings, and every value or type refused."""

from __future__ import annotations

from typing import Any

import pytest

from dataseal.registry.merkle import LeafEncodingError, StandardMerkleTree, keccak256, parse_type, to_checksum_address

PAIR = ["uint256", "bytes32"]


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
