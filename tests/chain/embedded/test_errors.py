"""Errors of the embedded chain (dataseal.chain.embedded.errors): one root under the chain layer's, the
JSON-RPC codes and ``to_rpc_error`` shapes the dispatcher answers, geth's "execution reverted" messages, and
each class's kind."""
from __future__ import annotations

import pytest
from eth_abi import encode

from dataseal.chain.embedded import errors
from dataseal.chain.embedded.errors import (
    BlockNotFound,
    ChainInUseError,
    ChainStoreError,
    EmbeddedChainError,
    ExecutionFailed,
    ExecutionReverted,
    GenesisMismatchError,
    InvalidParams,
    InvalidRequest,
    LimitExceeded,
    MethodNotFound,
    NodeStartError,
    ParseError,
    RpcError,
    TransactionRefused,
    UnsupportedOnPersistentChain,
)
from dataseal.chain.errors import ChainError
from dataseal.errors import DatasealError, ErrorKind

ERROR_STRING = bytes.fromhex("08c379a0")  # the selector of Error(string)


def error_string(reason: str) -> bytes:
    return ERROR_STRING + encode(["string"], [reason])


def test_the_json_rpc_codes() -> None:
    # JSON-RPC 2.0's reserved codes, and the Ethereum ones on top (EIP-1474, geth, Infura).
    assert (errors.PARSE_ERROR, errors.INVALID_REQUEST, errors.METHOD_NOT_FOUND, errors.INVALID_PARAMS,
            errors.INTERNAL_ERROR) == (-32700, -32600, -32601, -32602, -32603)
    assert (errors.SERVER_ERROR, errors.LIMIT_EXCEEDED, errors.EXECUTION_REVERTED) == (-32000, -32005, 3)


@pytest.mark.parametrize(("cls", "code"), [
    (RpcError, -32000),
    (ParseError, -32700),
    (InvalidRequest, -32600),
    (MethodNotFound, -32601),
    (InvalidParams, -32602),
    (TransactionRefused, -32000),
    (ExecutionFailed, -32000),
    (BlockNotFound, -32000),
    (LimitExceeded, -32005),
    (UnsupportedOnPersistentChain, -32000),
])
def test_each_rpc_error_answers_its_code(cls: type[RpcError], code: int) -> None:
    error = cls("what went wrong")
    assert error.code == code
    assert error.to_rpc_error() == {"code": code, "message": "what went wrong"}  # no data: no "data" member
    assert error.message == str(error) == "what went wrong"


def test_a_code_and_data_given_to_one_error_stay_with_it() -> None:
    error = RpcError("internal error: boom", code=errors.INTERNAL_ERROR, data={"why": "a bug"})
    assert error.to_rpc_error() == {"code": -32603, "message": "internal error: boom", "data": {"why": "a bug"}}
    assert RpcError.code == RpcError("another").code == -32000  # the class keeps its own
    only_none_omits = InvalidParams("bad", data="").to_rpc_error()
    assert only_none_omits == {"code": -32602, "message": "bad", "data": ""}


@pytest.mark.parametrize(("revert", "message"), [
    (error_string("not the owner"), "execution reverted: not the owner"),
    (error_string("déjà vu ✓"), "execution reverted: déjà vu ✓"),
    (error_string(""), "execution reverted: "),
    (b"", "execution reverted"),
    (bytes.fromhex("deadbeef"), "execution reverted"),  # a custom error: its name is the clients' to decode
    (bytes.fromhex("4e487b71") + encode(["uint256"], [1]), "execution reverted"),  # Panic(1)
], ids=["reason", "unicode", "empty-reason", "no-data", "custom-error", "panic"])
def test_a_revert_says_execution_reverted_with_the_reason_of_an_error_string(revert: bytes, message: str) -> None:
    error = ExecutionReverted(revert)
    assert error.message == message
    assert error.revert_data == revert
    assert error.to_rpc_error() == {"code": 3, "message": message, "data": "0x" + revert.hex()}


@pytest.mark.parametrize("revert", [
    ERROR_STRING,  # the selector alone
    error_string("cut short")[:-1],  # the string's padding cut
    ERROR_STRING + encode(["uint256", "uint256"], [32, 100]),  # a length beyond the data
    ERROR_STRING + encode(["uint256"], [2**255]),  # an offset beyond the data
], ids=["selector-only", "truncated", "long-length", "bad-offset"])
def test_a_malformed_error_string_answers_the_bare_message(revert: bytes) -> None:
    error = ExecutionReverted(revert)
    assert error.to_rpc_error() == {"code": 3, "message": "execution reverted", "data": "0x" + revert.hex()}


def test_a_reason_that_is_not_utf8_is_shown_as_geth_shows_it() -> None:
    # Solidity strings are bytes: geth puts them in the message as they are, and its JSON encoder replaces
    # what is not UTF-8 with U+FFFD. The error must still be made (not fail with a UnicodeDecodeError).
    revert = ERROR_STRING + encode(["bytes"], [b"bad \xff byte"])
    error = ExecutionReverted(revert)
    assert error.message == "execution reverted: bad \ufffd byte"
    assert error.to_rpc_error()["data"] == "0x" + revert.hex()


@pytest.mark.parametrize(("cls", "kind"), [
    (EmbeddedChainError, ErrorKind.INVALID_INPUT),
    (ChainStoreError, ErrorKind.INVALID_INPUT),
    (ChainInUseError, ErrorKind.CONFLICT),
    (GenesisMismatchError, ErrorKind.CONFLICT),
    (NodeStartError, ErrorKind.INVALID_INPUT),
    (RpcError, ErrorKind.INVALID_INPUT),
    (ParseError, ErrorKind.INVALID_INPUT),
    (InvalidRequest, ErrorKind.INVALID_INPUT),
    (MethodNotFound, ErrorKind.INVALID_INPUT),
    (InvalidParams, ErrorKind.INVALID_INPUT),
    (TransactionRefused, ErrorKind.CONFLICT),
    (ExecutionFailed, ErrorKind.CONFLICT),
    (BlockNotFound, ErrorKind.NOT_FOUND),
    (LimitExceeded, ErrorKind.INVALID_INPUT),
    (UnsupportedOnPersistentChain, ErrorKind.INVALID_INPUT),
])
def test_each_class_has_its_kind_under_one_root(cls: type[EmbeddedChainError], kind: ErrorKind) -> None:
    error = cls("something")
    assert error.kind is kind
    assert isinstance(error, EmbeddedChainError) and isinstance(error, ChainError) and isinstance(error, DatasealError)


def test_a_revert_is_a_conflict_and_an_instance_may_narrow_its_kind() -> None:
    assert ExecutionReverted(b"").kind is ErrorKind.CONFLICT
    assert issubclass(ChainInUseError, ChainStoreError)  # a file in use is a store problem too
    closed = EmbeddedChainError("the chain is closed", hint="open it again", kind=ErrorKind.UNAVAILABLE)
    assert closed.kind is ErrorKind.UNAVAILABLE and EmbeddedChainError.kind is ErrorKind.INVALID_INPUT
    assert str(closed) == "the chain is closed: open it again"
