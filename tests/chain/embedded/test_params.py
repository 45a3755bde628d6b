"""JSON-RPC parameters (dataseal.chain.embedded.params): quantities, data, slots and block numbers read
as geth's hexutil reads them; anything else is -32602 with the method, the position and what was wanted."""
from __future__ import annotations

from typing import Any

import pytest

from dataseal.chain.embedded.errors import INVALID_PARAMS, InvalidParams
from dataseal.chain.embedded.params import Params
from dataseal.chain.embedded.rpc import RpcDispatcher

BAD_QUANTITIES = ["0x-1", "0x 1", "0x1 ", " 0x1", "0x+1", "0x1_0", "0x", "0x0x1", "1", "0xg", "0x1\n", "0x١", "", None,
                  True, 1.5, [], {}]


@pytest.mark.parametrize("value", BAD_QUANTITIES, ids=repr)
def test_only_hex_quantities_are_numbers(value: Any) -> None:
    with pytest.raises(InvalidParams, match=r"eth_x param 0 \(n\) must be a hex quantity") as info:
        Params("eth_x", [value]).quantity(0, "n")
    assert info.value.code == INVALID_PARAMS


@pytest.mark.parametrize(("value", "number"), [("0x0", 0), ("0x1a", 26), ("0X1A", 26), ("0xaBc", 0xABC), (7, 7),
                                               ("0x" + "f" * 64, 2**256 - 1)])
def test_hex_quantities_are_read(value: Any, number: int) -> None:
    assert Params("eth_x", [value]).quantity(0, "n") == number


@pytest.mark.parametrize("value", ["0x00", "0x01", "0x0001a"])
def test_leading_zero_digits_are_refused_as_geth_does(value: str) -> None:
    with pytest.raises(InvalidParams, match="eth_x param 0 \\(n\\): hex number with leading zero digits"):
        Params("eth_x", [value]).quantity(0, "n")


def test_quantities_are_bounded() -> None:
    with pytest.raises(InvalidParams, match="hex number > 256 bits"):
        Params("eth_x", ["0x1" + "0" * 64]).quantity(0, "n")
    with pytest.raises(InvalidParams, match="number > 256 bits"):
        Params("eth_x", [2**256]).quantity(0, "n")
    with pytest.raises(InvalidParams, match="must not be negative"):
        Params("eth_x", [-1]).quantity(0, "n")
    assert Params("eth_x", ["0x7fffffffffffffff"]).block(0) == 2**63 - 1
    with pytest.raises(InvalidParams, match="number > 63 bits"):
        Params("eth_x", ["0x8000000000000000"]).block(0)  # geth: block number larger than int64


@pytest.mark.parametrize("value", ["0x 00", "0x00 ", "0x0", "00", "0x0g", "0x\u0660\u0660", None, 1])
def test_data_is_hex_digits_only(value: Any) -> None:
    with pytest.raises(InvalidParams, match="must be 0x-prefixed hex bytes"):
        Params("eth_x", [value]).data(0, "d")


def test_data_is_read() -> None:
    assert Params("eth_x", ["0x"]).data(0, "d") == b""
    assert Params("eth_x", ["0x00Ff"]).data(0, "d") == b"\x00\xff"


def test_slots_take_padded_keys_as_geth_does() -> None:
    assert Params("eth_x", ["0x" + "0" * 63 + "1"]).slot(0) == 1
    assert Params("eth_x", ["0x0"]).slot(0) == 0
    for bad in ["0x" + "0" * 65, "0x", "0x-1", "0x 1", 1]:
        with pytest.raises(InvalidParams, match="must be a storage slot"):
            Params("eth_x", [bad]).slot(0)


def test_block_objects_name_a_hash_or_a_number() -> None:
    assert Params("eth_x", [{"blockNumber": "0x2"}]).block(0) == 2
    with pytest.raises(InvalidParams, match="must name blockHash or blockNumber"):
        Params("eth_x", [{"blockNumber": {"blockNumber": "0x1"}}]).block(0)


def rpc(dispatcher: RpcDispatcher, method: str, *params: Any) -> dict[str, Any]:
    response = dispatcher.handle({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
    assert isinstance(response, dict)
    return response


ZERO = "0x" + "00" * 20


@pytest.mark.parametrize(("method", "params"), [
    ("eth_getBalance", [ZERO, "0x-1"]),
    ("eth_getBlockByNumber", ["0x-1", False]),
    ("eth_getBlockReceipts", ["0x-1"]),
    ("eth_feeHistory", ["0x1", "0x-1"]),
    ("eth_getStorageAt", [ZERO, "0x0", "0x-1"]),
    ("eth_getStorageAt", [ZERO, "0x-1"]),
    ("eth_getLogs", [{"fromBlock": "0x-1"}]),
    ("eth_getTransactionByBlockNumberAndIndex", ["latest", "0x-1"]),
    ("eth_getBalance", [ZERO, "0x 1"]),
    ("eth_getBalance", [ZERO, "0x+1"]),
    ("eth_getBalance", [ZERO, "0x1_0"]),
    ("eth_getBalance", [ZERO, "0x01"]),
    ("eth_getCode", ["0x" + "00 " * 20]),
], ids=lambda v: v if isinstance(v, str) else repr(v)[:30])
def test_bad_quantities_are_invalid_params_over_json_rpc(dispatcher: RpcDispatcher, method: str,
                                                         params: list[Any]) -> None:
    response = rpc(dispatcher, method, *params)
    assert response["error"]["code"] == -32602, response


def test_the_index_minus_one_is_no_last_transaction(dispatcher: RpcDispatcher) -> None:
    assert rpc(dispatcher, "eth_getTransactionByBlockNumberAndIndex", "latest", "0x-1")["error"]["code"] == -32602


def test_a_padded_slot_still_reads_storage(dispatcher: RpcDispatcher) -> None:
    assert rpc(dispatcher, "eth_getStorageAt", ZERO, "0x" + "0" * 64, "latest")["result"] == "0x" + "00" * 32
