"""Trails recomputed from eth_getLogs (ChainTrailSource) over a real history on py-evm: which events belong
to an asset and to an account, their order, positions, times and summaries, and paging by cursor."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dataseal.chain.contracts.events import EVENTS
from dataseal.chain.contracts.records import AssetStatus, AssetStatusChange, DomainChange, NonceUse, TxRef
from dataseal.registry.audit import (
    AccountSubject,
    AssetSubject,
    AuditInputError,
    ChainTrailSource,
    Cursor,
    TrailEntry,
    UnknownAsset,
    collect_trail,
    parse_cursor,
    parse_subject,
)
from dataseal.registry.audit.entries import _NAMES, compute_parties, event_name, record_args
from tests.registry.audit.conftest import History

ASSET_EVENTS = [
    "Transfer", "AssetRegistered",  # the mint, then the registration
    "AssetStatusChanged", "ObjectionFiled",  # the buyer objects: Disputed
    "AssetStatusChanged",  # the reviewer dismisses it: Pending
    "AssetRegistered", "AssetRegistered",  # the version, the derived asset
    "GrantCreated", "UsageRecorded", "UsageRecorded", "UsageRecorded", "UsageBatchRecorded",
    "GrantCreated", "GrantRevoked",
    "GrantCreated", "TradeRecorded", "UsageRecorded",  # the licence sale and its grant's usage
    "Transfer", "TradeRecorded",  # the sale of the asset itself
]


def source(history: History) -> ChainTrailSource:
    return ChainTrailSource(history.chain.w3, history.chain.deployment)


def test_an_assets_trail_is_its_whole_history_in_chain_order(history: History) -> None:
    trail = collect_trail(source(history), AssetSubject(history.asset))
    assert [e.event for e in trail] == ASSET_EVENTS
    assert [e.cursor for e in trail] == sorted(e.cursor for e in trail)
    # usage reaches its asset through the grant; children through their parent
    assert {e.asset_id for e in trail if e.event != "AssetRegistered"} == {history.asset}
    assert [e.asset_id for e in trail if e.event == "AssetRegistered"] == [history.asset, history.version,
                                                                           history.derived]
    assert [e.args["sequence"] for e in trail if e.grant_id == history.grant and "sequence" in e.args] == [1, 2, 3, 4]
    # nothing of asset 4 and its grant
    assert all(e.grant_id != history.other_grant and e.asset_id != history.other_asset for e in trail)
    trades = [(e.trade_id, e.grant_id, e.args["settlement"]) for e in trail if e.event == "TradeRecorded"]
    assert trades == [(history.licence_trade, history.licence_grant, "Licence"), (history.transfer_trade, None,
                                                                                   "Transfer")]


def test_entries_carry_position_time_and_a_summary(history: History) -> None:
    chain = history.chain
    trail = collect_trail(source(history), AssetSubject(history.asset))
    for entry in trail:
        block = chain.w3.eth.get_block(entry.block_number)
        assert entry.block_hash == block["hash"].to_0x_hex()
        assert entry.time == datetime.fromtimestamp(block["timestamp"], UTC)
        receipt = chain.w3.eth.get_transaction_receipt(entry.tx_hash)  # type: ignore[arg-type]
        assert any(int(log["logIndex"]) == entry.log_index for log in receipt["logs"])
    usage = next(e for e in trail if e.event == "UsageRecorded")
    assert usage.summary == f"grant {history.grant}: 5 units used by {chain.user.address[:6]}…" \
                            f"{chain.user.address[-4:]}, sequence 1"
    assert usage.contract == "TransactionLedger" and usage.parties[0].role == "recorder"
    version = next(e for e in trail if e.asset_id == history.version)
    assert version.summary.endswith(f"(Pending, a version of asset {history.asset})")
    sale = trail[-1]
    assert sale.summary.startswith(f"trade {history.transfer_trade}: asset {history.asset} sold by ")
    assert sale.summary.endswith(", Transfer, for 90.00 CNY (9,000 in the smallest unit)")  # the price is in fen
    assert {(p.role, p.address) for p in sale.parties} == {
        ("seller", chain.owner.address), ("buyer", chain.buyer.address), ("recorder", chain.owner.address)}
    assert sale.addresses == (chain.buyer.address, chain.owner.address)  # each once, in role order


def test_an_accounts_trail_is_every_event_naming_it(history: History) -> None:
    user = history.chain.user.address
    trail = collect_trail(source(history), AccountSubject(user))
    assert [e.event for e in trail] == ["Transfer", "AssetRegistered", "GrantCreated", "UsageRecorded",
                                        "UsageRecorded", "UsageRecorded", "UsageBatchRecorded", "GrantCreated",
                                        "UsageRecorded"]
    assert all(e.names(user) and e.names(user.lower()) for e in trail)
    assert [e.asset_id for e in trail if e.event == "UsageRecorded"] == [history.asset] * 3 + [history.other_asset]
    reviewer = collect_trail(source(history), AccountSubject(history.chain.reviewer.address))
    assert [e.event for e in reviewer] == ["RoleGranted", "AssetStatusChanged"]
    assert reviewer[0].summary.startswith("REVIEWER_ROLE granted to ")
    nobody = collect_trail(source(history), AccountSubject("0x" + "12" * 20))
    assert nobody == []


def test_pages_follow_the_cursor_to_the_end(history: History) -> None:
    chain_source = source(history)
    whole = collect_trail(chain_source, AssetSubject(history.asset))
    pages, cursor = [], None
    while True:
        page = chain_source.asset_trail(history.asset, after=cursor, limit=4)
        pages.append(page)
        if page.next_cursor is None:
            break
        assert page.next_cursor == page.entries[-1].cursor and len(page.entries) == 4
        cursor = page.next_cursor
    assert [e for p in pages for e in p.entries] == whole
    assert len(pages) == (len(whole) + 3) // 4
    assert chain_source.asset_trail(history.asset, after=whole[-1].cursor).entries == ()
    # a cursor between two entries of one block starts after the first
    middle = chain_source.asset_trail(history.asset, after=Cursor(whole[0].block_number, 0), limit=1)
    assert middle.entries == (whole[1],) and middle.next_cursor == whole[1].cursor
    data = middle.to_json_data()
    assert data["subject"] == {"asset_id": history.asset} and data["next"] == str(whole[1].cursor)


def test_an_unregistered_asset_is_an_error_naming_the_deployment(history: History) -> None:
    with pytest.raises(UnknownAsset) as unknown:
        source(history).asset_trail(99)
    assert f"asset 99 is not registered on chain {history.chain.w3.eth.chain_id}" in unknown.value.message
    assert history.chain.deployment.asset_registry in unknown.value.message
    assert "check the asset id" in unknown.value.hint


def test_a_page_size_out_of_range_is_refused(history: History) -> None:
    for limit in (0, 100_001):
        with pytest.raises(AuditInputError) as refused:
            source(history).account_trail(history.chain.user.address, limit=limit)
        assert f"not {limit}" in refused.value.message and refused.value.options == ("limit",)


def test_subjects_and_cursors_parse_or_say_what_to_give() -> None:
    assert parse_subject("7") == AssetSubject(7)
    address = "0x" + "ab" * 20
    assert parse_subject(address) == AccountSubject("0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB")
    for bad, words in (("0", "asset ids start at 1"), ("asset7", "neither an asset id nor an address"),
                       ("0x1234", "neither an asset id nor an address"), ("-3", "neither")):
        with pytest.raises(AuditInputError) as refused:
            parse_subject(bad)
        assert words in refused.value.message
    assert parse_cursor("1042:3") == Cursor(1042, 3) and str(Cursor(1042, 3)) == "1042:3"
    for bad in ("1042", "a:b", "1:-2", ""):
        with pytest.raises(AuditInputError) as refused:
            parse_cursor(bad)
        assert "is not BLOCK:LOG" in refused.value.message and refused.value.options == ("after",)
    assert parse_cursor(f"{2**63 - 1}:0") == Cursor(2**63 - 1, 0)
    with pytest.raises(AuditInputError, match=r"is beyond any block or log index \(at most 9223372036854775807\)"):
        parse_cursor(f"{2**63}:0")  # the index's columns are 64-bit: it was an internal error


def test_every_event_the_contracts_declare_has_a_trail_name() -> None:
    """The decoder's table (from the ABIs) and the trail's names agree: no event is left unnamed."""
    tx = TxRef("0x" + "00" * 32, 1, 0, "0x" + "00" * 32)
    named = set(_NAMES.values()) | {("AssetRegistry", "RoleGranted"), ("AssetRegistry", "RoleRevoked")}
    named |= {("AssetRegistry", e) for e in ("DefaultAdminTransferScheduled", "DefaultAdminTransferCanceled",
                                             "DefaultAdminDelayChangeScheduled", "DefaultAdminDelayChangeCanceled")}
    named |= {(c, e) for c in ("AssetRegistry", "GrantRegistry", "TransactionLedger")
              for e in ("EIP712DomainChanged", "NonceUsed")}
    assert named == set(EVENTS)
    assert event_name(NonceUse("GrantRegistry", "0x" + "11" * 20, 3, tx)) == ("GrantRegistry", "NonceUsed")
    assert event_name(DomainChange("TransactionLedger", tx)) == ("TransactionLedger", "EIP712DomainChanged")


def test_parties_leave_out_the_zero_address_and_order_by_role() -> None:
    tx = TxRef("0x" + "00" * 32, 1, 0, "0x" + "00" * 32)
    change = AssetStatusChange(1, AssetStatus.Active, AssetStatus.Suspended, "0x" + "11" * 20, b"\0" * 32, tx)
    assert [p.role for p in compute_parties(record_args(change))] == ["by"]
    assert compute_parties({"to_address": "0x" + "22" * 20, "from_address": "0x" + "00" * 20}) == (
        compute_parties({"to_address": "0x" + "22" * 20}))
    assert TrailEntry.__dataclass_params__.frozen is True  # type: ignore[attr-defined]
