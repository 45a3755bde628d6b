"""What a failed JSON-RPC request means: the RPC-error classification of the connection role.

Nodes (hardhat, geth, Besu, Nethermind, anvil, eth-tester, dataseal's embedded chain) say the
same things in different words; the chain layer asks the questions here instead of matching
messages where it handles them: did the node answer at all (:func:`is_connection_failure`), what
did it say (:func:`rpc_error`, :func:`rpc_message`), and is that a nonce conflict, a fee too low,
missing funds, a transaction it already has, a query too large or a rate limit.
"""
from __future__ import annotations

import ast
import re
from typing import Any

import requests
from web3.exceptions import ProviderConnectionError, RequestTimedOut

from dataseal.chain.errors import NodeUnreachable

#: the hint of an error a node answered that nothing here recognises
UNKNOWN_ANSWER = "the node answered with an error dataseal does not know: check that it is up to date, and its logs"

_FUNDS = re.compile(r"insufficient funds|enough funds|not have enough|doesn't have enough|insufficient balance|"
                    r"exceeds (the )?balance|enough balance", re.I)
_KNOWN = re.compile(r"already known|known transaction|already imported|already in (the )?pool", re.I)
_UNDERPRICED = re.compile(r"underpriced|fee too low|too low for the next block|less than (the )?(block )?base ?fee|"
                          r"max fee per gas less than|gas price too low|fee cap less than", re.I)
_TOO_LOW = re.compile(r"nonce too low|nonce is too low|invalid transaction nonce|already (been )?used|"
                      r"oldnonce|nonce.*(lower|less) than", re.I)
_TOO_HIGH = re.compile(r"nonce too high|nonce is too high|nonce.*gap|future nonce|nonce.*(greater|higher) than", re.I)
_EXPECTED = re.compile(r"expected(?: nonce(?: to be)?)?:?\s*(\d+)", re.I)
# eth_getLogs refusals: Infura (10,000 results), Alchemy and others (block ranges), geth (time).
_REFUSAL = re.compile(
    r"range|too many|limit|exceed|more than|results|response size|too large|too big|timeout|timed out|"
    r"query returned",
    re.I,
)
_LIMIT_CODES = {-32005, -32602, -32600, -32000, -32001, -32002, -32603}
_BYTES_LITERAL = re.compile(r"execution reverted: (b(['\"]).*\2)\s*$", re.S)
# Alchemy: "... this block range should work: [0x1, 0x3e8]"
_SUGGESTED = re.compile(r"\[\s*(0x[0-9a-f]+)\s*,\s*(0x[0-9a-f]+)\s*\]", re.I)


# ------------------------------------------------------------------------------------- did it answer


def is_connection_failure(exc: BaseException) -> bool:
    """Whether ``exc`` means the node did not answer (as opposed to answering with an error)."""
    if isinstance(exc, NodeUnreachable):
        return True
    if isinstance(exc, (requests.ConnectionError, requests.Timeout, ProviderConnectionError, RequestTimedOut,
                        ConnectionError, TimeoutError)):
        return True
    try:
        from websockets.exceptions import WebSocketException
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, WebSocketException)


def unreachable(endpoint: str, exc: BaseException) -> NodeUnreachable:
    """The error for a node at ``endpoint`` that did not answer (``exc`` says how)."""
    return NodeUnreachable(
        f"cannot reach the node at {endpoint} ({_short_reason(exc)})",
        hint="start it, or check the node's URL", options=("rpc_url",),
    )


def _short_reason(exc: BaseException) -> str:
    text = str(exc)
    for needle in ("Connection refused", "Name or service not known", "timed out", "Read timed out",
                   "No route to host", "Connection reset"):
        if needle.lower() in text.lower():
            return needle
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__


# ------------------------------------------------------------------------------------- what it said


def rpc_error(exc: BaseException) -> dict[str, Any] | None:
    """The JSON-RPC ``error`` object behind a web3 exception (``code``, ``message``, ``data``), if any."""
    response = getattr(exc, "rpc_response", None)
    if isinstance(response, dict) and isinstance(response.get("error"), dict):
        return dict(response["error"])
    for arg in getattr(exc, "args", ()):
        if isinstance(arg, dict) and ("message" in arg or "code" in arg):
            return dict(arg)
    return None


def rpc_message(exc: BaseException) -> str:
    """The node's error message inside a web3 exception (the JSON-RPC ``error.message``)."""
    error = rpc_error(exc)
    if error is not None and isinstance(error.get("message"), str):
        return str(error["message"])
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message:
        return message
    return str(exc)


def mined_hash(exc: BaseException) -> bytes | None:
    """The hash hardhat puts in the error of a transaction it mined although it reverted (automine)."""
    error = rpc_error(exc)
    data = error.get("data") if error else None
    value = data.get("txHash") if isinstance(data, dict) else None
    if isinstance(value, str) and value.startswith("0x") and len(value) == 66:
        return bytes.fromhex(value[2:])
    return None


def revert_data_from(exc: BaseException) -> bytes | None:
    """Revert bytes carried by an exception from web3 (any provider) or eth-tester, else None."""

    data = getattr(exc, "data", None)
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return None
    if isinstance(data, dict) and isinstance(data.get("data"), str):
        return revert_data_from(type("E", (), {"data": data["data"]})())
    # eth-tester's TransactionFailed: "execution reverted: b'...'"
    for arg in getattr(exc, "args", ()):
        if isinstance(arg, (bytes, bytearray)):
            return bytes(arg)
        if isinstance(arg, str):
            match = _BYTES_LITERAL.search(arg)
            if match:
                try:
                    value = ast.literal_eval(match.group(1))
                except (ValueError, SyntaxError):
                    return None
                if isinstance(value, bytes):
                    return value
    return None


# ------------------------------------------------------------------------------------- transactions


def is_nonce_too_low(message: str) -> bool:
    """The nonce is already used (another wallet sent with this key)."""
    return bool(_TOO_LOW.search(message))


def is_nonce_too_high(message: str) -> bool:
    """The nonce leaves a gap (a transaction before it was dropped, or the chain was reset)."""
    return bool(_TOO_HIGH.search(message))


def expected_nonce(message: str) -> int | None:
    """The nonce a node said it expected ("Expected nonce to be 5 but got 3"), if it said so."""
    match = _EXPECTED.search(message)
    return int(match.group(1)) if match else None


def is_insufficient_funds(message: str) -> bool:
    """The account cannot pay for the transaction's gas and value."""
    return bool(_FUNDS.search(message))


def is_already_known(message: str) -> bool:
    """The node already has these very bytes in its pool."""
    return bool(_KNOWN.search(message))


def is_underpriced(message: str) -> bool:
    """The fee is below the base fee, or too low to replace a pending transaction."""
    return bool(_UNDERPRICED.search(message))


# ------------------------------------------------------------------------------------- queries


def is_rate_limited(exc: BaseException) -> bool:
    """Whether ``exc`` is HTTP 429 Too Many Requests: slow down, the query is not the problem."""
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None) == 429 or "429" in str(exc).split(":", 1)[0]


def is_range_refusal(exc: BaseException) -> bool:
    """Whether ``exc`` is a node refusing an ``eth_getLogs`` query as too large."""
    if is_rate_limited(exc):
        return False
    error = rpc_error(exc)
    code = error.get("code") if error else None
    if code is not None and code not in _LIMIT_CODES:
        return False
    return bool(_REFUSAL.search(rpc_message(exc)))


def suggested_range(exc: BaseException) -> tuple[int, int] | None:
    """The block range a node suggests instead of a refused one (Alchemy: "[0x1, 0x3e8]"), if any."""
    match = _SUGGESTED.search(rpc_message(exc))
    if match is None:
        return None
    return int(match.group(1), 16), int(match.group(2), 16)
