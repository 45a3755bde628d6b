"""The verify routes over HTTP (httpx's ASGI transport): a file streamed and hashed as it arrives (in bounded
memory), its chunk digests only, a proof, an evidence bundle; and every kind of bad input, answered with a 4xx
and the error body."""
from __future__ import annotations

import asyncio
import codecs
import hashlib
import json
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from dataseal.api import deps
from dataseal.api.app import create_app
from dataseal.api.routes import verify as verify_routes
from dataseal.cached import is_cached_only
from dataseal.errors import ErrorKind
from dataseal.registry.manifest import read_manifest
from dataseal.registry.merkle import compute_leaf_hash
from dataseal.registry.merkle.hashing import standard_node_hash
from dataseal.registry.registry import Registry
from dataseal.registry.sealing import SealOptions
from dataseal.registry.sealing.seal import prove, seal
from dataseal.registry.services import assets, evidence, status_changes
from dataseal.registry.settings import Settings
from tests.api.conftest import ApiClient
from tests.conftest import Chain
from tests.registry.conftest import postgres  # noqa: F401 - the session's PostgreSQL server, a fixture
from tests.registry.services.conftest import RegistryFor, registry_database, registry_for  # noqa: F401 - fixtures

SECRET = bytes(range(32))
CHUNK = 1024
_STATUS = {ErrorKind.INVALID_INPUT: 400, ErrorKind.NOT_FOUND: 404, ErrorKind.CONFLICT: 409,
           ErrorKind.UNAVAILABLE: 503, ErrorKind.INTERNAL: 500}


def make_app(registry: Registry, **state: Any) -> FastAPI:
    """The app over ``registry`` (answering the test client's Host name), with ``state`` on app.state."""
    app = create_app(registry, allowed_hosts=("test",))
    for key, value in state.items():
        setattr(app.state, key, value)
    return app


def call(app: FastAPI, url: str, **kwargs: Any) -> httpx.Response:
    """POST through httpx's ASGI transport."""
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            return await client.post(url, **kwargs)
    return asyncio.run(go())


def octets(data: bytes, piece: int = 333) -> dict[str, Any]:
    """A body sent in pieces of ``piece`` bytes (no Content-Length), as an octet stream."""
    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(data), piece):
            yield data[start:start + piece]
    return {"content": pieces(), "headers": {"content-type": "application/octet-stream"}}


def digests_of(data: bytes, chunk_size: int = CHUNK) -> dict[str, Any]:
    return {"chunk_size": chunk_size, "size": len(data),
            "digests": ["0x" + hashlib.sha256(data[i:i + chunk_size]).hexdigest()
                        for i in range(0, len(data), chunk_size)]}


def error_of(response: httpx.Response, status: int) -> dict[str, str]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert {"kind", "message", "hint"} <= set(error)
    return dict(error)


@pytest.fixture
def owner(pyevm: Chain, registry_for: RegistryFor) -> Registry:  # noqa: F811 - the imported fixture
    return registry_for(pyevm, pyevm.owner)


@pytest.fixture
def app(owner: Registry) -> FastAPI:
    return make_app(owner)


# ---------------------------------------------------------------------------------------------- files


def test_a_registered_file_is_found_streamed_or_by_its_digests(
        pyevm: Chain, owner: Registry, app: FastAPI, tmp_path: Path) -> None:
    data = bytes(range(256)) * 20  # 5120 bytes: five chunks of 1 KiB
    blob = tmp_path / "blob.bin"
    blob.write_bytes(data)
    done = assets.register(owner, blob, options=SealOptions(chunk_size=CHUNK))
    streamed = call(app, f"/verify/file?chunk_size={CHUNK}", **octets(data))
    assert streamed.status_code == 200, streamed.text
    found = streamed.json()
    assert found["registered"] and (found["asset_id"], found["status"], found["owner"], found["content_root"]) == \
        (done.asset_id, "Active", pyevm.owner.address, done.content_root)
    assert (found["size"], found["chunk_size"], found["leaf_count"], found["manifest_hash"]) == \
        (len(data), CHUNK, 5, done.manifest_hash)
    whole = call(app, f"/verify/file?chunk_size={CHUNK}", content=data,
                 headers={"content-type": "application/octet-stream"})
    assert whole.json() == found  # one body or many pieces: the same chunks
    by_digests = call(app, "/verify/digests", json=digests_of(data))
    assert by_digests.status_code == 200 and by_digests.json() == found
    default_chunks = call(app, "/verify/file", **octets(data))  # sealed in 1 KiB chunks, asked in 1 MiB ones
    assert default_chunks.status_code == 200 and not default_chunks.json()["registered"]
    assert default_chunks.json()["chunk_size"] == 1 << 20


@pytest.mark.parametrize("registry_database", ["sqlite", "postgresql"])
def test_a_changed_file_names_the_chunks_that_differ_from_the_nearest_version(
        owner: Registry, app: FastAPI, tmp_path: Path) -> None:
    data = bytes(4 * CHUNK)
    blob = tmp_path / "report.bin"
    blob.write_bytes(data)
    done = assets.register(owner, blob, options=SealOptions(chunk_size=CHUNK))
    changed = data[:2 * CHUNK] + b"\1" + data[2 * CHUNK + 1:] + b"more"
    for url, kwargs in ((f"/verify/file?chunk_size={CHUNK}&name=report.bin", octets(changed)),
                        (f"/verify/file?chunk_size={CHUNK}", octets(changed, piece=CHUNK)),
                        ("/verify/digests", {"json": {**digests_of(changed), "name": "report.bin"}}),
                        ("/verify/digests", {"json": digests_of(changed)})):
        response = call(app, url, **kwargs)
        assert response.status_code == 200, (url, response.text)
        answer = response.json()
        assert not answer["registered"] and answer["asset_id"] is None and answer["leaf_count"] == 5
        nearest = answer["nearest"]
        assert (nearest["asset_id"], nearest["content_root"], nearest["status"]) == \
            (done.asset_id, done.content_root, "Active")
        assert nearest["differences"] == {"part": "chunk", "changed": [2], "changed_count": 1, "added": 1,
                                          "removed": 0}
    other_name = call(app, "/verify/digests", json={**digests_of(changed), "name": "another.bin"})
    assert other_name.json()["nearest"] is None  # versions are looked for under the name given
    other_chunks = call(app, "/verify/digests", json=digests_of(changed, 2 * CHUNK))
    assert other_chunks.json()["nearest"] is None  # sealed in other chunks: no chunk-by-chunk comparison


def test_a_large_upload_is_hashed_in_bounded_memory(owner: Registry, tmp_path: Path) -> None:
    """64 MiB streamed in 256 KiB pieces: Python's peak allocation stays far below the body (a memory bound)."""
    total, piece = 64 << 20, 256 << 10
    expected = hashlib.sha256()
    block = bytes(range(256)) * (piece // 256)

    async def body() -> AsyncIterator[bytes]:
        for _ in range(total // piece):
            yield block

    for _ in range((1 << 20) // piece):  # the first 1 MiB chunk, to check the answer
        expected.update(block)
    app = make_app(owner)
    assert call(app, "/verify/digests", json=digests_of(b"x")).status_code == 200  # chain and database opened
    tracemalloc.start()
    try:
        response = call(app, "/verify/file", content=body(), headers={"content-type": "application/octet-stream"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["size"], answer["leaf_count"], answer["registered"]) == (total, 64, False)
    assert peak < 8 << 20, f"peak Python allocation {peak:,} bytes while streaming {total:,}"
    by_digests = call(app, "/verify/digests", json={"size": total, "digests": ["0x" + expected.hexdigest()] * 64})
    assert by_digests.json()["content_root"] == answer["content_root"]


def test_bad_uploads_are_refused_with_a_4xx(owner: Registry, app: FastAPI) -> None:
    wrong = error_of(call(app, "/verify/file", content=b"abc", headers={"content-type": "text/plain"}), 415)
    assert "the body is text/plain; this route reads the file's bytes as application/octet-stream" in \
        wrong["message"] and "Content-Type: application/octet-stream" in wrong["hint"]
    none = error_of(call(app, "/verify/file", content=b"abc"), 415)
    assert "of no content type" in none["message"]
    empty = error_of(call(app, "/verify/file", content=b"", headers={"content-type": "application/octet-stream"}),
                     400)
    assert "the data is empty (0 bytes)" in empty["message"] and empty["kind"] == "invalid_input"
    small = make_app(owner, max_upload_bytes=1000)
    declared = error_of(call(small, "/verify/file", content=bytes(1001),
                             headers={"content-type": "application/octet-stream"}), 413)
    assert declared["message"] == "the upload is 1,001 bytes, above this service's limit of 1,000 bytes"
    assert "chunk digests" in declared["hint"]
    streamed = error_of(call(small, "/verify/file", **octets(bytes(1500), piece=400)), 413)
    assert streamed["message"] == "the upload is more than 1,000 bytes, above this service's limit of 1,000 bytes"
    assert call(small, "/verify/file", **octets(bytes(1000), piece=400)).status_code == 200  # the limit itself
    tiny = error_of(call(app, "/verify/file?chunk_size=1", **octets(bytes((1 << 20) + 1), piece=1 << 16)), 400)
    assert "more than the 1,048,576 chunks a sealed file may have" in tiny["message"]
    assert tiny["hint"] == "use a larger chunk size (the one the data was sealed with)"
    for query, field in (("chunk_size=0", "chunk_size"), ("chunk_size=lots", "chunk_size"),
                         (f"chunk_size={(1 << 30) + 1}", "chunk_size"), ("name=", "name")):
        bad = error_of(call(app, f"/verify/file?{query}", **octets(b"abc")), 422)
        assert field in bad["message"]


def test_a_file_checked_against_an_asset_is_compared_with_that_asset(
        owner: Registry, app: FastAPI, tmp_path: Path) -> None:
    """The verify page opened for an asset sends its id: a changed file under another name is compared with it (by
    name alone, no registered version would be found)."""
    data = bytes(range(256)) * 16
    first, other = tmp_path / "first.bin", tmp_path / "other.bin"
    first.write_bytes(data)
    other.write_bytes(data[::-1])
    target = assets.register(owner, first, options=SealOptions(chunk_size=CHUNK))
    assets.register(owner, other, options=SealOptions(chunk_size=CHUNK))  # newer: the unnamed search's first pick
    changed = data[:CHUNK] + b"\xff" + data[CHUNK + 1:]
    renamed = {**digests_of(changed), "name": "copy-from-email.bin"}
    assert call(app, "/verify/digests", json=renamed).json()["nearest"] is None
    compared = call(app, "/verify/digests", json={**renamed, "asset_id": target.asset_id}).json()
    assert compared["registered"] is False and compared["nearest"]["asset_id"] == target.asset_id
    assert compared["nearest"]["differences"]["changed"] == [1]
    exact = call(app, "/verify/digests", json={**digests_of(data), "asset_id": target.asset_id}).json()
    assert exact["registered"] and exact["asset_id"] == target.asset_id
    unknown = error_of(call(app, "/verify/digests", json={**renamed, "asset_id": 999}), 404)
    assert "UnknownAsset(assetId=999)" in unknown["message"], unknown


def test_bad_digests_are_refused_with_a_4xx(app: FastAPI) -> None:
    good = digests_of(bytes(3000))
    not_json = error_of(call(app, "/verify/digests", content=b"{not json",
                             headers={"content-type": "application/json"}), 400)  # malformed, not invalid
    assert not_json["message"] == "the request body is not JSON: Expecting property name enclosed in double " \
        "quotes at character 1"
    assert "options" not in not_json
    # options name the field (digests), never a list index (0) nor a field the request made up (extra)
    for body, field, options in (({**good, "digests": ["0x" + "zz" * 32, *good["digests"][1:]]}, "digests.0",
                                  ["digests"]),
                                 ({**good, "digests": ["0x" + "ab" * 31, *good["digests"][1:]]}, "digests.0",
                                  ["digests"]),
                                 ({**good, "digests": ["ab" * 32, *good["digests"][1:]]}, "digests.0", ["digests"]),
                                 ({**good, "digests": []}, "digests", ["digests"]),
                                 ({**good, "size": 0}, "size", ["size"]),
                                 ({**good, "chunk_size": 0}, "chunk_size", ["chunk_size"]),
                                 ({**good, "size": "3000"}, "size", ["size"]),
                                 ({**good, "extra": 1}, "extra", None),
                                 ({"digests": good["digests"]}, "size", ["size"]),
                                 ([good], "body", None)):
        bad = error_of(call(app, "/verify/digests", json=body), 422)
        assert field in bad["message"], (body, bad)
        assert bad.get("options") == options, (body, bad)
    mismatch = error_of(call(app, "/verify/digests", json={**good, "size": 5000}), 400)
    assert mismatch["message"] == "3 digests do not fit 5,000 bytes in chunks of 1,024 bytes: that is 5 chunks, " \
        "so 5 digests were expected"
    too_many = error_of(call(app, "/verify/digests", json={**good, "chunk_size": 1, "size": (1 << 20) + 1}), 400)
    assert "more than the 1,048,576 a sealed file may have" in too_many["message"]


# ---------------------------------------------------------------------------------------------- documents


def write_table(path: Path, rows: int) -> Path:
    path.write_text("id,name\n" + "".join(f"{i},n{i}\n" for i in range(rows)))
    return path


def test_a_proof_is_checked_and_its_root_looked_up_on_chain(
        pyevm: Chain, owner: Registry, app: FastAPI, tmp_path: Path) -> None:
    table = write_table(tmp_path / "t.csv", 5)
    done = assets.register(owner, table, salt_secret=SECRET)
    proof = evidence.prove(owner, table, read_manifest(done.manifest_path), row=2, secret=SECRET).proof
    document = proof.to_json_data()
    response = call(app, "/verify/proof", json=document)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["ok"] and answer["kind"] == "proof" and answer["root"] == done.content_root
    assert answer["subject"] == "row 2" and answer["failure"] is None and answer["warnings"] == []
    assert answer["registration"] == {"asset_id": done.asset_id, "status": "Active", "owner": pyevm.owner.address,
                                      "manifest_hash": done.manifest_hash}
    assert f"root {done.content_root} is registered as asset {done.asset_id} on chain " \
        f"{pyevm.deployment.chain_id} (Active)" in answer["checked"]
    assert all("root" not in item["options"] for item in answer["not_checked"])
    with_root = call(app, f"/verify/proof?root={done.content_root}", json=document).json()
    assert with_root["ok"]

    other_root = call(app, "/verify/proof?root=0x" + "11" * 32, json=document).json()
    assert not other_root["ok"] and other_root["failure"]["kind"] == "invalid_input"
    assert "0x" + "11" * 32 in other_root["failure"]["message"]
    tampered = {**document, "proof": ["0x" + "00" * 32, *document["proof"][1:]]}
    failed = call(app, "/verify/proof", json=tampered)
    assert failed.status_code == 200 and not failed.json()["ok"] and failed.json()["checked"] == []
    assert "root" in failed.json()["failure"]["message"]

    blob = tmp_path / "unregistered.bin"
    blob.write_bytes(bytes(3000))
    sealed = seal(blob, SealOptions(chunk_size=CHUNK))
    lone = call(app, "/verify/proof", json=prove(blob, sealed.manifest, chunk=1).to_json_data()).json()
    assert lone["ok"] and lone["registration"] is None and lone["subject"] == "chunk 1"
    assert any(item["what"] == f"that root {sealed.root} is registered: no registration on chain "
               f"{pyevm.deployment.chain_id} of this registry holds it" for item in lone["not_checked"])


def test_bad_proofs_are_refused_with_a_4xx(owner: Registry, app: FastAPI, tmp_path: Path) -> None:
    table = write_table(tmp_path / "t.csv", 3)
    done = assets.register(owner, table)
    result = evidence.prove(owner, table, read_manifest(done.manifest_path), chunk=0)
    assert result.bundle is not None
    document = result.proof.to_json_data()
    bundle = error_of(call(app, "/verify/proof", json=result.bundle.to_json_data()), 400)
    assert bundle["message"] == "the document is a dataseal.evidence, not a proof (kind dataseal.proof)"
    unknown = error_of(call(app, "/verify/proof", json={**document, "kind": "something"}), 400)
    assert "the proof has kind 'something'" in unknown["message"]
    newer = error_of(call(app, "/verify/proof", json={**document, "version": 2}), 400)
    assert "this dataseal reads version 1" in newer["message"]
    missing = error_of(call(app, "/verify/proof", json={k: v for k, v in document.items() if k != "leaf"}), 400)
    assert "the proof is not a valid dataseal.proof" in missing["message"]
    bad_root = error_of(call(app, "/verify/proof?root=0x12", json=document), 400)
    assert "the expected root" in bad_root["message"]
    not_object = error_of(call(app, "/verify/proof", json=[document]), 422)
    assert "body" in not_object["message"]
    not_json = error_of(call(app, "/verify/proof", content=b"{", headers={"content-type": "application/json"}), 400)
    assert not_json["message"].startswith("the request body is not JSON: ")


def test_a_proof_and_an_asset_read_again_are_answered_on_the_event_loop(
        owner: Registry, app: FastAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hot reads hand their work to a worker thread only while what they read is not held (the head, its
    answers, the title): asked again, they answer on the event loop, the same answer."""
    hops: list[str] = []
    threaded = deps.run_in_threadpool

    async def counted(work: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(work.__name__)
        return await threaded(work, *args, **kwargs)

    table = write_table(tmp_path / "t.csv", 5)
    done = assets.register(owner, table, salt_secret=SECRET)
    proof = evidence.prove(owner, table, read_manifest(done.manifest_path), row=2, secret=SECRET).proof
    document = proof.to_json_data()
    monkeypatch.setattr(deps, "run_in_threadpool", counted)
    first, again = (call(app, "/verify/proof", json=document) for _ in range(2))
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    assert first.json()["registration"]["asset_id"] == done.asset_id
    assert hops == ["_verify_proof"], "the second verify was answered on the event loop"
    first, again = (ApiClient(app, "http://test").get(f"/assets/{done.asset_id}") for _ in range(2))
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    assert hops == ["_verify_proof", "get_asset_out"], "the first asset read asked the database for its title"


def test_a_bundle_is_checked_offline_and_on_this_registrys_chain(
        pyevm: Chain, owner: Registry, app: FastAPI, tmp_path: Path) -> None:
    table = write_table(tmp_path / "t.csv", 5)
    done = assets.register(owner, table, salt_secret=SECRET)
    bundle = evidence.prove(owner, table, read_manifest(done.manifest_path), row=1, secret=SECRET).bundle
    assert bundle is not None
    document = bundle.to_json_data()
    response = call(app, "/verify/bundle", json=document)
    assert response.status_code == 200, response.text
    answer = response.json()
    chain_id = pyevm.deployment.chain_id
    assert answer["ok"] and answer["kind"] == "evidence" and answer["root"] == done.content_root
    assert answer["chain"] == {"status": "Active", "holds_root": True,
                               "trusted_by": f"this registry's deployment on chain {chain_id}"}
    assert f"chain: contract {bundle.record.contract} is the trusted AssetRegistry (this registry's deployment on " \
        f"chain {chain_id})" in answer["checked"]
    assert any(line.startswith("manifest hash") for line in answer["checked"])
    assert not any(item["what"].startswith("chain:") for item in answer["not_checked"])

    record = document["record"]
    altered = {**document, "record": {**record, "timestamp": record["timestamp"] + 1}}
    failed = call(app, "/verify/bundle", json=altered).json()
    assert not failed["ok"] and "did not emit the AssetRegistered the record claims" in failed["failure"]["message"]
    assert any(line.startswith("manifest hash") for line in failed["checked"])  # what passed before it
    elsewhere = call(app, "/verify/bundle", json={**document, "record": {**record, "chainId": 5}}).json()
    assert not elsewhere["ok"] and "the bundle's record is on chain 5" in elsewhere["failure"]["message"]
    offline = call(app, "/verify/bundle", json={**document, "manifestHash": "0x" + "22" * 32}).json()
    assert not offline["ok"] and offline["checked"] == []
    assert "the bundle's manifest hash is 0x" + "22" * 32 in offline["failure"]["message"]

    status_changes.cancel(owner, done.asset_id)
    gone = call(app, "/verify/bundle", json=document).json()
    assert not gone["ok"] and gone["failure"]["kind"] == "conflict"
    assert f"asset {done.asset_id} is now Cancelled" in gone["failure"]["message"]


def test_bad_bundles_are_refused_with_a_4xx(owner: Registry, app: FastAPI, tmp_path: Path) -> None:
    table = write_table(tmp_path / "t.csv", 3)
    done = assets.register(owner, table)
    result = evidence.prove(owner, table, read_manifest(done.manifest_path), chunk=0)
    assert result.bundle is not None
    document = result.bundle.to_json_data()
    proof = error_of(call(app, "/verify/bundle", json=result.proof.to_json_data()), 400)
    assert proof["message"] == "the document is a dataseal.proof, not an evidence bundle (kind dataseal.evidence)"
    manifest = error_of(call(app, "/verify/bundle", json=json.loads(done.manifest_path.read_text())), 400)
    assert "not an evidence bundle" in manifest["message"]
    broken = error_of(call(app, "/verify/bundle", json={**document, "proofs": "none"}), 400)
    assert "the bundle is not a valid dataseal.evidence" in broken["message"]
    no_manifest = error_of(call(app, "/verify/bundle", json={k: v for k, v in document.items() if k != "manifest"}),
                           400)
    assert "the bundle is not a valid dataseal.evidence" in no_manifest["message"]
    empty = error_of(call(app, "/verify/bundle", json={}), 400)
    assert "the bundle has kind None" in empty["message"]
    text = error_of(call(app, "/verify/bundle", content=b"hello", headers={"content-type": "application/json"}), 400)
    assert text["message"] == "the request body is not JSON: Expecting value at character 0"


def test_an_unreachable_chain_is_a_503_not_a_failed_check(tmp_path: Path) -> None:
    dead = Registry(Settings(data_dir=tmp_path / "data", rpc_url="http://127.0.0.1:9", rpc_timeout=5))
    try:
        app = make_app(dead)
        for url, kwargs in (("/verify/digests", {"json": digests_of(b"data")}),
                            ("/verify/file", octets(b"data"))):
            error = error_of(call(app, url, **kwargs), 503)
            assert error["kind"] == "unavailable" and "127.0.0.1:9" in error["message"]
    finally:
        dead.close()


def test_the_openapi_schema_describes_the_routes(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    assert set(paths) >= {"/verify/file", "/verify/digests", "/verify/proof", "/verify/bundle"}
    upload = paths["/verify/file"]["post"]
    assert upload["requestBody"]["content"] == {"application/octet-stream": {"schema": {"type": "string",
                                                                                       "format": "binary"}}}
    assert {"400", "413", "415"} <= set(upload["responses"])
    for path in ("/verify/digests", "/verify/proof", "/verify/bundle"):  # schemathesis: 400 and 415 were undeclared
        assert {"400", "413", "415", "422"} <= set(paths[path]["post"]["responses"]), path
    schema = app.openapi()["components"]["schemas"]["DigestsRequest"]
    assert set(schema["properties"]) == {"chunk_size", "size", "digests", "name", "asset_id"}
    assert schema["properties"]["digests"]["items"]["pattern"] == "^0x[0-9a-fA-F]{64}$"


@pytest.mark.parametrize("body", [b"", b"[1, 2]", b"null", b'"proof"', b"{", b'{"kind": 1,}', b"\xff\xfe",
                                  b'{"a": "\xff"}', b'{"kind": ' + b"1" * 5000 + b"}"])
def test_the_proof_route_reading_its_own_body_refuses_as_fastapi_does(owner: Registry, body: bytes) -> None:
    """/verify/proof reads its body itself (the hot route); a body FastAPI's own parameter refuses on /verify/bundle
    is refused the same way, with the same status and message."""
    app = make_app(owner)
    headers = {"content-type": "application/json"}
    ours, fastapis = (call(app, path, content=body, headers=headers) for path in ("/verify/proof", "/verify/bundle"))
    assert ours.status_code == fastapis.status_code and ours.status_code in (400, 422), ours.text
    assert ours.json() == fastapis.json()


def test_a_proof_sent_with_a_byte_order_mark_or_in_utf16_is_checked(
        owner: Registry, app: FastAPI, tmp_path: Path) -> None:
    """JSON may come as UTF-16/32 or after a BOM (json.loads reads them); the route validates the parsed document
    then, not the bytes (pydantic's parser reads UTF-8 only)."""
    table = write_table(tmp_path / "t.csv", 3)
    done = assets.register(owner, table, salt_secret=SECRET)
    proof = evidence.prove(owner, table, read_manifest(done.manifest_path), row=1, secret=SECRET).proof
    text = json.dumps(proof.to_json_data())
    for body in (text.encode(), codecs.BOM_UTF8 + text.encode(), text.encode("utf-16"), text.encode("utf-32")):
        response = call(app, "/verify/proof", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 200 and response.json()["ok"], response.text
        assert response.json()["registration"]["asset_id"] == done.asset_id


def test_a_proof_too_long_for_the_event_loop_is_checked_in_a_thread(
        owner: Registry, app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    """A proof of thousands of made-up siblings is a client's invention, but checking it costs: it is never checked
    on the event loop (every other request would wait), whatever is held."""
    seen: list[bool] = []

    def checked(*args: Any) -> Any:
        seen.append(is_cached_only())
        return real(*args)

    real = verify_routes._verify_proof
    monkeypatch.setattr(verify_routes, "_verify_proof", checked)
    values = ["0x" + "ab" * 32]
    leaf = compute_leaf_hash(("bytes32",), values)
    siblings = ["0x" + f"{n:064x}" for n in range(1, 1200)]
    root = leaf
    for sibling in siblings:
        root = standard_node_hash(root, bytes.fromhex(sibling[2:]))
    document = {"kind": "dataseal.proof", "version": 1, "root": "0x" + root.hex(), "leafEncoding": ["bytes32"],
                "value": values, "leaf": "0x" + leaf.hex(), "proof": siblings}
    assert len(json.dumps(document)) > verify_routes.ON_LOOP_MAX_BYTES
    for _ in range(2):
        response = call(app, "/verify/proof", json=document)
        assert response.status_code == 200 and response.json()["ok"], response.text
    assert seen == [False, False]


def test_the_proof_routes_body_is_declared_as_fastapi_declares_a_dict(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    ours, fastapis = (paths[path]["post"]["requestBody"] for path in ("/verify/proof", "/verify/bundle"))
    assert ours["required"] is fastapis["required"] is True
    schema = ours["content"]["application/json"]["schema"]
    assert schema == {**fastapis["content"]["application/json"]["schema"],
                      "description": "A dataseal proof (kind dataseal.proof), as written"}


@pytest.mark.parametrize("path", ["/verify/digests", "/verify/proof", "/verify/bundle"])
def test_a_json_route_given_another_content_type_is_415(owner: Registry, path: str) -> None:
    response = call(make_app(owner), path, content=b'{"size": 1}', headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert response.json()["error"]["message"].endswith("reads a JSON document, but the body was sent as text/plain")
    assert call(make_app(owner), path, content=b'{"size": 1}').status_code == 415  # no content type at all
