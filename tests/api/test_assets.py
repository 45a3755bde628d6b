"""Assets, versions and proofs over HTTP, on a py-evm chain with a file registered through the services."""
from __future__ import annotations

from dataseal.registry.merkle.verify import verify_proof
from tests.api.conftest import World, error_of


def test_an_asset_is_served_as_the_chain_has_it(world: World) -> None:
    response = world.client.get(f"/assets/{world.asset_id}")
    assert response.status_code == 200, response.text
    asset = response.json()
    chain = world.chain.reader.registry.asset(world.asset_id)
    assert asset["asset_id"] == world.asset_id and asset["status"] == "Active"
    assert asset["owner"] == asset["registrant"] == world.chain.owner.address
    assert asset["content_root"] == world.content_root == "0x" + chain.content_root.hex()
    assert asset["rights"] == ["holding", "processing"] and asset["rights_type"] == 3
    assert asset["classification"] == 1 and asset["lineage"] == "None" and asset["parent_id"] is None
    assert asset["title"] == "Bytes" and asset["valid_until"] is None
    assert asset["registration_number"].endswith(f"-{world.asset_id:08d}-" + asset["registration_number"][-1])


def test_assets_are_found_by_root_owner_certificate_and_registration(world: World) -> None:
    client = world.client
    by_root = client.get("/assets", params={"root": world.content_root.upper().replace("0X", "0x")}).json()
    assert [a["asset_id"] for a in by_root["assets"]] == [world.asset_id]
    by_owner = client.get("/assets", params={"owner": world.chain.owner.address.lower()}).json()
    assert [a["asset_id"] for a in by_owner["assets"]] == [world.asset_id, world.version_id]
    assert by_owner["next"] is None
    first = client.get("/assets", params={"owner": world.chain.owner.address, "limit": 1}).json()
    assert [a["asset_id"] for a in first["assets"]] == [world.asset_id] and first["next"] == str(world.asset_id)
    rest = client.get("/assets", params={"owner": world.chain.owner.address, "after": first["next"]}).json()
    assert [a["asset_id"] for a in rest["assets"]] == [world.version_id] and rest["next"] is None
    number = client.get(f"/assets/{world.asset_id}").json()["registration_number"]
    by_number = client.get("/assets", params={"registration": number}).json()
    assert [a["asset_id"] for a in by_number["assets"]] == [world.asset_id]
    cert = client.get(f"/assets/{world.asset_id}/certificate").json()
    by_cert = client.get("/assets", params={"certificate": cert["certificateNumber"]}).json()
    assert [a["asset_id"] for a in by_cert["assets"]] == [world.asset_id]
    nobody = client.get("/assets", params={"owner": world.chain.buyer.address}).json()
    assert nobody == {"assets": [], "next": None}
    free = client.get("/assets", params={"root": "0x" + "ab" * 32}).json()
    assert free["assets"] == []


def test_versions_name_the_parent_and_the_children(world: World) -> None:
    parent = world.client.get(f"/assets/{world.asset_id}/versions").json()
    assert parent["parent"] is None and [c["asset_id"] for c in parent["children"]] == [world.version_id]
    child = world.client.get(f"/assets/{world.version_id}/versions").json()
    assert child["lineage"] == "Version" and child["parent"]["asset_id"] == world.asset_id
    assert child["children"] == []


def test_a_proof_is_served_from_the_stored_tree_and_checks_against_the_root(world: World) -> None:
    response = world.client.get(f"/assets/{world.asset_id}/proofs/7")
    assert response.status_code == 200, response.text
    proof = response.json()
    assert (proof["leaf_index"], proof["leaf_count"], proof["content_root"]) == (7, 10, world.content_root)
    verify_proof(bytes.fromhex(proof["content_root"][2:]), bytes.fromhex(proof["leaf"][2:]),
                 [bytes.fromhex(node[2:]) for node in proof["proof"]])


def test_unknown_assets_are_404(world: World) -> None:
    for url in ("/assets/99", "/assets/99/versions", "/assets/99/proofs/0", "/assets/99/trail",
                "/assets/99/certificate", "/assets/99/encumbrances", "/assets/99/usage"):
        error = error_of(world.client.get(url), 404)
        assert error["kind"] == "not_found" and "asset 99 is not registered" in error["message"], url
        assert "it has 2 assets" in error["message"]


def test_a_leaf_beyond_the_tree_is_404(world: World) -> None:
    error = error_of(world.client.get(f"/assets/{world.asset_id}/proofs/10"), 404)
    assert "has 10 leaves (0 to 9), no leaf 10" in error["message"]


def test_malformed_ids_are_422_naming_the_parameter(world: World) -> None:
    for url, name in (("/assets/abc", "asset_id"), ("/assets/0", "asset_id"), ("/assets/1/proofs/-1", "leaf"),
                      (f"/assets/{2**256}", "asset_id")):
        error = error_of(world.client.get(url), 422)
        assert error["kind"] == "invalid_input" and f"path parameter {name}" in error["message"], url
        assert error["options"] == [name]


def test_malformed_roots_and_owners_are_400(world: World) -> None:
    cases = {
        "root=abcd": "does not start with 0x",
        "root=0xzz" + "0" * 62: "is not hex",
        "root=0x" + "ab" * 31: "has 62 hex digits, expected 64",
        "owner=0x1234": "is not an address",
        "certificate=DS-X": "is not a certificate number",
        "registration=2025-1-00000001-0": "fails its check character",
    }
    for query, text in cases.items():
        error = error_of(world.client.get(f"/assets?{query}"), 400)
        assert error["kind"] == "invalid_input" and text in error["message"], query


def test_a_number_of_another_chain_is_404(world: World) -> None:
    from dataseal.registry.certificates import compute_registration_number

    number = compute_registration_number(2025, 1, world.asset_id)
    error = error_of(world.client.get("/assets", params={"registration": number}), 404)
    assert "a number of chain 1; this registry serves chain" in error["message"]


def test_finding_takes_exactly_one_key(world: World) -> None:
    error = error_of(world.client.get("/assets"), 422)
    assert error["message"] == "give exactly one of root, owner, certificate and registration"
    error = error_of(world.client.get(f"/assets?root={world.content_root}&owner={world.chain.owner.address}"), 422)
    assert "not 2 (root, owner)" in error["message"]
    error = error_of(world.client.get(f"/assets?root={world.content_root}&after=1"), 422)
    assert "after pages the assets of an owner" in error["message"]
    error = error_of(world.client.get(f"/assets?owner={world.chain.owner.address}&limit=1001"), 422)
    assert "query parameter limit" in error["message"] and "(got \"1001\")" in error["message"]
