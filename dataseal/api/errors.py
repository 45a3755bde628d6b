"""The HTTP API's one error contract: every failure answers ``{"error": {"kind", "message", "hint", "options"}}``.

- a :class:`~dataseal.errors.DatasealError` gets the status of its kind (:data:`STATUS_OF_KIND`); a
  :class:`RequestShapeError` (the request's parameters do not fit together) 422, :class:`PayloadTooLarge` 413;
- FastAPI's request validation (a query parameter of the wrong type or out of range) 422, with each problem named;
- an unknown route 404, a method a route does not take 405, in the same shape;
- a body larger than the app's limit 413 (:class:`BodyLimitMiddleware`, before or while it is read);
- anything else 500 with a generic message: logged here with its traceback, never sent to the client.
"""
from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from typing import Any, ClassVar, cast

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dataseal.errors import DatasealError, ErrorKind, InvalidInput
from dataseal.registry.manifest import MAX_JSON_DEPTH
from dataseal.registry.sealing.canonical import exceeds_json_depth

log = logging.getLogger("dataseal.api")

#: The HTTP status of each kind of error.
STATUS_OF_KIND: dict[ErrorKind, int] = {
    ErrorKind.INVALID_INPUT: 400,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.UNAVAILABLE: 503,
    ErrorKind.INTERNAL: 500,
}

#: FastAPI's detail when a JSON body's bytes could not be decoded (not UTF-8): a 400 said in our words.
BODY_PARSE_DETAIL = "There was an error parsing the body"
INTERNAL_MESSAGE = "the registry failed to answer this request"
INTERNAL_HINT = "try again; if it keeps failing, report it to the registry's operator with the time of the request"


class RequestShapeError(InvalidInput):
    """The request's parameters do not fit together (none or several of a set that takes one): 422."""

    http_status: ClassVar[int] = 422


class PayloadTooLarge(InvalidInput):
    """A request body over the app's limit: 413."""

    http_status: ClassVar[int] = 413


def compute_error_body(kind: ErrorKind | str, message: str, hint: str = "",
                       options: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON body of an error answer."""
    error: dict[str, Any] = {"kind": str(kind), "message": message, "hint": hint}
    if options:
        error["options"] = list(options)
    return {"error": error}


def compute_error_status(error: DatasealError) -> int:
    """The HTTP status of ``error``: its class's own (``http_status``: 401, 413, 415, 422), else its kind's."""
    own = getattr(error, "http_status", None)
    return own if isinstance(own, int) else STATUS_OF_KIND.get(error.kind, 500)


def error_response(error: DatasealError) -> JSONResponse:
    return JSONResponse(compute_error_body(error.kind, error.message, error.hint, error.options),
                        status_code=_logged_status(error))


def _logged_status(error: DatasealError) -> int:
    """:func:`compute_error_status`, logging an error of the service's own (5xx)."""
    status = compute_error_status(error)
    if status >= 500:
        log.warning("answered %s: %s", status, error)
    return status


def _where(loc: Sequence[Any]) -> str:
    parts = [str(part) for part in loc]
    if parts and parts[0] in ("query", "path", "header", "cookie"):
        return f"{parts[0]} parameter {'.'.join(parts[1:])}" if len(parts) > 1 else parts[0]
    if parts and parts[0] == "body":
        return "body" + (f" field {'.'.join(parts[1:])}" if len(parts) > 1 else "")
    return ".".join(parts) or "the request"


def _shown(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def compute_option_name(loc: Sequence[Any]) -> str | None:
    """The parameter or body field a validation error's location names (``digests`` for ``body.digests.0``,
    ``limit`` for ``query.limit``); None for the body as a whole."""
    parts = list(loc[1:]) if loc and loc[0] in ("query", "path", "header", "cookie", "body") else list(loc)
    return next((str(part) for part in parts if isinstance(part, str)), None)


def compute_json_error(exc: RequestValidationError) -> InvalidInput | None:
    """A body that is not JSON at all (FastAPI reports it as a validation error of the body): bad input, 400."""
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            loc = error.get("loc", ())
            where = f" at character {loc[-1]}" if loc and isinstance(loc[-1], int) else ""
            reason = (error.get("ctx") or {}).get("error", "not JSON")
            return InvalidInput(f"the request body is not JSON: {reason}{where}",
                                hint="send one JSON document, as the route's schema in /docs describes")
    return None


def compute_validation_body(exc: RequestValidationError) -> dict[str, Any]:
    """One message naming every parameter at fault, what it must be and what was given."""
    problems: list[str] = []
    names: list[str] = []
    for error in exc.errors():
        loc = error.get("loc", ())
        name = compute_option_name(loc)
        if name is not None and error.get("type") != "extra_forbidden":  # a field the request made up: not ours
            names.append(name)
        given = f" (got {_shown(error['input'])})" if "input" in error and error.get("type") != "missing" else ""
        problems.append(f"{_where(loc)}: {error.get('msg', 'invalid')}{given}")
    message = "invalid request: " + "; ".join(problems)
    return compute_error_body(ErrorKind.INVALID_INPUT, message, "fix the parameters named and send the request again",
                              tuple(dict.fromkeys(names)))


def wants_page(scope: Scope) -> bool:
    """Whether the request is a browser's navigation, answered with a page (and its errors with the error page,
    ``app.state.error_page``) rather than JSON: a GET or HEAD that a browser says is for a document
    (``Sec-Fetch-Dest: document``), or, from one that does not say, whose Accept ranks text/html above JSON and names
    application/xhtml+xml beside it, as every browser's navigation does (a client's ``text/html, */*`` is not one)."""
    if scope.get("method") not in ("GET", "HEAD"):
        return False
    accept = b""
    for name, value in scope.get("headers", ()):
        if name == b"sec-fetch-dest":
            return value == b"document"
        if name == b"accept":
            accept = value
    if b"text/html" not in accept:
        return False
    weights = compute_accept_weights(accept.decode("latin-1"))
    html = weights.get("text/html", 0.0)
    json_weight = max(weights.get("application/json", 0.0), weights.get("application/*", 0.0),
                      weights.get("*/*", 0.0))
    return html > json_weight and weights.get("application/xhtml+xml", 0.0) > 0


def compute_accept_weights(accept: str) -> dict[str, float]:
    """Each media range of an Accept header and its weight (``q``, 1 when not given; a malformed one 0)."""
    weights: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    weight = 0.0
        if media:
            weights[media.lower()] = max(weight, weights.get(media.lower(), 0.0))
    return weights


def _answer(request: Request, body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Response:
    """An error's answer: the error page for a browser's navigation when the app has one, else the JSON body."""
    page = getattr(request.app.state, "error_page", None)
    if page is not None and wants_page(request.scope):
        return cast(Response, page(request, status, body, headers))
    return JSONResponse(body, status_code=status, headers=headers)


def _error_answer(request: Request, error: DatasealError) -> Response:
    return _answer(request, compute_error_body(error.kind, error.message, error.hint, error.options),
                   _logged_status(error))


async def _dataseal_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DatasealError)
    return _error_answer(request, exc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    not_json = compute_json_error(exc)
    if not_json is not None:
        return _error_answer(request, not_json)
    return _answer(request, compute_validation_body(exc), 422)


def compute_body_parse_error(cause: BaseException | None) -> InvalidInput:
    """A JSON body that could not be parsed other than as malformed JSON: bytes that are not text (UTF-8, or
    UTF-16/32 as JSON allows), or an integer longer than Python converts."""
    if isinstance(cause, ValueError) and not isinstance(cause, UnicodeDecodeError):
        return InvalidInput(f"the request body is not JSON dataseal reads: it holds an integer of more than "
                            f"{sys.get_int_max_str_digits()} digits; no dataseal document does",
                            hint="send the document as dataseal wrote it")
    return InvalidInput("the request body is not JSON: it could not be read as UTF-8 text",
                        hint="send the JSON document encoded as UTF-8")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    if isinstance(exc.__cause__, DatasealError):  # FastAPI made an error of ours, raised reading the body, a 400
        return _error_answer(request, exc.__cause__)
    if status == 404:
        body = compute_error_body(ErrorKind.NOT_FOUND, f"no such route: {request.method} {request.url.path}",
                                  "see /docs for the routes this registry serves")
    elif status == 405:
        body = compute_error_body(ErrorKind.INVALID_INPUT, f"{request.url.path} does not take {request.method}",
                                  "see /docs for the methods each route takes")
    elif status == 400 and exc.detail == BODY_PARSE_DETAIL:
        return _error_answer(request, compute_body_parse_error(exc.__cause__))
    else:
        kind = ErrorKind.INTERNAL if status >= 500 else ErrorKind.INVALID_INPUT
        body = compute_error_body(kind, str(exc.detail), "see /docs for what this route takes")
    return _answer(request, body, status, getattr(exc, "headers", None))


def install_error_handlers(app: FastAPI) -> None:
    """Map every failure of ``app`` to the error contract (see the module documentation)."""
    app.add_exception_handler(DatasealError, _dataseal_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(CatchAllMiddleware)


class CatchAllMiddleware:
    """Any exception no handler took: logged with its traceback, answered 500 in the error contract's shape (never
    a traceback), and not raised further (the server would log it again)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            request = Request(scope, receive)
            if isinstance(exc, DatasealError):  # one raised outside a route (a middleware): still ours
                response = _error_answer(request, exc)
            else:
                log.exception("%s %s failed", scope.get("method"), scope.get("path"))
                body = compute_error_body(ErrorKind.INTERNAL, INTERNAL_MESSAGE, INTERNAL_HINT)
                try:
                    response = _answer(request, body, 500)
                except Exception:  # the error page itself failed: the JSON, which cannot
                    log.exception("the error page of %s %s failed", scope.get("method"), scope.get("path"))
                    response = JSONResponse(body, status_code=500)
            if started:  # too late to answer: the client sees a cut-off response
                raise
            await response(scope, receive, send)


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_body_bytes`` with 413: at once when Content-Length says so, else as soon as
    the bytes read pass the limit (a chunked upload is never read whole first)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.exempt = exempt  # paths whose routes stream their bodies under a limit of their own

    def _too_large(self, size: int | None) -> PayloadTooLarge:
        shown = f"{size:,} bytes" if size is not None else f"more than {self.max_body_bytes:,} bytes"
        return PayloadTooLarge(f"the request body is {shown}, over this registry's limit of "
                               f"{self.max_body_bytes:,} bytes",
                               hint="send less (for a large file, send its chunk digests instead of its bytes)")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.exempt:
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
                if declared is not None and declared > self.max_body_bytes:
                    await error_response(self._too_large(declared))(scope, receive, send)
                    return
        received = 0

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise self._too_large(None)
            return message

        await self.app(scope, counting, send)


class BodyTimeout(InvalidInput):
    """A request body that stopped arriving: HTTP 408."""

    http_status: ClassVar[int] = 408


#: How long a request body may go without a byte arriving before it is refused (408).
BODY_IDLE_SECONDS = 30.0


class BodyTimeoutMiddleware:
    """Refuse, with 408, a request whose body stops arriving for ``idle_seconds`` (a client that sends its headers,
    then trickles or withholds its body, would hold its connection, and the route waiting for it, for ever; uvicorn
    bounds only idle keep-alive connections, and the head's size (:mod:`dataseal.api.server`), not its time). Once
    the body is complete, reading is not timed: a streamed answer waits for the client's disconnect on the same
    channel."""

    def __init__(self, app: ASGIApp, idle_seconds: float = BODY_IDLE_SECONDS) -> None:
        self.app = app
        self.idle_seconds = idle_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        complete = False

        async def timed() -> Message:
            nonlocal complete
            if complete:
                return await receive()
            with anyio.move_on_after(self.idle_seconds) as waited:
                message = await receive()
            if waited.cancelled_caught:
                raise BodyTimeout(f"the request body stopped arriving: no byte for {self.idle_seconds:g} s",
                                  hint="send the whole body without pausing (or send less)")
            if message["type"] != "http.request" or not message.get("more_body", False):
                complete = True
            return message

        await self.app(scope, timed, send)


class JsonDepthMiddleware:
    """Refuse a JSON body nested deeper than :data:`~dataseal.registry.manifest.MAX_JSON_DEPTH` levels before it is
    parsed, with 400: a parser recurses once per level, and under the recursion limit py-evm's dependencies raise a
    few hundred thousand ``[`` overflow the thread's stack (the process dies). Every document dataseal reads nests
    a few levels. The body is read here whole (JSON bodies are, to be parsed; the body limit bounds it) and handed
    on unchanged."""

    def __init__(self, app: ASGIApp, limit: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        body = bytearray()
        try:
            while True:
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request":
                    break
                body += message.get("body", b"")
                if not message.get("more_body", False):
                    break
        except DatasealError as exc:  # the body limit, counted while reading: 413 (FastAPI's parser made it a 400)
            await error_response(exc)(scope, receive, send)
            return
        if exceeds_json_depth(bytes(body), self.limit):
            error = InvalidInput(f"the JSON body nests arrays or objects more than {self.limit} levels deep",
                                 hint="send the document as dataseal wrote it (none nests that deep)")
            await error_response(error)(scope, receive, send)
            return
        replay = iter(messages)

        async def replayed() -> Message:
            return next(replay, None) or await receive()

        await self.app(scope, replayed, send)


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            kind = value.split(b";", 1)[0].strip().lower()
            return kind == b"application/json" or kind.endswith(b"+json")
    return False
