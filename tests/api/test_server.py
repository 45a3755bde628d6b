"""The HTTP API served from a thread of this process (`dataseal up`): bound first, started, stopped."""
from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI, Request

from dataseal.api.server import MAX_REQUEST_HEAD_BYTES, ApiServer, ApiStartError, BoundedHttpToolsProtocol
from dataseal.errors import ErrorKind
from tests.chain.embedded.clocks import HANG_GUARD_SECONDS


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"pong": "yes"}

    return app


def _listens(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_a_server_binds_a_free_port_serves_and_stops() -> None:
    server = ApiServer.bind("127.0.0.1", 0)
    assert server.port > 0 and server.url == f"http://127.0.0.1:{server.port}"
    server.start(_app())
    try:
        assert httpx.get(f"{server.url}/ping").json() == {"pong": "yes"}
        assert server.failure is None
    finally:
        assert server.stop() is True
    assert not _listens(server.port) and server.failure is None


def test_a_port_in_use_is_a_conflict_naming_the_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ApiStartError) as raised:
            ApiServer.bind("127.0.0.1", port)
    assert raised.value.kind == ErrorKind.CONFLICT and f"port {port} on 127.0.0.1" in raised.value.message
    assert raised.value.options == ("api_port",)


def test_an_address_not_of_this_machine_is_refused() -> None:
    with pytest.raises(ApiStartError) as raised:
        ApiServer.bind("192.0.2.1", 0)  # TEST-NET-1: never an address of this machine
    assert "is not an address of this machine" in raised.value.message and raised.value.options == ("host",)


def test_an_application_that_fails_to_start_is_an_error_and_frees_the_port() -> None:
    @asynccontextmanager
    async def broken(app: FastAPI) -> AsyncIterator[None]:
        raise RuntimeError("no database")
        yield  # pragma: no cover

    server = ApiServer.bind("127.0.0.1", 0)
    with pytest.raises(ApiStartError) as raised:
        server.start(FastAPI(lifespan=broken))
    assert raised.value.message.startswith(f"the HTTP API did not start on {server.url}")
    assert not _listens(server.port)


def test_a_server_never_started_closes_its_socket_when_stopped() -> None:
    server = ApiServer.bind("127.0.0.1", 0)
    assert server.stop() is True and not _listens(server.port)


class SlowRoute:
    """A route that holds its request until the test releases it (an injected hook, not a sleep): ``entered`` is
    set once the request is in progress."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self._release: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/slow")
        async def slow() -> dict[str, str]:
            release = asyncio.Event()
            self._release = (asyncio.get_running_loop(), release)
            self.entered.set()
            await release.wait()
            return {"done": "yes"}

        return app

    def release(self) -> None:
        assert self._release is not None
        loop, event = self._release
        loop.call_soon_threadsafe(event.set)


class Call(threading.Thread):
    """A request sent from a thread of its own."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.response: httpx.Response | None = None

    def run(self) -> None:
        self.response = httpx.get(self.url, timeout=None)


class Seen(logging.Handler):
    """Sets an event when a log line of ``text`` is recorded."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.event = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == self.text:
            self.event.set()


@pytest.fixture(autouse=True)
def _own_log_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the handlers other tests in this process left on dataseal's logger (`dataseal up` run in process
    adds one bound to the sys.stderr of its test, closed since: writing to it prints "Logging error" and a
    traceback); the log is checked through caplog."""
    monkeypatch.setattr(logging.getLogger("dataseal"), "handlers", [])


def _no_traceback(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text
    assert "Traceback" not in capfd.readouterr().err


def test_a_stop_cancels_a_request_past_its_grace_with_a_503_and_no_traceback(
        caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    """Stopping `dataseal up` with a request in flight printed uvicorn's traceback of the cancelled request."""
    route = SlowRoute()
    server = ApiServer.bind("127.0.0.1", 0)
    server.start(route.app())
    call = Call(f"{server.url}/slow")
    call.start()
    route.entered.wait()
    assert server.stop(grace=1) is False  # a request was cancelled
    call.join()
    assert server.cancelled == 1 and not _listens(server.port)
    assert call.response is not None and call.response.status_code == 503
    error = call.response.json()["error"]
    assert error["kind"] == "unavailable"
    assert error["message"] == "the registry stopped while this request was in progress; it was cancelled"
    _no_traceback(caplog, capfd)


def test_a_stop_lets_a_request_in_progress_finish_within_its_grace(
        caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    route = SlowRoute()
    shutting_down = Seen("Shutting down")
    uvicorn_log = logging.getLogger("uvicorn.error")
    uvicorn_log.addHandler(shutting_down)
    level = uvicorn_log.level
    uvicorn_log.setLevel(logging.INFO)  # "Shutting down" is an info line
    try:
        server = ApiServer.bind("127.0.0.1", 0)
        server.start(route.app())
        call = Call(f"{server.url}/slow")
        call.start()
        route.entered.wait()
        stopped: list[bool] = []
        stopper = threading.Thread(target=lambda: stopped.append(server.stop(grace=30)))
        stopper.start()
        shutting_down.event.wait()  # no new connection is accepted from here
        route.release()
        call.join()
        stopper.join()
    finally:
        uvicorn_log.removeHandler(shutting_down)
        uvicorn_log.setLevel(level)
    assert call.response is not None and call.response.json() == {"done": "yes"}
    assert stopped == [True] and server.cancelled == 0 and not _listens(server.port)
    _no_traceback(caplog, capfd)


class ServerReads:
    """The bytes the server's protocol reads (every connection), to wait for a read and bound what was held."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.total = 0
        self.closed = 0
        """Connections the server closed as it read (a refusal)."""
        self.changed = threading.Condition()
        original = BoundedHttpToolsProtocol.data_received

        def counting(protocol: BoundedHttpToolsProtocol, data: bytes) -> None:
            original(protocol, data)
            with self.changed:
                self.total += len(data)
                self.closed += protocol.transport.is_closing()
                self.changed.notify_all()

        monkeypatch.setattr(BoundedHttpToolsProtocol, "data_received", counting)

    def wait_for(self, total: int) -> None:
        """Wait until the server has read ``total`` bytes in all (or closed a connection as it read)."""
        closed = self.closed
        with self.changed:
            assert self.changed.wait_for(lambda: self.total >= total or self.closed > closed, HANG_GUARD_SECONDS), \
                "the server stopped reading"  # a hang guard


def _send_until_closed(sock: socket.socket, reads: ServerReads, piece: bytes, most: int) -> bytes | None:
    """Send ``piece`` again and again, each once the server has read the last, until the server closes the
    connection as it reads (or ``most`` bytes went: None); what came back."""
    sent, base, closed = 0, reads.total, reads.closed
    while sent < most and reads.closed == closed:
        try:
            sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            break
        sent += len(piece)
        reads.wait_for(base + sent)  # read, or the connection closed as it read
    if reads.closed == closed:
        return None  # never refused
    sock.settimeout(HANG_GUARD_SECONDS)  # a hang guard
    answer = b""
    try:
        while chunk := sock.recv(65536):
            answer += chunk
    except ConnectionResetError:
        pass
    return answer


def test_an_endless_header_or_trailer_is_refused_431_and_the_server_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """httptools holds a head of any size until it ends (h11 refused one above 16 KiB): a client sending one
    header, or one chunked trailer, for ever grew the process by what it sent. Refused past MAX_REQUEST_HEAD_BYTES
    (a read late at most), the connection closed; other clients are served."""
    reads = ServerReads(monkeypatch)
    server = ApiServer.bind("127.0.0.1", 0)
    server.start(_app())
    try:
        starts = (b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Endless: ",
                  b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Trailer: ")
        for start in starts:
            before = reads.total
            with socket.create_connection(("127.0.0.1", server.port)) as sock:
                sock.sendall(start)
                reads.wait_for(before + len(start))
                answer = _send_until_closed(sock, reads, b"a" * 16384, most=16 * 2**20)
            assert answer is not None, "never refused"
            assert reads.total - before <= MAX_REQUEST_HEAD_BYTES + len(start) + 2 * 16384
            if b"Transfer-Encoding" in start and not answer.startswith(b"HTTP/1.1 200 OK"):
                assert answer == b"", answer[:300]  # /ping's answer was not out yet: no 431 in its place, the end
                continue
            refused = answer[answer.find(b"HTTP/1.1 431 "):]
            assert refused.startswith(b"HTTP/1.1 431 "), answer[:300]
            error = json.loads(refused.split(b"\r\n\r\n", 1)[1])["error"]
            assert error["message"] == "the request's line and headers are more than 65,536 bytes"
        assert httpx.get(f"{server.url}/ping").json() == {"pong": "yes"}
    finally:
        assert server.stop() is True


def test_heads_bodies_and_pipelined_requests_within_the_limit_are_served(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only reads without a parser event count, from the last event on: a keep-alive connection's heads, each under
    the limit but over it together (each read apart), a 1 MiB body and a request pipelined behind it are served."""
    reads = ServerReads(monkeypatch)
    app = _app()

    @app.post("/size")
    async def size(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    server = ApiServer.bind("127.0.0.1", 0)
    server.start(app)
    try:
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            for _ in range(3):  # 3 × 40 KiB of headers on one connection, each 4 KiB piece read on its own
                head = b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(
                    b"X-%d: %s\r\n" % (n, b"v" * 4090) for n in range(10)) + b"\r\n"
                for offset in range(0, len(head), 4096):
                    piece = head[offset:offset + 4096]
                    before = reads.total
                    sock.sendall(piece)
                    reads.wait_for(before + len(piece))
                sock.settimeout(HANG_GUARD_SECONDS)  # a hang guard
                answer = b""
                while not answer.endswith(b'{"pong":"yes"}') and (chunk := sock.recv(65536)):
                    answer += chunk
                assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b'{"pong":"yes"}'), answer[:300]
        body = b"x" * 2**20
        assert httpx.post(f"{server.url}/size", content=body).json() == {"size": 2**20}
        request = (b"POST /size HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n" % len(body) + body
                   + b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.settimeout(HANG_GUARD_SECONDS)  # a hang guard
            sock.sendall(request)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.count(b"HTTP/1.1 200 OK") == 2, answer[:500]
        assert b'{"size":1048576}' in answer and b'{"pong":"yes"}' in answer
    finally:
        assert server.stop() is True
