"""The JSON-RPC dispatcher (dataseal.chain.embedded.rpc) under generated requests: every method of its
table, with parameters mixing what clients send (hex quantities, data, addresses, hashes, block tags,
call and filter objects, signed transactions) with what they should not (nulls, nested lists, big and
negative numbers, strings that are nearly hex). No request makes it raise or answer -32603, the code
of a bug, and every answer is JSON.

The chain is a throwaway one (manual mining, a 1 s call limit), so that evm_mine and the transactions
accepted change nothing that matters; the examples are derandomized, so a run is repeatable.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dataseal.chain.embedded.chain import EmbeddedChain
from dataseal.chain.embedded.defaults import DEFAULT_CHAIN_ID
from dataseal.chain.embedded.errors import INTERNAL_ERROR
from dataseal.chain.embedded.records import BLOCK_TAGS
from dataseal.chain.embedded.rpc import RpcDispatcher
from dataseal.chain.embedded.settings import Tuning
from tests.chain.embedded.helpers import open_chain

KEY = Account.from_key("0x" + "11" * 32)  # funded at genesis: its transactions get past the funds check

FIELDS = ["from", "to", "gas", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "value", "data", "input", "nonce",
          "accessList", "address", "storageKeys", "fromBlock", "toBlock", "blockHash", "blockNumber", "topics",
          "requireCanonical"]
NEARLY_HEX = ["0x-1", "0x 1", "0x1 ", " 0x1", "0x+1", "0x1_0", "0x", "0x0x1", "0x01", "0X1", "0xg", "1", "", "latest ",
              "LATEST", "0x\u0661", "0x1\n", "0x" + "f" * 65, "0x" + "0" * 64, "0x" + "00 " * 20, "0x" + "ab" * 21,
              "\x00", "null"]

KNOWN_HASHES: list[str] = []  # blocks and transactions of the chain, filled by the fixture

numbers = st.one_of(st.integers(-(2**300), 2**300), st.floats(allow_nan=False, allow_infinity=False), st.booleans())
nearly_hex = st.one_of(st.sampled_from(NEARLY_HEX), st.text(max_size=12))
quantities = st.one_of(
    st.integers(0, 300).map(hex), st.integers(0, 2**256 - 1).map(hex), st.integers(2**256, 2**260).map(hex),
    st.integers(0, 2**70), st.sampled_from(NEARLY_HEX), st.integers(-(2**64), -1).map(lambda n: f"0x-{-n:x}"),
)
data = st.one_of(st.binary(max_size=80).map(lambda b: "0x" + b.hex()),
                 st.sampled_from(["0x", "0x0", "0xzz", "0x" + "00" * 60_000]))  # (the last: too much init code)
addresses = st.one_of(
    st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex()),
    st.sampled_from([KEY.address, "0x" + "00" * 19 + "08", "0x" + "00" * 19 + "05", "0x" + "00" * 19 + "0f"]),
)
hashes = st.one_of(st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex()),
                   st.deferred(lambda: st.sampled_from(KNOWN_HASHES)))
tags = st.sampled_from(BLOCK_TAGS)
blocks = st.one_of(
    tags, st.integers(0, 4).map(hex), quantities,
    st.fixed_dictionaries({}, optional={"blockHash": hashes, "blockNumber": st.one_of(tags, quantities),
                                        "requireCanonical": st.booleans()}),
)


@st.composite
def signed_transactions(draw: st.DrawFn) -> str:
    tx: dict[str, Any] = {
        "chainId": draw(st.sampled_from([DEFAULT_CHAIN_ID, 1])),
        "nonce": draw(st.integers(0, 5)),
        "gas": draw(st.one_of(st.integers(21_000, 200_000), st.integers(0, 40_000_000))),
        "value": draw(st.one_of(st.integers(0, 10**18), st.integers(0, 2**80))),
        "data": draw(st.binary(max_size=100)),
        "maxFeePerGas": draw(st.one_of(st.integers(10**9, 10**11), st.integers(0, 2**70))),
        "maxPriorityFeePerGas": draw(st.one_of(st.integers(0, 10**9), st.integers(0, 2**70))),
        "type": 2,
    }
    to = draw(st.none() | addresses)
    if to is not None:
        tx["to"] = to
    try:
        return "0x" + bytes(KEY.sign_transaction(tx).raw_transaction).hex()
    except Exception:  # eth-account refuses some field combinations before signing
        assume(False)
        raise


scalars = st.one_of(quantities, numbers, nearly_hex, data, addresses, hashes, tags, st.none())
noise = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=4)), inner, max_size=5),
    ),
    max_leaves=12,
)


@st.composite
def mostly(draw: st.DrawFn, strategy: st.SearchStrategy[Any], times: int = 4) -> Any:
    """A value of ``strategy`` about ``times`` times in ``times + 1``, anything else otherwise.
    (``st.one_of`` with the strategy repeated would not weigh it: it draws each distinct branch alike.)"""
    return draw(strategy if draw(st.sampled_from(range(times + 1))) < times else noise)


access_lists = st.lists(st.fixed_dictionaries({"address": mostly(addresses), "storageKeys": mostly(st.lists(hashes))}),
                        max_size=2)
calls = st.fixed_dictionaries({}, optional={
    "from": mostly(addresses), "to": mostly(st.none() | addresses), "gas": mostly(quantities),
    "value": mostly(quantities), "data": mostly(data), "input": mostly(data), "accessList": mostly(access_lists),
    "gasPrice": quantities, "maxFeePerGas": quantities, "nonce": quantities,
})
topics = st.lists(st.one_of(st.none(), hashes, st.lists(hashes, max_size=3)), max_size=5)
filters = st.fixed_dictionaries({}, optional={
    "fromBlock": mostly(blocks), "toBlock": mostly(blocks), "blockHash": mostly(hashes),
    "address": mostly(st.one_of(addresses, st.lists(addresses, max_size=3))), "topics": mostly(topics),
})
percentiles = st.lists(st.one_of(st.floats(0, 100), st.integers(-5, 105)), max_size=4)
booleans = st.booleans()

# What each method takes, position by position (a method not listed gets noise at every position).
SHAPES: dict[str, list[st.SearchStrategy[Any]]] = {
    "web3_sha3": [data],
    "eth_getBlockByNumber": [blocks, booleans],
    "eth_getBlockByHash": [hashes, booleans],
    "eth_getBlockTransactionCountByNumber": [blocks],
    "eth_getBlockTransactionCountByHash": [hashes],
    "eth_getTransactionByBlockNumberAndIndex": [blocks, quantities],
    "eth_getTransactionByBlockHashAndIndex": [hashes, quantities],
    "eth_getUncleCountByBlockNumber": [blocks],
    "eth_getUncleCountByBlockHash": [hashes],
    "eth_getBlockReceipts": [st.one_of(blocks, hashes)],
    "eth_getBalance": [addresses, blocks],
    "eth_getCode": [addresses, blocks],
    "eth_getTransactionCount": [addresses, blocks],
    "eth_getStorageAt": [addresses, st.one_of(quantities, hashes), blocks],
    "eth_sendRawTransaction": [st.one_of(signed_transactions(), signed_transactions(), data)],
    "eth_call": [calls, blocks, st.one_of(st.none(), noise)],
    "eth_estimateGas": [calls, blocks, st.one_of(st.none(), noise)],
    "eth_feeHistory": [st.one_of(st.integers(0, 1100).map(hex), quantities), blocks, percentiles],
    "eth_getTransactionByHash": [hashes],
    "eth_getTransactionReceipt": [hashes],
    "eth_getLogs": [filters],
    "evm_mine": [st.one_of(st.none(), quantities)],
}


@st.composite
def requests(draw: st.DrawFn, methods: list[str]) -> dict[str, Any]:
    method = draw(mostly(st.sampled_from(methods), 12), label="method")
    shape = SHAPES.get(method, []) if isinstance(method, str) else []
    exact = draw(st.sampled_from(range(7))) < 6
    count = len(shape) if exact else draw(st.integers(max(0, len(shape) - 1), len(shape) + 1))
    params: Any = [draw(mostly(shape[i], 6) if i < len(shape) else noise) for i in range(count)]
    params = draw(mostly(st.just(params), 8), label="params")
    request: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params is not None:
        request["params"] = params
    return request


@pytest.fixture(scope="module")
def dispatcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RpcDispatcher]:
    chain: EmbeddedChain = open_chain(Path(tmp_path_factory.mktemp("fuzz")), [KEY.address],
                                      tuning=Tuning(call_timeout=1.0, receipt_wait=0.0))
    try:
        chain.send_raw_transaction(bytes(KEY.sign_transaction({
            "chainId": chain.chain_id, "nonce": 0, "gas": 21_000, "to": KEY.address, "value": 1, "type": 2,
            "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9}).raw_transaction))
        mined = chain.mine()
        KNOWN_HASHES[:] = ["0x" + mined.hash.hex(), "0x" + mined.transactions[0].hex(),
                           "0x" + bytes(chain.header_for(0).hash).hex(), "0x" + chain.mine().hash.hex()]
        yield RpcDispatcher(chain)
    finally:
        chain.close(flush=False)


@settings(max_examples=500, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_no_generated_request_is_answered_as_a_bug(dispatcher: RpcDispatcher, data: st.DataObject) -> None:
    request = data.draw(requests(dispatcher.methods), label="request")
    response = dispatcher.handle(request)
    assert isinstance(response, dict)
    error = response.get("error")
    assert error is None or error["code"] != INTERNAL_ERROR, (request, error)
    json.dumps(response, allow_nan=False)


@settings(max_examples=100, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(noise, min_size=1, max_size=6))
def test_malformed_batches_are_no_bug(dispatcher: RpcDispatcher, batch: list[Any]) -> None:
    response = dispatcher.handle(batch)
    for item in response or []:
        assert item.get("error", {}).get("code") != INTERNAL_ERROR, (batch, item)
    json.dumps(response, allow_nan=False)
