"""The root of dataseal's error tree, importable by every layer (it imports nothing of dataseal).

Library code (``dataseal.chain``, ``dataseal.registry``) raises these; the front doors render them:
the CLI as one line (exit status 1), the HTTP API as a status code and a JSON body. So that
both can render one error well, an error carries:

- ``message``: what failed, with what was expected and what was found;
- ``hint``: what to do about it, in words that suit any front door (no command-line flag, no
  command name: a hint says "give the keystore's password", not "pass --password-file");
- ``kind``: which sort of failure it is (:class:`ErrorKind`), from which a front door picks an HTTP
  status, or any advice of its own;
- ``options``: the names of the settings or call parameters that would change the outcome
  (``"rpc_url"``, ``"account"``, ``"symlinks"``), which a front door spells its own way
  (``--rpc URL`` for the CLI, a field name for the API).

``str(error)`` is the message followed by the hint.
"""
from __future__ import annotations

from enum import StrEnum
from typing import ClassVar


class ErrorKind(StrEnum):
    """Which sort of failure an error is."""

    INVALID_INPUT = "invalid_input"
    """The caller gave something wrong (a malformed value, a wrong setting, a bad file): fix it and retry."""
    NOT_FOUND = "not_found"
    """Something named does not exist (an asset, an account, a deployment, a file)."""
    CONFLICT = "conflict"
    """The request is well formed but the current state refuses it (already registered, not the owner,
    quota used up, a file in use)."""
    UNAVAILABLE = "unavailable"
    """A service dataseal needs did not answer in time (the node, a database): retrying later may work."""
    INTERNAL = "internal"
    """dataseal or its installation is broken (a missing artifact, an impossible state): a bug to report."""


class DatasealError(Exception):
    """Base of every error dataseal raises on purpose.

    Subclasses set :attr:`kind` for their family; one instance may override it (``kind=``).
    """

    kind: ClassVar[ErrorKind] = ErrorKind.INVALID_INPUT

    def __init__(
        self,
        message: str,
        *,
        hint: str = "",
        options: tuple[str, ...] = (),
        kind: ErrorKind | None = None,
    ) -> None:
        self.message = message
        self.hint = hint
        self.options = tuple(options)
        if kind is not None:
            self.kind = kind  # type: ignore[misc]  # an instance may narrow its class's kind
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.message}: {self.hint}" if self.hint else self.message

    def to_json(self) -> dict[str, object]:
        """The error as a front door hands it to a program (the HTTP API's error body)."""
        return {"error": type(self).__name__, "kind": str(self.kind), "message": self.message, "hint": self.hint,
                "options": list(self.options)}


class InvalidInput(DatasealError):
    """A value given to dataseal is malformed or out of range."""

    kind = ErrorKind.INVALID_INPUT


class ConfigError(InvalidInput):
    """A setting is missing or invalid."""


class NotFound(DatasealError):
    """Something named does not exist."""

    kind = ErrorKind.NOT_FOUND


class Conflict(DatasealError):
    """The current state refuses the request."""

    kind = ErrorKind.CONFLICT


class Unavailable(DatasealError):
    """A service dataseal needs did not answer."""

    kind = ErrorKind.UNAVAILABLE


class InternalError(DatasealError):
    """dataseal or its installation is broken."""

    kind = ErrorKind.INTERNAL
