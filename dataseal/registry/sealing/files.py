"""Reading files for sealing: fixed-size chunks hashed with SHA-256 on all cores, change detection.

hashlib's SHA-256 (OpenSSL, SHA extensions when the CPU has them) releases the GIL on large
buffers, and so does reading, so worker threads read and hash chunks in parallel. Memory stays
constant whatever the chunk size: each worker reads its chunk through one reused buffer of at
most 8 MiB, and at most ``2 × workers`` chunks are in flight.

A file is *changed while being read* when its size, modification time or status-change time
(ctime: it moves on every write, even when the modification time is set back) moves between the
start and the end of the read, when more (or fewer) bytes come than its size announced, or when
the path now names another file. Sealing then fails rather than sealing a mixture.
"""
from __future__ import annotations

import errno
import hashlib
import os
import stat
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from dataseal.errors import ErrorKind
from dataseal.registry.sealing.errors import EmptyInputError, InputChangedError, SealError, UnreadableInputError
from dataseal.registry.sealing.options import DEFAULT_CHUNK_SIZE, MAX_FILE_CHUNKS, check_chunk_size

#: Called as ``progress(phase, done, total)``; ``total`` is None when unknown. Phases: "hash" (bytes),
#: "rows" (bytes of the table read), "tree" (inner nodes), "write" (nodes written).
ProgressCallback = Callable[[str, int, int | None], None]

_READ_BLOCK = 1 << 20  # whole-file hashing (folder members) reads this much at a time
_HASH_BLOCK = 8 << 20  # a chunk is read and hashed in blocks of at most this many bytes
_NOTHING_WRITING = "try again when nothing is writing to it"
_FOLDER_STILL = "try again when nothing is changing the folder"


def default_workers() -> int:
    """Threads that hash: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class FileIdentity:
    """What must not move while a file is read."""

    device: int
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileIdentity:
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def open_regular(path: Path) -> tuple[int, FileIdentity]:
    """Open ``path`` for reading (never following a final symlink into a non-file) and stat it."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below); no effect on files.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise UnreadableInputError(f"{path} does not exist", hint="check the path", kind=ErrorKind.NOT_FOUND) from None
    except IsADirectoryError:
        raise _is_a_folder(path) from None
    except OSError as exc:
        raise _cannot_open(path, exc) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise _is_a_folder(path)
        if not stat.S_ISREG(st.st_mode):
            raise UnreadableInputError(
                f"{path} is not a regular file (it is a {file_kind(st.st_mode)}); only regular files are sealed",
                hint="copy what it holds into a regular file, and seal that",
            )
    except BaseException:
        os.close(fd)
        raise
    return fd, FileIdentity.of(st)


def check_unchanged(path: Path, fd: int, before: FileIdentity, bytes_read: int) -> None:
    """:class:`InputChangedError` when the file moved since ``before`` (see module doc)."""
    after = FileIdentity.of(os.fstat(fd))
    try:
        extra = os.pread(fd, 1, bytes_read)
    except OSError:
        extra = b""
    try:
        now = FileIdentity.of(os.stat(path))
    except OSError:
        raise InputChangedError(f"{path} was deleted or moved while it was being read",
                                hint="try again when nothing is moving or deleting it") from None
    if (now.device, now.inode) != (before.device, before.inode):
        raise InputChangedError(f"{path} was replaced by another file while it was being read",
                                hint="try again when nothing is replacing it")
    if after.size != before.size or bytes_read != before.size or extra:
        raise _changed(path, before.size, after.size if after.size != before.size else bytes_read + len(extra))
    if after.mtime_ns != before.mtime_ns:
        raise InputChangedError(
            f"{path} changed while it was being read: its modification time moved during the read",
            hint=_NOTHING_WRITING,
        )
    if after.ctime_ns != before.ctime_ns:
        raise InputChangedError(
            f"{path} changed while it was being read: its status-change time (ctime) moved during the read, so it "
            "was written to or its metadata changed (even if its modification time was set back)",
            hint="try again when nothing is touching it",
        )


@dataclass(frozen=True)
class ChunkDigests:
    """SHA-256 of each chunk of a file, in order."""

    size: int
    chunk_size: int
    digests: list[bytes]


def hash_chunks(
    path: Path,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    *,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> ChunkDigests:
    """SHA-256 of every ``chunk_size`` bytes of ``path`` (the last chunk may be shorter).

    Each worker thread reads its chunk (``preadv``, GIL released) into its own buffer, in blocks of
    at most 8 MiB, and hashes each block while it is still in that core's cache; at most
    ``2 × workers`` chunks are in flight.
    """
    check_chunk_size(chunk_size)
    path = Path(path)
    fd, before = open_regular(path)
    try:
        if before.size == 0:
            raise EmptyInputError(
                f"{path} is empty (0 bytes): there is nothing to seal, a tree needs at least one leaf",
                hint="check that this is the file you meant",
            )
        threads = workers or default_workers()
        chunks = -(-before.size // chunk_size)  # the size at the start decides; growth is caught at the end
        if chunks > MAX_FILE_CHUNKS:
            smallest = -(-before.size // MAX_FILE_CHUNKS)
            raise SealError(
                f"{path} is {before.size:,} bytes: in chunks of {chunk_size:,} bytes that is {chunks:,} chunks, more "
                f"than the {MAX_FILE_CHUNKS:,} a sealed file may have",
                hint=f"use a chunk size of at least {smallest:,} bytes",
                options=("chunk_size",),
            )
        local = threading.local()

        def read_and_hash(index: int) -> tuple[int, bytes]:
            buffer = getattr(local, "buffer", None)
            if buffer is None:
                buffer = local.buffer = bytearray(min(chunk_size, _HASH_BLOCK))
            offset = index * chunk_size
            want = min(chunk_size, before.size - offset)
            digest = hashlib.sha256()
            got = 0
            with memoryview(buffer) as whole:
                while got < want:
                    block = min(len(buffer), want - got)
                    read = _read_full(fd, whole[:block], offset + got, path)
                    with whole[:read] as data:
                        digest.update(data)
                    got += read
                    if read < block:
                        break  # the file ended early: the caller reports it shrank
            return got, digest.digest()

        pending: deque[Future[tuple[int, bytes]]] = deque()
        digests: list[bytes] = []
        done = 0
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="dataseal-sha256") as pool:
            try:
                for index in range(chunks + 1):
                    if index < chunks:
                        pending.append(pool.submit(read_and_hash, index))
                    while pending and (len(pending) > 2 * threads or index == chunks):
                        got, digest = pending.popleft().result()
                        done += got
                        if got < min(chunk_size, before.size - chunk_size * len(digests)):
                            raise _changed(path, before.size, os.fstat(fd).st_size)  # the file shrank
                        digests.append(digest)
                        if progress is not None:
                            progress("hash", done, before.size)
            finally:
                for future in pending:
                    future.cancel()
        check_unchanged(path, fd, before, done)
        return ChunkDigests(size=done, chunk_size=chunk_size, digests=digests)
    finally:
        os.close(fd)


class ChunkStreamHasher:
    """SHA-256 of every ``chunk_size`` bytes of data that arrives in pieces of any size (an upload), as
    :func:`hash_chunks` hashes a file: only the running hash of the current chunk and the finished digests
    (32 bytes a chunk) are kept, never the data. :meth:`update` with each piece, then :meth:`finish`."""

    def __init__(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        check_chunk_size(chunk_size)
        self.chunk_size = chunk_size
        self.size = 0
        self._digests: list[bytes] = []
        self._current = hashlib.sha256()
        self._in_current = 0

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """Hash the next piece of the data; :class:`SealError` once the data has more chunks than a sealed file may."""
        with memoryview(data).cast("B") as view:
            if self.size + len(view) > MAX_FILE_CHUNKS * self.chunk_size:
                raise SealError(
                    f"the data is more than {MAX_FILE_CHUNKS * self.chunk_size:,} bytes: in chunks of "
                    f"{self.chunk_size:,} bytes that is more than the {MAX_FILE_CHUNKS:,} chunks a sealed file "
                    "may have",
                    hint="use a larger chunk size (the one the data was sealed with)",
                    options=("chunk_size",),
                )
            offset = 0
            while offset < len(view):
                take = min(self.chunk_size - self._in_current, len(view) - offset)
                with view[offset : offset + take] as piece:
                    self._current.update(piece)
                offset += take
                self._in_current += take
                if self._in_current == self.chunk_size:
                    self._end_chunk()
            self.size += len(view)

    def finish(self) -> ChunkDigests:
        """The digests of all chunks (the last one may be shorter); :class:`EmptyInputError` for no data."""
        if self._in_current:
            self._end_chunk()
        if self.size == 0:
            raise EmptyInputError("the data is empty (0 bytes): there is nothing to verify, a tree needs at least "
                                  "one leaf", hint="send the file's bytes")
        return ChunkDigests(size=self.size, chunk_size=self.chunk_size, digests=list(self._digests))

    def _end_chunk(self) -> None:
        self._digests.append(self._current.digest())
        self._current = hashlib.sha256()
        self._in_current = 0


def hash_whole(path: Path, *, follow_symlinks: bool = False) -> tuple[int, bytes]:
    """Size and SHA-256 of a whole regular file, with change detection."""
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
    flags |= 0 if follow_symlinks else getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise InputChangedError(f"{path} was deleted while the folder was being read", hint=_FOLDER_STILL) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputChangedError(f"{path} became a symlink while the folder was read", hint=_FOLDER_STILL) from None
        raise _cannot_open(path, exc) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputChangedError(
                f"{path} is no longer a regular file (now a {file_kind(st.st_mode)})", hint=_FOLDER_STILL
            )
        before = FileIdentity.of(st)
        digest = hashlib.sha256()
        buffer = bytearray(_READ_BLOCK)
        view = memoryview(buffer)
        offset = 0
        while True:
            got = _read_full(fd, buffer, offset, path)
            if got == 0:
                break
            digest.update(view[:got])
            offset += got
        check_unchanged(path, fd, before, offset)
        return offset, digest.digest()
    finally:
        os.close(fd)


def _is_a_folder(path: Path) -> UnreadableInputError:
    return UnreadableInputError(f"{path} is a folder", hint="seal it as a folder (one leaf per file), not as a file")


def _cannot_open(path: Path, exc: OSError) -> UnreadableInputError:
    if isinstance(exc, PermissionError):
        return UnreadableInputError(
            f"cannot read {path}: permission denied", hint="run as a user who can read it, or fix its permissions"
        )
    return UnreadableInputError(f"cannot open {path}: {exc.strerror or exc}",
                                hint="check that the path names a regular file that you can read")


def _changed(path: Path, size_before: int, size_now: int) -> InputChangedError:
    return InputChangedError(
        f"{path} changed while it was being read: its size was {size_before} bytes when the read began, "
        f"{size_now} bytes at the end",
        hint=_NOTHING_WRITING,
    )


def _read_full(fd: int, buffer: bytearray | memoryview, offset: int, path: Path) -> int:
    """Fill ``buffer`` from ``offset`` (fewer bytes only at the end of the file)."""
    view = memoryview(buffer)
    got = 0
    try:
        while got < len(view):
            n = os.preadv(fd, [view[got:]], offset + got)
            if n == 0:
                break
            got += n
    except OSError as exc:
        raise UnreadableInputError(
            f"reading {path} failed at byte {offset + got}: {exc.strerror or exc}",
            hint="check the disk or the network share it is on, and try again",
            kind=None if isinstance(exc, PermissionError) else ErrorKind.UNAVAILABLE,
        ) from None
    finally:
        view.release()
    return got


def file_kind(mode: int) -> str:
    """What a file of ``st_mode`` ``mode`` is, in the words of stat(1): the kind named in messages and in the
    manifest's list of skipped entries ("folder", "symlink", "device", "fifo", "socket", "special file")."""
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"
