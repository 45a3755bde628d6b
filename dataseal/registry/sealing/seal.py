"""Sealing a file, folder or table into a manifest and a tree dump, and proving its parts.

``seal(path, ...)`` writes two files into the output folder (default ``<name>.dataseal/`` beside
the data), both written completely before either replaces an old version:

- ``tree.json`` — the standard-v1 dump (``StandardMerkleTree.load`` of @openzeppelin/merkle-tree
  reads it; so does ``dataseal check``);
- ``manifest.json`` — the manifest, whose hash goes on chain with the root.

How the tree is built is one :class:`~dataseal.registry.sealing.options.SealOptions` value, built
and checked once by the caller and passed on to every layer (``seal`` → ``compute_tree`` → the
reader of a file, folder or table).

``prove(path, manifest, ...)`` recomputes the tree from the data with the manifest's parameters
requires the same root (so a proof always matches what was sealed, and changed data is caught),
and returns a :class:`dataseal.registry.evidence.Proof` of one chunk, row or file.

Leaves are kept in data order (``sortLeaves: false``): leaf ``i`` is chunk/row/file ``i``, and a
table's tree is built as a stream without sorting millions of hashes. To rebuild a root with
@openzeppelin/merkle-tree: ``StandardMerkleTree.of(values, leafEncoding, { sortLeaves: false })``.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from dataseal.chain.files import FileRefused, check_output
from dataseal.errors import ErrorKind
from dataseal.registry.evidence import ChunkSubject, FileSubject, Proof, RowSubject
from dataseal.registry.manifest import (
    FileContent,
    FolderContent,
    Manifest,
    ManifestMetadata,
    SaltInfo,
    SkippedFile,
    TableContent,
    TreeInfo,
    build_manifest,
)
from dataseal.registry.merkle import STANDARD_V1, StandardMerkleTree, compute_leaf_hash
from dataseal.registry.merkle.digests import IndexedDigestTree, IndexedDigestTreeBuilder
from dataseal.registry.sealing import folders, tables
from dataseal.registry.sealing.atomic import StagedFiles
from dataseal.registry.sealing.errors import InputChangedError, SealError, SecretError
from dataseal.registry.sealing.files import ProgressCallback, hash_chunks
from dataseal.registry.sealing.options import SealOptions

MANIFEST_NAME = "manifest.json"
TREE_NAME = "tree.json"

FILE_LEAF = "(uint256 chunkIndex, bytes32 sha256(chunk bytes))"
FOLDER_LEAF = "(string relativePosixPath, uint256 sizeInBytes, bytes32 sha256(file bytes))"
TABLE_LEAF = "(uint256 rowIndex, bytes32 rowDigest)"
FOLDER_ORDER = "relative POSIX paths sorted by their UTF-8 bytes"
_DIGEST_BLOCK = 1 << 15  # chunk digests handed to the tree builder at a time

ContentSection = FileContent | FolderContent | TableContent


class SealedTree(Protocol):
    """What sealing needs of a tree (StandardMerkleTree and IndexedDigestTree both are)."""

    @property
    def leaf_encoding(self) -> tuple[str, ...]: ...

    @property
    def root(self) -> bytes: ...

    @property
    def root_hex(self) -> str: ...

    def __len__(self) -> int: ...

    def at(self, index: int) -> tuple[Any, ...]: ...

    def get_proof(self, index: int) -> list[bytes]: ...

    def write_dump(self, out: IO[str], progress: Callable[[int, int], None] | None = None) -> None: ...


@dataclass
class ComputedTree:
    """A tree computed from data, with its manifest content section. Close it when done."""

    tree: SealedTree
    content: ContentSection
    captured_rows: dict[int, tuple[str, bytes | None]] = field(default_factory=dict)

    def close(self) -> None:
        if isinstance(self.tree, IndexedDigestTree):
            self.tree.close()

    def __enter__(self) -> ComputedTree:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class SealResult:
    manifest: Manifest
    manifest_path: Path
    tree_path: Path

    @property
    def root(self) -> str:
        return self.manifest.tree.root

    @property
    def leaf_count(self) -> int:
        return self.manifest.tree.leaf_count

    @property
    def manifest_hash(self) -> str:
        return self.manifest.hash_hex


def default_output_dir(path: Path) -> Path:
    """Where ``seal`` writes by default: ``<name>.dataseal`` beside the data."""
    path = Path(os.path.abspath(path))
    return path.parent / f"{path.name}.dataseal"


def seal(
    path: Path,
    options: SealOptions | None = None,
    *,
    metadata: ManifestMetadata | None = None,
    out_dir: Path | None = None,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    replace: bool = False,
) -> SealResult:
    """Seal ``path`` (a folder, a table when ``options.rows``, else a file) and write manifest and tree dump.

    ``options`` default to ``SealOptions()``; ``metadata`` is what the owner says about the data;
    ``out_dir`` defaults to :func:`default_output_dir`; ``workers`` is the number of hashing threads.
    An earlier seal's manifest and tree dump in ``out_dir`` are replaced only with ``replace`` (the
    manifest may be the registered one, and a salted table's rows cannot be proved without it);
    what may be written at all is :func:`dataseal.chain.files.check_output`'s rule, checked before
    the data is read.
    """
    path = Path(path)
    options = options if options is not None else SealOptions()
    out = Path(out_dir) if out_dir is not None else default_output_dir(path)
    if not os.path.lexists(path):
        raise SealError(f"{path} does not exist", hint="check the path", kind=ErrorKind.NOT_FOUND)
    if path.is_dir():
        real_out, real_path = Path(os.path.realpath(out)), Path(os.path.realpath(path))
        if real_out == real_path or real_path in real_out.parents:
            raise SealError(
                f"the output folder {out} is inside the folder being sealed ({path})",
                hint="choose an output folder outside it",
                options=("out_dir",),
            )
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SealError(f"cannot create the output folder {out}: {exc.strerror or exc}",
                        hint="choose another output folder, or check that you may write in its parent",
                        options=("out_dir",)) from None
    try:
        for target in (out / MANIFEST_NAME, out / TREE_NAME):
            try:
                check_output(target, replace=replace, options=("out_dir",))
            except FileRefused as exc:
                raise SealError(exc.message, hint=exc.hint, options=exc.options, kind=exc.kind) from None
        with _os_errors(f"sealing {path}"):
            return _seal_into(out, path, options, metadata, workers, progress, replace)
    except BaseException:
        if created:
            # A failed seal leaves nothing behind: the folder we made for it goes (only if empty).
            try:
                out.rmdir()
            except OSError:
                pass
        raise


def _seal_into(
    out: Path,
    path: Path,
    options: SealOptions,
    metadata: ManifestMetadata | None,
    workers: int | None,
    progress: ProgressCallback | None,
    replace: bool,
) -> SealResult:
    with compute_tree(path, options, workers=workers, temp_dir=out, progress=progress) as computed:
        manifest = build_manifest(metadata or ManifestMetadata(), computed.content, tree_info(computed))
        manifest_path, tree_path = out / MANIFEST_NAME, out / TREE_NAME
        write_progress = None if progress is None else (lambda done, total: progress("write", done, total))
        with StagedFiles(replace=replace, options=("out_dir",)) as stage:
            with stage.open(tree_path) as f:
                computed.tree.write_dump(f, write_progress)
            with stage.open(manifest_path) as f:
                f.write(manifest.to_text())
            stage.commit()
    return SealResult(manifest=manifest, manifest_path=manifest_path, tree_path=tree_path)


def compute_tree(
    path: Path,
    options: SealOptions | None = None,
    *,
    capture_row: int | None = None,
    workers: int | None = None,
    temp_dir: Path | None = None,
    progress: ProgressCallback | None = None,
) -> ComputedTree:
    """The tree of ``path`` and the manifest's content section, without writing anything.

    Salted rows use the options' ``salt_nonce`` (a manifest's ``salt.nonce``, to recompute its
    tree), or a fresh random nonce when it is None. ``capture_row`` keeps that row's text and salt
    (for a proof); the tree's temporary files go to ``temp_dir``.
    """
    with _os_errors(f"computing the tree of {path}"):
        return _compute_tree(Path(path), options if options is not None else SealOptions(), capture_row, workers,
                             temp_dir, progress)


def _compute_tree(
    path: Path,
    options: SealOptions,
    capture_row: int | None,
    workers: int | None,
    temp_dir: Path | None,
    progress: ProgressCallback | None,
) -> ComputedTree:
    if path.is_dir():
        if options.rows:
            raise SealError(
                f"{path} is a folder; only a table file (CSV, JSON Lines, Parquet) is sealed by its rows",
                hint="seal the folder without rows (one leaf per file), or one table file of it",
                options=("rows",),
            )
        listing = folders.list_folder(path, symlinks=options.symlinks, special=options.special)
        entries = folders.hash_folder(listing, path, workers=workers, progress=progress)
        tree = StandardMerkleTree.of(
            [(e.path, e.size, e.sha256) for e in entries], folders.LEAF_ENCODING, sort_leaves=False
        )
        return ComputedTree(tree, FolderContent(
            kind="folder",
            name=_name(path),
            size=sum(e.size for e in entries),
            file_count=len(entries),
            order=FOLDER_ORDER,
            symlinks=options.symlinks,
            special=options.special,
            skipped=tuple(SkippedFile(path=s.path, reason=s.reason) for s in listing.skipped),
        ))
    if options.rows:
        sealed = tables.seal_rows(
            path,
            options,
            capture=frozenset() if capture_row is None else frozenset({capture_row}),
            temp_dir=temp_dir,
            progress=progress,
        )
        content = TableContent(
            kind="table",
            name=_name(path),
            size=sealed.size,
            format=sealed.format,
            row_count=len(sealed.tree),
            columns=tuple(sealed.columns) if sealed.columns is not None else None,
            canonicalization=tables.CANONICALIZATION[sealed.format],
            row_digest=tables.ROW_DIGEST[sealed.salted],
            salt=(
                SaltInfo(scheme=tables.SALT_SCHEME, nonce="0x" + sealed.salt_nonce.hex(), context=options.salt_context)
                if sealed.salt_nonce is not None
                else None
            ),
        )
        return ComputedTree(sealed.tree, content, sealed.captured)
    chunks = hash_chunks(path, options.chunk_size, workers=workers, progress=progress)
    with IndexedDigestTreeBuilder(temp_dir) as builder:
        digests = chunks.digests
        for start in range(0, len(digests), _DIGEST_BLOCK):
            builder.add_many(b"".join(digests[start : start + _DIGEST_BLOCK]))
        digest_tree = builder.finish()
    return ComputedTree(
        digest_tree, FileContent(kind="file", name=_name(path), size=chunks.size, chunk_size=options.chunk_size)
    )


def tree_info(computed: ComputedTree) -> TreeInfo:
    """The manifest's tree section."""
    leaf = {"file": FILE_LEAF, "folder": FOLDER_LEAF, "table": TABLE_LEAF}[computed.content.kind]
    return TreeInfo(
        format=STANDARD_V1,
        leaf_encoding=tuple(computed.tree.leaf_encoding),
        sort_leaves=False,
        leaf_count=len(computed.tree),
        root=computed.tree.root_hex,
        leaf=leaf,
    )


# ---------------------------------------------------------------------- proving


def prove(
    path: Path,
    manifest: Manifest,
    *,
    chunk: int | None = None,
    row: int | None = None,
    file: str | None = None,
    secret: bytes | None = None,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> Proof:
    """A proof of one chunk, row or file of ``path``, which must still be what ``manifest`` sealed."""
    path = Path(path)
    content = manifest.content
    _check_request(path, content, chunk=chunk, row=row, file=file, secret=secret)
    options = manifest_options(manifest, secret=secret)
    with _os_errors(f"proving from {path}"), compute_tree(
        path, options, capture_row=row, workers=workers, progress=progress
    ) as computed:
        tree = computed.tree
        if tree.root_hex != manifest.tree.root:
            salted = isinstance(content, TableContent) and content.salt is not None
            why = "the salt secret is not the one it was sealed with, or the table changed" if salted else (
                "it changed since it was sealed"
            )
            raise InputChangedError(
                f"{path} no longer matches its manifest: root expected {manifest.tree.root}, computed "
                f"{tree.root_hex} ({why})",
                hint=("give the salt secret it was sealed with; if the table changed, " if salted else "")
                + "prove from the sealed version of the data, or seal it again",
                options=("salt_secret",) if salted else (),
            )
        index, subject = _subject(path, computed, chunk=chunk, row=row, file=file)
        value = tree.at(index)
        return Proof(
            root=tree.root_hex,
            leaf_encoding=tuple(tree.leaf_encoding),
            value=tuple(_json_value(v) for v in value),
            leaf="0x" + compute_leaf_hash(tree.leaf_encoding, value).hex(),
            proof=tuple("0x" + p.hex() for p in tree.get_proof(index)),
            subject=subject,
            manifest_hash=manifest.hash_hex,
        )


def manifest_options(manifest: Manifest, *, secret: bytes | None = None) -> SealOptions:
    """The options that recompute ``manifest``'s tree from its data (its salted rows with ``secret``)."""
    content = manifest.content
    if isinstance(content, FileContent):
        return SealOptions(chunk_size=content.chunk_size)
    if isinstance(content, FolderContent):
        return SealOptions(symlinks=content.symlinks, special=content.special)
    salt = content.salt
    return SealOptions(
        rows=True,
        table_format=content.format,
        secret=secret,
        salt_nonce=bytes.fromhex(salt.nonce[2:]) if salt is not None else None,
        salt_context=salt.context if salt is not None else "",
    )


#: content kind -> the part a proof is of (also the name of the parameter that names it), and the words for it
_PARTS = {
    "file": ("chunk", "a file (chunks)"), "table": ("row", "a table (rows)"), "folder": ("file", "a folder (files)")
}


def _check_request(
    path: Path, content: ContentSection, *, chunk: int | None, row: int | None, file: str | None, secret: bytes | None
) -> None:
    asked = {name: value for name, value in (("chunk", chunk), ("row", row), ("file", file)) if value is not None}
    part, sealed_as = _PARTS[content.kind]
    if list(asked) != [part]:
        got = ", ".join(f"{name} {value!r}" if name == "file" else f"{name} {value}" for name, value in asked.items())
        raise SealError(
            f"{path} was sealed as {sealed_as}: a proof is of one {part}" + (f" (asked for {got})" if asked else ""),
            hint=f"name only the {part} to prove" if part in asked else (
                f"say which {part} to prove" + (", by its path relative to the folder" if part == "file" else "")
            ),
            options=(part,),
        )
    if isinstance(content, TableContent):
        assert row is not None
        if content.salt is not None and secret is None:
            raise SecretError(f"{path} was sealed with per-row salts",
                              hint="give the same salt secret it was sealed with, to prove a row",
                              options=("salt_secret",))
        if content.salt is None and secret is not None:
            raise SecretError(f"{path} was sealed without salts", hint="leave out the salt secret",
                              options=("salt_secret",))
        if not 0 <= row < content.row_count:
            raise SealError(
                f"{path} has {content.row_count} rows; row {row} does not exist",
                hint=f"give a row from 0 (the first data row) to {content.row_count - 1}",
                options=("row",), kind=ErrorKind.NOT_FOUND,
            )
    if isinstance(content, FileContent):
        assert chunk is not None
        chunks = -(-content.size // content.chunk_size)
        if not 0 <= chunk < chunks:
            raise SealError(f"{path} has {chunks} chunks; chunk {chunk} does not exist",
                            hint=f"give a chunk from 0 to {chunks - 1}", options=("chunk",), kind=ErrorKind.NOT_FOUND)


def _subject(
    path: Path, computed: ComputedTree, *, chunk: int | None, row: int | None, file: str | None
) -> tuple[int, ChunkSubject | RowSubject | FileSubject]:
    content = computed.content
    if isinstance(content, FileContent):
        assert chunk is not None
        offset = chunk * content.chunk_size
        return chunk, ChunkSubject(
            kind="chunk", index=chunk, offset=offset, length=min(content.chunk_size, content.size - offset)
        )
    if isinstance(content, TableContent):
        assert row is not None
        text, salt = computed.captured_rows[row]
        return row, RowSubject(kind="row", index=row, row=text, salt=None if salt is None else "0x" + salt.hex())
    assert file is not None and isinstance(computed.tree, StandardMerkleTree)
    wanted = file.strip("/")
    for i, value in computed.tree.entries():
        if value[0] == wanted:
            return i, FileSubject(kind="file", path=wanted, size=value[1])
    raise SealError(
        f"{wanted!r} is not a file of the sealed folder {path}",
        hint="give its path relative to the folder, with / separators (the tree dump, tree.json, lists every path)",
        options=("file",), kind=ErrorKind.NOT_FOUND,
    )


@contextmanager
def _os_errors(doing: str) -> Iterator[None]:
    """An OSError that no reader turned into a SealError (the tree's temporary files on a full disk, an I/O
    error) as one: no untyped exception leaves sealing."""
    try:
        yield
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise SealError(
            f"{doing} failed: {exc.strerror or exc}{where}",
            hint="check the disk (free space, permissions) and try again",
            kind=ErrorKind.INVALID_INPUT if isinstance(exc, PermissionError) else ErrorKind.UNAVAILABLE,
        ) from exc


def _json_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _name(path: Path) -> str:
    return Path(os.path.abspath(path)).name
