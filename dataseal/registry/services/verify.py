"""Is this data a registered asset? The chain answers, not the database.

:func:`verify` seals the data the way its manifest says (the one given, the seal beside the data, the
manifests this registry recorded for data of that kind and name, or else the defaults) and asks the
AssetRegistry which registration holds each root it computes. When none does, it looks for the nearest
registered version: among the recorded manifests of the same kind and name whose root the chain shows
registered, the one whose stored tree (``trees/<root>.dstree``) differs from the data in the fewest leaves,
and names those leaves: the chunks of a file, the rows of a table, the files of a folder.

The database only suggests candidates (how earlier versions were sealed, and where their trees are); whether
any of them is registered, by whom and in which status, is read from the chain.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import select

from dataseal.chain.contracts.deployed import DatasealContracts
from dataseal.errors import ErrorKind
from dataseal.registry.db.models.local import ManifestRecord, StoredTreeRecord
from dataseal.registry.manifest import (
    FileContent,
    FolderContent,
    Manifest,
    ManifestError,
    TableContent,
    load_manifest,
    read_manifest,
)
from dataseal.registry.merkle.core import leaf_tree_index
from dataseal.registry.merkle.digests import IndexedDigestTreeBuilder
from dataseal.registry.merkle.stored import StoredTree
from dataseal.registry.registry import Registry
from dataseal.registry.sealing import EmptyInputError, ProgressCallback, SealError, SealOptions
from dataseal.registry.sealing.files import ChunkDigests
from dataseal.registry.sealing.options import MAX_FILE_CHUNKS, check_chunk_size
from dataseal.registry.sealing.seal import (
    MANIFEST_NAME,
    ComputedTree,
    compute_tree,
    default_output_dir,
    manifest_options,
)
from dataseal.registry.services.assets import status_name

#: Recorded manifests of the same kind and name tried as candidates, newest first.
MAX_CANDIDATES = 10
#: Differing parts named in a report (the counts are always whole).
MAX_LISTED = 100
PART_NAMES = {"file": "chunk", "table": "row", "folder": "file"}


@dataclass(frozen=True)
class Differences:
    """How data differs from a registered version's tree: ``changed`` names the first differing parts (indexes of
    chunks or rows, paths of files), ``changed_count`` counts them all; ``added`` / ``removed`` count the parts
    only the data, or only the version, has (a folder's changed file counts as one of each: a folder's leaves are
    matched by content, not position)."""

    part: str
    changed: tuple[int | str, ...]
    changed_count: int
    added: int
    removed: int

    @property
    def total(self) -> int:
        return self.changed_count + self.added + self.removed

    def to_json(self) -> dict[str, Any]:
        return {"part": self.part, "changed": list(self.changed), "changed_count": self.changed_count,
                "added": self.added, "removed": self.removed}


@dataclass(frozen=True)
class NearestVersion:
    """The registered version closest to the data, as the chain records it."""

    asset_id: int
    content_root: str
    manifest_hash: str
    status: str
    owner: str
    differences: Differences

    def to_json(self) -> dict[str, Any]:
        return {"asset_id": self.asset_id, "content_root": self.content_root, "manifest_hash": self.manifest_hash,
                "status": self.status, "owner": self.owner, "differences": self.differences.to_json()}


@dataclass(frozen=True)
class VerifyReport:
    """What :func:`verify` found. ``registered``: the data's root is held by asset ``asset_id`` (status and
    owner as the chain says now); else ``nearest``, when a registered version of it is known."""

    path: Path
    kind: str
    content_root: str
    leaf_count: int
    chain_id: int
    registered: bool
    sealed_as: str
    asset_id: int | None = None
    status: str | None = None
    owner: str | None = None
    manifest_hash: str | None = None
    nearest: NearestVersion | None = None
    skipped: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "kind": self.kind, "content_root": self.content_root,
                "leaf_count": self.leaf_count, "chain_id": self.chain_id, "registered": self.registered,
                "sealed_as": self.sealed_as, "asset_id": self.asset_id, "status": self.status, "owner": self.owner,
                "manifest_hash": self.manifest_hash,
                "nearest": self.nearest.to_json() if self.nearest is not None else None,
                "skipped": list(self.skipped)}


@dataclass
class _Computed:
    manifest: Manifest | None
    recipe: str
    root: str
    leaves: list[bytes]
    paths: list[str] | None
    kind: str


def verify(
    registry: Registry,
    path: Path,
    *,
    manifest: Manifest | Path | None = None,
    salt_secret: bytes | None = None,
    options: SealOptions | None = None,
    progress: ProgressCallback | None = None,
) -> VerifyReport:
    """Whether the data at ``path`` is exactly a registered asset (see the module documentation).

    ``manifest`` (a manifest or its file) says how to seal it; ``salt_secret`` recomputes a salted table;
    ``options`` seal it when no manifest is known.
    """
    path = Path(path)
    if not os.path.lexists(path):
        raise SealError(f"{path} does not exist", hint="check the path", kind=ErrorKind.NOT_FOUND)
    given = read_manifest(manifest) if isinstance(manifest, Path) else manifest
    contracts = registry.context.contracts()
    chain_id = contracts.deployment.chain_id
    candidates: list[Manifest] = [given] if given is not None else _candidates(registry, path)
    computed: dict[str, _Computed] = {}
    skipped: list[str] = []
    tried: list[Manifest | None] = [*candidates] or [None]
    for candidate in tried:
        try:
            opts = manifest_options(candidate, secret=salt_secret) if candidate is not None else \
                (options or (SealOptions(rows=True, secret=salt_secret) if salt_secret else SealOptions()))
        except SealError as exc:
            skipped.append(f"manifest {candidate.hash_hex if candidate else ''}: {exc.message}")
            continue
        recipe = _recipe(opts)
        if recipe in computed:
            continue
        if candidate is not None and _kind_of(path, opts) != candidate.content.kind:
            skipped.append(f"manifest {candidate.hash_hex} seals a {candidate.content.kind}, {path} is not one")
            continue
        with compute_tree(path, opts, progress=progress) as tree:
            computed[recipe] = _leaves_of(tree, candidate, recipe)
        found = computed[recipe]
        holder = contracts.registry.asset_id_of(bytes.fromhex(found.root[2:]))
        if holder is not None:
            asset = contracts.registry.asset(holder)
            return VerifyReport(path, found.kind, found.root, len(found.leaves), chain_id, True, recipe, holder,
                                status_name(asset.status), asset.owner, "0x" + asset.manifest_hash.hex(),
                                skipped=tuple(skipped))
    if not computed:
        raise SealError(f"{path} could not be sealed the way any known manifest of it says: {'; '.join(skipped)}",
                        hint="give the salt secret of a salted table, or the manifest it was sealed with",
                        options=("salt_secret", "manifest"))
    first = next(iter(computed.values()))
    nearest = _nearest(registry, contracts, candidates, computed)
    return VerifyReport(path, first.kind, first.root, len(first.leaves), chain_id, False, first.recipe,
                        nearest=nearest, skipped=tuple(skipped))


def _kind_of(path: Path, options: SealOptions) -> str:
    return "folder" if path.is_dir() else ("table" if options.rows else "file")


def _recipe(options: SealOptions) -> str:
    """How a tree is built, in words (the secret left out)."""
    if options.rows:
        salted = f", salted (nonce 0x{options.salt_nonce.hex()})" if options.salt_nonce else \
            (", salted" if options.secret else "")
        return f"table rows ({options.table_format or 'format from the extension'}{salted})"
    return f"chunks of {options.chunk_size} bytes, or a folder's files (symlinks {options.symlinks})"


def _candidates(registry: Registry, path: Path) -> list[Manifest]:
    """Manifests that may say how ``path`` was sealed: its seal beside it, then the recorded ones of its name."""
    found: list[Manifest] = []
    beside = default_output_dir(path) / MANIFEST_NAME
    if beside.exists():
        try:
            found.append(read_manifest(beside))
        except ManifestError:
            pass
    name = Path(os.path.abspath(path)).name
    with registry.db.session() as session:
        rows = session.exec(select(ManifestRecord).where(ManifestRecord.name == name)
                            .order_by(ManifestRecord.id.desc()).limit(MAX_CANDIDATES)).all()  # type: ignore[union-attr]
    for row in rows:
        manifest = load_manifest(row.manifest, where=f"the registry's manifest {row.manifest_hash}")
        if all(m.hash_hex != manifest.hash_hex for m in found):
            found.append(manifest)
    return found


def _leaves_of(computed: ComputedTree, manifest: Manifest | None, recipe: str) -> _Computed:
    tree = computed.tree
    count = len(tree)
    nodes: bytes = getattr(tree, "nodes")  # noqa: B009 - both tree kinds keep their node buffer
    leaves = [bytes(nodes[32 * leaf_tree_index(count, i):32 * leaf_tree_index(count, i) + 32]) for i in range(count)]
    paths = [str(tree.at(i)[0]) for i in range(count)] if computed.content.kind == "folder" else None
    return _Computed(manifest, recipe, tree.root_hex, leaves, paths, computed.content.kind)


def _nearest(registry: Registry, contracts: DatasealContracts, candidates: Sequence[Manifest],
             computed: dict[str, _Computed]) -> NearestVersion | None:
    best: NearestVersion | None = None
    for candidate in candidates:
        holder = contracts.registry.asset_id_of(bytes.fromhex(candidate.tree.root[2:]))
        if holder is None:
            continue
        tree_file = _stored_tree(registry, candidate.tree.root)
        if tree_file is None:
            continue
        mine = next((c for c in computed.values() if c.manifest is not None
                     and c.manifest.hash_hex == candidate.hash_hex), None)
        mine = mine or next((c for c in computed.values() if c.kind == candidate.content.kind), None)
        if mine is None:
            continue
        with StoredTree.open(tree_file) as stored:
            theirs = [stored.leaf(i) for i in range(stored.leaf_count)]
        differences = _differences(mine, theirs)
        if best is None or differences.total < best.differences.total:
            asset = contracts.registry.asset(holder)
            best = NearestVersion(holder, candidate.tree.root, "0x" + asset.manifest_hash.hex(),
                                  status_name(asset.status), asset.owner, differences)
    return best


def _stored_tree(registry: Registry, root: str) -> Path | None:
    with registry.db.session() as session:
        row = session.exec(select(StoredTreeRecord).where(StoredTreeRecord.content_root == root)).first()
    if row is None:
        return None
    path = Path(row.path)
    path = path if path.is_absolute() else registry.data_dir / path
    return path if path.exists() else None


def _differences(mine: _Computed, theirs: list[bytes]) -> Differences:
    part = PART_NAMES[mine.kind]
    if mine.paths is None:  # chunks and rows: matched by position
        common = min(len(mine.leaves), len(theirs))
        changed = [i for i in range(common) if mine.leaves[i] != theirs[i]]
        return Differences(part, tuple(changed[:MAX_LISTED]), len(changed), max(0, len(mine.leaves) - common),
                           max(0, len(theirs) - common))
    known = set(theirs)
    ours = set(mine.leaves)
    new = [p for p, leaf in zip(mine.paths, mine.leaves, strict=True) if leaf not in known]
    gone = sum(1 for leaf in theirs if leaf not in ours)
    return Differences(part, tuple(new[:MAX_LISTED]), len(new), 0, gone)


#: Recorded manifests of files read, newest first, when looking for candidates of chunk digests without a name.
_UNNAMED_SCAN = 5 * MAX_CANDIDATES


def verify_chunk_digests(registry: Registry, chunks: ChunkDigests, *, name: str | None = None,
                         against: int | None = None) -> VerifyReport:
    """Whether a file whose chunks have these SHA-256 digests (``chunks.chunk_size`` bytes each, the last one
    shorter, ``chunks.size`` bytes in all) is exactly a registered asset, as :func:`verify` answers for a file
    on disk: the data itself need not be here (a client hashed it, or it was hashed as it was uploaded).

    When no registration holds its root, the nearest registered version is looked for among the recorded file
    manifests of the same chunk size: asset ``against``'s alone when it is given and one of them (the file was
    checked against it: what differs from it is what the reader asked), else those named ``name`` (the file's name,
    as sealed) when it is given, else the newest ones. :class:`SealError` when the digests do not fit the size and
    chunk size.
    """
    check_digests_fit(chunks)
    label = name or "the uploaded data"
    recipe = f"chunks of {chunks.chunk_size} bytes"
    with IndexedDigestTreeBuilder() as builder:
        builder.add_many(b"".join(chunks.digests))
        tree = builder.finish()
    with ComputedTree(tree, FileContent(kind="file", name=name or "upload", size=chunks.size,
                                        chunk_size=chunks.chunk_size)) as computed:
        found = _leaves_of(computed, None, recipe)
    contracts = registry.context.contracts()
    chain_id = contracts.deployment.chain_id
    holder = contracts.registry.asset_id_of(bytes.fromhex(found.root[2:]))
    if holder is not None:
        asset = contracts.registry.asset(holder)
        return VerifyReport(Path(label), "file", found.root, len(found.leaves), chain_id, True, recipe, holder,
                            status_name(asset.status), asset.owner, "0x" + asset.manifest_hash.hex())
    candidates: list[Manifest] = []
    if against is not None:
        wanted = "0x" + contracts.registry.asset(against).manifest_hash.hex()
        candidates = _file_candidates(registry, None, chunks.chunk_size, wanted)
    candidates = candidates or _file_candidates(registry, name, chunks.chunk_size)
    nearest = _nearest(registry, contracts, candidates, {recipe: found})
    return VerifyReport(Path(label), "file", found.root, len(found.leaves), chain_id, False, recipe, nearest=nearest)


def check_digests_fit(chunks: ChunkDigests) -> None:
    """:class:`SealError` unless ``chunks`` holds one 32-byte digest for each chunk of its size and chunk size."""
    check_chunk_size(chunks.chunk_size)
    size = chunks.size
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise SealError(f"a size of {size!r} bytes is not a size", hint="give the file's size in bytes",
                        options=("size",))
    if size == 0:
        raise EmptyInputError("the data is empty (0 bytes): there is nothing to verify, a tree needs at least one "
                              "leaf", hint="give the digests of a file that has data", options=("size",))
    expected = -(-size // chunks.chunk_size)
    if expected > MAX_FILE_CHUNKS:
        raise SealError(
            f"{size:,} bytes in chunks of {chunks.chunk_size:,} bytes is {expected:,} chunks, more than the "
            f"{MAX_FILE_CHUNKS:,} a sealed file may have",
            hint=f"use a chunk size of at least {-(-size // MAX_FILE_CHUNKS):,} bytes", options=("chunk_size",))
    if len(chunks.digests) != expected:
        raise SealError(
            f"{len(chunks.digests):,} digests do not fit {size:,} bytes in chunks of {chunks.chunk_size:,} bytes: "
            f"that is {expected:,} chunks, so {expected:,} digests were expected",
            hint="give one SHA-256 digest for each chunk, in order (the last chunk may be shorter), with the size "
            "and chunk size they were computed with", options=("digests", "size", "chunk_size"))
    for index, digest in enumerate(chunks.digests):
        if len(digest) != 32:
            raise SealError(f"digest {index} is {len(digest)} bytes; a SHA-256 digest is 32 bytes",
                            hint="give the SHA-256 digest of each chunk", options=("digests",))


def _file_candidates(registry: Registry, name: str | None, chunk_size: int,
                     manifest_hash: str | None = None) -> list[Manifest]:
    """Recorded manifests of files sealed in chunks of ``chunk_size``: of that ``name``, or that ``manifest_hash``,
    when given, newest first."""
    query = select(ManifestRecord).where(ManifestRecord.kind == "file")
    if name is not None:
        query = query.where(ManifestRecord.name == name)
    if manifest_hash is not None:
        query = query.where(ManifestRecord.manifest_hash == manifest_hash)
    with registry.db.session() as session:
        rows = session.exec(query.order_by(ManifestRecord.id.desc())  # type: ignore[union-attr]
                            .limit(_UNNAMED_SCAN)).all()
    found: list[Manifest] = []
    for row in rows:
        manifest = load_manifest(row.manifest, where=f"the registry's manifest {row.manifest_hash}")
        content = manifest.content
        if isinstance(content, FileContent) and content.chunk_size == chunk_size and \
                all(m.hash_hex != manifest.hash_hex for m in found):
            found.append(manifest)
    return found[:MAX_CANDIDATES]


def describe_content(manifest: Manifest) -> str:
    content = manifest.content
    if isinstance(content, FileContent):
        return f"file of {content.size} bytes in chunks of {content.chunk_size}"
    if isinstance(content, FolderContent):
        return f"folder of {content.file_count} files"
    assert isinstance(content, TableContent)
    return f"{content.format} table of {content.row_count} rows"
