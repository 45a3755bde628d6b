"""The public pages, server-rendered (Jinja2): the search at ``/``, an asset's page (``GET /assets/{id}`` asked for
by a browser, :func:`render_asset_page`), the verify page and the error page a browser is shown instead of the
JSON error (:func:`render_error_page`). Read-only pages need no JavaScript; the verify page's checks run in the
browser (``static/verify.js``: the file is hashed there and only its chunk digests are sent).

Every page is in English or Chinese (:mod:`.i18n`); its links keep the language. Nothing here writes.
"""
from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.concurrency import run_in_threadpool

from dataseal.api.deps import RegistryDep, registry_of
from dataseal.api.routes.assets import read_asset
from dataseal.api.web.i18n import Lang, Words, choose_lang
from dataseal.api.web.views import compute_asset_page, compute_search
from dataseal.registry.certificates.compute import get_stored_manifest
from dataseal.registry.certificates.model import UINT256_MAX
from dataseal.registry.certificates.render import BEIJING
from dataseal.registry.manifest import FileContent, FolderContent, TableContent
from dataseal.registry.registry import Registry
from dataseal.registry.sealing.options import DEFAULT_CHUNK_SIZE

router = APIRouter(include_in_schema=False)

STATIC_DIR: Final = Path(__file__).parent / "static"
HTML: Final = "text/html; charset=utf-8"
#: The pages load nothing but this registry's own stylesheet and script, and call nothing but its own routes; no
#: other site may frame them (a page that vouches for an asset must not be shown inside another's).
PAGE_HEADERS: Final = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Vary": "Accept, Accept-Language, Sec-Fetch-Dest",
}
#: Longest search text read (the longest thing searched by, a content root, is 66 characters).
MAX_QUERY: Final = 200


@cache
def _environment() -> Environment:
    env = Environment(loader=PackageLoader("dataseal.api.web", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["size"] = format_size
    env.filters["group"] = lambda n: f"{n:,}"
    return env


def format_size(size: int) -> str:
    """``3,145,728 bytes (3.0 MiB)``: exact, then readable."""
    exact = f"{size:,} byte{'s' if size != 1 else ''}"
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{exact} ({size / scale:.1f} {unit})"
    return exact


class Page:
    """What every template is given: the words of the request's language, links that keep it, times shown in it."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.lang: Lang = choose_lang(request.query_params.get("lang"),
                                      request.headers.get("accept-language"))
        self.t = Words(self.lang)

    def url(self, path: str, **params: object) -> str:
        """``path`` with ``params`` (None left out) and this page's language."""
        query = {name: value for name, value in params.items() if value is not None}
        query["lang"] = self.lang
        return f"{path}?{urlencode(query)}"

    def other_lang_url(self) -> str:
        """This page in the other language: a query alone, so that the link stays on this path (a path such as
        ``//elsewhere.example`` is never written into a link)."""
        query = dict(self.request.query_params)
        query["lang"] = self.t.other
        return f"?{urlencode(query)}"

    def time(self, moment: datetime) -> str:
        """A time as the reader's language shows it: UTC in English, Beijing time in Chinese."""
        if self.lang == "zh":
            return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S") + " 北京时间"
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        html = _environment().get_template(template).render(page=self, t=self.t, **context)
        return HTMLResponse(html, status_code=status_code, media_type=HTML,
                            headers={**PAGE_HEADERS, "Content-Language": self.t.html_lang})


def _footer(registry: Registry) -> dict[str, object]:
    context = registry.context
    return {"chain_id": context.connection.chain_id, "contract": context.head_contracts().registry.address}


# ---------------------------------------------------------------------------------------------- routes


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
def home(request: Request, registry: RegistryDep) -> HTMLResponse:
    return Page(request).render("home.html.j2", footer=_footer(registry))


@router.api_route("/search", methods=["GET", "HEAD"], response_class=HTMLResponse)
def search(request: Request, registry: RegistryDep,
           q: Annotated[str, Query(max_length=MAX_QUERY)] = "",
           after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0) -> Response:
    """One asset found: its page (303); an owner's assets: a list; nothing or bad input: the error page."""
    page = Page(request)
    found = compute_search(registry, q, after)
    if found.single is not None:  # a certificate number: its page with the certificate's check, as its QR code opens
        return RedirectResponse(page.url(f"/assets/{found.single.asset_id}", cert=found.certificate),
                                status_code=303, headers={"Vary": "Accept, Accept-Language, Sec-Fetch-Dest"})
    return page.render("search.html.j2", found=found, footer=_footer(registry))


@router.api_route("/verify", methods=["GET", "HEAD"], response_class=HTMLResponse)
def verify_page(request: Request, registry: RegistryDep,
                asset: Annotated[int | None, Query(ge=1, le=UINT256_MAX)] = None) -> HTMLResponse:
    """The file and document checks; ``asset``: the asset a file is checked against (its chunking and size, when
    this registry holds its manifest)."""
    target: dict[str, object] = {"asset": "", "size": "", "chunk_size": DEFAULT_CHUNK_SIZE, "sealed_as": ""}
    if asset is not None:
        on_chain = read_asset(registry, asset)
        target["asset"] = asset
        manifest = get_stored_manifest(registry.db, "0x" + on_chain.manifest_hash.hex())
        content = manifest.content if manifest is not None else None
        if isinstance(content, FileContent):
            target.update(size=content.size, chunk_size=content.chunk_size, sealed_as="file")
        elif isinstance(content, TableContent):
            target.update(size=content.size, sealed_as="table")
        elif isinstance(content, FolderContent):
            target["sealed_as"] = "folder"
    return Page(request).render("verify.html.j2", target=target, footer=_footer(registry))


async def render_asset_page(request: Request, asset_id: int) -> HTMLResponse:
    """The asset's page: record, certificate (``?cert=``), grants, trail (``?after=`` pages it), downloads."""
    registry = registry_of(request)
    params = request.query_params
    view = await run_in_threadpool(compute_asset_page, registry, asset_id, cert=params.get("cert"),
                                   after=params.get("after"))
    footer = await run_in_threadpool(_footer, registry)
    return Page(request).render("asset.html.j2", view=view, footer=footer)


def render_error_page(request: Request, status: int, body: dict[str, Any],
                      headers: dict[str, str] | None = None) -> HTMLResponse:
    """The error page a browser is shown: a heading in the reader's language, the registry's message and hint
    (the JSON error's), the search again; never a traceback (a 500's message is the generic one)."""
    page = Page(request)
    error = body.get("error", {})
    family = status if status in (400, 404, 409, 413, 503) else (400 if status < 500 else 500)
    response = page.render("error.html.j2", status_code=status, status=status, title=page.t(f"error_title_{family}"),
                           message=str(error.get("message", "")), hint=str(error.get("hint", "")), footer=None)
    response.headers.update(headers or {})
    return response

