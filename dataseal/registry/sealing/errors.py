"""Errors of sealing, all under :class:`dataseal.errors.DatasealError`."""
from __future__ import annotations

from dataseal.errors import DatasealError, ErrorKind


class SealError(DatasealError):
    """Sealing or proving data failed."""


class EmptyInputError(SealError):
    """There is nothing to seal (an empty file, folder or table): a tree needs at least one leaf."""


class UnreadableInputError(SealError):
    """A file or folder could not be opened or read."""


class InputChangedError(SealError):
    """The data changed while it was being read (or since it was sealed)."""

    kind = ErrorKind.CONFLICT


class SpecialFileError(SealError):
    """A folder holds a symlink, device, FIFO or socket, or a path escaping the folder."""


class MalformedTableError(SealError):
    """A table (CSV, JSON Lines, Parquet) cannot be parsed, or a row cannot be canonicalised."""


class SecretError(SealError):
    """The owner's salt secret is missing, unreadable or too short."""
