"""The API's documentation pages, served from this package's machine (a registry may run offline: a page loading its
scripts from a CDN would be blank), and what the OpenAPI schema says about errors.

- ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) reference only the assets under :data:`DOCS_ASSETS_PATH`, served
  from the files the ``fastapi-offline`` package ships (Swagger UI's bundle and CSS, ReDoc's standalone script);
- :func:`compute_openapi` documents, on every operation, the error answers any request may get (a malformed
  Host or body, an unknown id, a body over the limit, a chain that does not answer), and 401 on the operations
  that need a writer's credentials.
"""
from __future__ import annotations

from importlib.resources import files
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from dataseal.api.models import ErrorResponse

DOCS_PATH: Final = "/docs"
REDOC_PATH: Final = "/redoc"
#: Where the pages' scripts, styles and icon are served from.
DOCS_ASSETS_PATH: Final = "/docs-assets"
#: The files of Swagger UI and ReDoc, as fastapi-offline ships them.
DOCS_ASSETS = files("fastapi_offline") / "static"

#: The answer an operation that takes credentials gives without them or with refused ones.
UNAUTHORIZED: Final = "No credentials, or refused ones (a write needs a signed request or an operator API key)"


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs``, ``/redoc`` and their assets on ``app`` (made with ``docs_url=None, redoc_url=None``), and
    compute its OpenAPI schema with :func:`compute_openapi`."""
    app.mount(DOCS_ASSETS_PATH, StaticFiles(directory=str(DOCS_ASSETS)), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    redirect_url = f"{DOCS_PATH}/oauth2-redirect"

    @app.get(DOCS_PATH, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url, title=f"{app.title} - Swagger UI", oauth2_redirect_url=root + redirect_url,
            swagger_js_url=f"{root}{DOCS_ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS_PATH}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters)

    @app.get(redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_PATH, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(openapi_url=root + openapi_url, title=f"{app.title} - ReDoc",
                              redoc_js_url=f"{root}{DOCS_ASSETS_PATH}/redoc.standalone.js",
                              redoc_favicon_url=f"{root}{DOCS_ASSETS_PATH}/favicon.png", with_google_fonts=False)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = compute_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def compute_openapi(app: FastAPI) -> dict[str, Any]:
    """``app``'s OpenAPI schema, with 401 documented on each operation that names a security scheme (the error
    answers every route may give are the app's ``responses``: :data:`~dataseal.api.models.ERROR_RESPONSES`)."""
    schema = get_openapi(title=app.title, version=app.version, openapi_version=app.openapi_version,
                         summary=app.summary, description=app.description, routes=app.routes, tags=app.openapi_tags,
                         servers=app.servers)
    error_ref = {"$ref": f"#/components/schemas/{ErrorResponse.__name__}"}
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if isinstance(operation, dict) and operation.get("security"):
                operation.setdefault("responses", {}).setdefault("401", {
                    "description": UNAUTHORIZED,
                    "content": {"application/json": {"schema": error_ref}}})
    return schema
