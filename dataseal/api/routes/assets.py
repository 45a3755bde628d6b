"""Assets as the chain has them: by id, by content root, owner, certificate or registration number; their
lineage; proofs of their leaves from the trees this registry stored."""
from __future__ import annotations

import re
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated, Final, cast

from fastapi import APIRouter, Path, Query, Request, Response
from sqlmodel import col, select

from dataseal.api.deps import RegistryDep, answer_from_cache
from dataseal.api.errors import RequestShapeError, wants_page
from dataseal.api.models import ERROR_RESPONSES, AssetList, AssetOut, ProofOut, Versions
from dataseal.cached import require_io
from dataseal.chain.contracts.records import Asset, Lineage
from dataseal.chain.errors import ContractRevert
from dataseal.chain.values import address as checked_address
from dataseal.errors import InvalidInput, NotFound
from dataseal.registry.certificates import (
    compute_registration_number,
    parse_certificate_number,
    parse_registration_number,
)
from dataseal.registry.certificates.compute import get_stored_manifest
from dataseal.registry.certificates.model import UINT256_MAX, rights_names
from dataseal.registry.db import Database
from dataseal.registry.db.models.chain import AssetRow
from dataseal.registry.db.models.local import StoredTreeRecord
from dataseal.registry.merkle.stored import StoredTree
from dataseal.registry.registry import Registry
from dataseal.registry.services.writer import status_name

router = APIRouter(tags=["assets"], responses=ERROR_RESPONSES)

MAX_LIST: Final = 1000
_HEX32 = re.compile(r"0x[0-9a-fA-F]{64}")

AssetId = Annotated[int, Path(ge=1, le=UINT256_MAX, description="The asset's id (1, 2, ...)", examples=[7])]


def parse_hex32(text: str, what: str) -> str:
    """``text`` as lower-case 0x and 64 hex digits; :class:`InvalidInput` saying what is wrong otherwise."""
    value = text.strip()
    shown = repr(value) if len(value) <= 80 else f"{value[:24]!r}… ({len(value)} characters)"
    if not value[:2].lower() == "0x":
        raise InvalidInput(f"{what} {shown} does not start with 0x", hint="give 0x followed by 64 hex digits",
                           options=(what,))
    if re.fullmatch(r"0x[0-9a-fA-F]*", value) is None:
        raise InvalidInput(f"{what} {shown} is not hex", hint="give 0x followed by 64 hex digits", options=(what,))
    if _HEX32.fullmatch(value) is None:
        raise InvalidInput(f"{what} {shown} has {len(value) - 2} hex digits, expected 64 (32 bytes)",
                           hint="give 0x followed by 64 hex digits", options=(what,))
    return value.lower()


def _moment(seconds: int) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def compute_asset_out(registry: Registry, asset: Asset, chain_id: int) -> AssetOut:
    """The API's view of ``asset`` (read from the chain), with the title of the manifest this registry recorded."""
    manifest_hash = "0x" + asset.manifest_hash.hex()
    title = _manifest_title(registry, manifest_hash)
    registered = datetime.fromtimestamp(asset.registered_at, UTC)
    return AssetOut(
        asset_id=asset.asset_id, status=status_name(asset.status), owner=asset.owner, registrant=asset.registrant,
        content_root="0x" + asset.content_root.hex(), manifest_hash=manifest_hash,
        rights=list(rights_names(asset.rights_type)), rights_type=asset.rights_type,
        classification=asset.classification, lineage=asset.lineage.name.rstrip("_"),
        parent_id=asset.parent_id or None, registered_at=registered, valid_until=_moment(asset.valid_until),
        notice_ends_at=_moment(asset.notice_ends_at), title=title,
        registration_number=compute_registration_number(registered.year, chain_id, asset.asset_id),
    )


_TITLES: weakref.WeakKeyDictionary[Database, dict[str, tuple[str | None, float | None]]] = weakref.WeakKeyDictionary()
_TITLES_KEPT = 4096
_UNKNOWN_RECHECK = 5.0
"""Seconds a manifest this registry does not hold is taken as absent before the database is asked again."""


def _manifest_title(registry: Registry, manifest_hash: str, now: Callable[[], float] = time.monotonic) -> str | None:
    """The title of the manifest the registry recorded under ``manifest_hash`` (None without one). A recorded
    manifest is content-addressed, checked once and kept (an asset page read under load is not a database read);
    one it does not hold is asked for again after :data:`_UNKNOWN_RECHECK` seconds (it may be recorded later)."""
    titles = _TITLES.setdefault(registry.db, {})
    known = titles.get(manifest_hash)
    if known is not None and (known[1] is None or now() - known[1] < _UNKNOWN_RECHECK):
        return known[0]
    require_io("a manifest's title")
    manifest = get_stored_manifest(registry.db, manifest_hash)
    if len(titles) >= _TITLES_KEPT:
        titles.clear()
    if manifest is None:
        titles[manifest_hash] = (None, now())  # not held: asked again later
        return None
    titles[manifest_hash] = (manifest.title, None)  # held: content-addressed, kept
    return manifest.title


def read_asset(registry: Registry, asset_id: int) -> Asset:
    """Asset ``asset_id`` as the chain has it now; :class:`NotFound` when it has no such asset."""
    context = registry.context
    contracts = context.head_contracts()
    try:
        return contracts.registry.asset(asset_id)
    except ContractRevert as exc:
        if exc.name != "UnknownAsset":
            raise
    total = contracts.registry.total_assets()  # only for the message: the one call an asset page makes is above
    raise NotFound(f"asset {asset_id} is not registered on chain {context.connection.chain_id} (AssetRegistry at "
                   f"{contracts.registry.address}): it has {total} asset{'s' if total != 1 else ''}",
                   hint="check the asset id, and that this is the registry it was registered with")


def get_asset_out(registry: Registry, asset_id: int) -> AssetOut:
    return compute_asset_out(registry, read_asset(registry, asset_id), registry.context.connection.chain_id)


def verify_chain(registry: Registry, chain_id: int, number: str) -> None:
    """:class:`NotFound` when ``number`` (a certificate or registration number) is of another chain than this
    registry's."""
    here = registry.context.connection.chain_id
    if chain_id != here:
        raise NotFound(f"{number} is a number of chain {chain_id}; this registry serves chain {here}",
                       hint="ask the registry of the chain that issued it")


@router.get("/assets/{asset_id}", response_model=AssetOut, summary="An asset as the chain has it now",
            description="A browser's navigation (Sec-Fetch-Dest: document, or an Accept that prefers text/html as "
            "browsers' do) is answered with the asset's public page instead: "
            "the record, its certificate's check (`?cert=NUMBER`, as the certificate's QR code opens it), its "
            "grants and trail.")
async def get_asset(asset_id: AssetId, registry: RegistryDep, request: Request) -> AssetOut | Response:
    page = getattr(request.app.state, "asset_page", None)
    if page is not None and wants_page(request.scope):
        return cast(Response, await page(request, asset_id))
    return await answer_from_cache(get_asset_out, registry, asset_id)


@router.head("/assets/{asset_id}", include_in_schema=False, response_model=None)
async def head_asset(asset_id: AssetId, registry: RegistryDep, request: Request) -> AssetOut | Response:
    """HEAD of the same (link checkers and QR code previews ask it; the server sends the head alone)."""
    return await get_asset(asset_id, registry, request)


@router.get("/assets", response_model=AssetList, summary="Find assets by content root, owner, certificate or "
            "registration number")
def find_assets(
    registry: RegistryDep,
    root: Annotated[str | None, Query(description="A content root: 0x and 64 hex digits")] = None,
    owner: Annotated[str | None, Query(description="An owner's address: 0x and 40 hex digits")] = None,
    certificate: Annotated[str | None, Query(description="A certificate number, DS-…")] = None,
    registration: Annotated[str | None, Query(description="A registration number, YEAR-CHAIN-ASSET-C")] = None,
    after: Annotated[int | None, Query(ge=0, le=2**63 - 1,
                                       description="With owner: the last asset id of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST, description="With owner: assets a page")] = 100,
) -> AssetList:
    given = {name: value for name, value in (("root", root), ("owner", owner), ("certificate", certificate),
                                             ("registration", registration)) if value is not None}
    if len(given) != 1:
        several = f", not {len(given)} ({', '.join(given)})" if given else ""
        raise RequestShapeError(
            f"give exactly one of root, owner, certificate and registration{several}",
            hint="find assets by one thing at a time", options=("root", "owner", "certificate", "registration"))
    if after is not None and owner is None:
        raise RequestShapeError("after pages the assets of an owner", hint="drop after, or find by owner",
                                options=("after",))
    return compute_asset_list(registry, root=root, owner=owner, certificate=certificate, registration=registration,
                              after=after or 0, limit=limit)


def compute_asset_list(registry: Registry, *, root: str | None = None, owner: str | None = None,
                       certificate: str | None = None, registration: str | None = None, after: int = 0,
                       limit: int = 100) -> AssetList:
    """The assets one of ``root``, ``owner``, ``certificate`` or ``registration`` names (the first given), each read
    from the chain; a malformed value is :class:`InvalidInput`, a number of another chain or asset :class:`NotFound`."""
    if root is not None:
        return AssetList(assets=_by_root(registry, parse_hex32(root, "root")), next=None)
    if owner is not None:
        return _by_owner(registry, checked_address(owner, "owner"), after, limit)
    if certificate is not None:
        number = parse_certificate_number(certificate.strip())
        verify_chain(registry, number.chain_id, certificate.strip())
        return AssetList(assets=[get_asset_out(registry, number.asset_id)], next=None)
    assert registration is not None, "give one of root, owner, certificate and registration"
    parsed = parse_registration_number(registration.strip())
    verify_chain(registry, parsed.chain_id, registration.strip())
    asset = get_asset_out(registry, parsed.asset_id)
    if asset.registration_number != registration.strip():
        raise NotFound(f"registration number {registration.strip()} names asset {parsed.asset_id}, whose number is "
                       f"{asset.registration_number}", hint="copy the number exactly as the certificate shows it")
    return AssetList(assets=[asset], next=None)


def _by_root(registry: Registry, root: str) -> list[AssetOut]:
    """The registration holding ``root`` now, and those that held it before (from the index)."""
    contracts = registry.context.head_contracts()
    ids: list[int] = []
    standing = contracts.registry.asset_id_of(bytes.fromhex(root[2:]))
    if standing is not None:
        ids.append(standing)
    with registry.db.session() as session:
        rows = session.exec(select(AssetRow.asset_id).where(AssetRow.content_root == root)
                            .order_by(col(AssetRow.asset_id))).all()
    ids += [asset_id for asset_id in rows if asset_id not in ids]
    return [get_asset_out(registry, asset_id) for asset_id in ids]


def _by_owner(registry: Registry, owner: str, after: int, limit: int) -> AssetList:
    """The assets the index says ``owner`` holds (each read from the chain: one transferred since is left out)."""
    with registry.db.session() as session:
        rows = session.exec(select(AssetRow.asset_id).where(AssetRow.owner == owner, col(AssetRow.asset_id) > after)
                            .order_by(col(AssetRow.asset_id)).limit(limit + 1)).all()
    page = list(rows[:limit])
    assets = [a for a in (get_asset_out(registry, asset_id) for asset_id in page) if a.owner == owner]
    return AssetList(assets=assets, next=str(page[-1]) if len(rows) > limit else None)


@router.get("/assets/{asset_id}/versions", response_model=Versions, summary="An asset's parent and its versions and "
            "derived assets")
def get_versions(asset_id: AssetId, registry: RegistryDep) -> Versions:
    asset = read_asset(registry, asset_id)
    chain_id = registry.context.connection.chain_id
    parent = get_asset_out(registry, asset.parent_id) if asset.parent_id else None
    with registry.db.session() as session:
        child_ids = session.exec(select(AssetRow.asset_id).where(AssetRow.parent_id == asset_id)
                                 .order_by(col(AssetRow.asset_id))).all()
    return Versions(asset_id=asset_id, lineage=Lineage(asset.lineage).name.rstrip("_"), parent=parent,
                    children=[compute_asset_out(registry, read_asset(registry, i), chain_id) for i in child_ids])


@router.get("/assets/{asset_id}/proofs/{leaf}", response_model=ProofOut, summary="The proof of one leaf of an "
            "asset's tree")
def get_proof(
    asset_id: AssetId, registry: RegistryDep,
    leaf: Annotated[int, Path(ge=0, le=2**63 - 1, description="The leaf's index (0 is the first)")],
) -> ProofOut:
    asset = read_asset(registry, asset_id)
    root = "0x" + asset.content_root.hex()
    with registry.db.session() as session:
        row = session.exec(select(StoredTreeRecord).where(StoredTreeRecord.content_root == root)).first()
        stored = FilePath(row.path) if row is not None else None
    if stored is not None and not stored.is_absolute():
        stored = registry.data_dir / stored
    if stored is None or not stored.exists():
        raise NotFound(f"this registry has no stored tree for asset {asset_id} (content root {root})",
                       hint="ask the registry that registered it, or prove the leaf from the data itself")
    with StoredTree.open(stored) as tree:
        if leaf >= tree.leaf_count:
            raise NotFound(f"asset {asset_id}'s tree has {tree.leaf_count} leaves (0 to {tree.leaf_count - 1}), "
                           f"no leaf {leaf}", hint=f"give a leaf index from 0 to {tree.leaf_count - 1}")
        return ProofOut(asset_id=asset_id, content_root=root, leaf_count=tree.leaf_count, leaf_index=leaf,
                        leaf="0x" + tree.leaf(leaf).hex(), proof=["0x" + node.hex() for node in tree.proof(leaf)])
