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
