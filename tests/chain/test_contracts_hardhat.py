"""The same artifacts on a real hardhat node over JSON-RPC (Osaka): the walk, and reverts decoded
from what a real node sends back."""
from __future__ import annotations

import pytest
from eth_utils import keccak

from dataseal.chain.contracts import decode_events, read, transact
from dataseal.chain.errors import ContractRevert
from tests.conftest import HardhatChain

ZERO = b"\0" * 32


def h(label: str) -> bytes:
    return keccak(text=label)


@pytest.mark.hardhat
def test_walk_on_a_hardhat_node(hardhat: HardhatChain) -> None:
    c, w3 = hardhat.contracts, hardhat.w3
    reg, grants, ledger = c.asset_registry, c.grant_registry, c.transaction_ledger
    assert w3.eth.chain_id == 31337
    events = decode_events(c, transact(w3, hardhat.owner, reg.functions.register(h("r"), h("m"), 1, 0, 0), "register"))
    asset_id = events[1].args["assetId"]
    t = hardhat.now()
    events = decode_events(c, transact(
        w3, hardhat.owner, grants.functions.grant(asset_id, hardhat.user.address, h("p"), t - 5, t + 600, 10, ZERO),
        "grant"))
    grant_id = events[0].args["grantId"]
    events = decode_events(c, transact(w3, hardhat.user, ledger.functions.recordUsage(grant_id, 4, h("j")), "usage"))
    assert (events[0].name, events[0].args["sequence"], events[0].args["units"]) == ("UsageRecorded", 1, 4)
    events = decode_events(c, transact(
        w3, hardhat.owner,
        ledger.functions.recordTrade(asset_id, hardhat.buyer.address, hardhat.owner.address, 1, ZERO, h("s")),
        "trade"))
    assert events[0].name == "TradeRecorded"


@pytest.mark.hardhat
def test_reverts_from_a_real_node_are_decoded(hardhat: HardhatChain) -> None:
    c, w3 = hardhat.contracts, hardhat.w3
    reg, ledger = c.asset_registry, c.transaction_ledger
    transact(w3, hardhat.owner, reg.functions.register(h("dup"), h("m"), 1, 0, 0), "register")
    asset_id = read(reg.functions.assetIdOf(h("dup")), "assetIdOf")
    with pytest.raises(ContractRevert) as dup:
        transact(w3, hardhat.buyer, reg.functions.register(h("dup"), h("m"), 1, 0, 0), "register")
    assert dup.value.args_by_name == {"contentRoot": h("dup"), "assetId": asset_id}
    with pytest.raises(ContractRevert) as unknown:
        read(reg.functions.assetOf(10_000), "assetOf")
    assert (unknown.value.name, unknown.value.args_by_name) == ("UnknownAsset", {"assetId": 10_000})
    with pytest.raises(ContractRevert) as no_grant:
        transact(w3, hardhat.user, ledger.functions.recordUsage(999, 1, h("j")), "recordUsage")
    assert str(no_grant.value).startswith("UnknownGrant(grantId=999): no grant 999 on this chain")
