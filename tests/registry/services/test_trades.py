"""Trades on a py-evm chain: offer, the buyer's countersignature, recorded once; transfer and licence."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_abi import encode as abi_encode
from eth_utils import function_abi_to_4byte_selector, keccak

from dataseal.chain.contracts.records import TRADE, GrantStatus, Settlement
from dataseal.errors import ErrorKind
from dataseal.registry.db.models.receipts import RECORDED, TradeOfferRecord
from dataseal.registry.registry import Registry
from dataseal.registry.scope import compute_scope_root
from dataseal.registry.services.grants import grant_state
from dataseal.registry.services.trades import (
    LicenceOffer,
    TradeError,
    offer_trade,
    read_offer,
    read_signature,
    record_trade,
    sign_offer,
    verify_signature,
)
from tests.conftest import Chain
from tests.registry.services.conftest import Crash, crash_at, register_asset

SETTLEMENT = keccak(text="sale contract no. 7")


def test_a_transfer_is_offered_signed_and_recorded_once(registry: Registry, pyevm: Chain, tmp_path: Path) -> None:
    asset_id = register_asset(pyevm)
    offer = offer_trade(registry, asset_id, pyevm.buyer.address, 50_000, "CNY", SETTLEMENT, deadline="1d")
    assert offer.seller == pyevm.owner.address and offer.settlement == "transfer" and offer.licence is None
    (tmp_path / "offer.json").write_text(offer.to_text())
    offer = read_offer(tmp_path / "offer.json")
    signature = sign_offer(registry, offer, account=pyevm.keys[pyevm.buyer.address])
    (tmp_path / "sig.json").write_text(signature.to_text())
    signature = read_signature(tmp_path / "sig.json")
    verify_signature(offer, signature)

    done = record_trade(registry, offer, signature, sender=pyevm.owner)
    assert not done.already_recorded and done.record.settlement == Settlement.Transfer
    assert done.record.buyer == pyevm.buyer.address and done.record.price == 50_000 and done.record.grant_id == 0
    assert pyevm.reader.registry.asset(asset_id).owner == pyevm.buyer.address
    with registry.db.session() as session:
        row = session.get(TradeOfferRecord, offer.hash_hex)
        assert row is not None and row.state == RECORDED and row.trade_id == done.record.trade_id

    count = pyevm.w3.eth.get_transaction_count(pyevm.owner.address)
    again = record_trade(registry, offer, signature, sender=pyevm.owner)
    assert again.already_recorded and again.record == done.record
    assert pyevm.w3.eth.get_transaction_count(pyevm.owner.address) == count


@pytest.mark.parametrize("moment", ["prepared", "submitting", "submitted", "sent", "mined"])
def test_a_crash_at_any_moment_of_a_trade_is_finished_by_the_rerun(registry: Registry, pyevm: Chain,
                                                                    moment: str) -> None:
    """``trade:submitted``: the node took (and mined) the transaction, its hash not yet recorded."""
    asset_id = register_asset(pyevm)
    licence = LicenceOffer("risk model training", "now", "30d", quota=10)
    offer = offer_trade(registry, asset_id, pyevm.buyer.address, 100, "CNY", SETTLEMENT, licence=licence)
    signature = sign_offer(registry, offer, account=pyevm.keys[pyevm.buyer.address])
    count = pyevm.w3.eth.get_transaction_count(pyevm.owner.address)
    with pytest.raises(Crash):
        record_trade(registry, offer, signature, sender=pyevm.owner, hook=crash_at(f"trade:{moment}"))
    again = record_trade(registry, offer, signature, sender=pyevm.owner)
    assert pyevm.w3.eth.get_transaction_count(pyevm.owner.address) == count + 1
    assert again.already_recorded == (moment in ("submitted", "sent", "mined"))
    assert pyevm.reader.ledger.total_trades() == 1 and pyevm.reader.grants.total_grants() == 1
    with registry.db.session() as session:
        row = session.get(TradeOfferRecord, offer.hash_hex)
        assert row is not None and row.state == RECORDED and row.tx_hash == again.record.tx.tx_hash


def test_a_licence_sale_creates_the_buyers_grant(registry: Registry, pyevm: Chain) -> None:
    asset_id = register_asset(pyevm)
    licence = LicenceOffer("risk model training", "now", "365d", quota=100, scope=range(50))
    offer = offer_trade(registry, asset_id, pyevm.buyer.address, 9_900, "CNY", SETTLEMENT, licence=licence)
    assert offer.licence is not None and offer.licence.scope_root == "0x" + compute_scope_root(range(50)).hex()
    signature = sign_offer(registry, offer, account=pyevm.keys[pyevm.buyer.address])
    done = record_trade(registry, offer, signature, sender=pyevm.owner)
    assert done.record.settlement == Settlement.Licence and done.record.grant_id >= 1
    state = grant_state(registry, done.record.grant_id)
    assert state.grant.grantee == pyevm.buyer.address and state.grant.status == GrantStatus.Active
    assert state.purpose == "risk model training" and state.grant.quota == 100
    assert pyevm.reader.registry.asset(asset_id).owner == pyevm.owner.address  # a licence keeps the asset


def test_what_the_chain_would_refuse_is_refused_first(registry: Registry, pyevm: Chain, tmp_path: Path) -> None:
    asset_id = register_asset(pyevm)
    with pytest.raises(TradeError, match="cannot be the zero address or the seller"):
        offer_trade(registry, asset_id, pyevm.owner.address, 1, "CNY", SETTLEMENT)
    with pytest.raises(TradeError, match="the settlement hash is zero"):
        offer_trade(registry, asset_id, pyevm.buyer.address, 1, "CNY", b"\0" * 32)
    with pytest.raises(TradeError, match="the settlement hash '0x12' is not a 32-byte hash"):
        offer_trade(registry, asset_id, pyevm.buyer.address, 1, "CNY", "0x12")
    with pytest.raises(TradeError, match=f"{pyevm.user.address} does not own asset {asset_id}"):
        offer_trade(registry, asset_id, pyevm.buyer.address, 1, "CNY", SETTLEMENT, seller=pyevm.user.address)
    with pytest.raises(TradeError, match="currency code fits in 32 bytes"):
        offer_trade(registry, asset_id, pyevm.buyer.address, 1, "C" * 33, SETTLEMENT)

    offer = offer_trade(registry, asset_id, pyevm.buyer.address, 1, "CNY", SETTLEMENT, deadline="1h")
    with pytest.raises(TradeError, match="the offer's buyer is .* but the signing account is") as caught:
        sign_offer(registry, offer, account=pyevm.keys[pyevm.user.address])
    assert caught.value.kind == ErrorKind.CONFLICT
    forged = sign_offer(registry, offer, account=pyevm.keys[pyevm.buyer.address])
    cheaper = offer.model_copy(update={"price": 0})
    with pytest.raises(TradeError, match="the signature is of offer"):
        record_trade(registry, cheaper, forged, sender=pyevm.owner)
    with pytest.raises(TradeError, match="was not made by the buyer"):
        record_trade(registry, offer, forged.model_copy(update={"nonce": 5}), sender=pyevm.owner)
    signature = sign_offer(registry, offer, account=pyevm.keys[pyevm.buyer.address])
    with pytest.raises(TradeError, match="is neither the seller .* nor an operator it gave the TRADE power"):
        record_trade(registry, offer, signature, sender=pyevm.user)
    pyevm.as_(pyevm.buyer).ledger.use_nonce()  # the buyer voids its signature
    with pytest.raises(TradeError, match="made with nonce 0, but the buyer's next nonce is 1"):
        record_trade(registry, offer, signature, sender=pyevm.owner)
    signature = sign_offer(registry, offer, account=pyevm.keys[pyevm.buyer.address])
    pyevm.travel(7200)
    with pytest.raises(TradeError, match="the offer's deadline .* has passed"):
        record_trade(registry, offer, signature, sender=pyevm.owner)


def test_documents_of_another_kind_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"kind": "dataseal/usage-receipt", "version": 1}))
    with pytest.raises(TradeError, match="is not a dataseal/trade-offer document"):
        read_offer(path)
    path.write_text(json.dumps({"kind": "dataseal/trade-signature", "version": 1, "offerHash": "0x12"}))
    with pytest.raises(TradeError, match="is invalid: "):
        read_signature(path)


def test_a_second_licence_offer_with_other_terms_is_a_new_trade(registry: Registry, pyevm: Chain) -> None:
    """Same asset, buyer, price, currency and settlement hash as a recorded trade, but another window and quota:
    not the recorded trade (its TradeRecorded event carries none of the licence terms)."""
    asset_id = register_asset(pyevm)
    buyer = pyevm.keys[pyevm.buyer.address]
    first = offer_trade(registry, asset_id, pyevm.buyer.address, 500, "CNY", SETTLEMENT,
                        licence=LicenceOffer("reporting", "now", "30d", quota=10))
    done = record_trade(registry, first, sign_offer(registry, first, account=buyer), sender=pyevm.owner)
    second = offer_trade(registry, asset_id, pyevm.buyer.address, 500, "CNY", SETTLEMENT,
                         licence=LicenceOffer("reporting", "now", "90d", quota=99))
    signature = sign_offer(registry, second, account=buyer)
    assert signature.nonce == 1

    again = record_trade(registry, second, signature, sender=pyevm.owner)
    assert not again.already_recorded and again.record.trade_id == done.record.trade_id + 1
    assert pyevm.reader.ledger.nonce_of(pyevm.buyer.address) == 2  # the buyer's nonce 1 was used by this trade
    state = grant_state(registry, again.record.grant_id)
    assert state.grant.quota == 99 and state.grant.expires_at == second.licence.expires_at  # type: ignore[union-attr]
    with registry.db.session() as session:
        row = session.get(TradeOfferRecord, second.hash_hex)
        assert row is not None and row.trade_id == again.record.trade_id and row.tx_hash == again.record.tx.tx_hash
    assert record_trade(registry, second, signature, sender=pyevm.owner).record == again.record  # once


def test_an_offer_that_differs_only_by_its_deadline_is_a_new_trade(registry: Registry, pyevm: Chain) -> None:
    asset_id = register_asset(pyevm)
    buyer = pyevm.keys[pyevm.buyer.address]
    licence = LicenceOffer("reporting", 2_000_000_000, 2_100_000_000, quota=10)
    first = offer_trade(registry, asset_id, pyevm.buyer.address, 500, "CNY", SETTLEMENT, licence=licence,
                        deadline="1d")
    second = offer_trade(registry, asset_id, pyevm.buyer.address, 500, "CNY", SETTLEMENT, licence=licence,
                         deadline="2d")
    assert first.terms() == second.terms() and first.hash_hex != second.hash_hex
    done = record_trade(registry, first, sign_offer(registry, first, account=buyer), sender=pyevm.owner)
    signature = sign_offer(registry, second, account=buyer)
    again = record_trade(registry, second, signature, sender=pyevm.owner)
    assert not again.already_recorded and again.record.trade_id == done.record.trade_id + 1
    assert pyevm.reader.ledger.total_trades() == 2


def _deploy_forwarder(chain: Chain, target: str) -> str:
    """A contract that calls ``target`` with the calldata it is given (and reverts if that call does): a relay, so
    that the chain's ``recordTrade`` call is not the transaction's own input."""
    runtime = (bytes.fromhex("3660006000376000600036600060007" "3") + bytes.fromhex(target[2:])
               + bytes.fromhex("5af1602e5760006000fd5b00"))
    assert len(runtime) == 0x30
    init = bytes.fromhex("603080600b6000396000f3") + runtime
    receipt = chain.owner.send(chain.w3, {"data": init, "gas": 200_000})
    assert receipt["status"] == 1
    return str(receipt["contractAddress"])


def test_a_trade_relayed_through_a_contract_is_matched_by_its_grant_and_nonce(registry: Registry,
                                                                                 pyevm: Chain) -> None:
    """The transaction's input is the relay's, not a recordTrade call: the licence's grant and the buyer's nonce
    tell this offer's trade from another's."""
    from dataseal.registry.services.trades import RECORD_TRADE_SELECTOR, get_trade_call

    asset_id = register_asset(pyevm)
    buyer = pyevm.keys[pyevm.buyer.address]
    relay = _deploy_forwarder(pyevm, pyevm.deployment.transaction_ledger)
    pyevm.as_(pyevm.owner).ledger.set_operator(relay, powers=TRADE)
    first = offer_trade(registry, asset_id, pyevm.buyer.address, 500, "CNY", SETTLEMENT,
                        licence=LicenceOffer("reporting", "now", "30d", quota=10))
    signature = sign_offer(registry, first, account=buyer)
    data = RECORD_TRADE_SELECTOR + abi_encode(["(uint256,address,address,uint256,bytes32,bytes32,uint8,bytes32,"
                                               "uint64,uint64,uint64,bytes32)", "uint256", "bytes"],
                                              [first.terms().as_tuple(), first.deadline,
                                               bytes.fromhex(signature.signature[2:])])
    assert get_trade_call(pyevm.deployment.transaction_ledger, data, pyevm.deployment.transaction_ledger) == (
        first.terms(), first.deadline)
    assert get_trade_call(relay, data, pyevm.deployment.transaction_ledger) is None
    assert get_trade_call(pyevm.deployment.transaction_ledger, data[:40], pyevm.deployment.transaction_ledger) is None
    assert pyevm.owner.send(pyevm.w3, {"to": relay, "data": data, "gas": 1_000_000})["status"] == 1
    assert pyevm.reader.ledger.total_trades() == 1

    count = pyevm.w3.eth.get_transaction_count(pyevm.owner.address)
    found = record_trade(registry, first, signature, sender=pyevm.owner)
    assert found.already_recorded and found.record.recorder == relay and found.record.trade_id == 1
    second = offer_trade(registry, asset_id, pyevm.buyer.address, 500, "CNY", SETTLEMENT,
                         licence=LicenceOffer("reporting", "now", "30d", quota=11))
    done = record_trade(registry, second, sign_offer(registry, second, account=buyer), sender=pyevm.owner)
    assert not done.already_recorded and done.record.trade_id == 2
    assert pyevm.w3.eth.get_transaction_count(pyevm.owner.address) == count + 1


def test_the_record_trade_selector_is_the_ledgers() -> None:
    from dataseal.chain.contracts.artifacts import load_artifact
    from dataseal.registry.services.trades import RECORD_TRADE_SELECTOR

    (item,) = [i for i in load_artifact("TransactionLedger").abi if i.get("name") == "recordTrade"]
    assert function_abi_to_4byte_selector(item) == RECORD_TRADE_SELECTOR
