"""The committed artifacts on py-evm (eth-tester) and on a real hardhat node, through the typed
clients: register → grant → usage → trade, every event of every receipt decoded into its record."""
from __future__ import annotations

import pytest
from eth_utils import keccak

from dataseal.chain.contracts.records import (
    AssetRecord,
    AssetStatus,
    AssetStatusChange,
    AssetTransfer,
    GrantRecord,
    GrantStatus,
    Lineage,
    RoleChange,
    TradeRecord,
    UsageBatchRecord,
    UsageRecord,
)
from dataseal.chain.errors import ContractRevert
from tests.conftest import Chain

ZERO = b"\0" * 32
ZERO_ADDRESS = "0x" + "00" * 20
CNY = b"CNY".ljust(32, b"\0")


def h(label: str) -> bytes:
    return keccak(text=label)


def test_walk_register_grant_usage_trade_decodes_every_event(pyevm: Chain) -> None:
    owner, user = pyevm.as_(pyevm.owner), pyevm.as_(pyevm.user)
    decode = owner.decoder.decode_receipt

    submitted = owner.registry.submit_register(h("root"), h("manifest"), 3, 2)
    registered = submitted.wait()
    assert submitted.receipt is not None
    transfer, again = decode(submitted.receipt)
    assert transfer == AssetTransfer(ZERO_ADDRESS, pyevm.owner.address, 1, transfer.tx)
    assert again == registered
    assert (registered.asset_id, registered.registrant, registered.content_root, registered.manifest_hash) == (
        1, pyevm.owner.address, h("root"), h("manifest"))
    assert (registered.rights_type, registered.classification) == (3, 2)
    assert registered.status is AssetStatus.Active  # this deployment has no review mode
    assert (registered.parent_id, registered.lineage) == (0, Lineage.None_)
    block = pyevm.w3.eth.get_block(submitted.receipt["blockNumber"])
    assert registered.registered_at == block["timestamp"]
    assert registered.tx.tx_hash == submitted.receipt["transactionHash"].to_0x_hex() == submitted.tx_hash
    assert registered.tx.block_hash == block["hash"].to_0x_hex()
    assert (transfer.tx.log_index, registered.tx.log_index) == (0, 1)

    t = pyevm.now()
    submitted_grant = owner.grants.submit_grant(1, pyevm.user.address, h("purpose"), t - 10, t + 3600, 100, h("scope"))
    created = submitted_grant.wait()
    assert submitted_grant.receipt is not None and decode(submitted_grant.receipt) == [created]
    assert created == GrantRecord(1, 1, pyevm.user.address, pyevm.owner.address, h("purpose"), t - 10, t + 3600, 100,
                                  h("scope"), created.tx)

    sequences = []
    for job in ("job-a", "job-b"):
        used = user.ledger.record_usage(1, 30, h(job))
        assert isinstance(used, UsageRecord)
        assert (used.grant_id, used.recorder, used.units, used.receipt_hash) == (1, pyevm.user.address, 30, h(job))
        sequences.append(used.sequence)
    batch = user.ledger.record_usage_batch(1, 25, h("receipts-root"), 12)
    assert isinstance(batch, UsageBatchRecord)
    assert (batch.units, batch.receipts_root, batch.count) == (25, h("receipts-root"), 12)
    sequences.append(batch.sequence)
    assert sequences == [1, 2, 3]
    assert owner.grants.remaining(1) == 15

    trade = owner.ledger.record_trade(1, pyevm.buyer.address, pyevm.owner.address, 5000, CNY, h("settlement"))
    assert trade == TradeRecord(1, 1, pyevm.owner.address, pyevm.buyer.address, 5000, CNY, h("settlement"),
                                pyevm.owner.address, trade.tx)

    grant = owner.grants.grant_of(1)
    assert (grant.quota, grant.used, grant.sequence, grant.status) == (100, 85, 3, GrantStatus.Active)


def test_status_changes_are_logged_and_enforced(pyevm_review: Chain) -> None:
    chain = pyevm_review
    owner, admin, reviewer = chain.as_(chain.owner), chain.as_(chain.operator), chain.as_(chain.reviewer)
    pending = owner.registry.register(h("r"), h("m"), 1, 0)
    assert isinstance(pending, AssetRecord) and pending.status is AssetStatus.Pending
    assert owner.registry.asset(1).status is AssetStatus.Pending

    t = chain.now()
    with pytest.raises(ContractRevert) as refused:
        owner.grants.grant(1, chain.user.address, h("p"), t, t + 60, 1, ZERO)
    assert refused.value.name == "AssetNotActive"
    assert refused.value.args_by_name == {"assetId": 1, "status": "Pending"}
    assert "must be Active" in str(refused.value)

    role = admin.registry.grant_reviewer(chain.reviewer.address)
    assert isinstance(role, RoleChange) and (role.account, role.sender, role.granted) == (
        chain.reviewer.address, chain.operator.address, True)
    changed = reviewer.registry.approve_registration(1, h("reviewed"))
    assert changed == AssetStatusChange(1, AssetStatus.Pending, AssetStatus.Active, chain.reviewer.address,
                                        h("reviewed"), changed.tx)


@pytest.mark.hardhat
def test_walk_on_a_hardhat_node(hardhat: Chain) -> None:
    owner, user = hardhat.as_(hardhat.owner), hardhat.as_(hardhat.user)
    assert hardhat.w3.eth.chain_id == 31337
    asset = owner.registry.register(h("r"), h("m"), 1, 0)
    t = hardhat.now()
    grant = owner.grants.grant(asset.asset_id, hardhat.user.address, h("p"), t - 5, t + 600, 10, ZERO)
    usage = user.ledger.record_usage(grant.grant_id, 4, h("j"))
    assert (usage.sequence, usage.units) == (1, 4)
    trade = owner.ledger.record_trade(asset.asset_id, hardhat.buyer.address, hardhat.owner.address, 1, ZERO, h("s"))
    assert isinstance(trade, TradeRecord) and trade.asset_id == asset.asset_id
