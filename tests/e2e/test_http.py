"""The quickstart's result read over HTTP with httpx, against the same running `dataseal up` (tests/e2e/conftest.py's
``journey``): what the CLI registered, granted, used and revoked, as the API answers it to anyone (no credentials),
and the API's errors in its one JSON shape.

The writes over HTTP (POST /assets, /grants, usage, trades, operations) are not here: they come with their routes
(see the e2e helpers `make_api_key` and `dataseal.api.security.sign_request`)."""
from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import Any

import httpx
import pytest

from dataseal.registry.merkle.verify import compute_root
from tests.e2e.quickstart import Journey

#: One worker runs every test of the shared journey (make test: --dist loadgroup), so it runs once.
pytestmark = [pytest.mark.usefixtures("journey"), pytest.mark.xdist_group("e2e-journey")]


@pytest.fixture
def api(journey: Journey) -> httpx.Client:
    return httpx.Client(base_url=journey.up.api, timeout=60.0)


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, (response.request.url, response.status_code, response.text[:2000])
    return response.json()


def _document(journey: Journey, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((journey.folder / name).read_text())
    return data


def test_assets_by_id_root_owner_and_certificate_number(journey: Journey, api: httpx.Client) -> None:
    asset = _ok(api.get("/assets/2"))
    assert asset["title"] == "Survey 2024" and asset["status"] == "Active" and asset["owner"] == journey.up.ready[
        "operator"]
    bundle = _document(journey, "row1.bundle.json")
    assert asset["content_root"] == bundle["proofs"][0]["root"] and asset["manifest_hash"] == bundle["manifestHash"]
    assert [a["asset_id"] for a in _ok(api.get("/assets", params={"root": asset["content_root"]}))["assets"]] == [2]
    owned = _ok(api.get("/assets", params={"owner": asset["owner"]}))
    ids = [a["asset_id"] for a in owned["assets"]]  # the quickstart's two, and the HTTP writes' when they ran first
    assert ids[:2] == [1, 2] and ids == sorted(ids) and owned["next"] is None
    certificate = _document(journey, "survey.csv.dataseal/certificate.json")
    by_number = _ok(api.get("/assets", params={"certificate": certificate["certificateNumber"]}))
    assert [a["asset_id"] for a in by_number["assets"]] == [2]
    registration = _ok(api.get("/assets", params={"registration": certificate["registrationNumber"]}))
    assert registration["assets"][0]["registration_number"] == certificate["registrationNumber"]
    assert _ok(api.get("/assets/2/versions"))["children"] == []


def test_a_proof_from_the_stored_tree_is_the_one_the_cli_wrote(journey: Journey, api: httpx.Client) -> None:
    written = _document(journey, "row1.bundle.json")["proofs"][0]
    served = _ok(api.get("/assets/2/proofs/1"))
    assert served["leaf_count"] == 20 and served["leaf"] == written["leaf"] and served["proof"] == written["proof"]
    assert "0x" + compute_root(served["leaf"], served["proof"]).hex() == served["content_root"] == written["root"]
    assert api.get("/assets/2/proofs/20").status_code == 404


def test_verify_a_file_by_upload_and_by_digests(journey: Journey, api: httpx.Client) -> None:
    data = (journey.folder / "hello.txt").read_bytes()
    upload = _ok(api.post("/verify/file", content=data, params={"name": "hello.txt"},
                          headers={"Content-Type": "application/octet-stream"}))
    assert upload["registered"] is True and upload["asset_id"] == 1 and upload["size"] == len(data)
    digests = {"size": len(data), "digests": ["0x" + hashlib.sha256(data).hexdigest()], "name": "hello.txt"}
    assert _ok(api.post("/verify/digests", json=digests)) == upload  # the same answer: the file never left
    changed = _ok(api.post("/verify/file", content=data.upper(), params={"name": "hello.txt"},
                           headers={"Content-Type": "application/octet-stream"}))
    assert changed["registered"] is False and changed["nearest"]["asset_id"] == 1


def test_verify_the_proof_and_the_bundle_the_cli_wrote(journey: Journey, api: httpx.Client) -> None:
    bundle = _document(journey, "row1.bundle.json")
    checked = _ok(api.post("/verify/bundle", json=bundle))
    assert checked["ok"] is True and checked["kind"] == "evidence" and checked["chain"]["holds_root"] is True
    assert any("chain: asset 2 still holds root" in line for line in checked["checked"])
    proof = _ok(api.post("/verify/proof", json=bundle["proofs"][0]))
    assert proof["ok"] is True and proof["registration"]["asset_id"] == 2
    bundle["proofs"][0]["leaf"] = "0x" + "00" * 32
    tampered = _ok(api.post("/verify/bundle", json=bundle))
    assert tampered["ok"] is False and tampered["failure"]["message"]


def test_the_trail_as_json_csv_and_prov(journey: Journey, api: httpx.Client) -> None:
    page = _ok(api.get("/assets/2/trail"))
    events = [entry["event"] for entry in page["entries"]]
    assert events == ["Transfer", "AssetRegistered", "GrantCreated", "UsageRecorded", "GrantRevoked"]
    assert page["next"] is None and page["chain_id"] == journey.up.ready["chain_id"]
    first = _ok(api.get("/assets/2/trail", params={"limit": 2}))
    rest = _ok(api.get("/assets/2/trail", params={"after": first["next"]}))
    assert [e["event"] for e in first["entries"] + rest["entries"]] == events  # paged, nothing lost or repeated
    text = api.get("/assets/2/trail", params={"format": "csv"})
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/csv")
    assert [row["event"] for row in csv.DictReader(io.StringIO(text.text))] == events
    prov = _ok(api.get("/assets/2/trail", params={"format": "prov"}))
    assert "prefix" in prov and "activity" in prov
    grantee = _ok(api.get("/grants/1"))["grantee"]
    account = _ok(api.get(f"/accounts/{grantee}/trail"))
    assert [e["event"] for e in account["entries"]] == ["GrantCreated", "UsageRecorded"]  # a revocation: the asset


def test_the_grant_its_usage_and_what_binds_the_asset(api: httpx.Client) -> None:
    grant = _ok(api.get("/grants/1"))
    assert grant["asset_id"] == 2 and grant["purpose_text"] == "credit scoring"
    assert (grant["quota"], grant["used"], grant["remaining"]) == (4, 4, 0)
    assert grant["status"] == "Revoked" and grant["usable"] is False
    usage = _ok(api.get("/assets/2/usage", params={"period": "day"}))
    assert [(r["grant_id"], r["units"], r["records"]) for r in usage["rows"]] == [(1, 4, 1)]
    assert _ok(api.get("/assets/2/encumbrances"))["grants"] == []  # revoked: it binds the asset no more


def test_the_certificate_as_json_and_pdf(journey: Journey, api: httpx.Client) -> None:
    written = _document(journey, "survey.csv.dataseal/certificate.json")
    served = _ok(api.get("/assets/2/certificate"))  # as of the latest block: its number says which
    assert served["registrationNumber"] == written["registrationNumber"] and served["assetId"] == 2
    assert served["contentRoot"] == written["contentRoot"] and served["owner"] == written["owner"]
    assert served["certificateNumber"].startswith(written["certificateNumber"].rsplit("-", 2)[0] + "-")
    pdf = api.get("/assets/2/certificate", params={"format": "pdf"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and ".pdf" in pdf.headers["content-disposition"]


def test_health_and_metrics(journey: Journey, api: httpx.Client) -> None:
    health = _ok(api.get("/health"))
    assert health["status"] == "ok" and health["chain"]["chain_id"] == journey.up.ready["chain_id"]
    assert health["indexer"]["last_block"] is not None and health["database"]["reachable"] is True
    metrics = api.get("/metrics")
    assert metrics.status_code == 200 and 'handler="/assets/{asset_id}"' in metrics.text


def test_errors_answer_in_one_json_shape(api: httpx.Client) -> None:
    missing = api.get("/assets/99")
    assert missing.status_code == 404
    error = missing.json()["error"]
    assert error["kind"] == "not_found" and "asset 99 is not registered" in error["message"] and error["hint"]
    bad = api.get("/assets", params={"root": "0x12"})
    assert bad.status_code in (400, 422) and bad.json()["error"]["kind"] == "invalid_input"
    wrong_type = api.post("/verify/file", content=b"x", headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415 and "application/octet-stream" in wrong_type.json()["error"]["hint"]
