"""TransactionLedgerClient: usage metered under a grant, operator powers, and trades the buyer
countersigns, settled on chain (a transfer moves the token, a licence creates the buyer's grant)."""
from __future__ import annotations

import inspect

import pytest
from eth_utils import keccak

from dataseal.chain.contracts.records import (
    TRADE,
    USAGE,
    GrantStatus,
    NonceUse,
    OperatorChange,
    Registration,
    Settlement,
    TradeRecord,
    TradeTerms,
)
from dataseal.chain.contracts.transaction_ledger import TransactionLedgerClient
from dataseal.chain.errors import ContractRevert
from dataseal.errors import ErrorKind
from tests.conftest import Chain

CNY = b"CNY".ljust(32, b"\0")


def h(label: str) -> bytes:
    return keccak(text=label)


def registered(chain: Chain, label: str = "root") -> int:
    return chain.as_(chain.owner).registry.register(Registration(h(label), h("m"), 1, 0)).asset_id


def test_operator_powers_have_no_default() -> None:
    """TRADE lets the operator sell on the account's behalf: the caller names the powers, nothing widens them."""
    for method in (TransactionLedgerClient.set_operator, TransactionLedgerClient.submit_set_operator):
        powers = inspect.signature(method).parameters["powers"]
        assert powers.default is inspect.Parameter.empty and powers.kind is inspect.Parameter.KEYWORD_ONLY


def test_usage_is_metered_in_sequence_and_operator_powers_come_and_go(pyevm: Chain) -> None:
    owner, user, buyer = pyevm.as_(pyevm.owner), pyevm.as_(pyevm.user), pyevm.as_(pyevm.buyer)
    asset_id = registered(pyevm)
    t = pyevm.now()
    grant = owner.grants.grant(asset_id, pyevm.user.address, h("purpose"), t - 1, t + 3600, 10)
    assert [user.ledger.record_usage(grant.grant_id, 2, h(f"job-{i}")).sequence for i in range(3)] == [1, 2, 3]
    assert user.ledger.record_usage_batch(grant.grant_id, 3, h("receipts"), 3).sequence == 4
    assert owner.grants.remaining(grant.grant_id) == 1

    with pytest.raises(ContractRevert) as outsider:
        buyer.ledger.record_usage(grant.grant_id, 1, h("job-x"))
    assert outsider.value.name == "NotGranteeOrOperator" and "the USAGE power" in outsider.value.hint
    approved = user.ledger.set_operator(pyevm.buyer.address, powers=USAGE)
    assert approved == OperatorChange(pyevm.user.address, pyevm.buyer.address, USAGE, approved.tx)
    assert user.ledger.operator_powers(pyevm.user.address, pyevm.buyer.address) == USAGE
    assert buyer.ledger.record_usage(grant.grant_id, 1, h("job-y")).recorder == pyevm.buyer.address
    user.ledger.set_operator(pyevm.buyer.address, powers=0)
    assert user.ledger.operator_powers(pyevm.user.address, pyevm.buyer.address) == 0


def test_the_powers_are_the_contracts_and_nothing_else_is_one(pyevm: Chain) -> None:
    ledger = pyevm.as_(pyevm.owner).ledger
    assert (ledger.contract.functions.USAGE().call(), ledger.contract.functions.TRADE().call()) == (USAGE, TRADE)
    assert ledger.set_operator(pyevm.buyer.address, powers=USAGE | TRADE).powers == USAGE | TRADE
    with pytest.raises(ContractRevert) as beyond:
        ledger.set_operator(pyevm.buyer.address, powers=4)
    assert beyond.value.args_by_name == {"operator": pyevm.buyer.address, "powers": 4}
    assert beyond.value.kind is ErrorKind.INVALID_INPUT and "powers beyond USAGE=1 | TRADE=2" in beyond.value.hint


def test_a_batch_of_receipts_cannot_outnumber_its_units(pyevm: Chain) -> None:
    """v1 took any count; v2 needs 1 <= count <= units."""
    owner, user = pyevm.as_(pyevm.owner), pyevm.as_(pyevm.user)
    t = pyevm.now()
    grant = owner.grants.grant(registered(pyevm), pyevm.user.address, h("p"), t - 1, t + 3600, 10)
    with pytest.raises(ContractRevert) as refused:
        user.ledger.record_usage_batch(grant.grant_id, 2, h("receipts"), 3)
    assert refused.value.name == "InvalidReceiptCount" and refused.value.args_by_name == {"count": 3, "units": 2}
    assert "(3 receipts, 2 units given)" in refused.value.hint and "0 receipts" not in refused.value.hint


def test_a_licence_sale_creates_the_buyers_grant(pyevm: Chain) -> None:
    owner, buyer = pyevm.as_(pyevm.owner), pyevm.as_(pyevm.buyer)
    asset_id = registered(pyevm)
    t = pyevm.now()
    terms = TradeTerms.licence(asset_id, pyevm.owner.address, pyevm.buyer.address, 500, CNY, h("invoice"),
                               h("reporting"), t - 1, t + 86_400, 20)
    deadline, signature = pyevm.countersign(terms)
    trade = owner.ledger.record_trade(terms, deadline, signature)
    assert isinstance(trade, TradeRecord) and trade.trade_id == owner.ledger.total_trades() == 1
    assert (trade.settlement, trade.seller, trade.buyer, trade.recorder) == (
        Settlement.Licence, pyevm.owner.address, pyevm.buyer.address, pyevm.owner.address)
    grant = owner.grants.grant_of(trade.grant_id)
    assert (grant.grantee, grant.asset_id, grant.quota, grant.status) == (pyevm.buyer.address, asset_id, 20,
                                                                          GrantStatus.Active)
    assert buyer.ledger.record_usage(trade.grant_id, 5, h("job")).sequence == 1
    assert owner.ledger.nonce_of(pyevm.buyer.address) == 1
    assert owner.registry.asset(asset_id).owner == pyevm.owner.address  # a licence does not move the token

    with pytest.raises(ContractRevert) as replayed:  # the countersignature's nonce is spent
        owner.ledger.record_trade(terms, deadline, signature)
    assert replayed.value.args_by_name == {"expected": pyevm.buyer.address}


def test_a_transfer_sale_moves_the_token_and_the_seller_cannot_sell_it_again(pyevm: Chain) -> None:
    owner = pyevm.as_(pyevm.owner)
    asset_id = registered(pyevm)
    sale = TradeTerms.transfer(asset_id, pyevm.owner.address, pyevm.buyer.address, 900, CNY, h("contract"))
    trade = owner.ledger.record_trade(sale, *pyevm.countersign(sale))
    assert (trade.settlement, trade.grant_id) == (Settlement.Transfer, 0)
    assert owner.registry.asset(asset_id).owner == pyevm.buyer.address

    again = TradeTerms.transfer(asset_id, pyevm.owner.address, pyevm.user.address, 900, CNY, h("again"))
    with pytest.raises(ContractRevert) as refused:
        owner.ledger.record_trade(again, *pyevm.countersign(again))
    assert refused.value.name == "SellerNotOwner"
    assert refused.value.args_by_name == {"assetId": asset_id, "seller": pyevm.owner.address,
                                          "owner": pyevm.buyer.address}


def test_only_the_seller_or_its_trade_operator_records_a_sale(pyevm: Chain) -> None:
    owner, agent = pyevm.as_(pyevm.owner), pyevm.as_(pyevm.user)
    asset_id = registered(pyevm)
    sale = TradeTerms.transfer(asset_id, pyevm.owner.address, pyevm.buyer.address, 1, CNY, h("s"))
    deadline, signature = pyevm.countersign(sale)
    with pytest.raises(ContractRevert) as stranger:
        agent.ledger.record_trade(sale, deadline, signature)
    assert stranger.value.name == "NotSellerOrOperator" and "the TRADE power" in stranger.value.hint
    owner.ledger.set_operator(pyevm.user.address, powers=USAGE)
    with pytest.raises(ContractRevert) as usage_only:  # usage powers do not sell
        agent.ledger.record_trade(sale, deadline, signature)
    assert usage_only.value.args_by_name == {"assetId": asset_id, "caller": pyevm.user.address,
                                             "seller": pyevm.owner.address}
    owner.ledger.set_operator(pyevm.user.address, powers=TRADE)
    with pytest.raises(ContractRevert) as no_token_approval:  # TRADE sells licences; the asset needs the token's
        agent.ledger.record_trade(sale, deadline, signature)
    assert no_token_approval.value.name == "NotApprovedForTransfer" and "approve" in no_token_approval.value.hint
    owner.registry.approve(pyevm.user.address, asset_id)
    assert agent.ledger.record_trade(sale, deadline, signature).recorder == pyevm.user.address
    assert owner.registry.asset(asset_id).owner == pyevm.buyer.address


def test_the_buyers_countersignature_is_checked(pyevm: Chain) -> None:
    owner, buyer = pyevm.as_(pyevm.owner), pyevm.as_(pyevm.buyer)
    asset_id = registered(pyevm)
    sale = TradeTerms.transfer(asset_id, pyevm.owner.address, pyevm.buyer.address, 1, CNY, h("s"))
    with pytest.raises(ContractRevert) as forged:  # the seller cannot sign for the buyer
        owner.ledger.record_trade(sale, *pyevm.countersign(sale, signer=pyevm.owner.address))
    assert forged.value.name == "InvalidSignature" and forged.value.kind is ErrorKind.INVALID_INPUT

    stale = pyevm.now() - 1
    with pytest.raises(ContractRevert) as expired:
        owner.ledger.record_trade(sale, *pyevm.countersign(sale, deadline=stale))
    assert expired.value.name == "SignatureExpired" and expired.value.args_by_name["deadline"] == stale

    deadline, signature = pyevm.countersign(sale)
    used = buyer.ledger.use_nonce()  # the buyer changes its mind before the seller sends
    assert used == NonceUse("TransactionLedger", pyevm.buyer.address, 0, used.tx)
    with pytest.raises(ContractRevert) as voided:
        owner.ledger.record_trade(sale, deadline, signature)
    assert voided.value.name == "InvalidSignature"


def test_a_transfer_with_licence_terms_is_refused(pyevm: Chain) -> None:
    owner = pyevm.as_(pyevm.owner)
    asset_id = registered(pyevm)
    t = pyevm.now()
    licence = TradeTerms.licence(asset_id, pyevm.owner.address, pyevm.buyer.address, 1, CNY, h("s"), h("p"), t,
                                 t + 60, 1)
    mixed = TradeTerms(**{**licence.__dict__, "settlement": Settlement.Transfer})
    with pytest.raises(ContractRevert) as refused:
        owner.ledger.record_trade(mixed, *pyevm.countersign(mixed))
    assert refused.value.args_by_name == {"settlement": "Transfer"} and refused.value.kind is ErrorKind.INVALID_INPUT
