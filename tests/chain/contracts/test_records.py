"""Records and state views as JSON, and the values a caller builds (Registration, TradeTerms)."""
from __future__ import annotations

import pytest

from dataseal.chain.contracts.records import (
    TRADE,
    USAGE,
    ZERO32,
    AdminChange,
    AssetRecord,
    AssetStatus,
    Lineage,
    Registration,
    Settlement,
    TradeRecord,
    TradeTerms,
    TxRef,
)
from dataseal.errors import InvalidInput

TX = TxRef("0x" + "11" * 32, 5, 0, "0x" + "22" * 32)
TX_JSON = {"tx_hash": "0x" + "11" * 32, "block_number": 5, "log_index": 0, "block_hash": "0x" + "22" * 32}
SELLER, BUYER = "0x" + "aa" * 20, "0x" + "bb" * 20


def test_a_record_as_json_has_hex_bytes_and_enum_names() -> None:
    record = AssetRecord(1, SELLER, b"\x01" * 32, b"\x02" * 32, 3, 1, AssetStatus.Active, 0,
                         Lineage.None_, 1700000000, 1800000000, TX)
    assert record.to_json() == {
        "asset_id": 1, "registrant": SELLER, "content_root": "0x" + "01" * 32,
        "manifest_hash": "0x" + "02" * 32, "rights_type": 3, "classification": 1, "status": "Active",
        "parent_id": 0, "lineage": "None", "registered_at": 1700000000, "valid_until": 1800000000, "tx": TX_JSON,
    }


def test_a_trade_record_names_its_settlement_and_the_grant_it_made() -> None:
    trade = TradeRecord(2, 1, SELLER, BUYER, 100, b"C" * 32, b"\x03" * 32, Settlement.Licence, 7, SELLER, TX)
    data = trade.to_json()
    assert (data["settlement"], data["grant_id"]) == ("Licence", 7)
    assert list(data)[6:9] == ["settlement_hash", "settlement", "grant_id"]


def test_statuses_and_settlements_have_the_solidity_numbers() -> None:
    assert [s.name for s in AssetStatus] == ["None_", "Pending", "Active", "Suspended", "Cancelled", "Rejected",
                                             "Disputed", "Expired"]
    assert (AssetStatus.Disputed, AssetStatus.Expired) == (6, 7)
    assert (Settlement.None_, Settlement.Transfer, Settlement.Licence) == (0, 1, 2)
    assert (USAGE, TRADE) == (1, 2)


def test_an_admin_change_fills_what_its_event_lacks_with_zeros() -> None:
    change = AdminChange("transfer_canceled", "0x" + "00" * 20, 0, 0, TX)
    assert change.to_json()["kind"] == "transfer_canceled" and change.to_json()["new_delay"] == 0


def test_a_registration_is_the_contract_tuple() -> None:
    registration = Registration(b"\x01" * 32, "0x" + "02" * 32, 3, 1, parent_id=4, valid_until=99)
    assert registration.as_tuple() == (b"\x01" * 32, b"\x02" * 32, 3, 1, 4, 99)
    assert Registration(b"\x01" * 32, b"\x02" * 32, 1, 0).as_tuple()[4:] == (0, 0)  # no parent, no expiry
    with pytest.raises(InvalidInput, match="content_root must be 32 bytes"):
        Registration(b"\x01" * 31, b"\x02" * 32, 1, 0).as_tuple()


def test_trade_terms_of_a_transfer_carry_no_licence_terms() -> None:
    terms = TradeTerms.transfer(1, SELLER, BUYER, 100, b"C" * 32, b"\x03" * 32)
    assert terms.settlement is Settlement.Transfer
    assert terms.as_tuple() == (1, "0xaAaAaAaaAaAaAaaAaAAAAAAAAaaaAaAaAaaAaaAa",
                                "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB",
                                100, b"C" * 32, b"\x03" * 32, 1, ZERO32, 0, 0, 0, ZERO32)


def test_trade_terms_of_a_licence_carry_the_grant_terms() -> None:
    terms = TradeTerms.licence(1, SELLER, BUYER, 100, b"C" * 32, b"\x03" * 32, b"\x04" * 32, 10, 20, 30,
                               scope_root=b"\x05" * 32)
    assert terms.settlement is Settlement.Licence
    assert terms.as_tuple()[6:] == (2, b"\x04" * 32, 10, 20, 30, b"\x05" * 32)
    with pytest.raises(InvalidInput, match="buyer 'nobody' is not an address"):
        TradeTerms.transfer(1, SELLER, "nobody", 1, b"C" * 32, b"\x03" * 32).as_tuple()
