"""Small files: written so that a reader never sees half of one and a power cut loses neither, and
locked so that threads and processes take turns."""
from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def write_atomic(target: Path, content: bytes, *, mode: int | None = None) -> None:
    """Write ``content`` to ``target``: a temp file in the same folder, fsync, rename over it, then
    fsync the folder, so that the rename itself survives a power cut (the folder's entry is what
    names the new file).

    ``mode`` (e.g. 0o600 for secrets) is set on the temp file before anything is written to it.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    sync_folder(target.parent)


def sync_folder(folder: Path) -> None:
    """fsync ``folder``, making the creations, renames and deletions of entries in it durable.

    Where a folder cannot be opened as a file (Windows refuses with a permission error) there is
    nothing to sync, and it returns: the rename is as durable as that platform makes it.
    """
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except (PermissionError, IsADirectoryError):
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def file_lock(path: Path) -> Iterator[int]:
    """Hold an exclusive lock on ``path`` (created if needed, mode 0600) for the ``with`` block; yields
    the open file descriptor, for reading and writing the file in place under the lock.

    Each acquisition opens its own file description, so two threads of one process exclude each
    other just as two processes do (POSIX ``flock``). The lock goes when the holder closes the file
    or dies, so a killed process never leaves a stale lock behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)  # closing releases the flock
