"""verify (the chain answers; the nearest registered version and what differs), evidence bundles with the
on-chain record, and their check against a node."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_utils import keccak

from dataseal.chain.connection import connect
from dataseal.chain.contracts.deploy import deploy_contracts
from dataseal.chain.contracts.deployment import save_deployment
from dataseal.errors import InvalidInput
from dataseal.registry.evidence import EvidenceError, compute_bundle_report, load_document, verify_bundle_offline
from dataseal.registry.manifest import read_manifest
from dataseal.registry.scope import IndexTree, ScopeError
from dataseal.registry.services import assets, evidence, grants, status_changes, verify
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
    status_changes.cancel(registry, done.asset_id)
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
    trusted = evidence.get_trusted_registry(pyevm.deployment.chain_id, data_dir=registry.data_dir)
    assert trusted is not None and trusted.address == pyevm.deployment.asset_registry
    check = evidence.check_on_chain(result.bundle, connection, trusted)
    assert check.status == "Active" and check.holds_root and not check.warnings
    assert any("emitted AssetRegistered" in line for line in check.checked)
    assert f"contract {record.contract} is the trusted AssetRegistry (the deployment of chain {record.chain_id} " \
        f"recorded in {registry.data_dir / 'deployments.json'})" in check.checked
    assert check.to_json()["trusted_by"] == trusted.source
    altered = result.bundle.model_copy(update={"record": record.model_copy(update={"timestamp": record.timestamp + 1})})
    with pytest.raises(EvidenceError, match="did not emit the AssetRegistered the record claims"):
        evidence.check_on_chain(altered, connection, trusted)
    moved = result.bundle.model_copy(update={"record": record.model_copy(update={"block_number": 1})})
    with pytest.raises(EvidenceError, match="but the record says block 1"):
        evidence.check_on_chain(moved, connection, trusted)
    other = result.bundle.model_copy(update={"record": record.model_copy(update={"chain_id": 5})})
    with pytest.raises(EvidenceError, match="the bundle's record is on chain 5, but the node at"):
        evidence.check_on_chain(other, connection, trusted)
    absent = result.bundle.model_copy(update={"record": record.model_copy(update={"tx_hash": "0x" + "ab" * 32})})
    with pytest.raises(EvidenceError, match="is not on chain") as missing:
        evidence.check_on_chain(absent, connection, trusted)
    assert missing.value.options == ("rpc_url",)
    status_changes.cancel(registry, done.asset_id)
    with pytest.raises(EvidenceError, match=f"asset {done.asset_id} is now Cancelled and no longer holds root "
                       f"{done.content_root}: the registration the bundle records no longer stands") as gone:
        evidence.check_on_chain(result.bundle, connection, trusted)
    assert gone.value.kind == "conflict"
    pyevm.travel(8 * 86_400)  # cooled: someone registers the same data
    copy = write_table(tmp_path / "copy.csv", [f"{i},n{i}" for i in range(5)])
    copy.with_name("copy.csv.dataseal").mkdir()
    copy.with_name("copy.csv.dataseal").joinpath("manifest.json").write_bytes(done.manifest_path.read_bytes())
    taken = assets.register(registry_for(pyevm, pyevm.user), copy, salt_secret=SECRET)
    assert taken.content_root == done.content_root
    with pytest.raises(EvidenceError, match=f"asset {done.asset_id} is now Cancelled and no longer holds root "
                       f"{done.content_root} \\(asset {taken.asset_id} does\\)"):
        evidence.check_on_chain(result.bundle, connection, trusted)


def test_a_bundle_of_a_look_alike_registry_on_the_same_chain_is_refused(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    """Anyone may deploy dataseal again on the same chain and register a copy of someone's data there: its bundle
    checks out against its own contract, so the check needs to know which registry to trust."""
    data = write_table(tmp_path / "t.csv", [f"{i},n{i}" for i in range(5)])
    genuine = registry_for(pyevm, pyevm.owner)
    done = assets.register(genuine, data, salt_secret=SECRET)
    lookalike = deploy_contracts(pyevm.w3, pyevm.user)
    assert lookalike.chain_id == pyevm.deployment.chain_id
    assert lookalike.asset_registry != pyevm.deployment.asset_registry
    attacker_dir = tmp_path / "attacker"
    save_deployment(attacker_dir, lookalike)
    attacker = registry_for(pyevm, pyevm.user, data_dir=attacker_dir)
    copy = tmp_path / "copy" / "t.csv"
    copy.parent.mkdir()
    copy.write_bytes(data.read_bytes())
    (copy.parent / "t.csv.dataseal").mkdir()
    (copy.parent / "t.csv.dataseal" / "manifest.json").write_bytes(done.manifest_path.read_bytes())
    theirs = assets.register(attacker, copy, salt_secret=SECRET)  # the same root, registered on the look-alike
    assert theirs.content_root == done.content_root
    forged = evidence.prove(attacker, copy, read_manifest(theirs.manifest_path), row=1, secret=SECRET).bundle
    assert forged is not None and forged.record.contract == lookalike.asset_registry
    connection = connect(pyevm.w3)

    trusted = evidence.get_trusted_registry(pyevm.deployment.chain_id, data_dir=genuine.data_dir)
    with pytest.raises(EvidenceError, match=f"the bundle's record names AssetRegistry {lookalike.asset_registry}, "
                       f"but the registry trusted on chain {pyevm.deployment.chain_id} is "
                       f"{pyevm.deployment.asset_registry} \\(the deployment of chain") as refused:
        evidence.check_on_chain(forged, connection, trusted)
    assert refused.value.kind == "conflict" and refused.value.options == ("contract",)
    given = evidence.get_trusted_registry(pyevm.deployment.chain_id, contract=pyevm.deployment.asset_registry.lower())
    assert given is not None and given.source == "the address given"
    with pytest.raises(EvidenceError, match=f"is {pyevm.deployment.asset_registry} \\(the address given\\)"):
        evidence.check_on_chain(forged, connection, given)
    with pytest.raises(EvidenceError, match=f"the bundle's record names AssetRegistry {lookalike.asset_registry} on "
                       "chain .*, and nothing says that is the registry to trust") as untrusted:
        evidence.check_on_chain(forged, connection, None)
    assert untrusted.value.options == ("contract", "data_dir")
    assert evidence.get_trusted_registry(pyevm.deployment.chain_id, data_dir=tmp_path / "nothing") is None
    assert evidence.get_trusted_registry(pyevm.deployment.chain_id) is None
    assert evidence.get_trusted_registry(5, data_dir=genuine.data_dir) is None  # no deployment of that chain
    with pytest.raises(InvalidInput, match="the registry address to trust '0x12' is not an address") as bad:
        evidence.get_trusted_registry(1, contract="0x12")
    assert bad.value.options == ("contract",)

    # the genuine bundle passes against the genuine registry; the look-alike's only if its address is given
    real = evidence.prove(genuine, data, read_manifest(done.manifest_path), row=1, secret=SECRET).bundle
    assert real is not None
    assert evidence.check_on_chain(real, connection, trusted).holds_root
    assert evidence.check_on_chain(forged, connection, evidence.get_trusted_registry(
        pyevm.deployment.chain_id, contract=lookalike.asset_registry)).holds_root


def test_a_rejected_registration_fails_the_check(pyevm_review: Chain, registry_for: RegistryFor,
                                                 tmp_path: Path) -> None:
    chain = pyevm_review
    chain.as_(chain.operator).registry.grant_reviewer(chain.reviewer.address)
    data = write_table(tmp_path / "t.csv", [f"{i},n{i}" for i in range(3)])
    owner = registry_for(chain, chain.owner)
    done = assets.register(owner, data, salt_secret=SECRET)
    bundle = evidence.prove(owner, data, read_manifest(done.manifest_path), row=0, secret=SECRET).bundle
    assert bundle is not None
    connection = connect(chain.w3)
    trusted = evidence.get_trusted_registry(chain.deployment.chain_id, data_dir=owner.data_dir)
    pending = evidence.check_on_chain(bundle, connection, trusted)
    assert pending.warnings == (f"asset {done.asset_id} is still Pending (in its notice period)",)
    status_changes.review(registry_for(chain, chain.user), "object", done.asset_id, evidence=b"mine")
    disputed = evidence.check_on_chain(bundle, connection, trusted)  # a dispute does not undo the registration
    assert disputed.holds_root and disputed.warnings == (f"asset {done.asset_id} is now Disputed",)
    status_changes.review(registry_for(chain, chain.reviewer), "reject", done.asset_id, reason="upheld")
    with pytest.raises(EvidenceError, match=f"asset {done.asset_id} is now Rejected and no longer holds root "):
        evidence.check_on_chain(bundle, connection, trusted)


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
    trusted = evidence.get_trusted_registry(pyevm.deployment.chain_id, data_dir=registry.data_dir)
    check = evidence.check_on_chain(bundle, connection, trusted)
    assert f"grant {scoped.grant_id} at {pyevm.deployment.grant_registry} (the GrantRegistry of AssetRegistry " \
        f"{pyevm.deployment.asset_registry}) is of asset 1 with scope root {bundle.scope.scope_root}" in check.checked
    assert not check.warnings

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
        evidence.check_on_chain(forged_bundle, connection, trusted)
    missing = bundle.scope.model_copy(update={"grant_id": 99})
    with pytest.raises(EvidenceError, match="grant 99 does not exist in GrantRegistry"):
        evidence.check_on_chain(bundle.model_copy(update={"scope": missing}), connection, trusted)
    lookalike = deploy_contracts(pyevm.w3, pyevm.user)  # its grant 1 could say anything about asset 1
    for other in (pyevm.deployment.transaction_ledger, lookalike.grant_registry):
        elsewhere = bundle.scope.model_copy(update={"grant_registry": other})
        with pytest.raises(EvidenceError, match=f"the bundle's GrantRegistry {other} is not the one of AssetRegistry "
                           f"{pyevm.deployment.asset_registry} \\({pyevm.deployment.grant_registry}, named by its "
                           "ledger\\)"):
            evidence.check_on_chain(bundle.model_copy(update={"scope": elsewhere}), connection, trusted)

    grants.revoke(registry, scoped.grant_id)
    assert evidence.check_on_chain(bundle, connection, trusted).warnings == \
        (f"grant {scoped.grant_id} is now Revoked",)


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
    evidence.check_on_chain(result.bundle, connect(pyevm.w3),
                            evidence.get_trusted_registry(pyevm.deployment.chain_id, data_dir=registry.data_dir))
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


def test_the_default_chain_out_of_reach_is_a_reason_not_an_error(tmp_path: Path) -> None:
    """open_default_registry never raises for a chain it cannot use: it says why, and creates nothing."""
    from dataseal.registry.settings import Settings

    folder = tmp_path / "absent"
    found = evidence.open_default_registry(Settings(data_dir=folder))
    assert found.registry is None and found.missing == f"no deployment is recorded in {folder} (no deployments.json)"
    assert not folder.exists()
    found = evidence.open_default_registry(Settings(data_dir=folder, rpc_url="http://127.0.0.1:9", rpc_timeout=2))
    assert found.registry is None and found.missing is not None and "127.0.0.1:9" in found.missing
    assert not folder.exists()
