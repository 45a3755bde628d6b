"""Usage receipts: the documents whose hashes TransactionLedger records.

A grantee that ran a job under a grant writes a receipt (kind ``dataseal/usage-receipt``, version 1): the
chain and GrantRegistry, the grant, the job's id, the purpose it served, what it touched (rows, chunks or files
of the asset, as their indexes and always as the root of them), when it ran, the units it used and the hash
of its result. The receipt's hash, ``keccak256(canonical JSON)`` (RFC 8785, as the manifest hash), is what
``recordUsage`` puts on chain. A batch of receipts is recorded by ``recordUsageBatch`` with the root of a
StandardMerkleTree ("standard-v1", leaf encoding ``["bytes32"]``, sorted leaves) of their hashes; a
:class:`ReceiptBatchProof` shows that one receipt is in a batch.

The JSON Schema of version 1 ships as ``registry/schemas/usage-receipt.schema.json`` (generated from
:class:`UsageReceipt`; a test keeps them equal). Reading is strict, as for manifests: camelCase keys only, no
unknown or repeated keys, no type coercion, and the file's canonical JSON must be exactly the receipt's
canonical serialisation (so that the hash is the hash of the file as written).

Times are UTC, written ``YYYY-MM-DDTHH:MM:SSZ``. ``resultHash`` is the job's own hash of its result (the
``dataseal receipt new`` command takes the SHA-256 of a result file).
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from eth_utils import is_checksum_address
from pydantic import Field, StringConstraints, ValidationError, field_validator, model_validator

from dataseal.errors import DatasealError, ErrorKind
from dataseal.registry.manifest import Hash32, Manifest, Model, describe_validation_error, read_json
from dataseal.registry.merkle import StandardMerkleTree
from dataseal.registry.merkle.core import process_proof
from dataseal.registry.merkle.hashing import keccak256, standard_leaf_hash
from dataseal.registry.scope import ScopeError, compute_index_root, parse_indexes
from dataseal.registry.sealing.canonical import CanonicalJsonError, canonical_json, canonical_json_bytes

RECEIPT_KIND: Final = "dataseal/usage-receipt"
RECEIPT_VERSION: Final = 1
SCHEMA_ID: Final = "https://dataseal.dev/schemas/usage-receipt-v1.schema.json"
#: The leaf encoding of a batch's tree of receipt hashes.
BATCH_LEAF_ENCODING: Final = ("bytes32",)
#: The largest receipt read (a receipt listing a million touched indexes stays below it).
MAX_RECEIPT_BYTES: Final = 16 << 20
#: A uint64, the ledger's type for units.
MAX_UNITS: Final = 2**64 - 1

UtcTime = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")]
Address = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{40}$")]

_USE_THE_RECEIPT = "use the receipt as it was written (dataseal receipt files are not edited by hand)"


class ReceiptError(DatasealError):
    """A usage receipt is unreadable, of an unknown kind or version, invalid, or does not match."""


def format_utc(moment: datetime | int) -> str:
    """A receipt time: ``2026-03-01T12:00:00Z`` (whole seconds, UTC)."""
    if isinstance(moment, int):
        moment = datetime.fromtimestamp(moment, UTC)
    if moment.tzinfo is None:
        raise ReceiptError(f"the time {moment.isoformat()} has no time zone", hint="give an aware (UTC) time")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(text: str) -> datetime:
    """The aware UTC datetime of a receipt time."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


class Touched(Model):
    """What a job touched: ``count`` rows, chunks or files of the asset, committed by ``root`` (the tree of
    :mod:`dataseal.registry.scope` over their indexes) and, unless the grantee keeps them private, listed in
    ``indexes`` (ascending, distinct)."""

    unit: Literal["row", "chunk", "file"] = Field(description="What an index counts: rows of a table, chunks of a "
                                                  "file, files of a folder (the asset's leaves)")
    count: int = Field(ge=1, description="How many distinct indexes were touched")
    root: Hash32 = Field(description="StandardMerkleTree root (leaf encoding [\"uint256\"], sorted leaves) of the "
                         "touched indexes")
    indexes: tuple[int, ...] | None = Field(description="The touched indexes, ascending; null when only their root "
                                            "is disclosed")

    @model_validator(mode="after")
    def _consistent(self) -> Touched:
        if self.indexes is not None:
            if list(self.indexes) != sorted(set(self.indexes)) or any(i < 0 for i in self.indexes):
                raise ValueError("touched.indexes must be distinct non-negative indexes in ascending order")
            if len(self.indexes) != self.count:
                raise ValueError(f"touched.count is {self.count}, but touched.indexes lists {len(self.indexes)}")
            computed = "0x" + compute_index_root(self.indexes).hex()
            if computed != self.root:
                raise ValueError(f"touched.root is {self.root}, but the indexes listed have the root {computed}")
        return self


class UsageReceipt(Model):
    """Version 1 of the usage receipt. Build with :func:`build_receipt`; read with :func:`load_receipt`."""

    kind: Literal["dataseal/usage-receipt"]
    version: Literal[1]
    chain_id: int = Field(ge=1, description="Chain id of the chain the grant is on")
    grant_registry: Address = Field(description="GrantRegistry that holds the grant (EIP-55 checksummed)")
    grant_id: int = Field(ge=1, description="The grant the job ran under")
    job_id: str = Field(min_length=1, max_length=256, description="The job's, query's or run's own identifier")
    purpose: str = Field(min_length=1, description="The purpose the job served: the grant's purpose text, whose "
                         "keccak256 is the grant's purpose on chain")
    touched: Touched
    started_at: UtcTime = Field(description="When the job started (UTC)")
    ended_at: UtcTime = Field(description="When the job ended (UTC), not before startedAt")
    units: int = Field(ge=1, le=MAX_UNITS, description="Usage units the job used (what the ledger records)")
    result_hash: Hash32 = Field(description="Hash of the job's result (dataseal receipt new: SHA-256 of a result "
                                "file)")

    @field_validator("grant_registry")
    @classmethod
    def _checksummed(cls, value: str) -> str:
        if not is_checksum_address(value):
            raise ValueError(f"{value} is not an EIP-55 checksummed address")
        return value

    @field_validator("started_at", "ended_at")
    @classmethod
    def _real_time(cls, value: str) -> str:
        try:
            parse_utc(value)
        except ValueError:
            raise ValueError(f"{value} is not a real date and time") from None
        return value

    @model_validator(mode="after")
    def _ordered(self) -> UsageReceipt:
        if parse_utc(self.ended_at) < parse_utc(self.started_at):
            raise ValueError(f"endedAt {self.ended_at} is before startedAt {self.started_at}")
        return self

    def canonical_bytes(self) -> bytes:
        """The canonical JSON whose keccak256 is the receipt hash."""
        return canonical_json_bytes(self.to_json_data())

    @property
    def hash(self) -> bytes:
        """keccak256 of the canonical JSON: the ``receiptHash`` recorded on chain."""
        return keccak256(self.canonical_bytes())

    @property
    def hash_hex(self) -> str:
        return "0x" + self.hash.hex()

    @property
    def purpose_hash(self) -> bytes:
        """keccak256 of the purpose text (UTF-8): what the grant's ``purpose`` must be."""
        return purpose_hash(self.purpose)

    def to_text(self) -> str:
        """The receipt as a file: indented JSON (the hash is over the canonical form, not this text)."""
        return json.dumps(self.to_json_data(), indent=2, ensure_ascii=False) + "\n"


def purpose_hash(text: str) -> bytes:
    """The bytes32 a grant records as its purpose: keccak256 of the purpose text in UTF-8."""
    return keccak256(text.encode("utf-8"))


def build_receipt(
    *,
    chain_id: int,
    grant_registry: str,
    grant_id: int,
    job_id: str,
    purpose: str,
    unit: Literal["row", "chunk", "file"],
    indexes: Iterable[int | str] | None = None,
    touched_root: bytes | str | None = None,
    touched_count: int | None = None,
    started_at: datetime | int,
    ended_at: datetime | int,
    units: int,
    result_hash: bytes | str,
    disclose_indexes: bool = True,
) -> UsageReceipt:
    """A receipt from its parts. Give the touched ``indexes`` (integers or ``"FIRST-LAST"`` ranges) — with
    ``disclose_indexes=False`` only their root and count go into the receipt — or, when the indexes are not at
    hand, their ``touched_root`` and ``touched_count``. :class:`ReceiptError` says what does not fit."""
    try:
        if indexes is not None:
            listed = parse_indexes(list(indexes), "touched indexes")
            root, count = "0x" + compute_index_root(listed).hex(), len(listed)
            shown: tuple[int, ...] | None = listed if disclose_indexes else None
        elif touched_root is not None and touched_count is not None:
            root = touched_root if isinstance(touched_root, str) else "0x" + bytes(touched_root).hex()
            count, shown = touched_count, None
        else:
            raise ReceiptError("a receipt needs what the job touched", hint="give the touched indexes, or their root "
                               "and count")
    except ScopeError as exc:
        raise ReceiptError(exc.message, hint=exc.hint) from None
    result = result_hash if isinstance(result_hash, str) else "0x" + bytes(result_hash).hex()
    try:
        receipt = UsageReceipt(
            kind=RECEIPT_KIND, version=RECEIPT_VERSION, chain_id=chain_id, grant_registry=grant_registry,
            grant_id=grant_id, job_id=job_id, purpose=purpose,
            touched=Touched(unit=unit, count=count, root=root.lower(), indexes=shown),
            started_at=format_utc(started_at), ended_at=format_utc(ended_at), units=units,
            result_hash=result.lower(),
        )
    except ValidationError as exc:
        raise ReceiptError(f"the receipt is invalid: {describe_validation_error(exc)}",
                           hint="check the values given for the receipt") from None
    try:
        receipt.canonical_bytes()
    except CanonicalJsonError as exc:
        raise ReceiptError(f"the receipt cannot be written as canonical JSON: {exc.message}", hint=exc.hint) from None
    return receipt


def load_receipt(data: Any, *, where: str = "receipt") -> UsageReceipt:
    """A :class:`UsageReceipt` from JSON data, read strictly (see the module doc); :class:`ReceiptError` if not."""
    if not isinstance(data, Mapping):
        raise ReceiptError(f"{where} is not a JSON object; a usage receipt is an object with kind {RECEIPT_KIND!r}",
                           hint=_USE_THE_RECEIPT)
    kind = data.get("kind")
    if kind != RECEIPT_KIND:
        raise ReceiptError(f"{where} is not a dataseal usage receipt: its kind is {kind!r}, expected {RECEIPT_KIND!r}",
                           hint=_USE_THE_RECEIPT)
    version = data.get("version")
    if version != RECEIPT_VERSION:
        newer = isinstance(version, int) and not isinstance(version, bool) and version > RECEIPT_VERSION
        raise ReceiptError(f"{where} has receipt version {version!r}; this dataseal reads version {RECEIPT_VERSION}",
                           hint="upgrade dataseal to read it" if newer else _USE_THE_RECEIPT)
    try:
        written = canonical_json(dict(data))
    except CanonicalJsonError as exc:
        raise ReceiptError(f"{where} is not a valid receipt: {exc.message}", hint=_USE_THE_RECEIPT) from None
    try:
        receipt = UsageReceipt.model_validate_json(json.dumps(dict(data)), strict=True, by_alias=True, by_name=False)
    except ValidationError as exc:
        raise ReceiptError(f"{where} is invalid: {describe_validation_error(exc)}", hint=_USE_THE_RECEIPT) from None
    own = receipt.canonical_bytes().decode("utf-8")
    if written != own:
        at = len(os.path.commonprefix([written, own]))
        raise ReceiptError(
            f"{where} is not in dataseal's form: its canonical JSON differs from the receipt read from it at character "
            f"{at} ({written[max(0, at - 20):at + 20]!r} vs {own[max(0, at - 20):at + 20]!r})",
            hint=_USE_THE_RECEIPT,
        )
    return receipt


def read_receipt(path: Path) -> UsageReceipt:
    """Read and validate a receipt file."""
    return load_receipt(read_json(Path(path), "receipt", ReceiptError, limit=MAX_RECEIPT_BYTES), where=str(path))


def read_receipts(folder: Path) -> list[UsageReceipt]:
    """Every ``*.json`` receipt of ``folder`` (sorted by name); :class:`ReceiptError` for an empty folder, a
    file that is not a receipt, or one receipt given twice."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReceiptError(f"{folder} is not a folder", hint="give the folder holding the receipt files",
                           kind=ErrorKind.NOT_FOUND if not folder.exists() else None)
    receipts = [read_receipt(path) for path in sorted(folder.glob("*.json"))]
    if not receipts:
        raise ReceiptError(f"{folder} holds no receipt (*.json)", hint="give the folder holding the receipt files")
    seen: dict[bytes, int] = {}
    for position, receipt in enumerate(receipts):
        if receipt.hash in seen:
            raise ReceiptError(f"receipt {receipt.hash_hex} (job {receipt.job_id!r}) is in {folder} twice",
                               hint="remove the copy: each receipt is recorded once")
        seen[receipt.hash] = position
    return receipts


def receipt_json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of receipt version 1, as shipped in registry/schemas/."""
    schema = UsageReceipt.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def shipped_receipt_schema() -> dict[str, Any]:
    """The schema file shipped as package data."""
    text = resources.files("dataseal.registry").joinpath("schemas/usage-receipt.schema.json").read_text(
        encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


# ------------------------------------------------------------------------------------------- against the grant


Unit = Literal["row", "chunk", "file"]
#: What an index of a receipt counts, by the kind of the asset's content (its manifest's ``content.kind``).
UNIT_OF_CONTENT: Final[dict[str, Unit]] = {"table": "row", "file": "chunk", "folder": "file"}


@dataclass(frozen=True)
class AssetLeaves:
    """The leaves of a registered asset a receipt's indexes point at: ``count`` rows, chunks or files."""

    unit: Unit
    count: int

    def describe(self) -> str:
        return f"{self.count} {self.unit}{'s' if self.count != 1 else ''}"


def compute_asset_leaves(manifest: Manifest) -> AssetLeaves:
    """The unit and number of leaves of the asset ``manifest`` describes."""
    return AssetLeaves(UNIT_OF_CONTENT[manifest.content.kind], manifest.tree.leaf_count)


def verify_receipt_in_window(receipt: UsageReceipt, valid_from: int, expires_at: int, *,
                             where: str = "the receipt") -> None:
    """Check that the job of ``receipt`` ran inside its grant's window: started at or after ``valid_from`` and ended
    before ``expires_at`` (Unix seconds; the grant is not usable from ``expires_at`` on); :class:`ReceiptError`
    (conflict) if not."""
    started, ended = int(parse_utc(receipt.started_at).timestamp()), int(parse_utc(receipt.ended_at).timestamp())
    if started < valid_from or ended >= expires_at:
        raise ReceiptError(
            f"{where} says the job ran {receipt.started_at} .. {receipt.ended_at}, outside grant {receipt.grant_id}'s "
            f"window {format_utc(valid_from)} .. {format_utc(expires_at)} (exclusive)",
            hint="record only work done while the grant was open", kind=ErrorKind.CONFLICT)


def verify_receipt_in_asset(receipt: UsageReceipt, leaves: AssetLeaves, *, where: str = "the receipt") -> None:
    """Check that what ``receipt`` touched exists in the asset: its unit is the asset's and its indexes (or, when
    only their root is disclosed, their count) fit in the asset's leaves; :class:`ReceiptError` (conflict) if not."""
    touched = receipt.touched
    if touched.unit != leaves.unit:
        raise ReceiptError(f"{where} counts {touched.unit}s, but the asset's leaves are {leaves.unit}s",
                           hint=f"give the {leaves.unit}s the job touched", kind=ErrorKind.CONFLICT)
    if touched.indexes is not None and touched.indexes[-1] >= leaves.count:
        beyond = sum(1 for i in touched.indexes if i >= leaves.count)
        raise ReceiptError(f"{where} touched {beyond} {touched.unit}s beyond the asset's {leaves.describe()} "
                           f"(largest index {touched.indexes[-1]}, the last is {leaves.count - 1})",
                           hint=f"give {touched.unit} indexes from 0 to {leaves.count - 1}", kind=ErrorKind.CONFLICT)
    if touched.count > leaves.count:
        raise ReceiptError(f"{where} touched {touched.count} {touched.unit}s, more than the asset's "
                           f"{leaves.describe()}", hint="give the count of distinct indexes touched",
                           kind=ErrorKind.CONFLICT)


# ------------------------------------------------------------------------------------------- batches


class ReceiptBatchProof(Model):
    """That the receipt hashing to ``receipt_hash`` is a member of the batch with root ``receipts_root``
    (standard-v1 proof of the leaf ``[receipt_hash]``, leaf encoding ``["bytes32"]``)."""

    receipts_root: Hash32
    receipt_hash: Hash32
    proof: tuple[Hash32, ...]


class ReceiptBatch:
    """The tree of a batch's receipt hashes; its root is what ``recordUsageBatch`` records."""

    def __init__(self, receipts: Sequence[UsageReceipt]) -> None:
        if not receipts:
            raise ReceiptError("a batch needs at least one receipt", hint="give the receipts of the batch")
        hashes = [r.hash for r in receipts]
        if len(set(hashes)) != len(hashes):
            raise ReceiptError("a batch lists one receipt twice", hint="list each receipt once")
        self.receipts = tuple(receipts)
        self.tree = StandardMerkleTree.of([[h] for h in hashes], BATCH_LEAF_ENCODING)
        self._index = {h: i for i, h in enumerate(hashes)}

    @property
    def root(self) -> bytes:
        return self.tree.root

    @property
    def root_hex(self) -> str:
        return self.tree.root_hex

    @property
    def units(self) -> int:
        return sum(r.units for r in self.receipts)

    def __len__(self) -> int:
        return len(self.receipts)

    def proof(self, receipt: UsageReceipt | bytes) -> ReceiptBatchProof:
        """The membership proof of ``receipt`` (or its hash); :class:`ReceiptError` if it is not in the batch."""
        digest = receipt.hash if isinstance(receipt, UsageReceipt) else bytes(receipt)
        if digest not in self._index:
            raise ReceiptError(f"receipt 0x{digest.hex()} is not in the batch {self.root_hex}",
                               hint="prove a receipt of this batch", kind=ErrorKind.NOT_FOUND)
        return ReceiptBatchProof(receipts_root=self.root_hex, receipt_hash="0x" + digest.hex(),
                                 proof=tuple("0x" + p.hex() for p in self.tree.get_proof(self._index[digest])))


def read_batch_proofs(folder: Path) -> dict[str, ReceiptBatchProof]:
    """The batch proofs (``*.json``, as ``dataseal use-batch --proofs`` writes them) of ``folder``, by receipt hash;
    :class:`ReceiptError` for an empty folder, a file that is not a batch proof, or two proofs of one receipt that
    differ."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReceiptError(f"{folder} is not a folder", hint="give the folder holding the batch proof files",
                           kind=ErrorKind.NOT_FOUND if not folder.exists() else None)
    proofs: dict[str, ReceiptBatchProof] = {}
    for path in sorted(folder.glob("*.json")):
        data = read_json(path, "batch proof", ReceiptError, limit=MAX_RECEIPT_BYTES)
        try:
            proof = ReceiptBatchProof.model_validate_json(json.dumps(data), strict=True, by_alias=True,
                                                          by_name=False)
        except ValidationError as exc:
            raise ReceiptError(f"{path} is not a batch proof: {describe_validation_error(exc)}",
                               hint="give the batch proofs written when the batch was recorded") from None
        known = proofs.setdefault(proof.receipt_hash, proof)
        if known != proof:
            raise ReceiptError(f"{folder} holds two different proofs of receipt {proof.receipt_hash}",
                               hint="keep the proof of the batch the receipt was recorded in")
    if not proofs:
        raise ReceiptError(f"{folder} holds no batch proof (*.json)",
                           hint="give the folder of batch proofs written when the batch was recorded")
    return proofs


def compute_receipts_root(receipts: Sequence[UsageReceipt]) -> bytes:
    """The root ``recordUsageBatch`` records for ``receipts``."""
    return ReceiptBatch(receipts).root


def verify_receipt_in_batch(receipt: UsageReceipt | bytes, proof: ReceiptBatchProof,
                            receipts_root: bytes | None = None) -> None:
    """Check that ``receipt`` (or its hash) is in the batch of ``proof`` (and, when given, that the batch is the
    one with ``receipts_root``, as read from the chain); :class:`ReceiptError` if not."""
    digest = receipt.hash if isinstance(receipt, UsageReceipt) else bytes(receipt)
    if proof.receipt_hash != "0x" + digest.hex():
        raise ReceiptError(f"the batch proof is of receipt {proof.receipt_hash}, not of 0x{digest.hex()}",
                           hint="use the proof of this receipt")
    if receipts_root is not None and proof.receipts_root != "0x" + receipts_root.hex():
        raise ReceiptError(f"the batch proof is for batch {proof.receipts_root}, not 0x{receipts_root.hex()}",
                           hint="use the proof of the batch recorded on chain")
    leaf = standard_leaf_hash(digest)
    computed = process_proof(leaf, [bytes.fromhex(p[2:]) for p in proof.proof])
    if "0x" + computed.hex() != proof.receipts_root:
        raise ReceiptError(
            f"the batch proof does not lead to its root: expected {proof.receipts_root}, computed 0x{computed.hex()}",
            hint="get a fresh proof from the batch's receipts", kind=ErrorKind.CONFLICT,
        )
