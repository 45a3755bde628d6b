"""The event reader: pages of eth_getLogs that shrink when a node refuses a large range.

The refusal comes from a middleware in front of a real node (hardhat, the embedded chain) that
answers a too-wide eth_getLogs the way public RPC services do (JSON-RPC error -32005); every
other request, and every accepted eth_getLogs, is answered by the real node.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eth_utils import keccak
from web3 import Web3
from web3.middleware import Web3Middleware
from web3.types import RPCEndpoint, RPCResponse

from dataseal.chain.contracts.deployed import DatasealContracts
from dataseal.chain.contracts.events import EventDecoder
from dataseal.chain.contracts.logs import LogQueryRefused, LogReader
from dataseal.chain.contracts.records import AssetRecord, AssetTransfer, GrantRecord, Registration, UsageRecord
from dataseal.chain.errors import ChainError
from dataseal.errors import ConfigError
from tests.chain.conftest import Backend


def h(label: str) -> bytes:
    return keccak(text=label)


def _block(value: Any, w3: Web3) -> int:
    if isinstance(value, int):
        return value
    if value in ("latest", "pending", "safe", "finalized"):
        return int(w3.eth.block_number)
    if value == "earliest":
        return 0
    return int(value, 16)


def refuse_ranges_wider_than(limit: int, seen: list[tuple[int, int]], message: str | None = None) -> Any:
    """A middleware class: eth_getLogs over more than ``limit`` blocks gets an Infura-like error."""

    class RefuseWideLogQueries(Web3Middleware):
        def wrap_make_request(self, make_request: Callable[[RPCEndpoint, Any], RPCResponse]) -> Any:
            def middleware(method: RPCEndpoint, params: Any) -> RPCResponse:
                if method == "eth_getLogs":
                    query = params[0]
                    start, end = _block(query.get("fromBlock", "earliest"), self._w3), _block(
                        query.get("toBlock", "latest"), self._w3)
                    seen.append((start, end))
                    if end - start + 1 > limit:
                        text = message or f"query exceeds max block range {limit}"
                        return {"jsonrpc": "2.0", "id": 0, "error": {"code": -32005, "message": text}}
                return make_request(method, params)

            return middleware

    return RefuseWideLogQueries


def _history(backend: Backend) -> tuple[DatasealContracts, list[Any]]:
    """A deployment with registrations, a grant and usage spread over many blocks."""
    owner = backend.sender(backend.fund())
    contracts = DatasealContracts.bind(backend.w3, backend.deploy(), owner)
    made: list[Any] = []
    for i in range(6):
        made.append(contracts.registry.register(Registration(h(f"asset-{i}"), h("m"), 1, 0)))
        backend.mine()  # an empty block between, so that ranges matter
    now = int(backend.w3.eth.get_block("latest")["timestamp"])
    grant = contracts.grants.grant(1, owner.address, h("p"), now - 5, now + 3600, 10, b"\0" * 32)
    made.append(grant)
    made.append(contracts.ledger.record_usage(grant.grant_id, 2, h("job")))
    return contracts, made


def test_reader_shrinks_the_page_when_the_node_refuses(backend: Backend) -> None:
    contracts, made = _history(backend)
    seen: list[tuple[int, int]] = []
    backend.w3.middleware_onion.add(refuse_ranges_wider_than(4, seen), name="refuse-wide-logs")
    try:
        reader = LogReader(backend.w3, page_blocks=1000, endpoint=backend.node.endpoint)
        records = list(reader.records(contracts.deployment))
    finally:
        backend.w3.middleware_onion.remove("refuse-wide-logs")
    assert reader.refusals >= 1 and reader.page_blocks <= 4
    assert all(end - start + 1 <= 4 for start, end in seen[reader.refusals:])  # after shrinking: all accepted
    registered = [r for r in records if isinstance(r, AssetRecord)]
    assert [r.asset_id for r in registered] == [1, 2, 3, 4, 5, 6]
    assert registered == [m for m in made if isinstance(m, AssetRecord)]  # same as decoded from receipts
    assert [type(r) for r in records if not isinstance(r, (AssetRecord, AssetTransfer))][-2:] == [GrantRecord,
                                                                                                   UsageRecord]
    positions = [(r.tx.block_number, r.tx.log_index) for r in records]
    assert positions == sorted(positions)  # chain order
    # the same walk without a limit gives the same records in one page
    assert list(LogReader(backend.w3).records(contracts.deployment)) == records


def test_reader_takes_a_range_the_node_suggests(backend: Backend) -> None:
    contracts, _ = _history(backend)
    start = contracts.deployment.deploy_block
    seen: list[tuple[int, int]] = []
    hint = f"Log response size exceeded. this block range should work: [{hex(start)}, {hex(start + 2)}]"
    backend.w3.middleware_onion.add(refuse_ranges_wider_than(3, seen, hint), name="refuse-wide-logs")
    try:
        reader = LogReader(backend.w3, page_blocks=500)
        registered = [r for r in reader.records(contracts.deployment) if isinstance(r, AssetRecord)]
    finally:
        backend.w3.middleware_onion.remove("refuse-wide-logs")
    assert reader.refusals == 1 and reader.page_blocks == 3  # straight to the suggested size
    assert len(registered) == 6


def test_a_node_refusing_even_one_block_is_an_error(backend: Backend) -> None:
    contracts, _ = _history(backend)
    seen: list[tuple[int, int]] = []
    backend.w3.middleware_onion.add(refuse_ranges_wider_than(0, seen), name="refuse-all-logs")
    try:
        reader = LogReader(backend.w3, page_blocks=64, endpoint=backend.node.endpoint)
        with pytest.raises(LogQueryRefused, match=r"refuses eth_getLogs even for 1 block\(s\)"):
            list(reader.records(contracts.deployment))
    finally:
        backend.w3.middleware_onion.remove("refuse-all-logs")
    # the first page spans the history (fewer than 64 blocks), then halves down to one block, then gives up
    sizes = [end - start + 1 for start, end in seen]
    assert sizes[0] < 64 and sizes[-1] == 1
    assert all(later == earlier // 2 for earlier, later in zip(sizes, sizes[1:], strict=False))
    assert reader.refusals == len(sizes) and reader.page_blocks == 1


def test_other_errors_are_not_taken_for_a_range_limit(backend: Backend) -> None:
    class Broken(Web3Middleware):
        def wrap_make_request(self, make_request: Callable[[RPCEndpoint, Any], RPCResponse]) -> Any:
            def middleware(method: RPCEndpoint, params: Any) -> RPCResponse:
                if method == "eth_getLogs":
                    return {"jsonrpc": "2.0", "id": 0, "error": {"code": -32601, "message": "method not found"}}
                return make_request(method, params)

            return middleware

    backend.w3.middleware_onion.add(Broken, name="broken")
    try:
        reader = LogReader(backend.w3, page_blocks=10)
        with pytest.raises(ChainError, match="eth_getLogs for blocks 0..") as exc:
            list(reader.logs("0x" + "11" * 20, 0))
        assert not isinstance(exc.value, LogQueryRefused)
        assert reader.refusals == 0
    finally:
        backend.w3.middleware_onion.remove("broken")


def test_range_walk_edges(backend: Backend) -> None:
    contracts, _ = _history(backend)
    reader = LogReader(backend.w3, page_blocks=2)
    address = contracts.deployment.asset_registry
    latest = backend.w3.eth.block_number
    assert list(reader.logs(address, latest + 5, latest + 1)) == []  # empty range
    one = [r for r in reader.records(contracts.deployment, 0, "latest") if isinstance(r, AssetRecord)]
    assert len(one) == 6  # from block 0 with pages of 2: nothing before the deploy block breaks it
    with pytest.raises(ConfigError, match="min_page_blocks"):
        LogReader(backend.w3, page_blocks=1, min_page_blocks=2)


def test_decoder_refuses_a_log_that_does_not_match_the_contract(backend: Backend) -> None:
    contracts, made = _history(backend)
    receipt = backend.w3.eth.get_transaction_receipt(made[0].tx.tx_hash)
    log = dict(receipt["logs"][-1])
    log["topics"] = [keccak(text="NotAnEvent(uint256)")] + list(log["topics"][1:])
    with pytest.raises(ChainError, match="matches no event of its ABI"):
        EventDecoder(contracts.deployment).decode_log(log)
    log["address"] = "0x" + "22" * 20
    assert EventDecoder(contracts.deployment).decode_log(log) is None  # not ours: skipped


def rate_limit_first(count: int, calls: list[str]) -> Any:
    """A middleware class: the first ``count`` eth_getLogs get HTTP 429, as a public RPC would."""
    import requests

    class RateLimited(Web3Middleware):
        def wrap_make_request(self, make_request: Callable[[RPCEndpoint, Any], RPCResponse]) -> Any:
            def middleware(method: RPCEndpoint, params: Any) -> RPCResponse:
                if method == "eth_getLogs":
                    calls.append(method)
                    if len(calls) <= count:
                        response = requests.Response()
                        response.status_code = 429
                        raise requests.HTTPError("429 Client Error: Too Many Requests for url: x", response=response)
                return make_request(method, params)

            return middleware

    return RateLimited


def test_http_429_is_retried_not_taken_for_a_range_limit(backend: Backend) -> None:
    contracts, _ = _history(backend)
    calls: list[str] = []
    backend.w3.middleware_onion.add(rate_limit_first(2, calls), name="rate-limited")
    try:
        reader = LogReader(backend.w3, page_blocks=1000)
        reader.backoff = 0.01
        records = list(reader.records(contracts.deployment))
        assert sum(isinstance(r, AssetRecord) for r in records) == 6
        assert reader.refusals == 0 and reader.page_blocks == 1000  # the page did not shrink
        assert len(calls) >= 3
    finally:
        backend.w3.middleware_onion.remove("rate-limited")


def test_http_429_that_never_stops_is_an_error(backend: Backend) -> None:
    calls: list[str] = []
    backend.w3.middleware_onion.add(rate_limit_first(10**6, calls), name="rate-limited")
    try:
        reader = LogReader(backend.w3, page_blocks=10)
        reader.backoff = 0.001
        with pytest.raises(ChainError, match="keeps answering 429 Too Many Requests"):
            list(reader.logs("0x" + "11" * 20, 0))
        assert reader.refusals == 0
    finally:
        backend.w3.middleware_onion.remove("rate-limited")


def test_a_raw_reader_hands_out_logs_as_the_node_sent_them(backend: Backend) -> None:
    """raw=True skips web3's formatting: 0x-hex fields, and the same records once decoded."""
    contracts, _ = _history(backend)
    addresses = list(contracts.deployment.addresses().values())
    start = contracts.deployment.deploy_block
    formatted = list(LogReader(backend.w3).logs(addresses, start))
    raw = list(LogReader(backend.w3, raw=True).logs(addresses, start))
    assert len(raw) == len(formatted) > 8
    first = raw[0]
    assert isinstance(first["blockNumber"], str) and first["blockNumber"].startswith("0x")
    assert isinstance(first["topics"][0], str) and isinstance(first["data"], str)
    assert [(int(log["blockNumber"], 16), int(log["logIndex"], 16)) for log in raw] == [
        (log["blockNumber"], log["logIndex"]) for log in formatted]  # chain order, the same logs
    decoder = EventDecoder(contracts.deployment)
    assert decoder.decode_logs(raw) == decoder.decode_logs(formatted)


def test_a_raw_reader_filters_by_topics_given_as_bytes(backend: Backend) -> None:
    contracts, _ = _history(backend)
    usage = keccak(text="UsageRecorded(uint256,address,uint64,uint64,bytes32)")
    raw = list(LogReader(backend.w3, raw=True).logs(contracts.deployment.transaction_ledger,
                                                     contracts.deployment.deploy_block, topics=[usage]))
    records = EventDecoder(contracts.deployment).decode_logs(raw)
    assert [type(r) for r in records] == [UsageRecord]


def test_a_raw_reader_shrinks_the_page_when_the_node_refuses(backend: Backend) -> None:
    contracts, _ = _history(backend)
    seen: list[tuple[int, int]] = []
    backend.w3.middleware_onion.add(refuse_ranges_wider_than(4, seen), name="refuse-wide-logs")
    try:
        reader = LogReader(backend.w3, page_blocks=1000, raw=True)
        logs = list(reader.logs(list(contracts.deployment.addresses().values()), contracts.deployment.deploy_block))
    finally:
        backend.w3.middleware_onion.remove("refuse-wide-logs")
    assert reader.refusals >= 1 and reader.page_blocks <= 4
    assert len(logs) == len(list(LogReader(backend.w3).logs(list(contracts.deployment.addresses().values()),
                                                            contracts.deployment.deploy_block)))
