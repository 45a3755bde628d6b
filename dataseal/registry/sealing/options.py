"""How data is sealed: one frozen :class:`SealOptions`, checked once where it is built.

A front door (the CLI, the HTTP API) builds the options from what its user gave, and every layer
of sealing passes the same value on: ``seal`` → ``compute_tree`` → the reader of a file, folder
or table. The options are all that decides the tree besides the data itself: the same data
sealed with equal options (the salt nonce included) gives the same root. What does not change
the tree stays a separate argument: the path, the output folder, the manifest's metadata, the
number of threads and the progress callback.

Building :class:`SealOptions` checks every setting and how they combine (a policy name, a chunk
size from 1 byte to 1 GiB, a salt secret only for rows and of at least 16 bytes, ...) and raises
a :class:`~dataseal.registry.sealing.errors.SealError` naming the option (``options=(...)``), so
nothing further down checks them again.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final, Literal

from dataseal.registry.sealing.errors import SealError, SecretError

SymlinkPolicy = Literal["refuse", "skip", "follow"]
SpecialPolicy = Literal["refuse", "skip"]
TableFormat = Literal["csv", "jsonl", "parquet"]

SYMLINK_POLICIES: Final[tuple[SymlinkPolicy, ...]] = ("refuse", "skip", "follow")
SPECIAL_POLICIES: Final[tuple[SpecialPolicy, ...]] = ("refuse", "skip")
TABLE_FORMATS: Final[tuple[TableFormat, ...]] = ("csv", "jsonl", "parquet")
DEFAULT_CHUNK_SIZE: Final = 1 << 20
MAX_CHUNK_SIZE: Final = 1 << 30
#: The most chunks (leaves) a file is sealed into: 1 TiB at the default chunk size. Tiny chunks of a large
#: file (1 byte of 2 MB: two million leaves, a minute and a 500 MB tree dump) are refused, not computed.
MAX_FILE_CHUNKS: Final = 1 << 20
#: The largest file or folder size a manifest may state (the most chunks of the largest chunk size).
MAX_CONTENT_SIZE: Final = MAX_FILE_CHUNKS * MAX_CHUNK_SIZE
MIN_SECRET_BYTES: Final = 16
#: The most bytes a salt secret file may hold (a secret is a few dozen random bytes).
MAX_SECRET_BYTES: Final = 4096
SALT_NONCE_BYTES: Final = 16


@dataclass(frozen=True, kw_only=True, slots=True)
class SealOptions:
    """The settings of one seal (see the module doc); invalid settings raise when it is built."""

    rows: bool = False
    """Seal a table's rows (one leaf per row) rather than a file's bytes."""
    table_format: TableFormat | None = None
    """With ``rows``: the table's format; None takes it from the file name's extension."""
    chunk_size: int = DEFAULT_CHUNK_SIZE
    """Bytes per chunk (leaf) of a file, 1 byte to 1 GiB."""
    secret: bytes | None = field(default=None, repr=False)
    """With ``rows``: the owner's secret (at least 16 bytes), from which per-row salts are derived."""
    salt_nonce: bytes | None = None
    """With a ``secret``: the 16-byte nonce of the salts (a manifest's, to recompute its tree); None draws a fresh
    random one, as every new seal does."""
    salt_context: str = ""
    """With a ``secret``: an optional label mixed into the salts (recorded in the manifest)."""
    symlinks: SymlinkPolicy = "refuse"
    """Symlinks in a folder: refuse, skip (listed in the manifest), or follow (inside the folder only)."""
    special: SpecialPolicy = "refuse"
    """Devices, FIFOs and sockets in a folder: refuse, or skip (listed in the manifest)."""

    def __post_init__(self) -> None:
        check_chunk_size(self.chunk_size)
        if self.symlinks not in SYMLINK_POLICIES:
            raise SealError(f"{self.symlinks!r} is not a symlink policy", hint="use refuse, skip or follow",
                            options=("symlinks",))
        if self.special not in SPECIAL_POLICIES:
            raise SealError(f"{self.special!r} is not a policy for special files", hint="use refuse or skip",
                            options=("special",))
        if self.table_format is not None:
            check_table_format(self.table_format)
        if self.secret is not None:
            if not self.rows:
                raise SecretError(
                    "a salt secret applies to table rows only",
                    hint="seal the table's rows, or leave out the secret (files and folders are sealed without salts)",
                    options=("rows", "salt_secret"),
                )
            check_secret(self.secret)
            check_salt_context(self.salt_context)
        if self.salt_nonce is not None:
            if self.secret is None:
                raise SecretError("a salt nonce applies to salted rows only", hint="give the salt secret too",
                                  options=("salt_secret",))
            check_salt_nonce(self.salt_nonce)


def check_chunk_size(chunk_size: int) -> None:
    """:class:`SealError` unless ``chunk_size`` is an int from 1 byte to 1 GiB."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise SealError(
            f"chunk size {chunk_size!r} is out of range",
            hint=f"use 1 byte to 1 GiB ({MAX_CHUNK_SIZE} bytes); the default is {DEFAULT_CHUNK_SIZE} (1 MiB)",
            options=("chunk_size",),
        )


def check_table_format(table_format: str) -> None:
    """:class:`SealError` unless ``table_format`` is one of :data:`TABLE_FORMATS`."""
    if table_format not in TABLE_FORMATS:
        raise SealError(f"unknown table format {table_format!r}", hint=f"use one of {', '.join(TABLE_FORMATS)}",
                        options=("table_format",))


def check_secret(secret: bytes) -> None:
    """:class:`SecretError` unless ``secret`` is bytes, at least :data:`MIN_SECRET_BYTES` of them."""
    if not isinstance(secret, bytes):
        raise SecretError(f"the salt secret is {type(secret).__name__}, not bytes", hint="give the secret's bytes",
                          options=("salt_secret",))
    if len(secret) < MIN_SECRET_BYTES:
        raise SecretError(
            f"the salt secret is {len(secret)} bytes, fewer than {MIN_SECRET_BYTES}",
            hint=f"use at least {MIN_SECRET_BYTES} random bytes, e.g. `head -c 32 /dev/urandom > secret.key`, and keep "
            "them: proofs of rows need them",
            options=("salt_secret",),
        )


def check_salt_nonce(nonce: bytes) -> None:
    """:class:`SecretError` unless ``nonce`` is :data:`SALT_NONCE_BYTES` bytes."""
    if not isinstance(nonce, bytes) or len(nonce) != SALT_NONCE_BYTES:
        size = f"{len(nonce)} bytes" if isinstance(nonce, bytes) else type(nonce).__name__
        raise SecretError(
            f"the salt nonce is {size}, expected {SALT_NONCE_BYTES} bytes",
            hint="take it from the manifest's salt.nonce (0x and 32 hex digits)",
        )


def check_salt_context(context: str) -> None:
    """:class:`SecretError` unless ``context`` is Unicode text (it is mixed into the salts as UTF-8)."""
    try:
        context.encode("utf-8")
    except UnicodeEncodeError:
        raise SecretError(
            f"the salt context {context!r} is not Unicode text (it holds a lone surrogate)",
            hint="give plain text, or no salt context",
            options=("salt_context",),
        ) from None


_SIZE = re.compile(r"^\s*(\d{1,30})\s*([kmg]i?b?|b)?\s*$", re.IGNORECASE)  # 30 digits: int() of any match is cheap
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def parse_size(text: str) -> int:
    """``1048576``, ``1MiB``, ``64k``, ``4M`` → bytes (binary units); :class:`SealError` when it is not a size.

    Only the form is checked here: :class:`SealOptions` checks the range of a chunk size.
    """
    match = _SIZE.match(text)
    if match is None:
        raise SealError(f"chunk size {text!r} is not a size",
                        hint="give bytes (1048576) or a binary unit (64KiB, 1MiB, 4M)", options=("chunk_size",))
    unit = (match.group(2) or "").lower()[:1]
    return int(match.group(1)) * _UNITS[unit]
