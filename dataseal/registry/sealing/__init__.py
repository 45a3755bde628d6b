"""Sealing real data: files (chunks), folders (files) and tables (rows) become standard-v1 trees.

Library code: it raises :class:`SealError` and subclasses (never prints or exits) and reports
progress through an optional ``progress(phase, done, total)`` callback.

- :mod:`dataseal.registry.sealing.options` — :class:`SealOptions`, the settings of a seal, checked where built;
- :mod:`dataseal.registry.sealing.seal` — ``seal`` (write manifest + tree dump) and ``prove`` (one part);
- :mod:`dataseal.registry.sealing.files`, :mod:`.folders`, :mod:`.tables` — how each kind becomes leaves;
- :mod:`dataseal.registry.sealing.canonical` — canonical JSON (rows, manifest hash);
- :mod:`dataseal.registry.sealing.atomic` — atomic writes.
"""
from dataseal.registry.sealing.errors import (
    EmptyInputError,
    InputChangedError,
    MalformedTableError,
    SealError,
    SecretError,
    SpecialFileError,
    UnreadableInputError,
)
from dataseal.registry.sealing.files import ProgressCallback
from dataseal.registry.sealing.options import DEFAULT_CHUNK_SIZE, SealOptions, parse_size

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "EmptyInputError",
    "InputChangedError",
    "MalformedTableError",
    "ProgressCallback",
    "SealError",
    "SealOptions",
    "SecretError",
    "SpecialFileError",
    "UnreadableInputError",
    "parse_size",
]
