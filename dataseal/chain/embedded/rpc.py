"""JSON-RPC 2.0 for the embedded chain: one dispatcher behind both the HTTP server and the
in-process web3 provider, so that web3 code behaves the same either way.

:meth:`RpcDispatcher.handle` takes a decoded request (an object, or a list for a batch) and
returns the response (None for notifications); :meth:`RpcDispatcher.handle_bytes` does the
same for an HTTP body. Errors follow JSON-RPC 2.0 (-32700 unparsable, -32600 not a request,
-32601 unknown method, -32602 bad parameters, -32603 a bug) and geth's conventions on top
(-32000 refusals and failures, 3 with the revert bytes as ``data`` for a revert, -32005 for a
query too large). No request — however malformed — makes the dispatcher raise.

Deviations from geth worth knowing: "pending" reads the latest block (except the nonce, which
counts pending transactions); eth_getTransactionReceipt on a pending transaction waits up to
``Tuning.receipt_wait`` seconds for its block when mining is automatic, so a client
polling for a receipt gets it as soon as it is mined; calls run at gas price 0.
"""
from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable
from importlib import metadata
from typing import Any

from eth_utils import keccak

from dataseal.chain.embedded import serialize as js
from dataseal.chain.embedded.chain import EmbeddedChain
from dataseal.chain.embedded.errors import (
    InvalidParams,
    InvalidRequest,
    MethodNotFound,
    ParseError,
    RpcError,
    UnsupportedOnPersistentChain,
)
from dataseal.chain.embedded.records import BLOCK_TAGS, BlockRef, CallRequest, LogFilter
from dataseal.errors import DatasealError

logger = logging.getLogger("dataseal.chain.embedded.rpc")

_MISSING: Any = object()
MAX_BATCH = 1_000
MAX_JSON_DEPTH = 128


def client_version() -> str:
    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "unknown"

    return f"dataseal/v{version('dataseal')}/py-evm-{version('py-evm')}/python"


class RpcDispatcher:
    """Answers JSON-RPC requests from one :class:`EmbeddedChain`."""

    def __init__(self, chain: EmbeddedChain) -> None:
        self.chain = chain
        self._client_version = client_version()
        self._methods: dict[str, Callable[[_Params], Any]] = {
            "web3_clientVersion": lambda p: self._client_version,
            "web3_sha3": lambda p: js.data(keccak(p.data(0, "data"))),
            "net_version": lambda p: str(self.chain.chain_id),
            "net_listening": lambda p: True,
            "net_peerCount": lambda p: "0x0",
            "eth_chainId": lambda p: js.quantity(self.chain.chain_id),
            "eth_syncing": lambda p: False,
            "eth_mining": lambda p: self.chain.mining.automatic,
            "eth_accounts": lambda p: [],
            "eth_coinbase": lambda p: js.data(b"\0" * 20),
            "eth_blockNumber": lambda p: js.quantity(self.chain.head().block_number),
            "eth_getBlockByNumber": self._get_block,
            "eth_getBlockByHash": self._get_block,
            "eth_getBlockTransactionCountByNumber": self._block_tx_count,
            "eth_getBlockTransactionCountByHash": self._block_tx_count,
            "eth_getTransactionByBlockNumberAndIndex": self._tx_by_block_and_index,
            "eth_getTransactionByBlockHashAndIndex": self._tx_by_block_and_index,
            "eth_getUncleCountByBlockNumber": lambda p: "0x0",
            "eth_getUncleCountByBlockHash": lambda p: "0x0",
            "eth_getBlockReceipts": self._get_block_receipts,
            "eth_getBalance": lambda p: js.quantity(self.chain.get_balance(p.address(0), p.block(1))),
            "eth_getCode": lambda p: js.data(self.chain.get_code(p.address(0), p.block(1))),
            "eth_getStorageAt": lambda p: js.data(
                self.chain.get_storage_at(p.address(0), p.quantity(1, "slot"), p.block(2)).to_bytes(32, "big")
            ),
            "eth_getTransactionCount": lambda p: js.quantity(self.chain.get_nonce(p.address(0), p.block(1))),
            "eth_sendRawTransaction": lambda p: js.data(
                self.chain.send_raw_transaction(p.data(0, "signed transaction"))
            ),
            "eth_sendTransaction": self._send_transaction,
            "eth_call": self._call,
            "eth_estimateGas": self._estimate_gas,
            "eth_gasPrice": lambda p: js.quantity(self.chain.next_base_fee() + self.chain.suggested_priority_fee()),
            "eth_maxPriorityFeePerGas": lambda p: js.quantity(self.chain.suggested_priority_fee()),
            "eth_feeHistory": self._fee_history,
            "eth_getTransactionByHash": self._get_transaction,
            "eth_getTransactionReceipt": self._get_receipt,
            "eth_getLogs": self._get_logs,
            "evm_mine": self._evm_mine,
            "evm_snapshot": self._refuse_rewrite,
            "evm_revert": self._refuse_rewrite,
        }
        self._arity: dict[str, tuple[int, int]] = {
            "web3_sha3": (1, 1),
            "eth_getBlockByNumber": (1, 2),
            "eth_getBlockByHash": (1, 2),
            "eth_getBlockTransactionCountByNumber": (1, 1),
            "eth_getBlockTransactionCountByHash": (1, 1),
            "eth_getTransactionByBlockNumberAndIndex": (2, 2),
            "eth_getTransactionByBlockHashAndIndex": (2, 2),
            "eth_getUncleCountByBlockNumber": (1, 1),
            "eth_getUncleCountByBlockHash": (1, 1),
            "eth_sendTransaction": (0, 1),
            "eth_getBlockReceipts": (1, 1),
            "eth_getBalance": (1, 2),
            "eth_getCode": (1, 2),
            "eth_getStorageAt": (2, 3),
            "eth_getTransactionCount": (1, 2),
            "eth_sendRawTransaction": (1, 1),
            "eth_call": (1, 3),
            "eth_estimateGas": (1, 3),
            "eth_feeHistory": (2, 3),
            "eth_getTransactionByHash": (1, 1),
            "eth_getTransactionReceipt": (1, 1),
            "eth_getLogs": (1, 1),
            "evm_mine": (0, 1),
        }

    @property
    def methods(self) -> list[str]:
        return sorted(self._methods)

    # ----------------------------------------------------------------------------- entry points

    def handle_bytes(self, body: bytes) -> bytes | None:
        """The response body for an HTTP request body (None when nothing is to be answered)."""
        if _nested_too_deeply(body):
            # Checked before parsing: py-evm raises Python's recursion limit so high that the C JSON
            # parser would overflow the thread's stack (and kill the process) before refusing.
            return _encode(_error_response(None, ParseError(
                f"parse error: the JSON is nested more than {MAX_JSON_DEPTH} levels deep"
            )))
        try:
            request = json.loads(body, parse_constant=_no_constant, parse_float=_finite_float)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            return _encode(_error_response(None, ParseError(f"parse error: the body is not JSON ({exc})")))
        response = self.handle(request)
        return None if response is None else _encode(response)

    def handle(self, request: Any) -> Any:
        """The response to one request or a batch (None when only notifications were sent)."""
        if isinstance(request, list):
            if not request:
                return _error_response(None, InvalidRequest("invalid request: an empty batch"))
            if len(request) > MAX_BATCH:
                return _error_response(None, InvalidRequest(
                    f"invalid request: a batch holds at most {MAX_BATCH} requests, got {len(request)}"
                ))
            responses = [r for r in (self._handle_one(item) for item in request) if r is not None]
            return responses or None
        return self._handle_one(request)

    def call(self, method: str, params: Any = None) -> Any:
        """Run one method and return its result; raises :class:`RpcError`."""
        handler = self._methods.get(method)
        if handler is None:
            raise MethodNotFound(
                f"the method {method} does not exist/is not available on the dataseal embedded chain"
            )
        if params is None:
            params = []
        if not isinstance(params, list):
            raise InvalidParams(f"{method}: params must be an array (by-position parameters), got {_kind(params)}")
        low, high = self._arity.get(method, (0, 0))
        if not low <= len(params) <= high:
            wanted = f"{low}" if low == high else f"{low} to {high}"
            raise InvalidParams(f"{method} takes {wanted} parameter(s), got {len(params)}")
        return handler(_Params(method, params))

    def _handle_one(self, request: Any) -> dict[str, Any] | None:
        if not isinstance(request, dict):
            return _error_response(
                None, InvalidRequest(f"invalid request: expected a JSON object, got {_kind(request)}")
            )
        request_id = request.get("id")
        notification = "id" not in request
        if request_id is not None and (not isinstance(request_id, (str, int, float)) or isinstance(request_id, bool)):
            return _error_response(None, InvalidRequest("invalid request: id must be a string, a number or null"))
        if request.get("jsonrpc") != "2.0":
            return _error_response(request_id, InvalidRequest('invalid request: "jsonrpc" must be "2.0"'))
        method = request.get("method")
        if not isinstance(method, str):
            return _error_response(request_id, InvalidRequest("invalid request: method must be a string"))
        try:
            result = self.call(method, request.get("params"))
        except RpcError as exc:
            response = _error_response(request_id, exc)
        except DatasealError as exc:
            response = _error_response(request_id, RpcError(str(exc)))
        except Exception as exc:  # a bug: answer it, log it, keep serving
            logger.exception("%s failed", method)
            response = _error_response(
                request_id, RpcError(f"internal error: {type(exc).__name__}: {exc}", code=-32603)
            )
        else:
            response = {"jsonrpc": "2.0", "id": request_id, "result": result}
        return None if notification else response

    # ----------------------------------------------------------------------------- methods

    def _get_block(self, p: _Params) -> Any:
        ref = p.hash32(0, "block hash") if p.method.endswith("ByHash") else p.block(0, default=_MISSING)
        full = p.boolean(1, "full transactions", default=False)
        block = self.chain.block_by_ref(ref)
        if block is None:
            return None
        return js.block_json(block, full=full, senders=self.chain.block_senders(block) if full else [])

    def _block_tx_count(self, p: _Params) -> Any:
        ref = p.hash32(0, "block hash") if p.method.endswith("ByHash") else p.block(0, default=_MISSING)
        block = self.chain.block_by_ref(ref)
        return None if block is None else js.quantity(len(block.transactions))

    def _tx_by_block_and_index(self, p: _Params) -> Any:
        ref = p.hash32(0, "block hash") if "ByBlockHash" in p.method else p.block(0, default=_MISSING)
        index = p.quantity(1, "index")
        block = self.chain.block_by_ref(ref)
        if block is None or index >= len(block.transactions):
            return None
        senders = self.chain.block_senders(block)
        return js.transaction_json(block.transactions[index], senders[index], block.header, index)

    def _get_block_receipts(self, p: _Params) -> Any:
        value = p.get(0)
        ref: BlockRef = _hash32(value, f"{p.method} param 0") if _is_hash(value) else p.block(0, default=_MISSING)
        records = self.chain.block_receipts(ref)
        return None if records is None else [js.receipt_json(r) for r in records]

    def _get_transaction(self, p: _Params) -> Any:
        record = self.chain.get_transaction(p.hash32(0, "transaction hash"))
        if record is None:
            return None
        return js.transaction_json(record.tx, record.sender, record.header, record.index)

    def _get_receipt(self, p: _Params) -> Any:
        record = self.chain.get_receipt(p.hash32(0, "transaction hash"))
        return None if record is None else js.receipt_json(record)

    def _call(self, p: _Params) -> Any:
        request = p.call_request(0)
        ref = p.block(1)
        overrides = p.get(2, None)
        if overrides:
            raise InvalidParams("eth_call: state overrides (param 2) are not supported by the embedded chain")
        return js.data(self.chain.call(request, ref))

    def _estimate_gas(self, p: _Params) -> Any:
        request = p.call_request(0)
        ref = p.block(1)
        if p.get(2, None):
            raise InvalidParams("eth_estimateGas: state overrides (param 2) are not supported by the embedded chain")
        return js.quantity(self.chain.estimate_gas(request, ref))

    def _fee_history(self, p: _Params) -> Any:
        count = p.quantity(0, "block count")
        if not 1 <= count <= 1024:
            raise InvalidParams(f"eth_feeHistory: block count must be 1 to 1024, got {count}")
        newest = p.block(1, default=_MISSING)
        raw = p.get(2, None)
        percentiles: list[float] = []
        if raw is not None:
            if not isinstance(raw, list) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in raw
            ):
                raise InvalidParams(f"eth_feeHistory: reward percentiles must be an array of numbers, got {raw!r}")
            percentiles = [float(v) for v in raw]
            if any(not 0 <= v <= 100 for v in percentiles) or percentiles != sorted(percentiles):
                raise InvalidParams(
                    f"eth_feeHistory: reward percentiles must rise monotonically within 0..100, got {raw!r}"
                )
        return js.fee_history_json(self.chain.fee_history(count, newest, percentiles))

    def _get_logs(self, p: _Params) -> Any:
        return [js.log_json(r) for r in self.chain.get_logs(p.log_filter(0))]

    def _evm_mine(self, p: _Params) -> Any:
        timestamp = None if p.get(0, None) is None else p.quantity(0, "timestamp")
        self.chain.mine(timestamp=timestamp)
        return "0x0"

    def _send_transaction(self, p: _Params) -> Any:
        raise MethodNotFound(
            "eth_sendTransaction is not available: the embedded chain holds no keys. Sign the transaction "
            "locally and send it with eth_sendRawTransaction"
        )

    def _refuse_rewrite(self, p: _Params) -> Any:
        raise UnsupportedOnPersistentChain(
            f"{p.method} is not supported: the embedded chain is persistent and its blocks are final. "
            "Use a throwaway data folder for tests that need snapshots"
        )


class _Params:
    """Positional parameters of one call, parsed with messages naming the method and position."""

    def __init__(self, method: str, values: list[Any]) -> None:
        self.method = method
        self.values = values

    def get(self, index: int, default: Any = _MISSING) -> Any:
        if index < len(self.values):
            return self.values[index]
        if default is _MISSING:
            raise InvalidParams(f"{self.method}: missing parameter {index}")
        return default

    def _where(self, index: int, name: str) -> str:
        return f"{self.method} param {index} ({name})"

    def quantity(self, index: int, name: str) -> int:
        return _quantity(self.get(index), self._where(index, name))

    def data(self, index: int, name: str) -> bytes:
        return _data(self.get(index), self._where(index, name))

    def address(self, index: int) -> bytes:
        return _address(self.get(index), self._where(index, "address"))

    def hash32(self, index: int, name: str) -> bytes:
        return _hash32(self.get(index), self._where(index, name))

    def boolean(self, index: int, name: str, default: bool) -> bool:
        value = self.get(index, default)
        if not isinstance(value, bool):
            raise InvalidParams(f"{self._where(index, name)} must be true or false, got {value!r}")
        return value

    def block(self, index: int, default: Any = "latest") -> BlockRef:
        value = self.get(index, default)
        return _block_ref(value, self._where(index, "block"))

    def call_request(self, index: int) -> CallRequest:
        return _call_request(self.get(index), self._where(index, "transaction"))

    def log_filter(self, index: int) -> LogFilter:
        return _log_filter(self.get(index), self._where(index, "filter"))


# --------------------------------------------------------------------------------- parsing


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _quantity(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise InvalidParams(f"{where} must not be negative, got {value}")
        return value
    if isinstance(value, str) and value[:2] in ("0x", "0X") and len(value) > 2:
        try:
            number = int(value[2:], 16)
        except ValueError:
            pass
        else:
            if number < 2**256:
                return number
    raise InvalidParams(f"{where} must be a hex quantity such as \"0x1a\", got {value!r}")


def _data(value: Any, where: str) -> bytes:
    if isinstance(value, str) and value[:2] in ("0x", "0X") and len(value) % 2 == 0:
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            pass
    raise InvalidParams(f"{where} must be 0x-prefixed hex bytes (an even number of digits), got {_short(value)}")


def _address(value: Any, where: str) -> bytes:
    raw = _data(value, where)
    if len(raw) != 20:
        raise InvalidParams(f"{where} must be an address (20 bytes: 0x and 40 hex digits), got {len(raw)} bytes")
    return raw


def _hash32(value: Any, where: str) -> bytes:
    raw = _data(value, where)
    if len(raw) != 32:
        raise InvalidParams(f"{where} must be a 32-byte hash (0x and 64 hex digits), got {len(raw)} bytes")
    return raw


def _is_hash(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 66 and value[:2] in ("0x", "0X")


def _block_ref(value: Any, where: str) -> BlockRef:
    if isinstance(value, str) and value in BLOCK_TAGS:
        return value
    if isinstance(value, dict):  # EIP-1898
        if "blockHash" in value:
            return _hash32(value["blockHash"], f"{where}.blockHash")
        if "blockNumber" in value:
            return _block_ref(value["blockNumber"], f"{where}.blockNumber")
        raise InvalidParams(f"{where} must name blockHash or blockNumber, got {sorted(value)}")
    if value is _MISSING:
        raise InvalidParams(f"{where} is missing: give a block number or one of {', '.join(BLOCK_TAGS)}")
    try:
        return _quantity(value, where)
    except InvalidParams:
        raise InvalidParams(
            f"{where} must be a hex block number or one of {', '.join(BLOCK_TAGS)}, got {_short(value)}"
        ) from None


def _call_request(value: Any, where: str) -> CallRequest:
    if not isinstance(value, dict):
        raise InvalidParams(f"{where} must be an object with to, data, from, ...; got {_kind(value)}")
    payload = value.get("input")
    other = value.get("data")
    if payload is not None and other is not None and payload != other:
        raise InvalidParams(f"{where}: both input and data are set and they differ; send one of them")
    payload = payload if payload is not None else other
    access_list: list[tuple[bytes, tuple[int, ...]]] = []
    raw_list = value.get("accessList") or []
    if not isinstance(raw_list, list):
        raise InvalidParams(f"{where}.accessList must be an array")
    for i, item in enumerate(raw_list):
        if not isinstance(item, dict) or not isinstance(item.get("storageKeys", []), list):
            raise InvalidParams(f"{where}.accessList[{i}] must be {{address, storageKeys}}")
        slots = tuple(
            int.from_bytes(_hash32(k, f"{where}.accessList[{i}].storageKeys"), "big")
            for k in item.get("storageKeys", [])
        )
        access_list.append((_address(item.get("address"), f"{where}.accessList[{i}].address"), slots))
    return CallRequest(
        sender=None if value.get("from") is None else _address(value["from"], f"{where}.from"),
        to=None if value.get("to") is None else _address(value["to"], f"{where}.to"),
        gas=None if value.get("gas") is None else _quantity(value["gas"], f"{where}.gas"),
        value=0 if value.get("value") is None else _quantity(value["value"], f"{where}.value"),
        data=b"" if payload is None else _data(payload, f"{where}.data"),
        access_list=tuple(access_list),
    )


def _log_filter(value: Any, where: str) -> LogFilter:
    if not isinstance(value, dict):
        raise InvalidParams(f"{where} must be an object (fromBlock, toBlock, address, topics), got {_kind(value)}")
    block_hash = value.get("blockHash")
    if block_hash is not None and (value.get("fromBlock") is not None or value.get("toBlock") is not None):
        raise InvalidParams(f"{where}: blockHash cannot be combined with fromBlock/toBlock")
    raw_address = value.get("address")
    if raw_address is None:
        addresses: tuple[bytes, ...] = ()
    elif isinstance(raw_address, list):
        addresses = tuple(_address(a, f"{where}.address[{i}]") for i, a in enumerate(raw_address))
    else:
        addresses = (_address(raw_address, f"{where}.address"),)
    raw_topics = value.get("topics") or []
    if not isinstance(raw_topics, list) or len(raw_topics) > 4:
        raise InvalidParams(f"{where}.topics must be an array of at most 4 positions")
    topics: list[tuple[bytes, ...] | None] = []
    for i, position in enumerate(raw_topics):
        if position is None or position == []:
            topics.append(None)
        elif isinstance(position, list):
            topics.append(tuple(_hash32(t, f"{where}.topics[{i}]") for t in position))
        else:
            topics.append((_hash32(position, f"{where}.topics[{i}]"),))
    return LogFilter(
        # Absent or null means "latest"; a block number 0 is block 0.
        from_block=_block_ref(_latest_if_none(value.get("fromBlock")), f"{where}.fromBlock"),
        to_block=_block_ref(_latest_if_none(value.get("toBlock")), f"{where}.toBlock"),
        block_hash=None if block_hash is None else _hash32(block_hash, f"{where}.blockHash"),
        addresses=addresses,
        topics=tuple(topics),
    )


_BRACKETS = re.compile(rb"[\[\]{}]")


def _nested_too_deeply(body: bytes) -> bool:
    """Whether brackets nest deeper than MAX_JSON_DEPTH (brackets inside strings count too: a
    request would need over a hundred of them unbalanced in its strings to be refused wrongly)."""
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return False
    depth = 0
    for match in _BRACKETS.finditer(body):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        else:
            depth -= 1
    return False


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _error_response(request_id: Any, error: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_rpc_error()}


def _encode(response: Any) -> bytes:
    return json.dumps(response, separators=(",", ":"), allow_nan=False).encode()


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259 has no NaN or Infinity)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is too large for JSON")
    return value


def _latest_if_none(value: Any) -> Any:
    return "latest" if value is None else value
