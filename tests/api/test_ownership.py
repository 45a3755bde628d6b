"""Ownership over HTTP: the caller signs a one-time server challenge (EIP-191) with the owner's key; the API says
whether the signer owns the asset on chain. Signed here with eth_account, as a client would."""
from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_keys.constants import SECPK1_N
from fastapi import FastAPI
from pydantic import SecretStr

from dataseal.api.app import create_app
from dataseal.api.ownership import API_SECRET_FILENAME, CHALLENGE_TTL_SECONDS, load_challenge_secret
from dataseal.errors import ConfigError, InternalError
from dataseal.registry.db import Database
from dataseal.registry.registry import Registry
from dataseal.registry.settings import Settings
from tests.api.conftest import ApiClient, World, error_of


class Clock:
    """The app's clock (``app.state.clock``), moved by the test."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def sign(account: LocalAccount, text: str) -> str:
    return "0x" + bytes(account.sign_message(encode_defunct(text=text)).signature).hex()


def challenge_of(client: ApiClient, asset_id: int) -> dict[str, Any]:
    response = client.request("POST", f"/assets/{asset_id}/ownership/challenge")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def prove(client: ApiClient, asset_id: int, challenge: str, signature: str) -> Any:
    return client.request("POST", f"/assets/{asset_id}/ownership/proof",
                          json={"challenge": challenge, "signature": signature})


@pytest.fixture
def app(world: World) -> FastAPI:
    return create_app(world.registry)


@pytest.fixture
def client(app: FastAPI) -> ApiClient:
    return ApiClient(app)


def owner_key(world: World) -> LocalAccount:
    return world.chain.keys[world.chain.owner.address]


@pytest.fixture
def replica(world: World) -> Iterator[Registry]:
    """A second process's registry on the world's: the same settings and chain, its own connection to the same
    SQLite file (a replica of the service, or the service after a restart)."""
    database = Database.open(world.registry.settings.effective_database_url())
    try:
        yield Registry(world.registry.settings, context=world.registry.context, database=database)
    finally:
        database.close()


def with_secret(world: World, secret: str) -> Registry:
    """The world's registry, its settings giving ``secret`` as the API secret (its database the world's)."""
    settings = world.registry.settings.model_copy(update={"api_secret": SecretStr(secret)})
    return Registry(settings, context=world.registry.context, database=world.registry.db)


def test_the_owner_s_signature_of_a_challenge_proves_ownership(world: World, client: ApiClient) -> None:
    issued = challenge_of(client, world.asset_id)
    text = issued["challenge"]
    lines = text.split("\n")
    registry = world.registry.context.contracts().registry.address
    chain_id = world.chain.w3.eth.chain_id
    assert lines[0] == "dataseal ownership challenge" and len(lines) == 8
    assert lines[2:6] == [f"asset: {world.asset_id}", f"chain: {chain_id}", f"registry: {registry}",
                          f"nonce: {issued['nonce']}"]
    assert issued["asset_id"] == world.asset_id and issued["expires_at"].endswith("Z")
    block = world.chain.w3.eth.block_number
    answer = prove(client, world.asset_id, text, sign(owner_key(world), text))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"asset_id": world.asset_id, "owner": True, "address": world.chain.owner.address,
                             "owner_on_chain": world.chain.owner.address, "chain_id": chain_id,
                             "checked_at_block": block}


def test_another_key_s_signature_is_answered_not_the_owner(world: World, client: ApiClient) -> None:
    text = challenge_of(client, world.asset_id)["challenge"]
    stranger = Account.create()
    answer = prove(client, world.asset_id, text, sign(stranger, text)).json()
    assert answer["owner"] is False and answer["address"] == stranger.address
    assert answer["owner_on_chain"] == world.chain.owner.address


def test_a_challenge_is_accepted_once(world: World, client: ApiClient) -> None:
    issued = challenge_of(client, world.asset_id)
    text = issued["challenge"]
    signature = sign(owner_key(world), text)
    assert prove(client, world.asset_id, text, signature).status_code == 200
    for again in (signature, sign(Account.create(), text)):  # the same answer, or another signer's
        error = error_of(prove(client, world.asset_id, text, again), 409)
        assert error["message"] == f"the challenge {issued['nonce']} was answered already: a challenge is accepted once"
        assert error["options"] == ["challenge"]
    other = challenge_of(client, world.asset_id)["challenge"]  # a new one is
    assert prove(client, world.asset_id, other, sign(owner_key(world), other)).json()["owner"] is True


def test_an_expired_challenge_is_refused(world: World, app: FastAPI) -> None:
    clock = Clock(world.chain.now())
    app.state.clock = clock
    client = ApiClient(app)
    text = challenge_of(client, world.asset_id)["challenge"]
    signature = sign(owner_key(world), text)
    clock.now += CHALLENGE_TTL_SECONDS
    error = error_of(prove(client, world.asset_id, text, signature), 409)
    assert error["message"].startswith("the challenge expired at ")
    assert error["message"].endswith(f"(0 s ago); a challenge is answered within {CHALLENGE_TTL_SECONDS} s of "
                                     "being issued")
    clock.now -= 1  # the last second it is valid (the refusal did not use it up)
    assert prove(client, world.asset_id, text, signature).json()["owner"] is True


def test_a_challenge_for_another_asset_is_refused(world: World, client: ApiClient) -> None:
    text = challenge_of(client, world.asset_id)["challenge"]
    error = error_of(prove(client, world.version_id, text, sign(owner_key(world), text)), 400)
    assert error["message"] == f"the challenge is for asset {world.asset_id}, not asset {world.version_id}"
    assert error["hint"].startswith(f"send it to /assets/{world.asset_id}/ownership/proof")
    assert prove(client, world.asset_id, text, sign(owner_key(world), text)).status_code == 200  # not used up


def test_a_changed_made_up_or_foreign_challenge_is_refused(world: World, client: ApiClient) -> None:
    text = challenge_of(client, world.asset_id)["challenge"]
    lines = text.split("\n")
    later = lines[:6] + [lines[6].replace("expires: 1", "expires: 2", 1)] + lines[7:]  # a later expiry
    foreign = challenge_of(ApiClient(create_app(with_secret(world, "another service's secret"))),
                           world.asset_id)["challenge"]
    for changed in ("\n".join(later), foreign, text.rsplit("\n", 1)[0] + "\nmac: " + "0" * 64):
        error = error_of(prove(client, world.asset_id, changed, sign(owner_key(world), changed)), 400)
        assert error["message"] == "the challenge was not issued by this registry, or was changed after it was " \
            "(its mac does not match)", changed
    for malformed in ("hello", text + "\n", text.replace("\n", "\r\n"), "\n".join(lines[:7])):
        error = error_of(prove(client, world.asset_id, malformed, sign(owner_key(world), malformed)), 400)
        assert error["message"].startswith("the challenge is not an ownership challenge of this registry")
        assert error["options"] == ["challenge"]


def test_malformed_or_malleable_signatures_are_refused(world: World, client: ApiClient) -> None:
    text = challenge_of(client, world.asset_id)["challenge"]
    good = bytes.fromhex(sign(owner_key(world), text)[2:])
    s = int.from_bytes(good[32:64], "big")
    high_s = good[:32] + (SECPK1_N - s).to_bytes(32, "big") + bytes([55 - good[64]])  # the same, malleated
    cases = {
        "0x" + good[:64].hex(): "the signature must be 0x and 130 hex digits (65 bytes r, s, v), got",
        "0x" + good[:64].hex() + "1d": "the signature's recovery byte v must be 27 or 28 (or 0 or 1), got 29",
        "0x" + high_s.hex(): "the signature has s in the upper half of the curve order (a malleable signature)",
        "0x" + "00" * 64 + "1b": "the signature is not a valid signature",
    }
    for signature, message in cases.items():
        error = error_of(prove(client, world.asset_id, text, signature), 400)
        assert error["message"].startswith(message), (signature, error)
        assert error["options"] == ["signature"]
    assert prove(client, world.asset_id, text, "0x" + good.hex()).json()["owner"] is True  # none used it up


def test_bad_requests_are_4xx(world: World, client: ApiClient) -> None:
    unknown = error_of(client.request("POST", "/assets/99/ownership/challenge"), 404)
    assert unknown["message"].startswith("asset 99 is not registered on chain")
    error_of(client.request("POST", "/assets/0/ownership/challenge"), 422)
    missing = error_of(client.request("POST", f"/assets/{world.asset_id}/ownership/proof", json={"challenge": "x"}),
                       422)
    assert missing["options"] == ["signature"]
    text_plain = client.request("POST", f"/assets/{world.asset_id}/ownership/proof", content=b"{}",
                                headers={"content-type": "text/plain"})
    assert error_of(text_plain, 415)["message"].endswith("reads a JSON document, but the body was sent as text/plain")
    text = challenge_of(client, world.asset_id)["challenge"]
    unknown_proof = error_of(prove(client, 99, text, sign(owner_key(world), text)), 400)  # its challenge is for 1
    assert unknown_proof["message"] == f"the challenge is for asset {world.asset_id}, not asset 99"


def test_a_replica_on_the_same_database_accepts_the_challenge_another_issued(world: World, replica: Registry) -> None:
    first, second = ApiClient(create_app(world.registry)), ApiClient(create_app(replica))
    issued = challenge_of(first, world.asset_id)
    signature = sign(owner_key(world), issued["challenge"])
    assert prove(second, world.asset_id, issued["challenge"], signature).json()["owner"] is True
    error = error_of(prove(first, world.asset_id, issued["challenge"], signature), 409)  # used: for every replica
    assert error["message"] == f"the challenge {issued['nonce']} was answered already: a challenge is accepted once"
    secret = Path(world.registry.settings.data_dir) / API_SECRET_FILENAME  # one file, private, made once
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and len(secret.read_text()) == 65
    assert [p.name for p in secret.parent.iterdir() if API_SECRET_FILENAME in p.name] == [API_SECRET_FILENAME]


def test_replicas_given_one_api_secret_share_challenges_and_others_refuse_them(world: World) -> None:
    one, same = (ApiClient(create_app(with_secret(world, "one secret for every replica"))) for _ in range(2))
    text = challenge_of(one, world.asset_id)["challenge"]
    for refusing in (ApiClient(create_app(world.registry)), ApiClient(create_app(with_secret(world, "x" * 16)))):
        error = error_of(prove(refusing, world.asset_id, text, sign(owner_key(world), text)), 400)
        assert error["message"] == "the challenge was not issued by this registry, or was changed after it was " \
            "(its mac does not match)"
    assert prove(same, world.asset_id, text, sign(owner_key(world), text)).json()["owner"] is True


def test_the_secret_file_is_made_once_by_processes_racing_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    start = threading.Barrier(8)
    found: list[bytes] = []

    def load() -> None:
        start.wait()
        found.append(load_challenge_secret(settings))

    racing = [threading.Thread(target=load) for _ in range(8)]
    for thread in racing:
        thread.start()
    for thread in racing:
        thread.join()
    made = found[0]
    assert len(found) == 8 and set(found) == {made} and len(made) == 32 and load_challenge_secret(settings) == made
    assert sorted(os.listdir(tmp_path / "data")) == [API_SECRET_FILENAME]  # no staged file left behind
    given = Settings(data_dir=tmp_path / "data", api_secret=SecretStr("s" * 16))
    assert load_challenge_secret(given) != made and load_challenge_secret(given) == load_challenge_secret(given)
    (tmp_path / "data" / API_SECRET_FILENAME).write_text("not hex\n")
    with pytest.raises(InternalError, match=r"api.secret does not hold 64 hex digits") as caught:
        load_challenge_secret(settings)
    assert "delete it to have a new one made" in caught.value.hint
    with pytest.raises(ConfigError, match=r"api_secret: .*at least 16 .*\(got \*\*\*\)"):
        Settings.load(api_secret="short")
