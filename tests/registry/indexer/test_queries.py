"""The queries the services read the index with: trails of an asset and of an account in chain order, paged by
(block number, log index) cursors; an asset, its grants, a grant's usage; refusals of bad pages."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from eth_utils import keccak

from dataseal.chain.contracts.records import Registration
from dataseal.errors import InvalidInput
from dataseal.registry.db import Database
from dataseal.registry.indexer import Indexer
from dataseal.registry.indexer.queries import (
    MAX_LIMIT,
    account_events,
    asset_events,
    asset_public,
    compute_status_at,
    cursor_of,
    get_asset,
    get_asset_public,
    get_indexer_state,
    grants_of_asset,
    usage_of_grant,
)
from tests.conftest import Chain
from tests.registry.indexer.conftest import Story, tell_story


@pytest.fixture
def indexed(pyevm: Chain, database: Database) -> Story:
    story = tell_story(pyevm)
    Indexer(database, pyevm.w3, pyevm.deployment).sync()
    return story


def test_an_assets_trail_in_chain_order_page_by_page(pyevm: Chain, database: Database, indexed: Story) -> None:
    with database.session() as s:
        whole = asset_events(s, indexed.asset, limit=MAX_LIMIT)
        assert [e.event for e in whole] == [
            "Transfer", "AssetRegistered", "GrantCreated", "UsageRecorded", "UsageRecorded", "UsageRecorded",
            "UsageBatchRecorded", "GrantRevoked", "GrantCreated", "TradeRecorded"]
        keys = [(e.block_number, e.log_index) for e in whole]
        assert keys == sorted(keys)
        paged, after = [], None
        while True:
            page = asset_events(s, indexed.asset, after=after, limit=3)
            if not page:
                break
            assert len(page) <= 3
            paged += page
            after = cursor_of(page[-1])
        assert [e.id for e in paged] == [e.id for e in whole]
        assert asset_events(s, 999) == []


def test_an_accounts_trail_names_each_event_once(pyevm: Chain, database: Database, indexed: Story) -> None:
    buyer = pyevm.buyer.address
    with database.session() as s:
        trail = account_events(s, buyer.lower())  # any spelling of the address
        assert [e.event for e in trail] == ["GrantCreated", "TradeRecorded", "Transfer", "TradeRecorded"]
        first_two = account_events(s, buyer, limit=2)
        rest = account_events(s, buyer, after=cursor_of(first_two[-1]))
        assert [e.id for e in first_two + list(rest)] == [e.id for e in trail]
        owner_trail = account_events(s, pyevm.owner.address, limit=MAX_LIMIT)
        assert len({e.id for e in owner_trail}) == len(owner_trail)  # the trade names the owner twice: once here
        with pytest.raises(InvalidInput) as bad:
            account_events(s, "0x1234")
        assert "the account '0x1234' is not an address" in bad.value.message


def test_an_asset_its_grants_and_their_usage(pyevm: Chain, database: Database, indexed: Story) -> None:
    with database.session() as s:
        asset = get_asset(s, indexed.asset)
        assert asset is not None and asset.owner == pyevm.owner.address
        assert get_asset(s, 999) is None
        assert [g.grant_id for g in grants_of_asset(s, indexed.asset)] == [indexed.grant, indexed.licence]
        assert grants_of_asset(s, indexed.sold) == []
        usage = usage_of_grant(s, indexed.grant)
        assert [u.sequence for u in usage] == [1, 2, 3, 4]
        assert [u.sequence for u in usage_of_grant(s, indexed.grant, after=cursor_of(usage[1]), limit=1)] == [3]
        state = get_indexer_state(s)
        assert state is not None and state.last_block == pyevm.w3.eth.block_number


@pytest.mark.parametrize("limit", [0, MAX_LIMIT + 1, True])
def test_a_page_size_out_of_range_is_refused(database: Database, limit: int) -> None:
    with database.session() as s, pytest.raises(InvalidInput) as refused:
        asset_events(s, 1, limit=limit)
    assert f"a page holds 1 to {MAX_LIMIT} rows, got a limit of {limit!r}" in refused.value.message


@pytest.mark.parametrize("after", [(1,), (-1, 0), ("1", 0), [1, 2]])
def test_a_malformed_cursor_is_refused(database: Database, after: object) -> None:
    with database.session() as s, pytest.raises(InvalidInput) as refused:
        usage_of_grant(s, 1, after=after)  # type: ignore[arg-type]
    assert "a page cursor is (block number, log index)" in refused.value.message
    assert "last row of the previous page" in refused.value.hint


def test_the_status_is_the_chains_at_the_time_asked(pyevm_review: Chain, database: Database) -> None:
    """A notice that ends and a validity that runs out emit nothing: the row keeps Pending, the public view gives
    what AssetRegistry.statusOf answers at the same time."""
    chain = pyevm_review
    notice = chain.deployment.config.notice_period
    owner = chain.as_(chain.owner)
    start = chain.now()
    expiring = owner.registry.register(Registration(keccak(text="expiring"), keccak(text="m1"), 1, 0,
                                                    valid_until=start + notice + 10 * 86_400)).asset_id
    lasting = owner.registry.register(Registration(keccak(text="lasting"), keccak(text="m2"), 1, 0)).asset_id
    disputed = owner.registry.register(Registration(keccak(text="disputed"), keccak(text="m3"), 1, 0)).asset_id
    chain.as_(chain.user).registry.object(disputed, keccak(text="my earlier copy"))
    indexer = Indexer(database, chain.w3, chain.deployment)
    seen = []
    for step in (0, notice + 1, 10 * 86_400):
        if step:
            chain.travel(step)
        indexer.sync()
        now = chain.now()
        with database.session() as s:
            for asset_id in (expiring, lasting, disputed):
                row = get_asset(s, asset_id)
                assert row is not None
                view = get_asset_public(s, asset_id, notice_period=notice, now=now)
                assert view is not None
                on_chain = chain.reader.registry.status_of(asset_id).name
                assert view.status == on_chain == compute_status_at(row, notice, datetime.fromtimestamp(now, UTC))
                assert asset_public(row, notice, now).status == on_chain
                seen.append((asset_id, row.status, view.status))
    assert seen == [
        (expiring, "Pending", "Pending"), (lasting, "Pending", "Pending"), (disputed, "Disputed", "Disputed"),
        (expiring, "Pending", "Active"), (lasting, "Pending", "Active"), (disputed, "Disputed", "Disputed"),
        (expiring, "Pending", "Expired"), (lasting, "Pending", "Active"), (disputed, "Disputed", "Disputed"),
    ]
    with database.session() as s:
        assert get_asset_public(s, 999, notice_period=notice, now=chain.now()) is None
        row = get_asset(s, expiring)
        assert row is not None
        with pytest.raises(InvalidInput, match="now 2026-01-01T00:00:00 has no time zone"):
            compute_status_at(row, notice, datetime(2026, 1, 1))
        with pytest.raises(InvalidInput, match="now -1 is not a time"):
            compute_status_at(row, notice, -1)
        with pytest.raises(InvalidInput, match="a notice period is a whole number of seconds from 0, got -5"):
            compute_status_at(row, -5, chain.now())
