"""Who may write over HTTP (dataseal/api/security.py): signed requests (EIP-191, replay-protected), operator API
keys, idempotent answers; the library functions on SQLite and PostgreSQL, and the FastAPI dependencies through a
real tiny app (an httpx client over httpx.ASGITransport) with an injected clock."""
from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_keys.constants import SECPK1_N
from eth_utils import keccak
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlmodel import select

from dataseal.api.errors import install_error_handlers
from dataseal.api.security import (
    EMPTY_BODY_SHA256,
    HEADER_ADDRESS,
    HEADER_IDEMPOTENCY_KEY,
    HEADER_IDEMPOTENT_REPLAYED,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    SIGNATURE_WINDOW_SECONDS,
    IdempotencyConflict,
    IdempotencyDep,
    ReplayedRequest,
    Unauthorized,
    WriterDep,
    compute_request_message,
    create_api_key,
    get_idempotent_response,
    list_api_keys,
    parse_idempotency_key,
    parse_signed_headers,
    purge_idempotent_responses,
    revoke_api_key,
    sign_request,
    store_idempotent_response,
    verify_api_key,
    verify_signed_request,
)
from dataseal.errors import Conflict, ErrorKind, InvalidInput, NotFound
from dataseal.registry.db import Database
from dataseal.registry.db.models.api import SeenRequest
from dataseal.registry.registry import Registry
from dataseal.registry.settings import Settings
from tests.conftest import Chain
from tests.registry import conftest as registry_fixtures

# The registry's database fixtures (SQLite, and PostgreSQL on the session's server).
postgres, database_url = registry_fixtures.postgres, registry_fixtures.database_url
database = registry_fixtures.database

NOW = 1_800_000_000
CHAIN_ID = 1337
HOST = "api.test:8000"
ALICE: LocalAccount = Account.from_key(b"\x01" * 32)
MALLORY: LocalAccount = Account.from_key(b"\x02" * 32)
BODY = b'{"asset_id": 7}'


def signed(account: LocalAccount = ALICE, *, method: str = "POST", path: str = "/things", body: bytes = BODY,
           timestamp: int = NOW, chain_id: int = CHAIN_ID, host: str = HOST) -> dict[str, str]:
    return sign_request(account, method, path, body, timestamp, chain_id=chain_id, host=host)


def verify(db: Database, headers: dict[str, str], *, path: str = "/things", body: bytes = BODY,
           now: float = NOW, method: str = "POST") -> str:
    return verify_signed_request(db, headers, chain_id=CHAIN_ID, host=HOST, method=method, path=path, body=body,
                                 now=now)


def with_signature(headers: dict[str, str], signature: bytes) -> dict[str, str]:
    return {**headers, HEADER_SIGNATURE: "0x" + signature.hex()}


# ---------------------------------------------------------------------------------- the signed text


def test_the_signed_text_is_seven_lines_as_documented() -> None:
    message = compute_request_message(chain_id=CHAIN_ID, host="API.Test:8000", method="post", path="/a%20b?x=1&y=2",
                                      body=BODY, timestamp=NOW)
    assert message == "\n".join(["dataseal request", "1337", "api.test:8000", "POST", "/a%20b?x=1&y=2",
                                 hashlib.sha256(BODY).hexdigest(), "1800000000"])
    empty = compute_request_message(chain_id=1, host="h", method="DELETE", path="/", body=b"", timestamp=0)
    assert empty.split("\n")[5] == EMPTY_BODY_SHA256
    assert EMPTY_BODY_SHA256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_the_headers_carry_an_eip191_personal_sign_of_the_text() -> None:
    headers = signed()
    assert headers[HEADER_ADDRESS] == ALICE.address and headers[HEADER_TIMESTAMP] == str(NOW)
    assert headers[HEADER_SIGNATURE].startswith("0x") and len(headers[HEADER_SIGNATURE]) == 132
    message = compute_request_message(chain_id=CHAIN_ID, host=HOST, method="POST", path="/things", body=BODY,
                                      timestamp=NOW)
    # What any client does: personal_sign of the text.
    prefixed = b"\x19Ethereum Signed Message:\n" + str(len(message.encode())).encode() + message.encode()
    assert Account._recover_hash(keccak(prefixed),
                                 signature=bytes.fromhex(headers[HEADER_SIGNATURE][2:])) == ALICE.address


def test_a_negative_timestamp_is_refused() -> None:
    with pytest.raises(InvalidInput, match="0 or more, got -1"):
        compute_request_message(chain_id=1, host="h", method="POST", path="/", body=b"", timestamp=-1)


# ---------------------------------------------------------------------------------- malformed headers (400)


@pytest.mark.parametrize(("change", "message"), [
    ({HEADER_ADDRESS: None}, "X-Dataseal-Address is missing"),
    ({HEADER_ADDRESS: None, HEADER_TIMESTAMP: None}, "X-Dataseal-Address, X-Dataseal-Timestamp are missing"),
    ({HEADER_ADDRESS: "0x1234"}, "X-Dataseal-Address must be 0x and 40 hex digits, got '0x1234'"),
    ({HEADER_ADDRESS: ALICE.address[:-1] + ("a" if ALICE.address[-1] == "A" else "A")}, "not a valid EIP-55"),
    ({HEADER_TIMESTAMP: "17e8"}, "X-Dataseal-Timestamp must be Unix seconds in decimal digits, got '17e8'"),
    ({HEADER_TIMESTAMP: "-5"}, "got '-5'"),
    ({HEADER_TIMESTAMP: "01800000000"}, "got '01800000000'"),
    ({HEADER_SIGNATURE: "0x" + "ab" * 64}, "must be 0x and 130 hex digits (65 bytes r, s, v), got 128 hex digits"),
    ({HEADER_SIGNATURE: "zz"}, "got 'zz'"),
    ({HEADER_SIGNATURE: "0x" + "11" * 64 + "1d"}, "recovery byte v must be 27 or 28 (or 0 or 1), got 29"),
])
def test_missing_or_malformed_headers_are_invalid_input(change: dict[str, str | None], message: str) -> None:
    headers: dict[str, Any] = {**signed(), **change}
    with pytest.raises(InvalidInput) as caught:
        parse_signed_headers({name: value for name, value in headers.items() if value is not None})
    assert not isinstance(caught.value, Unauthorized)
    assert caught.value.kind is ErrorKind.INVALID_INPUT
    assert message in caught.value.message


def test_headers_are_read_in_any_case_and_an_address_in_lower_case() -> None:
    headers = {name.lower(): value for name, value in signed().items()}
    headers[HEADER_ADDRESS.lower()] = ALICE.address.lower()
    parsed = parse_signed_headers(headers)
    assert parsed.address == ALICE.address and parsed.timestamp == NOW and parsed.signature[64] in (27, 28)


# ---------------------------------------------------------------------------------- verification (DB)


def test_a_signed_request_is_accepted_once(database: Database) -> None:
    headers = signed()
    assert verify(database, headers) == ALICE.address
    with pytest.raises(ReplayedRequest, match=f"by {ALICE.address}, timestamp {NOW}.*already accepted") as caught:
        verify(database, headers, now=NOW + 10)
    assert caught.value.kind is ErrorKind.CONFLICT and "new timestamp" in caught.value.hint
    # The same text, signed again later (a new timestamp), is a new request.
    assert verify(database, signed(timestamp=NOW + 1), now=NOW + 10) == ALICE.address


def test_another_signature_of_the_same_text_is_a_replay_too(database: Database) -> None:
    headers = signed()
    verify(database, headers)
    raw = bytes.fromhex(headers[HEADER_SIGNATURE][2:])
    as_zero_one = raw[:64] + bytes([raw[64] - 27])  # the same signature with v 0/1
    with pytest.raises(ReplayedRequest):
        verify(database, with_signature(headers, as_zero_one))
    s = int.from_bytes(raw[32:64], "big")  # the malleable twin: (r, n - s, v flipped) recovers the same address
    twin = raw[:32] + (SECPK1_N - s).to_bytes(32, "big") + bytes([55 - raw[64]])
    with pytest.raises(Unauthorized, match="upper half of the curve order"):
        verify(database, with_signature(headers, twin))


def test_v_zero_or_one_is_accepted(database: Database) -> None:
    raw = bytes.fromhex(signed()[HEADER_SIGNATURE][2:])
    assert verify(database, with_signature(signed(), raw[:64] + bytes([raw[64] - 27]))) == ALICE.address


@pytest.mark.parametrize("offset", [-SIGNATURE_WINDOW_SECONDS, SIGNATURE_WINDOW_SECONDS])
def test_a_timestamp_at_the_window_s_edge_is_accepted(database: Database, offset: int) -> None:
    assert verify(database, signed(timestamp=NOW + offset)) == ALICE.address


@pytest.mark.parametrize(("offset", "words"), [(-SIGNATURE_WINDOW_SECONDS - 1, "301 s behind"),
                                               (SIGNATURE_WINDOW_SECONDS + 1, "301 s ahead of")])
def test_a_timestamp_outside_the_window_is_unauthorized(database: Database, offset: int, words: str) -> None:
    with pytest.raises(Unauthorized, match=f"{words} the server's clock \\({NOW}\\); .* within 300 s") as caught:
        verify(database, signed(timestamp=NOW + offset))
    assert caught.value.http_status == 401 and caught.value.kind is ErrorKind.INVALID_INPUT
    assert "current time" in caught.value.hint


@pytest.mark.parametrize("other", [
    {"body": b'{"asset_id": 8}'}, {"path": "/things?x=1"}, {"method": "PUT"}, {"host": "other.test:8000"},
    {"chain_id": 1}, {"timestamp": NOW + 1},
])
def test_a_signature_of_another_request_is_unauthorized(database: Database, other: dict[str, Any]) -> None:
    headers = signed(**other)
    headers[HEADER_TIMESTAMP] = str(NOW)  # what the server checks is the request it got
    with pytest.raises(Unauthorized, match=f"the signature is not {ALICE.address}'s: it recovers to 0x"):
        verify(database, headers)
    assert database_rows(database) == 0


def test_a_signature_by_another_key_is_unauthorized(database: Database) -> None:
    headers = {**signed(MALLORY), HEADER_ADDRESS: ALICE.address}
    with pytest.raises(Unauthorized, match=f"not {ALICE.address}'s: it recovers to {MALLORY.address}") as caught:
        verify(database, headers)
    assert "chain id 1337, host api.test:8000, POST /things" in caught.value.hint


def test_bytes_that_are_no_signature_are_unauthorized(database: Database) -> None:
    with pytest.raises(Unauthorized, match="is not a valid signature"):
        verify(database, with_signature(signed(), b"\x00" * 64 + b"\x1b"))


def database_rows(db: Database) -> int:
    with db.session() as session:
        return len(session.exec(select(SeenRequest)).all())


def test_requests_seen_long_ago_are_purged(database: Database) -> None:
    verify(database, signed())
    verify(database, signed(timestamp=NOW + 1), now=NOW + 1)
    assert database_rows(database) == 2
    later = NOW + 2 * SIGNATURE_WINDOW_SECONDS + 1
    verify(database, signed(timestamp=later), now=later)
    assert database_rows(database) == 2  # the first one is gone, the second is kept (twice the window)


# ---------------------------------------------------------------------------------- operator API keys


def test_an_api_key_is_made_listed_verified_and_revoked(database: Database) -> None:
    made = datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)
    key = create_api_key(database, "ci", now=made)
    assert key.startswith("dsk_") and len(key) == 47
    assert verify_api_key(database, key) == "ci"
    (listed,) = list_api_keys(database)
    assert (listed.name, listed.created_at, listed.revoked_at) == ("ci", made, None)
    assert key not in json.dumps(listed.model_dump(mode="json"))  # never shown again
    with database.session() as session:
        stored = json.dumps([list(row) for row in session.execute(text("SELECT * FROM api_key")).all()], default=str)
    assert key not in stored and hashlib.sha256(key.encode()).hexdigest() in stored

    revoked = revoke_api_key(database, "ci", now=made + timedelta(days=1))
    assert revoked.revoked_at == made + timedelta(days=1)
    with pytest.raises(Unauthorized, match="the API key 'ci' was revoked at 2027-01-03T03:04:05"):
        verify_api_key(database, key)
    assert list_api_keys(database, include_revoked=False) == []
    again = create_api_key(database, "ci")  # the name is free again
    assert again != key and verify_api_key(database, again) == "ci"
    assert [row.revoked_at is None for row in list_api_keys(database)] == [False, True]


def test_api_key_refusals(database: Database) -> None:
    create_api_key(database, "ops")
    with pytest.raises(Conflict, match="an API key named 'ops' already exists"):
        create_api_key(database, "ops")
    with pytest.raises(InvalidInput, match="1 to 64 letters, digits.*got 'has space'"):
        create_api_key(database, "has space")
    with pytest.raises(NotFound, match="no API key named 'nobody' is in use"):
        revoke_api_key(database, "nobody")
    with pytest.raises(Unauthorized, match="not known to this registry"):
        verify_api_key(database, "dsk_" + "A" * 43)
    with pytest.raises(Unauthorized, match="not one dataseal makes"):
        verify_api_key(database, "hunter2")


# ---------------------------------------------------------------------------------- idempotency


def test_an_idempotent_answer_is_stored_and_given_again(database: Database) -> None:
    common: dict[str, Any] = {"writer": ALICE.address, "key": "k-1", "method": "POST", "path": "/things"}
    assert get_idempotent_response(database, **common, body=BODY) is None
    stored = store_idempotent_response(database, **common, body=BODY, status=202, response={"tx_hash": "0xab"})
    assert (stored.status, stored.body) == (202, {"tx_hash": "0xab"})
    again = get_idempotent_response(database, **common, body=BODY)
    assert again is not None and (again.status, again.body) == (202, {"tx_hash": "0xab"})
    # A second answer to the same request (two sent at once) gives way to the first.
    second = store_idempotent_response(database, **common, body=BODY, status=202, response={"tx_hash": "0xcd"})
    assert second.body == {"tx_hash": "0xab"}
    # Keys belong to their writer.
    assert get_idempotent_response(database, **{**common, "writer": "api-key:ci"}, body=b"other") is None


@pytest.mark.parametrize(("change", "message"), [
    ({"body": b"{}"}, f"used for another body (sha256 {hashlib.sha256(BODY).hexdigest()}; this one's is 44136fa"),
    ({"path": "/other"}, "used for another request, POST /things (this one is POST /other): one key names one write"),
    ({"method": "PUT"}, "used for another request, POST /things (this one is PUT /things)"),
])
def test_an_idempotency_key_used_for_another_request_is_a_conflict(database: Database, change: dict[str, Any],
                                                                   message: str) -> None:
    common: dict[str, Any] = {"writer": ALICE.address, "key": "k-1", "method": "POST", "path": "/things",
                              "body": BODY}
    store_idempotent_response(database, **common, status=200, response={"ok": True})
    with pytest.raises(IdempotencyConflict, match=re.escape(message)) as caught:
        get_idempotent_response(database, **{**common, **change})
    assert caught.value.kind is ErrorKind.CONFLICT and "new Idempotency-Key" in caught.value.hint
    with pytest.raises(IdempotencyConflict):
        store_idempotent_response(database, **{**common, **change}, status=200, response={"ok": False})


def test_old_idempotent_answers_are_purged(database: Database) -> None:
    old = datetime(2027, 1, 1, tzinfo=UTC)
    for key, when in (("old", old), ("new", old + timedelta(days=2))):
        store_idempotent_response(database, writer="w", key=key, method="POST", path="/", body=b"", status=200,
                                  response=[], now=when)
    assert purge_idempotent_responses(database, before=old + timedelta(days=1)) == 1
    assert get_idempotent_response(database, writer="w", key="old", method="POST", path="/", body=b"") is None
    assert get_idempotent_response(database, writer="w", key="new", method="POST", path="/", body=b"") is not None


@pytest.mark.parametrize("key", ["", "has space", "é", "x" * 256])
def test_a_malformed_idempotency_key_is_invalid_input(key: str) -> None:
    with pytest.raises(InvalidInput, match="must be 1 to 255 printable ASCII characters without spaces"):
        parse_idempotency_key({HEADER_IDEMPOTENCY_KEY: key})


# ---------------------------------------------------------------------------------- over HTTP


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def tiny_app(registry: Registry, clock: Clock, *, chain_id: int | None = CHAIN_ID) -> tuple[FastAPI, list[Any]]:
    """One POST route guarded by the dependencies, with the API's error handlers."""
    app = FastAPI()
    install_error_handlers(app)  # the API's error contract
    app.state.registry = registry
    app.state.clock = clock
    if chain_id is not None:
        app.state.chain_id = chain_id
    writes: list[Any] = []

    @app.post("/things")
    def write(payload: dict[str, Any], writer: WriterDep, idempotency: IdempotencyDep) -> JSONResponse:
        replayed = idempotency.replay()
        if replayed is not None:
            return replayed
        writes.append(payload)
        return idempotency.store(202, {"writer": str(writer), "tx_hash": f"0x{len(writes):064x}",
                                       "status": "sent"})

    return app, writes


class Client:
    """Requests to an ASGI app through httpx (``httpx.ASGITransport``), each in an event loop of its own."""

    def __init__(self, app: FastAPI, base_url: str) -> None:
        self.app, self.base_url = app, base_url

    def post(self, path: str, *, content: bytes, headers: dict[str, str]) -> httpx.Response:
        async def send() -> httpx.Response:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=self.base_url) as client:
                return await client.post(path, content=content, headers=headers)

        return anyio.run(send)


@pytest.fixture
def http(database: Database, tmp_path: Path) -> tuple[Client, list[Any], Clock]:
    registry = Registry(Settings(data_dir=tmp_path / "data"), database=database)
    clock = Clock(NOW)
    app, writes = tiny_app(registry, clock)
    return Client(app, f"http://{HOST}"), writes, clock


def post(client: Client, headers: dict[str, str], *, body: bytes = BODY, path: str = "/things") -> httpx.Response:
    return client.post(path, content=body, headers={"Content-Type": "application/json", **headers})


def error_of(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, dict[str, Any]] = response.json()
    return body["error"]


def test_a_signed_write_over_http(http: tuple[Client, list[Any], Clock]) -> None:
    client, writes, _ = http
    response = post(client, signed())
    assert response.status_code == 202, response.text
    assert response.json()["writer"] == ALICE.address and writes == [{"asset_id": 7}]
    replay = post(client, signed())
    assert replay.status_code == 409 and "already accepted" in error_of(replay)["message"]
    assert writes == [{"asset_id": 7}]


def test_the_query_is_part_of_what_is_signed_over_http(http: tuple[Client, list[Any], Clock]) -> None:
    client, writes, _ = http
    assert post(client, signed(path="/things?dry_run=1&x=%20"), path="/things?dry_run=1&x=%20").status_code == 202
    moved = post(client, signed(path="/things?dry_run=1", timestamp=NOW + 1), path="/things?dry_run=0")
    assert moved.status_code == 401 and "recovers to" in error_of(moved)["message"]


def test_http_refusals(http: tuple[Client, list[Any], Clock]) -> None:
    client, writes, clock = http
    none = post(client, {})
    assert none.status_code == 401
    assert error_of(none) == {"kind": "invalid_input", "message": "POST /things is a write: it needs a signed "
                              "request or an operator API key", "hint": error_of(none)["hint"],
                              "options": ["X-Dataseal-Signature", "Authorization"]}
    partial = post(client, {HEADER_ADDRESS: ALICE.address})
    assert partial.status_code == 400 and "X-Dataseal-Timestamp, X-Dataseal-Signature are missing" in \
        error_of(partial)["message"]
    clock.now = NOW + 301
    late = post(client, signed())
    assert late.status_code == 401 and "301 s behind the server's clock" in error_of(late)["message"]
    clock.now = NOW
    other_host = post(client, signed(host="127.0.0.1:8000"))
    assert other_host.status_code == 401 and "host api.test:8000" in error_of(other_host)["hint"]
    both = post(client, {**signed(), "Authorization": "Bearer dsk_x"})
    assert both.status_code == 400 and "both an API key and a signature" in error_of(both)["message"]
    basic = post(client, {"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 400 and "must be 'Bearer <API key>'" in error_of(basic)["message"]
    for empty in ("Bearer ", "Bearer", "bearer   "):
        no_key = post(client, {"Authorization": empty})
        assert no_key.status_code == 400 and "no API key" in error_of(no_key)["message"], no_key.text
        assert "scheme 'Bearer'" not in error_of(no_key)["message"] and "Bearer <API key>" in error_of(no_key)["hint"]
    unknown = post(client, {"Authorization": "Bearer dsk_" + "B" * 43})
    assert unknown.status_code == 401 and "not known to this registry" in error_of(unknown)["message"]
    bad_key = post(client, {**signed(timestamp=NOW + 2), HEADER_IDEMPOTENCY_KEY: "two words"})
    assert bad_key.status_code == 400 and "without spaces" in error_of(bad_key)["message"]
    assert writes == []


def test_an_api_key_write_over_http(http: tuple[Client, list[Any], Clock], database: Database) -> None:
    client, writes, _ = http
    key = create_api_key(database, "ops")
    response = post(client, {"Authorization": f"Bearer {key}"})
    assert response.status_code == 202 and response.json()["writer"] == "api-key:ops"
    assert post(client, {"Authorization": f"bearer {key}"}).status_code == 202  # no replay store for keys
    revoke_api_key(database, "ops")
    revoked = post(client, {"Authorization": f"Bearer {key}"})
    assert revoked.status_code == 401 and "'ops' was revoked" in error_of(revoked)["message"]
    assert len(writes) == 2


def test_a_retried_write_is_answered_as_the_first_time(http: tuple[Client, list[Any], Clock]) -> None:
    client, writes, clock = http
    first = post(client, {**signed(), HEADER_IDEMPOTENCY_KEY: "order-1"})
    assert first.status_code == 202 and HEADER_IDEMPOTENT_REPLAYED not in first.headers
    clock.now = NOW + 5  # the retry is signed again, later
    retry = post(client, {**signed(timestamp=NOW + 5), HEADER_IDEMPOTENCY_KEY: "order-1"})
    assert (retry.status_code, retry.json()) == (202, first.json())
    assert retry.headers[HEADER_IDEMPOTENT_REPLAYED] == "true"
    assert len(writes) == 1
    changed = post(client, {**signed(body=b'{"asset_id": 9}', timestamp=NOW + 6), HEADER_IDEMPOTENCY_KEY: "order-1"},
                   body=b'{"asset_id": 9}')
    assert changed.status_code == 409 and "already used for another body" in error_of(changed)["message"]
    # Another writer's key of the same name is its own.
    mallory = post(client, {**signed(MALLORY, timestamp=NOW + 6), HEADER_IDEMPOTENCY_KEY: "order-1"})
    assert mallory.status_code == 202 and mallory.json()["writer"] == MALLORY.address
    assert len(writes) == 2


def test_the_chain_id_is_the_registry_s_when_the_app_names_none(pyevm: Chain, database: Database,
                                                                 tmp_path: Path) -> None:
    from dataseal.chain.connection import connect
    from dataseal.registry.context import Context

    settings = Settings(data_dir=tmp_path / "data")
    registry = Registry(settings, context=Context(settings, connect(pyevm.w3)), database=database)
    app, writes = tiny_app(registry, Clock(NOW), chain_id=None)
    chain_id = pyevm.w3.eth.chain_id
    client = Client(app, f"http://{HOST}")
    assert post(client, signed(chain_id=chain_id)).status_code == 202
    wrong = post(client, signed(chain_id=chain_id + 1, timestamp=NOW + 1))
    assert wrong.status_code == 401 and f"chain id {chain_id}" in error_of(wrong)["hint"]
    assert len(writes) == 1


def test_the_openapi_schema_names_both_ways_to_write(database: Database, tmp_path: Path) -> None:
    app, _ = tiny_app(Registry(Settings(data_dir=tmp_path / "data"), database=database), Clock(NOW))
    schema = app.openapi()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["SignedRequest"] == {"type": "apiKey", "in": "header", "name": HEADER_SIGNATURE,
                                        "description": schemes["SignedRequest"]["description"]}
    assert schemes["OperatorApiKey"]["scheme"] == "bearer"
    assert schema["paths"]["/things"]["post"]["security"] == [{"SignedRequest": []}, {"OperatorApiKey": []}]


def test_a_key_made_again_under_a_revoked_key_s_name_has_idempotency_keys_of_its_own(
        http: tuple[Client, list[Any], Clock], database: Database) -> None:
    client, writes, _ = http
    old = create_api_key(database, "ops")
    first = post(client, {"Authorization": f"Bearer {old}", HEADER_IDEMPOTENCY_KEY: "order-1"})
    assert first.status_code == 202 and first.json()["writer"] == "api-key:ops"
    replayed = post(client, {"Authorization": f"Bearer {old}", HEADER_IDEMPOTENCY_KEY: "order-1"})
    assert replayed.headers[HEADER_IDEMPOTENT_REPLAYED] == "true" and len(writes) == 1
    revoke_api_key(database, "ops")
    new = create_api_key(database, "ops")
    again = post(client, {"Authorization": f"Bearer {new}", HEADER_IDEMPOTENCY_KEY: "order-1"})
    assert again.status_code == 202 and HEADER_IDEMPOTENT_REPLAYED not in again.headers, again.headers
    assert again.json()["writer"] == "api-key:ops" and again.json() != first.json()  # what the Writer shows: as before
    assert len(writes) == 2
