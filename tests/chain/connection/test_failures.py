"""What a failed request means: connection failures, nonce conflicts, fees, funds, query limits, as the
nodes we know word them."""
from __future__ import annotations

import pytest
import requests

from dataseal.chain.connection.failures import (
    expected_nonce,
    is_already_known,
    is_connection_failure,
    is_insufficient_funds,
    is_nonce_too_high,
    is_nonce_too_low,
    is_range_refusal,
    is_underpriced,
    unreachable,
)


def test_refusal_classification() -> None:
    class E(Exception):
        pass

    assert is_range_refusal(E({"code": -32005, "message": "query returned more than 10000 results"}))
    assert is_range_refusal(E({"code": -32000, "message": "block range is too wide"}))
    assert is_range_refusal(E({"code": -32602, "message": "exceed maximum block range: 5000"}))
    assert not is_range_refusal(E({"code": -32601, "message": "the method eth_getLogs does not exist"}))
    assert not is_range_refusal(E({"code": -32000, "message": "unknown block"}))


@pytest.mark.parametrize(("message", "low", "high", "expected"), [
    ("nonce too low: address 0xabc, tx: 3 state: 5", True, False, None),  # geth, the embedded chain
    ("Nonce too low. Expected nonce to be 5 but got 3.", True, False, 5),  # hardhat
    ("Nonce too high. Expected nonce to be 2 but got 7. Note that transactions can't be queued", False, True, 2),
    ("nonce too high: address 0xabc, tx: 9, next: 4", False, True, None),
    ("insufficient funds for gas * price + value", False, False, None),
])
def test_nonce_conflicts_as_nodes_word_them(message: str, low: bool, high: bool, expected: int | None) -> None:
    assert (is_nonce_too_low(message), is_nonce_too_high(message), expected_nonce(message)) == (low, high, expected)


def test_fee_funds_and_known_transactions() -> None:
    assert is_insufficient_funds("insufficient funds for gas * price + value: address 0x1 have 0 want 21000")
    assert is_insufficient_funds("Sender doesn't have enough funds to send tx")  # hardhat
    assert is_underpriced("replacement transaction underpriced")
    assert is_underpriced("max fee per gas less than block base fee: address 0x1, maxFeePerGas: 1, baseFee: 7")
    assert is_already_known("already known") and is_already_known("known transaction: 0xabc")
    assert not is_underpriced("nonce too low") and not is_already_known("insufficient funds")


def test_only_silence_is_a_connection_failure() -> None:
    assert is_connection_failure(requests.ConnectionError("refused")) and is_connection_failure(TimeoutError())
    assert not is_connection_failure(ValueError("the node answered with an error"))
    error = unreachable("http://127.0.0.1:1", requests.ConnectionError("[Errno 111] Connection refused"))
    assert error.message == "cannot reach the node at http://127.0.0.1:1 (Connection refused)"
    assert error.options == ("rpc_url",)
