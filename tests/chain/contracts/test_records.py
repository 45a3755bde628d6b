"""Records and state views as JSON, and the checked conversions of what a caller gives."""
from __future__ import annotations

import pytest
from eth_utils import to_checksum_address

from dataseal.chain.contracts.records import (
    AssetRecord,
    AssetStatus,
    GrantTerms,
    Lineage,
    TxRef,
    address,
    bytes32,
)
from dataseal.errors import ErrorKind, InvalidInput

TX = TxRef("0x" + "11" * 32, 5, 0, "0x" + "22" * 32)


def test_a_record_as_json_has_hex_bytes_and_enum_names() -> None:
    record = AssetRecord(1, "0x" + "aa" * 20, b"\x01" * 32, b"\x02" * 32, 3, 1, AssetStatus.Active, 0,
                         Lineage.None_, 1700000000, TX)
    assert record.to_json() == {
        "asset_id": 1, "registrant": "0x" + "aa" * 20, "content_root": "0x" + "01" * 32,
        "manifest_hash": "0x" + "02" * 32, "rights_type": 3, "classification": 1, "status": "Active",
        "parent_id": 0, "lineage": "None", "registered_at": 1700000000,
        "tx": {"tx_hash": "0x" + "11" * 32, "block_number": 5, "log_index": 0, "block_hash": "0x" + "22" * 32},
    }


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
