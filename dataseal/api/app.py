"""Placeholder: replaced by API1's ``dataseal/api/app.py`` at merge (the lead keeps API1's file).

It only has the signature the HTTP API's application factory will have, so that `dataseal up` can be
built and tested beside it: GET /health answers ``{"status": "ok"}``, requests naming a Host outside
``allowed_hosts`` are refused, and web pages are let in only from ``cors_origins``.
"""
from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from dataseal.registry.registry import Registry

#: The largest request body the API reads (placeholder value).
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024


def create_app(
    registry: Registry,
    *,
    cors_origins: Sequence[str] = (),
    allowed_hosts: Sequence[str] = ("127.0.0.1", "localhost"),
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> FastAPI:
    """The HTTP API over ``registry`` (placeholder: GET /health only)."""
    app = FastAPI(title="dataseal")
    app.state.registry = registry
    app.state.max_body_bytes = max_body_bytes

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    if cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["*"],
                           allow_headers=["*"])
    return app
