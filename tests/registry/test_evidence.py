"""Proof documents and evidence bundles: offline checks, tampering, and unknown kinds or versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from registry.evidence import (
    AssetRecord,
    BatchMembership,
    ChainRecord,
    EvidenceBundle,
    EvidenceError,
    Proof,
    build_bundle,
    compute_bundle_report,
    load_document,
    read_document,
    verify_bundle_offline,
    verify_proof_document,
)
from registry.manifest import Manifest, ManifestError
from registry.merkle import ProofError, StandardMerkleTree
from registry.sealing.seal import prove, seal

SECRET = bytes(range(32))
ADDRESS = "0x" + "ab" * 20
TX = "0x" + "cd" * 32


@pytest.fixture
def sealed(tmp_path: Path) -> tuple[Manifest, Proof]:
    path = tmp_path / "people.csv"
    path.write_text("id,name\n1,alice\n2,bob\n3,carol\n")
    result = seal(path, rows=True, secret=SECRET)
    return result.manifest, prove(path, result.manifest, row=1, secret=SECRET)


def altered(document: Proof, **changes: Any) -> Proof:
    data = document.to_json_data()
    for key, value in changes.items():
        if "." in key:
            outer, inner = key.split(".")
            data[outer][inner] = value
        else:
            data[key] = value
    return Proof.model_validate(data)


def flip(hex_text: str) -> str:
    return hex_text[:-1] + ("0" if hex_text[-1] != "0" else "1")


def asset_record(manifest: Manifest, **changes: Any) -> ChainRecord:
    asset = {
        "asset_id": 7,
        "content_root": manifest.tree.root,
        "manifest_hash": manifest.hash_hex,
        "rights_type": manifest.rights_bitmask,
        "classification": 1,
    } | changes
    return ChainRecord(
        chain_id=31337,
        contract=ADDRESS,
        tx_hash=TX,
        block_number=12,
        timestamp=1_700_000_000,
        sender=ADDRESS,
        asset=AssetRecord(**asset),
    )


def test_a_row_proof_checks_offline_and_round_trips_through_json(sealed: tuple[Manifest, Proof]) -> None:
    manifest, proof = sealed
    verify_proof_document(proof, root=manifest.tree.root)
    again = load_document(json.loads(json.dumps(proof.to_json_data())))
    assert again == proof
    assert proof.manifest_hash == manifest.hash_hex


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"subject.row": '{"id":"2","name":"mallory"}'}, "row 1's disclosed text and salt do not hash to the digest"),
        ({"subject.salt": "0x" + "00" * 32}, "row 1's disclosed text and salt do not hash to the digest"),
        ({"subject.index": 2}, "the proof's subject is row 2 but its leaf value is for index 1"),
        ({"value": ["1", "0x" + "11" * 32]}, "the proof's leaf does not match its value"),
        ({"value": ["1"]}, "the proof's value does not fit its leaf encoding"),
    ],
)
def test_tampered_proofs_are_refused(sealed: tuple[Manifest, Proof], changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ProofError, match=message):
        verify_proof_document(altered(sealed[1], **changes))


def test_a_flipped_sibling_or_root_fails_with_expected_and_computed_roots(sealed: tuple[Manifest, Proof]) -> None:
    manifest, proof = sealed
    bad = altered(proof, proof=[flip(proof.proof[0]), *proof.proof[1:]])
    with pytest.raises(ProofError, match=f"expected {manifest.tree.root}, computed 0x"):
        verify_proof_document(bad)
    with pytest.raises(ProofError, match=f"the proof is for another tree: its root is {proof.root}, expected 0x00"):
        verify_proof_document(proof, root=b"\0" * 32)


def test_a_bundle_checks_offline(sealed: tuple[Manifest, Proof]) -> None:
    manifest, proof = sealed
    bundle = build_bundle(manifest, asset_record(manifest), [proof])
    report = compute_bundle_report(EvidenceBundle.model_validate(json.loads(bundle.model_dump_json(by_alias=True))))
    assert any("manifest hash" in line for line in report.checked)
    assert any("row 1 is in the tree" in line for line in report.checked)
    assert "AssetRegistered" in report.not_checked[0]
    name, args = bundle.record.expected_event()
    assert name == "AssetRegistered"
    assert args["contentRoot"] == manifest.tree.root and args["manifestHash"] == manifest.hash_hex


def test_inconsistent_bundles_are_refused(sealed: tuple[Manifest, Proof], tmp_path: Path) -> None:
    manifest, proof = sealed
    with pytest.raises(EvidenceError, match="registers content root 0x0000.*but the manifest's tree root is"):
        build_bundle(manifest, asset_record(manifest, content_root="0x" + "00" * 32), [proof])
    with pytest.raises(EvidenceError, match="registers manifest hash 0x0000.*this manifest is not the registered one"):
        build_bundle(manifest, asset_record(manifest, manifest_hash="0x" + "00" * 32), [proof])
    bundle = build_bundle(manifest, asset_record(manifest), [proof]).to_json_data()
    bundle["manifest"]["title"] = "changed"
    with pytest.raises(EvidenceError, match="the bundle's manifest hash is 0x.* but its manifest hashes to 0x"):
        verify_bundle_offline(EvidenceBundle.model_validate(bundle))
    other = tmp_path / "other.csv"
    other.write_text("id\n9\n")
    other_manifest = seal(other, rows=True).manifest
    foreign = prove(other, other_manifest, row=0)
    with pytest.raises(EvidenceError, match="proof 1 uses leaf encoding"):
        build_bundle(
            manifest, asset_record(manifest), [proof, altered(foreign, leafEncoding=["uint256", "bytes32", "bool"])]
        )
    with pytest.raises(ProofError, match="proof 1 failed: the proof is for another tree"):
        build_bundle(manifest, asset_record(manifest), [proof, foreign])


def test_batch_membership_is_checked_offline(sealed: tuple[Manifest, Proof]) -> None:
    manifest, proof = sealed
    records = [(manifest.tree.root, manifest.hash_hex, 1, 0), ("0x" + "11" * 32, "0x" + "22" * 32, 3, 1)]
    batch = StandardMerkleTree.of(records, ["bytes32", "bytes32", "uint8", "uint8"])
    member = {
        "batch_id": 1,
        "batch_root": batch.root_hex,
        "batch_manifest_hash": "0x" + "33" * 32,
        "content_root": manifest.tree.root,
        "manifest_hash": manifest.hash_hex,
        "rights_type": 1,
        "classification": 0,
        "proof": ["0x" + p.hex() for p in batch.get_proof(0)],
    }
    record = ChainRecord(
        chain_id=1,
        contract=ADDRESS,
        tx_hash=TX,
        block_number=3,
        timestamp=5,
        sender=ADDRESS,
        batch=BatchMembership(**member),
    )
    report = compute_bundle_report(build_bundle(manifest, record, [proof]))
    assert any("member of batch 1" in line for line in report.checked)
    assert record.expected_event()[0] == "BatchAnchored"
    wrong = record.model_copy(update={"batch": BatchMembership(**(member | {"classification": 2}))})
    with pytest.raises(ProofError, match="the record is not a member of batch 1: .*expected " + batch.root_hex):
        build_bundle(manifest, wrong, [proof])


def test_a_record_is_either_an_asset_or_a_batch_member() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        ChainRecord(chain_id=1, contract=ADDRESS, tx_hash=TX, block_number=3, timestamp=5, sender=ADDRESS)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (
            lambda d: d.update(version=2),
            EvidenceError,
            "is a dataseal.proof of version 2; this dataseal reads version 1: upgrade",
        ),
        (lambda d: d.update(kind="something"), EvidenceError, "has kind 'something'; expected 'dataseal.proof'"),
        (lambda d: d.pop("proof"), EvidenceError, "is not a valid dataseal.proof: proof: Field required"),
        (
            lambda d: d.update(proof=["0x12"]),
            EvidenceError,
            "is not a valid dataseal.proof: proof.0: String should match",
        ),
        (lambda d: d.update(proof="0x" + "00" * 32), EvidenceError, "is not a valid dataseal.proof: proof"),
    ],
)
def test_documents_of_unknown_kind_version_or_shape_are_refused(
    sealed: tuple[Manifest, Proof], change: Any, error: type[Exception], message: str
) -> None:
    data = sealed[1].to_json_data()
    change(data)
    with pytest.raises(error, match=message):
        load_document(data, where="p.json")


def test_bundles_of_unknown_versions_are_refused(sealed: tuple[Manifest, Proof]) -> None:
    manifest, proof = sealed
    data = build_bundle(manifest, asset_record(manifest), [proof]).to_json_data()
    data["version"] = 3
    with pytest.raises(EvidenceError, match="is a dataseal.evidence of version 3"):
        load_document(data, where="b.json")
    data["version"] = 1
    data["manifest"]["version"] = 2
    with pytest.raises(ManifestError, match="b.json: manifest has manifest version 2"):
        load_document(data, where="b.json")


def test_truncated_documents_are_refused(sealed: tuple[Manifest, Proof], tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(sealed[1].to_json_data())[:-40])
    with pytest.raises(EvidenceError, match="p.json is not valid JSON .* truncated or corrupted"):
        read_document(path)
