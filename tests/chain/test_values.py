"""Checked conversions of what a caller gives: addresses and 32-byte hashes."""
from __future__ import annotations

import pytest
from eth_utils import to_checksum_address

from dataseal.chain.contracts.records import GrantTerms
from dataseal.chain.values import address, bytes32
from dataseal.errors import ErrorKind, InvalidInput


def test_bytes32_takes_bytes_or_hex_and_refuses_the_rest() -> None:
    assert bytes32(b"\x07" * 32, "root") == b"\x07" * 32
    assert bytes32("0x" + "07" * 32, "root") == bytes32("07" * 32, "root") == b"\x07" * 32
    with pytest.raises(InvalidInput, match="root must be 32 bytes .*got 3") as short:
        bytes32(b"abc", "root")
    assert short.value.kind is ErrorKind.INVALID_INPUT
    with pytest.raises(InvalidInput, match="root '0xnothex' is not hex"):
        bytes32("0xnothex", "root")


def test_address_is_checksummed_or_refused() -> None:
    assert address("0x" + "ab" * 20, "buyer") == to_checksum_address("0x" + "ab" * 20)
    with pytest.raises(InvalidInput, match="buyer 'alice' is not an address") as bad:
        address("alice", "buyer")
    assert bad.value.hint == "give 0x followed by 40 hex digits"
    with pytest.raises(InvalidInput, match="grantee 'bob' is not an address"):
        GrantTerms(1, "bob", b"\0" * 32, 0, 1, 1).as_tuple()


def test_what_the_chain_layer_is_handed_wrong_is_invalid_input() -> None:
    from web3 import EthereumTesterProvider, Web3

    from dataseal.chain.connection import Connection
    from dataseal.chain.contracts.asset_registry import AssetRegistryClient
    from dataseal.chain.contracts.events import EventDecoder
    from dataseal.chain.contracts.revert import decode_revert

    w3 = Web3(EthereumTesterProvider())
    with pytest.raises(InvalidInput, match="the account '0x123' is not an address"):
        Connection(w3, "test").balance("0x123")
    with pytest.raises(InvalidInput, match="the contract 'x' is not an address"):
        Connection(w3, "test").code_size("x")
    with pytest.raises(InvalidInput, match="the AssetRegistry address '0x123' is not an address"):
        AssetRegistryClient(w3, "0x123")
    with pytest.raises(InvalidInput, match="the AssetRegistry address 'zz' is not an address"):
        EventDecoder({"AssetRegistry": "zz"})
    with pytest.raises(InvalidInput, match="revert data '0xzz' is not hex"):
        decode_revert("0xzz")


def test_a_number_or_nothing_is_not_a_hash() -> None:
    for value in (32, None, 1.5):
        with pytest.raises(InvalidInput, match=f"root is {type(value).__name__}, not a hash"):
            bytes32(value, "root")  # type: ignore[arg-type]
