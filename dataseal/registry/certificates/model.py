"""The certificate: a versioned JSON document, every field of which is chain data or derived from it.

Modelled on the data-IP registration certificates (数据知识产权登记证书) and data-asset registration
certificates (数据资产登记证书) of the Chinese pilots: a numbered, single-sided certificate naming the
registrant, the data and its fingerprint, the registration time, its term, and a QR code that opens the
public record. Here every statement is read from the chain (the AssetRegistry's AssetRegistered event and
the logs that followed it, up to the block the certificate is "as of"), and the manifest registered with
the asset rides along so that the title, licence and source are checked through its on-chain hash.

Times are aware UTC datetimes in whole seconds (the chain's clock), written as ``2025-01-02T03:04:05Z``.

Terms:

- **as of**: the block whose state the certificate attests (owner and status at issue are those of that
  block; the certificate number names it);
- **notice**: in review mode, the public notice period (公示期) that follows a registration, during which
  anyone may object;
- **validity** (有效期): from the registration time for three years — Beijing's measures give a data-IP
  registration certificate a three-year term — or until the registration's own ``validUntil`` on chain
  (as renewed by the as-of block) when that comes first. Three years are calendar years in UTC: the same
  day and time three years on (28 February for a 29 February registration). A renewal on chain beyond
  three years does not lengthen a certificate: a certificate's term is at most three years.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import AwareDatetime, Field, StringConstraints, ValidationError, field_validator

from dataseal.errors import DatasealError
from dataseal.registry.certificates.numbering import MAX_NUMBER_LENGTH
from dataseal.registry.manifest import (
    RIGHTS_BITS,
    Hash32,
    Manifest,
    Model,
    RightsName,
    describe_validation_error,
    read_json,
)
from dataseal.registry.settings import (
    DEFAULT_BASE_URL as DEFAULT_BASE_URL,  # re-exported: its home before settings had it
)

CERTIFICATE_KIND: Final = "dataseal.certificate"
CERTIFICATE_VERSION: Final = 1
#: Every certificate document is far smaller (a manifest is the largest part).
MAX_CERTIFICATE_BYTES: Final = 4 << 20
#: A certificate's term at most (Beijing's measures for data-IP registration certificates).
TERM_YEARS: Final = 3
#: The largest uint256: asset ids (ERC-721 token ids) and chain ids are uint256 on chain.
UINT256_MAX: Final = 2**256 - 1
#: The largest block number a node takes: JSON-RPC clients hold block numbers in 64-bit signed integers (geth
#: answers "hex number > 63 bits" above it).
MAX_BLOCK_NUMBER: Final = 2**63 - 1

Address = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{40}$")]
Language = Literal["zh", "en", "zh-en"]
LANGUAGES: Final[tuple[str, ...]] = ("zh", "en", "zh-en")
ClassificationName = Literal["public", "general", "important", "core"]
#: AssetRegistry's classification levels, by their number on chain (0 public … 3 core).
CLASSIFICATIONS: Final[tuple[ClassificationName, ...]] = ("public", "general", "important", "core")
StatusName = Literal["Pending", "Active", "Suspended", "Cancelled", "Rejected", "Disputed", "Expired"]
LineageName = Literal["None", "Version", "Derived"]

_USE_THE_ISSUED = "use the certificate file as dataseal wrote it, or issue a new one"


class CertificateError(DatasealError):
    """A certificate cannot be issued (unknown asset, a manifest that is not the asset's) or read."""


def _utc_seconds(value: datetime) -> datetime:
    if value.utcoffset() != timedelta(0):
        raise ValueError("times are written in UTC (ending in Z)")
    if value.microsecond:
        raise ValueError("times are whole seconds (the chain's clock)")
    return value


class TxPoint(Model):
    """Where the registration was recorded: its transaction and the block it is in."""

    tx_hash: Hash32
    block_number: int = Field(ge=0, le=MAX_BLOCK_NUMBER)
    block_hash: Hash32
    log_index: int = Field(ge=0, le=MAX_BLOCK_NUMBER)


class AsOf(Model):
    """The block whose state the certificate attests."""

    block_number: int = Field(ge=0, le=MAX_BLOCK_NUMBER)
    block_hash: Hash32
    time: AwareDatetime

    @field_validator("time")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return _utc_seconds(value)


class Certificate(Model):
    """Version 1 of a registration certificate (see the module documentation for its terms)."""

    kind: Literal["dataseal.certificate"] = CERTIFICATE_KIND
    version: Literal[1] = CERTIFICATE_VERSION
    certificate_number: str = Field(max_length=MAX_NUMBER_LENGTH,
                                    description="DS-CHAIN-ASSET-BLOCK-C, base 36, ISO/IEC 7064 MOD 37-2")
    registration_number: str = Field(max_length=MAX_NUMBER_LENGTH,
                                     description="YEAR-CHAIN-ASSET-C, ISO/IEC 7064 MOD 11-2")
    language: Language = Field(description="The language(s) the certificate is issued in")
    chain_id: int = Field(ge=1, le=UINT256_MAX)
    contract: Address = Field(description="The AssetRegistry that holds the registration")
    asset_id: int = Field(ge=1, le=UINT256_MAX)
    registrant: Address
    owner: Address = Field(description="The asset's owner as of the certificate's block")
    title: str | None = Field(description="The manifest's title; null without the manifest (unknown)")
    licence: str | None
    source: str | None
    rights_type: tuple[RightsName, ...] = Field(min_length=1)
    classification: ClassificationName
    content_root: Hash32
    manifest_hash: Hash32
    parent_id: int = Field(ge=0, le=UINT256_MAX,
                           description="The parent asset of a version or derived asset; 0 for none")
    lineage: LineageName
    registration: TxPoint
    registered_at: AwareDatetime
    notice_ends_at: AwareDatetime | None = Field(description="End of the public notice (review mode), else null")
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    status: StatusName = Field(description="The registration's status as of the certificate's block")
    as_of: AsOf
    issued_at: AwareDatetime
    verify_url: str = Field(description="The public record: {base}/assets/{assetId}?cert={certificateNumber}")
    manifest: Manifest | None = Field(description="The manifest registered with the asset, when known")

    @field_validator("registered_at", "notice_ends_at", "valid_from", "valid_until", "issued_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return value if value is None else _utc_seconds(value)

    @field_validator("rights_type")
    @classmethod
    def _canonical_rights(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        ordered = tuple(sorted(set(value), key=lambda name: RIGHTS_BITS[name]))
        if ordered != value:
            raise ValueError(f"list each rights type once, in the order holding, processing, operation: {ordered}")
        return value

    @property
    def rights_bitmask(self) -> int:
        return sum(RIGHTS_BITS[name] for name in self.rights_type)

    def to_text(self) -> str:
        """The certificate as a file: indented JSON, Chinese left as it is."""
        return json.dumps(self.to_json_data(), indent=2, ensure_ascii=False) + "\n"


def rights_names(bitmask: int) -> tuple[RightsName, ...]:
    """AssetRegistry's ``rightsType`` bitmask as names (1 holding | 2 processing | 4 operation)."""
    return tuple(name for name, bit in RIGHTS_BITS.items() if bitmask & bit)  # type: ignore[misc]


def load_certificate(data: Any, *, where: str = "certificate") -> Certificate:
    """A :class:`Certificate` from JSON data, read strictly; :class:`CertificateError` naming the field otherwise."""
    if not isinstance(data, dict) or data.get("kind") != CERTIFICATE_KIND:
        kind = data.get("kind") if isinstance(data, dict) else type(data).__name__
        raise CertificateError(f"{where} is not a dataseal certificate: its kind is {kind!r}, expected "
                               f"{CERTIFICATE_KIND!r}", hint="give the certificate's JSON file (cert.json)")
    if data.get("version") != CERTIFICATE_VERSION:
        version = data.get("version")
        newer = isinstance(version, int) and version > CERTIFICATE_VERSION
        raise CertificateError(f"{where} has certificate version {version!r}; this dataseal reads version "
                               f"{CERTIFICATE_VERSION}",
                               hint="upgrade dataseal to read it" if newer else _USE_THE_ISSUED)
    try:
        return Certificate.model_validate_json(json.dumps(data), strict=True, by_alias=True, by_name=False)
    except ValidationError as exc:
        raise CertificateError(f"{where} is invalid: {describe_validation_error(exc)}; the certificate was altered "
                               "or is not in dataseal's form", hint=_USE_THE_ISSUED) from None


def read_certificate(path: Path) -> Certificate:
    """Read and validate a certificate JSON file."""
    return load_certificate(read_json(path, "certificate", CertificateError, limit=MAX_CERTIFICATE_BYTES),
                            where=str(path))
