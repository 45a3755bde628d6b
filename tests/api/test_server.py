"""The HTTP API served from a thread of this process (`dataseal up`): bound first, started, stopped."""
from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from dataseal.api.server import ApiServer, ApiStartError
from dataseal.errors import ErrorKind


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
