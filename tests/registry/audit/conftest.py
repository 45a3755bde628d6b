"""A real history on a py-evm chain in review mode, shared by the audit tests (they only read it).

Asset 1 (owner): reviewer appointed, registered (Pending), objected to by the buyer (Disputed), the dispute
dismissed (Pending), active after the notice period; a version (asset 2, owner) and a derived asset (asset 3,
user); grant 1 to the user (quota 100) used three times a day apart (5 units each, sequences 1-3) and once by
a batch (10 units, 4 receipts, sequence 4); grant 2 to the buyer, revoked; a licence sale to the buyer
(trade 1, grant 3) used once (2 units); then a transfer sale of the asset to the buyer (trade 2).
Asset 4 (buyer) with grant 4 to the user, used once: not asset 1's business, but the user's.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from eth_utils import keccak

from dataseal.chain.contracts.deployment import DEFAULT_NOTICE_PERIOD, ContractConfig
from dataseal.chain.contracts.records import Registration, TradeTerms
from tests.conftest import Chain, pyevm_chain

CNY = b"CNY".ljust(32, b"\0")
DAY = 86_400


def h(label: str) -> bytes:
    return keccak(text=label)


def reg(label: str, parent_id: int = 0) -> Registration:
    return Registration(h(label), h(label + "-manifest"), 1, 0, parent_id)


@dataclass
class History:
    chain: Chain
    asset: int
    version: int
    derived: int
    other_asset: int
    grant: int  # the user's, used 4 times
    revoked_grant: int
    licence_grant: int
    other_grant: int
    licence_trade: int
    transfer_trade: int
    expires_at: int  # the expiry of grants 1 and 2


def make_history() -> History:
    chain = pyevm_chain(ContractConfig(notice_period=DEFAULT_NOTICE_PERIOD))
    admin, owner, user, buyer, reviewer = (chain.as_(s) for s in (chain.operator, chain.owner, chain.user,
                                                                 chain.buyer, chain.reviewer))
    admin.registry.grant_reviewer(chain.reviewer.address)
    asset = owner.registry.register(reg("dataset")).asset_id
    buyer.registry.object(asset, h("my earlier copy"))
    reviewer.registry.resolve_dispute(asset, False, h("evidence weak"))
    chain.travel(DEFAULT_NOTICE_PERIOD + 1)
    version = owner.registry.register_version(reg("dataset-v2", asset)).asset_id
    derived = user.registry.register(reg("derived", asset)).asset_id

    t = chain.now()
    expires = t + 60 * DAY
    grant = owner.grants.grant(asset, chain.user.address, h("analytics"), t - 1, expires, 100).grant_id
    for i in range(3):
        user.ledger.record_usage(grant, 5, h(f"job-{i}"))
        chain.travel(DAY)
    user.ledger.record_usage_batch(grant, 10, h("receipts-root"), 4)

    revoked_grant = owner.grants.grant(asset, chain.buyer.address, h("trial"), t - 1, expires, 10).grant_id
    chain.travel(DAY)
    owner.grants.revoke(revoked_grant, h("trial over"))

    t = chain.now()
    licence = TradeTerms.licence(asset, chain.owner.address, chain.buyer.address, 500, CNY, h("invoice-1"),
                                 h("reporting"), t - 1, t + 30 * DAY, 20)
    trade = owner.ledger.record_trade(licence, *chain.countersign(licence))
    buyer.ledger.record_usage(trade.grant_id, 2, h("buyer-job"))
    sale = TradeTerms.transfer(asset, chain.owner.address, chain.buyer.address, 9000, CNY, h("contract-2"))
    transfer = owner.ledger.record_trade(sale, *chain.countersign(sale))

    other_asset = buyer.registry.register(reg("other")).asset_id
    chain.travel(DEFAULT_NOTICE_PERIOD + 1)
    t = chain.now()
    other_grant = buyer.grants.grant(other_asset, chain.user.address, h("other"), t - 1, t + DAY, 5).grant_id
    user.ledger.record_usage(other_grant, 1, h("other-job"))
    return History(chain, asset, version, derived, other_asset, grant, revoked_grant, trade.grant_id, other_grant,
                   trade.trade_id, transfer.trade_id, expires)


@pytest.fixture(scope="module")
def history() -> History:
    return make_history()
