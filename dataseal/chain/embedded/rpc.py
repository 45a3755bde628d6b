"""JSON-RPC 2.0 for the embedded chain: one dispatcher behind both the HTTP server and the
in-process web3 provider, so that web3 code behaves the same either way.

:meth:`RpcDispatcher.handle` takes a decoded request (an object, or a list for a batch) and
returns the response (None for notifications); :meth:`RpcDispatcher.handle_bytes` does the
same for an HTTP body. Errors follow JSON-RPC 2.0 (-32700 unparsable, -32600 not a request,
-32601 unknown method, -32602 bad parameters, -32603 a bug) and geth's conventions on top
(-32000 refusals and failures, 3 with the revert bytes as ``data`` for a revert, -32005 for a
query too large). No request — however malformed — makes the dispatcher raise.

What it serves is its :class:`Exposure`'s: development methods (``evm_mine``) only on a node
started for development, answered -32601 otherwise; and over HTTP (:meth:`RpcDispatcher.handle_bytes`)
at most ``max_response_bytes`` per response: a result above it is answered -32005 with what to
narrow, and a batch stops being answered once its responses pass it (the rest get -32005
"response too large", as geth does), so that a batch's memory is bounded by the limit.

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
    LimitExceeded,
    MethodNotFound,
    ParseError,
    RpcError,
    UnsupportedOnPersistentChain,
)
from dataseal.chain.embedded.params import MISSING, Params, hash32, is_hash, kind_of
from dataseal.chain.embedded.records import BlockRef
from dataseal.chain.embedded.settings import Exposure
from dataseal.errors import DatasealError

logger = logging.getLogger("dataseal.chain.embedded.rpc")

MAX_BATCH = 1_000
MAX_JSON_DEPTH = 128
DEV_METHODS = ("evm_mine",)  # served only by a node started for development (Exposure.dev)
#: what a client narrows when one result is too large, by method
NARROW = {
    "eth_getLogs": "ask for a shorter block range, or fewer addresses or topics",
    "eth_getBlockByNumber": "ask for the block without its full transactions (false as the second parameter)",
    "eth_getBlockByHash": "ask for the block without its full transactions (false as the second parameter)",
    "eth_getBlockReceipts": "ask for the receipts one transaction at a time (eth_getTransactionReceipt)",
}


def client_version() -> str:
    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "unknown"

    return f"dataseal/v{version('dataseal')}/py-evm-{version('py-evm')}/python"


class RpcDispatcher:
    """Answers JSON-RPC requests from one :class:`EmbeddedChain`."""

    def __init__(self, chain: EmbeddedChain, exposure: Exposure | None = None) -> None:
        self.chain = chain
        self.exposure = exposure if exposure is not None else Exposure()
        self._client_version = client_version()
        self._methods: dict[str, Callable[[Params], Any]] = {
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
                self.chain.get_storage_at(p.address(0), p.slot(1), p.block(2)).to_bytes(32, "big")
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
            "eth_newFilter": lambda p: self.chain.new_filter(p.log_filter(0)),
            "eth_newBlockFilter": lambda p: self.chain.new_block_filter(),
            "eth_newPendingTransactionFilter": self._new_pending_filter,
            "eth_getFilterChanges": self._filter_changes,
            "eth_getFilterLogs": lambda p: [js.log_json(r) for r in self.chain.filter_logs(_filter_id(p))],
            "eth_uninstallFilter": lambda p: self.chain.uninstall_filter(_filter_id(p)),
            "eth_blobBaseFee": lambda p: js.quantity(self.chain.blob_base_fee()),
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
            "eth_newFilter": (1, 1),
            "eth_newPendingTransactionFilter": (0, 1),
            "eth_getFilterChanges": (1, 1),
            "eth_getFilterLogs": (1, 1),
            "eth_uninstallFilter": (1, 1),
            "evm_mine": (0, 1),
        }
        if self.exposure.dev:
            self._methods["evm_mine"] = self._evm_mine

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
        limit = self.exposure.max_response_bytes
        if isinstance(request, list) and 0 < len(request) <= MAX_BATCH:
            return self._batch_bytes(request, limit)
        response = self.handle(request)
        return None if response is None else self._sized(request, response, limit)

    def _batch_bytes(self, batch: list[Any], limit: int) -> bytes | None:
        """A batch's response, each answer encoded as it comes: once they pass ``limit`` bytes, the
        remaining requests are answered with an error instead of being run (so the body is at most
        twice the limit, plus a short error for each request not run)."""
        parts: list[bytes] = []
        size = 1
        full: LimitExceeded | None = None
        for item in batch:
            if full is None:
                response = self._handle_one(item)
                if response is None:
                    continue
                encoded = self._sized(item, response, limit)
                # The request has run: its answer is kept even when it passes the limit (as geth does:
                # an accepted transaction must not be reported as refused); the requests after it are not run.
                parts.append(encoded)
                size += len(encoded) + 1
                if size > limit:
                    full = LimitExceeded(
                        f"response too large: the batch's responses passed the node's limit of {limit} bytes "
                        f"after {len(parts)} of its {len(batch)} requests: send the rest in another batch, or "
                        "ask for less in each"
                    )
                continue
            if isinstance(item, dict) and "id" in item:  # (notifications get no answer)
                request_id = item["id"]
                parts.append(_encode(_error_response(request_id if _is_id(request_id) else None, full)))
        return b"[" + b",".join(parts) + b"]" if parts else None

    def _sized(self, request: Any, response: Any, limit: int) -> bytes:
        """``response`` encoded, or the error saying what to narrow when it is above ``limit`` bytes."""
        encoded = _encode(response)
        if len(encoded) <= limit:
            return encoded
        method = request.get("method") if isinstance(request, dict) else None
        advice = NARROW.get(method, "ask for less in one request") if isinstance(method, str) else "ask for less"
        return _encode(_error_response(response.get("id"), LimitExceeded(
            f"response too large: the result of {method} is {len(encoded)} bytes, above the node's limit of "
            f"{limit} bytes per response: {advice}"
        )))

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
        if handler is None and method in DEV_METHODS:
            raise MethodNotFound(
                f"the method {method} is a development method, off on this node: start the node for development "
                f"({self.exposure.spell('dev')}) to use it"
            )
        if handler is None:
            raise MethodNotFound(
                f"the method {method} does not exist/is not available on the dataseal embedded chain"
            )
        if params is None:
            params = []
        if not isinstance(params, list):
            raise InvalidParams(f"{method}: params must be an array (by-position parameters), got {kind_of(params)}")
        low, high = self._arity.get(method, (0, 0))
        if not low <= len(params) <= high:
            wanted = f"{low}" if low == high else f"{low} to {high}"
            raise InvalidParams(f"{method} takes {wanted} parameter(s), got {len(params)}")
        return handler(Params(method, params))

    def _handle_one(self, request: Any) -> dict[str, Any] | None:
        if not isinstance(request, dict):
            return _error_response(
                None, InvalidRequest(f"invalid request: expected a JSON object, got {kind_of(request)}")
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

    def _get_block(self, p: Params) -> Any:
        ref = p.hash32(0, "block hash") if p.method.endswith("ByHash") else p.block(0, default=MISSING)
        full = p.boolean(1, "full transactions", default=False)
        block = self.chain.block_by_ref(ref)
        if block is None:
            return None
        return js.block_json(block, full=full, senders=self.chain.block_senders(block) if full else [])

    def _block_tx_count(self, p: Params) -> Any:
        ref = p.hash32(0, "block hash") if p.method.endswith("ByHash") else p.block(0, default=MISSING)
        block = self.chain.block_by_ref(ref)
        return None if block is None else js.quantity(len(block.transactions))

    def _tx_by_block_and_index(self, p: Params) -> Any:
        ref = p.hash32(0, "block hash") if "ByBlockHash" in p.method else p.block(0, default=MISSING)
        index = p.quantity(1, "index")
        block = self.chain.block_by_ref(ref)
        if block is None or index >= len(block.transactions):
            return None
        senders = self.chain.block_senders(block)
        return js.transaction_json(block.transactions[index], senders[index], block.header, index)

    def _get_block_receipts(self, p: Params) -> Any:
        value = p.get(0)
        ref: BlockRef = hash32(value, f"{p.method} param 0") if is_hash(value) else p.block(0, default=MISSING)
        records = self.chain.block_receipts(ref)
        return None if records is None else [js.receipt_json(r) for r in records]

    def _get_transaction(self, p: Params) -> Any:
        record = self.chain.get_transaction(p.hash32(0, "transaction hash"))
        if record is None:
            return None
        return js.transaction_json(record.tx, record.sender, record.header, record.index)

    def _get_receipt(self, p: Params) -> Any:
        record = self.chain.get_receipt(p.hash32(0, "transaction hash"))
        return None if record is None else js.receipt_json(record)

    def _call(self, p: Params) -> Any:
        request = p.call_request(0)
        ref = p.block(1) if p.get(1, None) is not None else "latest"
        return js.data(self.chain.call(request, ref, p.state_overrides(2)))

    def _estimate_gas(self, p: Params) -> Any:
        request = p.call_request(0)
        ref = p.block(1) if p.get(1, None) is not None else "latest"
        return js.quantity(self.chain.estimate_gas(request, ref, p.state_overrides(2)))

    def _fee_history(self, p: Params) -> Any:
        count = p.quantity(0, "block count")
        if not 1 <= count <= 1024:
            raise InvalidParams(f"eth_feeHistory: block count must be 1 to 1024, got {count}")
        newest = p.block(1, default=MISSING)
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

    def _get_logs(self, p: Params) -> Any:
        return [js.log_json(r) for r in self.chain.get_logs(p.log_filter(0))]

    def _new_pending_filter(self, p: Params) -> Any:
        if p.boolean(0, "full transactions", default=False):
            raise InvalidParams(
                "eth_newPendingTransactionFilter: full transactions (param 0 true) are not supported; install the "
                "filter without it and ask eth_getTransactionByHash for the hashes it reports"
            )
        return self.chain.new_pending_transaction_filter()

    def _filter_changes(self, p: Params) -> Any:
        changes = self.chain.filter_changes(_filter_id(p))
        return [js.data(c) if isinstance(c, bytes) else js.log_json(c) for c in changes]

    def _evm_mine(self, p: Params) -> Any:
        timestamp = None if p.get(0, None) is None else p.quantity(0, "timestamp")
        self.chain.mine(timestamp=timestamp)
        return "0x0"

    def _send_transaction(self, p: Params) -> Any:
        raise MethodNotFound(
            "eth_sendTransaction is not available: the embedded chain holds no keys. Sign the transaction "
            "locally and send it with eth_sendRawTransaction"
        )

    def _refuse_rewrite(self, p: Params) -> Any:
        raise UnsupportedOnPersistentChain(
            f"{p.method} is not supported: the embedded chain is persistent and its blocks are final. "
            "Use a throwaway data folder for tests that need snapshots"
        )


def _filter_id(p: Params) -> str:
    """A filter id (any string: one that names no filter is "filter not found", as in geth)."""
    value = p.get(0)
    if not isinstance(value, str):
        raise InvalidParams(f"{p.method} param 0 (filter id) must be a string such as \"0x1f\", got {kind_of(value)}")
    return value


# --------------------------------------------------------------------------------- encoding


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


def _is_id(value: Any) -> bool:
    return value is None or (isinstance(value, (str, int, float)) and not isinstance(value, bool))


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


