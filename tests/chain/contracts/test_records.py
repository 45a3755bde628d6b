"""Records and state views as JSON, and the checked conversions of what a caller gives."""
from __future__ import annotations

from dataseal.chain.contracts.records import AssetRecord, AssetStatus, Lineage, TxRef

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


