"""Errors of the embedded chain.

Two families share one root (:class:`EmbeddedChainError`, a :class:`dataseal.chain.errors.ChainError`):

- problems a local user fixes (the chain file is in use, was made with another chain id, the
  port is taken): raised by the library and rendered by the CLI;
- JSON-RPC errors (:class:`RpcError` and subclasses), which carry a JSON-RPC ``code`` and
  optional ``data``: the dispatcher turns them into the ``error`` member of a response, and the
  in-process provider hands them to web3 exactly as the HTTP server would.
"""
from __future__ import annotations

from typing import Any

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError

from dataseal.chain.errors import ChainError
from dataseal.errors import ErrorKind

# JSON-RPC 2.0 codes, and the Ethereum conventions on top of them (EIP-1474, geth).
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000  # geth: transaction pool refusals, missing state, failed execution
LIMIT_EXCEEDED = -32005  # Infura/geth: a query asks for more than the node will return
EXECUTION_REVERTED = 3  # geth: eth_call / eth_estimateGas hit REVERT; data = revert bytes


class EmbeddedChainError(ChainError):
    """Something went wrong in the embedded chain (by default a setting or request it refuses)."""

    kind = ErrorKind.INVALID_INPUT


class ChainStoreError(EmbeddedChainError):
    """The chain's SQLite file cannot be opened, is not a dataseal chain, or is damaged."""

    kind = ErrorKind.INVALID_INPUT


class ChainInUseError(ChainStoreError):
    """Another process holds the chain file open for writing."""

    kind = ErrorKind.CONFLICT


class GenesisMismatchError(EmbeddedChainError):
    """The options given for a new chain contradict the chain that already exists."""

    kind = ErrorKind.CONFLICT


class NodeStartError(EmbeddedChainError):
    """`dataseal node` could not start (port taken, operator key locked, ...)."""

    kind = ErrorKind.INVALID_INPUT


class RpcError(EmbeddedChainError):
    """An error answered to a JSON-RPC client: ``code``, ``message`` and optional ``data``."""

    kind = ErrorKind.INVALID_INPUT

    code = SERVER_ERROR

    def __init__(self, message: str, *, code: int | None = None, data: Any = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.data = data

    def to_rpc_error(self) -> dict[str, Any]:
        """The ``error`` member of a JSON-RPC response (not :meth:`DatasealError.to_json`, a front door's body)."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


class ParseError(RpcError):
    """The request body is not JSON."""

    code = PARSE_ERROR


class InvalidRequest(RpcError):
    """The JSON is not a JSON-RPC 2.0 request."""

    code = INVALID_REQUEST


class MethodNotFound(RpcError):
    """The method is not one this node implements."""

    code = METHOD_NOT_FOUND


class InvalidParams(RpcError):
    """The method exists but its parameters are malformed."""

    code = INVALID_PARAMS


class TransactionRefused(RpcError):
    """eth_sendRawTransaction refused a transaction (nonce, funds, fees, signature, ...)."""

    kind = ErrorKind.CONFLICT

    code = SERVER_ERROR


class ExecutionReverted(RpcError):
    """eth_call / eth_estimateGas reverted; ``data`` is the revert bytes as 0x-hex (geth's shape)."""

    kind = ErrorKind.CONFLICT

    code = EXECUTION_REVERTED

    def __init__(self, revert_data: bytes) -> None:
        self.revert_data = bytes(revert_data)
        super().__init__(_revert_message(self.revert_data), data="0x" + self.revert_data.hex())


class ExecutionFailed(RpcError):
    """eth_call / eth_estimateGas failed without a revert (out of gas, invalid opcode, ...)."""

    kind = ErrorKind.CONFLICT

    code = SERVER_ERROR


class BlockNotFound(RpcError):
    """A block named by number or hash is not on the chain."""

    kind = ErrorKind.NOT_FOUND

    code = SERVER_ERROR


class LimitExceeded(RpcError):
    """A query would return more than the node answers in one response."""

    code = LIMIT_EXCEEDED


class UnsupportedOnPersistentChain(RpcError):
    """A development method (evm_revert, snapshots) that would rewrite history."""

    kind = ErrorKind.INVALID_INPUT

    code = SERVER_ERROR


def _revert_message(data: bytes) -> str:
    """geth's message: 'execution reverted' plus the reason when the data is Error(string)."""
    if data[:4] == bytes.fromhex("08c379a0"):
        try:
            (reason,) = abi_decode(["bytes"], data[4:])  # a string's encoding; not UTF-8 everywhere (geth: U+FFFD)
            return f"execution reverted: {reason.decode('utf-8', 'replace')}"
        except DecodingError:  # malformed Error(string): fall back to the bare message
            pass
    return "execution reverted"
