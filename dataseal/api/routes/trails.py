"""Audit trails (an asset's, an account's: paged, as JSON, CSV or W3C PROV-JSON), what binds an asset, its usage,
and grants. Trails, encumbrances and usage are read from the registry's index as it is (``dataseal up`` keeps
it following the chain; ``index_last_block`` says how far it goes); a grant is read from the chain."""
from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Final, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response, StreamingResponse

from dataseal.api.deps import RegistryDep
from dataseal.api.models import (
    ERROR_RESPONSES,
    EncumbranceOut,
    Encumbrances,
    ErrorResponse,
    GrantOut,
    ProvDocument,
    TrailPageOut,
    Usage,
)
from dataseal.api.routes.assets import AssetId, read_asset
from dataseal.chain.values import address as checked_address
from dataseal.errors import Conflict, NotFound
from dataseal.registry.audit import AccountSubject, AssetSubject, Subject, compute_csv, compute_prov, parse_cursor
from dataseal.registry.audit.entries import TrailEntry
from dataseal.registry.audit.service import Audit
from dataseal.registry.certificates.model import UINT256_MAX
from dataseal.registry.registry import Registry
from dataseal.registry.services.grants import grant_state

router = APIRouter(responses=ERROR_RESPONSES)

MAX_TRAIL_PAGE: Final = 1000
#: Entries read at a time when a whole trail is downloaded.
EXPORT_PAGE: Final = 1000
#: The longest trail downloaded as one PROV-JSON document (built whole: some hundreds of bytes an entry, twice).
MAX_PROV_EXPORT: Final = 20_000
CSV_MEDIA_TYPE: Final = "text/csv; charset=utf-8"
PROV_MEDIA_TYPE: Final = "application/json"  # PROV-JSON is JSON (W3C Member Submission, no media type of its own)

TrailFormat = Literal["json", "csv", "prov"]
After = Annotated[str | None, Query(description="Start after this BLOCK:LOG cursor (a page's `next`)",
                                    examples=["1042:3"])]
Limit = Annotated[int, Query(ge=1, le=MAX_TRAIL_PAGE, description="Entries a page")]
Format = Annotated[TrailFormat, Query(description="json (this model), csv (one row an entry) or prov (PROV-JSON)")]

# JSON is a page (format=json) or a PROV-JSON document (format=prov): both are declared (schemathesis found the
# PROV document answered under a schema of the page alone)
_TRAIL_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"model": TrailPageOut | ProvDocument, "content": {"text/csv": {"schema": {"type": "string"}}},
          "description": "The page in the format asked for: json a page, prov a PROV-JSON document, csv a table"},
}


def _trail(registry: Registry, subject: Subject, after: str | None, limit: int, fmt: TrailFormat) -> object:
    cursor = parse_cursor(after) if after is not None else None
    audit = Audit(registry, sync=False)
    page = audit.page(subject, after=cursor, limit=limit)
    index = audit.index
    if fmt == "csv":
        return Response(compute_csv(page.entries), media_type=CSV_MEDIA_TYPE)
    if fmt == "prov":
        document = compute_prov(page.entries, chain_id=index.chain_id, asset_registry=index.asset_registry)
        return JSONResponse(json.loads(json.dumps(document, default=str)), media_type=PROV_MEDIA_TYPE)
    data = page.to_json_data()
    return TrailPageOut(chain_id=index.chain_id, subject=data["subject"],  # type: ignore[arg-type]
                        index_last_block=index.last_block, entries=data["entries"],  # type: ignore[arg-type]
                        next=data["next"])  # type: ignore[arg-type]


@router.get("/assets/{asset_id}/trail", response_model=None, responses=_TRAIL_RESPONSES, tags=["audit"],
            summary="Everything that happened to an asset, in chain order")
def get_asset_trail(asset_id: AssetId, registry: RegistryDep, after: After = None, limit: Limit = 100,
                    format: Format = "json") -> object:
    read_asset(registry, asset_id)  # unknown to the chain: the same 404 as /assets/{id}
    return _trail(registry, AssetSubject(asset_id), after, limit, format)


@router.get("/assets/{asset_id}/trail/export", response_model=None, tags=["audit"],
            responses={**_TRAIL_RESPONSES, 409: {"model": ErrorResponse, "description": "A PROV-JSON document of more "
                                                 f"than {MAX_PROV_EXPORT:,} entries is not built on request"}},
            summary="An asset's whole trail as one file to download: JSON, CSV or PROV-JSON")
def export_asset_trail(asset_id: AssetId, registry: RegistryDep, format: Format = "json") -> Response:
    """The whole indexed trail up to the index's last block, not a page of it (the asset page's downloads), as an
    attachment. JSON and CSV are streamed page by page (a trail of any length in bounded memory); a PROV-JSON document
    is built whole, so it is given for trails of up to :data:`MAX_PROV_EXPORT` entries."""
    read_asset(registry, asset_id)
    audit = Audit(registry, sync=False)
    index = audit.index
    subject = AssetSubject(asset_id)
    first = audit.page(subject, limit=EXPORT_PAGE)  # before the answer starts: an asset not indexed is a 404

    def entries() -> Iterator[list[TrailEntry]]:
        page = first
        while True:
            held = [entry for entry in page.entries if entry.block_number <= index.last_block]
            if held:
                yield held
            if page.next_cursor is None or len(held) < len(page.entries):
                return
            page = audit.page(subject, after=page.next_cursor, limit=EXPORT_PAGE)

    name = f"asset-{asset_id}-trail"
    if format == "prov":
        collected = [entry for part in itertools.islice(entries(), MAX_PROV_EXPORT // EXPORT_PAGE + 1)
                     for entry in part]
        if len(collected) > MAX_PROV_EXPORT:
            raise Conflict(f"asset {asset_id}'s trail has more than {MAX_PROV_EXPORT:,} entries: a PROV-JSON document "
                           "is built whole, and one this long is not built on request",
                           hint="download it as JSON or CSV, or page it as PROV (GET /assets/{id}/trail?format=prov)")
        document = compute_prov(collected, chain_id=index.chain_id, asset_registry=index.asset_registry)
        return Response(json.dumps(document, default=str, ensure_ascii=False), media_type=PROV_MEDIA_TYPE,
                        headers=_attachment(name + ".prov.json"))
    if format == "csv":
        def csv_text() -> Iterator[str]:
            yield compute_csv([])  # the header row, once (also when no entry is held)
            for part in entries():
                yield compute_csv(part).partition("\n")[2]
        return StreamingResponse(csv_text(), media_type=CSV_MEDIA_TYPE, headers=_attachment(name + ".csv"))

    def json_text() -> Iterator[str]:
        head = {"chain_id": index.chain_id, "subject": {"asset_id": asset_id}, "index_last_block": index.last_block}
        yield json.dumps(head, ensure_ascii=False)[:-1] + ', "entries": ['
        separator = ""
        for part in entries():
            yield separator + ", ".join(json.dumps(entry.to_json_data(), ensure_ascii=False) for entry in part)
            separator = ", "
        yield '], "next": null}'
    return StreamingResponse(json_text(), media_type="application/json", headers=_attachment(name + ".json"))


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


@router.get("/accounts/{address}/trail", response_model=None, responses=_TRAIL_RESPONSES, tags=["audit"],
            summary="Every event that names an account, in chain order")
def get_account_trail(
    address: Annotated[str, Path(description="0x and 40 hex digits", examples=[
        "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"])],
    registry: RegistryDep, after: After = None, limit: Limit = 100, format: Format = "json",
) -> object:
    return _trail(registry, AccountSubject(checked_address(address, "the account")), after, limit, format)


@router.get("/assets/{asset_id}/encumbrances", response_model=Encumbrances, tags=["audit"],
            summary="The grants that bind an asset now: not revoked, in their window, with quota left")
def get_encumbrances(asset_id: AssetId, registry: RegistryDep) -> Encumbrances:
    read_asset(registry, asset_id)  # an unknown asset is 404, not an empty list
    audit = Audit(registry, sync=False)
    latest = registry.context.connection.w3.eth.get_block("latest")
    now = datetime.fromtimestamp(int(latest["timestamp"]), UTC)
    moment, binding = audit.compute_encumbrances_now(asset_id, now)
    return Encumbrances(asset_id=asset_id, at=moment,
                        grants=[EncumbranceOut.of(e, audit.get_purpose_text(e.purpose)) for e in binding])


@router.get("/assets/{asset_id}/usage", response_model=Usage, tags=["audit"],
            summary="Units used under an asset's grants, per grant and per day or month (UTC)")
def get_usage(asset_id: AssetId, registry: RegistryDep,
              period: Annotated[Literal["day", "month"], Query(description="day or month")] = "month") -> Usage:
    read_asset(registry, asset_id)
    rows = Audit(registry, sync=False).compute_usage(AssetSubject(asset_id), period)
    return Usage(asset_id=asset_id, period=period, rows=rows)


def verify_grant_exists(registry: Registry, grant_id: int) -> None:
    """:class:`NotFound` in the words of an unknown asset's when the chain has no grant ``grant_id`` (rather than
    the chain's revert, ``UnknownGrant(grantId=…)``)."""
    context = registry.context
    grants = context.head_contracts().grants
    total = grants.total_grants()
    if not 1 <= grant_id <= total:
        raise NotFound(f"no grant {grant_id} on chain {context.connection.chain_id} (GrantRegistry at "
                       f"{grants.address}): it has {total} grant{'s' if total != 1 else ''}",
                       hint="check the grant id, and that this is the registry it was granted with")


@router.get("/grants/{grant_id}", response_model=GrantOut, tags=["grants"], summary="A grant as the chain has it now")
def get_grant(grant_id: Annotated[int, Path(ge=1, le=UINT256_MAX, description="The grant's id")],
              registry: RegistryDep) -> GrantOut:
    verify_grant_exists(registry, grant_id)
    state = grant_state(registry, grant_id)
    g, created = state.grant, state.created
    return GrantOut(
        grant_id=g.grant_id, asset_id=g.asset_id, grantee=g.grantee, grantor=created.grantor,
        purpose="0x" + created.purpose.hex(), purpose_text=state.purpose,
        valid_from=datetime.fromtimestamp(g.valid_from, UTC), expires_at=datetime.fromtimestamp(g.expires_at, UTC),
        quota=g.quota, used=g.used, remaining=state.remaining, sequence=g.sequence,
        scope_root="0x" + g.scope_root.hex(), status=g.status.name.rstrip("_"), usable=state.problem() is None,
        tx_hash=created.tx.tx_hash, block_number=created.tx.block_number,
    )
