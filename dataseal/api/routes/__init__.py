"""The API's routers, one module a concern; :data:`ROUTERS` is what :func:`~dataseal.api.app.create_app`
includes."""
from __future__ import annotations

from fastapi import APIRouter

from dataseal.api.routes import assets, certificates, grant_writes, health, ownership, trails, verify, writes

#: In the order a request's path is matched against them (FastAPI tries the routes one after the other, and those
#: of the router that holds the match once more): the hot reads first — a verify matched after thirty routes cost
#: 10% more.
ROUTERS: tuple[APIRouter, ...] = (verify.router, assets.router, health.router, trails.router, certificates.router,
                                  ownership.router, writes.router, grant_writes.router)

#: The groups of /docs, in the order a reader meets them (not the matching order above).
TAGS: tuple[dict[str, str], ...] = (
    {"name": "assets", "description": "Registered data assets as the chain has them, their versions and proofs"},
    {"name": "verify", "description": "Check a file, its chunk digests, a proof or an evidence bundle"},
    {"name": "audit", "description": "Trails of assets and accounts, grants, usage and encumbrances"},
    {"name": "certificates", "description": "Registration certificates, computed from the chain (JSON, HTML, PDF)"},
    {"name": "ownership", "description": "Prove control of an asset's owner key (a signed challenge)"},
    {"name": "grants", "description": "A grant's terms, quota and status as the chain has them"},
    {"name": "writes", "description": "Register, relay signed registrations and grants, record usage and trades "
                                      "(authenticated; answered 202 with an operation), and an operation's status"},
    {"name": "health", "description": "The service's chain, database and indexer"},
)
