"""Proof documents and evidence bundles: offline checks, tampering, and unknown kinds or versions."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from dataseal.errors import ErrorKind
from dataseal.registry.evidence import (
    BatchMembership,
    ChainRecord,
    ChunkSubject,
    DirectRegistration,
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
from dataseal.registry.manifest import Manifest, ManifestError, ManifestMetadata
from dataseal.registry.merkle import ProofError, StandardMerkleTree
from dataseal.registry.sealing.options import SealOptions
from dataseal.registry.sealing.seal import prove, seal

SECRET = bytes(range(32))
ADDRESS = "0x" + "ab" * 20
TX = "0x" + "cd" * 32


@pytest.fixture
def sealed(tmp_path: Path) -> tuple[Manifest, Proof]:
    path = tmp_path / "people.csv"
    path.write_text("id,name\n1,alice\n2,bob\n3,carol\n")
    result = seal(path, SealOptions(rows=True, secret=SECRET))
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
        asset=DirectRegistration(**asset),
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
    with pytest.raises(
        ProofError, match=f"the proof is for another tree: its root is {proof.root}, expected 0x00"
    ) as caught:
        verify_proof_document(proof, root=b"\0" * 32)
    assert caught.value.options == ("root",) and caught.value.expected == b"\0" * 32
    verify_proof_document(proof, root=manifest.tree.root.upper())  # hex in either case


@pytest.mark.parametrize("root", ["not hex", "0x12", b"\0" * 31])
def test_an_expected_root_that_is_not_a_hash_is_refused(sealed: tuple[Manifest, Proof], root: str | bytes) -> None:
    with pytest.raises(ProofError, match="the expected root is .*expected a 32-byte hash") as caught:
        verify_proof_document(sealed[1], root=root)
    assert caught.value.options == ("root",)


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
    other_manifest = seal(other, SealOptions(rows=True)).manifest
    foreign = prove(other, other_manifest, row=0)
    with pytest.raises(EvidenceError, match="proof 1 uses leaf encoding"):
        build_bundle(
            manifest, asset_record(manifest), [proof, altered(foreign, leafEncoding=["uint256", "bytes32", "bool"])]
        )
    with pytest.raises(ProofError, match="proof 1 failed: the proof is for another tree"):
        build_bundle(manifest, asset_record(manifest), [proof, altered(foreign, manifestHash=None)])


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
    with pytest.raises(EvidenceError, match="p.json is not valid JSON .* truncated or corrupted") as caught:
        read_document(path)
    assert caught.value.kind is ErrorKind.INVALID_INPUT
    with pytest.raises(EvidenceError, match="proof or bundle file .*absent.json does not exist") as caught:
        read_document(tmp_path / "absent.json")
    assert caught.value.kind is ErrorKind.NOT_FOUND


def test_a_bundle_whose_record_names_other_rights_than_its_manifest_is_refused(sealed: tuple[Manifest, Proof]) -> None:
    manifest, proof = sealed
    with pytest.raises(
        EvidenceError,
        match=r"the on-chain record registers rightsType 3 \(holding, processing\), but the manifest's rightsType is "
        r"\['holding'\] \(bitmask 1\); the record and the manifest must name the same rights",
    ):
        build_bundle(manifest, asset_record(manifest, rights_type=3), [proof])


def test_a_proof_made_for_another_manifest_is_refused_in_a_bundle(
    sealed: tuple[Manifest, Proof], tmp_path: Path
) -> None:
    manifest, proof = sealed
    other = tmp_path / "other.csv"
    other.write_text("id,name\n1,alice\n2,bob\n3,carol\n")
    foreign_hash = seal(other, SealOptions(rows=True), metadata=ManifestMetadata(title="other")).manifest_hash
    with pytest.raises(
        EvidenceError,
        match=f"proof 0 was made for manifest {foreign_hash}, but the bundle's manifest hashes to "
        f"{manifest.hash_hex}; the proof belongs to another seal",
    ):
        build_bundle(manifest, asset_record(manifest), [altered(proof, manifestHash=foreign_hash)])


def test_a_proof_about_another_kind_of_part_is_refused_in_a_bundle(sealed: tuple[Manifest, Proof]) -> None:
    manifest, proof = sealed
    as_chunk = altered(proof, subject={"kind": "chunk", "index": 1, "offset": 10, "length": 10})
    verify_proof_document(as_chunk)  # consistent on its own: only the manifest tells
    with pytest.raises(
        EvidenceError, match="proof 0 is about a chunk, but the manifest seals a table, whose parts are rows"
    ):
        build_bundle(manifest, asset_record(manifest), [as_chunk])


@pytest.fixture
def sealed_file(tmp_path: Path) -> tuple[Manifest, Proof]:
    path = tmp_path / "data.bin"
    path.write_bytes(bytes(range(256)) * 20)  # 5120 bytes: chunks of 1000, the last one 120
    result = seal(path, SealOptions(chunk_size=1000))
    return result.manifest, prove(path, result.manifest, chunk=5)


@pytest.mark.parametrize(
    ("subject", "message"),
    [
        (
            {"offset": 5 * 999, "length": 999},
            "proof 0 says chunk 5 is at offset 4995, length 999, but the manifest (chunkSize 1000, size 5120) puts it "
            "at offset 5000, length 120; the proof was altered",
        ),
        ({"length": 1000}, "proof 0 says chunk 5 is at offset 5000, length 1000, but the manifest"),
    ],
)
def test_a_chunk_subject_must_sit_where_the_manifests_chunking_puts_it(
    sealed_file: tuple[Manifest, Proof], subject: dict[str, int], message: str
) -> None:
    manifest, proof = sealed_file
    assert proof.subject == ChunkSubject(kind="chunk", index=5, offset=5000, length=120)
    build_bundle(manifest, asset_record(manifest), [proof])
    moved = altered(proof, subject=proof.subject.to_json_data() | subject)  # type: ignore[union-attr]
    verify_proof_document(moved)  # some chunk size would give it: only the manifest tells
    with pytest.raises(EvidenceError, match=re.escape(message)):
        build_bundle(manifest, asset_record(manifest), [moved])


@pytest.mark.parametrize(
    ("subject", "message"),
    [
        ({"index": 5, "offset": 0, "length": 120}, "chunk 5 at offset 0, length 120, which no chunk size gives"),
        ({"index": 5, "offset": 5001, "length": 120}, "chunk 5 at offset 5001, length 120, which no chunk size"),
        ({"index": 5, "offset": 5000, "length": 1001}, "chunk 5 at offset 5000, length 1001, which no chunk size"),
    ],
)
def test_a_chunk_subject_no_chunk_size_gives_is_refused_on_its_own(
    sealed_file: tuple[Manifest, Proof], subject: dict[str, int], message: str
) -> None:
    with pytest.raises(ProofError, match=message):
        verify_proof_document(altered(sealed_file[1], subject={"kind": "chunk", **subject}))


def test_a_disclosed_row_that_is_not_unicode_text_is_refused(sealed: tuple[Manifest, Proof]) -> None:
    with pytest.raises(ProofError, match="row 1's disclosed text is not Unicode text .*the document was altered"):
        verify_proof_document(altered(sealed[1], **{"subject.row": '{"id":"\ud800"}'}))


def test_a_bundles_manifest_is_read_strictly(sealed: tuple[Manifest, Proof]) -> None:
    manifest, proof = sealed
    data = build_bundle(manifest, asset_record(manifest), [proof]).to_json_data()
    data["manifest"]["tree"]["leafCount"] = str(data["manifest"]["tree"]["leafCount"])
    with pytest.raises(ManifestError, match="b.json: manifest is invalid: tree.leafCount: Input should be a valid"):
        load_document(data, where="b.json")
