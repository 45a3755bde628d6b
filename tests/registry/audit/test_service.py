"""The audit service over a Registry: the index brought up to date, then read (trails, encumbrances, usage), and
checked against the chain's logs over the blocks it holds; read as it is without a node."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from eth_utils import keccak

from dataseal.chain.connection import connect
from dataseal.chain.contracts.deployment import save_deployment
from dataseal.registry.audit import AssetSubject, ChainTrailSource, UnknownAsset, collect_trail
from dataseal.registry.audit.service import (
    Audit,
    IndexEmpty,
    IndexOfAnotherDeployment,
    audit_page,
    compute_audit_differences,
    trail_source,
)
from dataseal.registry.context import Context
from dataseal.registry.db import Database
from dataseal.registry.db.models.chain import IndexerState
from dataseal.registry.db.models.receipts import GrantPurposeRecord
from dataseal.registry.registry import Registry
from dataseal.registry.settings import Settings
from tests.conftest import Chain
from tests.registry.audit.conftest import History


def open_registry(chain: Chain, folder: Path, *, confirmations: int = 0, database_url: str | None = None) -> Registry:
    folder.mkdir(parents=True, exist_ok=True)
    save_deployment(folder, chain.deployment)
    settings = Settings(data_dir=folder, confirmations=confirmations, database_url=database_url)
    return Registry(settings, context=Context(settings, connect(chain.w3, name="the test chain")))


@pytest.fixture
def registry(history: History, tmp_path: Path, database_url: str) -> Iterator[Registry]:
    """A registry on the history's chain whose database is a fresh SQLite file, then a fresh PostgreSQL database."""
    with open_registry(history.chain, tmp_path / "data", database_url=database_url) as reg:
        yield reg


def test_the_index_is_synced_then_read(registry: Registry, history: History) -> None:
    audit = Audit(registry)
    assert audit.index.synced is not None and audit.index.synced.events > 0
    assert audit.index.last_block == history.chain.w3.eth.block_number
    subject = AssetSubject(history.asset)
    truth = collect_trail(ChainTrailSource(history.chain.w3, history.chain.deployment), subject)
    assert audit.collect(subject) == truth
    assert audit.page(subject, limit=3).entries == tuple(truth[:3])
    assert audit.compute_differences(subject).ok
    again = Audit(registry)  # incremental: nothing new to read
    assert again.index.synced is not None and (again.index.synced.blocks, again.index.synced.events) == (0, 0)
    # the one-call helpers do the same
    assert trail_source(registry).asset_trail(history.asset).entries == tuple(truth)
    assert audit_page(registry, subject, limit=2).entries == tuple(truth[:2])
    assert compute_audit_differences(registry, subject).ok


def test_encumbrances_and_usage_from_the_index(registry: Registry, history: History) -> None:
    audit = Audit(registry)
    trail = audit.collect(AssetSubject(history.asset))
    bound = audit.compute_encumbrances(history.asset, trail[-1].time)
    assert [(g.grant_id, g.used, g.remaining) for g in bound] == [(history.grant, 25, 75), (history.licence_grant, 2,
                                                                                             18)]
    # "now" on a machine whose clock is behind the chain's (hardhat stamps fast blocks in the future): the moment
    # asked about is the trail's last event, so a grant made a moment ago binds; with the clock ahead, the clock
    behind = trail[0].time - timedelta(days=1)
    moment, now_bound = audit.compute_encumbrances_now(history.asset, behind)
    assert moment == trail[-1].time and now_bound == bound
    ahead = trail[-1].time + timedelta(seconds=5)
    assert audit.compute_encumbrances_now(history.asset, ahead) == (ahead, audit.compute_encumbrances(history.asset,
                                                                                                      ahead))
    months = audit.compute_usage(AssetSubject(history.asset), "month")
    assert sum(u.units for u in months) == 27 and {u.grant_id for u in months} == {history.grant,
                                                                                  history.licence_grant}


def test_with_confirmations_the_check_covers_the_blocks_indexed(history: History, tmp_path: Path,
                                                                database_url: str) -> None:
    """The index stops two blocks short of the tip; the events in those blocks are not differences."""
    with open_registry(history.chain, tmp_path / "data", confirmations=2, database_url=database_url) as registry:
        audit = Audit(registry)
        tip = history.chain.w3.eth.block_number
        assert audit.index.last_block == tip - 2
        subject = AssetSubject(history.other_asset)
        differences = audit.compute_differences(subject)
        assert differences.ok and differences.recorded == differences.recomputed
        everything = collect_trail(ChainTrailSource(history.chain.w3, history.chain.deployment), subject)
        assert differences.recorded < len(everything)  # the last usage of grant 4 is beyond the index


def test_an_unknown_asset_after_a_sync_is_not_on_the_chain(registry: Registry, history: History) -> None:
    audit = Audit(registry)
    with pytest.raises(UnknownAsset) as unknown:
        audit.page(AssetSubject(99))
    assert unknown.value.message.startswith(f"asset 99 is not registered on chain {history.chain.deployment.chain_id} "
                                            "(AssetRegistry at ")
    assert f"up to block {audit.index.last_block}" in unknown.value.message
    with pytest.raises(UnknownAsset, match="not in the registry's index of chain"):
        Audit(registry, sync=False).compute_encumbrances(99, datetime.now(UTC))


def test_read_as_it_is_without_a_node(registry: Registry, history: History, tmp_path: Path) -> None:
    Audit(registry)
    url = registry.settings.effective_database_url()
    offline = Registry(Settings(data_dir=tmp_path / "elsewhere", database_url=url, rpc_url="http://127.0.0.1:9"))
    with offline:  # no node answers at that URL, and none is asked
        audit = Audit(offline, sync=False)
        assert audit.index.synced is None and audit.index.chain_id == history.chain.deployment.chain_id
        assert audit.collect(AssetSubject(history.asset))


def test_an_empty_index_is_refused(history: History, tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    with Registry(Settings(data_dir=folder)) as registry:
        with pytest.raises(IndexEmpty) as missing:
            Audit(registry, sync=False)
        assert missing.value.message == (f"there is no registry database in {folder} (registry.sqlite): nothing "
                                         "was indexed there")
        assert not folder.exists()  # nothing made
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    Database.open(url).close()  # a database with the schema and no index
    with Registry(Settings(data_dir=folder, database_url=url)) as registry:
        with pytest.raises(IndexEmpty, match="the registry's index at sqlite:///.*fresh.sqlite is empty"):
            Audit(registry, sync=False)


def test_an_index_of_another_deployment_is_not_compared(registry: Registry, pyevm: Chain, tmp_path: Path) -> None:
    Audit(registry)
    url = registry.settings.effective_database_url()
    with open_registry(pyevm, tmp_path / "other", database_url=url) as other:
        audit = Audit(other, sync=False)
        with pytest.raises(IndexOfAnotherDeployment) as refused:
            audit.compute_differences(AssetSubject(1))
        # both test chains have one chain id and the same addresses: the block hashes tell them apart
        assert refused.value.message.startswith(f"the registry's index holds block {audit.index.last_block} of "
                                                f"chain {pyevm.deployment.chain_id} with hash 0x")
        assert "the node is on another chain with the same id, or the chain reorganised" in refused.value.message


def test_an_index_of_other_contracts_is_not_compared(registry: Registry, history: History) -> None:
    Audit(registry)
    other = "0x" + "12" * 20
    with registry.db.session() as session:  # as if the index followed another deployment
        state = session.get(IndexerState, 1)
        assert state is not None
        state.asset_registry = other
    audit = Audit(registry, sync=False)
    with pytest.raises(IndexOfAnotherDeployment) as refused:
        audit.compute_differences(AssetSubject(history.asset))
    assert refused.value.message == (
        f"the registry's index follows chain {history.chain.deployment.chain_id}'s AssetRegistry at {other}, but the "
        f"test chain serves chain {history.chain.deployment.chain_id}'s at {history.chain.deployment.asset_registry}: "
        "there is nothing to compare")
    assert Audit(registry).compute_differences(AssetSubject(history.asset)).ok  # a sync starts the index over


def test_purpose_texts_come_from_the_registry_when_they_hash_right(registry: Registry, history: History) -> None:
    audit = Audit(registry)
    analytics = "0x" + keccak(text="analytics").hex()
    trial = "0x" + keccak(text="trial").hex()
    assert audit.get_purpose_text(analytics) is None  # this registry did not make the grant
    now = datetime.now(UTC)
    with registry.db.session() as session:
        session.add(GrantPurposeRecord(purpose_hash=analytics, text="analytics", created_at=now))
        session.add(GrantPurposeRecord(purpose_hash=trial, text="a forged text", created_at=now))
    assert audit.get_purpose_text(analytics) == "analytics"
    assert audit.get_purpose_text(analytics.upper().replace("0X", "0x")) == "analytics"
    assert audit.get_purpose_text(trial) is None  # its text does not hash to it
