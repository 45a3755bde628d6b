"""The API's routers, one module a concern; :data:`ROUTERS` is what :func:`~dataseal.api.app.create_app`
includes."""
from __future__ import annotations

from fastapi import APIRouter

from dataseal.api.routes import assets, certificates, grant_writes, health, ownership, trails, verify, writes

ROUTERS: tuple[APIRouter, ...] = (health.router, assets.router, trails.router, certificates.router, verify.router,
                                  ownership.router, writes.router, grant_writes.router)
