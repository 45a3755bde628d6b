"""FastAPI dependencies: the registry the app serves (opened by the caller, kept on ``app.state.registry``)."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from dataseal.errors import InternalError
from dataseal.registry.registry import Registry


def registry_of(request: Request) -> Registry:
    """The registry of the app serving ``request``."""
    registry = getattr(request.app.state, "registry", None)
    if not isinstance(registry, Registry):
        raise InternalError("this API was started without a registry", hint="start it through create_app(registry)")
    return registry


async def get_registry(request: Request) -> Registry:
    """:func:`registry_of` as a dependency (async: a sync dependency costs every request a thread hop)."""
    return registry_of(request)


RegistryDep = Annotated[Registry, Depends(get_registry)]
