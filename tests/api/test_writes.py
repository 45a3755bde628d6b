"""The write routes: registration from a manifest (by the operator account, or relayed), the operations they answer
with, authentication, idempotency and a restart resuming a queued operation — on a py-evm chain, the worker a real
thread, each test waiting for the operation's end (an event), never for the wall clock."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from dataseal.api.app import create_app
from dataseal.api.security import HEADER_IDEMPOTENT_REPLAYED, sign_request
from dataseal.chain.contracts.deployment import ContractConfig
from dataseal.registry.manifest import ManifestMetadata
from dataseal.registry.sealing import SealOptions
from dataseal.registry.sealing.seal import seal
from dataseal.registry.services.writer import Clock
from tests.api.conftest import error_of
from tests.api.writes_support import WriteWorld, make_world, relay_body, started_world
from tests.conftest import pyevm_chain


@pytest.fixture(scope="module")
def writes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WriteWorld]:
    yield from started_world(pyevm_chain(ContractConfig()), tmp_path_factory.mktemp("writes"))


# ---------------------------------------------------------------------------------- POST /assets


def test_register_from_a_manifest_with_its_leaves_serves_proofs(writes: WriteWorld) -> None:
    sealed = writes.seal("a.bin", bytes(range(256)) * 9, "A")
    body = {"manifest": sealed.manifest.to_json_data(), "classification": 2,
            "leaves": ["0x" + leaf.hex() for leaf in sealed.leaves]}
    answer = writes.operator("/assets", body)
    assert answer.json()["status"] in ("queued", "submitted", "mined")
    done = writes.wait(answer)
    assert done["status"] == "mined", done
    result = done["result"]
    assert done["tx_hash"] == result["tx_hash"] and result["tx_hash"] in done["tx_hashes"]
    assert result["owner"] == writes.chain.owner.address and result["stored_tree"] is True
    assert result["content_root"] == sealed.manifest.tree.root
    asset = writes.chain.reader.registry.asset(result["asset_id"])
    assert asset.classification == 2 and asset.manifest_hash == sealed.manifest.hash
    proof = writes.client.get(f"/assets/{result['asset_id']}/proofs/3").json()
    assert proof["leaf"] == "0x" + sealed.leaves[3].hex()
    assert proof["proof"] == ["0x" + node.hex() for node in sealed.proofs[3]]
    got = writes.client.get(f"/assets/{result['asset_id']}").json()
    assert got["title"] == "A"


def test_the_same_registration_posted_again_is_the_same_operation(writes: WriteWorld) -> None:
    sealed = writes.seal("b.bin", b"b" * 2000, "B")
    body = {"manifest": sealed.manifest.to_json_data()}
    first = writes.wait(writes.operator("/assets", body))
    assert first["status"] == "mined"
    again = writes.operator("/assets", body)
    assert again.status_code == 202 and again.json()["operation"] == first["operation"]
    assert writes.chain.reader.registry.total_assets() == first["result"]["asset_id"]


def test_idempotency_key_replays_the_first_answer(writes: WriteWorld) -> None:
    sealed = writes.seal("c.bin", b"c" * 1500, "C")
    body = {"manifest": sealed.manifest.to_json_data()}
    first = writes.operator("/assets", body, **{"Idempotency-Key": "reg-c"})
    second = writes.operator("/assets", body, **{"Idempotency-Key": "reg-c"})
    assert second.status_code == 202 and second.headers[HEADER_IDEMPOTENT_REPLAYED] == "true"
    assert second.json() == first.json()
    other = writes.operator("/assets", {**body, "classification": 1}, **{"Idempotency-Key": "reg-c"})
    assert "Idempotency-Key" in error_of(other, 409)["message"]
    assert writes.wait(first)["status"] == "mined"


def test_a_registered_root_is_refused_at_once(writes: WriteWorld) -> None:
    sealed = writes.seal("d.bin", b"d" * 700, "D")
    body = {"manifest": sealed.manifest.to_json_data()}
    assert writes.wait(writes.operator("/assets", body))["status"] == "mined"
    changed = writes.seal("d.bin", b"d" * 700, "D, described otherwise")
    error = error_of(writes.operator("/assets", {"manifest": changed.manifest.to_json_data()}), 409)
    assert "already registered" in error["message"] and error["hint"]


def test_bad_registrations_are_refused_before_anything_is_queued(writes: WriteWorld) -> None:
    sealed = writes.seal("e.bin", b"e" * 1100, "E")
    manifest = sealed.manifest.to_json_data()
    assert error_of(writes.operator("/assets", {"manifest": {"kind": "nope"}}), 422)["options"] == ["manifest"]
    assert error_of(writes.operator("/assets", {"manifest": {**manifest, "version": 99}}), 422)
    assert error_of(writes.operator("/assets", {"manifest": manifest, "classification": 9}), 422)
    short = error_of(writes.operator("/assets", {"manifest": manifest, "leaves": ["0x" + "00" * 32]}), 400)
    assert "leaves" in short["message"]
    assert short["options"] == ["leaves"]
    wrong = ["0x" + "11" * 32] * len(sealed.leaves)
    mismatch = error_of(writes.operator("/assets", {"manifest": manifest, "leaves": wrong}), 400)
    assert "root" in mismatch["message"] and mismatch["options"] == ["leaves"]
    assert "tree[2n - 2 - i]" in mismatch["hint"] and "tree[values[i].treeIndex]" in mismatch["hint"]
    reversed_leaves = ["0x" + leaf.hex() for leaf in reversed(sealed.leaves)]  # not in leaf order
    error_of(writes.operator("/assets", {"manifest": manifest, "leaves": reversed_leaves}), 400)
    assert writes.chain.reader.registry.asset_id_of(bytes.fromhex(sealed.manifest.tree.root[2:])) is None


@pytest.mark.parametrize("path", ["/assets", "/assets/relay"])
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_write_sent_as_anything_but_json_is_415(writes: WriteWorld, path: str, content_type: str | None) -> None:
    sealed = writes.seal("ct.bin", b"t" * 600, "CT")
    headers = {"Authorization": f"Bearer {writes.api_key}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    answer = writes.client.request("POST", path, content=json.dumps({"manifest": sealed.manifest.to_json_data()}),
                                   headers=headers)
    error = error_of(answer, 415)
    assert "JSON" in error["message"] and "application/json" in error["hint"]
    documented = writes.app.openapi()["paths"][path]["post"]["responses"]
    assert "415" in documented


def test_the_leaves_field_says_which_values_to_send(writes: WriteWorld) -> None:
    schema = writes.app.openapi()["components"]["schemas"]["RegisterRequest"]["properties"]["leaves"]
    assert "tree[2n - 2 - i]" in schema["description"] and "leaf hash" in schema["description"]
    # what it says holds: tree.json's leaves in that order register the seal, and its proofs are served
    folder = writes.folder / "leaves"
    folder.mkdir()
    data = folder / "l.bin"
    data.write_bytes(b"which leaves? " * 300)
    sealed = seal(data, SealOptions(chunk_size=512), metadata=ManifestMetadata(title="L", rights_type=("holding",)))
    tree = json.loads(sealed.tree_path.read_text())
    manifest = json.loads(sealed.manifest_path.read_text())
    n = len(tree["values"])
    leaves = [tree["tree"][2 * n - 2 - i] for i in range(n)]
    assert leaves == [tree["tree"][value["treeIndex"]] for value in tree["values"]]
    done = writes.wait(writes.operator("/assets", {"manifest": manifest, "leaves": leaves}))
    assert done["status"] == "mined", done
    assert writes.client.get(f"/assets/{done['result']['asset_id']}/proofs/1").json()["leaf"] == leaves[1]


def test_writes_need_a_writer(writes: WriteWorld) -> None:
    sealed = writes.seal("f.bin", b"f" * 900, "F")
    body = {"manifest": sealed.manifest.to_json_data()}
    anonymous = writes.client.request("POST", "/assets", json=body)
    assert error_of(anonymous, 401)["kind"] == "invalid_input"
    wrong_key = writes.client.request("POST", "/assets", json=body,
                                      headers={"Authorization": "Bearer dsk_" + "A" * 43})
    error_of(wrong_key, 401)
    # a signed request is a user, not the operator: it relays its own signature instead
    user = writes.chain.keys[writes.chain.user.address]
    assert "relay" in error_of(writes.signed("/assets", body, user), 403)["hint"]


# ---------------------------------------------------------------------------------- POST /assets/relay


def test_relayed_registration_makes_the_signer_the_owner(writes: WriteWorld) -> None:
    user = writes.chain.keys[writes.chain.user.address]
    sealed = writes.seal("g.bin", b"g" * 1300, "G")
    done = writes.wait(writes.signed("/assets/relay", relay_body(writes, sealed, user), user))
    assert done["status"] == "mined", done
    asset = writes.chain.reader.registry.asset(done["result"]["asset_id"])
    assert asset.owner == user.address and done["result"]["relayed"] is True
    assert writes.chain.w3.eth.get_transaction(done["tx_hash"])["from"] == writes.chain.owner.address  # the operator


def test_relay_refuses_bad_signatures_and_deadlines(writes: WriteWorld) -> None:
    user = writes.chain.keys[writes.chain.user.address]
    buyer = writes.chain.keys[writes.chain.buyer.address]
    sealed = writes.seal("h.bin", b"h" * 1700, "H")
    forged = relay_body(writes, sealed, user, signer=buyer)
    error = error_of(writes.operator("/assets/relay", forged), 400)
    assert buyer.address in error["message"] and "signature" in error["message"]
    tampered = {**relay_body(writes, sealed, user), "classification": 3}
    assert "registerBySig signature" in error_of(writes.operator("/assets/relay", tampered), 400)["message"]
    expired = relay_body(writes, sealed, user, deadline=writes.chain.now() - 1)
    assert error_of(writes.operator("/assets/relay", expired), 400)["options"] == ["deadline"]
    other_signer = writes.signed("/assets/relay", relay_body(writes, sealed, user), buyer)
    assert user.address in error_of(other_signer, 403)["message"]


def test_a_replayed_signed_request_is_refused(writes: WriteWorld) -> None:
    user = writes.chain.keys[writes.chain.user.address]
    sealed = writes.seal("i.bin", b"i" * 1900, "I")
    raw = json.dumps(relay_body(writes, sealed, user)).encode()
    headers = {"Content-Type": "application/json",
               **sign_request(user, "POST", "/assets/relay", raw, next(writes.counter),
                              chain_id=writes.chain.w3.eth.chain_id, host="localhost")}
    first = writes.client.request("POST", "/assets/relay", content=raw, headers=headers)
    error_of(writes.client.request("POST", "/assets/relay", content=raw, headers=headers), 409)
    assert writes.wait(first)["status"] == "mined"


def test_unknown_operation_is_404(writes: WriteWorld) -> None:
    error_of(writes.client.get("/operations/op_" + "0" * 32), 404)
    error_of(writes.client.get("/operations/nope"), 422)


# ---------------------------------------------------------------------------------- restart


def test_a_queued_operation_is_carried_out_after_a_restart(writes: WriteWorld) -> None:
    writes.app.state.operations.stop()
    try:
        sealed = writes.seal("j.bin", b"j" * 2100, "J")
        answer = writes.operator("/assets", {"manifest": sealed.manifest.to_json_data()})
        assert answer.json()["status"] == "queued"
        assert writes.client.get(answer.json()["poll"]).json()["status"] == "queued"
        restarted = create_app(writes.registry)
        restarted.state.operations.start()
        try:
            done = restarted.state.operations.wait(answer.json()["operation"])
        finally:
            restarted.state.operations.stop()
        assert done["status"] == "mined", done
        assert writes.chain.reader.registry.asset_id_of(bytes.fromhex(sealed.manifest.tree.root[2:])) == \
            done["result"]["asset_id"]
    finally:
        writes.app.state.operations.start()


# ---------------------------------------------------------------------------------- commit–reveal


def test_relay_with_commitments_commits_for_the_owner(tmp_path: Path) -> None:
    chain = pyevm_chain(ContractConfig.with_commits())
    clock = Clock(now=lambda: 0.0, sleep=lambda seconds: chain.travel(max(1, int(seconds))) and None)
    world, database = make_world(chain, tmp_path, clock)
    world.app.state.operations.start()
    try:
        user = chain.keys[chain.user.address]
        sealed = world.seal("k.bin", b"k" * 1000, "K")
        too_soon = relay_body(world, sealed, user, deadline=chain.now() + 30)
        assert error_of(world.operator("/assets/relay", too_soon), 400)["options"] == ["deadline"]
        done = world.wait(world.operator("/assets/relay", relay_body(world, sealed, user)))
        assert done["status"] == "mined", done
        assert len(done["tx_hashes"]) == 2  # the commitment, then the registration
        assert chain.reader.registry.asset(done["result"]["asset_id"]).owner == user.address
    finally:
        world.app.state.operations.stop()
        world.registry._database = None
        world.registry.close()
        database.close()


def test_an_operation_refused_by_the_chain_fails_with_an_error_body(writes: WriteWorld) -> None:
    user = writes.chain.keys[writes.chain.user.address]
    sealed = writes.seal("l.bin", b"l" * 2300, "L")
    writes.app.state.operations.stop()
    try:
        answer = writes.operator("/assets/relay", relay_body(writes, sealed, user, deadline=writes.chain.now() + 600))
        assert answer.json()["status"] == "queued"
        writes.chain.travel(3600)  # the signature's deadline passes before the worker sends it
    finally:
        writes.app.state.operations.start()
    done = writes.wait(answer)
    assert done["status"] == "failed" and done["result"] is None
    assert set(done["error"]) >= {"kind", "message", "hint"}
    assert "expired" in done["error"]["message"].lower() or "deadline" in done["error"]["message"]
    again = writes.operator("/assets/relay", relay_body(writes, sealed, user))  # a failed write may be sent again
    assert again.json()["operation"] != answer.json()["operation"]
    assert writes.wait(again)["status"] == "mined"


def test_the_worker_starts_and_stops_with_the_app(writes: WriteWorld) -> None:
    app = create_app(writes.registry)

    async def run() -> None:
        async with app.router.lifespan_context(app):
            assert app.state.operations.running
        assert not app.state.operations.running

    anyio.run(run)


def test_an_operation_is_carried_out_by_one_worker_at_a_time(writes: WriteWorld) -> None:
    writes.app.state.operations.stop()
    try:
        sealed = writes.seal("m.bin", b"m" * 2500, "M")
        operation = writes.operator("/assets", {"manifest": sealed.manifest.to_json_data()}).json()["operation"]
        first, second = create_app(writes.registry).state.operations, create_app(writes.registry).state.operations
        taken = first._next()
        assert taken is not None and taken.id == operation
        assert second._next() is None  # leased by the first (a replica sharing the database)
        first._release(operation)  # the first stops before finishing it
        again = second._next()
        assert again is not None and again.id == operation
        second._release(operation)
    finally:
        writes.app.state.operations.start()
    assert writes.app.state.operations.wait(operation)["status"] == "mined"
