"""Issuing a certificate: everything read straight from the chain, no database.

:func:`read_asset_facts` reads an asset's AssetRegistered event and the logs that changed it
(transfers, status changes, renewals) up to one block, through eth_getLogs filtered by the asset id's
topic, and computes the asset's state as of that block the way AssetRegistry computes it
(``_statusNow``: a pending registration past its notice is active; an active one past its validity
expired). Logs stay available on any node, so a certificate can be verified years later without an
archive node. :func:`compute_certificate` turns those facts (and the manifest, when known) into a
:class:`~.model.Certificate`; :mod:`.verify` recomputes one the same way and compares.

The manifest (title, licence, source) is not chain data: it is given, or looked up by the manifest hash the
asset was registered with (:data:`ManifestLookup`; :func:`get_stored_manifest` reads the copies a registry's
database keeps), and checked against that hash either way.
"""
from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from urllib.parse import urlsplit

from eth_utils import keccak
from hexbytes import HexBytes
from sqlmodel import select
from web3.exceptions import BlockNotFound

from dataseal.chain.connection.failures import is_connection_failure, unreachable
from dataseal.chain.contracts.artifacts import load_artifact
from dataseal.chain.contracts.deployed import DatasealContracts
from dataseal.chain.contracts.deployment import Deployment
from dataseal.chain.contracts.logs import LogReader
from dataseal.chain.contracts.records import (
    AssetRecord,
    AssetRenewal,
    AssetStatus,
    AssetStatusChange,
    AssetTransfer,
    Record,
)
from dataseal.chain.contracts.revert import canonical_type
from dataseal.chain.errors import ChainError
from dataseal.errors import ErrorKind
from dataseal.registry.certificates.model import (
    CLASSIFICATIONS,
    DEFAULT_BASE_URL,
    LANGUAGES,
    MAX_BLOCK_NUMBER,
    TERM_YEARS,
    UINT256_MAX,
    AsOf,
    Certificate,
    CertificateError,
    Language,
    TxPoint,
    rights_names,
)
from dataseal.registry.certificates.numbering import compute_certificate_number, compute_registration_number
from dataseal.registry.db import Database
from dataseal.registry.db.models.local import ManifestRecord
from dataseal.registry.manifest import Manifest, ManifestError, load_manifest

#: ``lookup(manifest_hash)``: the manifest kept under that hash (0x-hex), or None when none is kept there.
ManifestLookup = Callable[[str], Manifest | None]

_GIVE_THE_MANIFEST = ("give the manifest.json written when the asset's data was sealed, or none (the title then "
                      "shows as unknown)")


@cache
def event_topic(contract: str, event: str) -> str:
    """topic0 of ``contract``'s ``event`` (0x-hex), from the shipped ABI."""
    for item in load_artifact(contract).abi:
        if item.get("type") == "event" and item["name"] == event:
            types = ",".join(canonical_type(i) for i in item["inputs"])
            return "0x" + keccak(text=f"{event}({types})").hex()
    raise ChainError(f"{contract} declares no event {event}", hint="reinstall dataseal", kind=ErrorKind.INTERNAL)


def _id_topic(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()  # in range: verify_asset_id came first


def shown_number(value: object) -> str:
    """``value`` for a message: a number too long to be any id is shown by its size, not its digits."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**100:
        return f"a {abs(value).bit_length()}-bit number"
    return repr(value)


def verify_asset_id(asset_id: object) -> None:
    """Require ``asset_id`` to be an asset id (a whole number from 1 to 2**256 - 1, an ERC-721 token id);
    :class:`CertificateError` otherwise."""
    if isinstance(asset_id, bool) or not isinstance(asset_id, int) or not 1 <= asset_id <= UINT256_MAX:
        raise CertificateError(f"{shown_number(asset_id)} is not an asset id: ids are whole numbers from 1 to "
                               "2**256 - 1", hint="give the id printed when the asset was registered")


@dataclass(frozen=True)
class ChainBlock:
    number: int
    hash: str
    timestamp: int


@dataclass(frozen=True)
class AssetFacts:
    """What the chain says of one asset as of one block: its registration and the state that block sees."""

    chain_id: int
    contract: str
    block: ChainBlock
    registration: AssetRecord
    owner: str
    status: AssetStatus
    valid_until: int  # the registration's validUntil as renewed by this block (0: no expiry)
    notice_period: int  # seconds (0: no review)
    last_status_change: AssetStatusChange | None = None  # the newest up to this block, if any
    last_transfer: AssetTransfer | None = None  # the newest up to this block (the mint at registration at least)

    @property
    def notice_ends_at(self) -> int | None:
        return self.registration.registered_at + self.notice_period if self.notice_period else None


def read_block(log_reader: LogReader, number: int) -> ChainBlock:
    """Block ``number``'s hash and time; :class:`CertificateError` when the chain has no such block."""
    if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= MAX_BLOCK_NUMBER:
        raise CertificateError(f"{shown_number(number)} is not a block number: blocks are numbered from 0 to "
                               "2**63 - 1", hint="give the number of a block of the chain")
    try:
        block = log_reader.w3.eth.get_block(number)
    except BlockNotFound:
        raise CertificateError(f"the chain at {log_reader.endpoint} has no block {number} yet",
                               hint="check the block number, and that this is the node you meant",
                               kind=ErrorKind.NOT_FOUND) from None
    except Exception as exc:
        if is_connection_failure(exc):
            raise unreachable(log_reader.endpoint, exc) from exc
        raise
    return ChainBlock(int(block["number"]), HexBytes(block["hash"]).to_0x_hex(), int(block["timestamp"]))


def read_asset_facts(
    contracts: DatasealContracts, log_reader: LogReader, deployment: Deployment, asset_id: int, block: int,
) -> AssetFacts:
    """The registration of ``asset_id`` and its state as of ``block``, from logs (see the module documentation).

    :class:`CertificateError` (not found) when no AssetRegistered event of the asset is in the blocks up to
    ``block``.
    """
    verify_asset_id(asset_id)
    at = read_block(log_reader, block)
    registry = contracts.registry.address
    asset = _id_topic(asset_id)
    own = [event_topic("AssetRegistry", name) for name in ("AssetRegistered", "AssetStatusChanged", "AssetRenewed")]
    transfer = event_topic("AssetRegistry", "Transfer")
    records: list[Record] = []
    # The asset id is topic 1 of the registry's own events, and topic 3 (tokenId) of ERC-721 Transfer.
    for topics in ([own, asset], [transfer, None, None, asset]):
        records += contracts.decoder.decode_logs(log_reader.logs(registry, deployment.deploy_block, at.number, topics))
    records.sort(key=lambda record: (record.tx.block_number, record.tx.log_index))
    registration = next((r for r in records if isinstance(r, AssetRecord) and r.asset_id == asset_id), None)
    if registration is None:
        raise CertificateError(
            f"asset {asset_id} is not registered in AssetRegistry {registry} on chain {deployment.chain_id} "
            f"(no AssetRegistered event up to block {at.number})",
            hint="check the asset id, and that this is the node and deployment it was registered on",
            kind=ErrorKind.NOT_FOUND,
        )
    owner, status, valid_until = registration.registrant, registration.status, registration.valid_until
    last_change: AssetStatusChange | None = None
    last_transfer: AssetTransfer | None = None
    for record in records:
        if isinstance(record, AssetTransfer) and record.asset_id == asset_id:
            owner, last_transfer = record.to_address, record
        elif isinstance(record, AssetStatusChange) and record.asset_id == asset_id:
            status, last_change = record.to_status, record
        elif isinstance(record, AssetRenewal) and record.asset_id == asset_id:
            valid_until = record.valid_until
    notice_period = contracts.registry.notice_period()
    # AssetRegistry._statusOfWord: only stored statuses move by transactions; these two are derived from time.
    if status == AssetStatus.Pending and at.timestamp >= registration.registered_at + notice_period:
        status = AssetStatus.Active
    if status == AssetStatus.Active and valid_until != 0 and at.timestamp >= valid_until:
        status = AssetStatus.Expired
    return AssetFacts(deployment.chain_id, registry, at, registration, owner, status, valid_until, notice_period,
                      last_change, last_transfer)


def utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def compute_term_end(registered_at: int, valid_until: int) -> int:
    """The end of a certificate's term (the first second it is no longer valid): three calendar years after the
    registration (UTC; 28 February for 29 February), or the registration's ``valid_until`` when earlier."""
    start = utc(registered_at)
    year = start.year + TERM_YEARS
    day = min(start.day, calendar.monthrange(year, start.month)[1])
    end = int(start.replace(year=year, day=day).timestamp())
    return min(end, valid_until) if valid_until else end


def compute_verify_url(base_url: str, asset_id: int, certificate_number: str) -> str:
    """``{base}/assets/{id}?cert={number}``: the public record a certificate's QR code opens."""
    return f"{base_url.rstrip('/')}/assets/{asset_id}?cert={certificate_number}"


def check_base_url(base_url: str) -> str:
    """``base_url`` when it is an http(s) URL without query or fragment; :class:`CertificateError` otherwise."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise CertificateError(f"the verify base URL {base_url!r} is not an http(s) URL without query or fragment "
                               f"(such as {DEFAULT_BASE_URL} or https://registry.example.org)",
                               hint="give the address where the registry's web pages are served",
                               options=("base_url",))
    return base_url.rstrip("/")


def check_language(language: str) -> Language:
    if language not in LANGUAGES:
        raise CertificateError(f"unknown certificate language {language!r}; expected one of {', '.join(LANGUAGES)}",
                               hint="use zh (Chinese), en (English) or zh-en (both)", options=("language",))
    return language  # type: ignore[return-value]


def build_certificate(
    facts: AssetFacts, manifest: Manifest | None, *, base_url: str, issued_at: datetime, language: Language,
) -> Certificate:
    """The certificate of ``facts`` (no chain access; the manifest is taken as given)."""
    record = facts.registration
    certificate_number = compute_certificate_number(facts.chain_id, record.asset_id, facts.block.number)
    classification = CLASSIFICATIONS[record.classification] if record.classification < len(CLASSIFICATIONS) else None
    if classification is None:
        raise CertificateError(f"asset {record.asset_id} has classification {record.classification}, which this "
                               "dataseal does not know (0 public … 3 core)", hint="upgrade dataseal",
                               kind=ErrorKind.INTERNAL)
    notice_ends = facts.notice_ends_at
    return Certificate(
        certificate_number=certificate_number,
        registration_number=compute_registration_number(utc(record.registered_at).year, facts.chain_id,
                                                        record.asset_id),
        language=language,
        chain_id=facts.chain_id,
        contract=facts.contract,
        asset_id=record.asset_id,
        registrant=record.registrant,
        owner=facts.owner,
        title=manifest.title if manifest is not None else None,
        licence=manifest.licence if manifest is not None else None,
        source=manifest.source if manifest is not None else None,
        rights_type=rights_names(record.rights_type),
        classification=classification,
        content_root="0x" + record.content_root.hex(),
        manifest_hash="0x" + record.manifest_hash.hex(),
        parent_id=record.parent_id,
        lineage=record.lineage.name.rstrip("_"),  # type: ignore[arg-type]  # the enum's names are the literal's
        registration=TxPoint(tx_hash=record.tx.tx_hash, block_number=record.tx.block_number,
                             block_hash=record.tx.block_hash, log_index=record.tx.log_index),
        registered_at=utc(record.registered_at),
        notice_ends_at=utc(notice_ends) if notice_ends is not None else None,
        valid_from=utc(record.registered_at),
        valid_until=utc(compute_term_end(record.registered_at, facts.valid_until)),
        status=facts.status.name,  # type: ignore[arg-type]  # never None_ for a registered asset
        as_of=AsOf(block_number=facts.block.number, block_hash=facts.block.hash, time=utc(facts.block.timestamp)),
        issued_at=issued_at.astimezone(UTC).replace(microsecond=0),
        verify_url=compute_verify_url(base_url, record.asset_id, certificate_number),
        manifest=manifest,
    )


def verify_manifest_is_the_assets(manifest: Manifest, facts: AssetFacts) -> None:
    """Require ``manifest`` to be the one registered with the asset (its hash, and the root it describes)."""
    record = facts.registration
    registered = "0x" + record.manifest_hash.hex()
    if manifest.hash_hex != registered:
        raise CertificateError(
            f"the manifest given is not asset {record.asset_id}'s: its hash is {manifest.hash_hex}, the asset was "
            f"registered with manifest hash {registered}", hint=_GIVE_THE_MANIFEST, options=("manifest",))
    root = "0x" + record.content_root.hex()
    if manifest.tree.root != root:
        raise CertificateError(
            f"asset {record.asset_id}'s registered manifest describes root {manifest.tree.root}, but the asset's "
            f"content root is {root}: the registrant registered a manifest of other data",
            hint="issue the certificate without the manifest (the title then shows as unknown)",
            options=("manifest",), kind=ErrorKind.CONFLICT)


def get_stored_manifest(db: Database, manifest_hash: str) -> Manifest | None:
    """The manifest the registry database ``db`` recorded under ``manifest_hash`` (0x-hex), or None when it recorded
    none (a :data:`ManifestLookup`: ``functools.partial(get_stored_manifest, db)``).

    The copy is checked: :class:`CertificateError` (conflict) when it is not a manifest or does not hash to
    ``manifest_hash`` (the database was altered).
    """
    with db.session() as session:
        row = session.exec(select(ManifestRecord).where(ManifestRecord.manifest_hash == manifest_hash.lower())).first()
        data = row.manifest if row is not None else None
    if data is None:
        return None
    where = f"the manifest the registry database at {db.url} keeps under hash {manifest_hash}"
    altered = "the stored copy was altered: give the manifest.json written when the asset's data was sealed"
    try:
        manifest = load_manifest(data, where=where)
    except ManifestError as exc:
        raise CertificateError(f"{where} is not a manifest ({exc.message})", hint=altered, options=("manifest",),
                               kind=ErrorKind.CONFLICT) from None
    if manifest.hash_hex != manifest_hash.lower():
        raise CertificateError(f"{where} hashes to {manifest.hash_hex}", hint=altered, options=("manifest",),
                               kind=ErrorKind.CONFLICT)
    return manifest


def compute_certificate(
    contracts: DatasealContracts,
    log_reader: LogReader,
    deployment: Deployment,
    asset_id: int,
    manifest: Manifest | None,
    *,
    base_url: str = DEFAULT_BASE_URL,
    now: datetime,
    language: str = "zh-en",
    as_of: int | None = None,
    manifests: ManifestLookup | None = None,
) -> Certificate:
    """The certificate of ``asset_id`` as of block ``as_of`` (default: the latest), read from the chain.

    ``manifest`` must be the one registered with the asset (its hash is checked: :class:`CertificateError`
    otherwise); when it is None, ``manifests`` (if given) is asked for the one kept under the asset's manifest
    hash on chain. Without a manifest the title, licence and source show as unknown. ``now`` is the issue time
    (an aware datetime, injected); ``base_url`` is where the public record is served.
    """
    if now.tzinfo is None:
        raise CertificateError("the issue time has no time zone", hint="give an aware datetime (UTC)",
                               kind=ErrorKind.INTERNAL)
    base = check_base_url(base_url)
    lang = check_language(language)
    block = log_reader.latest_block() if as_of is None else as_of
    facts = read_asset_facts(contracts, log_reader, deployment, asset_id, block)
    if manifest is None and manifests is not None:
        manifest = manifests("0x" + facts.registration.manifest_hash.hex())
    if manifest is not None:
        verify_manifest_is_the_assets(manifest, facts)
    return build_certificate(facts, manifest, base_url=base, issued_at=now, language=lang)

