"""Errors of sealing, all under :class:`dataseal.errors.DatasealError`.

Each family has a kind; an instance narrows it where it knows better (a missing file or row is
``NOT_FOUND``, a full disk ``UNAVAILABLE``). Messages name no command-line flag: the settings that
would change the outcome are in ``options`` (the names of :class:`~.options.SealOptions` fields,
or of ``prove``'s parameters: ``chunk``, ``row``, ``file``; ``salt_secret`` for the secret,
``out_dir`` for the output folder).
"""
from __future__ import annotations

from dataseal.errors import DatasealError, ErrorKind


class SealError(DatasealError):
    """Sealing or proving data failed."""

    kind = ErrorKind.INVALID_INPUT


class EmptyInputError(SealError):
    """There is nothing to seal (an empty file, folder or table): a tree needs at least one leaf."""


class UnreadableInputError(SealError):
    """A file or folder could not be opened or read (``NOT_FOUND`` when it does not exist)."""


class InputChangedError(SealError):
    """The data changed while it was being read (or since it was sealed)."""

    kind = ErrorKind.CONFLICT


class SpecialFileError(SealError):
    """A folder holds a symlink, device, FIFO or socket, or a path escaping the folder."""


class MalformedTableError(SealError):
    """A table (CSV, JSON Lines, Parquet) cannot be parsed, or a row cannot be canonicalised."""


class SecretError(SealError):
    """The owner's salt secret is missing, unreadable or too short."""
