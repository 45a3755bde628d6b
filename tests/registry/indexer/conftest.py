"""Fixtures of the indexer tests: a story of events on a chain (assets, versions, grants, usage, a revocation,
trades, a batch), read back through the indexer into a fresh database."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from eth_utils import keccak
from sqlalchemy import select
from web3 import Web3

from dataseal.chain.contracts.deploy import deploy_contracts
from dataseal.chain.contracts.records import Registration, TradeTerms
from dataseal.chain.sending.sender import LocalSender
from dataseal.registry.db import Database
from dataseal.registry.db.models.chain import CHAIN_TABLES, table_of
from tests.conftest import Chain

CNY = b"CNY".ljust(32, b"\0")


def h(label: str) -> bytes:
    return keccak(text=label)


@dataclass(frozen=True)
class Story:
    """The ids a :func:`tell_story` made."""

    asset: int  # registered by owner, sold as a licence; its grant used and revoked
    version: int  # a new version of ``asset``
    sold: int  # registered by owner, sold (token transferred) to buyer
    grant: int  # owner -> user on ``asset``: 3 usage records and a batch, then revoked
    licence: int  # the grant the licence sale created for buyer
    licence_trade: int
    sale_trade: int
    batch: int


def tell_story(chain: Chain, label: str = "story") -> Story:
    """Events of every kind the projections follow, on ``chain``'s deployment."""
    owner, user = chain.as_(chain.owner), chain.as_(chain.user)
    asset = owner.registry.register(Registration(h(f"{label}-root"), h("manifest"), 1, 0)).asset_id
    version = owner.registry.register_version(
        Registration(h(f"{label}-root-v2"), h("manifest-v2"), 1, 0, parent_id=asset)).asset_id
    sold = owner.registry.register(Registration(h(f"{label}-sold"), h("manifest-sold"), 3, 1)).asset_id
    t = chain.now()
    grant = owner.grants.grant(asset, chain.user.address, h("research"), t - 1, t + 86_400, 100).grant_id
    for i in range(3):
        user.ledger.record_usage(grant, 2, h(f"{label}-job-{i}"))
    user.ledger.record_usage_batch(grant, 5, h(f"{label}-receipts"), 2)
    owner.grants.revoke(grant, h("breach"))
    terms = TradeTerms.licence(asset, chain.owner.address, chain.buyer.address, 500, CNY, h("invoice"),
                               h("reporting"), t - 1, t + 86_400, 20)
    licence_trade = owner.ledger.record_trade(terms, *chain.countersign(terms))
    sale = TradeTerms.transfer(sold, chain.owner.address, chain.buyer.address, 900, CNY, h("contract"))
    sale_trade = owner.ledger.record_trade(sale, *chain.countersign(sale))
    batch = owner.registry.anchor_batch(h(f"{label}-batch"), 7, h("batch-manifest")).batch_id
    return Story(asset, version, sold, grant, licence_trade.grant_id, licence_trade.trade_id, sale_trade.trade_id,
                 batch)


def dump(db: Database, *, ids: bool = True) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every chain table, sorted (without the events' ids and the state's time when ``ids`` is
    False, and without the checkpoints, which depend on where the tip was at each sync)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with db.session() as session:
        for model in CHAIN_TABLES:
            table = table_of(model)
            columns = [c for c in table.c if ids or c.name not in ("id", "event_id", "updated_at")]
            if not ids and table.name == "chain_checkpoint":
                continue
            rows = session.execute(select(*columns)).all()
            out[table.name] = sorted(tuple(repr(v) for v in row) for row in rows)
    return out


def node_chain(url: str) -> Chain:
    """dataseal freshly deployed on the node at ``url`` (hardhat or anvil), with five new accounts funded by the
    node's first one, whose keys the chain holds (for countersigning)."""
    w3 = Web3(Web3.HTTPProvider(url))
    accounts = [Account.create() for _ in range(5)]
    funder = w3.eth.accounts[0]
    for account in accounts:
        w3.eth.wait_for_transaction_receipt(
            w3.eth.send_transaction({"from": funder, "to": account.address, "value": 10**20})
        )
    operator, owner, user, buyer, reviewer = (LocalSender(a, endpoint=url) for a in accounts)
    return Chain(w3, deploy_contracts(w3, operator), operator, owner, user, buyer, reviewer,
                 keys={a.address: a for a in accounts})


@pytest.fixture
def anvil(anvil_url: str) -> Chain:
    """dataseal freshly deployed on the session's anvil node."""
    return node_chain(anvil_url)


@pytest.fixture
def hardhat_chain(hardhat_url: str) -> Chain:
    """dataseal freshly deployed on the session's hardhat node, the test holding the accounts' keys."""
    return node_chain(hardhat_url)
