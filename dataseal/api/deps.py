"""FastAPI dependencies: the registry the app serves (opened by the caller, kept on ``app.state.registry``), and
:data:`JSON_ONLY`, the dependency of every route that reads a JSON document (any other content type is a 415)."""
from __future__ import annotations

from typing import Annotated, Any, ClassVar

from fastapi import Depends, Request

from dataseal.api.models import ErrorResponse
from dataseal.errors import InternalError, InvalidInput
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


class UnsupportedContentType(InvalidInput):
    """A body of a content type the route does not read: HTTP 415."""

    http_status: ClassVar[int] = 415


async def require_json(request: Request) -> None:
    """A route that reads a JSON document: any other content type is 415 (not a validation error about bytes)."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "application/json" and not kind.endswith("+json"):
        raise UnsupportedContentType(
            f"{request.method} {request.url.path} reads a JSON document, but the body was sent as "
            f"{kind or 'no content type'}", hint="send the JSON with Content-Type: application/json")


#: The dependency of the routes that read a JSON document, and the answer it adds to theirs.
JSON_ONLY = [Depends(require_json)]
JSON_ONLY_RESPONSES: dict[int | str, dict[str, Any]] = {
    415: {"model": ErrorResponse, "description": "The body is not sent as application/json"}}
