"""The services' whole journey on real nodes (hardhat, anvil) with the registry database on SQLite and on a real
PostgreSQL: register a table, verify it, prove a row (the bundle checked against the node), grant a scope, use
it until the quota runs out, revoke, sell a licence, index, read the audit trail and check it against the
chain's logs, and verify the registration certificate.

Each case deploys dataseal afresh on the session's node (one hardhat and one anvil process per worker, stopped by
PID) and keeps its registry database on the session's PostgreSQL server (one per worker) or in a SQLite file.
The CLI's own tests cover the rendering; these go through the Python API the CLI renders.
"""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from eth_utils import keccak
from sqlmodel import select
from web3 import Web3

from dataseal.chain.connection import connect
from dataseal.chain.contracts.logs import LogReader
from dataseal.chain.contracts.records import GrantStatus, Settlement
from dataseal.errors import ErrorKind
from dataseal.registry.audit import AssetSubject
from dataseal.registry.audit.service import Audit, sync_index
from dataseal.registry.certificates import compute_certificate, read_certificate, verify_certificate
from dataseal.registry.db.models.receipts import RECORDED, ReceiptRecord
from dataseal.registry.manifest import read_manifest
from dataseal.registry.services import assets, evidence, grants, trades, usage, usage_receipts, verify
from dataseal.registry.services.usage_receipts import UsageError
from tests.conftest import Chain
from tests.registry.indexer.conftest import node_chain
from tests.registry.services.conftest import RegistryFor

SECRET = bytes(range(32))
PURPOSE = "credit model validation"
ROWS = 12
SCOPE = range(0, 6)  # the grant covers rows 0..5
QUOTA = 5
HOUR = 3600


@pytest.fixture(params=[pytest.param("hardhat", marks=pytest.mark.hardhat),
                        pytest.param("anvil", marks=pytest.mark.anvil)])
def node_url(request: pytest.FixtureRequest) -> str:
    """The URL of the session's hardhat or anvil node (each started once per worker)."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
def node(node_url: str) -> Chain:
    """dataseal freshly deployed on the node, with new funded accounts whose keys the test holds."""
    return node_chain(node_url)


def write_table(path: Path) -> Path:
    path.write_text("id,name,score\n" + "".join(f"{i},person {i},{i * 7 % 100}\n" for i in range(ROWS)))
    return path


@pytest.mark.parametrize("registry_database", ["sqlite", "postgresql"])
def test_the_whole_journey(node: Chain, node_url: str, registry_for: RegistryFor, registry_database: str,
                           tmp_path: Path) -> None:
    chain = node
    owner, user, buyer = (registry_for(chain, signer) for signer in (chain.owner, chain.user, chain.buyer))
    assert owner.db.url.startswith("sqlite" if registry_database == "sqlite" else "postgresql+psycopg://")
    chain_id = chain.w3.eth.chain_id

    # register, then the chain (not the database) says the file is that asset
    data = write_table(tmp_path / "scores.csv")
    done = assets.register(owner, data, title="Scores 2024", salt_secret=SECRET)
    assert (done.asset_id, done.status, done.owner, done.chain_id) == (1, "Active", chain.owner.address, chain_id)
    assert chain.reader.registry.asset(1).content_root.hex() == done.content_root[2:]
    found = verify.verify(user, data, salt_secret=SECRET)
    assert found.registered and (found.asset_id, found.kind, found.leaf_count, found.owner) == \
        (1, "table", ROWS, chain.owner.address)
    assert found.manifest_hash == done.manifest_hash

    # a row's evidence bundle, checked against the node through a connection of its own
    manifest = read_manifest(done.manifest_path)
    proved = evidence.prove(owner, data, manifest, row=4, secret=SECRET)
    assert proved.bundle is not None
    record = proved.bundle.record
    assert record.asset is not None
    assert (record.asset.asset_id, record.tx_hash, record.block_number, record.chain_id) == \
        (1, done.tx_hash, done.block_number, chain_id)
    trusted = evidence.get_trusted_registry(chain_id, contract=chain.deployment.asset_registry)
    check = evidence.check_on_chain(proved.bundle, connect(Web3(Web3.HTTPProvider(node_url))), trusted)
    assert check.status == "Active" and check.holds_root and not check.warnings

    # a grant over rows 0..5; the row proved is inside its scope, row 8 is not
    start = chain.now() - HOUR  # in the past: the window is open whatever the node's clock does next
    granted = grants.grant(owner, 1, chain.user.address, PURPOSE, start, "30d", QUOTA, SCOPE)
    grant_id = granted.grant.grant_id
    assert (grant_id, granted.grant.quota, granted.grant.grantee) == (1, QUOTA, chain.user.address)
    scoped = evidence.prove(owner, data, manifest, row=4, secret=SECRET, grant=grant_id)
    assert scoped.scope is not None and scoped.bundle is not None
    with pytest.raises(evidence.EvidenceError, match="outside"):
        evidence.prove(owner, data, manifest, row=8, secret=SECRET, grant=grant_id)

    # the grantee uses it until the quota runs out; the next use is refused before anything is sent
    def job(name: str, units: int) -> usage.UsageResult:
        now = chain.now()
        receipt = usage_receipts.new_receipt(user, grant_id, name, unit="row", indexes=["0-5"], started_at=now,
                                    ended_at=now, units=units, result_hash=keccak(text=name))
        return usage.use(user, grant_id, units, receipt)

    recorded = [job(f"job-{i}", units) for i, units in enumerate((2, 2, 1))]
    assert [(r.record.sequence, r.record.units) for r in recorded] == [(1, 2), (2, 2), (3, 1)]
    assert chain.reader.grants.remaining(grant_id) == 0
    sent = chain.w3.eth.get_transaction_count(chain.user.address)  # type: ignore[arg-type]
    with pytest.raises(UsageError) as exhausted:
        job("job-3", 1)
    assert exhausted.value.message == f"grant {grant_id} has 0 of its {QUOTA} units left, 1 unit was asked for"
    assert exhausted.value.kind == ErrorKind.CONFLICT
    assert chain.w3.eth.get_transaction_count(chain.user.address) == sent  # type: ignore[arg-type]
    with user.db.session() as session:  # the receipts kept in the registry's database, each with its transaction
        kept = session.exec(select(ReceiptRecord).where(ReceiptRecord.state == RECORDED)).all()
        assert sorted((r.sequence, r.tx_hash) for r in kept) == [(r.record.sequence, r.record.tx.tx_hash)
                                                                 for r in recorded]

    # revoked: the grant no longer binds the asset
    revoked = grants.revoke(owner, grant_id, "audit finished")
    assert revoked.by == chain.owner.address
    assert grants.grant_state(owner, grant_id).grant.status == GrantStatus.Revoked
    with pytest.raises(UsageError, match=f"grant {grant_id} is Revoked: ask the asset owner for a new grant"):
        job("job-4", 1)

    # a licence sold to the buyer, who countersigns with its own account
    licence = trades.LicenceOffer("quarterly reporting", chain.now() - HOUR, "90d", quota=50, scope=None)
    offer = trades.offer_trade(owner, 1, chain.buyer.address, 12_000, "CNY", keccak(text="invoice 17"),
                               licence=licence)
    sold = trades.record_trade(owner, offer, trades.sign_offer(buyer, offer))
    assert (sold.record.settlement, sold.record.price, sold.record.buyer) == \
        (Settlement.Licence, 12_000, chain.buyer.address)
    licence_grant = sold.record.grant_id
    assert licence_grant == 2 and chain.reader.registry.asset(1).owner == chain.owner.address

    # index, then the asset's trail in chain order, with the kinds the journey made
    synced = sync_index(owner)
    assert synced.to_block == chain.w3.eth.block_number and synced.events > 0 and synced.reorgs == 0
    audit = Audit(owner)
    assert audit.index.synced is not None and audit.index.synced.events == 0  # nothing new since
    trail = audit.collect(AssetSubject(1))
    assert [e.event for e in trail] == [
        "Transfer", "AssetRegistered", "GrantCreated", "UsageRecorded", "UsageRecorded", "UsageRecorded",
        "GrantRevoked", "GrantCreated", "TradeRecorded",
    ]  # the token's mint (ERC-721 Transfer) comes first in the registration's transaction
    assert [e.cursor for e in trail] == sorted(e.cursor for e in trail)
    assert trail[0].tx_hash == trail[1].tx_hash == done.tx_hash and trail[-1].tx_hash == sold.record.tx.tx_hash
    assert [e.args["units"] for e in trail if e.event == "UsageRecorded"] == [2, 2, 1]
    assert [e.grant_id for e in trail[2:]] == [1, 1, 1, 1, 1, 2, 2]
    binding = audit.compute_encumbrances(1, datetime.fromtimestamp(chain.now(), UTC))  # the chain's time, not ours
    assert [b.grant_id for b in binding] == [licence_grant]

    # the --verify check: the indexed trail against one recomputed from eth_getLogs
    differences = audit.compute_differences(AssetSubject(1))
    assert differences.ok and differences.recorded == differences.recomputed == len(trail)

    # the certificate written at registration verifies against the chain, and so does one computed now
    assert done.certificate is not None
    written = read_certificate(done.certificate.path)
    contracts, reader = owner.context.contracts(), LogReader(chain.w3)
    report = verify_certificate(written, contracts, reader)
    assert report.ok and report.asset_id == 1 and report.certificate_number == done.certificate.number
    issued = datetime.fromtimestamp(chain.now(), UTC)
    again = compute_certificate(contracts, reader, chain.deployment, 1, manifest, now=issued,
                                as_of=written.as_of.block_number)
    assert (again.certificate_number, again.registration_number) == \
        (written.certificate_number, written.registration_number)  # the same registration as of the same block
    latest = compute_certificate(contracts, reader, chain.deployment, 1, manifest, now=issued)
    assert latest.as_of.block_number == chain.w3.eth.block_number > written.as_of.block_number
    assert latest.registration_number == written.registration_number  # numbers the state as of a later block
    assert latest.certificate_number != written.certificate_number
    assert (latest.registration.tx_hash, latest.registration.block_number, latest.title, latest.owner) == \
        (done.tx_hash, done.block_number, "Scores 2024", chain.owner.address)
    assert verify_certificate(latest, contracts, reader).ok
