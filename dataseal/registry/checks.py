"""Checking a dataseal document offline: what it is, what was checked, and what was not.

A front door (``dataseal check``, the HTTP API) hands :func:`check_document` the JSON data of a
document, or :func:`check_document_file` a file, with the root it expects (e.g. the content root
registered on chain), and renders what comes back:

- a proof: its value gives its leaf, its disclosed row (if any) gives its value, and its
  siblings lead to its root (and to the expected root when one is given);
- an evidence bundle: the manifest hash, that the record registers this manifest and root,
  batch membership, and every proof (:func:`dataseal.registry.evidence.compute_bundle_report`);
- a manifest: read strictly, so that its hash is the hash of the file;
- a tree dump (standard-v1, the ``tree.json`` that sealing writes): every value and every node.

Every check passed when a :class:`CheckReport` comes back; the first failure raises its typed
error instead (:class:`~dataseal.registry.merkle.ProofError` for a Merkle mismatch,
:class:`~dataseal.registry.evidence.EvidenceError`,
:class:`~dataseal.registry.manifest.ManifestError`,
:class:`~dataseal.registry.merkle.TreeDumpError`). The chain itself is not consulted: what
needs it is listed in the report's ``not_checked``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Final, Literal

from dataseal.registry.evidence import (
    ChunkSubject,
    EvidenceBundle,
    EvidenceError,
    Proof,
    compute_bundle_report,
    describe_subject,
    load_document,
    verify_proof_document,
)
from dataseal.registry.manifest import Hash32, Manifest, ManifestError, Model, read_json
from dataseal.registry.merkle import ProofError, StandardMerkleTree, TreeDumpError, to_hash

DocumentKind = Literal["proof", "evidence", "manifest", "tree"]
#: The most bytes :func:`check_document_file` reads: a tree dump is the largest document (about 200 bytes a
#: leaf: a file of the most chunks sealing allows, or a table of a million rows, stays below it).
MAX_CHECKED_FILE_BYTES: Final = 256 << 20


class Unchecked(Model):
    """Something a check did not cover, and the options (settings, call parameters) that would cover it."""

    what: str
    options: tuple[str, ...] = ()


class CheckReport(Model):
    """What :func:`check_document` found: the kind of document, its root, and what was (not) checked."""

    ok: Literal[True] = True
    kind: DocumentKind
    root: Hash32
    subject: str | None = None
    """For a proof: the part it proves ("row 42", "chunk 3 (bytes ...)", "file 'a.txt' (12 bytes)")."""
    checked: tuple[str, ...]
    not_checked: tuple[Unchecked, ...] = ()


def check_document(data: Any, *, root: bytes | str | None = None, where: str = "document") -> CheckReport:
    """Check the JSON data of a proof, bundle, manifest or tree dump (see the module doc).

    With ``root`` (bytes or 0x-hex), also require the document to be for that root. ``where``
    names the document in messages (a file name).
    """
    expected = _expected_root(root)
    if is_tree_dump(data):
        return _check_tree_dump(data, expected)
    return check_loaded(load_document(data, where=where), expected)


def check_loaded(document: Proof | EvidenceBundle | Manifest, root: bytes | str | None = None) -> CheckReport:
    """:func:`check_document` of a document already loaded (:func:`~dataseal.registry.evidence.load_document`)."""
    expected = _expected_root(root)
    if isinstance(document, Proof):
        verify_proof_document(document, root=expected)
        # Only what the leaf value and the siblings vouch for: a chunk's index is in its leaf, its byte range
        # (index × the manifest's chunk size, length from the file's size) is not, so it is not called checked.
        subject = describe_subject(document, byte_range=False)
        not_checked = [] if expected else [Unchecked(what="that this root is the registered one", options=("root",))]
        if isinstance(document.subject, ChunkSubject):
            chunk = document.subject
            not_checked.append(Unchecked(
                what=f"that chunk {chunk.index} is bytes {chunk.offset}..{chunk.offset + chunk.length - 1}, as the "
                "proof says (the range follows from the manifest's chunk size and file size: check an evidence "
                "bundle, which holds the manifest)"
            ))
        return CheckReport(
            kind="proof",
            root=document.root,
            subject=subject,
            checked=(f"{subject} is in the tree with root {document.root}",),
            not_checked=tuple(not_checked),
        )
    if isinstance(document, EvidenceBundle):
        bundle_root = document.manifest.tree.root
        if expected is not None and expected != bundle_root:
            raise EvidenceError(f"the bundle is for root {bundle_root}, expected {expected}",
                                hint="check the expected root, or get the bundle of the data registered under it",
                                options=("root",))
        outcome = compute_bundle_report(document)
        return CheckReport(
            kind="evidence",
            root=bundle_root,
            checked=tuple(outcome.checked),
            not_checked=tuple(Unchecked(what=line) for line in outcome.not_checked),
        )
    if expected is not None and expected != document.tree.root:
        raise ManifestError(f"the manifest is for root {document.tree.root}, expected {expected}",
                            hint="check the expected root, or use the manifest of the data registered under it",
                            options=("root",))
    return CheckReport(kind="manifest", root=document.tree.root, checked=(f"valid manifest, hash {document.hash_hex}",))


def check_document_file(path: Path, *, root: bytes | str | None = None) -> CheckReport:
    """:func:`check_document` of a JSON file (:class:`EvidenceError` when it is missing or not JSON)."""
    data = read_json(path, "document", EvidenceError, limit=MAX_CHECKED_FILE_BYTES)
    return check_document(data, root=root, where=str(path))


def is_tree_dump(data: Any) -> bool:
    """Whether JSON data is a tree dump (it has a ``format`` and no ``kind``) rather than a dataseal document."""
    return isinstance(data, dict) and data.get("format") is not None and "kind" not in data


def _expected_root(root: bytes | str | None) -> str | None:
    if root is None:
        return None
    try:
        return "0x" + to_hash(root, "the expected root").hex()
    except ProofError as exc:
        raise ProofError(exc.message, hint=exc.hint, options=("root",)) from None


def _check_tree_dump(data: dict[str, Any], expected: str | None) -> CheckReport:
    tree = StandardMerkleTree.load(data)
    if expected is not None and expected != tree.root_hex:
        raise TreeDumpError(f"the tree dump's root is {tree.root_hex}, expected {expected}",
                            hint="check the expected root, or use the tree dump of the data registered under it",
                            options=("root",))
    return CheckReport(
        kind="tree",
        root=tree.root_hex,
        checked=(f"{len(tree)} values and all {2 * len(tree) - 1} nodes of the standard-v1 tree",),
    )
