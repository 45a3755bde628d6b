"""The public pages the API process serves beside its JSON routes (issue 13): search, an asset's record, certificate
and trail, and the in-browser file and document checks. :func:`install_web` adds them to an app."""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from dataseal.api.web.pages import STATIC_DIR, render_asset_page, render_error_page, router


def install_web(app: FastAPI) -> None:
    """The pages' routes, their static files at ``/static``, the asset page and the error page browsers are shown."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.state.error_page = render_error_page
    app.state.asset_page = render_asset_page  # GET /assets/{id} asked for by a browser
