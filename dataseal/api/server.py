"""Serving the HTTP API in this process: uvicorn in a thread of its own, on a socket bound beforehand.

`dataseal up` runs the API beside the embedded chain and the indexer in one process, so the server
cannot own the process: its signals stay with the caller's main thread (uvicorn installs no handler
outside the main thread), and the caller stops it with :meth:`ApiServer.stop`. The port is bound by
:meth:`ApiServer.bind`, before anything else starts, so that a port in use stops a start before it
has created anything, and port 0 picks a free one whose number is known before serving.
"""
from __future__ import annotations

import asyncio
import errno
import json
import logging
import math
import socket
import threading
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from dataseal.api.errors import compute_error_body, error_response
from dataseal.errors import DatasealError, ErrorKind, Unavailable

#: How long :meth:`ApiServer.stop` waits for requests in progress (then they are cancelled, answered 503).
STOP_GRACE_SECONDS = 5.0
#: How long, after the grace, :meth:`ApiServer.stop` waits for the server to finish (the application's shutdown).
STOP_MARGIN_SECONDS = 5.0
LISTEN_BACKLOG = 2048
#: uvicorn's log line when it cancels the requests left after the grace (an error it is not: the stop counts them).
_UVICORN_CANCEL_LINE = "Cancel %s running task(s), timeout graceful shutdown exceeded"


#: The largest request head (request line and headers) a client may send: h11 refuses one above 16 KiB; httptools,
#: the parser served with, holds one of any size until it ends (one endless header grew the process by its size).
MAX_REQUEST_HEAD_BYTES = 64 * 1024


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol refusing a request head (or chunked trailers) above
    :data:`MAX_REQUEST_HEAD_BYTES` with 431 (in the error contract's shape), and closing the connection.

    Counted are the bytes of reads in which the parser saw no event (no request began, no headers ended, no body
    came, no request ended): reads wholly inside a head, a trailer or a chunk's extensions. A read holding an event
    starts the count again, so a head is refused some reads late at worst (asyncio reads up to 256 KiB at a time:
    a connection holds well under a MiB), and a body is never counted."""

    _unseen_bytes = 0
    _event = False

    def data_received(self, data: bytes) -> None:
        self._event = False
        super().data_received(data)
        if self.transport.is_closing():
            return
        if self._event:
            self._unseen_bytes = 0
            return
        self._unseen_bytes += len(data)
        if self._unseen_bytes > MAX_REQUEST_HEAD_BYTES:
            self._refuse_head()

    def on_message_begin(self) -> None:
        self._event = True
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._event = True
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._event = True
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._event = True
        super().on_message_complete()

    def _refuse_head(self) -> None:
        busy = (self.cycle is not None and not self.cycle.response_complete) or bool(self.pipeline)
        if not busy:  # else the 431 would take the answer's place of a request before it: the connection just ends
            body = json.dumps(compute_error_body(
                ErrorKind.INVALID_INPUT,
                f"the request's line and headers are more than {MAX_REQUEST_HEAD_BYTES:,} bytes",
                "send shorter headers (a large value belongs in the request body)")).encode()
            head = [b"HTTP/1.1 431 Request Header Fields Too Large\r\n"]
            head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
            head += [b"content-type: application/json\r\n",
                     b"content-length: " + str(len(body)).encode() + b"\r\n", b"connection: close\r\n\r\n"]
            self.transport.write(b"".join(head) + body)
        self.transport.close()


class ApiStartError(DatasealError):
    """The HTTP API could not start: its address or port, or the application's own start-up."""

    kind = ErrorKind.INVALID_INPUT


class _Server(uvicorn.Server):
    """uvicorn's server, telling a thread when it has started (or given up starting)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self.ready.set()


class _QuietCancel(logging.Filter):
    """Drop uvicorn's error line about the requests it cancels when a stop's grace has passed."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != _UVICORN_CANCEL_LINE


_QUIET_CANCEL = _QuietCancel()


class StopGuard:
    """The outermost ASGI layer of a served app: a request still running when the server is stopping and its
    grace has passed is cancelled by uvicorn; this answers it 503 (unless its answer had started) and ends it
    quietly, where uvicorn would log the cancellation as an error with its traceback."""

    def __init__(self, app: ASGIApp, server: uvicorn.Server) -> None:
        self.app = app
        self.server = server
        self.cancelled = 0

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
        except asyncio.CancelledError:
            if not self.server.should_exit:  # not a stop's: not ours to end
                raise
            self.cancelled += 1
            if not started:  # else the client sees a cut-off answer
                error = Unavailable("the registry stopped while this request was in progress; it was cancelled",
                                    hint="send it again once the registry is back (a write: with the same "
                                         "Idempotency-Key)")
                await error_response(error)(scope, receive, send)


class ApiServer:
    """An ASGI application served over HTTP on a bound socket: :meth:`bind`, :meth:`start`, :meth:`stop`."""

    def __init__(self, sock: socket.socket, host: str) -> None:
        self._socket = sock
        self.host = host
        self.port = int(sock.getsockname()[1])
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._error: str | None = None
        self._guard: StopGuard | None = None

    @classmethod
    def bind(cls, host: str = "127.0.0.1", port: int = 8000) -> ApiServer:
        """Listen on ``host:port`` (0: a free port); the server is not serving yet."""
        if not 0 <= port <= 65535:
            raise ApiStartError(f"port {port} is not a TCP port", hint="choose one from 1 to 65535",
                                options=("api_port",))
        try:
            family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                                 flags=socket.AI_PASSIVE)[0]
            sock = socket.socket(family, kind, proto)
        except OSError as exc:
            raise _bind_error(host, port, exc) from None
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(LISTEN_BACKLOG)
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            raise _bind_error(host, port, exc) from None
        return cls(sock, host)

    @property
    def url(self) -> str:
        """The base URL the server listens at (as bound: 0.0.0.0 stays 0.0.0.0)."""
        return f"http://[{self.host}]:{self.port}" if ":" in self.host else f"http://{self.host}:{self.port}"

    def start(self, app: Any, *, grace: float = STOP_GRACE_SECONDS) -> None:
        """Serve ``app`` from a thread; returns once it serves. Raises :class:`ApiStartError` (and closes the
        socket) when the application fails to start."""
        if self._thread is not None:
            raise RuntimeError("the API server was started already")
        # httptools, not h11: 20-35% more requests a second (its head bounded here); asyncio's loop, not uvloop even
        # where it is installed: uvloop answered no more and its p99 was worse (make bench-api, 64 connections)
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", server_header=False,
                                http=BoundedHttpToolsProtocol, loop="asyncio",
                                timeout_graceful_shutdown=max(1, math.ceil(grace)))
        server = _Server(config)
        self._guard = StopGuard(app, server)
        config.app = self._guard
        logging.getLogger("uvicorn.error").addFilter(_QUIET_CANCEL)  # once: a logger's filters are a set
        self._server = server
        self._thread = threading.Thread(target=self._serve, args=(server,), name="dataseal-api", daemon=True)
        self._thread.start()
        server.ready.wait()
        if not server.started:
            self._thread.join()
            self._socket.close()
            raise ApiStartError(f"the HTTP API did not start on {self.url}: {self._error or 'its start-up failed'}",
                                hint="see the log above for the reason")

    def _serve(self, server: _Server) -> None:
        try:
            server.run(sockets=[self._socket])
        except BaseException as exc:  # SystemExit included: uvicorn exits when the application's start-up fails
            self._error = f"{type(exc).__name__}: {exc}"
        finally:
            server.ready.set()

    @property
    def failure(self) -> str | None:
        """Why the server stopped serving without being asked to; None while it serves (or was stopped)."""
        if self._thread is None or self._stopping or self._thread.is_alive():
            return None
        return self._error or "the server stopped"

    @property
    def cancelled(self) -> int:
        """The requests a stop cancelled (still in progress when its grace had passed)."""
        return self._guard.cancelled if self._guard is not None else 0

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> bool:
        """Stop accepting, let requests in progress finish (``grace`` seconds at most, whole seconds: then they are
        cancelled, each answered 503 if its answer had not started, with no traceback logged), run the
        application's shutdown; whether every request finished and the server ended (within
        :data:`STOP_MARGIN_SECONDS` after the grace; else it is forced to)."""
        self._stopping = True
        if self._server is None or self._thread is None:
            self._socket.close()
            return True
        self._server.config.timeout_graceful_shutdown = max(1, math.ceil(grace))
        self._server.should_exit = True
        self._thread.join(max(1, math.ceil(grace)) + STOP_MARGIN_SECONDS)
        if self._thread.is_alive():
            self._server.force_exit = True
            return False
        return self.cancelled == 0


def _bind_error(host: str, port: int, exc: OSError) -> ApiStartError:
    if exc.errno == errno.EADDRINUSE:
        return ApiStartError(f"port {port} on {host} (for the HTTP API) is already in use", kind=ErrorKind.CONFLICT,
                             hint="stop what listens there, or choose another port for the API",
                             options=("api_port",))
    if exc.errno in (errno.EACCES, errno.EPERM):
        return ApiStartError(f"not allowed to listen on {host}:{port} for the HTTP API ({exc.strerror})",
                             hint="choose a port above 1023", options=("api_port",))
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return ApiStartError(f"cannot listen on {host!r}: it is not an address of this machine ({exc.strerror})",
                             hint="try 127.0.0.1", options=("host",))
    return ApiStartError(f"cannot listen on {host}:{port} for the HTTP API: {exc}",
                         hint="choose another address or port", options=("host", "api_port"))
