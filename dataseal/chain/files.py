"""Small files: written so that a reader never sees half of one and a power cut loses neither, locked
so that threads and processes take turns, and read with a size cap.

Every file dataseal writes goes through :func:`open_output` (:func:`write_atomic` is its one-shot
form): a temporary file in the target's folder, fsync, rename over the target, fsync of the
folder. Before the rename it refuses a target that is not a regular file (a device such as
``/dev/full``, a FIFO, a socket, a folder) or is a symbolic link, since the rename would replace
the device node or the link itself; it replaces an existing file only when the caller allows it
(``replace``), never a read-only one (no owner write permission: its owner protected it), and
the new file keeps the old one's permissions. These rules are decided from the file's mode, not
by provoking a permission error, so they hold for root too.

Every document or secret dataseal reads goes through :func:`read_limited`: a regular file only (a
FIFO or ``/dev/zero`` is refused before anything is read), at most ``limit`` bytes (it reads
``limit + 1`` and refuses if they come), in blocks, so that an interrupt is seen between them.
"""
from __future__ import annotations

import errno
import fcntl
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from dataseal.errors import DatasealError, ErrorKind

_READ_BLOCK = 1 << 20


class FileRefused(DatasealError):
    """A file dataseal was asked to read or write is not one it may (a device, a FIFO, a link, too large,
    an existing or read-only file)."""


def describe_file_type(mode: int) -> str:
    """What a file of ``st_mode`` ``mode`` is, in words ("a FIFO", "a character device", ...)."""
    for test, words in (
        (stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
        (stat.S_ISREG, "a regular file"),
    ):
        if test(mode):
            return words
    return "a special file"


def check_output(
    target: Path, *, replace: bool, what: str = "output file", options: tuple[str, ...] = ()
) -> int | None:
    """Whether dataseal may write ``target`` (see the module doc): :class:`FileRefused` if not, else the
    permission bits of the file it replaces (None when there is none).

    ``replace`` allows replacing an existing regular file; ``options`` name the setting that chose
    ``target`` (e.g. ``("out",)``), and messages about an existing file also name ``force``.
    """
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        folder = Path(target).parent
        if not folder.is_dir():  # (else the temporary file beside it would be the one named missing)
            raise FileRefused(f"cannot write {what} {target}: the folder {folder} does not exist",
                              hint="create the folder first, or choose a path in an existing folder", options=options,
                              kind=ErrorKind.NOT_FOUND) from None
        return None
    except NotADirectoryError:
        raise FileRefused(f"cannot write {what} {target}: a part of its path is a file, not a folder",
                          hint="choose a path in an existing folder", options=options) from None
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
        raise FileRefused(
            f"refusing to write {what} {target}: it is {describe_file_type(st.st_mode)}, not a regular file, and "
            "writing would replace it",
            hint="choose the path of a regular file, or of one that does not exist yet", options=options,
        )
    mode = stat.S_IMODE(st.st_mode)
    if not mode & stat.S_IWUSR:
        raise FileRefused(
            f"refusing to replace {what} {target}: it is read-only (mode {mode:04o})",
            hint="choose another path, or make the file writable first if it is to be replaced",
            options=options, kind=ErrorKind.CONFLICT,
        )
    if not replace:
        raise FileRefused(f"{what} {target} already exists", hint="choose another path, or allow replacing it",
                          options=(*options, "force"), kind=ErrorKind.CONFLICT)
    return mode & 0o777  # the permission bits only: never a setuid, setgid or sticky bit onto new content


class StagedOutput:
    """One file being written beside its target (see :func:`open_output`); :meth:`commit` moves it into place."""

    def __init__(self, target: Path, *, replace: bool, mode: int | None = None, what: str = "output file",
                 options: tuple[str, ...] = ()) -> None:
        self.target = Path(target)
        self._replace, self._what, self._options = replace, what, options
        kept = check_output(self.target, replace=replace, what=what, options=options)
        self._open = False
        self.temp = self.target.parent / f".{self.target.name}.{secrets.token_hex(6)}.tmp"
        # O_EXCL | O_NOFOLLOW: a fresh file of ours, never one a link points at. Created with 0666 the
        # umask applies, as for any new file; an explicit or kept mode is set before anything is written.
        fd = os.open(self.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o600 if mode is not None or kept is not None else 0o666)
        try:
            if mode is not None or kept is not None:
                os.fchmod(fd, mode if mode is not None else kept)  # type: ignore[arg-type]
            self.file: BinaryIO = os.fdopen(fd, "wb")
            self._open = True
        except BaseException:
            os.close(fd)
            self.discard()
            raise

    def finish(self) -> None:
        """Flush and fsync the temporary file and close it."""
        with self.file:
            self.file.flush()
            os.fsync(self.file.fileno())
        self._open = False

    def commit(self) -> None:
        """Check the target again (it may have changed meanwhile), then rename the temporary file over it."""
        check_output(self.target, replace=self._replace, what=self._what, options=self._options)
        os.replace(self.temp, self.target)

    def discard(self) -> None:
        if self._open:
            self._open = False
            self.file.close()
        try:
            os.unlink(self.temp)
        except FileNotFoundError:
            pass


@contextmanager
def open_output(
    target: Path, *, replace: bool = False, mode: int | None = None, what: str = "output file",
    options: tuple[str, ...] = (),
) -> Iterator[BinaryIO]:
    """A binary file to write ``target`` with: it replaces ``target`` only when the block ends without an
    exception (a temp file in the same folder, fsync, rename, fsync of the folder; see the module doc for
    what is refused). ``mode`` (e.g. 0o600 for secrets) is set before anything is written; without it a
    replaced file keeps its permissions and a new one gets the umask's."""
    staged = StagedOutput(target, replace=replace, mode=mode, what=what, options=options)
    try:
        yield staged.file
        staged.finish()
        staged.commit()
    except BaseException:
        staged.discard()
        raise
    sync_folder(staged.target.parent)


def write_atomic(target: Path, content: bytes, *, mode: int | None = None, replace: bool = True) -> None:
    """Write ``content`` to ``target`` with :func:`open_output`: dataseal's own records in its data folder,
    so by default replacing a regular file, and private (0600) unless ``mode`` says otherwise."""
    with open_output(target, replace=replace, mode=0o600 if mode is None else mode) as out:
        out.write(content)


def read_limited(
    path: Path, limit: int, *, what: str = "file", error: type[DatasealError] = FileRefused,
    options: tuple[str, ...] = (),
) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them (see the module doc).

    A file that is not regular or holds more than ``limit`` bytes raises ``error`` naming ``what``
    and ``options``; the OSErrors of opening and reading (FileNotFoundError, ...) are the caller's.
    """
    # O_NONBLOCK: a FIFO opens without waiting for a writer (and is then refused); no effect on files.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{what} {path} is not a regular file (it is {describe_file_type(st.st_mode)})",
                        hint="give the path of a regular file", options=options)
        blocks: list[bytes] = []
        total = 0
        while total <= limit:
            try:
                block = os.read(fd, min(_READ_BLOCK, limit + 1 - total))
            except BlockingIOError:  # pragma: no cover - regular files do not block
                raise OSError(errno.EAGAIN, os.strerror(errno.EAGAIN), str(path)) from None
            if not block:
                break
            blocks.append(block)
            total += len(block)
        if total > limit:
            raise error(f"{what} {path} is larger than {limit:,} bytes, more than any valid one holds",
                        hint="check that this is the file you meant", options=options)
        return b"".join(blocks)
    finally:
        os.close(fd)


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
