"""The writes over HTTP, against the same running `dataseal up` as test_http.py (tests/e2e/conftest.py's ``journey``),
as a service integrating with it would make them: with an operator API key made with the CLI, or with requests signed
by the acting address; the data sealed locally with the CLI (only the manifest and the leaf digests are sent), an
owner's registration and grant signed (EIP-712) with a key that never leaves the test. Every write is followed by
polling its operation until it is finished (a loop guarded against a hang, checking the status each time).

The operator's writes register assets owned by the operator account: these tests run after test_http.py, which
counts the operator's assets (the group's one worker runs the files in order)."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr

from dataseal.api.security import HEADER_IDEMPOTENT_REPLAYED, sign_request
from dataseal.chain.accounts.eip712 import sign_grant, sign_register
from dataseal.chain.contracts.records import ZERO32
from dataseal.registry.manifest import load_manifest
from dataseal.registry.merkle.verify import compute_root
from dataseal.registry.receipts import purpose_hash
from dataseal.registry.registry import Registry
from dataseal.registry.services.manifest_writes import register_domain
from dataseal.registry.services.relay_writes import grants_domain
from dataseal.registry.settings import Settings
from tests.chain.embedded.clocks import HANG_GUARD_SECONDS
from tests.e2e.quickstart import Journey, dataseal, make_api_key

#: One worker runs every test of the shared journey (make test: --dist loadgroup), so it runs once.
pytestmark = [pytest.mark.usefixtures("journey"), pytest.mark.xdist_group("e2e-journey")]

PURPOSE = "fraud model evaluation"
#: How often an operation is polled (each poll checks its status; HANG_GUARD_SECONDS bounds the whole wait).
POLL_SECONDS = 0.05


@dataclass
class Writer:
    """A client of the running service: its HTTP API, an operator API key, and the chain read as any client may
    (the EIP-712 domains, an owner's nonce, the chain's time), never its database."""

    journey: Journey
    http: httpx.Client
    key: str
    chain: Registry

    @property
    def host(self) -> str:
        return httpx.URL(self.journey.up.api).netloc.decode()

    @property
    def chain_id(self) -> int:
        return int(self.journey.up.ready["chain_id"])

    def now(self) -> int:
        return int(self.chain.context.connection.w3.eth.get_block("latest")["timestamp"])

    def operator(self, path: str, body: Any, *, key: str | None = None, **headers: str) -> httpx.Response:
        return self.http.post(path, content=json.dumps(body), headers={
            "Authorization": f"Bearer {key or self.key}", "Content-Type": "application/json", **headers})

    def signed_headers(self, account: LocalAccount, path: str, raw: bytes) -> dict[str, str]:
        return {"Content-Type": "application/json",
                **sign_request(account, "POST", path, raw, int(time.time()), chain_id=self.chain_id, host=self.host)}

    def signed(self, path: str, body: Any, account: LocalAccount) -> httpx.Response:
        raw = json.dumps(body).encode()
        return self.http.post(path, content=raw, headers=self.signed_headers(account, path, raw))

    def finished(self, answer: httpx.Response) -> dict[str, Any]:
        """The operation ``answer`` (a 202) started, polled until it is mined or failed."""
        assert answer.status_code == 202, (answer.request.url, answer.text)
        operation = answer.json()
        assert operation["poll"] == f"/operations/{operation['operation']}"
        give_up = time.monotonic() + HANG_GUARD_SECONDS  # a guard against a hang, not a time limit
        while True:
            polled = self.http.get(operation["poll"])
            assert polled.status_code == 200, polled.text
            state: dict[str, Any] = polled.json()
            assert state["operation"] == operation["operation"] and state["status"] in (
                "queued", "submitted", "mined", "failed"), state
            if state["status"] in ("mined", "failed"):
                return state
            assert time.monotonic() < give_up, f"operation still {state['status']}: {state}"
            time.sleep(POLL_SECONDS)

    def indexed(self, tx_hash: str) -> None:
        """Wait until the service's indexer has read the block of ``tx_hash`` (as /health says)."""
        block = int(self.chain.context.connection.w3.eth.get_transaction_receipt(HexStr(tx_hash))["blockNumber"])
        give_up = time.monotonic() + HANG_GUARD_SECONDS
        while (self.http.get("/health").json()["indexer"]["last_block"] or -1) < block:
            assert time.monotonic() < give_up, f"the indexer has not reached block {block}"
            time.sleep(POLL_SECONDS)


@dataclass
class Sealed:
    manifest: dict[str, Any]
    leaves: list[str]
    root: str


def seal(journey: Journey, name: str, data: bytes) -> Sealed:
    """``data`` sealed with `dataseal seal` in the journey's folder (nothing registered): its manifest, and its leaf
    digests in leaf order from the tree dump (OpenZeppelin's standard-v1: leaf i at ``tree[2n - 2 - i]``)."""
    path = journey.folder / name
    path.write_bytes(data)
    done = dataseal(journey.folder, "seal", name, "--chunk-size", "512", "--json")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    tree = json.loads(Path(printed["tree"]).read_text())["tree"]
    count = int(printed["leaf_count"])
    assert count > 1 and len(tree) == 2 * count - 1
    return Sealed(json.loads(Path(printed["manifest"]).read_text()), [tree[2 * count - 2 - i] for i in range(count)],
                  printed["root"])


@pytest.fixture(scope="module")
def writer(journey: Journey) -> Iterator[Writer]:
    settings = Settings(data_dir=journey.folder / ".dataseal", rpc_url=journey.up.rpc)
    with httpx.Client(base_url=journey.up.api, timeout=60.0) as http, Registry(settings) as chain:
        yield Writer(journey, http, make_api_key(journey.folder, "e2e-writer"), chain)


@pytest.fixture(scope="module")
def owner() -> LocalAccount:
    """An owner who only signs (the operator account pays): a key made here, never sent."""
    account: LocalAccount = Account.create()
    return account


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, (response.request.url, response.status_code, response.text[:2000])
    return response.json()


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.request.url, response.status_code, response.text[:2000])
    error: dict[str, Any] = response.json()["error"]
    assert error["message"] and error["hint"]
    return error


def relayed_registration(writer: Writer, sealed: Sealed, owner: LocalAccount) -> dict[str, Any]:
    """The body of POST /assets/relay: ``owner``'s EIP-712 Register signature of ``sealed`` (with its current
    nonce, read from the chain), made by the client."""
    manifest = load_manifest(sealed.manifest)
    deadline = writer.now() + 3600
    nonce = writer.chain.context.contracts().registry.nonce_of(owner.address)
    signature = sign_register(owner.key, register_domain(writer.chain), owner=owner.address,
                              content_root=bytes.fromhex(sealed.root[2:]), manifest_hash=manifest.hash,
                              rights_type=manifest.rights_bitmask, classification=1, parent_id=0, nonce=nonce,
                              deadline=deadline)
    return {"manifest": sealed.manifest, "classification": 1, "owner": owner.address, "deadline": deadline,
            "signature": "0x" + signature.hex()}


def relayed_grant(writer: Writer, owner: LocalAccount, asset_id: int, grantee: str, quota: int) -> dict[str, Any]:
    """The body of POST /grants: ``owner``'s EIP-712 Grant signature (grantBySig) of these terms."""
    now = writer.now()
    valid_from, expires_at, deadline = now - 60, now + 30 * 86400, now + 3600
    nonce = writer.chain.context.contracts().grants.nonce_of(owner.address)
    signature = sign_grant(owner.key, grants_domain(writer.chain), asset_id=asset_id, grantee=grantee,
                           purpose=purpose_hash(PURPOSE), valid_from=valid_from, expires_at=expires_at, quota=quota,
                           scope_root=ZERO32, nonce=nonce, deadline=deadline)
    return {"asset_id": asset_id, "grantee": grantee, "purpose": PURPOSE, "valid_from": valid_from,
            "expires_at": expires_at, "quota": quota, "deadline": deadline, "signature": "0x" + signature.hex()}


def receipt(writer: Writer, grant_id: int, job: str, units: int) -> dict[str, Any]:
    """A usage receipt written with `dataseal receipt new` in the service's folder (no transaction)."""
    out = f"{job}.receipt.json"
    done = dataseal(writer.journey.folder, "receipt", "new", str(grant_id), "--job", job, "--chunks", "0-1", "--units",
                    str(units), "--result-hash", "0x" + "5e" * 32, "--purpose", PURPOSE, "-o", out)
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads((writer.journey.folder / out).read_text())
    return data


# ---------------------------------------------------------------------------------- the operator's writes


def test_register_a_manifest_sealed_with_the_cli_with_an_api_key(writer: Writer) -> None:
    sealed = seal(writer.journey, "ledger.bin", bytes(range(256)) * 12)
    body = {"manifest": sealed.manifest, "leaves": sealed.leaves, "classification": 2}
    answer = writer.operator("/assets", body, **{"Idempotency-Key": "e2e-ledger"})
    assert answer.status_code == 202 and answer.json()["status"] in ("queued", "submitted", "mined"), answer.text
    done = writer.finished(answer)
    assert done["status"] == "mined" and done["error"] is None, done
    result = done["result"]
    assert result["content_root"] == sealed.root and result["owner"] == writer.journey.up.ready["operator"]
    assert result["stored_tree"] is True and done["tx_hash"] in done["tx_hashes"]
    asset_id = int(result["asset_id"])
    asset = _ok(writer.http.get(f"/assets/{asset_id}"))
    assert asset["content_root"] == sealed.root and asset["owner"] == result["owner"] and asset["status"] == "Active"
    proof = _ok(writer.http.get(f"/assets/{asset_id}/proofs/0"))  # served from the leaves sent
    assert proof["leaf"] == sealed.leaves[0] and "0x" + compute_root(proof["leaf"], proof["proof"]).hex() == sealed.root

    again = writer.operator("/assets", body, **{"Idempotency-Key": "e2e-ledger"})  # a retry: the first answer
    assert again.status_code == 202 and again.headers[HEADER_IDEMPOTENT_REPLAYED] == "true"
    assert again.json() == answer.json()
    natural = writer.operator("/assets", body)  # no key: the same root is the same operation, no second transaction
    assert natural.status_code == 202 and natural.json()["operation"] == done["operation"]
    assert writer.finished(natural)["tx_hashes"] == done["tx_hashes"]
    assert [a["asset_id"] for a in _ok(writer.http.get("/assets", params={"root": sealed.root}))["assets"]] == [
        asset_id]


# ---------------------------------------------------------------------------------- an owner's signed writes


def test_an_owner_registers_and_grants_by_signature_and_usage_runs_to_the_quota(writer: Writer,
                                                                                owner: LocalAccount) -> None:
    sealed = seal(writer.journey, "owned.bin", b"owned by a key the service never sees " * 40)
    registered = writer.finished(writer.signed("/assets/relay", relayed_registration(writer, sealed, owner), owner))
    assert registered["status"] == "mined", registered
    asset_id = int(registered["result"]["asset_id"])
    operator = writer.journey.up.ready["operator"]
    assert _ok(writer.http.get(f"/assets/{asset_id}"))["owner"] == owner.address  # the signer, not the sender
    assert writer.chain.context.connection.w3.eth.get_transaction(registered["tx_hash"])["from"] == operator

    # the owner grants the operator account (the grantee here: it records its own usage) 2 units, by signature
    granted = writer.finished(writer.signed("/grants", relayed_grant(writer, owner, asset_id, operator, 2), owner))
    assert granted["status"] == "mined", granted
    assert granted["result"]["grantor"] == owner.address and granted["result"]["grantee"] == operator
    grant_id = int(granted["result"]["grant_id"])
    receipts = [receipt(writer, grant_id, f"e2e-job-{i}", 1) for i in range(3)]  # written while units are left
    last = ""
    for made in receipts[:2]:
        used = writer.finished(writer.operator(f"/grants/{grant_id}/usage", {"units": 1, "receipt": made}))
        assert used["status"] == "mined", used
        last = used["tx_hash"]
    over = writer.operator(f"/grants/{grant_id}/usage", {"units": 1, "receipt": receipts[2]})
    refused = _error(over, 409)
    assert refused["kind"] == "conflict" and f"grant {grant_id}" in refused["message"], refused
    assert "left" in refused["message"], refused

    writer.indexed(last)
    grant = _ok(writer.http.get(f"/grants/{grant_id}"))
    assert (grant["asset_id"], grant["grantee"], grant["purpose_text"]) == (asset_id, operator, PURPOSE)
    assert (grant["quota"], grant["used"], grant["remaining"], grant["usable"]) == (2, 2, 0, False)
    usage = _ok(writer.http.get(f"/assets/{asset_id}/usage", params={"period": "day"}))
    assert [(r["grant_id"], r["units"], r["records"]) for r in usage["rows"]] == [(grant_id, 2, 2)]


# ---------------------------------------------------------------------------------- refused credentials


def test_a_revoked_key_is_refused_and_a_replayed_signed_request_too(writer: Writer, owner: LocalAccount) -> None:
    key = make_api_key(writer.journey.folder, "e2e-revoked")  # its own: the other tests' key stays valid
    unsealed = {"manifest": {"kind": "not a manifest"}}  # refused by the route, once the key is taken
    assert _error(writer.operator("/assets", unsealed, key=key), 422)["options"] == ["manifest"]
    revoked = dataseal(writer.journey.folder, "api-key", "revoke", "e2e-revoked")
    assert revoked.returncode == 0, revoked.stderr
    refused = _error(writer.operator("/assets", unsealed, key=key), 401)  # the same write: the key no longer
    assert refused["message"].startswith("the API key 'e2e-revoked' was revoked at ") and refused["options"] == [
        "Authorization"], refused

    sealed = seal(writer.journey, "replayed.bin", b"a signed request is accepted once " * 40)
    raw = json.dumps({"manifest": sealed.manifest}).encode()
    headers = writer.signed_headers(owner, "/assets", raw)
    first = writer.http.post("/assets", content=raw, headers=headers)  # a user may not register as the operator
    assert "relay" in _error(first, 403)["hint"]
    replayed = _error(writer.http.post("/assets", content=raw, headers=headers), 409)
    assert replayed["message"] == f"this signed request (by {owner.address}, timestamp " \
        f"{headers['X-Dataseal-Timestamp']}) was already accepted: a signed request is accepted once", replayed
    assert _ok(writer.http.get("/assets", params={"root": sealed.root}))["assets"] == []  # nothing was registered
