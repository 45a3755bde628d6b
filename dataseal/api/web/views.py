"""What the public pages show, gathered from the chain and the registry's index: plain values for the templates,
no HTML. An asset's record, certificate and grants' terms are read from the chain (as ``GET /assets/{id}`` and
``GET /grants/{id}`` read them); its trail, objections, versions and grants' list from the index, which
``dataseal up`` keeps following the chain (the page says up to which block).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Final

from sqlmodel import col, func, select

from dataseal.api.models import AssetOut
from dataseal.api.routes.assets import compute_asset_list, compute_asset_out, get_asset_out, read_asset, verify_chain
from dataseal.chain.contracts.logs import LogReader
from dataseal.chain.values import address as checked_address
from dataseal.errors import InvalidInput, NotFound
from dataseal.registry.audit import AssetSubject, parse_cursor
from dataseal.registry.audit.entries import Cursor, TrailEntry
from dataseal.registry.audit.errors import UnknownAsset
from dataseal.registry.audit.service import Audit, IndexEmpty
from dataseal.registry.certificates import parse_certificate_number
from dataseal.registry.certificates.compute import compute_certificate, get_stored_manifest
from dataseal.registry.certificates.model import UINT256_MAX, Certificate
from dataseal.registry.certificates.verify import CertificateReport, compute_certificate_report
from dataseal.registry.db.models.chain import AssetRow, ChainEvent, GrantRow
from dataseal.registry.manifest import Manifest
from dataseal.registry.registry import Registry

#: Trail entries a page shows (the next are a link away).
TRAIL_PAGE: Final = 50
#: Grants, and versions or derived assets, an asset page lists (the grants beyond are counted).
LISTED: Final = 50
#: Owner search: assets a page.
OWNER_PAGE: Final = 50

_DIGITS = re.compile(r"\d{1,100}")
_REGISTRATION = re.compile(r"\d{4}-\d+-\d+-[0-9X]", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------- search


@dataclass(frozen=True)
class SearchResult:
    """What a search found: one asset (the page goes to it), or an owner's assets (a list, paged)."""

    query: str
    assets: tuple[AssetOut, ...]
    owner: str | None = None
    next_after: int | None = None
    certificate: str | None = None  # the certificate number searched for

    @property
    def single(self) -> AssetOut | None:
        return self.assets[0] if self.owner is None and len(self.assets) == 1 else None


def compute_search(registry: Registry, query: str, after: int = 0) -> SearchResult:
    """The assets ``query`` names, by its form: digits an asset id; 0x and 64 hex digits a content root; 0x and 40 an
    owner's address; ``DS-…`` a certificate number; ``YEAR-CHAIN-ASSET-C`` a registration number. Bad input raises
    :class:`InvalidInput` naming the forms; an id, number or root of no asset :class:`NotFound`."""
    text = query.strip()
    if not text:
        raise InvalidInput("the search is empty", hint="type an asset id, a content root, a certificate or "
                           "registration number, or an owner's address")
    if _DIGITS.fullmatch(text):
        if not 1 <= int(text) <= UINT256_MAX:
            raise InvalidInput(f"asset ids are whole numbers from 1 to 2**256 - 1, not {text[:24]}"
                               f"{'…' if len(text) > 24 else ''}",
                               hint="type the asset's number as its certificate shows it")
        return SearchResult(text, (get_asset_out(registry, int(text)),))
    if text.upper().startswith("DS-"):
        number = text.upper()  # its block is checked by the asset page the search leads to, which shows its check
        return SearchResult(text, tuple(compute_asset_list(registry, certificate=number).assets), certificate=number)
    elif _REGISTRATION.fullmatch(text):
        found = compute_asset_list(registry, registration=text.upper())
    elif len(text) == 42 and text[:2].lower() == "0x":
        listed = compute_asset_list(registry, owner=text, after=after, limit=OWNER_PAGE)
        return SearchResult(text, tuple(listed.assets), owner=checked_address(text, "owner"),
                            next_after=int(listed.next) if listed.next is not None else None)
    elif text[:2].lower() == "0x":
        found = compute_asset_list(registry, root=text)
        if not found.assets:
            raise NotFound(f"no asset of chain {registry.context.connection.chain_id} was registered with content "
                           f"root {text.lower()}", hint="check the root (copy it from the manifest or certificate), "
                           "or verify the file itself: a file differing by one byte has another root")
    else:
        raise InvalidInput(f"{text[:80]!r} is none of the things the registry is searched by",
                           hint="type an asset id (7), a content root (0x and 64 hex digits), a certificate number "
                           "(DS-…), a registration number (2025-31337-00000007-3) or an owner's address (0x and 40 "
                           "hex digits)")
    return SearchResult(text, tuple(found.assets))


# ---------------------------------------------------------------------------------------------- an asset


@dataclass(frozen=True)
class GrantView:
    """A grant of the asset as the index holds it, with its quota's use."""

    grant_id: int
    grantee: str
    purpose_text: str | None
    valid_from: datetime
    valid_until: datetime | None
    quota: int
    used: int
    status: str

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.used / self.quota)) if self.quota else 0


@dataclass(frozen=True)
class ObjectionView:
    """An objection filed against the registration (in its public notice): who, the hash of their evidence."""

    time: datetime
    objector: str
    evidence_hash: str
    tx_hash: str
    block_number: int


@dataclass(frozen=True)
class CertificateView:
    """The certificate a number names, recomputed from the chain as of its block, and whether it still holds."""

    number: str
    certificate: Certificate
    report: CertificateReport


@dataclass(frozen=True)
class AssetPage:
    asset: AssetOut
    contract: str
    chain_id: int
    manifest: Manifest | None
    parent: AssetOut | None
    children: tuple[AssetOut, ...]
    objections: tuple[ObjectionView, ...]
    trail: tuple[TrailEntry, ...]
    trail_after: Cursor | None
    trail_next: Cursor | None
    index_last_block: int | None
    grants: tuple[GrantView, ...]
    grants_total: int
    certificate: CertificateView | None


def compute_asset_page(registry: Registry, asset_id: int, *, cert: str | None = None,
                       after: str | None = None) -> AssetPage:
    """Everything the asset page shows (``cert``: the certificate number the page was opened with, from a QR
    code; ``after``: the trail's cursor). An unknown asset raises :class:`NotFound`, a malformed certificate
    number or cursor :class:`InvalidInput`, as the API's routes do."""
    cursor = parse_cursor(after) if after else None
    certificate = compute_certificate_view(registry, asset_id, cert) if cert else None
    context = registry.context
    chain_id = context.connection.chain_id
    on_chain = read_asset(registry, asset_id)
    asset = compute_asset_out(registry, on_chain, chain_id)
    parent = get_asset_out(registry, on_chain.parent_id) if on_chain.parent_id else None
    with registry.db.session() as session:
        child_ids = session.exec(select(AssetRow.asset_id).where(AssetRow.parent_id == asset_id)
                                 .order_by(col(AssetRow.asset_id)).limit(LISTED)).all()
    children = tuple(get_asset_out(registry, child) for child in child_ids)
    try:
        audit: Audit | None = Audit(registry, sync=False)
    except IndexEmpty:  # the indexer has not made its first pass: nothing indexed yet, said on the page
        audit = None
    trail, trail_next, last_block, objections = _trail(registry, audit, asset_id, cursor)
    grants, total = _grants(registry, audit, asset_id, usable_asset=asset.status == "Active")
    return AssetPage(asset=asset, contract=context.head_contracts().registry.address, chain_id=chain_id,
                     manifest=get_stored_manifest(registry.db, asset.manifest_hash), parent=parent,
                     children=children, objections=objections, trail=trail, trail_after=cursor,
                     trail_next=trail_next, index_last_block=last_block, grants=grants, grants_total=total,
                     certificate=certificate)


def _trail(registry: Registry, audit: Audit | None, asset_id: int, cursor: Cursor | None
           ) -> tuple[tuple[TrailEntry, ...], Cursor | None, int | None, tuple[ObjectionView, ...]]:
    """A page of the asset's indexed trail, where the next starts, the index's last block, and the objections
    filed against it (wherever they are in the trail); nothing when nothing is indexed (``audit`` None)."""
    if audit is None:
        return (), None, None, ()
    try:
        page = audit.page(AssetSubject(asset_id), after=cursor, limit=TRAIL_PAGE)
    except UnknownAsset:  # registered after the index's last block
        return (), None, audit.index.last_block, ()
    with registry.db.session() as session:
        rows = session.exec(select(ChainEvent).where(ChainEvent.asset_id == asset_id,
                                                     ChainEvent.event == "ObjectionFiled")
                            .order_by(col(ChainEvent.block_number), col(ChainEvent.log_index))).all()
        objections = tuple(ObjectionView(row.block_time, str(row.args["objector"]), str(row.args["evidence_hash"]),
                                         row.tx_hash, row.block_number) for row in rows)
    return page.entries, page.next_cursor, audit.index.last_block, objections


def grant_standing(row: GrantRow, now: datetime, *, usable_asset: bool = True) -> str:
    """What a grant is at ``now`` (the chain's latest block time): Revoked, NotYetValid, Expired, UsedUp,
    AssetInactive (its asset is not Active: the ledger refuses uses of it) or Active (usable), as the ledger would
    judge a use of it."""
    if row.revoked or row.status == "Revoked":
        return "Revoked"
    if now < row.valid_from:
        return "NotYetValid"
    if row.valid_until is not None and now >= row.valid_until:
        return "Expired"
    if int(row.used) >= int(row.quota):
        return "UsedUp"
    return "Active" if usable_asset else "AssetInactive"


def _grants(registry: Registry, audit: Audit | None, asset_id: int, *,
            usable_asset: bool) -> tuple[tuple[GrantView, ...], int]:
    """The first :data:`LISTED` grants of the asset the index holds, and how many it holds."""
    with registry.db.session() as session:
        rows = session.exec(select(GrantRow).where(GrantRow.asset_id == asset_id)
                            .order_by(col(GrantRow.grant_id)).limit(LISTED)).all()
        total = session.exec(select(func.count()).select_from(GrantRow).where(GrantRow.asset_id == asset_id)).one()
    if not rows or audit is None:  # (an index that holds grants is not empty)
        return (), int(total)
    texts = {purpose: audit.get_purpose_text(purpose) for purpose in {row.purpose for row in rows}}
    now = datetime.fromtimestamp(int(registry.context.connection.w3.eth.get_block("latest")["timestamp"]), UTC)
    return tuple(GrantView(grant_id=row.grant_id, grantee=row.grantee, purpose_text=texts[row.purpose],
                           valid_from=row.valid_from, valid_until=row.valid_until, quota=int(row.quota),
                           used=int(row.used), status=grant_standing(row, now, usable_asset=usable_asset))
                 for row in rows), int(total)


def compute_certificate_view(registry: Registry, asset_id: int, number: str) -> CertificateView:
    """The certificate numbered ``number`` recomputed from the chain as of the block it names, and its report
    (what changed since). A number with a wrong check character, of another chain or of another asset is refused."""
    parsed = parse_certificate_number(number.strip().upper())
    verify_chain(registry, parsed.chain_id, number)
    if parsed.asset_id != asset_id:
        raise NotFound(f"certificate {number} is asset {parsed.asset_id}'s, not asset {asset_id}'s",
                       hint=f"open /assets/{parsed.asset_id}?cert={number}, as its QR code does")
    read_asset(registry, asset_id)
    context = registry.context
    reader = LogReader(context.connection.w3, endpoint=context.connection.endpoint)
    contracts = context.head_contracts()
    latest = reader.latest_block()
    if parsed.block_number > latest:
        raise NotFound(f"certificate {number} is as of block {parsed.block_number}, but the chain's latest block is "
                       f"{latest}: no certificate with this number was issued by this chain",
                       hint="check the number (copy it as printed), and that this is the registry that issued it")
    with registry.db.session() as session:
        row = session.get(AssetRow, asset_id)
        registered_in = row.block_number if row is not None else None
    if registered_in is not None and parsed.block_number < registered_in:
        raise NotFound(f"certificate {number} is as of block {parsed.block_number}, but asset {asset_id} was "
                       f"registered in block {registered_in}: no certificate of it can be as of an earlier block",
                       hint="check the number (copy it as printed), and that this is the registry that issued it")
    cert = compute_certificate(contracts, reader, context.deployment(), asset_id, None,
                               base_url=registry.settings.base_url, now=datetime.now(UTC),
                               as_of=parsed.block_number, manifests=partial(get_stored_manifest, registry.db))
    report = compute_certificate_report(cert, contracts, reader, base_url=registry.settings.base_url)
    return CertificateView(number=cert.certificate_number, certificate=cert, report=report)
