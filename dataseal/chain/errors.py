"""Errors of the chain layer, under :class:`dataseal.errors.DatasealError` (see there for what an
error carries: a message, a hint, a kind, the options that change the outcome)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dataseal.errors import ConfigError, DatasealError, ErrorKind


class NoEmbeddedChain(ConfigError):
    """A data folder holds no embedded chain (yet)."""

    kind = ErrorKind.NOT_FOUND


class ChainError(DatasealError):
    """Talking to the chain failed."""

    kind = ErrorKind.UNAVAILABLE


class ArtifactError(ChainError):
    """A compiled contract artifact is missing or unreadable."""

    kind = ErrorKind.INTERNAL


class DeploymentError(ChainError):
    """Deploying the contracts failed or produced an unexpected result."""

    kind = ErrorKind.INVALID_INPUT


class OutdatedDeployment(DeploymentError):
    """The recorded contracts are not ones this dataseal can use: a record from before contracts v2, or one
    whose contracts' code differs from the shipped code. Deploying again replaces them in the record; the
    registrations made under them stay in those contracts.

    ``addresses`` are the recorded contracts (name -> address, as far as the record names them).
    """

    kind = ErrorKind.CONFLICT

    def __init__(self, message: str, *, addresses: Mapping[str, str] | None = None, hint: str = "",
                 options: tuple[str, ...] = (), kind: ErrorKind | None = None) -> None:
        super().__init__(message, hint=hint, options=options, kind=kind)
        self.addresses = dict(addresses or {})


class NodeUnreachable(ChainError):
    """No answer from the JSON-RPC endpoint (refused, timed out, wrong URL)."""

    kind = ErrorKind.UNAVAILABLE


class WrongChain(ChainError):
    """The node's chain id is not the chain the deployment record (or the caller) expects."""

    kind = ErrorKind.INVALID_INPUT


class ContractsNotDeployed(DeploymentError):
    """No deployment is recorded for this chain, or no code is at a recorded address."""

    kind = ErrorKind.NOT_FOUND


class InsufficientFunds(ChainError):
    """The sending account cannot pay for a transaction's gas and value (``balance``, ``needed`` in wei)."""

    kind = ErrorKind.CONFLICT

    def __init__(self, message: str, *, hint: str = "", balance: int | None = None, needed: int | None = None,
                 options: tuple[str, ...] = ()) -> None:
        super().__init__(message, hint=hint, options=options)
        self.balance = balance
        self.needed = needed


class TransactionRejected(ChainError):
    """The node refused a signed transaction (fee too low, nonce conflict, ...)."""

    kind = ErrorKind.CONFLICT


class ReceiptTimeout(ChainError):
    """A sent transaction got no receipt within the allowed time."""


class TransactionDropped(ChainError):
    """A sent transaction left the node's pool without being mined, and could not be re-sent."""

    kind = ErrorKind.CONFLICT


class Reverted(ChainError):
    """A call or transaction reverted with ``data``, not decoded yet.

    The sending role raises it (it does not know the contracts); the contract clients turn it into the
    :class:`ContractRevert` it stands for.
    """

    kind = ErrorKind.CONFLICT

    def __init__(self, action: str, data: bytes) -> None:
        self.action = action
        self.data = bytes(data)
        shown = "0x" + self.data.hex() if len(self.data) <= 68 else "0x" + self.data[:68].hex() + "…"
        super().__init__(f"{action} reverted ({shown})",
                         hint="the contract refused it: send through the contract's client, or give the sender a "
                         "revert decoder, to have the reason named")


class ContractRevert(ChainError):
    """A contract call or transaction reverted; carries the decoded Solidity error.

    ``name`` is the custom error's name (``GrantExpired``), ``args`` its decoded arguments by
    name, ``hint`` what the user can do about it (empty when we have nothing useful to say). The
    message is the error as Solidity would write it: ``GrantExpired(grantId=7, expiredAt=...)``.
    ``kind`` depends on the error (an unknown id is not found, a spent quota a conflict).
    """

    kind = ErrorKind.CONFLICT

    def __init__(self, name: str, args: dict[str, Any], *, hint: str = "", raw: bytes = b"",
                 kind: ErrorKind | None = None) -> None:
        self.name = name
        self.args_by_name = args
        self.raw = raw
        rendered = ", ".join(f"{key}={_render(value)}" for key, value in args.items())
        super().__init__(f"{name}({rendered})", hint=hint, kind=kind)


def _render(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    return str(value)
