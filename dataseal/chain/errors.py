"""dataseal's error tree.

Library code raises these; the front doors (cli/, api/) render them. A message says what failed,
what was expected and what was found, and what to do next.
"""
from __future__ import annotations

from typing import Any


class DatasealError(Exception):
    """Base of every error dataseal raises on purpose."""


class ConfigError(DatasealError):
    """A setting is missing or invalid."""


class ChainError(DatasealError):
    """Talking to the chain failed."""


class ArtifactError(ChainError):
    """A compiled contract artifact is missing or unreadable."""


class DeploymentError(ChainError):
    """Deploying the contracts failed or produced an unexpected result."""


class NodeUnreachable(ChainError):
    """No answer from the JSON-RPC endpoint (refused, timed out, wrong URL)."""


class WrongChain(ChainError):
    """The node's chain id is not the chain the deployment record (or the caller) expects."""


class ContractsNotDeployed(DeploymentError):
    """No deployment is recorded for this chain, or no code is at a recorded address."""


class InsufficientFunds(ChainError):
    """The sending account cannot pay for a transaction's gas and value (``balance``, ``needed`` in wei)."""

    def __init__(self, message: str, *, balance: int | None = None, needed: int | None = None) -> None:
        super().__init__(message)
        self.balance = balance
        self.needed = needed


class TransactionRejected(ChainError):
    """The node refused a signed transaction (fee too low, nonce conflict, ...)."""


class ReceiptTimeout(ChainError):
    """A sent transaction got no receipt within the allowed time."""


class TransactionDropped(ChainError):
    """A sent transaction left the node's pool without being mined, and could not be re-sent."""


class ContractRevert(ChainError):
    """A contract call or transaction reverted; carries the decoded Solidity error.

    ``name`` is the custom error's name (``GrantExpired``), ``args`` its decoded arguments by
    name, ``hint`` what the user can do about it (empty when we have nothing useful to say).
    """

    def __init__(self, name: str, args: dict[str, Any], *, hint: str = "", raw: bytes = b"") -> None:
        self.name = name
        self.args_by_name = args
        self.hint = hint
        self.raw = raw
        rendered = ", ".join(f"{key}={_render(value)}" for key, value in args.items())
        message = f"{name}({rendered})"
        if hint:
            message = f"{message}: {hint}"
        super().__init__(message)


def _render(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    return str(value)
