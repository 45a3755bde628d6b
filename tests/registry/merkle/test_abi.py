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
    with pytest.raises(LeafEncodingError) as caught:
        StandardMerkleTree.of([["0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", 1]], ["address", "uint256"])
    assert caught.value.message.endswith("bad EIP-55 checksum; expected 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed "
                                         "(or all lowercase)")
    assert caught.value.hint == "give a 0x-prefixed 20-byte hex address, with its EIP-55 checksum or all lowercase"


INTEGER = "give an integer that fits {}, as a number or a decimal or 0x-hex string"


@pytest.mark.parametrize(
    ("values", "encoding", "message", "hint"),
    [
        ([], PAIR, "cannot build a Merkle tree of no values", "give at least one value"),
        ([[1]], PAIR, "values[0] has 1 items, but the leaf encoding (uint256,bytes32) needs 2",
         "give one item per type, in the order of the leaf encoding"),
        (["0x01"], PAIR, "values[0] '0x01' is not a list",
         "give a leaf value as a list with one item per type of (uint256,bytes32)"),
        ([[-1, b"\0" * 32]], PAIR, "values[0][0] = -1 does not fit uint256: out of range", INTEGER.format("uint256")),
        ([(2, b"\0" * 32), (1 << 256, b"\0" * 32)], PAIR, "values[1][0] = 1157920892373161954235709850086879",
         INTEGER.format("uint256")),
        ([(True, b"\0" * 32)], PAIR, "values[0][0] = True does not fit uint256: expected an integer, got a boolean",
         INTEGER.format("uint256")),
        ([[1 << 256, b"\0" * 32]], PAIR, "does not fit uint256: out of range", INTEGER.format("uint256")),
        ([[True, b"\0" * 32]], PAIR, "expected an integer, got a boolean", INTEGER.format("uint256")),
        ([["12x", b"\0" * 32]], PAIR, "expected an integer or a decimal/0x-hex string", INTEGER.format("uint256")),
        ([[1, b"\0" * 31]], PAIR, "does not fit bytes32: 31 bytes; expected exactly 32",
         "give exactly 32 bytes, as bytes or a 0x-prefixed hex string"),
        ([[1, "0x123"]], PAIR, "even number of digits", "give exactly 32 bytes, as bytes or a 0x-prefixed hex string"),
        ([["0x123"]], ["bytes"], "even number of digits",
         "give bytes, or a 0x-prefixed hex string with an even number of digits"),
        ([[128]], ["int8"], "does not fit int8: out of range [-128, 127]", INTEGER.format("int8")),
        ([[1]], ["bool"], "expected true or false", "give a boolean (true or false), not a string or a number"),
        ([["0x1234"]], ["address"], "expected a 0x-prefixed 20-byte hex address",
         "give a 0x-prefixed 20-byte hex address, with its EIP-55 checksum or all lowercase"),
        ([[[1, 2, 3]]], ["uint8[2]"], "3 items; expected 2", "give a list of 2 items of uint8"),
        ([["abc"]], ["uint8[]"], "expected a list", "give a list of any number of items of uint8"),
        ([[5]], ["string"], "expected a string", "give Unicode text (a string without lone surrogates)"),
        ([["\ud800"]], ["string"], "not encodable as UTF-8", "give Unicode text (a string without lone surrogates)"),
    ],
)
def test_values_that_do_not_fit_the_encoding_are_refused(
    values: list[Any], encoding: list[str], message: str, hint: str
) -> None:
    with pytest.raises(LeafEncodingError) as caught:
        StandardMerkleTree.of(values, encoding)
    assert message in caught.value.message
    assert caught.value.hint == hint


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
        ("", "leaf encoding type '' is empty"),
    ],
)
def test_malformed_abi_types_are_refused(text: str, message: str) -> None:
    with pytest.raises(LeafEncodingError) as caught:
        parse_type(text)
    assert message in caught.value.message
    assert caught.value.hint == (
        "use types such as 'uint256', 'bytes32', 'address', 'string', 'bytes32[]' or '(uint256,address)'"
    )


def test_a_type_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(LeafEncodingError) as caught:
        parse_type(256)  # type: ignore[arg-type]
    assert caught.value.message == "leaf encoding type 256 is not a string, so not an ABI type such as 'uint256'"
    assert caught.value.hint == "write each type of the leaf encoding as a string"


def test_leaf_encoding_must_be_a_non_empty_list() -> None:
    for encoding in ("uint256", []):
        with pytest.raises(LeafEncodingError) as caught:
            StandardMerkleTree.of([[1]], encoding)
        assert caught.value.message == f"leaf encoding {encoding!r} is not a non-empty list of ABI types"
        assert caught.value.hint == "give a list of ABI type strings, e.g. ['uint256', 'bytes32']"


def test_canonical_type_names() -> None:
    assert parse_type("uint").canonical == "uint256"
    assert parse_type("tuple(int, bytes4)[2][]").canonical == "(int256,bytes4)[2][]"
