"""Trails (JSON, CSV, PROV; paged), encumbrances, usage and grants over HTTP."""
from __future__ import annotations

import csv
import io

import pytest
from pydantic import ValidationError

from dataseal.api.models import ProvDocument, TrailPageOut
from dataseal.registry.audit import CSV_COLUMNS
from tests.api.conftest import PURPOSE, World, error_of


def test_an_asset_trail_pages_in_chain_order(world: World) -> None:
    whole = world.client.get(f"/assets/{world.asset_id}/trail").json()
    events = [e["event"] for e in whole["entries"]]
    assert "AssetRegistered" in events[:2] and "GrantCreated" in events and "UsageRecorded" in events
    assert whole["subject"] == {"asset_id": world.asset_id} and whole["next"] is None
    assert whole["chain_id"] == world.chain.w3.eth.chain_id and whole["index_last_block"] >= 1
    positions = [(e["block_number"], e["log_index"]) for e in whole["entries"]]
    assert positions == sorted(positions)
    seen, after = [], None
    while True:
        page = world.client.get(f"/assets/{world.asset_id}/trail", params={"limit": 2, **(
            {"after": after} if after else {})}).json()
        seen += page["entries"]
        after = page["next"]
        if after is None:
            break
    assert seen == whole["entries"]


def test_a_trail_as_csv_and_prov(world: World) -> None:
    response = world.client.get(f"/assets/{world.asset_id}/trail", params={"format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert tuple(rows[0]) == tuple(CSV_COLUMNS) and len(rows) > 2
    prov = world.client.get(f"/assets/{world.asset_id}/trail", params={"format": "prov"})
    assert prov.status_code == 200 and prov.headers["content-type"].startswith("application/json")
    assert "entity" in prov.json() and "activity" in prov.json()


def test_the_schema_declares_the_prov_document_beside_the_page(world: World) -> None:
    """schemathesis: a PROV-JSON answer (application/json) was declared as a trail page only."""
    schema = world.client.get("/openapi.json").json()
    for path in ("/assets/{asset_id}/trail", "/accounts/{address}/trail"):
        json_schema = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert json_schema["anyOf"] == [{"$ref": "#/components/schemas/TrailPageOut"},
                                        {"$ref": "#/components/schemas/ProvDocument"}], path
    prov = world.client.get(f"/assets/{world.asset_id}/trail", params={"format": "prov"}).json()
    document = ProvDocument.model_validate(prov)
    assert f"asset:{world.asset_id}" in document.entity
    with pytest.raises(ValidationError):
        TrailPageOut.model_validate(prov)


def test_an_account_trail_names_the_account(world: World) -> None:
    user = world.chain.user.address
    page = world.client.get(f"/accounts/{user.lower()}/trail").json()
    assert page["subject"] == {"address": user}
    assert {e["event"] for e in page["entries"]} >= {"GrantCreated", "UsageRecorded"}
    assert all(any(p["address"] == user for p in e["parties"]) for e in page["entries"])


def test_encumbrances_usage_and_the_grant(world: World) -> None:
    binding = world.client.get(f"/assets/{world.asset_id}/encumbrances").json()
    [g] = binding["grants"]
    assert (g["grant_id"], g["grantee"], g["used"], g["remaining"], g["purpose_text"]) == \
        (world.grant_id, world.chain.user.address, 3, 7, PURPOSE)
    for period in ("day", "month"):
        usage = world.client.get(f"/assets/{world.asset_id}/usage", params={"period": period}).json()
        assert usage["period"] == period
        assert [(r["grant_id"], r["units"], r["records"]) for r in usage["rows"]] == [(world.grant_id, 3, 1)]
    grant = world.client.get(f"/grants/{world.grant_id}").json()
    assert (grant["asset_id"], grant["quota"], grant["used"], grant["remaining"], grant["status"]) == \
        (world.asset_id, 10, 3, 7, "Active")
    assert grant["purpose_text"] == PURPOSE and grant["usable"] and grant["grantor"] == world.chain.owner.address


def test_bad_trail_parameters(world: World) -> None:
    client, url = world.client, f"/assets/{world.asset_id}/trail"
    error = error_of(client.get(url, params={"after": "12"}), 400)
    assert "the cursor '12' is not BLOCK:LOG" in error["message"] and error["options"] == ["after"]
    error = error_of(client.get(url, params={"format": "xml"}), 422)
    assert "query parameter format" in error["message"] and "'json', 'csv' or 'prov'" in error["message"]
    for limit in ("0", "1001", "many"):
        error = error_of(client.get(url, params={"limit": limit}), 422)
        assert "query parameter limit" in error["message"] and f'(got "{limit}")' in error["message"]
    for huge in ("99999999999999999999999999:0", "9223372036854775808:0", "4:9223372036854775808"):
        error = error_of(client.get(url, params={"after": huge}), 400)  # beyond a 64-bit column: was a 500
        assert "is beyond any block or log index" in error["message"]
    owner = world.client.get(f"/assets/{world.asset_id}").json()["owner"]
    error = error_of(client.get("/assets", params={"owner": owner, "after": str(2**64)}), 422)
    assert "query parameter after" in error["message"]
    error = error_of(client.get("/accounts/0x12/trail"), 400)
    assert "the account '0x12' is not an address" in error["message"]
    error = error_of(client.get(f"/assets/{world.asset_id}/usage", params={"period": "week"}), 422)
    assert "query parameter period" in error["message"]


def test_an_unknown_grant_is_404(world: World) -> None:
    error = error_of(world.client.get("/grants/99"), 404)
    grants = world.registry.context.contracts().grants
    assert error["message"] == f"no grant 99 on chain {world.chain.w3.eth.chain_id} (GrantRegistry at " \
        f"{grants.address}): it has 1 grant"  # not the revert's name, UnknownGrant(grantId=99)
    assert error["hint"] == "check the grant id, and that this is the registry it was granted with"
    assert error["kind"] == "not_found"
    error_of(world.client.get("/grants/0"), 422)
