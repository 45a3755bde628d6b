"""``GET /health``: whether the chain and the database answer, and how far the index is behind the chain."""
from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from dataseal.api.deps import RegistryDep
from dataseal.api.models import ChainHealth, DatabaseHealth, Health, IndexerHealth
from dataseal.errors import DatasealError
from dataseal.registry.indexer.queries import get_indexer_state
from dataseal.registry.registry import Registry

router = APIRouter(tags=["health"])
log = logging.getLogger("dataseal.api")


def _reason(exc: Exception) -> str:
    return exc.message if isinstance(exc, DatasealError) else f"{type(exc).__name__}: {exc}"


def compute_chain_health(registry: Registry) -> ChainHealth:
    try:
        connection = registry.context.connection
        return ChainHealth(reachable=True, chain_id=connection.chain_id, latest_block=connection.w3.eth.block_number)
    except Exception as exc:  # a health check reports, it does not fail
        log.warning("health: the chain did not answer: %s", _reason(exc))
        return ChainHealth(reachable=False, error=_reason(exc))


def compute_database_health(registry: Registry) -> tuple[DatabaseHealth, int | None]:
    """The database's health, and the index's last block (None: never indexed, or no database)."""
    try:
        with registry.db.session() as session:
            session.exec(text("SELECT 1"))  # type: ignore[call-overload]
            state = get_indexer_state(session)
            last_block = state.last_block if state is not None else None
        return DatabaseHealth(reachable=True), last_block
    except Exception as exc:
        log.warning("health: the database did not answer: %s", _reason(exc))
        return DatabaseHealth(reachable=False, error=_reason(exc)), None


def compute_health(registry: Registry) -> Health:
    chain = compute_chain_health(registry)
    database, last_block = compute_database_health(registry)
    lag = (max(chain.latest_block - last_block, 0)
           if chain.latest_block is not None and last_block is not None else None)
    up = chain.reachable and database.reachable
    return Health(status="ok" if up else "down", chain=chain, database=database,
                  indexer=IndexerHealth(last_block=last_block, lag=lag))


@router.get("/health", response_model=Health, summary="The chain, the database and the index's lag",
            responses={503: {"model": Health, "description": "The chain or the database does not answer"}})
def get_health(registry: RegistryDep) -> JSONResponse:
    health = compute_health(registry)
    return JSONResponse(health.model_dump(mode="json"), status_code=200 if health.status == "ok" else 503)
