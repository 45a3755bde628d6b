"""``GET /assets/{id}/certificate``: the asset's registration certificate computed from the chain now, as JSON (the
document ``dataseal certificate verify`` reads), a printable HTML page or PDF."""
from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Final, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from dataseal.api.deps import RegistryDep
from dataseal.api.models import ERROR_RESPONSES
from dataseal.api.routes.assets import AssetId, read_asset
from dataseal.chain.contracts.logs import LogReader
from dataseal.registry.certificates import Certificate, compute_certificate, render_html, render_json, render_pdf
from dataseal.registry.certificates.compute import get_stored_manifest

router = APIRouter(tags=["certificates"], responses=ERROR_RESPONSES)

MEDIA_TYPES: Final = {"json": "application/json", "html": "text/html; charset=utf-8", "pdf": "application/pdf"}


@router.get(
    "/assets/{asset_id}/certificate", response_model=Certificate,
    summary="The asset's registration certificate, computed from the chain",
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}},
                                 "application/pdf": {"schema": {"type": "string", "format": "binary"}}},
                     "description": "The certificate in the format asked for"}},
)
def get_certificate(
    asset_id: AssetId, registry: RegistryDep,
    format: Annotated[Literal["json", "html", "pdf"], Query(description="json, html (one A4 page) or pdf")] = "json",
    lang: Annotated[Literal["zh", "en", "zh-en"], Query(description="The certificate's language(s)")] = "zh-en",
) -> Response:
    read_asset(registry, asset_id)  # an unknown asset: the same 404 as /assets/{id}
    context = registry.context
    reader = LogReader(context.connection.w3, endpoint=context.connection.endpoint)
    cert = compute_certificate(context.head_contracts(), reader, context.deployment(), asset_id, None,
                               base_url=registry.settings.base_url, now=datetime.now(UTC), language=lang,
                               manifests=partial(get_stored_manifest, registry.db))
    if format == "html":
        return Response(render_html(cert), media_type=MEDIA_TYPES["html"])
    if format == "pdf":
        return Response(render_pdf(cert), media_type=MEDIA_TYPES["pdf"],
                        headers={"Content-Disposition": f'inline; filename="{cert.certificate_number}.pdf"'})
    return Response(render_json(cert), media_type=MEDIA_TYPES["json"])
