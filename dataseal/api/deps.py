"""FastAPI dependencies: the registry the app serves (opened by the caller, kept on ``app.state.registry``),
:data:`JSON_ONLY`, the dependency of every route that reads a JSON document (any other content type is a 415), and
:func:`answer_from_cache`, how a hot read route runs its work."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, ParamSpec, TypeVar

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool

from dataseal.api.errors import compute_body_parse_error
from dataseal.api.models import ErrorResponse
from dataseal.cached import NotCached, cached_only
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

P = ParamSpec("P")
T = TypeVar("T")


async def answer_from_cache(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``work(*args, **kwargs)`` (a read: it changes nothing) on the event loop when all it reads is held — chain
    reads of the current head, a known title (:mod:`dataseal.cached`) — else in a worker thread.

    A verify or an asset read is some 0.1 ms of work once its chain reads are cached; the hop to a thread and back
    cost more than that, and under load the worker threads fight the event loop for the GIL (the p99 of the hot
    routes was 3–5× their median). A read that needs I/O still never waits for it on the loop: it raises
    :class:`~dataseal.cached.NotCached` before waiting, and is run again, whole, in a thread. Its CPU time is the
    caller's to bound (a route sends work sized by a client's body to a thread itself)."""
    try:
        with cached_only():
            return work(*args, **kwargs)
    except NotCached:
        return await run_in_threadpool(work, *args, **kwargs)


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


def json_object_body(description: str) -> dict[str, Any]:
    """The ``openapi_extra`` of a route reading its JSON object body with :func:`read_json_object`: its request
    body, declared as FastAPI declares a required ``dict`` body parameter."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "additionalProperties": True, "description": description, "title": "Document"}}}}}


async def read_json_object(request: Request) -> tuple[dict[str, Any], bytes]:
    """The request's body, a JSON object, parsed and as sent, for a hot route that reads its body itself (FastAPI's
    body parameter parses the content type with the email package, the JSON into a dict it then validates again:
    more than a verify's own work). Refused as FastAPI refuses a required ``dict`` body parameter (in this API's
    words, :mod:`dataseal.api.errors`): another content type 415 (before the body is read), no body or not an
    object 422, not JSON 400."""
    await require_json(request)
    raw = await request.body()
    if not raw:
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}])
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error",
                                       "input": {}, "ctx": {"error": exc.msg}}]) from None
    except ValueError as exc:  # not text, or an integer longer than Python converts
        raise compute_body_parse_error(exc) from None
    if not isinstance(data, dict):
        raise RequestValidationError([{"type": "dict_type", "loc": ("body",), "msg": "Input should be a valid "
                                       "dictionary", "input": data}])
    return data, raw


def as_utf8_text(raw: bytes) -> bytes | None:
    """``raw`` (a body :func:`json.loads` read) if it is UTF-8 without a byte order mark, as pydantic's JSON parser
    reads it; None for the UTF-16/32 or BOM-led text JSON also allows (then validate the parsed data)."""
    return raw if json.detect_encoding(raw) == "utf-8" else None
