"""TransactionLedgerClient: usage metered under a grant, operators, trades and who may record them."""
from __future__ import annotations

import pytest
from eth_utils import keccak

from dataseal.chain.contracts.records import OperatorChange, TradeRecord
from dataseal.chain.errors import ContractRevert
from tests.conftest import Chain

CNY = b"CNY".ljust(32, b"\0")


def h(label: str) -> bytes:
    return keccak(text=label)


def test_usage_is_metered_in_sequence_and_operators_come_and_go(pyevm: Chain) -> None:
    owner, user, buyer = pyevm.as_(pyevm.owner), pyevm.as_(pyevm.user), pyevm.as_(pyevm.buyer)
    asset = owner.registry.register(h("root"), h("m"), 1, 0)
    t = pyevm.now()
    grant = owner.grants.grant(asset.asset_id, pyevm.user.address, h("purpose"), t - 1, t + 3600, 10)
    assert [user.ledger.record_usage(grant.grant_id, 2, h(f"job-{i}")).sequence for i in range(3)] == [1, 2, 3]
    assert user.ledger.record_usage_batch(grant.grant_id, 3, h("receipts"), 5).sequence == 4
    assert owner.grants.remaining(grant.grant_id) == 1

    with pytest.raises(ContractRevert) as outsider:
        buyer.ledger.record_usage(grant.grant_id, 1, h("job-x"))
    assert outsider.value.name == "NotGranteeOrOperator"
    approved = user.ledger.set_operator(pyevm.buyer.address)
    assert approved == OperatorChange(pyevm.user.address, pyevm.buyer.address, True, approved.tx)
    assert user.ledger.is_operator(pyevm.user.address, pyevm.buyer.address) is True
    assert buyer.ledger.record_usage(grant.grant_id, 1, h("job-y")).recorder == pyevm.buyer.address
    user.ledger.set_operator(pyevm.buyer.address, approved=False)
    assert user.ledger.is_operator(pyevm.user.address, pyevm.buyer.address) is False


def test_a_trade_is_recorded_by_its_seller_only(pyevm: Chain) -> None:
    owner, buyer = pyevm.as_(pyevm.owner), pyevm.as_(pyevm.buyer)
    asset = owner.registry.register(h("root"), h("m"), 1, 0)
    with pytest.raises(ContractRevert) as not_seller:
        buyer.ledger.record_trade(asset.asset_id, pyevm.buyer.address, pyevm.owner.address, 10, CNY, h("s"))
    assert not_seller.value.name == "NotSellerOrOperator"
    trade = owner.ledger.record_trade(asset.asset_id, pyevm.buyer.address, pyevm.owner.address, 10, CNY, h("s"))
    assert isinstance(trade, TradeRecord) and trade.trade_id == owner.ledger.total_trades() == 1
