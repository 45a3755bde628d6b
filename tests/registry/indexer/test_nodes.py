"""The indexer on real nodes: reorganisations on hardhat (evm_snapshot, other blocks mined at the same heights
after evm_revert) and on anvil (anvil_reorg), and the embedded chain in-process."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy import select

from dataseal.chain.connection import connect
from dataseal.chain.contracts.artifacts import load_artifact
from dataseal.chain.contracts.deploy import deploy_contracts
from dataseal.chain.contracts.records import UsageRecord
from dataseal.chain.embedded.provider import EmbeddedProvider
from dataseal.chain.sending.sender import LocalSender
from dataseal.registry.db import Database
from dataseal.registry.db.models.chain import ChainEvent, Checkpoint, GrantRow, UsageRow
from dataseal.registry.indexer import Indexer
from tests.chain.conftest import open_embedded
from tests.conftest import Chain
from tests.registry.indexer.conftest import dump, h, tell_story


def rpc(chain: Chain, method: str, *params: Any) -> Any:
    answer = chain.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    assert "error" not in answer, answer
    return answer["result"]


def forget_nonces(chain: Chain) -> None:
    """After a revert the senders must ask the node for their nonces again."""
    for sender in (chain.operator, chain.owner, chain.user, chain.buyer, chain.reviewer):
        sender.nonces.forget(chain.w3.eth.chain_id, sender.address)


def grant_of(db: Database, grant_id: int) -> GrantRow:
    with db.session() as s:
        grant = s.get(GrantRow, grant_id)
    assert grant is not None
    return grant


def hashes_above(db: Database, block: int) -> set[str]:
    with db.session() as s:
        return set(s.execute(select(ChainEvent.tx_hash).where(ChainEvent.block_number > block)).scalars())  # type: ignore[call-overload,arg-type]


def same_as_fresh(chain: Chain, db: Database, folder: Path) -> None:
    """The index equals one built from scratch on the chain as it is now."""
    with Database.open(f"sqlite:///{folder / 'fresh.sqlite'}") as fresh:
        Indexer(fresh, chain.w3, chain.deployment).sync()
        assert dump(fresh, ids=False) == dump(db, ids=False)


@pytest.mark.hardhat
def test_hardhat_blocks_replaced_after_evm_revert_are_dropped(
        hardhat_chain: Chain, database: Database, tmp_path: Path) -> None:
    chain = hardhat_chain
    story = tell_story(chain)
    indexer = Indexer(database, chain.w3, chain.deployment, page_blocks=7)
    indexer.sync()
    fork = chain.w3.eth.block_number
    snapshot = rpc(chain, "evm_snapshot")
    buyer, owner = chain.as_(chain.buyer), chain.as_(chain.owner)
    orphaned = [buyer.ledger.record_usage(story.licence, 3, h(f"orphan-{i}")) for i in range(3)]
    owner.grants.revoke(story.licence, h("orphaned"))
    assert indexer.sync().events == 4
    assert (grant_of(database, story.licence).used, grant_of(database, story.licence).status) == (9, "Revoked")

    assert rpc(chain, "evm_revert", snapshot) is True
    forget_nonces(chain)
    kept = [buyer.ledger.record_usage(story.licence, 1, h(f"kept-{i}")) for i in range(5)]
    assert chain.w3.eth.get_block(fork + 1)["hash"] != orphaned[0].tx.block_hash  # other blocks, same heights
    report = indexer.sync()
    assert (report.reorgs, report.dropped_blocks, report.to_block) == (1, 4, fork + 5)
    grant = grant_of(database, story.licence)
    assert (grant.used, grant.sequence, grant.status, grant.revoked) == (5, 5, "Active", False)
    assert hashes_above(database, fork) == {u.tx.tx_hash for u in kept}
    with database.session() as s:  # hardhat's logs carry no blockTimestamp: the times come from the headers
        times = {u.block_number: u.block_time for u in s.execute(select(UsageRow)).scalars()}  # type: ignore[call-overload]
    for number, time in times.items():
        assert int(time.timestamp()) == chain.w3.eth.get_block(number)["timestamp"]
    same_as_fresh(chain, database, tmp_path)


def _signed_usage(chain: Chain, account: LocalAccount, grant_id: int, units: int, label: str, nonce: int) -> str:
    ledger = chain.w3.eth.contract(address=chain.deployment.transaction_ledger,  # type: ignore[call-overload]
                                   abi=load_artifact("TransactionLedger").abi)
    data = ledger.encode_abi("recordUsage", [grant_id, units, h(label)])
    tx = {"to": chain.deployment.transaction_ledger, "data": data, "value": 0, "nonce": nonce, "gas": 300_000,
          "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 10**9, "chainId": chain.w3.eth.chain_id, "type": 2}
    return "0x" + account.sign_transaction(tx).raw_transaction.hex()


@pytest.mark.anvil
def test_anvil_reorg_replaces_blocks_and_the_index_follows(anvil: Chain, database: Database, tmp_path: Path) -> None:
    story = tell_story(anvil)
    buyer = anvil.as_(anvil.buyer)
    nonce = anvil.w3.eth.get_transaction_count(anvil.buyer.address)
    fork = anvil.w3.eth.block_number
    orphaned = [buyer.ledger.record_usage(story.licence, 3, h(f"orphan-{i}")) for i in range(3)]
    indexer = Indexer(database, anvil.w3, anvil.deployment)
    indexer.sync()
    assert grant_of(database, story.licence).used == 9

    key = anvil.keys[anvil.buyer.address]
    replacement = [[_signed_usage(anvil, key, story.licence, 2, "replacement", nonce), 1]]
    rpc(anvil, "anvil_reorg", 3, replacement)  # the last 3 blocks replaced: the usage now in the second of them
    forget_nonces(anvil)
    assert anvil.w3.eth.block_number == fork + 3
    report = indexer.sync()
    assert (report.reorgs, report.dropped_blocks) == (1, 3)
    grant = grant_of(database, story.licence)
    assert (grant.used, grant.sequence) == (2, 1)
    above = hashes_above(database, fork)
    assert len(above) == 1 and not above & {u.tx.tx_hash for u in orphaned}
    with database.session() as s:
        (usage,) = s.execute(select(UsageRow).where(UsageRow.grant_id == story.licence)).scalars()  # type: ignore[call-overload,arg-type]
        checkpoints = dict(s.execute(select(Checkpoint.number, Checkpoint.hash)).all())  # type: ignore[call-overload]
    assert usage.block_number == fork + 2 and usage.receipt_hash == "0x" + h("replacement").hex()
    for number in range(fork + 1, fork + 4):
        assert checkpoints[number] == anvil.w3.eth.get_block(number)["hash"].to_0x_hex()
    # the index goes on from there as the chain grows
    more = buyer.ledger.record_usage(story.licence, 4, h("after"))
    assert isinstance(more, UsageRecord) and indexer.sync().events == 1
    assert grant_of(database, story.licence).used == 6
    same_as_fresh(anvil, database, tmp_path)


def test_the_embedded_chain_in_process(tmp_path: Path, database: Database) -> None:
    """The embedded chain's logs carry blockTimestamp: no header is read for the blocks with events."""
    keys = [Account.create() for _ in range(5)]
    embedded = open_embedded(tmp_path / "chain", [k.address for k in keys])
    try:
        node = connect(EmbeddedProvider(embedded), name="the embedded chain")
        senders = [LocalSender(k, endpoint=node.endpoint) for k in keys]
        chain = Chain(node.w3, deploy_contracts(node.w3, senders[0]), *senders, keys={k.address: k for k in keys})
        story = tell_story(chain)
        indexer = Indexer(database, node.w3, chain.deployment)
        report = indexer.sync()
        assert report.events > 0 and report.to_block == node.w3.eth.block_number
        assert grant_of(database, story.grant).used == 11
        assert indexer.blocks.requests == 1  # one batch: the page's last block, nothing per event block
        same_as_fresh(chain, database, tmp_path)
    finally:
        embedded.close()

