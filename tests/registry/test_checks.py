"""Document checks: what a proof, bundle, manifest or tree dump is, what was checked, and what was not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataseal.errors import DatasealError
from dataseal.registry.checks import CheckReport, Unchecked, check_document, check_document_file, is_tree_dump
from dataseal.registry.evidence import ChainRecord, DirectRegistration, EvidenceError, build_bundle
from dataseal.registry.manifest import ManifestError
from dataseal.registry.merkle import ProofError, TreeDumpError
from dataseal.registry.sealing import SealOptions
from dataseal.registry.sealing.seal import SealResult, prove, seal

SECRET = bytes(range(32))
ZERO = "0x" + "00" * 32


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A salted table sealed, a proof of row 1, a bundle, and their JSON documents."""
    folder = tmp_path_factory.mktemp("checks")
    table = folder / "people.csv"
    table.write_text("id,name\n1,alice\n2,bob\n3,carol\n")
    result = seal(table, SealOptions(rows=True, secret=SECRET))
    proof = prove(table, result.manifest, row=1, secret=SECRET)
    record = ChainRecord(
        chain_id=31337, contract="0x" + "ab" * 20, tx_hash="0x" + "cd" * 32, block_number=9, timestamp=1_700_000_000,
        sender="0x" + "ab" * 20,
        asset=DirectRegistration(
            asset_id=1, content_root=result.root, manifest_hash=result.manifest_hash, rights_type=1, classification=0
        ),
    )
    bundle = build_bundle(result.manifest, record, [proof])
    return {
        "result": result,
        "proof": proof.to_json_data(),
        "bundle": bundle.to_json_data(),
        "manifest": json.loads(result.manifest_path.read_text()),
        "tree": json.loads(result.tree_path.read_text()),
    }


def test_a_proof_says_what_it_proves_and_that_the_root_is_not_compared_unless_given(sealed: dict[str, Any]) -> None:
    result: SealResult = sealed["result"]
    report = check_document(sealed["proof"])
    assert report == CheckReport(
        kind="proof",
        root=result.root,
        subject="row 1",
        checked=(f"row 1 is in the tree with root {result.root}",),
        not_checked=(Unchecked(what="that this root is the registered one", options=("root",)),),
    )
    assert report.ok
    with_root = check_document(sealed["proof"], root=result.root)
    assert with_root.not_checked == () and with_root.checked == report.checked
    assert check_document(sealed["proof"], root=bytes.fromhex(result.root[2:])) == with_root


def test_a_bundle_lists_its_offline_checks_and_what_needs_the_chain(sealed: dict[str, Any]) -> None:
    result: SealResult = sealed["result"]
    report = check_document(sealed["bundle"], root=result.root)
    assert (report.kind, report.root, report.subject) == ("evidence", result.root, None)
    assert len(report.checked) == 3 and "row 1 is in the tree" in report.checked[2]
    chain, standing = report.not_checked
    assert "emitted AssetRegistered" in chain.what and chain.options == ()
    # v2: a registration can be rejected or cancelled later (its root released), so the record alone is not enough.
    assert standing.what.startswith("chain: that asset 1 still stands: its status now (statusOf) on 0x")
    assert "rejected or cancelled (its root then released to a later registrant)" in standing.what


def test_a_manifest_and_a_tree_dump(sealed: dict[str, Any]) -> None:
    result: SealResult = sealed["result"]
    manifest = check_document(sealed["manifest"], root=result.root)
    assert manifest == CheckReport(
        kind="manifest", root=result.root, checked=(f"valid manifest, hash {result.manifest_hash}",)
    )
    tree = check_document(sealed["tree"])
    assert tree == CheckReport(
        kind="tree", root=result.root, checked=("3 values and all 5 nodes of the standard-v1 tree",)
    )
    assert is_tree_dump(sealed["tree"]) and not is_tree_dump(sealed["manifest"]) and not is_tree_dump([1])


@pytest.mark.parametrize(
    ("document", "error", "message", "hint"),
    [
        ("proof", ProofError, "the proof is for another tree: its root is 0x",
         "check the expected root, or get a proof from the data registered under it"),
        ("bundle", EvidenceError, "the bundle is for root 0x",
         "check the expected root, or get the bundle of the data registered under it"),
        ("manifest", ManifestError, "the manifest is for root 0x",
         "check the expected root, or use the manifest of the data registered under it"),
        ("tree", TreeDumpError, "the tree dump's root is 0x",
         "check the expected root, or use the tree dump of the data registered under it"),
    ],
)
def test_a_document_for_another_root_is_refused(
    sealed: dict[str, Any], document: str, error: type[DatasealError], message: str, hint: str
) -> None:
    with pytest.raises(error) as caught:
        check_document(sealed[document], root=ZERO)
    assert caught.value.message.startswith(message) and caught.value.message.endswith(f"expected {ZERO}")
    assert caught.value.hint == hint and "--root" not in str(caught.value)
    assert caught.value.options == ("root",)


@pytest.mark.parametrize("root", ["0x1234", "not hex", b"\0" * 31])
def test_an_expected_root_that_is_not_a_hash_is_refused_naming_the_option(sealed: dict[str, Any], root: Any) -> None:
    with pytest.raises(ProofError, match="the expected root is .*expected a 32-byte hash") as caught:
        check_document(sealed["proof"], root=root)
    assert caught.value.hint == "check that the hash was copied whole"
    assert caught.value.options == ("root",)


def test_tampered_documents_raise_their_typed_error(sealed: dict[str, Any]) -> None:
    proof = json.loads(json.dumps(sealed["proof"]))
    proof["subject"]["row"] = '{"id":"2","name":"mallory"}'
    with pytest.raises(ProofError, match="row 1's disclosed text and salt do not hash to the digest in its leaf"):
        check_document(proof)
    bundle = json.loads(json.dumps(sealed["bundle"]))
    bundle["record"]["asset"]["contentRoot"] = ZERO
    with pytest.raises(EvidenceError, match="the on-chain record registers content root 0x0000"):
        check_document(bundle)
    tree = json.loads(json.dumps(sealed["tree"]))
    tree["tree"][0] = ZERO
    with pytest.raises(TreeDumpError, match=r"tree\[0\] is not the hash of its children"):
        check_document(tree)
    with pytest.raises(EvidenceError, match="has kind 'what'; expected 'dataseal.proof'") as caught:
        check_document({"kind": "what"}, where="w.json")
    assert caught.value.hint == "check that this is the file you meant"
    with pytest.raises(EvidenceError, match="x.json is not a JSON object") as caught:
        check_document([1, 2], where="x.json")
    assert caught.value.hint == "check that this is the file you meant"


def test_a_file_is_read_as_json_first(sealed: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(sealed["proof"]))
    assert check_document_file(path).subject == "row 1"
    path.write_text(json.dumps(sealed["proof"])[:-10])
    with pytest.raises(EvidenceError, match="document file .*p.json is not valid JSON .*truncated") as caught:
        check_document_file(path)
    assert caught.value.hint == "check that this is the file you meant, or use an intact copy"
    with pytest.raises(EvidenceError) as caught:
        check_document_file(tmp_path / "absent.json")
    assert str(caught.value) == f"document file {tmp_path / 'absent.json'} does not exist: check the path"


def test_the_report_as_json_data_is_camel_case(sealed: dict[str, Any]) -> None:
    data = check_document(sealed["proof"]).to_json_data()
    assert data["ok"] is True and data["kind"] == "proof" and data["subject"] == "row 1"
    assert data["notChecked"] == [{"what": "that this root is the registered one", "options": ["root"]}]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path into JSON data."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, prefix + (i,))
    return found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=st.sampled_from(["proof", "bundle", "manifest", "tree"]), data=st.data())
def test_a_mutated_document_fails_only_with_typed_errors(sealed: dict[str, Any], document: str, data: Any) -> None:
    """Replace or delete any one part of a valid document: the check passes or raises a DatasealError, never
    a ValueError, KeyError, TypeError or IndexError."""
    doc = json.loads(json.dumps(sealed[document]))
    path = data.draw(st.sampled_from(_paths(doc)[1:]))
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if data.draw(st.booleans()):
        parent[path[-1]] = data.draw(json_values)
    elif isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent.pop(path[-1])
    try:
        check_document(doc, root=data.draw(st.sampled_from([None, sealed["result"].root, ZERO])))
    except DatasealError:
        pass


def test_a_chunk_proof_on_its_own_does_not_call_its_byte_range_checked(tmp_path: Path) -> None:
    # The byte range comes from the manifest's chunk size, which a proof alone does not carry: an edited
    # range (here 14..20 for chunk 2, really 2048..3071) is never printed as checked.
    data = tmp_path / "data.bin"
    data.write_bytes(bytes(range(256)) * 20)
    result = seal(data, SealOptions(chunk_size=1024))
    document = prove(data, result.manifest, chunk=2).to_json_data()
    document["subject"].update(offset=14, length=7)
    report = check_document(document)
    assert report.subject == "chunk 2"
    assert report.checked == (f"chunk 2 is in the tree with root {result.root}",)
    assert not any("14" in line for line in report.checked)
    assert report.not_checked[-1] == Unchecked(
        what="that chunk 2 is bytes 14..20, as the proof says (the range follows from the manifest's chunk size and "
        "file size: check an evidence bundle, which holds the manifest)"
    )
    # In a bundle the manifest is there: the range is checked, and shown.
    genuine = prove(data, result.manifest, chunk=2)
    record = ChainRecord(
        chain_id=31337, contract="0x" + "ab" * 20, tx_hash="0x" + "cd" * 32, block_number=9, timestamp=1_700_000_000,
        sender="0x" + "ab" * 20,
        asset=DirectRegistration(asset_id=1, content_root=result.root, manifest_hash=result.manifest_hash,
                                 rights_type=1, classification=0),
    )
    bundle = build_bundle(result.manifest, record, [genuine]).to_json_data()
    assert "proof 0: chunk 2 (bytes 2048..3071) is in the tree" in check_document(bundle).checked
    bundle["proofs"][0]["subject"].update(offset=14, length=7)
    with pytest.raises(EvidenceError, match="says chunk 2 is at offset 14, length 7, but the manifest"):
        check_document(bundle)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(version=True), "is a dataseal.proof of version True; this dataseal reads version 1"),
        (lambda d: d["subject"].update(index="1"), "subject.row.index: Input should be a valid integer"),
        (lambda d: d["subject"].update(index=True), "subject.row.index: Input should be a valid integer"),
        (lambda d: d["subject"].update(index=10**4000), "subject.row.index: Input should be less than"),
    ],
)
def test_a_proofs_fields_have_strict_types(sealed: dict[str, Any], change: Any, message: str) -> None:
    document = json.loads(json.dumps(sealed["proof"]))
    change(document)
    with pytest.raises(EvidenceError, match=message):
        check_document(document)
