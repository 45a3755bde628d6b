"""FastAPI dependencies: the registry the app serves (opened by the caller, kept on ``app.state.registry``)."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from dataseal.errors import InternalError
from dataseal.registry.registry import Registry


def get_registry(request: Request) -> Registry:
    """The registry of the app serving ``request``."""
    registry = getattr(request.app.state, "registry", None)
    if not isinstance(registry, Registry):
        raise InternalError("this API was started without a registry", hint="start it through create_app(registry)")
    return registry


RegistryDep = Annotated[Registry, Depends(get_registry)]
