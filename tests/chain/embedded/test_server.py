"""The HTTP side: JSON-RPC over a real socket, keep-alive, HTTP-level errors, binding errors."""
from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator

import pytest

from dataseal.chain.embedded.chain import EmbeddedChain
from dataseal.chain.embedded.errors import NodeStartError
from dataseal.chain.embedded.rpc import RpcDispatcher
from dataseal.chain.embedded.server import MAX_BODY_BYTES, RpcServer


@pytest.fixture
def server(chain: EmbeddedChain) -> Iterator[RpcServer]:
    running = RpcServer(RpcDispatcher(chain), "127.0.0.1", 0)
    running.start()
    try:
        yield running
    finally:
        running.shutdown()


def post(connection: http.client.HTTPConnection, body: bytes) -> tuple[int, dict[str, str], bytes]:
    connection.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def test_requests_and_batches_over_one_kept_alive_connection(server: RpcServer, chain: EmbeddedChain) -> None:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        status, headers, body = post(connection, b'{"jsonrpc":"2.0","id":7,"method":"eth_chainId"}')
        assert status == 200 and headers["Content-Type"] == "application/json"
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert json.loads(body) == {"jsonrpc": "2.0", "id": 7, "result": hex(chain.chain_id)}
        batch = [{"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"},
                 {"jsonrpc": "2.0", "id": 2, "method": "eth_nothing"}]
        status, _, body = post(connection, json.dumps(batch).encode())
        answers = json.loads(body)
        assert status == 200 and answers[0]["result"] == "0x0" and answers[1]["error"]["code"] == -32601
        status, _, body = post(connection, b"[{")
        assert status == 200 and json.loads(body)["error"]["code"] == -32700
        status, _, body = post(connection, b'{"jsonrpc":"2.0","method":"eth_chainId"}')  # a notification
        assert status == 204 and body == b""
        status, _, body = post(connection, b"[" * 1_000_000)  # would overflow the C parser's stack
        assert status == 200 and json.loads(body)["error"]["code"] == -32700
        status, _, body = post(connection, b'{"jsonrpc":"2.0","id":8,"method":"eth_chainId"}')
        assert status == 200 and json.loads(body)["id"] == 8
    finally:
        connection.close()


def test_get_and_cors_preflight(server: RpcServer, chain: EmbeddedChain) -> None:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        assert response.status == 200 and json.loads(response.read())["chain_id"] == chain.chain_id
        connection.request("OPTIONS", "/")
        response = connection.getresponse()
        response.read()
        assert response.status == 204 and "POST" in response.getheader("Access-Control-Allow-Methods", "")
    finally:
        connection.close()


def raw_exchange(server: RpcServer, request: bytes) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=30) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_bodies_without_length_or_too_large_are_refused(server: RpcServer) -> None:
    answer = raw_exchange(server, b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 411 ") and b"needs a Content-Length" in answer
    too_long = f"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {MAX_BODY_BYTES + 1}\r\n\r\n"
    answer = raw_exchange(server, too_long.encode())
    assert answer.startswith(b"HTTP/1.1 413 ") and b"at most" in answer
    answer = raw_exchange(server, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ") and b"bad Content-Length" in answer


def test_other_methods_bad_request_lines_and_http_1_0(server: RpcServer, chain: EmbeddedChain) -> None:
    answer = raw_exchange(server, b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 405 ") and b"POST JSON-RPC" in answer
    assert raw_exchange(server, b"HELLO\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert raw_exchange(server, b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 101 + b"\r\n").startswith(b"HTTP/1.1 431 ")
    body = b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}'
    # HTTP/1.0 without keep-alive: one answer, then the server closes (raw_exchange reads until EOF)
    answer = raw_exchange(server, b"POST / HTTP/1.0\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    assert answer.startswith(b"HTTP/1.1 200 ") and b"Connection: close" in answer
    assert answer.endswith(json.dumps({"jsonrpc": "2.0", "id": 1, "result": hex(chain.chain_id)},
                                      separators=(",", ":")).encode())


def test_expect_100_continue_is_honoured(server: RpcServer) -> None:
    body = b'{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}'
    with socket.create_connection((server.host, server.port), timeout=30) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n" % len(body))
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b'"result":"0x0"}')


def test_a_client_hanging_up_mid_body_does_not_disturb_the_server(server: RpcServer, chain: EmbeddedChain) -> None:
    with socket.create_connection((server.host, server.port), timeout=30) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n{\"jsonrpc\"")
    connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        status, _, body = post(connection, b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}')
        assert status == 200 and json.loads(body)["result"] == hex(chain.chain_id)
    finally:
        connection.close()


def test_shutdown_closes_kept_alive_connections(server: RpcServer, chain: EmbeddedChain) -> None:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        status, headers, _ = post(connection, b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}')
        assert status == 200 and "Connection" not in headers  # kept alive
        server.shutdown()
        with pytest.raises(OSError):  # RemoteDisconnected, ConnectionResetError or BrokenPipeError
            post(connection, b'{"jsonrpc":"2.0","id":2,"method":"eth_chainId"}')
    finally:
        connection.close()


def test_shutdown_lets_a_request_in_progress_finish_then_closes_its_connection(
    chain: EmbeddedChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    dispatcher = RpcDispatcher(chain)
    server = RpcServer(dispatcher, "127.0.0.1", 0)
    server.start()
    entered, release = threading.Event(), threading.Event()
    handle_bytes = dispatcher.handle_bytes

    def slow(body: bytes) -> bytes | None:
        if b"eth_blockNumber" in body:
            entered.set()
            release.wait(30)
        return handle_bytes(body)

    monkeypatch.setattr(dispatcher, "handle_bytes", slow)
    busy = http.client.HTTPConnection(server.host, server.port, timeout=30)
    answers: list[tuple[int, dict[str, str], bytes]] = []
    asking = threading.Thread(target=lambda: answers.append(
        post(busy, b'{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}')))
    stopping = threading.Thread(target=server.shutdown)
    try:
        asking.start()
        assert entered.wait(30)
        stopping.start()
        while not server.closing:
            stopping.join(0.01)
        release.set()
        asking.join()
        stopping.join()
        status, headers, body = answers[0]
        assert status == 200 and json.loads(body)["result"] == "0x0"
        assert headers.get("Connection") == "close"
        with pytest.raises(OSError):
            post(busy, b'{"jsonrpc":"2.0","id":2,"method":"eth_chainId"}')
    finally:
        release.set()
        busy.close()
        server.shutdown()


def test_a_taken_port_is_reported_with_what_to_do(server: RpcServer, chain: EmbeddedChain) -> None:
    with pytest.raises(NodeStartError, match=f"port {server.port} on 127.0.0.1 is already in use .*: stop it, or "
                       "choose another port$") as info:
        RpcServer(RpcDispatcher(chain), "127.0.0.1", server.port)
    assert info.value.options == ("port",) and "--" not in str(info.value)


def test_an_address_of_another_machine_is_reported(chain: EmbeddedChain) -> None:
    with pytest.raises(NodeStartError, match="cannot listen on '192.0.2.1'.*try 127.0.0.1") as info:
        RpcServer(RpcDispatcher(chain), "192.0.2.1", 0)
    assert info.value.options == ("host",)


def test_a_port_out_of_range_is_reported(chain: EmbeddedChain) -> None:
    with pytest.raises(NodeStartError, match="port 70000 is not a TCP port: choose one from 1 to 65535") as info:
        RpcServer(RpcDispatcher(chain), "127.0.0.1", 70000)
    assert info.value.options == ("port",)


def test_a_server_bound_before_its_chain_is_open_says_the_node_is_starting() -> None:
    server = RpcServer(None, "127.0.0.1", 0)
    server.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        connection.request("POST", "/", body=b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}',
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        assert response.status == 503
        answer = json.loads(response.read())
        assert answer["error"]["message"] == "the node is starting: retry in a moment"
    finally:
        server.shutdown()
