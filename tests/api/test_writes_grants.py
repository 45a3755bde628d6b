"""POST /grants (relayed or by the operator), POST /grants/{id}/usage and POST /trades over the py-evm world of
:mod:`tests.api.writes_support`: each through polling to its result, and what is refused at once."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount

from dataseal.chain.accounts.eip712 import sign_grant
from dataseal.chain.contracts.deployment import ContractConfig
from dataseal.chain.contracts.records import USAGE, ZERO32
from dataseal.registry.receipts import purpose_hash
from dataseal.registry.services.relay_writes import grants_domain
from dataseal.registry.services.trades import offer_trade, sign_offer
from dataseal.registry.services.usage_receipts import new_receipt
from tests.api.conftest import error_of
from tests.api.writes_support import WriteWorld, relay_body, started_world
from tests.conftest import pyevm_chain

PURPOSE = "model evaluation"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WriteWorld]:
    yield from started_world(pyevm_chain(ContractConfig()), tmp_path_factory.mktemp("grants"))


def operator_asset(world: WriteWorld, name: str) -> int:
    sealed = world.seal(name, name.encode() * 300, name)
    done = world.wait(world.operator("/assets", {"manifest": sealed.manifest.to_json_data(),
                                                 "leaves": ["0x" + leaf.hex() for leaf in sealed.leaves]}))
    assert done["status"] == "mined", done
    return int(done["result"]["asset_id"])


def user_asset(world: WriteWorld, name: str) -> int:
    user = world.chain.keys[world.chain.user.address]
    sealed = world.seal(name, name.encode() * 300, name)
    done = world.wait(world.signed("/assets/relay", relay_body(world, sealed, user), user))
    assert done["status"] == "mined", done
    return int(done["result"]["asset_id"])


def terms(world: WriteWorld, asset_id: int, grantee: str, quota: int = 5) -> dict[str, Any]:
    now = world.chain.now()
    return {"asset_id": asset_id, "grantee": grantee, "purpose": PURPOSE, "valid_from": now - 10,
            "expires_at": now + 30 * 86400, "quota": quota}


def signed_grant(world: WriteWorld, body: dict[str, Any], owner: LocalAccount, *, deadline: int | None = None,
                 signer: LocalAccount | None = None) -> dict[str, Any]:
    deadline = world.chain.now() + 3600 if deadline is None else deadline
    nonce = world.chain.reader.grants.nonce_of(owner.address)
    signature = sign_grant((signer or owner).key, grants_domain(world.registry), asset_id=body["asset_id"],
                           grantee=body["grantee"], purpose=purpose_hash(body["purpose"]),
                           valid_from=body["valid_from"], expires_at=body["expires_at"], quota=body["quota"],
                           scope_root=ZERO32, nonce=nonce, deadline=deadline)
    return {**body, "deadline": deadline, "signature": "0x" + signature.hex()}


def operator_grant(world: WriteWorld, asset_id: int, grantee: str, quota: int = 5) -> int:
    done = world.wait(world.operator("/grants", terms(world, asset_id, grantee, quota)))
    assert done["status"] == "mined", done
    return int(done["result"]["grant_id"])


def receipt_json(world: WriteWorld, grant_id: int, job: str, units: int) -> dict[str, Any]:
    now = world.chain.now()
    receipt = new_receipt(world.registry, grant_id, job, unit="chunk", indexes=["0-1"], started_at=now,
                          ended_at=now, units=units, result_hash="0x" + "ab" * 32, check=False)
    return receipt.to_json_data()


# ---------------------------------------------------------------------------------- grants


def test_the_operator_grants_an_asset_it_owns(world: WriteWorld) -> None:
    asset_id = operator_asset(world, "g1")
    grant_id = operator_grant(world, asset_id, world.chain.user.address)
    made = world.chain.reader.grants.grant_of(grant_id)
    assert made.grantee == world.chain.user.address and made.quota == 5
    again = world.operator("/grants", terms(world, asset_id, world.chain.user.address))
    assert again.status_code == 202  # the same terms, now with another chain time: another grant request


def test_a_relayed_grant_is_the_owners(world: WriteWorld) -> None:
    user = world.chain.keys[world.chain.user.address]
    asset_id = user_asset(world, "g2")
    body = signed_grant(world, terms(world, asset_id, world.chain.buyer.address), user)
    done = world.wait(world.signed("/grants", body, user))
    assert done["status"] == "mined", done
    assert done["result"]["grantor"] == user.address and done["result"]["grantee"] == world.chain.buyer.address
    replay = world.operator("/grants", body)  # the same signature again: the same operation
    assert replay.status_code == 202 and replay.json()["operation"] == done["operation"]


def test_grants_refused_at_once(world: WriteWorld) -> None:
    user = world.chain.keys[world.chain.user.address]
    buyer = world.chain.keys[world.chain.buyer.address]
    asset_id = user_asset(world, "g3")
    base = terms(world, asset_id, world.chain.buyer.address)
    assert "owned by" in error_of(world.operator("/grants", base), 403)["message"]  # not the operator's asset
    error_of(world.operator("/grants", {**base, "asset_id": 999}), 404)
    forged = signed_grant(world, base, user, signer=buyer)
    assert buyer.address in error_of(world.operator("/grants", forged), 400)["message"]
    expired = signed_grant(world, base, user, deadline=world.chain.now() - 1)
    assert error_of(world.operator("/grants", expired), 400)["options"] == ["deadline"]
    no_deadline = {**signed_grant(world, base, user), "deadline": None}
    error_of(world.operator("/grants", no_deadline), 422)
    by_other = world.signed("/grants", signed_grant(world, base, user), buyer)
    assert user.address in error_of(by_other, 403)["message"]
    error_of(world.client.request("POST", "/grants", json=base), 401)


def test_a_grant_to_the_zero_address_is_refused_at_once(world: WriteWorld) -> None:
    user = world.chain.keys[world.chain.user.address]
    zero = "0x" + "00" * 20
    relayed = signed_grant(world, terms(world, user_asset(world, "g4"), zero), user)
    error = error_of(world.operator("/grants", relayed), 400)
    assert "zero address" in error["message"] and error["options"] == ["grantee"]
    own = terms(world, operator_asset(world, "g5"), zero)
    assert error_of(world.operator("/grants", own), 400)["options"] == ["grantee"]


def test_a_refused_window_names_the_request_s_field(world: WriteWorld) -> None:
    user = world.chain.keys[world.chain.user.address]
    now = world.chain.now()
    ended = {**terms(world, operator_asset(world, "g6"), world.chain.user.address), "expires_at": now - 5,
             "valid_from": now - 50}
    assert error_of(world.operator("/grants", ended), 400)["options"] == ["expires_at"]
    relayed = signed_grant(world, {**terms(world, user_asset(world, "g7"), world.chain.buyer.address),
                                   "expires_at": now - 5, "valid_from": now - 50}, user)
    assert error_of(world.operator("/grants", relayed), 400)["options"] == ["expires_at"]
    beyond = {**terms(world, 1, world.chain.user.address), "expires_at": 2**40}  # the contract's uint40 limit
    assert error_of(world.operator("/grants", beyond), 422)


@pytest.mark.parametrize("path", ["/grants", "/grants/1/usage", "/trades"])
def test_a_write_sent_as_anything_but_json_is_415(world: WriteWorld, path: str) -> None:
    answer = world.client.request("POST", path, content=b"asset_id=1",
                                  headers={"Authorization": f"Bearer {world.api_key}",
                                           "Content-Type": "application/x-www-form-urlencoded"})
    assert "application/json" in error_of(answer, 415)["hint"]
    documented = path.replace("/1/", "/{grant_id}/")
    assert "415" in world.app.openapi()["paths"][documented]["post"]["responses"]


# ---------------------------------------------------------------------------------- usage


def test_usage_by_the_operator_as_grantee_until_the_quota_is_used(world: WriteWorld) -> None:
    asset_id = operator_asset(world, "u1")
    grant_id = operator_grant(world, asset_id, world.chain.owner.address, quota=4)
    done = world.wait(world.operator(f"/grants/{grant_id}/usage",
                                     {"units": 3, "receipt": receipt_json(world, grant_id, "job-1", 3)}))
    assert done["status"] == "mined", done
    assert done["result"]["sequence"] >= 0 and done["tx_hash"]
    assert world.chain.reader.grants.remaining(grant_id) == 1
    over = world.operator(f"/grants/{grant_id}/usage", {"units": 2,
                                                        "receipt": receipt_json(world, grant_id, "job-2", 2)})
    assert "left" in error_of(over, 409)["message"]
    error_of(world.operator("/grants/999/usage", {"units": 1, "receipt": receipt_json(world, grant_id, "j", 1)}),
             404)
    wrong = world.operator(f"/grants/{grant_id}/usage", {"units": 1, "receipt": {"kind": "nope"}})
    assert error_of(wrong, 400)["options"] == ["receipt"]
    other_units = world.operator(f"/grants/{grant_id}/usage",
                                 {"units": 1, "receipt": receipt_json(world, grant_id, "job-3", 2)})
    assert error_of(other_units, 400)["options"] == ["units"]


def test_usage_needs_the_grantee_to_authorise_the_operator(world: WriteWorld) -> None:
    asset_id = operator_asset(world, "u2")
    grant_id = operator_grant(world, asset_id, world.chain.user.address)
    body = {"units": 1, "receipt": receipt_json(world, grant_id, "job-u2", 1)}
    refused = error_of(world.operator(f"/grants/{grant_id}/usage", body), 403)
    assert world.chain.user.address in refused["message"] and "USAGE" in refused["hint"]
    world.chain.as_(world.chain.user).ledger.set_operator(world.chain.owner.address, powers=USAGE)
    buyer = world.chain.keys[world.chain.buyer.address]
    error_of(world.signed(f"/grants/{grant_id}/usage", body, buyer), 403)  # signed, but not by the grantee
    user = world.chain.keys[world.chain.user.address]
    done = world.wait(world.signed(f"/grants/{grant_id}/usage", body, user))
    assert done["status"] == "mined", done
    assert world.chain.reader.grants.remaining(grant_id) == 4


# ---------------------------------------------------------------------------------- trades


def test_a_trade_recorded_by_the_operator_as_seller(world: WriteWorld) -> None:
    asset_id = operator_asset(world, "t1")
    offer = offer_trade(world.registry, asset_id, world.chain.buyer.address, 1000, "EUR", "0x" + "11" * 32,
                        deadline=world.chain.now() + 86400)
    signature = sign_offer(world.registry, offer, account=world.chain.keys[world.chain.buyer.address])
    body = {"offer": offer.to_json_data(), "signature": signature.to_json_data()}
    done = world.wait(world.operator("/trades", body))
    assert done["status"] == "mined", done
    assert done["result"]["trade_id"] >= 1
    assert world.chain.reader.registry.asset(asset_id).owner == world.chain.buyer.address  # a transfer
    used = world.operator("/trades", body)  # the same trade: the same operation
    assert used.json()["operation"] == done["operation"]
    forged = {**body, "signature": {**body["signature"], "signature": "0x" + "00" * 65}}
    assert error_of(world.operator("/trades", forged), 400)
    bad_offer = error_of(world.operator("/trades", {**body, "offer": {**body["offer"], "price": -1}}), 400)
    assert bad_offer["options"] == ["offer"], bad_offer
    bad_signature = error_of(world.operator("/trades", {**body, "signature": {"kind": "nope"}}), 400)
    assert bad_signature["options"] == ["signature"], bad_signature
