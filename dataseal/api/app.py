"""The HTTP API: :func:`create_app` builds the FastAPI app over a registry its caller opened (``dataseal up``,
a test), with the error contract of :mod:`dataseal.api.errors`, the exposure rules (no CORS unless origins are
named, only the named Host names) and a request size limit."""
from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from prometheus_client import CollectorRegistry
from prometheus_fastapi_instrumentator import Instrumentator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dataseal.api import routes
from dataseal.api.docs import install_docs
from dataseal.api.errors import (
    BODY_IDLE_SECONDS,
    BodyLimitMiddleware,
    BodyTimeoutMiddleware,
    JsonDepthMiddleware,
    error_response,
    install_error_handlers,
)
from dataseal.api.models import ERROR_RESPONSES
from dataseal.api.operations import IndexWait, Operations
from dataseal.api.routes import grant_writes, writes
from dataseal.api.routes.verify import VERIFY_FILE_PATH
from dataseal.api.web import install_web
from dataseal.errors import InvalidInput
from dataseal.registry.outbox import Hook
from dataseal.registry.registry import Registry
from dataseal.registry.services.writer import Clock

DEFAULT_MAX_BODY_BYTES = 64 * 2**20

DESCRIPTION = """dataseal's registry over HTTP: data assets registered on an EVM chain, their Merkle proofs, grants,
usage, audit trails and certificates. The chain is the source of truth: every answer can be checked against it.

Errors answer `{"error": {"kind", "message", "hint"}}` with 400 (malformed input), 404 (unknown id or route),
409 (refused by the current state), 408 (a body that stopped arriving), 413 (body too large), 415 (a body of
another content type), 422 (invalid parameters) or 503 (the chain or the database did not answer); a write without
credentials or with refused ones 401.
Lists page with `?after=CURSOR&limit=N`: a page's `next` is the next page's `after`."""


def create_app(
    registry: Registry,
    *,
    cors_origins: Sequence[str] = (),
    allowed_hosts: Sequence[str] = ("127.0.0.1", "localhost"),
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    body_idle_seconds: float = BODY_IDLE_SECONDS,
    write_clock: Clock | None = None,
    write_hook: Hook | None = None,
    index_wait: IndexWait | None = None,
) -> FastAPI:
    """The API over ``registry`` (kept on ``app.state.registry``; the caller opens and closes it).

    ``cors_origins``: the origins a browser may call it from (none: no CORS headers at all); ``allowed_hosts``: the
    Host names it answers (``*`` any, ``*.example.org`` a domain's); ``max_body_bytes``: the largest request body;
    ``body_idle_seconds``: how long a request body may pause before it is refused (408).

    Writes are carried out by a worker thread (``app.state.operations``, :class:`~dataseal.api.operations.Operations`)
    started and stopped with the app (its lifespan; without a lifespan, as under httpx's ASGITransport, call
    ``app.state.operations.start()``); ``write_clock`` is the clock it waits with (a commitment's minimum age),
    ``write_hook`` sees the writes' moments (tests); ``index_wait`` waits for the service's indexer to hold a block
    (a mined write is told mined once trails and listings show it; `dataseal up` gives its indexer's).
    """
    operations = Operations(registry, {**writes.HANDLERS, **grant_writes.HANDLERS}, clock=write_clock, hook=write_hook,
                            index_wait=index_wait)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        operations.start()
        try:
            yield
        finally:
            operations.stop()

    app = FastAPI(title="dataseal", description=DESCRIPTION, version="1", docs_url=None, redoc_url=None,
                  responses=ERROR_RESPONSES, lifespan=lifespan, openapi_tags=list(routes.TAGS))
    app.state.registry = registry
    app.state.operations = operations
    app.state.challenge_secret = None  # ownership challenges: the service's, loaded on first use (ownership.py)
    for router in routes.ROUTERS:
        app.include_router(router)
    install_docs(app)  # /docs and /redoc from local assets (a registry may run offline), matched after the API
    install_web(app)  # the public pages (/, /search, /verify, an asset's page for a browser) and the error page
    # /verify/file streams a file of up to app.state.max_upload_bytes (default MAX_UPLOAD_BYTES) and hashes it as
    # it arrives; every other body is held by its route, so it is limited to max_body_bytes
    # Prometheus metrics of the requests (counts, latencies by route and status) at /metrics, outside the OpenAPI
    # schema; each app its own collector registry (several apps in one process, as the tests make, must not clash)
    Instrumentator(excluded_handlers=["/metrics"], registry=CollectorRegistry()).instrument(app).expose(
        app, include_in_schema=False)
    app.add_middleware(JsonDepthMiddleware)  # inside the body limit: what it reads is bounded
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=max_body_bytes, exempt=(VERIFY_FILE_PATH,))
    app.add_middleware(BodyTimeoutMiddleware, idle_seconds=body_idle_seconds)  # 408 for a body that stops arriving
    install_error_handlers(app)
    if cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["*"])
    app.add_middleware(VaryAcceptMiddleware)  # outside the error handling: its answers vary too
    app.add_middleware(HostMiddleware, allowed_hosts=tuple(allowed_hosts))
    return app


class VaryAcceptMiddleware:
    """``Vary: Accept, Sec-Fetch-Dest`` on every answer to a GET or HEAD: a browser's navigation is answered with a
    page where other clients get JSON (an asset, every error; :func:`~dataseal.api.errors.wants_page` reads both
    headers), so a shared cache must not hand one the other's answer."""

    NAMES = (b"Accept", b"Sec-Fetch-Dest")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return

        async def varied(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                named = b",".join(value for name, value in headers if name.lower() == b"vary").lower()
                present = {token.strip() for token in named.split(b",")}
                missing = [name for name in self.NAMES if name.lower() not in present]
                if missing:
                    headers.append((b"vary", b", ".join(missing)))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, varied)


def compute_host_name(host_header: str) -> str:
    """The name of a Host header, without its port (``[::1]:8000`` → ``[::1]``), lower case."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_allowed_host(name: str, allowed: Sequence[str]) -> bool:
    """Whether a request whose Host names ``name`` (lower case, port left out) is answered: a name of ``allowed``
    (``*`` any, ``*.example.org`` a domain's; a name's trailing dot aside), or any IP address — as the node does: an
    address is no name a page of another site can make a browser resolve to this machine."""
    name = name.rstrip(".") if not name.startswith("[") else name
    try:
        ipaddress.ip_address(name[1:-1] if name.startswith("[") and name.endswith("]") else name)
        return True
    except ValueError:
        pass
    for pattern in allowed:
        pattern = pattern.lower()
        if pattern == "*" or pattern == name or (pattern.startswith("*.") and name.endswith(pattern[1:])):
            return True
    return False


class HostMiddleware:
    """Answer only requests whose Host header names one of ``allowed_hosts`` (a DNS-rebinding guard); others get
    400 in the error contract's shape."""

    def __init__(self, app: ASGIApp, allowed_hosts: tuple[str, ...]) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        hosts = [value.decode("latin-1") for name, value in scope.get("headers", ()) if name == b"host"]
        if len(hosts) > 1:  # which one a proxy in front acted on is not known (RFC 9112 §3.2: refused)
            error = InvalidInput(f"the request has {len(hosts)} Host headers; a request names one host",
                                 hint="send one Host header")
            await error_response(error)(scope, receive, send)
            return
        header = hosts[0] if hosts else ""
        name = compute_host_name(header)
        if not is_allowed_host(name, self.allowed_hosts):
            shown = repr(header[:80]) if header else "no Host header"
            error = InvalidInput(f"this registry does not answer for the host {shown}: it answers for "
                                 f"{', '.join(self.allowed_hosts) or 'no host'}",
                                 hint="call it by one of the names it answers for")
            await error_response(error)(scope, receive, send)
            return
        await self.app(scope, receive, send)
