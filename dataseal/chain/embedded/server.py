"""The embedded chain's JSON-RPC over HTTP: a threaded server from the standard library.

One thread per connection (clients keep connections alive), all of them calling one
:class:`RpcDispatcher`. The chain's work runs under the chain's lock and the GIL whatever the
server, so what the server must avoid is overhead per request: this one parses a request line,
a few headers and a Content-Length body, and writes the answer in one send. (On this machine a
minimal ASGI app under uvicorn answered no faster, and slower once chain calls were moved off its
event loop, which a receipt that waits for its block requires.)

POST / with a JSON-RPC 2.0 body (object or batch). GET / answers a short JSON description.

Who is answered is the :class:`Exposure`'s (geth's defaults): a request whose Host header names
something other than this machine (localhost), an IP address or a name the node was told to
serve is refused with 403 (DNS rebinding: a web page whose own name now points at 127.0.0.1); a
request a web page sends (it carries an Origin header) is refused with 403 unless its origin was
named, and only named origins get CORS headers and their preflights (OPTIONS) answered. Clients
that are not browsers send no Origin and are served as before. Content-Length is digits only,
and two that differ are refused (request smuggling).

:meth:`RpcServer.shutdown` ends every connection, kept-alive ones included: a request in progress
gets its answer (with ``Connection: close``), an idle connection is closed at once, so that no
client reaches the chain through an old connection after the node began to stop.
"""
from __future__ import annotations

import errno
import json
import logging
import re
import socket
import socketserver
import threading
import time
from http.server import ThreadingHTTPServer
from typing import Any

from dataseal.chain.embedded.errors import NodeStartError
from dataseal.chain.embedded.rpc import RpcDispatcher
from dataseal.chain.embedded.settings import Exposure
from dataseal.errors import ErrorKind

logger = logging.getLogger("dataseal.chain.embedded.server")

MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_LINE_BYTES = 65_536
MAX_HEADERS = 100
IDLE_TIMEOUT_SECONDS = 300.0  # a kept-alive connection idle this long is closed
SHUTDOWN_GRACE_SECONDS = 10.0  # how long shutdown() lets requests in progress finish (eth_call stops at 5 s)
HOST_VERDICTS_CACHED = 256  # Host header values whose verdict is kept (clients send the same few)
PREFLIGHT_MAX_AGE = 600  # seconds a browser may keep a preflight's answer (geth's)
_REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 403: "Forbidden", 405: "Method Not Allowed",
            411: "Length Required",
            413: "Payload Too Large", 414: "URI Too Long", 431: "Request Header Fields Too Large",
            503: "Service Unavailable"}


class RpcServer:
    """An HTTP JSON-RPC server on ``host:port`` (port 0 picks a free one)."""

    def __init__(
        self, dispatcher: RpcDispatcher | None, host: str = "127.0.0.1", port: int = 8545,
        exposure: Exposure | None = None,
    ) -> None:
        server_class = _HTTPServer6 if ":" in host else _HTTPServer
        try:
            self._httpd = server_class((host, port), _Handler)
        except OSError as exc:
            raise _bind_error(host, port, exc) from None
        except OverflowError:
            raise NodeStartError(f"port {port} is not a TCP port", hint="choose one from 1 to 65535",
                                 options=("port",)) from None
        self._httpd.dispatcher = dispatcher
        self._httpd.exposure = exposure if exposure is not None else Exposure()
        self._thread: threading.Thread | None = None

    def attach(self, dispatcher: RpcDispatcher) -> None:
        """Set the dispatcher of a server bound before its chain was open (before serving)."""
        self._httpd.dispatcher = dispatcher

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        host = self.host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    @property
    def closing(self) -> bool:
        """Whether :meth:`shutdown` has begun closing the connections (no new request is served)."""
        return self._httpd.closing

    def serve_forever(self) -> None:
        """Serve in this thread until :meth:`shutdown` is called from another one."""
        self._httpd.serve_forever(poll_interval=0.2)

    def start(self) -> None:
        """Serve from a background thread."""
        self._thread = threading.Thread(target=self.serve_forever, name="dataseal-rpc", daemon=True)
        self._thread.start()

    def shutdown(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
        """Stop accepting connections, close the listening socket and every open connection.

        Idle kept-alive connections are closed at once; a request in progress is answered (with
        ``Connection: close``) and its connection closed then, waiting up to ``grace`` seconds for
        it; what is still running after that has its connection cut. On return no connection is
        left through which a request could reach the chain.
        """
        if self._thread is not None or getattr(self._httpd, "_serving", False):
            self._httpd.shutdown()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._httpd.server_close()
        self._httpd.close_connections(grace)


class _HTTPServer(ThreadingHTTPServer):
    dispatcher: RpcDispatcher | None = None
    exposure: Exposure
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, server_address: tuple[str, int], handler: type[_Handler]) -> None:
        self._connections: dict[_Handler, bool] = {}  # live connections -> whether a request is in progress
        self._connections_changed = threading.Condition()
        self._closing = False
        self._host_verdicts: dict[bytes, bool] = {}  # Host header -> served
        super().__init__(server_address, handler)

    def serves_host(self, value: bytes) -> bool:
        """Whether a request with this Host header is served (cached: one lookup per request)."""
        verdict = self._host_verdicts.get(value)
        if verdict is None:
            verdict = self.exposure.serves_host(_host_name(value))
            if len(self._host_verdicts) >= HOST_VERDICTS_CACHED:
                self._host_verdicts.clear()
            self._host_verdicts[value] = verdict
        return verdict

    # Connections register themselves, and say when a request starts and ends, so that shutdown
    # can close the idle ones at once and the others once their answer is written.

    def track(self, handler: _Handler) -> bool:
        """Register a new connection; False when the server is closing (do not serve it)."""
        with self._connections_changed:
            if self._closing:
                return False
            self._connections[handler] = False
            return True

    def untrack(self, handler: _Handler) -> None:
        with self._connections_changed:
            self._connections.pop(handler, None)
            self._connections_changed.notify_all()

    def request_started(self, handler: _Handler) -> bool:
        """Mark a request in progress; False when the server is closing (drop the connection)."""
        with self._connections_changed:
            if self._closing:
                return False
            self._connections[handler] = True
            return True

    def request_ended(self, handler: _Handler) -> bool:
        """Mark the connection idle; whether it may stay open."""
        with self._connections_changed:
            self._connections[handler] = False
            return not self._closing

    @property
    def closing(self) -> bool:
        return self._closing

    def close_connections(self, grace: float) -> None:
        deadline = time.monotonic() + grace
        with self._connections_changed:
            self._closing = True
            for handler, busy in list(self._connections.items()):
                if not busy:
                    handler.cut()  # waiting for its next request: wakes its thread, which ends
            while self._connections and (remaining := deadline - time.monotonic()) > 0:
                self._connections_changed.wait(remaining)
            for handler in list(self._connections):
                logger.warning("a request to %s still running at shutdown had its connection closed",
                               handler.client_address)
                handler.cut()

    def server_bind(self) -> None:
        # HTTPServer.server_bind would resolve the host's FQDN (a DNS query that can hang offline).
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self._serving = True
        try:
            super().serve_forever(poll_interval)
        finally:
            self._serving = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


class _Handler(socketserver.StreamRequestHandler):
    """HTTP/1.1 with keep-alive, reduced to what JSON-RPC needs.

    http.server's handler parses every header block with the email package, which costs more
    than answering most JSON-RPC methods; this one reads the request line and headers as bytes
    and looks only at Content-Length, Connection, Expect and Transfer-Encoding.
    """

    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT_SECONDS
    server: _HTTPServer

    def handle(self) -> None:
        if not self.server.track(self):
            return  # accepted as the server began to close
        try:
            while self._one_request():
                pass
        except (TimeoutError, ConnectionError, OSError):
            pass  # the client went away, idled out, or the server closed the connection
        finally:
            self.server.untrack(self)

    def cut(self) -> None:
        """Close the connection under its thread (which then reads the end of the stream)."""
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed by the client

    def _one_request(self) -> bool:
        """Serve one request; whether the connection stays open."""
        line = self.rfile.readline(MAX_LINE_BYTES + 1)
        if not line or not self.server.request_started(self):
            return False
        try:
            dispatcher = self.server.dispatcher
            if dispatcher is None:
                keep_alive = self._serve(line)
            else:
                with dispatcher.chain.serving():  # the miner pauses meanwhile (dataseal.chain.embedded.chain's doc)
                    keep_alive = self._serve(line)
        finally:
            still_serving = self.server.request_ended(self)
        return keep_alive and still_serving

    def _serve(self, line: bytes) -> bool:
        """Answer the request that ``line`` starts; whether the connection stays open."""
        if len(line) > MAX_LINE_BYTES:
            return self._reply(414, _message("the request line is too long"), keep_alive=False)
        parts = line.split()
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
            return self._reply(400, _message("not an HTTP/1.x request line"), keep_alive=False)
        method, _target, version = parts
        headers: dict[bytes, bytes] = {}
        for count in range(MAX_HEADERS + 1):
            header = self.rfile.readline(MAX_LINE_BYTES + 1)
            if header in (b"\r\n", b"\n", b""):
                break
            if len(header) > MAX_LINE_BYTES or count == MAX_HEADERS:
                return self._reply(431, _message("request headers too large"), keep_alive=False)
            name, _, value = header.partition(b":")
            name, value = name.strip().lower(), value.strip()
            if name in headers and headers[name] != value and name in (b"content-length", b"host"):
                return self._reply(400, _message(f"two different {name.decode(errors='replace')} headers"),
                                   keep_alive=False)
            headers[name] = value
        connection = headers.get(b"connection", b"").lower()
        keep_alive = connection != b"close" if version == b"HTTP/1.1" else connection == b"keep-alive"
        host = headers.get(b"host")
        if host is not None and not self.server.serves_host(host):  # (none: HTTP/1.0, not a browser)
            return self._reply(403, _message(self._unserved_host(host)), keep_alive=False)
        origin = headers.get(b"origin")
        cors = ""
        if origin is not None:  # sent by a web page
            text = origin.decode("latin-1").lower()
            if not self.server.exposure.allows_origin(text) or not _VISIBLE.fullmatch(origin):
                return self._reply(403, _message(self._unallowed_origin(text)), keep_alive=False)
            cors = f"Access-Control-Allow-Origin: {origin.decode('latin-1')}\r\nVary: Origin\r\n"
        dispatcher = self.server.dispatcher
        if dispatcher is None and method in (b"GET", b"POST"):  # bound, its chain not open yet
            return self._reply(503, _message("the node is starting: retry in a moment"), keep_alive=False)
        if method == b"POST":
            return self._post(headers, keep_alive, cors)
        if method == b"GET":
            assert dispatcher is not None
            chain = dispatcher.chain
            body = json.dumps({
                "name": "dataseal embedded chain",
                "chain_id": chain.chain_id,
                "usage": "POST JSON-RPC 2.0 requests to this URL",
            }).encode()
            return self._reply(200, body, keep_alive=keep_alive, extra=cors)
        if method == b"OPTIONS":
            if not cors:  # not a preflight
                return self._reply(204, b"", keep_alive=keep_alive, extra="Allow: POST, GET, OPTIONS\r\n")
            requested = headers.get(b"access-control-request-headers", b"")
            asked = (requested if requested and _VISIBLE.fullmatch(requested) else b"Content-Type").decode("latin-1")
            return self._reply(204, b"", keep_alive=keep_alive, extra=(
                f"{cors}Access-Control-Allow-Methods: POST, GET, OPTIONS\r\n"
                f"Access-Control-Allow-Headers: {asked}\r\nAccess-Control-Max-Age: {PREFLIGHT_MAX_AGE}\r\n"))
        return self._reply(405, _message(f"method {method.decode(errors='replace')} is not allowed: POST JSON-RPC"),
                           keep_alive=False)

    def _unserved_host(self, host: bytes) -> str:
        name = _host_name(host)
        return (f"this node does not serve the name {name!r} (the request's Host header): it answers requests to "
                "localhost, to IP addresses and to the names it is told to serve, so that no web page can reach "
                f"it by a name of its own (DNS rebinding). To serve this name, start the node with "
                f"{_how(self.server.exposure, 'allowed_hosts', name)}")

    def _unallowed_origin(self, origin: str) -> str:
        return (f"requests from web pages of {origin} are refused: the node answers the pages of the origins it is "
                f"told to allow, and no others. To allow this one, start the node with "
                f"{_how(self.server.exposure, 'cors_origins', origin)}")

    def _post(self, headers: dict[bytes, bytes], keep_alive: bool, cors: str) -> bool:
        length_header = headers.get(b"content-length")
        if length_header is None or b"transfer-encoding" in headers:
            return self._reply(411, _message("a JSON-RPC request needs a Content-Length header"), keep_alive=False)
        if not length_header.isdigit() or len(length_header) > 12:  # (int() would take "+59", "5_9", " 59")
            return self._reply(400, _message(f"bad Content-Length {length_header.decode(errors='replace')!r}: "
                                             "it must be the body's size in decimal digits"), keep_alive=False)
        length = int(length_header)
        if not 0 <= length <= MAX_BODY_BYTES:
            return self._reply(413, _message(f"the body is {length} bytes; at most {MAX_BODY_BYTES} are accepted"),
                               keep_alive=False)
        if headers.get(b"expect", b"").lower() == b"100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = self.rfile.read(length)
        if len(body) < length:
            return False  # the client hung up mid-body
        dispatcher = self.server.dispatcher
        assert dispatcher is not None  # checked by _serve
        response = dispatcher.handle_bytes(body)
        if response is None:
            return self._reply(204, b"", keep_alive=keep_alive, extra=cors)
        return self._reply(200, response, keep_alive=keep_alive, extra=cors)

    def _reply(self, status: int, body: bytes, *, keep_alive: bool, extra: str = "") -> bool:
        # Status line, headers and body leave in one write: split writes meet the client's delayed
        # ACK (Nagle) and cost tens of milliseconds per request.
        keep_alive = keep_alive and not self.server.closing
        head = (
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
            "Server: dataseal-node\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            + extra
            + ("" if keep_alive else "Connection: close\r\n")
            + "\r\n"
        )
        self.wfile.write(head.encode("latin-1") + body)
        if status >= 400:
            logger.debug("HTTP %d to %s: %s", status, self.client_address, body[:200])
        return keep_alive


_VISIBLE = re.compile(rb"[\x21-\x7e][\x20-\x7e]*")  # a header value that may be sent back (no CR, LF or controls)


def _host_name(value: bytes) -> str:
    """The name a Host header gives, without its port, in lower case ("[::1]:8545" -> "::1")."""
    text = value.decode("latin-1").strip().lower()
    if text.startswith("["):
        end = text.find("]")
        return text[1:end] if end > 0 else text
    if text.count(":") == 1:
        text = text.rpartition(":")[0]
    return text.rstrip(".")


def _how(exposure: Exposure, option: str, value: str) -> str:
    """How to give ``option`` the value ``value``, in the words of the front door that started the node."""
    if option in exposure.spellings:
        return f"{exposure.spell(option)} {value}"
    return f"{value!r} in its {option}"


def _message(text: str) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": text}}).encode()


def _bind_error(host: str, port: int, exc: OSError) -> NodeStartError:
    if exc.errno == errno.EADDRINUSE:
        return NodeStartError(f"port {port} on {host} is already in use (another dataseal node, a hardhat node?)",
                              hint="stop it, or choose another port", options=("port",), kind=ErrorKind.CONFLICT)
    if exc.errno in (errno.EACCES, errno.EPERM):
        return NodeStartError(f"not allowed to listen on {host}:{port} ({exc.strerror})",
                              hint="choose a port above 1023", options=("port",))
    if isinstance(exc, socket.gaierror) or exc.errno in (errno.EADDRNOTAVAIL,):
        return NodeStartError(f"cannot listen on {host!r}: it is not an address of this machine ({exc.strerror})",
                              hint="try 127.0.0.1", options=("host",))
    return NodeStartError(f"cannot listen on {host}:{port}: {exc}", hint="choose another address or port",
                          options=("host", "port"))
