"""verify (the chain answers; the nearest registered version and what differs), evidence bundles with the
on-chain record, and their check against a node."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_utils import keccak

from dataseal.chain.connection import connect
from dataseal.registry.evidence import EvidenceError, compute_bundle_report, load_document, verify_bundle_offline
from dataseal.registry.manifest import read_manifest
from dataseal.registry.scope import IndexTree, ScopeError
from dataseal.registry.services import assets, evidence, grants, verify
from dataseal.registry.services.assets import SealOptions
from tests.conftest import Chain
from tests.registry.services.conftest import RegistryFor

SECRET = bytes(range(32))


def write_table(path: Path, rows: list[str]) -> Path:
    path.write_text("id,name\n" + "".join(f"{row}\n" for row in rows))
    return path


def test_registered_data_is_found_by_its_root(pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    data = write_table(tmp_path / "t.csv", [f"{i},n{i}" for i in range(5)])
    registry = registry_for(pyevm, pyevm.owner)
    done = assets.register(registry, data, salt_secret=SECRET)
    report = verify.verify(registry_for(pyevm, pyevm.user), data, salt_secret=SECRET)
    assert report.registered and (report.asset_id, report.status, report.owner, report.manifest_hash) == \
        (done.asset_id, "Active", pyevm.owner.address, done.manifest_hash)
    assert report.content_root == done.content_root and report.kind == "table"


def test_changed_rows_are_named_against_the_nearest_version(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    rows = [f"{i},n{i}" for i in range(8)]
    data = write_table(tmp_path / "t.csv", rows)
    registry = registry_for(pyevm, pyevm.owner)
    done = assets.register(registry, data, salt_secret=SECRET)
    rows[3], rows[6] = "3,changed", "6,changed"
    write_table(data, [*rows, "8,new"])
    report = verify.verify(registry, data, salt_secret=SECRET)
    assert not report.registered and report.nearest is not None
    nearest = report.nearest
    assert (nearest.asset_id, nearest.content_root, nearest.status) == (done.asset_id, done.content_root, "Active")
    assert (nearest.differences.part, nearest.differences.changed, nearest.differences.added,
            nearest.differences.removed) == ("row", (3, 6), 1, 0)


def test_changed_files_of_a_folder_and_chunks_of_a_file(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    registry = registry_for(pyevm, pyevm.owner)
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (folder / name).write_text(name)
    assets.register(registry, folder)
    (folder / "b.txt").write_text("edited")
    report = verify.verify(registry, folder)
    assert report.nearest is not None and report.nearest.differences.changed == ("b.txt",)
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(4096))
    assets.register(registry, blob, options=SealOptions(chunk_size=1024))
    blob.write_bytes(bytes(2048) + b"\1" + bytes(2047))
    report = verify.verify(registry, blob)
    assert report.nearest is not None and report.nearest.differences.changed == (2,)


def test_the_database_is_not_trusted_for_registration(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    data = tmp_path / "d.bin"
    data.write_bytes(b"cancelled later" * 50)
    registry = registry_for(pyevm, pyevm.owner)
    done = assets.register(registry, data)
    assets.cancel(registry, done.asset_id)
    pyevm.travel(8 * 86_400)  # the cooldown passes: the root is free
    report = verify.verify(registry, data)
    assert not report.registered and report.nearest is None  # the database still lists it; the chain does not


def test_a_bundle_carries_the_chain_record_and_checks_on_chain(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    data = write_table(tmp_path / "t.csv", [f"{i},n{i}" for i in range(5)])
    registry = registry_for(pyevm, pyevm.owner)
    done = assets.register(registry, data, salt_secret=SECRET, rights=("holding", "operation"))
    manifest = read_manifest(done.manifest_path)
    result = evidence.prove(registry, data, manifest, row=2, secret=SECRET)
    assert result.bundle is not None and result.unregistered is None
    record = result.bundle.record
    assert record.asset is not None and (record.asset.asset_id, record.tx_hash, record.block_number) == \
        (done.asset_id, done.tx_hash, done.block_number)
    connection = connect(pyevm.w3)
    check = evidence.check_on_chain(result.bundle, connection)
    assert check.status == "Active" and check.holds_root and not check.warnings
    assert any("emitted AssetRegistered" in line for line in check.checked)
    altered = result.bundle.model_copy(update={"record": record.model_copy(update={"timestamp": record.timestamp + 1})})
    with pytest.raises(EvidenceError, match="did not emit the AssetRegistered the record claims"):
        evidence.check_on_chain(altered, connection)
    moved = result.bundle.model_copy(update={"record": record.model_copy(update={"block_number": 1})})
    with pytest.raises(EvidenceError, match="but the record says block 1"):
        evidence.check_on_chain(moved, connection)
    other = result.bundle.model_copy(update={"record": record.model_copy(update={"chain_id": 5})})
    with pytest.raises(EvidenceError, match="the bundle's record is on chain 5, but the node at"):
        evidence.check_on_chain(other, connection)
    absent = result.bundle.model_copy(update={"record": record.model_copy(update={"tx_hash": "0x" + "ab" * 32})})
    with pytest.raises(EvidenceError, match="is not on chain") as missing:
        evidence.check_on_chain(absent, connection)
    assert missing.value.options == ("rpc_url",)
    assets.cancel(registry, done.asset_id)
    later = evidence.check_on_chain(result.bundle, connection)
    assert (later.status, later.holds_root) == ("Cancelled", False)
    assert later.warnings[0] == f"asset {done.asset_id} is now Cancelled"


def test_unregistered_data_gives_a_proof_alone_and_a_grant_needs_registration(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    from dataseal.registry.sealing.seal import seal

    data = tmp_path / "d.bin"
    data.write_bytes(b"never registered" * 10)
    manifest = seal(data).manifest
    registry = registry_for(pyevm, pyevm.owner)
    result = evidence.prove(registry, data, manifest, chunk=0)
    assert result.bundle is None and "is not registered on chain" in (result.unregistered or "")
    with pytest.raises(EvidenceError, match="is not registered on chain") as refused:
        evidence.prove(registry, data, manifest, chunk=0, grant=1)
    assert refused.value.kind == "not_found"


def test_a_manifest_that_is_not_the_registered_one_is_refused(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    data = tmp_path / "d.bin"
    data.write_bytes(b"registered" * 10)
    registry = registry_for(pyevm, pyevm.owner)
    done = assets.register(registry, data, title="Registered")
    manifest = read_manifest(done.manifest_path)
    retitled = manifest.model_copy(update={"title": "Another title"})
    with pytest.raises(EvidenceError, match="it is not the registered manifest"):
        evidence.prove(registry, data, retitled, chunk=0)


def test_a_bundle_with_a_grant_scope_checks_it_offline_and_on_chain(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    data = write_table(tmp_path / "t.csv", [f"{i},n{i}" for i in range(10)])
    registry = registry_for(pyevm, pyevm.owner)
    done = assets.register(registry, data, salt_secret=SECRET)
    manifest = read_manifest(done.manifest_path)
    scoped = grants.grant(registry, done.asset_id, pyevm.user.address, "audit", "now", "30d", 5, range(5)).grant
    result = evidence.prove(registry, data, manifest, row=2, secret=SECRET, grant=scoped.grant_id)
    bundle = result.bundle
    assert bundle is not None and bundle.scope is not None and result.scope == bundle.scope
    assert (bundle.scope.grant_id, bundle.scope.asset_id, bundle.scope.leaf_index) == (scoped.grant_id, 1, 2)
    assert bundle.scope.scope_root == "0x" + scoped.scope_root.hex()
    written = load_document(json.loads(json.dumps(bundle.to_json_data())))
    assert written == bundle  # the scope travels in the bundle
    report = compute_bundle_report(bundle)
    assert f"leaf 2 is inside grant {scoped.grant_id}'s scope root {bundle.scope.scope_root} (multiproof)" \
        in report.checked
    assert any(line.startswith(f"chain: that grant {scoped.grant_id} at GrantRegistry") for line in report.not_checked)
    connection = connect(pyevm.w3)
    check = evidence.check_on_chain(bundle, connection)
    assert any(line.startswith(f"grant {scoped.grant_id} at ") for line in check.checked) and not check.warnings

    with pytest.raises(EvidenceError, match=f"row 7 \\(leaf 7\\) is outside grant {scoped.grant_id}'s scope "
                       "\\(5 indexes: 0-4\\)") as outside:
        evidence.prove(registry, data, manifest, row=7, secret=SECRET, grant=scoped.grant_id)
    assert outside.value.kind == "conflict"

    # tampered: a flipped sibling, another leaf's index, a scope forged for the row (offline fine, chain says no)
    assert bundle.scope.proof is not None
    flipped = bundle.scope.proof.model_copy(update={"proof": ("0x" + "00" * 32, *bundle.scope.proof.proof[1:])})
    with pytest.raises(ScopeError, match=f"the scope proof of grant {scoped.grant_id} failed: the scope proof does "
                       "not lead to the scope root"):
        verify_bundle_offline(bundle.model_copy(update={"scope": bundle.scope.model_copy(update={"proof": flipped})}))
    other_leaf = IndexTree.of(range(5)).multiproof([3])
    moved = bundle.scope.model_copy(update={"leaf_index": 3, "proof": other_leaf})
    with pytest.raises(EvidenceError, match="proves leaf 3 inside grant 1's scope, but its proofs are of leaves 2"):
        verify_bundle_offline(bundle.model_copy(update={"scope": moved}))
    wide = IndexTree.of(range(10))
    forged = bundle.scope.model_copy(update={"scope_root": wide.root_hex, "proof": wide.multiproof([2])})
    forged_bundle = bundle.model_copy(update={"scope": forged})
    verify_bundle_offline(forged_bundle)  # consistent in itself: only the chain knows the grant's root
    with pytest.raises(EvidenceError, match=f"on chain, grant {scoped.grant_id} is of asset 1 with scope root "
                       f"{bundle.scope.scope_root}; the bundle says asset 1, scope root {wide.root_hex}"):
        evidence.check_on_chain(forged_bundle, connection)
    missing = bundle.scope.model_copy(update={"grant_id": 99})
    with pytest.raises(EvidenceError, match="grant 99 does not exist in GrantRegistry"):
        evidence.check_on_chain(bundle.model_copy(update={"scope": missing}), connection)
    elsewhere = bundle.scope.model_copy(update={"grant_registry": pyevm.deployment.transaction_ledger})
    with pytest.raises(EvidenceError, match="did not answer as one"):
        evidence.check_on_chain(bundle.model_copy(update={"scope": elsewhere}), connection)

    grants.revoke(registry, scoped.grant_id)
    assert evidence.check_on_chain(bundle, connection).warnings == (f"grant {scoped.grant_id} is now Revoked",)


def test_a_whole_asset_grant_and_grants_that_cannot_prove(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    data = write_table(tmp_path / "t.csv", [f"{i},n{i}" for i in range(4)])
    registry = registry_for(pyevm, pyevm.owner)
    done = assets.register(registry, data, salt_secret=SECRET)
    manifest = read_manifest(done.manifest_path)
    whole = grants.grant(registry, done.asset_id, pyevm.user.address, "audit", "now", "30d", 5).grant
    result = evidence.prove(registry, data, manifest, row=3, secret=SECRET, grant=whole.grant_id)
    assert result.bundle is not None and result.bundle.scope is not None and result.bundle.scope.proof is None
    assert f"grant {whole.grant_id} covers the whole asset (zero scope root): leaf 3 is inside it" in \
        compute_bundle_report(result.bundle).checked
    evidence.check_on_chain(result.bundle, connect(pyevm.w3))
    plain = evidence.prove(registry, data, manifest, row=3, secret=SECRET).bundle
    assert plain is not None and "scope" not in plain.to_json_data()  # bundles without a grant: as before

    other = assets.register(registry, write_table(tmp_path / "u.csv", ["1,a"]))
    theirs = grants.grant(registry, other.asset_id, pyevm.user.address, "audit", "now", "30d", 5).grant
    with pytest.raises(EvidenceError, match=f"grant {theirs.grant_id} is of asset {other.asset_id}, not of asset "
                       f"{done.asset_id}"):
        evidence.prove(registry, data, manifest, row=0, secret=SECRET, grant=theirs.grant_id)
    now = pyevm.now()
    unknown = pyevm.as_(pyevm.owner).grants.grant(done.asset_id, pyevm.user.address, keccak(text="x"), now,
                                                   now + 3600, 1, IndexTree.of([0]).root)
    with pytest.raises(EvidenceError, match=f"this registry does not know the indexes behind grant "
                       f"{unknown.grant_id}'s scope root"):
        evidence.prove(registry, data, manifest, row=0, secret=SECRET, grant=unknown.grant_id)
