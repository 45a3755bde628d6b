"""Where the registry keeps what it sealed or was given: the compact stored trees (``<data_dir>/trees``, served as
proofs) and copies of the manifests (``<data_dir>/manifests``), with their rows in the registry database."""
from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from dataseal.chain.files import write_atomic
from dataseal.registry.db.models.local import ManifestRecord, StoredTreeRecord
from dataseal.registry.manifest import Manifest, load_manifest
from dataseal.registry.merkle.stored import write_stored_tree
from dataseal.registry.registry import Registry

TREES_DIRNAME = "trees"  # <data_dir>/trees/<root>.dstree
MANIFESTS_DIRNAME = "manifests"  # <data_dir>/manifests/<manifest hash>.json: every manifest registered or replaced


def stored_tree_path(data_dir: Path, root: str) -> Path:
    """Where the registry keeps the compact tree of ``root``: ``<data_dir>/trees/<root>.dstree``."""
    return Path(data_dir) / TREES_DIRNAME / f"{root}.dstree"


def write_tree(trees: Path, root: str, nodes: bytes | bytearray, leaf_count: int) -> Path:
    """Write the compact tree of ``root`` (its node buffer) into the folder ``trees``; its path."""
    trees.mkdir(parents=True, exist_ok=True)
    target = trees / f"{root}.dstree"
    write_stored_tree(target, nodes, leaf_count)
    return target


def archive(data_dir: Path, manifest: Manifest) -> Path:
    """Keep a copy of ``manifest`` in ``<data_dir>/manifests/`` (a seal's manifest is replaced only once copied)."""
    folder = data_dir / MANIFESTS_DIRNAME
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{manifest.hash_hex}.json"
    if not target.exists():
        write_atomic(target, manifest.to_text().encode("utf-8"), mode=0o644)
    return target


def record_tree(registry: Registry, manifest: Manifest, path: Path) -> Path:
    """Record in the registry database where the stored tree of ``manifest``'s root is (``path``)."""
    relative = path.relative_to(registry.data_dir) if path.is_relative_to(registry.data_dir) else path
    with registry.db.session() as session:
        row = session.exec(select(StoredTreeRecord).where(
            StoredTreeRecord.content_root == manifest.tree.root)).first()
        if row is None:
            row = StoredTreeRecord(content_root=manifest.tree.root, leaf_count=manifest.tree.leaf_count,
                                   path=str(relative), size=path.stat().st_size)
        row.path, row.size = str(relative), path.stat().st_size
        session.add(row)
    return path


def record_manifest(registry: Registry, manifest: Manifest, *, chain_id: int | None, asset_id: int | None,
                    data_path: Path | None = None) -> Path:
    """Keep a copy of ``manifest`` (:func:`archive`) and record it in the registry database with the registration it
    describes, and the data's path when this registry sealed it (None: a client's manifest, the data elsewhere)."""
    copy = archive(registry.data_dir, manifest)
    with registry.db.session() as session:
        row = session.exec(select(ManifestRecord).where(ManifestRecord.manifest_hash == manifest.hash_hex)).first()
        if row is None:
            row = ManifestRecord(manifest_hash=manifest.hash_hex, content_root=manifest.tree.root,
                                 kind=manifest.content.kind, name=manifest.content.name, title=manifest.title,
                                 data_path=str(data_path) if data_path is not None else "",
                                 manifest_path=str(copy), manifest=manifest.to_json_data())
        row.chain_id, row.asset_id = chain_id, asset_id
        if data_path is not None:
            row.data_path = str(data_path)
        session.add(row)
    return copy


def recorded_manifest(registry: Registry, manifest_hash: str) -> Manifest | None:
    with registry.db.session() as session:
        row = session.exec(select(ManifestRecord).where(ManifestRecord.manifest_hash == manifest_hash)).first()
    return load_manifest(row.manifest, where=f"the registry's manifest {manifest_hash}") if row else None
