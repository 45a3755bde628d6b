"""The committed artifacts, deployed on py-evm: register → grant → usage → trade, every event decoded."""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from eth_account import Account
from eth_utils import keccak
from web3 import Web3
from web3.types import TxReceipt

from dataseal.chain.contracts import (
    UnlockedSender,
    decode_events,
    predict_create_address,
    read,
    replay_failure,
    transact,
)
from dataseal.chain.errors import ChainError, ContractRevert
from dataseal.chain.signing import (
    GRANT_TYPE,
    GRANTS_DOMAIN_NAME,
    REGISTER_TYPE,
    REGISTRY_DOMAIN_NAME,
    Domain,
    sign_grant,
    sign_register,
    type_hash,
)
from tests.conftest import PyEvmChain

ZERO = b"\0" * 32
CNY = b"CNY".ljust(32, b"\0")


def h(label: str) -> bytes:
    return keccak(text=label)


def names(events) -> list[str]:
    return [f"{e.contract}.{e.name}" for e in events]


def test_walk_register_grant_usage_trade_decodes_every_event(pyevm: PyEvmChain) -> None:
    c, w3 = pyevm.contracts, pyevm.w3
    reg, grants, ledger = c.asset_registry, c.grant_registry, c.transaction_ledger

    receipt = transact(w3, pyevm.owner, reg.functions.register(h("root"), h("manifest"), 3, 2, 0), "register")
    events = decode_events(c, receipt)
    assert names(events) == ["AssetRegistry.Transfer", "AssetRegistry.AssetRegistered"]
    assert events[0].args == {"from": "0x" + "00" * 20, "to": pyevm.owner.address, "tokenId": 1}
    registered = events[1].args
    assert registered["assetId"] == 1
    assert registered["registrant"] == pyevm.owner.address
    assert registered["contentRoot"] == h("root")
    assert registered["manifestHash"] == h("manifest")
    assert (registered["rightsType"], registered["classification"]) == (3, 2)
    assert registered["status"] == 2  # Active: this deployment has no review mode
    assert (registered["parentId"], registered["lineage"]) == (0, 0)
    block = w3.eth.get_block(receipt["blockNumber"])
    assert registered["registeredAt"] == block["timestamp"]
    assert events[1].transaction_hash == receipt["transactionHash"].to_0x_hex()

    t = pyevm.now()
    receipt = transact(
        w3, pyevm.owner,
        grants.functions.grant(1, pyevm.user.address, h("purpose"), t - 10, t + 3600, 100, h("scope")), "grant",
    )
    (created,) = decode_events(c, receipt)
    assert created.name == "GrantCreated"
    assert created.args == {
        "grantId": 1, "assetId": 1, "grantee": pyevm.user.address, "grantor": pyevm.owner.address,
        "purpose": h("purpose"), "validFrom": t - 10, "expiresAt": t + 3600, "quota": 100, "scopeRoot": h("scope"),
    }

    sequences = []
    for job in ("job-a", "job-b"):
        receipt = transact(w3, pyevm.user, ledger.functions.recordUsage(1, 30, h(job)), "recordUsage")
        (used,) = decode_events(c, receipt)
        assert used.name == "UsageRecorded"
        assert (used.args["grantId"], used.args["recorder"], used.args["units"], used.args["receiptHash"]) == (
            1, pyevm.user.address, 30, h(job))
        sequences.append(used.args["sequence"])
    receipt = transact(w3, pyevm.user, ledger.functions.recordUsageBatch(1, 25, h("receipts-root"), 12), "batch")
    (batch,) = decode_events(c, receipt)
    assert batch.name == "UsageBatchRecorded"
    assert (batch.args["units"], batch.args["receiptsRoot"], batch.args["count"]) == (25, h("receipts-root"), 12)
    sequences.append(batch.args["sequence"])
    assert sequences == [1, 2, 3]
    assert grants.functions.remaining(1).call() == 15

    receipt = transact(
        w3, pyevm.owner,
        ledger.functions.recordTrade(1, pyevm.buyer.address, pyevm.owner.address, 5000, CNY, h("settlement")),
        "recordTrade",
    )
    (trade,) = decode_events(c, receipt)
    assert trade.name == "TradeRecorded"
    assert trade.args == {
        "tradeId": 1, "assetId": 1, "seller": pyevm.owner.address, "buyer": pyevm.buyer.address, "price": 5000,
        "currency": CNY, "settlementHash": h("settlement"), "recorder": pyevm.owner.address,
    }

    grant = grants.functions.grantOf(1).call()
    assert tuple(grant[5:8]) == (100, 85, 3)  # quota, used, sequence


def test_status_changes_are_logged_and_enforced(pyevm_review: PyEvmChain) -> None:
    chain = pyevm_review
    c, w3 = chain.contracts, chain.w3
    reg = c.asset_registry
    transact(w3, chain.owner, reg.functions.register(h("r"), h("m"), 1, 0, 0), "register")
    assert reg.functions.statusOf(1).call() == 1  # Pending

    t = chain.now()
    with pytest.raises(ContractRevert) as refused:
        transact(w3, chain.owner, c.grant_registry.functions.grant(1, chain.user.address, h("p"), t, t + 60, 1, ZERO),
                 "grant")
    assert refused.value.name == "AssetNotActive"
    assert refused.value.args_by_name == {"assetId": 1, "status": "Pending"}
    assert "must be Active" in str(refused.value)

    role = reg.functions.REVIEWER_ROLE().call()
    transact(w3, chain.operator, reg.functions.grantRole(role, chain.reviewer.address), "grantRole")
    receipt = transact(w3, chain.reviewer, reg.functions.approveRegistration(1, h("reviewed")), "approveRegistration")
    (changed,) = decode_events(c, receipt)
    assert changed.name == "AssetStatusChanged"
    assert changed.args == {"assetId": 1, "from": 1, "to": 2, "by": chain.reviewer.address, "reasonHash": h("reviewed")}


def test_python_eip712_matches_the_contracts(pyevm: PyEvmChain) -> None:
    c, w3 = pyevm.contracts, pyevm.w3
    reg, grants = c.asset_registry, c.grant_registry
    assert reg.functions.REGISTER_TYPEHASH().call() == type_hash(REGISTER_TYPE)
    assert grants.functions.GRANT_TYPEHASH().call() == type_hash(GRANT_TYPE)

    signer = Account.from_key(h("owner key"))
    chain_id = w3.eth.chain_id
    deadline = pyevm.now() + 600
    sig = sign_register(
        signer.key, Domain(REGISTRY_DOMAIN_NAME, chain_id, reg.address), owner=signer.address,
        content_root=h("sig-root"), manifest_hash=h("sig-m"), rights_type=4, classification=3, parent_id=0,
        nonce=0, deadline=deadline,
    )
    call = reg.functions.registerBySig(signer.address, h("sig-root"), h("sig-m"), 4, 3, 0, deadline, sig)
    events = decode_events(c, transact(w3, pyevm.operator, call, "registerBySig"))
    assert events[1].args["registrant"] == signer.address
    assert reg.functions.ownerOf(1).call() == signer.address

    # The same signature again: the nonce moved, so it no longer verifies.
    with pytest.raises(ContractRevert) as replay:
        transact(w3, pyevm.operator, call, "registerBySig")
    assert replay.value.name == "InvalidSignature"
    assert replay.value.args_by_name == {"expected": signer.address}

    # Signed for another chain id: refused.
    other = sign_register(
        signer.key, Domain(REGISTRY_DOMAIN_NAME, chain_id + 1, reg.address), owner=signer.address,
        content_root=h("sig-root-2"), manifest_hash=h("sig-m"), rights_type=4, classification=3, parent_id=0,
        nonce=1, deadline=deadline,
    )
    with pytest.raises(ContractRevert, match="InvalidSignature"):
        transact(w3, pyevm.operator,
                 reg.functions.registerBySig(signer.address, h("sig-root-2"), h("sig-m"), 4, 3, 0, deadline, other),
                 "registerBySig")

    t = pyevm.now()
    terms = (1, pyevm.user.address, h("purpose"), t - 1, t + 3600, 7, ZERO)
    gsig = sign_grant(
        signer.key, Domain(GRANTS_DOMAIN_NAME, chain_id, grants.address), asset_id=1, grantee=pyevm.user.address,
        purpose=h("purpose"), valid_from=t - 1, expires_at=t + 3600, quota=7, scope_root=ZERO, nonce=0,
        deadline=deadline,
    )
    (created,) = decode_events(c, transact(w3, pyevm.operator, grants.functions.grantBySig(terms, deadline, gsig), "g"))
    assert created.args["grantor"] == signer.address
    assert created.args["quota"] == 7


def test_reverts_are_decoded_with_their_arguments(pyevm: PyEvmChain) -> None:
    c, w3 = pyevm.contracts, pyevm.w3
    reg, grants, ledger = c.asset_registry, c.grant_registry, c.transaction_ledger
    transact(w3, pyevm.owner, reg.functions.register(h("root"), h("m"), 1, 0, 0), "register")

    with pytest.raises(ContractRevert) as dup:
        transact(w3, pyevm.buyer, reg.functions.register(h("root"), h("m2"), 1, 0, 0), "register")
    assert dup.value.name == "AssetAlreadyRegistered"
    assert dup.value.args_by_name == {"contentRoot": h("root"), "assetId": 1}
    assert str(dup.value).startswith(f"AssetAlreadyRegistered(contentRoot=0x{h('root').hex()}, assetId=1): ")
    assert "first registrant keeps priority" in str(dup.value)

    with pytest.raises(ContractRevert) as unknown:
        read(grants.functions.grantOf(42), "grantOf")
    assert unknown.value.name == "UnknownGrant"
    with pytest.raises(ContractRevert) as unknown_grant:
        transact(w3, pyevm.user, ledger.functions.recordUsage(42, 1, h("j")), "recordUsage")
    assert unknown_grant.value.name == "UnknownGrant"
    assert unknown_grant.value.args_by_name == {"grantId": 42}
    assert "no grant 42 on this chain" in str(unknown_grant.value)

    t = pyevm.now()
    transact(w3, pyevm.owner, grants.functions.grant(1, pyevm.user.address, h("p"), t, t + 100, 5, ZERO), "grant")
    with pytest.raises(ContractRevert) as quota:
        transact(w3, pyevm.user, ledger.functions.recordUsage(1, 6, h("j")), "recordUsage")
    assert quota.value.args_by_name == {"grantId": 1, "requested": 6, "remaining": 5}

    with pytest.raises(ContractRevert) as not_owner:
        transact(w3, pyevm.buyer, reg.functions.cancel(1, ZERO), "cancel")
    assert not_owner.value.args_by_name == {"assetId": 1, "caller": pyevm.buyer.address, "owner": pyevm.owner.address}


@dataclass
class _SendsTwice:
    """A sender that sends every transaction twice and returns the second receipt."""

    inner: UnlockedSender

    @property
    def address(self) -> str:
        return self.inner.address

    def send(self, w3: Web3, tx: dict[str, Any]) -> TxReceipt:
        self.inner.send(w3, tx)
        return self.inner.send(w3, tx)


def test_a_mined_failure_is_replayed_into_its_revert(pyevm: PyEvmChain) -> None:
    """transact and the typed clients explain a mined failure through one path: replay_failure."""
    w3, reg, owner = pyevm.w3, pyevm.contracts.asset_registry, pyevm.owner
    # valid when estimated, reverted once mined: the first copy registered the root
    with pytest.raises(ContractRevert) as twice:
        transact(w3, _SendsTwice(owner), reg.functions.register(h("twice"), h("m"), 1, 0, 0), "register")
    assert twice.value.name == "AssetAlreadyRegistered" and twice.value.args_by_name["assetId"] == 1

    tx = {**reg.functions.register(h("oog"), h("m"), 1, 0, 0).build_transaction({"from": owner.address}),
          "gas": 60_000}
    receipt = owner.send(w3, tx)
    assert receipt["status"] == 0
    oog = replay_failure(w3, tx, owner.address, receipt, "register")
    tx_hash = receipt["transactionHash"].to_0x_hex()
    assert type(oog) is ChainError
    assert str(oog).startswith(f"register ran out of gas: transaction {tx_hash} used all 60000 gas in block ")

    # a replay that no longer reverts (the state moved on): the reason is lost, and the message says so
    quiet: Any = SimpleNamespace(eth=SimpleNamespace(call=lambda request, block: b""))
    lost = replay_failure(quiet, {**tx, "gas": 100_000}, owner.address, receipt, "register")
    assert str(lost) == (
        f"register failed: transaction {tx_hash} reverted in block "
        f"{receipt['blockNumber']} (gas used 60000 of 100000) and the reason could not be recovered by replaying it"
    )


def test_the_ledger_address_is_predicted_from_the_deployer_nonce(pyevm: PyEvmChain) -> None:
    deployment = pyevm.deployment
    assert pyevm.contracts.grant_registry.functions.ledger().call() == deployment.transaction_ledger
    assert predict_create_address(deployment.deployer, 2) == deployment.transaction_ledger
    assert pyevm.contracts.transaction_ledger.functions.grants().call() == deployment.grant_registry
    assert set(deployment.artifacts) == {"AssetRegistry", "GrantRegistry", "TransactionLedger"}
