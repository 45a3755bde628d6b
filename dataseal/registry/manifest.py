"""The manifest: a JSON document describing sealed data and how its Merkle tree was built.

Its hash, ``keccak256(canonical JSON of the manifest)`` (RFC 8785, see
:mod:`dataseal.registry.sealing.canonical`), is what goes on chain beside the tree's root: anyone holding
the data and the manifest can recompute both. The JSON Schema of version 1 ships as
``registry/schemas/manifest.schema.json`` (generated from :class:`Manifest`; a test keeps them
equal).

A manifest is self-describing for another implementation: the tree section gives the leaf
encoding and leaf order; the content section says how leaves were derived (chunk size, row
canonicalisation and digest, salt nonce, folder ordering), in words and in fields.

Reading is strict, so that the hash is the hash of the file as written: no type coercion
(``"5"`` is not ``5``), only the camelCase keys of the schema, no unknown or repeated keys, and
the file's canonical JSON must be exactly the manifest's canonical serialisation.
"""
from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from dataseal.chain.files import read_limited
from dataseal.errors import DatasealError, ErrorKind
from dataseal.registry.merkle.hashing import keccak256
from dataseal.registry.sealing.canonical import (
    CanonicalJsonError,
    canonical_json,
    canonical_json_bytes,
    exceeds_json_depth,
)
from dataseal.registry.sealing.options import MAX_CHUNK_SIZE, MAX_CONTENT_SIZE, MAX_FILE_CHUNKS

MANIFEST_KIND: Final = "dataseal.manifest"
MANIFEST_VERSION: Final = 1
SCHEMA_ID = "https://dataseal.dev/schemas/manifest-v1.schema.json"

Hash32 = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-f]{64}$")]
Nonce16 = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-f]{32}$")]
#: No dataseal document (manifest, proof, bundle, tree dump) nests deeper; read_json refuses more.
MAX_JSON_DEPTH: Final = 64
#: The most bytes read_json reads of a manifest, proof or bundle (a row proof carries its row's text, a
#: bundle its proofs: both stay far below this).
MAX_DOCUMENT_BYTES: Final = 64 << 20
RightsName = Literal["holding", "processing", "operation"]
#: The leaf encoding of each kind of content (what sealing builds; a manifest naming another is refused).
LEAF_ENCODINGS: Final[dict[str, tuple[str, ...]]] = {
    "file": ("uint256", "bytes32"), "folder": ("string", "uint256", "bytes32"), "table": ("uint256", "bytes32"),
}
#: Rights type names and their bits in AssetRegistry's ``rightsType`` bitmask.
RIGHTS_BITS: dict[str, int] = {"holding": 1, "processing": 2, "operation": 4}


class ManifestError(DatasealError):
    """A manifest is unreadable, of an unknown kind or version, or does not validate."""


_USE_THE_SEALED_MANIFEST = "use the manifest.json written when the data was sealed"
_THE_FILE_MEANT = "check that this is the file you meant"


class Model(BaseModel):
    """Frozen, strict about unknown fields, camelCase in JSON."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, alias_generator=to_camel)

    def to_json_data(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class TreeInfo(Model):
    """How the Merkle tree was built, and its root."""

    format: Literal["standard-v1"] = Field(
        description="OpenZeppelin StandardMerkleTree: leaf = keccak256(keccak256(abi.encode(value))), sorted pairs"
    )
    leaf_encoding: tuple[str, ...] = Field(min_length=1, description="ABI types of a leaf value")
    sort_leaves: bool = Field(description="Whether leaves were sorted by hash (the sortLeaves option)")
    leaf_count: int = Field(ge=1)
    root: Hash32
    leaf: str = Field(description="What one leaf value is, in words")


class FileContent(Model):
    kind: Literal["file"]
    name: str = Field(description="The file's name (not its path)")
    size: int = Field(ge=1, le=MAX_CONTENT_SIZE, description="Bytes")
    chunk_size: int = Field(ge=1, le=MAX_CHUNK_SIZE, description="Bytes per chunk; the last chunk may be shorter")


class SkippedFile(Model):
    path: str
    reason: str


class FolderContent(Model):
    kind: Literal["folder"]
    name: str
    size: int = Field(ge=0, le=MAX_CONTENT_SIZE, description="Total bytes of the sealed files")
    file_count: int = Field(ge=1)
    order: str = Field(description="Order of the leaves")
    symlinks: Literal["refuse", "skip", "follow"] = Field(description="Symlink policy the folder was sealed with")
    special: Literal["refuse", "skip"] = Field(description="Policy for devices, FIFOs and sockets")
    skipped: tuple[SkippedFile, ...] = Field(description="Entries left out (symlinks, special files), by policy")


class SaltInfo(Model):
    scheme: Literal["hmac-sha256-v2"] = Field(description="How salts are derived (see the table's rowDigest)")
    nonce: Nonce16 = Field(
        description="16 random bytes drawn at sealing, mixed into the salt key: no two seals share a salt, even "
        "of different tables sealed with one secret"
    )
    context: str = Field(description="Optional label mixed into the salt key")


class TableContent(Model):
    kind: Literal["table"]
    name: str
    size: int = Field(ge=1, le=MAX_CONTENT_SIZE, description="Bytes of the table file")
    format: Literal["csv", "jsonl", "parquet"]
    row_count: int = Field(ge=1)
    columns: tuple[str, ...] | None = Field(
        description="Column names (CSV header, Parquet schema); null for JSON Lines"
    )
    canonicalization: str = Field(description="How a row becomes the canonical text that is hashed")
    row_digest: str = Field(description="How a row's digest (the leaf's bytes32) is computed")
    salt: SaltInfo | None = Field(description="Per-row salts, when the owner sealed with a secret")


Content = Annotated[FileContent | FolderContent | TableContent, Field(discriminator="kind")]


class Manifest(Model):
    """Version 1 of the manifest. Build with :func:`build_manifest`; read with :func:`load_manifest`.

    Every field is present in the document (null when empty): the hash covers all of them.
    """

    kind: Literal["dataseal.manifest"]
    version: Literal[1]
    title: str = Field(min_length=1)
    description: str
    rights_type: tuple[RightsName, ...] = Field(
        min_length=1, description="Registration rights: holding, processing (use), operation (product)"
    )
    licence: str | None
    source: str | None = Field(description="Where the data comes from (URL, system, person)")
    content: Content
    tree: TreeInfo

    @field_validator("rights_type")
    @classmethod
    def _canonical_rights(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        ordered = tuple(sorted(set(value), key=lambda name: RIGHTS_BITS[name]))
        if ordered != value:
            raise ValueError(f"list each rights type once, in the order holding, processing, operation: {ordered}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        """The tree section agrees with the content section: as many leaves as chunks, files or rows, and
        the leaf encoding of that kind of content."""
        content, tree = self.content, self.tree
        if isinstance(content, FileContent):
            parts, name = -(-content.size // content.chunk_size), "chunks (size / chunkSize, rounded up)"
            if parts > MAX_FILE_CHUNKS:
                raise ValueError(f"content: {parts} chunks, more than the {MAX_FILE_CHUNKS} a sealed file may have")
        elif isinstance(content, FolderContent):
            parts, name = content.file_count, "files (fileCount)"
        else:
            parts, name = content.row_count, "rows (rowCount)"
        if tree.leaf_count != parts:
            raise ValueError(f"tree.leafCount is {tree.leaf_count}, but the content has {parts} {name}")
        encoding = LEAF_ENCODINGS[content.kind]
        if tree.leaf_encoding != encoding:
            raise ValueError(f"tree.leafEncoding is {list(tree.leaf_encoding)}, but a {content.kind}'s leaves are "
                             f"{list(encoding)}")
        return self

    @property
    def rights_bitmask(self) -> int:
        """``rightsType`` as AssetRegistry's bitmask (1 holding | 2 processing | 4 operation)."""
        return sum(RIGHTS_BITS[name] for name in self.rights_type)

    def canonical_bytes(self) -> bytes:
        """The canonical JSON whose keccak256 is the manifest hash."""
        return canonical_json_bytes(self.to_json_data())

    @property
    def hash(self) -> bytes:
        """keccak256 of the canonical JSON: the ``manifestHash`` registered on chain."""
        return keccak256(self.canonical_bytes())

    @property
    def hash_hex(self) -> str:
        return "0x" + self.hash.hex()

    def to_text(self) -> str:
        """The manifest as a file: indented JSON (the hash is over the canonical form, not this text)."""
        return json.dumps(self.to_json_data(), indent=2, ensure_ascii=False) + "\n"


class ManifestMetadata(Model):
    """What the owner says about the data (the rest of the manifest is computed)."""

    title: str | None = None
    description: str = ""
    rights_type: tuple[RightsName, ...] = ("holding",)
    licence: str | None = None
    source: str | None = None


def parse_rights(text: str) -> tuple[RightsName, ...]:
    """``"holding,processing"`` → ``("holding", "processing")`` (canonical order); :class:`ManifestError` if unknown."""
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in RIGHTS_BITS]
    if not names or unknown:
        raise ManifestError(
            f"unknown rights type {', '.join(unknown) or repr(text)}",
            hint="use one or more of holding, processing, operation, comma-separated (数据资源持有, 数据加工使用, "
            "数据产品经营)",
            options=("rights_type",),
        )
    ordered = sorted(set(names), key=lambda name: RIGHTS_BITS[name])
    return tuple(ordered)  # type: ignore[arg-type]


def build_manifest(
    metadata: ManifestMetadata, content: FileContent | FolderContent | TableContent, tree: TreeInfo
) -> Manifest:
    """A manifest from the owner's metadata and the computed content and tree sections."""
    try:
        manifest = Manifest(
            kind=MANIFEST_KIND,
            version=MANIFEST_VERSION,
            title=metadata.title or content.name,
            description=metadata.description,
            rights_type=metadata.rights_type,
            licence=metadata.licence,
            source=metadata.source,
            content=content,
            tree=tree,
        )
    except ValidationError as exc:
        raise ManifestError(
            f"the manifest is invalid: {describe_validation_error(exc)}",
            hint="check the title, description, rights, licence and source given for the data (the title is the "
            "data's name unless one is given)",
        ) from None
    try:
        manifest.canonical_bytes()
    except CanonicalJsonError as exc:
        raise ManifestError(f"the manifest cannot be written as canonical JSON: {exc.message}",
                            hint=exc.hint) from None
    return manifest


def load_manifest(data: Any, *, where: str = "manifest") -> Manifest:
    """A :class:`Manifest` from JSON data, read strictly (see the module doc); :class:`ManifestError` if not."""
    if not isinstance(data, Mapping):
        raise ManifestError(f"{where} is not a JSON object; a manifest is an object with kind {MANIFEST_KIND!r}",
                            hint=_USE_THE_SEALED_MANIFEST)
    kind = data.get("kind")
    if kind != MANIFEST_KIND:
        raise ManifestError(f"{where} is not a dataseal manifest: its kind is {kind!r}, expected {MANIFEST_KIND!r}",
                            hint=_USE_THE_SEALED_MANIFEST)
    version = data.get("version")
    if version != MANIFEST_VERSION:
        newer = isinstance(version, int) and version > MANIFEST_VERSION
        raise ManifestError(
            f"{where} has manifest version {version!r}; this dataseal reads version {MANIFEST_VERSION}"
            + ("" if newer else ", so the file is not a valid manifest"),
            hint="upgrade dataseal to read it" if newer else _USE_THE_SEALED_MANIFEST,
        )
    try:
        written = canonical_json(dict(data))
    except CanonicalJsonError as exc:
        raise ManifestError(f"{where} is not a valid manifest: {exc.message}", hint=_USE_THE_SEALED_MANIFEST) from None
    try:
        # JSON mode: strict types (no "5" for 5) without refusing JSON arrays for tuples; camelCase keys only.
        manifest = Manifest.model_validate_json(json.dumps(dict(data)), strict=True, by_alias=True, by_name=False)
    except ValidationError as exc:
        raise ManifestError(
            f"{where} is invalid: {describe_validation_error(exc)}; the manifest was altered or is not in "
            "dataseal's form",
            hint=_USE_THE_SEALED_MANIFEST,
        ) from None
    verify_manifest_form(written, manifest, where=where)
    return manifest


def verify_manifest_form(written: str, manifest: Manifest, *, where: str = "manifest") -> None:
    """Require the canonical JSON of a manifest file (``written``) to be ``manifest``'s own.

    The hash is computed from the model: a file that reads as a model without being its exact
    serialisation would let different files share one hash.
    """
    own = manifest.canonical_bytes().decode("utf-8")
    if written != own:
        at = len(os.path.commonprefix([written, own]))
        raise ManifestError(
            f"{where} is not in dataseal's form: its canonical JSON differs from the manifest read from it at "
            f"character {at} ({written[max(0, at - 20):at + 20]!r} vs {own[max(0, at - 20):at + 20]!r}); the "
            "manifest was altered or was not written by dataseal",
            hint=_USE_THE_SEALED_MANIFEST,
        )


def read_manifest(path: Path) -> Manifest:
    """Read and validate a manifest file."""
    return load_manifest(read_json(path, "manifest", ManifestError), where=str(path))


class _NotDatasealJson(Exception):
    """JSON that the json module reads but no dataseal document holds (a repeated key, NaN)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _NotDatasealJson(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    raise _NotDatasealJson(f"{name} is not JSON")


def read_json(path: Path, what: str, error: type[DatasealError], *, limit: int = MAX_DOCUMENT_BYTES) -> Any:
    """JSON data of a file; ``error`` with a clear message when missing, unreadable, not a regular file,
    larger than ``limit`` bytes, truncated, nested deeper than :data:`MAX_JSON_DEPTH`, or holding a
    repeated key or NaN/Infinity."""
    try:
        data = read_limited(Path(path), limit, what=f"{what} file", error=error)
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise error(f"{what} file {path} does not exist", hint="check the path", kind=ErrorKind.NOT_FOUND) from None
    except UnicodeDecodeError as exc:
        raise error(f"cannot read {what} file {path}: {exc}; a dataseal document is UTF-8 JSON",
                    hint=_THE_FILE_MEANT) from None
    except OSError as exc:
        raise error(f"cannot read {what} file {path}: {exc.strerror or exc}",
                    hint="check that the path names a file that you can read") from None
    if exceeds_json_depth(data, MAX_JSON_DEPTH):
        raise error(
            f"{what} file {path} nests arrays or objects more than {MAX_JSON_DEPTH} levels deep; no dataseal proof, "
            "evidence bundle, manifest or tree dump does",
            hint=_THE_FILE_MEANT,
        )
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise error(
            f"{what} file {path} is not valid JSON ({exc.msg}: line {exc.lineno}, column {exc.colno}); "
            "it is truncated or corrupted",
            hint="check that this is the file you meant, or use an intact copy",
        ) from None
    except _NotDatasealJson as exc:
        raise error(
            f"{what} file {path} is not a dataseal document: {exc}; it was altered or written by hand",
            hint="use the file as dataseal wrote it",
        ) from None
    except ValueError:  # an integer longer than Python converts (sys.get_int_max_str_digits)
        raise error(
            f"{what} file {path} holds an integer of more than {sys.get_int_max_str_digits()} digits; no dataseal "
            "proof, evidence bundle, manifest or tree dump does",
            hint=_THE_FILE_MEANT,
        ) from None


def manifest_json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of manifest version 1, as shipped in registry/schemas/."""
    schema = Manifest.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def shipped_json_schema() -> dict[str, Any]:
    """The schema file shipped as package data."""
    text = resources.files("dataseal.registry").joinpath("schemas/manifest.schema.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def describe_validation_error(exc: ValidationError) -> str:
    """The first problem (an unknown key first: it often explains a missing one), and how many more."""
    problems = sorted(exc.errors(include_url=False), key=lambda problem: problem["type"] != "extra_forbidden")
    first = problems[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    hint = ""
    if first["type"] == "extra_forbidden" and "_" in str(first["loc"][-1]):
        hint = f" (keys are camelCase: {to_camel(str(first['loc'][-1]))})"
    more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    if not first["loc"] and first["type"] == "value_error":  # a check across fields says where itself
        return f"{str(first['msg']).removeprefix('Value error, ')}{more}"
    return f"{where}: {first['msg']}{hint}{more}"
