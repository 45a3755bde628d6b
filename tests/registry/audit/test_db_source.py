"""Trails served from the registry's index (DbTrailSource over the indexer's chain_event rows) equal the trails
recomputed from eth_getLogs; a deleted or altered row is reported by the completeness check."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from dataseal.registry.audit import (
    AccountSubject,
    AssetSubject,
    ChainTrailSource,
    UnknownAsset,
    collect_trail,
    compute_trail_differences,
)
from dataseal.registry.audit.db_source import DbTrailSource
from dataseal.registry.db import Database
from dataseal.registry.db.models.chain import ChainEvent
from dataseal.registry.indexer import Indexer
from tests.registry.audit.conftest import History


@pytest.fixture
def indexed(history: History, tmp_path: Path) -> Iterator[Database]:
    db = Database.open(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    try:
        Indexer(db, history.chain.w3, history.chain.deployment).sync()
        yield db
    finally:
        db.close()


def chain_source(history: History) -> ChainTrailSource:
    return ChainTrailSource(history.chain.w3, history.chain.deployment)


def test_the_indexed_trails_are_the_chains(indexed: Database, history: History) -> None:
    chain = history.chain
    for subject in (AssetSubject(history.asset), AssetSubject(history.other_asset), AccountSubject(chain.user.address),
                    AccountSubject(chain.buyer.address), AccountSubject(chain.reviewer.address)):
        recorded = collect_trail(DbTrailSource(indexed), subject)
        recomputed = collect_trail(chain_source(history), subject)
        assert recorded == recomputed and recorded, subject
        paged = collect_trail(DbTrailSource(indexed), subject, page=3)
        assert paged == recorded
        differences = compute_trail_differences(recorded, recomputed, subject=str(subject))
        assert differences.ok


def test_a_deleted_row_is_missing_and_an_altered_one_changed(indexed: Database, history: History) -> None:
    subject = AssetSubject(history.asset)
    truth = collect_trail(chain_source(history), subject)
    second = next(e for e in truth if e.event == "UsageRecorded" and e.args["sequence"] == 2)
    trade = next(e for e in truth if e.event == "TradeRecorded")
    with indexed.session() as session:
        session.execute(delete(ChainEvent).where(ChainEvent.tx_hash == second.tx_hash,  # type: ignore[arg-type]
                                                 ChainEvent.log_index == second.log_index))  # type: ignore[arg-type]
        session.execute(update(ChainEvent).where(ChainEvent.tx_hash == trade.tx_hash,  # type: ignore[arg-type]
                                                 ChainEvent.log_index == trade.log_index)  # type: ignore[arg-type]
                        .values(args={**trade.args, "price": 1}))
    recorded = collect_trail(DbTrailSource(indexed), subject)
    differences = compute_trail_differences(recorded, truth, subject=str(subject))
    assert [e.cursor for e in differences.missing] == [second.cursor]
    assert [(c.recorded.cursor, c.fields) for c in differences.changed] == [(trade.cursor, ("summary", "args"))]
    assert [(g.grant_id, g.expected, g.found) for g in differences.gaps] == [(history.grant, 2, 3)]
    assert not differences.extra


def test_an_asset_the_index_lacks(indexed: Database) -> None:
    with pytest.raises(UnknownAsset) as unknown:
        DbTrailSource(indexed).asset_trail(99)
    assert "asset 99 is not in the registry's index" in unknown.value.message
    assert "index the chain first" in unknown.value.hint
