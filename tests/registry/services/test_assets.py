"""The asset services on a py-evm chain: register (with and without commitments), rerun after a crash at every
step, new versions, cancel, review; every refusal made before anything is recorded."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from dataseal.chain.contracts.logs import LogReader
from dataseal.chain.contracts.records import AssetStatus, AssetStatusChange, CommitRecord
from dataseal.chain.errors import ContractRevert, NodeUnreachable
from dataseal.errors import ErrorKind, InvalidInput, NotFound
from dataseal.registry.certificates import CertificateError, read_certificate, verify_certificate
from dataseal.registry.db.models.local import ManifestRecord, OutboxTx, StoredTreeRecord
from dataseal.registry.manifest import read_manifest
from dataseal.registry.merkle import StandardMerkleTree
from dataseal.registry.merkle.stored import StoredTree
from dataseal.registry.registry import Registry
from dataseal.registry.sealing import SealError
from dataseal.registry.sealing.seal import seal
from dataseal.registry.services import assets, evidence, status_changes
from dataseal.registry.services.assets import RegistrationError, SealOptions
from dataseal.registry.services.certificate_step import CertificateOptions
from dataseal.registry.settings import Settings
from tests.conftest import Chain
from tests.registry.services.conftest import Crash, RegistryFor, chain_clock, crash_at

SECRET = bytes(range(32))


def table(tmp_path: Path, rows: int = 6, name: str = "people.csv") -> Path:
    path = tmp_path / name
    path.write_text("id,name\n" + "".join(f"{i},person {i}\n" for i in range(rows)))
    return path


def outbox_rows(registry: Registry) -> list[OutboxTx]:
    with registry.db.session() as session:
        return list(session.exec(select(OutboxTx)))


def commits_by(chain: Chain, address: str) -> int:
    from dataseal.chain.contracts.logs import LogReader

    return sum(1 for r in LogReader(chain.w3).records(chain.deployment)
               if isinstance(r, CommitRecord) and r.by == address)


def test_register_a_file_records_the_chain_the_tree_and_the_manifest(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(bytes(range(256)) * 20)
    registry = registry_for(pyevm, pyevm.owner)
    done = assets.register(registry, data, title="Bytes", rights=("holding", "processing"), classification=2,
                           licence="CC-BY-4.0", options=SealOptions(chunk_size=512), tree_dump=True)
    asset = pyevm.reader.registry.asset(done.asset_id)
    assert (asset.owner, asset.status, asset.rights_type, asset.classification) == \
        (pyevm.owner.address, AssetStatus.Active, 3, 2)
    assert "0x" + asset.content_root.hex() == done.content_root and "0x" + asset.manifest_hash.hex() == \
        done.manifest_hash
    manifest = read_manifest(done.manifest_path)
    assert manifest.hash_hex == done.manifest_hash and manifest.title == "Bytes" and manifest.licence == "CC-BY-4.0"
    assert done.tree_dump == done.manifest_path.parent / "tree.json"
    dump = StandardMerkleTree.loads(done.tree_dump.read_text())
    with StoredTree.open(done.stored_tree_path) as stored:
        assert stored.proof(7) == dump.get_proof(7) and "0x" + stored.root.hex() == done.content_root
    assert done.stored_tree_path == registry.data_dir / "trees" / f"{done.content_root}.dstree"
    receipt = pyevm.w3.eth.get_transaction_receipt(done.tx_hash)  # type: ignore[arg-type]
    assert receipt["blockNumber"] == done.block_number and receipt["status"] == 1
    with registry.db.session() as session:
        record = session.exec(select(ManifestRecord)).one()
        tree = session.exec(select(StoredTreeRecord)).one()
    assert (record.asset_id, record.manifest_hash, record.kind, record.name) == \
        (done.asset_id, done.manifest_hash, "file", "data.bin")
    assert record.manifest == manifest.to_json_data() and Path(record.manifest_path).exists()
    assert (tree.content_root, tree.leaf_count, tree.path) == \
        (done.content_root, 10, f"trees/{done.content_root}.dstree")
    [row] = outbox_rows(registry)
    assert (row.kind, row.state, row.tx_hash, row.sender) == ("register", "mined", done.tx_hash, pyevm.owner.address)
    assert not done.resumed and not done.reused_seal


def test_a_second_run_finds_the_registration_done(pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    data = table(tmp_path)
    registry = registry_for(pyevm, pyevm.owner)
    first = assets.register(registry, data, salt_secret=SECRET)
    again = assets.register(registry, data, salt_secret=SECRET)
    assert (again.asset_id, again.tx_hash, again.manifest_hash) == (first.asset_id, first.tx_hash, first.manifest_hash)
    assert again.resumed and again.reused_seal
    assert again.already_registered and not first.already_registered
    assert pyevm.reader.registry.total_assets() == 1


MOMENTS = ["sealed", "commit:prepared", "commit:submitting", "commit:submitted", "commit:sent", "commit:mined",
           "register:prepared", "register:submitting", "register:submitted", "register:sent", "register:mined",
           "tree-stored", "manifest-recorded", "certificate-written"]


@pytest.mark.parametrize("moment", MOMENTS)
def test_a_crash_at_any_step_is_finished_by_the_next_run(
        moment: str, pyevm_commits: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    chain = pyevm_commits
    data = table(tmp_path)
    registry = registry_for(chain, chain.owner)
    with pytest.raises(Crash):
        assets.register(registry, data, salt_secret=SECRET, clock=chain_clock(chain), hook=crash_at(moment))
    sealed_nonce = read_manifest(data.parent / "people.csv.dataseal" / "manifest.json").content.salt
    done = assets.register(registry, data, salt_secret=SECRET, clock=chain_clock(chain))
    assert chain.reader.registry.total_assets() == 1 and done.asset_id == 1
    assert commits_by(chain, chain.owner.address) == 1  # never a second commitment
    manifest = read_manifest(done.manifest_path)
    assert manifest.content.salt == sealed_nonce  # the table was not sealed again (same nonce, same root)
    assert "0x" + chain.reader.registry.asset(1).manifest_hash.hex() == manifest.hash_hex == done.manifest_hash
    assert done.reused_seal
    assert done.resumed == moment.startswith(("register:", "tree-", "manifest-", "certificate-"))
    assert done.certificate is not None and done.certificate.reused == (moment == "certificate-written")
    assert read_certificate(done.certificate.path).registration.tx_hash == done.tx_hash
    assert {(row.kind, row.state) for row in outbox_rows(registry)} == {("commit", "mined"), ("register", "mined")}
    registered = chain.w3.eth.get_transaction_receipt(done.tx_hash)  # type: ignore[arg-type]
    assert registered["status"] == 1
    with registry.db.session() as session:
        assert session.exec(select(ManifestRecord)).one().asset_id == 1
        assert session.exec(select(StoredTreeRecord)).one().leaf_count == 6


def test_a_commitment_too_old_to_reveal_is_made_again(
        pyevm_commits: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    chain = pyevm_commits
    data = tmp_path / "data.bin"
    data.write_bytes(b"expiring commitment" * 10)
    registry = registry_for(chain, chain.owner)
    with pytest.raises(Crash):
        assets.register(registry, data, clock=chain_clock(chain), hook=crash_at("commit:mined"))
    chain.travel(2 * 86_400)  # past maxCommitAge (one day)
    done = assets.register(registry, data, clock=chain_clock(chain))
    assert done.asset_id == 1 and commits_by(chain, chain.owner.address) == 2


def test_a_root_held_by_someone_else_is_refused_before_anything_is_recorded(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(b"first come" * 100)
    first = assets.register(registry_for(pyevm, pyevm.owner), data)
    other = registry_for(pyevm, pyevm.user)
    with pytest.raises(RegistrationError, match=f"already registered as asset {first.asset_id} by "
                       f"{pyevm.owner.address}") as refused:
        assets.register(other, data)
    assert refused.value.kind == ErrorKind.CONFLICT and "object during its notice period" in refused.value.hint
    assert [row.sender for row in outbox_rows(other)] == [pyevm.owner.address]


def test_the_same_data_with_another_description_is_refused(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    """Refused before anything is written: the seal beside the data is still the registered one, and proves."""
    data = tmp_path / "data.bin"
    data.write_bytes(b"described once" * 100)
    registry = registry_for(pyevm, pyevm.owner)
    first = assets.register(registry, data, title="One")
    seal_folder = first.manifest_path.parent
    before = {p.name: p.read_bytes() for p in seal_folder.iterdir()}
    archived = sorted((registry.data_dir / "manifests").iterdir())
    with pytest.raises(RegistrationError, match=f"already registered as your asset {first.asset_id}, with manifest "
                       f"hash {first.manifest_hash}"):
        assets.register(registry, data, title="Two")
    assert {p.name: p.read_bytes() for p in seal_folder.iterdir()} == before
    assert sorted((registry.data_dir / "manifests").iterdir()) == archived
    manifest = read_manifest(first.manifest_path)
    assert manifest.title == "One" and manifest.hash_hex == first.manifest_hash
    proved = evidence.prove(registry, data, manifest, chunk=0)
    assert proved.bundle is not None and proved.bundle.record.tx_hash == first.tx_hash


def test_a_root_held_by_someone_else_leaves_nothing_beside_the_data(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(b"first come" * 100)
    first = assets.register(registry_for(pyevm, pyevm.owner), data)
    copy = tmp_path / "copy" / "data.bin"
    copy.parent.mkdir()
    copy.write_bytes(data.read_bytes())
    user = registry_for(pyevm, pyevm.user, data_dir=tmp_path / "user-data")
    with pytest.raises(RegistrationError, match=f"already registered as asset {first.asset_id} by "):
        assets.register(user, copy)
    assert sorted(p.name for p in copy.parent.iterdir()) == ["data.bin"]  # no data.bin.dataseal/
    assert not (tmp_path / "user-data" / "trees").exists() and not (tmp_path / "user-data" / "manifests").exists()


def test_the_tree_dump_is_written_only_when_asked(pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(bytes(range(256)) * 40)
    registry = registry_for(pyevm, pyevm.owner)
    old = seal(data, SealOptions(chunk_size=1024), out_dir=tmp_path / "data.bin.dataseal")  # `dataseal seal`'s dump
    assert old.tree_path.exists()
    done = assets.register(registry, data)  # another recipe (1 MiB chunks): a new seal, whose tree is not dumped
    assert done.tree_dump is None and done.to_json()["tree_dump"] is None
    assert sorted(p.name for p in done.manifest_path.parent.iterdir()) == \
        ["certificate.html", "certificate.json", "manifest.json"]  # the earlier seal's tree.json went with it
    with StoredTree.open(done.stored_tree_path) as stored:
        assert "0x" + stored.root.hex() == done.content_root
    again = assets.register(registry, data, tree_dump=True)  # the same registration, dump asked for now
    assert again.already_registered and again.tree_dump == done.manifest_path.parent / "tree.json"
    assert StandardMerkleTree.loads(again.tree_dump.read_text()).root_hex == done.content_root
    version = tmp_path / "v2.bin"
    version.write_bytes(bytes(range(256)) * 41)
    v2 = assets.register_version(registry, done.asset_id, version, tree_dump=True)
    assert v2.tree_dump is not None and StandardMerkleTree.loads(v2.tree_dump.read_text()).root_hex == v2.content_root


def test_bad_values_are_refused_before_connecting(tmp_path: Path) -> None:
    registry = Registry(Settings(data_dir=tmp_path / "nothing"))
    with pytest.raises(InvalidInput, match="classification 9 is not a level") as bad:
        assets.register(registry, tmp_path, classification=9)
    assert bad.value.options == ("classification",)
    with pytest.raises(InvalidInput, match="not a unix time"):
        assets.register(registry, tmp_path, valid_until=-1)
    assert not (tmp_path / "nothing").exists()


def test_an_unreachable_node_records_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(b"never sent")
    settings = Settings(data_dir=tmp_path / "data", rpc_url="http://127.0.0.1:9", rpc_timeout=2)
    with Registry(settings) as registry, pytest.raises(NodeUnreachable, match="127.0.0.1:9"):
        assets.register(registry, data)
    assert not (tmp_path / "data").exists() and not (tmp_path / "data.bin.dataseal").exists()


def test_a_new_version_keeps_the_table_recipe_and_the_lineage(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    registry = registry_for(pyevm, pyevm.owner)
    data = table(tmp_path)
    first = assets.register(registry, data, title="People", salt_secret=SECRET, licence="CC0")
    table(tmp_path, rows=7)  # one more row
    version = assets.register_version(registry, first.asset_id, data, salt_secret=SECRET)
    assert version.parent_id == first.asset_id and version.asset_id == 2 and version.content_root != first.content_root
    manifest = read_manifest(version.manifest_path)
    assert (manifest.title, manifest.licence, manifest.content.kind, manifest.tree.leaf_count) == \
        ("People", "CC0", "table", 7)
    asset = pyevm.reader.registry.asset(2)
    assert asset.parent_id == 1 and asset.lineage.name == "Version"
    # the first version's manifest is kept in the data folder though the seal beside the data was replaced
    assert (registry.data_dir / "manifests" / f"{first.manifest_hash}.json").exists()
    with pytest.raises(SealError, match="was sealed with per-row salts: its new version is too") as secretless:
        assets.register_version(registry, 2, table(tmp_path, rows=8))
    assert secretless.value.options == ("salt_secret",)


def test_a_version_of_an_unknown_or_anothers_asset_is_refused(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(b"v1" * 100)
    assets.register(registry_for(pyevm, pyevm.owner), data)
    user = registry_for(pyevm, pyevm.user)
    with pytest.raises(NotFound, match="no asset 42 on chain"):
        assets.register_version(user, 42, data)
    with pytest.raises(RegistrationError, match=f"asset 1 is owned by {pyevm.owner.address}; you "
                       f"\\({pyevm.user.address}\\) cannot register a version"):
        assets.register_version(user, 1, data)
    with pytest.raises(InvalidInput, match="an asset id is a whole number from 1"):
        status_changes.cancel(user, 0)


def test_cancel_by_the_owner_only_and_once(pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(b"cancel me" * 100)
    owner = registry_for(pyevm, pyevm.owner)
    done = assets.register(owner, data)
    user = registry_for(pyevm, pyevm.user)
    with pytest.raises(RegistrationError, match=f"asset 1 is owned by {pyevm.owner.address}; you "
                       f"\\({pyevm.user.address}\\) cannot cancel it") as refused:
        status_changes.cancel(user, done.asset_id)
    assert refused.value.options == ("account",)
    assert [row.kind for row in outbox_rows(owner)] == ["register"]
    with pytest.raises(Crash):
        status_changes.cancel(owner, done.asset_id, "withdrawn", hook=crash_at("cancel:submitted"))
    cancelled = status_changes.cancel(owner, done.asset_id, "withdrawn")
    assert cancelled.status == "Cancelled" and cancelled.resumed and not cancelled.already_done
    assert pyevm.reader.registry.status_of(1) == AssetStatus.Cancelled
    receipt = pyevm.w3.eth.get_transaction_receipt(cancelled.tx_hash)  # type: ignore[arg-type]
    assert receipt["status"] == 1 and receipt["blockNumber"] == cancelled.block_number  # read from the chain's logs
    [row] = [row for row in outbox_rows(owner) if row.kind == "cancel"]
    assert (row.state, row.tx_hash) == ("mined", cancelled.tx_hash)
    again = status_changes.cancel(owner, done.asset_id)  # nothing interrupted: already cancelled by that tx
    assert (again.already_done, again.resumed, again.tx_hash, again.block_number) == \
        (True, False, cancelled.tx_hash, cancelled.block_number)
    assert again.to_json()["already_done"] is True
    with pytest.raises(NotFound, match="no asset 7 on chain"):
        status_changes.cancel(owner, 7)


def test_review_object_approve_reject(pyevm_review: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    chain = pyevm_review
    chain.as_(chain.operator).registry.grant_reviewer(chain.reviewer.address)
    owner, user, reviewer = (registry_for(chain, s) for s in (chain.owner, chain.user, chain.reviewer))
    first, second = tmp_path / "a.bin", tmp_path / "b.bin"
    first.write_bytes(b"a" * 100)
    second.write_bytes(b"b" * 100)
    a = assets.register(owner, first)
    b = assets.register(owner, second)
    assert a.status == "Pending"
    with pytest.raises(RegistrationError, match="asset 1 is Pending and nobody objected: there is nothing to "
                       "approve") as refused:
        status_changes.review(reviewer, "approve", a.asset_id)
    assert "becomes Active by itself when its notice ends, at " in refused.value.hint
    with pytest.raises(InvalidInput, match="an objection needs evidence"):
        status_changes.review(user, "object", a.asset_id)
    objected = status_changes.review(user, "object", a.asset_id, evidence=b"my earlier copy of the data")
    assert objected.status == "Disputed"
    again = status_changes.review(user, "object", a.asset_id, evidence=b"my earlier copy of the data")
    assert again.resumed and again.tx_hash == objected.tx_hash  # the same objection, not a second one
    approved = status_changes.review(reviewer, "approve", a.asset_id, reason="the objector's copy is later")
    assert approved.status == "Pending"
    status_changes.review(user, "object", b.asset_id, evidence=b"mine")
    rejected = status_changes.review(reviewer, "reject", b.asset_id, reason="upheld", reserve_for=chain.user.address)
    assert rejected.status == "Rejected" and not rejected.already_done
    again = status_changes.review(reviewer, "reject", b.asset_id)
    assert (again.already_done, again.resumed, again.tx_hash) == (True, False, rejected.tx_hash)
    reservation = chain.reader.registry.reservation_of(bytes.fromhex(b.content_root[2:]))
    assert reservation is not None and reservation.beneficiary == chain.user.address
    with pytest.raises(InvalidInput, match="not a review action"):
        status_changes.review(reviewer, "bless", a.asset_id)
    with pytest.raises(InvalidInput, match="reserved only when a registration is rejected"):
        status_changes.review(reviewer, "approve", a.asset_id, reserve_for=chain.user.address)
    with pytest.raises(ContractRevert, match="AccessControlUnauthorizedAccount"):
        status_changes.review(user, "reject", a.asset_id)
    assert not any(row.sender == chain.user.address and row.kind == "reject" for row in outbox_rows(user))


def test_a_cooling_root_is_refused_before_a_commitment_is_sent(
        pyevm_commits: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    chain = pyevm_commits
    data = tmp_path / "data.bin"
    data.write_bytes(b"given up" * 100)
    owner = registry_for(chain, chain.owner)
    done = assets.register(owner, data, clock=chain_clock(chain))
    status_changes.cancel(owner, done.asset_id)
    other_data = tmp_path / "copy" / "data.bin"
    other_data.parent.mkdir()
    other_data.write_bytes(data.read_bytes())
    user = registry_for(chain, chain.user)
    with pytest.raises(RegistrationError, match="is cooling after a cancellation: nobody may register it before "):
        assets.register(user, other_data, clock=chain_clock(chain))
    assert commits_by(chain, chain.user.address) == 0


def test_a_sent_transaction_the_node_never_saw_is_sent_again(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    """A record of a transaction sent (its hash known) that the node does not know and whose bytes were not kept:
    dropped. The chain does not have the registration, so it is sent again, once."""
    data = tmp_path / "data.bin"
    data.write_bytes(b"dropped" * 100)
    registry = registry_for(pyevm, pyevm.owner)
    with pytest.raises(Crash):
        assets.register(registry, data, hook=crash_at("register:submitting"))
    [row] = outbox_rows(registry)
    with registry.db.session() as session:
        stored = session.exec(select(OutboxTx)).one()
        stored.state, stored.tx_hash, stored.nonce = "sent", "0x" + "ee" * 32, 99
        session.add(stored)
    done = assets.register(registry, data)
    assert done.asset_id == 1 and done.resumed and pyevm.reader.registry.total_assets() == 1
    [row] = outbox_rows(registry)
    assert (row.state, row.tx_hash, row.attempts) == ("mined", done.tx_hash, 2)


# ---------------------------------------------------------------------------------- the certificate step


def test_register_writes_the_certificate_beside_the_manifest_and_keeps_it_on_a_rerun(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    data = table(tmp_path)
    registry = registry_for(pyevm, pyevm.owner)
    done = assets.register(registry, data, title="People", licence="CC0", salt_secret=SECRET,
                           clock=chain_clock(pyevm))
    written = done.certificate
    folder = done.manifest_path.parent
    assert written is not None and not written.reused and written.skipped is None
    assert written.files == (folder / "certificate.json", folder / "certificate.html")
    cert = read_certificate(written.path)
    assert (cert.certificate_number, cert.asset_id, cert.title, cert.licence) == \
        (written.number, done.asset_id, "People", "CC0")
    assert cert.registration.tx_hash == done.tx_hash and cert.manifest == read_manifest(done.manifest_path)
    assert cert.issued_at.timestamp() == pyevm.now()  # the injected clock
    verify_certificate(cert, pyevm.reader, LogReader(pyevm.w3))  # every field is the chain's
    assert written.number in (folder / "certificate.html").read_text(encoding="utf-8")
    assert done.to_json()["certificate"] == {"number": written.number, "path": str(written.path),
                                             "files": [str(f) for f in written.files], "reused": False,
                                             "skipped": None}
    before = {f: f.read_bytes() for f in written.files}
    pyevm.travel(60)  # a later block: a new certificate would have another number
    again = assets.register(registry, data, title="People", licence="CC0", salt_secret=SECRET)
    assert again.certificate is not None and again.certificate.reused
    assert again.certificate.number == written.number and {f: f.read_bytes() for f in written.files} == before
    with_pdf = assets.register(registry, data, title="People", licence="CC0", salt_secret=SECRET,
                               certificate=CertificateOptions(pdf=True))
    assert with_pdf.certificate is not None and with_pdf.certificate.reused
    assert with_pdf.certificate.files == (*written.files, folder / "certificate.pdf")
    assert (folder / "certificate.pdf").read_bytes().startswith(b"%PDF")
    without = assets.register(registry, data, title="People", licence="CC0", salt_secret=SECRET)
    assert without.certificate is not None and without.certificate.files == with_pdf.certificate.files  # all its own


def test_another_language_or_address_makes_a_new_certificate(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(b"some bytes" * 50)
    registry = registry_for(pyevm, pyevm.owner)
    first = assets.register(registry, data, title="Bytes")
    pyevm.travel(60)
    english = assets.register(registry, data, title="Bytes", certificate=CertificateOptions(
        language="en", base_url="https://registry.example.org/"))
    assert first.certificate is not None and english.certificate is not None and not english.certificate.reused
    cert = read_certificate(english.certificate.path)
    assert cert.language == "en" and cert.verify_url.startswith("https://registry.example.org/assets/1?cert=DS-")
    assert english.certificate.number != first.certificate.number


def test_a_pdf_without_its_font_is_skipped_and_said(pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    data = tmp_path / "数据.bin"
    data.write_bytes(b"x" * 100)
    registry = registry_for(pyevm, pyevm.owner)
    done = assets.register(registry, data, certificate=CertificateOptions(pdf=True, cjk_font="No Such Font 42"))
    assert done.certificate is not None and done.certificate.skipped is not None
    assert done.certificate.skipped.startswith("no PDF: the certificate holds Chinese text, and the font "
                                               "'No Such Font 42' it needs is not installed")
    assert [f.name for f in done.certificate.files] == ["certificate.json", "certificate.html"]
    assert not (done.manifest_path.parent / "certificate.pdf").exists()


def test_without_a_certificate_none_is_written(pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(b"y" * 100)
    done = assets.register(registry_for(pyevm, pyevm.owner), data, certificate=None)
    assert done.certificate is None and done.to_json()["certificate"] is None
    assert sorted(p.name for p in done.manifest_path.parent.iterdir()) == ["manifest.json"]


def test_a_version_replaces_the_folders_certificate_with_its_own(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    registry = registry_for(pyevm, pyevm.owner)
    data = table(tmp_path)
    first = assets.register(registry, data, title="People", salt_secret=SECRET,
                            certificate=CertificateOptions(pdf=True))
    assert first.certificate is not None and len(first.certificate.files) == 3
    table(tmp_path, rows=7)
    version = assets.register_version(registry, first.asset_id, data, salt_secret=SECRET)
    assert version.certificate is not None and not version.certificate.reused
    cert = read_certificate(version.certificate.path)
    assert (cert.asset_id, cert.parent_id, cert.lineage, cert.title) == (2, 1, "Version", "People")
    # the first asset's PDF went with its certificate: the folder's files are one certificate's
    assert [f.name for f in version.certificate.files] == ["certificate.json", "certificate.html"]
    assert not (version.manifest_path.parent / "certificate.pdf").exists()


@pytest.mark.parametrize(("options", "message", "option"), [
    (CertificateOptions(language="fr"), "unknown certificate language 'fr'", "language"),
    (CertificateOptions(base_url="ftp://example.org"),
     r"the verify base URL 'ftp://example.org' is not an http\(s\) URL", "base_url"),
])
def test_bad_certificate_options_are_refused_before_anything_is_sent(
        options: CertificateOptions, message: str, option: str, pyevm: Chain, registry_for: RegistryFor,
        tmp_path: Path) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(b"z" * 100)
    registry = registry_for(pyevm, pyevm.owner)
    with pytest.raises(CertificateError, match=message) as caught:
        assets.register(registry, data, certificate=options)
    assert caught.value.options == (option,)
    with pytest.raises(CertificateError, match=message):
        assets.register_version(registry, 1, data, certificate=options)
    assert pyevm.reader.registry.total_assets() == 0 and outbox_rows(registry) == []
    assert not (tmp_path / "data.bin.dataseal").exists()


# ---------------------------------------------------------------------------------- a write done again later


@pytest.mark.parametrize("commits", [False, True])
def test_data_registered_again_after_a_cancellation_is_a_new_registration(
        commits: bool, pyevm: Chain, pyevm_commits: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    """The first registration's outbox record is finished (mined); once the root has cooled, the same data is
    registered again: a new asset and a new transaction, not the old one answered from the record."""
    chain = pyevm_commits if commits else pyevm
    data = tmp_path / "data.bin"
    data.write_bytes(b"given up then registered again" * 100)
    owner = registry_for(chain, chain.owner)
    first = assets.register(owner, data, clock=chain_clock(chain))
    status_changes.cancel(owner, first.asset_id)
    chain.travel(8 * 86_400)  # past the 7-day cooldown: the root is free
    again = assets.register(owner, data, clock=chain_clock(chain))
    assert chain.reader.registry.total_assets() == 2
    assert (again.asset_id, again.status, again.resumed, again.already_registered) == (2, "Active", False, False)
    assert again.tx_hash != first.tx_hash and chain.reader.registry.asset_id_of(
        bytes.fromhex(again.content_root[2:])) == 2
    assert again.certificate is not None and read_certificate(again.certificate.path).asset_id == 2
    registers = sorted((row.key.partition("#")[2], row.tx_hash) for row in outbox_rows(owner)
                       if row.kind == "register")
    assert [tx for _, tx in registers] == [again.tx_hash, first.tx_hash]  # the first kept as key#<id>
    assert registers[1][0] != "" and registers[0][0] == ""
    rerun = assets.register(owner, data, clock=chain_clock(chain))  # and that one is now the one a rerun finds
    assert (rerun.asset_id, rerun.tx_hash, rerun.already_registered) == (2, again.tx_hash, True)


def test_a_second_dispute_is_dismissed_by_a_second_approval(
        pyevm_review: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    chain = pyevm_review
    chain.as_(chain.operator).registry.grant_reviewer(chain.reviewer.address)
    owner, user, reviewer = (registry_for(chain, s) for s in (chain.owner, chain.user, chain.reviewer))
    data = tmp_path / "a.bin"
    data.write_bytes(b"a" * 100)
    a = assets.register(owner, data)
    objected = status_changes.review(user, "object", a.asset_id, evidence=b"one")
    first = status_changes.review(reviewer, "approve", a.asset_id)
    assert first.status == "Pending"
    status_changes.review(user, "object", a.asset_id, evidence=b"two")
    assert chain.reader.registry.status_of(a.asset_id) == AssetStatus.Disputed
    second = status_changes.review(reviewer, "approve", a.asset_id)
    assert second.tx_hash != first.tx_hash and not second.resumed
    assert second.status == "Pending" and chain.reader.registry.status_of(a.asset_id) == AssetStatus.Pending
    # the same evidence again, after its dispute was dismissed: a new objection, not the first one's answer
    renewed = status_changes.review(user, "object", a.asset_id, evidence=b"one")
    assert renewed.tx_hash != objected.tx_hash and not renewed.resumed and renewed.status == "Disputed"
    # while it stands, objecting with it again is the same objection
    same = status_changes.review(user, "object", a.asset_id, evidence=b"one")
    assert same.resumed and same.tx_hash == renewed.tx_hash


@pytest.mark.parametrize("moment", ["approve:submitted", "approve:sent", "approve:mined"])
def test_a_crash_during_a_second_approval_is_finished_once(
        moment: str, pyevm_review: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    chain = pyevm_review
    chain.as_(chain.operator).registry.grant_reviewer(chain.reviewer.address)
    owner, user, reviewer = (registry_for(chain, s) for s in (chain.owner, chain.user, chain.reviewer))
    data = tmp_path / "a.bin"
    data.write_bytes(b"a" * 100)
    a = assets.register(owner, data)
    status_changes.review(user, "object", a.asset_id, evidence=b"one")
    status_changes.review(reviewer, "approve", a.asset_id)
    status_changes.review(user, "object", a.asset_id, evidence=b"two")
    with pytest.raises(Crash):
        status_changes.review(reviewer, "approve", a.asset_id, hook=crash_at(moment))
    assert chain.reader.registry.status_of(a.asset_id) == AssetStatus.Pending  # the node mined it (automine)
    with pytest.raises(RegistrationError, match="is Pending and nobody objected"):
        status_changes.review(reviewer, "approve", a.asset_id)  # nothing left to approve: no third transaction
    dismissals = [r for r in LogReader(chain.w3).records(chain.deployment)
                  if isinstance(r, AssetStatusChange) and r.from_status == AssetStatus.Disputed]
    assert len(dismissals) == 2  # one per dispute, never a second one for the same


# ---------------------------------------------------------------------------------- the seal beside the data


def seal_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def latest_time(chain: Chain) -> int:
    return int(chain.w3.eth.get_block("latest")["timestamp"])


def test_a_registered_assets_seal_is_not_replaced_by_another_recipe(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    """The walk's case: a salted table registered, then `register` again without the salt secret (and with a
    validity end the chain would refuse): refused before the data is read, naming the asset and both recipes; the
    seal still proves its rows. Asked to replace it, the data is registered again and the old manifest is kept."""
    registry = registry_for(pyevm, pyevm.owner)
    data = table(tmp_path)
    first = assets.register(registry, data, salt_secret=SECRET)
    seal_folder = first.manifest_path.parent
    before, archived = seal_files(seal_folder), sorted((registry.data_dir / "manifests").iterdir())
    for valid_until in (0, 1_577_836_800):  # no expiry; 2020-01-01, long past
        with pytest.raises(RegistrationError, match=f"{seal_folder / 'manifest.json'} is the seal of your asset "
                           f"{first.asset_id}, which sealed {data} as a csv table by salted rows; this registration "
                           "would seal it as a file in chunks of 1048576 bytes, replace that seal") as refused:
            assets.register(registry, data, valid_until=valid_until)
        assert "replace_seal" in refused.value.options and "--" not in refused.value.hint
        assert seal_files(seal_folder) == before
    with pytest.raises(RegistrationError, match="which sealed .* by salted rows; this registration would seal it as "
                       "a csv table by rows,"):
        assets.register(registry, data, options=SealOptions(rows=True, table_format="csv"))
    assert seal_files(seal_folder) == before and pyevm.reader.registry.total_assets() == 1
    assert sorted((registry.data_dir / "manifests").iterdir()) == archived
    proved = evidence.prove(registry, data, read_manifest(first.manifest_path), row=1, secret=SECRET)
    assert proved.bundle is not None and proved.bundle.record.tx_hash == first.tx_hash

    again = assets.register(registry, data, replace_seal=True)
    assert again.asset_id == 2 and read_manifest(again.manifest_path).content.kind == "file"
    kept = registry.data_dir / "manifests" / f"{first.manifest_hash}.json"
    assert again.replaced_seal == assets.ReplacedSeal(kept, first.asset_id)
    assert again.to_json()["replaced_seal"] == {"archived": str(kept), "asset_id": first.asset_id}
    assert read_manifest(kept).hash_hex == first.manifest_hash
    assert first.replaced_seal is None and first.to_json()["replaced_seal"] is None


def test_an_unregistered_seal_is_replaced_and_said(pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(b"sealed, never registered" * 100)
    old = seal(data, SealOptions(chunk_size=64), out_dir=tmp_path / "data.bin.dataseal")
    registry = registry_for(pyevm, pyevm.owner)
    done = assets.register(registry, data)
    assert done.replaced_seal == assets.ReplacedSeal(
        registry.data_dir / "manifests" / f"{old.manifest.hash_hex}.json", None)


def test_a_validity_end_the_chain_would_refuse_leaves_nothing_beside_the_data(
        pyevm_commits: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    """Refused before the seal is written and before a commitment is sent: the end must pass the commitment's age."""
    chain = pyevm_commits
    data = table(tmp_path, name="new.csv")
    registry = registry_for(chain, chain.owner)
    now = latest_time(chain)
    for valid_until in (1_577_836_800, now + 30):  # long past; before the commitment's minimum age (60 s) is over
        with pytest.raises(RegistrationError, match=r"the validity end .* must be after .* \(the chain's time .* plus "
                           "the commitment's minimum age of 60 s\\): the chain would refuse") as refused:
            assets.register(registry, data, salt_secret=SECRET, valid_until=valid_until, clock=chain_clock(chain))
        assert refused.value.kind == ErrorKind.INVALID_INPUT and refused.value.options == ("valid_until",)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("new.csv")) == ["new.csv"]
    assert commits_by(chain, chain.owner.address) == 0 and outbox_rows(registry) == []
    assert not (registry.data_dir / "trees").exists() and not (registry.data_dir / "manifests").exists()
    done = assets.register(registry, data, salt_secret=SECRET, valid_until=now + 3600, clock=chain_clock(chain))
    assert chain.reader.registry.asset(done.asset_id).asset_id == 1


def test_a_validity_end_inside_the_notice_period_is_refused_with_the_seal_as_it_was(
        pyevm_review: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    chain = pyevm_review
    data = tmp_path / "data.bin"
    data.write_bytes(b"noticed" * 100)
    old = seal(data, SealOptions(), out_dir=tmp_path / "data.bin.dataseal", metadata=None)
    before = seal_files(old.manifest_path.parent)
    registry = registry_for(chain, chain.owner)
    with pytest.raises(RegistrationError, match="plus the notice period of 1296000 s\\): the chain would refuse"):
        assets.register(registry, data, title="Noticed", valid_until=latest_time(chain) + 86_400)
    assert seal_files(old.manifest_path.parent) == before and chain.reader.registry.total_assets() == 0


def test_a_version_of_unchanged_data_is_refused_as_the_asset_itself(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    registry = registry_for(pyevm, pyevm.owner)
    data = table(tmp_path)
    first = assets.register(registry, data, salt_secret=SECRET)
    before = seal_files(first.manifest_path.parent)
    for title in (None, "Another title"):
        with pytest.raises(RegistrationError, match=f"{data} \\(root {first.content_root}\\) is asset 1 itself: a new "
                           "version must differ from it") as refused:
            assets.register_version(registry, 1, data, title=title, salt_secret=SECRET)
        assert "register a version once the data has changed" in refused.value.hint
    assert seal_files(first.manifest_path.parent) == before and pyevm.reader.registry.total_assets() == 1


def test_a_version_replaces_its_parents_seal_but_not_another_assets(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    registry = registry_for(pyevm, pyevm.owner)
    people = table(tmp_path)
    first = assets.register(registry, people, salt_secret=SECRET)
    other = tmp_path / "other.bin"
    other.write_bytes(b"another asset" * 100)
    second = assets.register(registry, other)
    before = seal_files(first.manifest_path.parent)
    with pytest.raises(RegistrationError, match=f"is the seal of your asset {first.asset_id}, which sealed {people} "
                       "as a csv table by salted rows; this registration would seal it as a file in chunks"):
        assets.register_version(registry, second.asset_id, people)
    assert seal_files(first.manifest_path.parent) == before
    table(tmp_path, rows=7)
    version = assets.register_version(registry, first.asset_id, people, salt_secret=SECRET)
    assert version.replaced_seal == assets.ReplacedSeal(
        registry.data_dir / "manifests" / f"{first.manifest_hash}.json", first.asset_id)
    # the version's own seal, registered again as an asset of its own with the same manifest: said as such
    with pytest.raises(RegistrationError, match=f"is already registered as your asset {version.asset_id}, a version "
                       f"of asset {first.asset_id}, with this very manifest \\({version.manifest_hash}\\)"):
        assets.register(registry, people, salt_secret=SECRET, title="people.csv")


def test_on_an_idle_node_the_validity_end_is_checked_against_the_next_block(
        hardhat_url: str, registry_for: RegistryFor, tmp_path: Path) -> None:
    """An hour without blocks (evm_increaseTime: the next block is stamped an hour after the latest): an end half an
    hour after the latest block is already past when the chain checks it. Refused before anything is written (the
    latest block's time let it through to the chain, after the seal was written)."""
    from tests.registry.indexer.conftest import node_chain

    hardhat = node_chain(hardhat_url)  # the test holds the keys
    data = table(tmp_path, name="idle.csv")
    registry = registry_for(hardhat, hardhat.owner)
    hardhat.w3.provider.make_request("evm_increaseTime", [3600])  # type: ignore[arg-type]
    latest = latest_time(hardhat)
    with pytest.raises(RegistrationError, match=r"the validity end .* must be after .*: the chain would refuse"):
        assets.register(registry, data, salt_secret=SECRET, valid_until=latest + 1800)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("idle.csv")) == ["idle.csv"]
    assert not (registry.data_dir / "trees").exists()
    done = assets.register(registry, data, salt_secret=SECRET, valid_until=latest + 7200)
    assert hardhat.reader.registry.asset(done.asset_id).content_root.hex() == done.content_root[2:]
