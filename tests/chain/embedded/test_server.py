"""The HTTP side: JSON-RPC over a real socket, keep-alive, HTTP-level errors, binding errors; who is
answered (Host names, web origins) and how much (the response size limit)."""
from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from eth_utils import to_checksum_address

from dataseal.chain.embedded.chain import EmbeddedChain
from dataseal.chain.embedded.errors import NodeStartError
from dataseal.chain.embedded.rpc import RpcDispatcher
from dataseal.chain.embedded.server import MAX_BODY_BYTES, RpcServer
from dataseal.chain.embedded.settings import Exposure
from tests.chain.embedded.conftest import Funded
from tests.chain.embedded.helpers import LOG_RUNTIME, deploy, sign


@contextmanager
def serving(chain: EmbeddedChain, exposure: Exposure | None = None) -> Iterator[RpcServer]:
    """``chain`` served on a free local port with ``exposure`` (the defaults if None), shut down afterwards."""
    running = (RpcServer(RpcDispatcher(chain), "127.0.0.1", 0) if exposure is None
               else RpcServer(RpcDispatcher(chain, exposure), "127.0.0.1", 0, exposure))
    running.start()
    try:
        yield running
    finally:
        running.shutdown()


@pytest.fixture
def server(chain: EmbeddedChain) -> Iterator[RpcServer]:
    with serving(chain) as running:
        yield running


def post(connection: http.client.HTTPConnection, body: bytes) -> tuple[int, dict[str, str], bytes]:
    connection.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def test_requests_and_batches_over_one_kept_alive_connection(server: RpcServer, chain: EmbeddedChain) -> None:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        status, headers, body = post(connection, b'{"jsonrpc":"2.0","id":7,"method":"eth_chainId"}')
        assert status == 200 and headers["Content-Type"] == "application/json"
        assert not any(name.startswith("Access-Control-") for name in headers)  # no CORS unless origins are named
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
        connection.request("OPTIONS", "/")  # not a preflight (no Origin)
        response = connection.getresponse()
        response.read()
        assert response.status == 204 and "POST" in response.getheader("Allow", "")
        assert response.getheader("Access-Control-Allow-Origin") is None
    finally:
        connection.close()


@pytest.fixture
def dev_server(chain: EmbeddedChain) -> Iterator[RpcServer]:
    """A server whose dispatcher serves evm_mine: what a web page could do to the chain shows."""
    exposure = Exposure(dev=True, spellings={"allowed_hosts": "--allow-host", "cors_origins": "--cors-origin"})
    with serving(chain, exposure) as running:
        yield running


MINE = b'{"jsonrpc":"2.0","id":1,"method":"evm_mine","params":[]}'


def request(server: RpcServer, method: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, dict[str, str],
                                                                                                  bytes]:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        connection.request(method, "/", body=body or None, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_a_web_page_of_an_origin_not_named_is_refused_before_anything_runs(
    dev_server: RpcServer, chain: EmbeddedChain
) -> None:
    # a text/plain POST needs no preflight: a browser sends it from any page, and it must not run
    status, headers, body = request(dev_server, "POST", {"Content-Type": "text/plain",
                                                         "Origin": "http://evil.example"}, MINE)
    assert status == 403 and "Access-Control-Allow-Origin" not in headers
    message = json.loads(body)["error"]["message"]
    assert "requests from web pages of http://evil.example are refused" in message
    assert "start the node with --cors-origin http://evil.example" in message
    status, headers, _ = request(dev_server, "OPTIONS", {"Origin": "http://evil.example",
                                                         "Access-Control-Request-Method": "POST"})
    assert status == 403 and "Access-Control-Allow-Origin" not in headers
    status, _, _ = request(dev_server, "POST", {"Content-Type": "text/plain", "Origin": "null"}, MINE)
    assert status == 403  # a sandboxed page or a file
    assert chain.head().block_number == 0  # evm_mine never ran
    status, _, body = request(dev_server, "POST", {"Content-Type": "application/json"}, MINE)  # not a browser
    assert status == 200 and json.loads(body)["result"] == "0x0" and chain.head().block_number == 1


def test_named_origins_get_cors_headers_and_their_preflights_answered(chain: EmbeddedChain) -> None:
    exposure = Exposure(cors_origins=("http://localhost:3000", "https://App.Example/"))
    server = RpcServer(RpcDispatcher(chain, exposure), "127.0.0.1", 0, exposure)
    server.start()
    try:
        body = b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}'
        for origin in ("http://localhost:3000", "https://app.example"):
            status, headers, answer = request(server, "POST", {"Content-Type": "application/json", "Origin": origin},
                                              body)
            assert status == 200 and json.loads(answer)["result"] == hex(chain.chain_id)
            assert headers["Access-Control-Allow-Origin"] == origin and headers["Vary"] == "Origin"
            status, headers, _ = request(server, "OPTIONS", {"Origin": origin, "Access-Control-Request-Method": "POST",
                                                             "Access-Control-Request-Headers": "content-type"})
            assert status == 204 and headers["Access-Control-Allow-Origin"] == origin
            assert "POST" in headers["Access-Control-Allow-Methods"]
            assert headers["Access-Control-Allow-Headers"] == "content-type"
        status, headers, _ = request(server, "POST", {"Content-Type": "application/json",
                                                      "Origin": "http://localhost:3001"}, body)
        assert status == 403 and "Access-Control-Allow-Origin" not in headers
    finally:
        server.shutdown()
    anyone = Exposure(cors_origins=("*",))
    server = RpcServer(RpcDispatcher(chain, anyone), "127.0.0.1", 0, anyone)
    server.start()
    try:
        status, headers, _ = request(server, "POST", {"Origin": "http://any.example"}, body)
        assert status == 200 and headers["Access-Control-Allow-Origin"] == "http://any.example"
        # what is sent back is a header value: one that would split the answer's headers is refused
        answer = raw_exchange(server, b"POST / HTTP/1.1\r\nHost: localhost\r\nOrigin: http://a\rSet-Cookie: x=1\r\n"
                              b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        assert answer.startswith(b"HTTP/1.1 403 ") and b"Set-Cookie" not in answer.partition(b"\r\n\r\n")[0]
    finally:
        server.shutdown()


def test_only_local_names_and_addresses_are_served_unless_more_are_allowed(
    dev_server: RpcServer, chain: EmbeddedChain
) -> None:
    # DNS rebinding: a page of attacker.example whose name now points at 127.0.0.1 sends its own name as Host
    status, _, body = request(dev_server, "POST", {"Host": "attacker.example:8545",
                                                   "Content-Type": "application/json"}, MINE)
    assert status == 403
    message = json.loads(body)["error"]["message"]
    assert "does not serve the name 'attacker.example'" in message
    assert message.endswith("start the node with --allow-host attacker.example")
    assert chain.head().block_number == 0
    for host in ("localhost", "LocalHost:8545", "127.0.0.1", f"127.0.0.1:{dev_server.port}", "[::1]",
                 "[::1]:8545", "localhost.", "192.168.1.20:8545", "[fe80::1]"):
        status, _, body = request(dev_server, "POST", {"Host": host}, MINE.replace(b"evm_mine", b"eth_chainId"))
        assert status == 200, host
    assert request(dev_server, "GET", {"Host": "attacker.example"})[0] == 403
    named = Exposure(allowed_hosts=("node.lan",))
    server = RpcServer(RpcDispatcher(chain, named), "127.0.0.1", 0, named)
    server.start()
    try:
        assert request(server, "POST", {"Host": "node.lan:8545"}, MINE.replace(b"evm_mine", b"eth_chainId"))[0] == 200
        status, _, body = request(server, "POST", {"Host": "other.lan"}, MINE)
        assert status == 403 and "'other.lan' in its allowed_hosts" in json.loads(body)["error"]["message"]
    finally:
        server.shutdown()
    anyone = Exposure(allowed_hosts=("*",))
    server = RpcServer(RpcDispatcher(chain, anyone), "127.0.0.1", 0, anyone)
    server.start()
    try:
        assert request(server, "POST", {"Host": "whatever.example"}, MINE.replace(b"evm_mine", b"eth_chainId"))[0] \
            == 200
    finally:
        server.shutdown()


@pytest.mark.parametrize("settings", [{"allowed_hosts": ("a b",)}, {"allowed_hosts": ("http://x",)},
                                      {"cors_origins": ("localhost:3000",)}, {"cors_origins": ("http://x/path",)},
                                      {"max_response_bytes": 10}])
def test_exposure_settings_that_mean_nothing_are_refused(settings: dict[str, object]) -> None:
    from dataseal.chain.embedded.errors import EmbeddedChainError

    with pytest.raises(EmbeddedChainError) as refused:
        Exposure(**settings)  # type: ignore[arg-type]
    assert refused.value.options == tuple(settings) and refused.value.hint


def raw_exchange(server: RpcServer, request: bytes) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=30) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_bodies_without_length_or_too_large_are_refused(server: RpcServer) -> None:
    answer = raw_exchange(server, b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 411 ") and b"needs a Content-Length" in answer
    too_long = f"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: {MAX_BODY_BYTES + 1}\r\n\r\n"
    answer = raw_exchange(server, too_long.encode())
    assert answer.startswith(b"HTTP/1.1 413 ") and b"at most" in answer
    answer = raw_exchange(server, b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: ten\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ") and b"bad Content-Length" in answer


BLOCK_NUMBER = b'{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}'  # 63 bytes


@pytest.mark.parametrize("lengths", [[b"+63"], [b"6_3"], [b"0x3f"], [b"-1"], [b"63, 63"], ["٦٣".encode()],
                                     [b"63", b"64"], [b"63", b"+63"]])
def test_a_content_length_other_than_digits_or_two_that_differ_are_refused(
    server: RpcServer, lengths: list[bytes]
) -> None:
    assert len(BLOCK_NUMBER) == 63
    head = b"POST / HTTP/1.1\r\nHost: localhost\r\n" + b"".join(b"Content-Length: %s\r\n" % n for n in lengths)
    answer = raw_exchange(server, head + b"Connection: close\r\n\r\n" + BLOCK_NUMBER)
    assert answer.startswith(b"HTTP/1.1 400 ") and b'"result"' not in answer


def test_the_same_content_length_twice_is_accepted_two_hosts_that_differ_are_not(server: RpcServer) -> None:
    answer = raw_exchange(server, b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 63\r\n"
                          b"Content-Length: 63\r\nConnection: close\r\n\r\n" + BLOCK_NUMBER)
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b'"result":"0x0"}')
    answer = raw_exchange(server, b"POST / HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\n"
                          b"Content-Length: 63\r\nConnection: close\r\n\r\n" + BLOCK_NUMBER)
    assert answer.startswith(b"HTTP/1.1 400 ") and b"two different host headers" in answer


# ---------------------------------------------------------------------------------- the response size limit


LIMIT = 8 * 1024  # small, so that real answers pass it quickly


@pytest.fixture
def logs_server(chain: EmbeddedChain, keys: Funded) -> Iterator[RpcServer]:
    """A chain of 40 blocks holding one 32-byte-topic log each, served with responses of LIMIT bytes at most."""
    emitter = deploy(chain, keys.alice, LOG_RUNTIME)
    for nonce in range(1, 41):
        chain.send_raw_transaction(sign(keys.alice, chain.chain_id, nonce, to=to_checksum_address(emitter), value=0,
                                        gas=60_000, data=nonce.to_bytes(32, "big")))
        chain.mine()
    exposure = Exposure(max_response_bytes=LIMIT)
    with serving(chain, exposure) as running:
        yield running


def get_logs(request_id: int, first: int, last: int) -> dict[str, object]:
    return {"jsonrpc": "2.0", "id": request_id, "method": "eth_getLogs",
            "params": [{"fromBlock": hex(first), "toBlock": hex(last)}]}


def test_a_result_above_the_response_limit_is_refused_with_what_to_narrow(logs_server: RpcServer) -> None:
    connection = http.client.HTTPConnection(logs_server.host, logs_server.port, timeout=30)
    try:
        status, _, body = post(connection, json.dumps(get_logs(1, 0, 41)).encode())
        assert status == 200 and len(body) < 1024
        answer = json.loads(body)
        assert answer["id"] == 1 and answer["error"]["code"] == -32005
        message = answer["error"]["message"]
        assert message.startswith("response too large: the result of eth_getLogs is ")
        assert f"above the node's limit of {LIMIT} bytes per response: ask for a shorter block range" in message
        status, _, body = post(connection, json.dumps(get_logs(2, 2, 3)).encode())  # narrower: answered
        assert len(json.loads(body)["result"]) == 2
    finally:
        connection.close()


def test_a_batch_stops_being_answered_once_its_responses_pass_the_limit(logs_server: RpcServer) -> None:
    batch = [get_logs(n, n, n) for n in range(2, 42)]  # 40 answers of one log each: ~640 bytes apiece
    batch.insert(5, {"jsonrpc": "2.0", "method": "eth_blockNumber"})  # a notification: never answered
    connection = http.client.HTTPConnection(logs_server.host, logs_server.port, timeout=30)
    try:
        status, _, body = post(connection, json.dumps(batch).encode())
    finally:
        connection.close()
    answers = json.loads(body)
    assert status == 200 and [a["id"] for a in answers] == list(range(2, 42))
    answered = [a for a in answers if "result" in a]
    refused = [a for a in answers if "error" in a]
    assert answered == answers[:len(answered)] and 5 <= len(answered) < 40  # the first ones, as many as fit
    assert all(len(a["result"]) == 1 for a in answered)
    # every request run keeps its answer (the one that crossed the limit too, as geth does); none after it ran
    compact = (",", ":")
    assert len(json.dumps(answered[:-1], separators=compact)) <= LIMIT < len(json.dumps(answered, separators=compact))
    assert {a["error"]["code"] for a in refused} == {-32005}
    assert refused[0]["error"]["message"].startswith(
        f"response too large: the batch's responses passed the node's limit of {LIMIT} bytes after "
        f"{len(answered)} of its 41 requests: send the rest in another batch")


def test_other_methods_bad_request_lines_and_http_1_0(server: RpcServer, chain: EmbeddedChain) -> None:
    answer = raw_exchange(server, b"PUT / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n")
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
