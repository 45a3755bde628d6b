"""Proofs and evidence bundles: the JSON documents a verifier receives.

- :class:`Proof` — one leaf of a sealed tree with its Merkle proof and, for rows, the disclosed
  row text and salt (nothing else of the table). Checkable offline.
- :class:`EvidenceBundle` — a manifest, the on-chain record that registered it, and one or more
  proofs; optionally (:class:`GrantScope`) the proof that a proven row, chunk or file lies inside
  an authorization grant's scope root (a bundle without it is read as before). The Merkle part
  (manifest hash, roots, proofs, batch membership, grant scope) is checked offline by
  :func:`verify_bundle_offline` (:func:`compute_bundle_report` also lists what was checked).
  The chain part is shaped for a check against any RPC endpoint:
  :meth:`ChainRecord.expected_event` names the event and arguments the transaction must have
  emitted, and the block it must be in (that check arrives with the registry).

``verify_*`` functions return None or raise (:class:`ProofError` for Merkle mismatches,
:class:`EvidenceError` for inconsistent documents), with expected and computed values.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import Field, StringConstraints, ValidationError, model_validator

from dataseal.errors import DatasealError
from dataseal.registry.manifest import (
    RIGHTS_BITS,
    FileContent,
    Hash32,
    Manifest,
    ManifestError,
    Model,
    describe_validation_error,
    load_manifest,
    read_json,
)
from dataseal.registry.merkle import ProofError, compute_leaf_hash, to_hash, verify_proof
from dataseal.registry.merkle.errors import MerkleError
from dataseal.registry.scope import ZERO_ROOT, ScopeError, ScopeProof, verify_scope_proof
from dataseal.registry.sealing.options import MAX_CHUNK_SIZE, MAX_CONTENT_SIZE, MAX_FILE_CHUNKS
from dataseal.registry.sealing.tables import row_digest

PROOF_KIND: Final = "dataseal.proof"
BUNDLE_KIND: Final = "dataseal.evidence"
DOCUMENT_VERSION: Final = 1
#: Leaf encoding of an asset record in an anchored batch (AssetRegistry.verifyBatchRecord).
BATCH_RECORD_ENCODING = ("bytes32", "bytes32", "uint8", "uint8")
#: What a proof's subject is, for each kind of sealed content.
SUBJECT_KIND = {"file": "chunk", "table": "row", "folder": "file"}

Address = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{40}$")]
#: What to do about a proof whose parts disagree (it was altered, or made wrong).
_PROVE_AGAIN = "prove the part again from the sealed data, or ask its holder for a new proof"
#: What to do about a bundle whose manifest and record disagree.
_BUNDLE_ONE_REGISTRATION = "bundle the manifest that was registered with the record of that registration"
_THE_FILE_MEANT = "check that this is the file you meant"


class EvidenceError(DatasealError):
    """A proof or bundle document is unreadable, of an unknown kind or version, or inconsistent."""


# ---------------------------------------------------------------------- proofs


class ChunkSubject(Model):
    """Chunk ``index`` of a sealed file: bytes ``[offset, offset + length)``."""

    kind: Literal["chunk"]
    index: int = Field(ge=0, lt=MAX_FILE_CHUNKS)
    offset: int = Field(ge=0, lt=MAX_CONTENT_SIZE)
    length: int = Field(ge=1, le=MAX_CHUNK_SIZE)


class RowSubject(Model):
    """Row ``index`` of a sealed table, disclosed: its canonical text and (when salted) its salt."""

    kind: Literal["row"]
    index: int = Field(ge=0, lt=1 << 64)
    row: str = Field(description="The row's canonical JSON text, exactly as hashed")
    salt: Hash32 | None = None


class FileSubject(Model):
    """A file of a sealed folder."""

    kind: Literal["file"]
    path: str
    size: int = Field(ge=0, le=MAX_CONTENT_SIZE)


Subject = Annotated[ChunkSubject | RowSubject | FileSubject, Field(discriminator="kind")]


class Proof(Model):
    """A Merkle proof of one leaf of a sealed tree (standard-v1)."""

    kind: Literal["dataseal.proof"] = PROOF_KIND
    version: Literal[1] = DOCUMENT_VERSION
    root: Hash32
    leaf_encoding: tuple[str, ...] = Field(min_length=1)
    value: tuple[Any, ...] = Field(description="The leaf value, JSON form (numbers as decimal strings)")
    leaf: Hash32 = Field(description="keccak256(keccak256(abi.encode(value)))")
    proof: tuple[Hash32, ...]
    subject: Subject | None = None
    manifest_hash: Hash32 | None = None


def verify_proof_document(proof: Proof, *, root: bytes | str | None = None) -> None:
    """Check a :class:`Proof` offline: value → leaf, subject → value, leaf + siblings → root.

    With ``root`` (e.g. the content root registered on chain), also require the proof to be for it.
    """
    try:
        computed_leaf = compute_leaf_hash(proof.leaf_encoding, proof.value)
    except MerkleError as exc:
        raise ProofError(f"the proof's value does not fit its leaf encoding: {exc.message}",
                         hint=_PROVE_AGAIN) from None
    if "0x" + computed_leaf.hex() != proof.leaf:
        raise ProofError(
            f"the proof's leaf does not match its value: the document says {proof.leaf}, the value hashes to "
            f"0x{computed_leaf.hex()}; the value or the leaf was altered",
            hint=_PROVE_AGAIN,
            expected=bytes.fromhex(proof.leaf[2:]),
            computed=computed_leaf,
        )
    _verify_subject(proof)
    if root is not None:
        try:
            expected = to_hash(root, "the expected root")
        except ProofError as exc:
            raise ProofError(exc.message, hint=exc.hint, options=("root",)) from None
        if "0x" + expected.hex() != proof.root:
            raise ProofError(
                f"the proof is for another tree: its root is {proof.root}, expected 0x{expected.hex()}",
                hint="check the expected root, or get a proof from the data registered under it",
                options=("root",),
                expected=expected,
                computed=bytes.fromhex(proof.root[2:]),
            )
    verify_proof(proof.root, computed_leaf, list(proof.proof))


def _verify_subject(proof: Proof) -> None:
    subject = proof.subject
    if subject is None:
        return
    value = proof.value
    if isinstance(subject, (ChunkSubject, RowSubject)):
        if tuple(proof.leaf_encoding) != ("uint256", "bytes32") or str(subject.index) != str(value[0]):
            raise ProofError(
                f"the proof's subject is {subject.kind} {subject.index} but its leaf value is for index "
                f"{value[0] if value else '?'}; the document was altered",
                hint=_PROVE_AGAIN,
            )
    if isinstance(subject, ChunkSubject):
        # Chunk i spans [i * chunkSize, i * chunkSize + length) with length <= chunkSize; the exact
        # chunk size is the manifest's (checked in a bundle), but these hold for any chunk size.
        index, offset, length = subject.index, subject.offset, subject.length
        if (offset == 0) != (index == 0) or (index > 0 and (offset % index or length > offset // index)):
            raise ProofError(
                f"the proof's subject is chunk {index} at offset {offset}, length {length}, which no chunk size "
                f"gives (chunk {index} starts at {index} × the chunk size and is at most one chunk size long); "
                "the document was altered",
                hint=_PROVE_AGAIN,
            )
    if isinstance(subject, RowSubject):
        salt = bytes.fromhex(subject.salt[2:]) if subject.salt is not None else None
        try:
            digest = "0x" + row_digest(subject.row, salt).hex()
        except UnicodeEncodeError:
            raise ProofError(
                f"row {subject.index}'s disclosed text is not Unicode text (it holds a lone surrogate), so no sealed "
                "row can be it; the document was altered",
                hint=_PROVE_AGAIN,
            ) from None
        if digest != str(value[1]).lower():
            raise ProofError(
                f"row {subject.index}'s disclosed text and salt do not hash to the digest in its leaf: the leaf has "
                f"{value[1]}, the row hashes to {digest}; the row text or the salt was altered",
                hint=_PROVE_AGAIN,
            )
    if isinstance(subject, FileSubject):
        if tuple(proof.leaf_encoding) != ("string", "uint256", "bytes32") or (subject.path, str(subject.size)) != (
            value[0], str(value[1])
        ):
            raise ProofError(
                f"the proof's subject is file {subject.path!r} ({subject.size} bytes) but its leaf value is "
                f"{list(value[:2])}; the document was altered",
                hint=_PROVE_AGAIN,
            )


# ---------------------------------------------------------------------- chain record


class DirectRegistration(Model):
    """A direct registration: ``AssetRegistry.register`` minted ``asset_id`` for this record."""

    asset_id: int = Field(ge=1)
    content_root: Hash32
    manifest_hash: Hash32
    rights_type: int = Field(ge=1, le=7)
    classification: int = Field(ge=0, le=3)


class BatchMembership(Model):
    """A record anchored in a batch: ``(contentRoot, manifestHash, rightsType, classification)`` is a
    leaf of the batch tree whose root ``AssetRegistry.anchorBatch`` committed as ``batch_id``."""

    batch_id: int = Field(ge=1)
    batch_root: Hash32
    batch_manifest_hash: Hash32
    content_root: Hash32
    manifest_hash: Hash32
    rights_type: int = Field(ge=1, le=7)
    classification: int = Field(ge=0, le=3)
    proof: tuple[Hash32, ...] = Field(description="Proof of the record's leaf in the batch tree")

    @property
    def leaf_value(self) -> tuple[str, str, int, int]:
        return (self.content_root, self.manifest_hash, self.rights_type, self.classification)


class ChainRecord(Model):
    """Where and when the data was registered on chain: checkable against any RPC endpoint."""

    chain_id: int = Field(ge=1)
    contract: Address = Field(description="AssetRegistry address")
    tx_hash: Hash32
    block_number: int = Field(ge=0)
    block_hash: Hash32 | None = None
    timestamp: int = Field(ge=0, description="Block time (unix seconds): registeredAt / anchoredAt")
    sender: Address = Field(description="Registrant (register) or anchorer (anchorBatch)")
    asset: DirectRegistration | None = None
    batch: BatchMembership | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ChainRecord:
        if (self.asset is None) == (self.batch is None):
            raise ValueError("a chain record is either an asset registration or a batch membership, exactly one")
        return self

    def expected_event(self) -> tuple[str, dict[str, Any]]:
        """The event the transaction ``tx_hash`` must have emitted from ``contract`` (for an RPC check)."""
        if self.asset is not None:
            return "AssetRegistered", {
                "assetId": self.asset.asset_id,
                "registrant": self.sender,
                "contentRoot": self.asset.content_root,
                "manifestHash": self.asset.manifest_hash,
                "rightsType": self.asset.rights_type,
                "classification": self.asset.classification,
                "registeredAt": self.timestamp,
            }
        assert self.batch is not None
        return "BatchAnchored", {
            "batchId": self.batch.batch_id,
            "anchorer": self.sender,
            "batchRoot": self.batch.batch_root,
            "manifestHash": self.batch.batch_manifest_hash,
            "anchoredAt": self.timestamp,
        }

    @property
    def content_root(self) -> str:
        return self.asset.content_root if self.asset is not None else self.batch.content_root  # type: ignore[union-attr]

    @property
    def manifest_hash(self) -> str:
        return self.asset.manifest_hash if self.asset is not None else self.batch.manifest_hash  # type: ignore[union-attr]

    @property
    def rights_type(self) -> int:
        """The registered ``rightsType`` bitmask (1 holding | 2 processing | 4 operation)."""
        return self.asset.rights_type if self.asset is not None else self.batch.rights_type  # type: ignore[union-attr]


# ---------------------------------------------------------------------- grant scope


class GrantScope(Model):
    """That leaf ``leaf_index`` of the registered data (a row, chunk, or a file's position in the folder's order)
    lies inside the scope of grant ``grant_id`` of GrantRegistry ``grant_registry``: ``proof`` is the multiproof of
    that one index against ``scope_root`` (see :mod:`dataseal.registry.scope`). A zero scope root is a grant of the
    whole asset, which covers every leaf and needs no proof. That the grant, on chain, is of ``asset_id`` with this
    scope root is checked against an RPC endpoint."""

    grant_registry: Address
    grant_id: int = Field(ge=1)
    asset_id: int = Field(ge=1)
    scope_root: Hash32 = Field(description="The grant's scope root; zero: the whole asset")
    leaf_index: int = Field(ge=0, lt=1 << 256)
    proof: ScopeProof | None = Field(default=None, description="Multiproof of [leafIndex]; null for a zero root")


# ---------------------------------------------------------------------- bundle


class EvidenceBundle(Model):
    """Manifest + on-chain record + proofs: everything a verifier needs, in one file; ``scope``, when a grant
    was named, proves that the proven part lies inside that grant's scope."""

    kind: Literal["dataseal.evidence"] = BUNDLE_KIND
    version: Literal[1] = DOCUMENT_VERSION
    manifest: Manifest
    manifest_hash: Hash32
    record: ChainRecord
    proofs: tuple[Proof, ...] = Field(min_length=1)
    scope: GrantScope | None = None

    def to_json_data(self) -> dict[str, Any]:
        data = super().to_json_data()
        if data.get("scope") is None:
            data.pop("scope", None)  # a bundle without a grant is written as before
        return data


def build_bundle(manifest: Manifest, record: ChainRecord, proofs: list[Proof],
                 scope: GrantScope | None = None) -> EvidenceBundle:
    """An evidence bundle; checked offline before it is returned."""
    bundle = EvidenceBundle(manifest=manifest, manifest_hash=manifest.hash_hex, record=record, proofs=tuple(proofs),
                            scope=scope)
    verify_bundle_offline(bundle)
    return bundle


@dataclass
class BundleReport:
    """What :func:`compute_bundle_report` checked (all passed), and what needs the chain."""

    checked: list[str] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)


def verify_bundle_offline(bundle: EvidenceBundle) -> None:
    """Check everything in a bundle that needs no chain access; raises on the first failure."""
    compute_bundle_report(bundle)


def compute_bundle_report(bundle: EvidenceBundle) -> BundleReport:
    """Run the offline checks of :func:`verify_bundle_offline` and say what they covered (raises on failure)."""
    report = BundleReport()
    manifest, record = bundle.manifest, bundle.record
    computed = manifest.hash_hex
    if computed != bundle.manifest_hash:
        raise EvidenceError(
            f"the bundle's manifest hash is {bundle.manifest_hash} but its manifest hashes to {computed}; "
            "the manifest or the hash was altered",
            hint="build the bundle again from the manifest.json written when the data was sealed",
        )
    report.checked.append(f"manifest hash {computed} (keccak256 of the canonical manifest)")
    if record.manifest_hash != computed:
        raise EvidenceError(
            f"the on-chain record registers manifest hash {record.manifest_hash}, but the bundle's manifest "
            f"hashes to {computed}; this manifest is not the registered one",
            hint=_BUNDLE_ONE_REGISTRATION,
        )
    if record.content_root != manifest.tree.root:
        raise EvidenceError(
            f"the on-chain record registers content root {record.content_root}, but the manifest's tree root is "
            f"{manifest.tree.root}; the manifest describes other data",
            hint=_BUNDLE_ONE_REGISTRATION,
        )
    if record.rights_type != manifest.rights_bitmask:
        raise EvidenceError(
            f"the on-chain record registers rightsType {record.rights_type} ({_rights_names(record.rights_type)}), "
            f"but the manifest's rightsType is {list(manifest.rights_type)} (bitmask "
            f"{manifest.rights_bitmask}), and the record and the manifest must name the same rights",
            hint=_BUNDLE_ONE_REGISTRATION,
        )
    report.checked.append(
        f"record registers this manifest, content root {manifest.tree.root} and rightsType {record.rights_type}"
    )
    if record.batch is not None:
        batch = record.batch
        try:
            member_leaf = compute_leaf_hash(BATCH_RECORD_ENCODING, batch.leaf_value)
            verify_proof(batch.batch_root, member_leaf, list(batch.proof))
        except ProofError as exc:
            raise ProofError(f"the record is not a member of batch {batch.batch_id}: {exc.message}",
                             hint=f"bundle the record's proof from the tree anchored as batch {batch.batch_id}, "
                             "unchanged",
                             expected=exc.expected, computed=exc.computed) from None
        report.checked.append(f"record is a member of batch {batch.batch_id} (root {batch.batch_root})")
    for i, proof in enumerate(bundle.proofs):
        if tuple(proof.leaf_encoding) != tuple(manifest.tree.leaf_encoding):
            raise EvidenceError(
                f"proof {i} uses leaf encoding {list(proof.leaf_encoding)}, the manifest's tree uses "
                f"{list(manifest.tree.leaf_encoding)}; the proof is for another tree",
                hint="bundle proofs of the data this manifest seals",
            )
        verify_proof_matches_manifest(proof, manifest, name=f"proof {i}")
        try:
            verify_proof_document(proof, root=manifest.tree.root)
        except ProofError as exc:
            other_tree = "root" in exc.options  # the bundle's root, not one its reader gave
            raise ProofError(f"proof {i} failed: {exc.message}",
                             hint="bundle proofs of the data this manifest seals" if other_tree else exc.hint,
                             expected=exc.expected, computed=exc.computed) from None
        report.checked.append(f"proof {i}: {describe_subject(proof)} is in the tree")
    if bundle.scope is not None:
        _check_scope(bundle, report)
    name, _ = record.expected_event()
    report.not_checked.append(
        f"chain: that transaction {record.tx_hash} in block {record.block_number} of chain {record.chain_id} emitted "
        f"{name} from {record.contract} with these values (needs an RPC endpoint)"
    )
    if record.asset is not None:
        report.not_checked.append(
            f"chain: that asset {record.asset.asset_id} still stands: its status now (statusOf) on {record.contract}; "
            "a registration may since have been disputed, suspended, rejected or cancelled (its root then released "
            "to a later registrant), or have expired, and in review mode it is Pending until its notice ends"
        )
    return report


def compute_leaf_position(proof: Proof, manifest: Manifest) -> int | None:
    """The leaf index a proof is of, as a grant's scope counts it: a row's or a chunk's index (from its subject,
    else its leaf value's first field); None for a folder's file, whose position the proof does not carry."""
    subject = proof.subject
    if isinstance(subject, (RowSubject, ChunkSubject)):
        return subject.index
    if subject is None and manifest.content.kind != "folder" and proof.value:
        try:
            return int(proof.value[0])
        except (TypeError, ValueError):
            return None
    return None


def _check_scope(bundle: EvidenceBundle, report: BundleReport) -> None:
    """The offline part of a bundle's grant scope: the grant is of the registered asset, its index is a proven
    part's, and the multiproof leads from it to the scope root."""
    scope, record = bundle.scope, bundle.record
    assert scope is not None
    grant = f"grant {scope.grant_id}"
    if record.asset is None:
        raise EvidenceError(f"the bundle names {grant}'s scope, but its record is a batch membership, not an asset: "
                            "grants are made on registered assets", hint="bundle the scope with the asset's record")
    if scope.asset_id != record.asset.asset_id:
        raise EvidenceError(f"the bundle's scope is of {grant} on asset {scope.asset_id}, but its record registers "
                            f"asset {record.asset.asset_id}", hint="prove the scope of a grant of this asset")
    positions = [compute_leaf_position(p, bundle.manifest) for p in bundle.proofs]
    folder = bundle.manifest.content.kind == "folder"
    if not folder and scope.leaf_index not in positions:
        raise EvidenceError(
            f"the bundle's scope proves leaf {scope.leaf_index} inside {grant}'s scope, but its proofs are of "
            f"leaves {', '.join(str(p) for p in positions)}; the scope or the proofs were altered",
            hint="prove the part and its scope again, together")
    what = f"leaf {scope.leaf_index}" + (" (a file of the folder)" if folder else "")
    zero = "0x" + ZERO_ROOT.hex()
    if scope.scope_root == zero:
        if scope.proof is not None:
            raise EvidenceError(f"{grant} covers the whole asset (zero scope root), yet the bundle carries a scope "
                                "proof", hint="use the bundle as dataseal wrote it")
        report.checked.append(f"{grant} covers the whole asset (zero scope root): {what} is inside it")
    else:
        if scope.proof is None:
            raise EvidenceError(f"the bundle names {grant}'s scope {scope.scope_root} but carries no proof of leaf "
                                f"{scope.leaf_index} inside it", hint="prove the part and its scope again, together")
        if tuple(scope.proof.indexes) != (scope.leaf_index,):
            raise EvidenceError(
                f"the scope proof is of indexes {list(scope.proof.indexes)}, not of leaf {scope.leaf_index} alone; "
                "the scope was altered", hint="prove the part and its scope again, together")
        try:
            verify_scope_proof(scope.scope_root, scope.proof)
        except ScopeError as exc:
            raise ScopeError(f"the scope proof of {grant} failed: {exc.message}", hint=exc.hint,
                             kind=exc.kind) from None
        report.checked.append(f"{what} is inside {grant}'s scope root {scope.scope_root} (multiproof)")
    if folder:
        report.not_checked.append(
            f"scope: that leaf {scope.leaf_index} is the proven file's position in the folder's order (a file's proof "
            "does not carry its position; the registry that made the bundle read it from the sealed folder)")
    report.not_checked.append(
        f"chain: that {grant} at GrantRegistry {scope.grant_registry} is of asset {scope.asset_id} with scope root "
        f"{scope.scope_root}, and serves AssetRegistry {record.contract} (needs an RPC endpoint)")


def verify_proof_matches_manifest(proof: Proof, manifest: Manifest, *, name: str = "the proof") -> None:
    """:class:`EvidenceError` unless the proof's manifest hash and subject agree with ``manifest``
    (the Merkle part is :func:`verify_proof_document`'s)."""
    computed = manifest.hash_hex
    if proof.manifest_hash is not None and proof.manifest_hash != computed:
        raise EvidenceError(
            f"{name} was made for manifest {proof.manifest_hash}, but the bundle's manifest hashes to {computed}; "
            "the proof belongs to another seal",
            hint="prove the part again from the data sealed by this manifest",
        )
    subject, content = proof.subject, manifest.content
    if subject is None:
        return
    wanted = SUBJECT_KIND[content.kind]
    if subject.kind != wanted:
        raise EvidenceError(
            f"{name} is about a {subject.kind}, but the manifest seals a {content.kind}, whose parts are "
            f"{wanted}s; the proof is for other data",
            hint=f"prove a {wanted} of the data sealed by this manifest",
        )
    if isinstance(subject, ChunkSubject) and isinstance(content, FileContent):
        offset = subject.index * content.chunk_size
        length = min(content.chunk_size, content.size - offset)
        if length < 1:
            chunks = -(-content.size // content.chunk_size)
            raise EvidenceError(
                f"{name} is about chunk {subject.index}, but the manifest's file has {chunks} chunks "
                f"(0 to {chunks - 1}; size {content.size}, chunkSize {content.chunk_size}); the proof was altered",
                hint=_PROVE_AGAIN,
            )
        if (subject.offset, subject.length) != (offset, length):
            raise EvidenceError(
                f"{name} says chunk {subject.index} is at offset {subject.offset}, length {subject.length}, but the "
                f"manifest (chunkSize {content.chunk_size}, size {content.size}) puts it at offset {offset}, length "
                f"{length}; the proof was altered",
                hint=_PROVE_AGAIN,
            )


def _rights_names(bitmask: int) -> str:
    return ", ".join(name for name, bit in RIGHTS_BITS.items() if bitmask & bit) or "none"


def describe_subject(proof: Proof, *, byte_range: bool = True) -> str:
    """The part a proof is of, in words. A chunk's byte range comes from its manifest's chunk size, which a
    proof alone does not carry: without the manifest to check it against, ask for ``byte_range=False``."""
    subject = proof.subject
    if isinstance(subject, ChunkSubject):
        if not byte_range:
            return f"chunk {subject.index}"
        return f"chunk {subject.index} (bytes {subject.offset}..{subject.offset + subject.length - 1})"
    if isinstance(subject, RowSubject):
        return f"row {subject.index}"
    if isinstance(subject, FileSubject):
        return f"file {subject.path!r} ({subject.size} bytes)"
    return f"leaf {proof.leaf}"


# ---------------------------------------------------------------------- reading documents


def load_document(data: Any, *, where: str = "document",
                  text: bytes | None = None) -> Proof | EvidenceBundle | Manifest:
    """A proof, bundle or manifest from JSON data, by its ``kind``; unknown kinds and versions refused.

    ``text``: the JSON ``data`` was parsed from, if the caller has it (a request's body): a proof or bundle is then
    validated from it rather than from ``data`` written out again."""
    if not isinstance(data, dict):
        raise EvidenceError(f"{where} is not a JSON object; expected a dataseal proof, evidence bundle or manifest",
                            hint=_THE_FILE_MEANT)
    kind = data.get("kind")
    if kind == "dataseal.manifest":
        return load_manifest(data, where=where)
    model: type[Proof] | type[EvidenceBundle]
    if kind == PROOF_KIND:
        model = Proof
    elif kind == BUNDLE_KIND:
        model = EvidenceBundle
    else:
        raise EvidenceError(
            f"{where} has kind {kind!r}; expected {PROOF_KIND!r}, {BUNDLE_KIND!r} or 'dataseal.manifest'",
            hint=_THE_FILE_MEANT,
        )
    version = data.get("version")
    if type(version) is not int or version != DOCUMENT_VERSION:  # true is not 1
        newer = type(version) is int and version > DOCUMENT_VERSION
        raise EvidenceError(
            f"{where} is a {kind} of version {version!r}; this dataseal reads version {DOCUMENT_VERSION}"
            + ("" if newer else ", so the file is not valid"),
            hint="upgrade dataseal to read it" if newer else "use the document as dataseal wrote it",
        )
    if kind == BUNDLE_KIND and isinstance(data.get("manifest"), dict):
        load_manifest(data["manifest"], where=f"{where}: manifest")  # its own kind/version errors first
    try:
        # JSON mode, strict: no "2" for 2 and no true for 1, without refusing JSON arrays for tuples; camelCase keys.
        return model.model_validate_json(json.dumps(data) if text is None else text, strict=True, by_alias=True,
                                         by_name=False)
    except ValidationError as exc:
        raise EvidenceError(f"{where} is not a valid {kind}: {describe_validation_error(exc)}",
                            hint="use the document as dataseal wrote it") from None


def read_document(path: Path) -> Proof | EvidenceBundle | Manifest:
    """Read a proof, bundle or manifest file."""
    try:
        data = read_json(path, "proof or bundle", EvidenceError)
    except ManifestError as exc:  # pragma: no cover - read_json raises the error type it is given
        raise EvidenceError(exc.message, hint=exc.hint, options=exc.options, kind=exc.kind) from None
    return load_document(data, where=str(path))
