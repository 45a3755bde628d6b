"""Request and response models of the verify routes (:mod:`dataseal.api.routes.verify`).

Requests: :class:`DigestsRequest` (the chunk digests a client computed, so that the file need not leave it).
Responses: :class:`FileVerification` (is this file a registered asset, and if not, what differs from the nearest
registered version), :class:`DocumentCheck` (a proof or evidence bundle: ok or not, what was checked, what
was not) and :class:`CertificateCheck` (a certificate field by field). Field names are snake_case, as in the rest
of the API.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from dataseal.errors import DatasealError
from dataseal.registry.certificates.verify import CertificateReport
from dataseal.registry.checks import Unchecked
from dataseal.registry.sealing.files import ChunkDigests
from dataseal.registry.sealing.options import DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MAX_CONTENT_SIZE, MAX_FILE_CHUNKS
from dataseal.registry.services.verify import Differences, NearestVersion, VerifyReport

#: A SHA-256 digest in hex: 0x and 64 hex digits (either case).
Digest = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{64}$")]
#: The longest file name accepted (the registry's manifests keep names of up to 255 characters).
MAX_NAME_LENGTH = 255


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DigestsRequest(_Model):
    """The SHA-256 digest of every ``chunk_size`` bytes of a file (the last chunk may be shorter), in order."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)  # no "3000" for 3000

    chunk_size: int = Field(default=DEFAULT_CHUNK_SIZE, ge=1, le=MAX_CHUNK_SIZE,
                            description="Bytes per chunk, as the file was sealed (default 1 MiB)")
    size: int = Field(ge=1, le=MAX_CONTENT_SIZE, description="The file's size in bytes")
    digests: list[Digest] = Field(min_length=1, max_length=MAX_FILE_CHUNKS,
                                  description="SHA-256 of each chunk, 0x and 64 hex digits")
    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME_LENGTH,
                             description="The file's name, to find the versions registered under it")
    asset_id: int | None = Field(default=None, ge=1, le=2**256 - 1,
                                 description="The asset the file is checked against: when it is not exactly a "
                                 "registered asset, what differs from this one is shown (its manifest recorded here)")

    def to_chunk_digests(self) -> ChunkDigests:
        return ChunkDigests(size=self.size, chunk_size=self.chunk_size,
                            digests=[bytes.fromhex(d[2:]) for d in self.digests])


class DifferencesOut(_Model):
    """Which chunks differ from the nearest registered version (``changed`` lists the first of them)."""

    part: str
    changed: list[int | str]
    changed_count: int
    added: int
    removed: int

    @classmethod
    def of(cls, differences: Differences) -> DifferencesOut:
        return cls(part=differences.part, changed=list(differences.changed), changed_count=differences.changed_count,
                   added=differences.added, removed=differences.removed)


class NearestOut(_Model):
    """The registered version closest to the data, as the chain records it."""

    asset_id: int
    content_root: str
    manifest_hash: str
    status: str
    owner: str
    differences: DifferencesOut

    @classmethod
    def of(cls, nearest: NearestVersion) -> NearestOut:
        return cls(asset_id=nearest.asset_id, content_root=nearest.content_root, manifest_hash=nearest.manifest_hash,
                   status=nearest.status, owner=nearest.owner, differences=DifferencesOut.of(nearest.differences))


class FileVerification(_Model):
    """Whether the file is exactly registered asset ``asset_id`` (status and owner as the chain says now); else
    ``nearest``, the registered version closest to it, when one is known."""

    registered: bool
    content_root: str
    size: int
    chunk_size: int
    leaf_count: int
    chain_id: int
    sealed_as: str
    asset_id: int | None = None
    status: str | None = None
    owner: str | None = None
    manifest_hash: str | None = None
    nearest: NearestOut | None = None

    @classmethod
    def of(cls, report: VerifyReport, chunks: ChunkDigests) -> FileVerification:
        return cls(registered=report.registered, content_root=report.content_root, size=chunks.size,
                   chunk_size=chunks.chunk_size, leaf_count=report.leaf_count, chain_id=report.chain_id,
                   sealed_as=report.sealed_as, asset_id=report.asset_id, status=report.status, owner=report.owner,
                   manifest_hash=report.manifest_hash,
                   nearest=NearestOut.of(report.nearest) if report.nearest is not None else None)


class UncheckedOut(_Model):
    """Something the check did not cover, and the parameters that would cover it."""

    what: str
    options: list[str] = []

    @classmethod
    def of(cls, item: Unchecked) -> UncheckedOut:
        return cls(what=item.what, options=list(item.options))


class FailureOut(_Model):
    """The check that failed: what failed (``message``) and what to do (``hint``)."""

    kind: str
    message: str
    hint: str

    @classmethod
    def of(cls, error: DatasealError) -> FailureOut:
        return cls(kind=str(error.kind), message=error.message, hint=error.hint)


class RegistrationOut(_Model):
    """The registration that holds a proof's root on this registry's chain, as the chain says now."""

    asset_id: int
    status: str
    owner: str
    manifest_hash: str


class ChainOut(_Model):
    """What the chain says of a bundle's registration now (after its record was checked)."""

    status: str | None
    holds_root: bool | None
    trusted_by: str | None


class DocumentCheck(_Model):
    """A proof's or bundle's check: ``ok`` when every check passed; else ``failure`` is the first that failed
    (``checked`` then lists what passed before it)."""

    ok: bool
    kind: Literal["proof", "evidence"]
    root: str
    subject: str | None = None
    checked: list[str]
    not_checked: list[UncheckedOut] = []
    warnings: list[str] = []
    failure: FailureOut | None = None
    registration: RegistrationOut | None = Field(
        default=None, description="For a proof: the registration of its root on this registry's chain, if any")
    chain: ChainOut | None = Field(default=None, description="For a bundle: its registration on chain, once checked")


class MismatchOut(_Model):
    """A field of the certificate the chain contradicts (``field`` its JSON name, ``registration.txHash``)."""

    field: str
    certificate: str
    chain: str
    reason: str = ""


class StandingOut(_Model):
    """The asset at the chain's latest block."""

    block_number: int
    status: str
    owner: str
    valid_until: datetime | None


class LapseOut(_Model):
    """A change since which the certificate no longer holds (``what``: status, owner or term), and where."""

    what: str
    description: str
    block_number: int | None
    tx_hash: str | None


class CertificateCheck(_Model):
    """A certificate checked field by field against the chain as of its block, then the asset's standing now:
    ``ok`` when no field differs and nothing has lapsed."""

    ok: bool
    certificate_number: str
    asset_id: int
    mismatches: list[MismatchOut]
    checked: list[str]
    not_checked: list[str]
    now: StandingOut | None
    lapses: list[LapseOut]

    @classmethod
    def of(cls, report: CertificateReport) -> CertificateCheck:
        now = report.now
        return cls(ok=report.ok, certificate_number=report.certificate_number, asset_id=report.asset_id,
                   mismatches=[MismatchOut(field=m.field, certificate=m.certificate, chain=m.chain, reason=m.reason)
                               for m in report.mismatches],
                   checked=list(report.checked), not_checked=list(report.not_checked),
                   now=None if now is None else StandingOut(block_number=now.block_number, status=now.status,
                                                            owner=now.owner, valid_until=now.valid_until),
                   lapses=[LapseOut(what=lapse.what, description=lapse.description, block_number=lapse.block_number,
                                    tx_hash=lapse.tx_hash) for lapse in report.lapses])
