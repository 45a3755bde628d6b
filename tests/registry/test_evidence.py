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


PROVE_AGAIN = "prove the part again from the sealed data, or ask its holder for a new proof"
ONE_REGISTRATION = "bundle the manifest that was registered with the record of that registration"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"subject.row": '{"id":"2","name":"mallory"}'}, "row 1's disclosed text and salt do not hash to the digest"),
        ({"subject.salt": "0x" + "00" * 32}, "row 1's disclosed text and salt do not hash to the digest"),
        ({"subject.index": 2},
         "the proof's subject is row 2 but its leaf value is for index 1; the document was altered"),
        ({"value": ["1", "0x" + "11" * 32]}, "the proof's leaf does not match its value"),
        ({"value": ["1"]}, "the proof's value does not fit its leaf encoding: value has 1 items, but the leaf encoding "
         "(uint256,bytes32) needs 2"),
    ],
)
def test_tampered_proofs_are_refused(sealed: tuple[Manifest, Proof], changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ProofError) as caught:
        verify_proof_document(altered(sealed[1], **changes))
    assert caught.value.message.startswith(message)
    assert caught.value.hint == PROVE_AGAIN


def test_a_flipped_sibling_or_root_fails_with_expected_and_computed_roots(sealed: tuple[Manifest, Proof]) -> None:
    manifest, proof = sealed
    bad = altered(proof, proof=[flip(proof.proof[0]), *proof.proof[1:]])
    with pytest.raises(ProofError, match=f"expected {manifest.tree.root}, computed 0x") as caught:
        verify_proof_document(bad)
    assert caught.value.hint == "get a fresh proof from the sealed data"
    with pytest.raises(ProofError) as caught:
        verify_proof_document(proof, root=b"\0" * 32)
    assert str(caught.value) == (
        f"the proof is for another tree: its root is {proof.root}, expected 0x{'00' * 32}: check the expected root, "
        "or get a proof from the data registered under it"
    )
    assert caught.value.options == ("root",) and caught.value.expected == b"\0" * 32
    verify_proof_document(proof, root=manifest.tree.root.upper())  # hex in either case


@pytest.mark.parametrize("root", ["not hex", "0x12", b"\0" * 31])
def test_an_expected_root_that_is_not_a_hash_is_refused(sealed: tuple[Manifest, Proof], root: str | bytes) -> None:
    with pytest.raises(ProofError, match="the expected root is .*expected a 32-byte hash") as caught:
        verify_proof_document(sealed[1], root=root)
    assert caught.value.hint == "check that the hash was copied whole"
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
    with pytest.raises(EvidenceError) as caught:
        build_bundle(manifest, asset_record(manifest, content_root="0x" + "00" * 32), [proof])
    assert re.fullmatch("the on-chain record registers content root 0x0{64}, but the manifest's tree root is "
                        "0x[0-9a-f]{64}; the manifest describes other data", caught.value.message)
    assert caught.value.hint == ONE_REGISTRATION
    with pytest.raises(EvidenceError) as caught:
        build_bundle(manifest, asset_record(manifest, manifest_hash="0x" + "00" * 32), [proof])
    assert re.fullmatch("the on-chain record registers manifest hash 0x0{64}, but the bundle's manifest hashes to "
                        "0x[0-9a-f]{64}; this manifest is not the registered one", caught.value.message)
    assert caught.value.hint == ONE_REGISTRATION
    bundle = build_bundle(manifest, asset_record(manifest), [proof]).to_json_data()
    bundle["manifest"]["title"] = "changed"
    with pytest.raises(EvidenceError) as caught:
        verify_bundle_offline(EvidenceBundle.model_validate(bundle))
    assert re.fullmatch("the bundle's manifest hash is 0x[0-9a-f]{64} but its manifest hashes to 0x[0-9a-f]{64}; "
                        "the manifest or the hash was altered", caught.value.message)
    assert caught.value.hint == "build the bundle again from the manifest.json written when the data was sealed"
    other = tmp_path / "other.csv"
    other.write_text("id\n9\n")
    other_manifest = seal(other, SealOptions(rows=True)).manifest
    foreign = prove(other, other_manifest, row=0)
    with pytest.raises(EvidenceError) as caught:
        build_bundle(
            manifest, asset_record(manifest), [proof, altered(foreign, leafEncoding=["uint256", "bytes32", "bool"])]
        )
    assert str(caught.value) == (
        "proof 1 uses leaf encoding ['uint256', 'bytes32', 'bool'], the manifest's tree uses ['uint256', 'bytes32']; "
        "the proof is for another tree: bundle proofs of the data this manifest seals"
    )
    with pytest.raises(ProofError) as caught:
        build_bundle(manifest, asset_record(manifest), [proof, altered(foreign, manifestHash=None)])
    assert caught.value.message.startswith("proof 1 failed: the proof is for another tree")
    assert caught.value.hint == "bundle proofs of the data this manifest seals"
    tampered = altered(proof, **{"subject.salt": "0x" + "00" * 32})
    with pytest.raises(ProofError) as caught:
        build_bundle(manifest, asset_record(manifest), [tampered])
    assert caught.value.message.startswith("proof 0 failed: row 1's disclosed text and salt do not hash")
    assert caught.value.hint == PROVE_AGAIN


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
    with pytest.raises(ProofError) as caught:
        build_bundle(manifest, wrong, [proof])
    assert caught.value.message.startswith("the record is not a member of batch 1: Merkle proof does not lead to the "
                                           f"expected root: expected {batch.root_hex}, computed 0x")
    assert caught.value.hint == "bundle the record's proof from the tree anchored as batch 1, unchanged"


def test_a_record_is_either_an_asset_or_a_batch_member() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        ChainRecord(chain_id=1, contract=ADDRESS, tx_hash=TX, block_number=3, timestamp=5, sender=ADDRESS)


AS_WRITTEN = "use the document as dataseal wrote it"


@pytest.mark.parametrize(
    ("change", "message", "hint"),
    [
        (lambda d: d.update(version=2), "is a dataseal.proof of version 2; this dataseal reads version 1$",
         "upgrade dataseal to read it"),
        (lambda d: d.update(version="1"), "is a dataseal.proof of version '1'; this dataseal reads version 1, so the "
         "file is not valid$", AS_WRITTEN),
        (lambda d: d.update(kind="something"), "has kind 'something'; expected 'dataseal.proof'",
         "check that this is the file you meant"),
        (lambda d: d.pop("proof"), "is not a valid dataseal.proof: proof: Field required", AS_WRITTEN),
        (lambda d: d.update(proof=["0x12"]), "is not a valid dataseal.proof: proof.0: String should match", AS_WRITTEN),
        (lambda d: d.update(proof="0x" + "00" * 32), "is not a valid dataseal.proof: proof", AS_WRITTEN),
    ],
)
def test_documents_of_unknown_kind_version_or_shape_are_refused(
    sealed: tuple[Manifest, Proof], change: Any, message: str, hint: str
) -> None:
    data = sealed[1].to_json_data()
    change(data)
    with pytest.raises(EvidenceError) as caught:
        load_document(data, where="p.json")
    assert re.match("p.json " + message, caught.value.message)
    assert caught.value.hint == hint


def test_bundles_of_unknown_versions_are_refused(sealed: tuple[Manifest, Proof]) -> None:
    manifest, proof = sealed
    data = build_bundle(manifest, asset_record(manifest), [proof]).to_json_data()
    data["version"] = 3
    with pytest.raises(EvidenceError) as caught:
        load_document(data, where="b.json")
    assert str(caught.value) == (
        "b.json is a dataseal.evidence of version 3; this dataseal reads version 1: upgrade dataseal to read it"
    )
    data["version"] = 1
    data["manifest"]["version"] = 2
    with pytest.raises(ManifestError, match="b.json: manifest has manifest version 2") as caught:
        load_document(data, where="b.json")
    assert caught.value.hint == "upgrade dataseal to read it"


def test_truncated_documents_are_refused(sealed: tuple[Manifest, Proof], tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(sealed[1].to_json_data())[:-40])
    with pytest.raises(EvidenceError, match="p.json is not valid JSON .* truncated or corrupted") as caught:
        read_document(path)
    assert caught.value.hint == "check that this is the file you meant, or use an intact copy"
    assert caught.value.kind is ErrorKind.INVALID_INPUT
    with pytest.raises(EvidenceError) as caught:
        read_document(tmp_path / "absent.json")
    assert str(caught.value) == f"proof or bundle file {tmp_path / 'absent.json'} does not exist: check the path"
    assert caught.value.kind is ErrorKind.NOT_FOUND
    with pytest.raises(EvidenceError) as caught:
        load_document([1], where="p.json")
    assert str(caught.value) == (
        "p.json is not a JSON object; expected a dataseal proof, evidence bundle or manifest: check that this is the "
        "file you meant"
    )


def test_a_bundle_whose_record_names_other_rights_than_its_manifest_is_refused(sealed: tuple[Manifest, Proof]) -> None:
    manifest, proof = sealed
    with pytest.raises(EvidenceError) as caught:
        build_bundle(manifest, asset_record(manifest, rights_type=3), [proof])
    assert caught.value.message == (
        "the on-chain record registers rightsType 3 (holding, processing), but the manifest's rightsType is "
        "['holding'] (bitmask 1), and the record and the manifest must name the same rights"
    )
    assert caught.value.hint == ONE_REGISTRATION


def test_a_proof_made_for_another_manifest_is_refused_in_a_bundle(
    sealed: tuple[Manifest, Proof], tmp_path: Path
) -> None:
    manifest, proof = sealed
    other = tmp_path / "other.csv"
    other.write_text("id,name\n1,alice\n2,bob\n3,carol\n")
    foreign_hash = seal(other, SealOptions(rows=True), metadata=ManifestMetadata(title="other")).manifest_hash
    with pytest.raises(EvidenceError) as caught:
        build_bundle(manifest, asset_record(manifest), [altered(proof, manifestHash=foreign_hash)])
    assert str(caught.value) == (
        f"proof 0 was made for manifest {foreign_hash}, but the bundle's manifest hashes to {manifest.hash_hex}; the "
        "proof belongs to another seal: prove the part again from the data sealed by this manifest"
    )


def test_a_proof_about_another_kind_of_part_is_refused_in_a_bundle(sealed: tuple[Manifest, Proof]) -> None:
    manifest, proof = sealed
    as_chunk = altered(proof, subject={"kind": "chunk", "index": 1, "offset": 10, "length": 10})
    verify_proof_document(as_chunk)  # consistent on its own: only the manifest tells
    with pytest.raises(EvidenceError) as caught:
        build_bundle(manifest, asset_record(manifest), [as_chunk])
    assert str(caught.value) == (
        "proof 0 is about a chunk, but the manifest seals a table, whose parts are rows; the proof is for other data: "
        "prove a row of the data sealed by this manifest"
    )


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
    with pytest.raises(EvidenceError) as caught:
        build_bundle(manifest, asset_record(manifest), [moved])
    assert caught.value.message.startswith(message)
    assert caught.value.hint == PROVE_AGAIN


def test_a_chunk_the_manifests_file_lacks_is_refused_in_a_bundle(sealed_file: tuple[Manifest, Proof]) -> None:
    manifest, proof = sealed_file
    beyond = altered(proof, subject={"kind": "chunk", "index": 6, "offset": 6000, "length": 1000})
    with pytest.raises(EvidenceError) as caught:
        build_bundle(manifest, asset_record(manifest), [beyond])
    assert str(caught.value) == (
        "proof 0 is about chunk 6, but the manifest's file has 6 chunks (0 to 5; size 5120, chunkSize 1000); the proof "
        f"was altered: {PROVE_AGAIN}"
    )


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
    with pytest.raises(ProofError, match=message) as caught:
        verify_proof_document(altered(sealed_file[1], subject={"kind": "chunk", **subject}))
    assert caught.value.message.endswith("; the document was altered")
    assert caught.value.hint == PROVE_AGAIN


def test_a_file_subject_that_is_not_its_leaf_value_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.txt").write_bytes(b"a")
    (folder / "b.txt").write_bytes(b"bb")
    proof = prove(folder, seal(folder).manifest, file="b.txt")
    with pytest.raises(ProofError) as caught:
        verify_proof_document(altered(proof, subject={"kind": "file", "path": "a.txt", "size": 2}))
    assert caught.value.message == (
        "the proof's subject is file 'a.txt' (2 bytes) but its leaf value is ['b.txt', '2']; the document was altered"
    )
    assert caught.value.hint == PROVE_AGAIN


def test_a_disclosed_row_that_is_not_unicode_text_is_refused(sealed: tuple[Manifest, Proof]) -> None:
    with pytest.raises(ProofError) as caught:
        verify_proof_document(altered(sealed[1], **{"subject.row": '{"id":"\ud800"}'}))
    assert re.fullmatch("row 1's disclosed text is not Unicode text .*; the document was altered", caught.value.message)
    assert caught.value.hint == PROVE_AGAIN


def test_a_bundles_manifest_is_read_strictly(sealed: tuple[Manifest, Proof]) -> None:
    manifest, proof = sealed
    data = build_bundle(manifest, asset_record(manifest), [proof]).to_json_data()
    data["manifest"]["tree"]["leafCount"] = str(data["manifest"]["tree"]["leafCount"])
    with pytest.raises(ManifestError) as caught:
        load_document(data, where="b.json")
    assert caught.value.message.startswith("b.json: manifest is invalid: tree.leafCount: Input should be a valid")
    assert caught.value.hint == "use the manifest.json written when the data was sealed"
