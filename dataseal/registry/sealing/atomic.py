"""Atomic file writes: write temporary files beside the targets, fsync them, then ``os.replace``.

An interrupt (Ctrl-C, a crash, a full disk) leaves either the old file or the new one, never a
half-written one: temporary files are removed on any exception, KeyboardInterrupt included.
"""
from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO

from dataseal.errors import ErrorKind
from dataseal.registry.sealing.errors import SealError


class StagedFiles:
    """Several files written completely first, then moved into place together by :meth:`commit`.

    ::

        with StagedFiles() as stage:
            with stage.open(out / "tree.json") as f: ...
            with stage.open(out / "manifest.json") as f: ...
            stage.commit()   # fsync all, then os.replace each, in the order opened

    Leaving the block without ``commit()`` (an exception, an interrupt) deletes every temporary file.
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []
        self._committed = False

    def __enter__(self) -> StagedFiles:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if not self._committed:
            self.discard()

    @contextlib.contextmanager
    def open(self, target: Path, *, encoding: str = "utf-8") -> Iterator[IO[str]]:
        """A temporary text file in ``target``'s folder, to become ``target`` at :meth:`commit`."""
        target = Path(target)
        try:
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        except OSError as exc:
            raise SealError(
                f"cannot write {target}: {exc.strerror or exc}",
                hint=f"check that {target.parent} exists and is writable",
                kind=ErrorKind.NOT_FOUND if isinstance(exc, FileNotFoundError) else None,
            ) from None
        temp = Path(name)
        self._staged.append((temp, target))
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the mode open() would
        try:
            with os.fdopen(fd, "w", encoding=encoding, newline="\n") as out:
                yield out
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO):
                raise
            raise SealError(f"writing {target} failed: {exc.strerror or exc}", hint="free disk space and try again",
                            kind=ErrorKind.UNAVAILABLE) from exc

    def commit(self) -> None:
        """Move every staged file into place."""
        try:
            for temp, target in self._staged:
                os.replace(temp, target)
        except OSError as exc:
            raise SealError(f"cannot move the new file into place: {exc}",
                            hint="check that the folder still exists and that you may write in it") from exc
        self._committed = True

    def discard(self) -> None:
        for temp, _ in self._staged:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
        self._staged.clear()


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it; put it back at once
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_writer(target: Path, *, encoding: str = "utf-8") -> Iterator[IO[str]]:
    """One file written atomically: it replaces ``target`` only when the block ends without an exception."""
    with StagedFiles() as stage:
        with stage.open(target, encoding=encoding) as out:
            yield out
        stage.commit()
