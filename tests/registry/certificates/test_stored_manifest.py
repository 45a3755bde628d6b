"""A certificate's title, licence and source from the manifest a registry database keeps, found by the manifest
hash on chain and checked against it (on SQLite and PostgreSQL)."""
from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest

from dataseal.chain.contracts.logs import LogReader
from dataseal.chain.contracts.records import Registration
from dataseal.errors import ErrorKind
from dataseal.registry.certificates import CertificateError, compute_certificate
from dataseal.registry.certificates.compute import get_stored_manifest
from dataseal.registry.db import Database
from dataseal.registry.db.models.local import ManifestRecord
from dataseal.registry.manifest import Manifest
from tests.conftest import Chain
from tests.registry.certificates.conftest import ISSUED, TITLE, Registered, register, seal_manifest


def store(database: Database, manifest: Manifest, *, under: str | None = None,
          document: dict[str, Any] | None = None) -> None:
    """Record ``manifest`` as the registry does (``under`` another hash, or another ``document``, to alter it)."""
    with database.session() as session:
        session.add(ManifestRecord(
            manifest_hash=under or manifest.hash_hex, content_root=manifest.tree.root, kind=manifest.content.kind,
            name=manifest.content.name, title=manifest.title, data_path="table.csv", manifest_path="manifest.json",
            manifest=document if document is not None else manifest.to_json_data()))


def issue_looked_up(chain: Chain, registered: Registered, database: Database) -> Any:
    return compute_certificate(chain.reader, LogReader(chain.w3), chain.deployment, registered.asset_id, None,
                               now=ISSUED, manifests=partial(get_stored_manifest, database))


def test_the_manifest_is_the_one_recorded_under_the_hash_on_chain(
        pyevm: Chain, registered: Registered, database: Database, tmp_path: Path) -> None:
    other = seal_manifest(tmp_path, "另一个数据集")
    store(database, other)  # recorded, but not the asset's
    assert issue_looked_up(pyevm, registered, database).title is None  # none recorded under the asset's hash
    store(database, registered.manifest)
    cert = issue_looked_up(pyevm, registered, database)
    assert (cert.title, cert.licence, cert.source) == (TITLE, "CC-BY-4.0", "深圳市交通运输局")
    assert cert.manifest == registered.manifest
    assert get_stored_manifest(database, registered.manifest.hash_hex.upper().replace("0X", "0x")) == \
        registered.manifest


def test_a_given_manifest_is_not_looked_up(pyevm: Chain, registered: Registered, database: Database) -> None:
    asked: list[str] = []

    def lookup(manifest_hash: str) -> Manifest | None:
        asked.append(manifest_hash)
        return None

    cert = compute_certificate(pyevm.reader, LogReader(pyevm.w3), pyevm.deployment, registered.asset_id,
                               registered.manifest, now=ISSUED, manifests=lookup)
    assert cert.title == TITLE and asked == []
    compute_certificate(pyevm.reader, LogReader(pyevm.w3), pyevm.deployment, registered.asset_id, None, now=ISSUED,
                        manifests=lookup)
    assert asked == [registered.manifest.hash_hex]


def test_an_altered_stored_copy_is_refused(pyevm: Chain, registered: Registered, database: Database) -> None:
    manifest = registered.manifest
    document = manifest.to_json_data()
    document["title"] = "A title nobody registered"
    store(database, manifest, document=document)
    with pytest.raises(CertificateError) as caught:
        issue_looked_up(pyevm, registered, database)
    error = caught.value
    assert error.kind == ErrorKind.CONFLICT and error.options == ("manifest",)
    assert f"keeps under hash {manifest.hash_hex} hashes to 0x" in error.message
    assert "the stored copy was altered" in error.hint


def test_a_stored_copy_that_is_no_manifest_is_refused(database: Database, tmp_path: Path) -> None:
    manifest = seal_manifest(tmp_path)
    store(database, manifest, document={"kind": "something else"})
    with pytest.raises(CertificateError) as caught:
        get_stored_manifest(database, manifest.hash_hex)
    assert caught.value.kind == ErrorKind.CONFLICT
    assert f"keeps under hash {manifest.hash_hex} is not a manifest (" in caught.value.message


def test_a_stored_manifest_of_other_data_is_refused(
        pyevm: Chain, database: Database, tmp_path: Path) -> None:
    """A registrant who registered the hash of a manifest describing other data: the lookup finds it by its hash,
    and the root it describes is not the asset's."""
    manifest = seal_manifest(tmp_path)
    registered = register(pyevm, manifest)
    other = seal_manifest(tmp_path)
    forged = pyevm.as_(pyevm.owner).registry  # the same manifest hash over another root
    record = forged.register(Registration(bytes.fromhex(other.tree.root[2:]), manifest.hash, 1, 0))
    store(database, manifest)
    assert issue_looked_up(pyevm, registered, database).title == TITLE
    with pytest.raises(CertificateError) as caught:
        issue_looked_up(pyevm, Registered(manifest, record), database)
    assert caught.value.kind == ErrorKind.CONFLICT
    assert f"registered manifest describes root {manifest.tree.root}, but the asset's content root is" in \
        caught.value.message
