"""Atomic file writes: write temporary files beside the targets, fsync them, then ``os.replace``.

An interrupt (Ctrl-C, a crash, a full disk) leaves either the old file or the new one, never a
half-written one: temporary files are removed on any exception, KeyboardInterrupt included.
What may be written and replaced (no device, FIFO or link; an existing file only when allowed,
never a read-only one) is :mod:`dataseal.chain.files`'s rule, the one every output follows.
"""
from __future__ import annotations

import contextlib
import errno
import io
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO

from dataseal.chain.files import FileRefused, StagedOutput, sync_folder
from dataseal.errors import ErrorKind
from dataseal.registry.sealing.errors import SealError

#: errno values of a disk that cannot take the file (rather than a path that is wrong)
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO)


class StagedFiles:
    """Several files written completely first, then moved into place together by :meth:`commit`.

    ::

        with StagedFiles(replace=False) as stage:
            with stage.open(out / "tree.json") as f: ...
            with stage.open(out / "manifest.json") as f: ...
            stage.commit()   # fsync all, then os.replace each, in the order opened

    Leaving the block without ``commit()`` (an exception, an interrupt) deletes every temporary file.
    ``replace`` allows replacing existing (writable, regular) files; ``options`` name the setting
    that chose the paths, for messages.
    """

    def __init__(self, *, replace: bool = False, options: tuple[str, ...] = ()) -> None:
        self._staged: list[StagedOutput] = []
        self._committed = False
        self._replace = replace
        self._options = options

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
            staged = StagedOutput(target, replace=self._replace, what="output file", options=self._options)
        except FileRefused as exc:
            raise SealError(exc.message, hint=exc.hint, options=exc.options, kind=exc.kind) from None
        except OSError as exc:
            raise _write_error(target, exc, self._options) from None
        self._staged.append(staged)
        try:
            text = io.TextIOWrapper(staged.file, encoding=encoding, newline="\n")
            try:
                yield text
                text.flush()
            finally:
                text.detach()  # the staged file stays open for finish() or discard()
            staged.finish()
        except OSError as exc:
            raise _write_error(target, exc, self._options) from exc

    def commit(self) -> None:
        """Move every staged file into place."""
        try:
            for staged in self._staged:
                staged.commit()
            for folder in dict.fromkeys(staged.target.parent for staged in self._staged):
                sync_folder(folder)
        except FileRefused as exc:
            raise SealError(exc.message, hint=exc.hint, options=exc.options, kind=exc.kind) from None
        except OSError as exc:
            raise SealError(f"cannot move the new file into place: {exc.strerror or exc}",
                            hint="check that the folder still exists and that you may write in it") from None
        self._committed = True

    def discard(self) -> None:
        for staged in self._staged:
            staged.discard()
        self._staged.clear()


def _write_error(target: Path, exc: OSError, options: tuple[str, ...]) -> SealError:
    """A SealError for an OSError writing ``target``: a full disk is UNAVAILABLE, a wrong path NOT_FOUND."""
    reason = exc.strerror or str(exc)
    if exc.errno in _DISK_FULL:
        return SealError(f"writing {target} failed: {reason}", hint="free disk space and try again",
                         kind=ErrorKind.UNAVAILABLE)
    return SealError(
        f"cannot write {target}: {reason}",
        hint=f"check that {target.parent} exists and is writable",
        options=options,
        kind=ErrorKind.NOT_FOUND if isinstance(exc, FileNotFoundError) else None,
    )


@contextlib.contextmanager
def atomic_writer(
    target: Path, *, encoding: str = "utf-8", replace: bool = False, options: tuple[str, ...] = ()
) -> Iterator[IO[str]]:
    """One file written atomically: it replaces ``target`` only when the block ends without an exception
    (and, when ``target`` exists, only if ``replace``)."""
    with StagedFiles(replace=replace, options=options) as stage:
        with stage.open(target, encoding=encoding) as out:
            yield out
        stage.commit()
