"""A Merkle tree stored compactly on disk, ~32 bytes a leaf, that serves a proof of any leaf from the file alone.

The node buffer of :mod:`dataseal.registry.merkle.core` holds ``2n - 1`` nodes (64 bytes a leaf); the
standard-v1 JSON dump more (a 10M-leaf tree is 2.4 GB of JSON). A stored tree keeps the leaves and only
the top of the inner nodes, and recomputes the rest of a proof from the leaves when it is asked for:

- a 64-byte header: ``b"DSTREE"``, the format version (``>H``), the leaf count ``n`` (``>Q``), the cut
  depth ``c`` (``>H``), 14 zero bytes, the root (32 bytes);
- the inner nodes of depth ``<= c``: heap indices ``0 .. min(2^(c+1) - 1, n - 1) - 1`` (core's layout:
  node ``t`` has children ``2t + 1`` and ``2t + 2``; 32 bytes each);
- the ``n`` leaf hashes in leaf order (leaf ``i`` is node ``2n - 2 - i``; 32 bytes each).

The writer picks ``c`` so that a node below the cut (depth ``c + 1``) has at most 256 leaves under it
(:func:`cut_depth`): the top holds fewer than ``n / 128`` nodes, under a quarter of a byte a leaf, and a
proof recomputes one subtree of at most 512 leaves (~511 hashes, well under a millisecond) whatever ``n``.
A reader accepts any cut depth from 0 to the tree's height.

The file is written beside its target and renamed over it (fsync of the file and of the folder), so a
reader sees the old tree or the new one, never half of one. It is read through a read-only mmap: opening
checks the header and the file's length against it and reads nothing else, so a proof at 10M leaves
costs a few page reads. The OpenZeppelin dump stays the export format (:func:`tree.write_standard_dump`).
"""
from __future__ import annotations

import mmap
import os
import secrets
import stat
import struct
from pathlib import Path
from types import TracebackType

from dataseal.errors import ErrorKind
from dataseal.registry.merkle.core import leaf_tree_index, node_count
from dataseal.registry.merkle.errors import StoredTreeError
from dataseal.registry.merkle.hashing import keccak_new
from dataseal.registry.merkle.tree import index_error

MAGIC = b"DSTREE"
FORMAT_VERSION = 1
#: Leaves under one node below the cut, at most (a power of two).
SUBTREE_LEAVES = 256

_HEADER = struct.Struct(">6sHQH14x32s")  # magic, version, leaf count, cut depth, padding, root: 64 bytes
_WRITE_BLOCK = 1 << 15  # leaves reordered and written per block
_REWRITE = "write the tree again from its leaves"


def depth_of(t: int) -> int:
    """Depth of heap node ``t`` (the root is at depth 0)."""
    return (t + 1).bit_length() - 1


def cut_depth(leaf_count: int) -> int:
    """The cut depth the writer uses: the least ``c`` such that a node of depth ``c + 1`` has at most
    :data:`SUBTREE_LEAVES` leaves under it."""
    height = depth_of(node_count(leaf_count) - 1)
    return max(0, height - SUBTREE_LEAVES.bit_length())  # 2^(height - c - 1) <= 256


def top_count(leaf_count: int, cut: int) -> int:
    """How many inner nodes a stored tree of ``leaf_count`` leaves cut at depth ``cut`` keeps (the top)."""
    return min((1 << (cut + 1)) - 1, leaf_count - 1)


def stored_size(leaf_count: int, cut: int) -> int:
    """Size in bytes of a stored tree file."""
    return _HEADER.size + 32 * (top_count(leaf_count, cut) + leaf_count)


def write_stored_tree(path: str | os.PathLike[str], nodes: bytes | bytearray, leaf_count: int) -> None:
    """Store the tree whose node buffer (:func:`core.build`) is ``nodes`` at ``path``, replacing any file there.

    Written to a temporary file beside ``path``, fsynced, renamed over it, and the folder fsynced.
    """
    if isinstance(leaf_count, bool) or not isinstance(leaf_count, int) or leaf_count < 1:
        raise StoredTreeError(f"cannot store a tree of {leaf_count!r} leaves", hint="give at least one leaf")
    if len(nodes) != 32 * node_count(leaf_count):
        raise StoredTreeError(
            f"a node buffer of {len(nodes):,} bytes is not a tree of {leaf_count:,} leaves "
            f"({32 * node_count(leaf_count):,} bytes)",
            hint="give the node buffer built from these leaves, with their count",
        )
    n = leaf_count
    cut = cut_depth(n)
    view = memoryview(nodes)
    target = Path(path)
    temp = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(_HEADER.pack(MAGIC, FORMAT_VERSION, n, cut, bytes(view[0:32])))
            out.write(view[: 32 * top_count(n, cut)])
            for first in range(0, n, _WRITE_BLOCK):
                last = min(first + _WRITE_BLOCK, n)  # leaves [first, last) are nodes (2n-2-last, 2n-2-first]
                block = bytes(view[32 * (2 * n - 1 - last) : 32 * (2 * n - 1 - first)])
                out.write(b"".join([block[o : o + 32] for o in range(len(block) - 32, -1, -32)]))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
    folder = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


class StoredTree:
    """A stored tree opened read-only (:meth:`open`); a context manager that closes its mapping."""

    def __init__(self, path: Path, data: mmap.mmap, leaf_count: int, cut: int, root: bytes) -> None:
        self.path = path
        self.leaf_count = leaf_count
        self.cut_depth = cut
        self.root = root
        self._data = data
        self._top = top_count(leaf_count, cut)
        self._leaves_at = _HEADER.size + 32 * self._top

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> StoredTree:
        """Map the stored tree at ``path``; :class:`StoredTreeError` when it is not one, or is truncated or
        inconsistent with its header."""
        where = Path(path)
        try:
            fd = os.open(where, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            raise StoredTreeError(f"no stored tree at {where}: the file does not exist",
                                  hint="give the path of a stored tree file", kind=ErrorKind.NOT_FOUND) from None
        except OSError as error:
            raise StoredTreeError(f"cannot open stored tree {where}: {error.strerror}",
                                  hint="give the path of a readable stored tree file") from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise StoredTreeError(f"{where} is not a stored tree: it is not a regular file",
                                      hint="give the path of a stored tree file")
            header = os.pread(fd, _HEADER.size, 0)
            leaf_count, cut, root = _check_header(where, header, st.st_size)
            data = mmap.mmap(fd, st.st_size, access=mmap.ACCESS_READ)
        finally:
            os.close(fd)
        tree = cls(where, data, leaf_count, cut, root)
        stored_root = tree._read_top(0) if tree._top else tree._read_leaf(0)
        if stored_root != root:
            tree.close()
            raise StoredTreeError(
                f"stored tree {where} is inconsistent: its header names root 0x{root.hex()} but its top node is "
                f"0x{stored_root.hex()}",
                hint=_REWRITE,
            )
        return tree

    def close(self) -> None:
        self._data.close()

    def __enter__(self) -> StoredTree:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def leaf(self, index: int) -> bytes:
        """The hash of leaf ``index`` (in leaf order)."""
        self._check_index("leaf", index, self.leaf_count)
        return self._read_leaf(index)

    def node(self, t: int) -> bytes:
        """Node ``t`` of core's layout: read when stored, else recomputed from the leaves under it."""
        self._check_index("node", t, node_count(self.leaf_count))
        if t < self._top:
            return self._read_top(t)
        if t >= self.leaf_count - 1:
            return self._read_leaf(2 * self.leaf_count - 2 - t)
        return self._subtree(t)[0][:32]

    def proof(self, index: int) -> list[bytes]:
        """Proof of leaf ``index``: equal to ``core.get_proof(nodes, leaf_tree_index(n, index))``."""
        self._check_index("leaf", index, self.leaf_count)
        n = self.leaf_count
        t = leaf_tree_index(n, index)
        levels: list[bytes] = []
        anchor = 0
        if depth_of(t) > self.cut_depth:  # siblings below the cut: all in the subtree of t's ancestor at the cut
            anchor = t
            while depth_of(anchor) > self.cut_depth:
                anchor = (anchor - 1) // 2
            levels = self._subtree(anchor)
        anchor_depth = depth_of(anchor)
        proof: list[bytes] = []
        while t > 0:
            s = t - 1 if t % 2 == 0 else t + 1
            if s < self._top:
                proof.append(self._read_top(s))
            elif s >= n - 1:
                proof.append(self._read_leaf(2 * n - 2 - s))
            else:
                j = depth_of(s) - anchor_depth
                offset = 32 * (s - (((anchor + 1) << j) - 1))
                proof.append(levels[j][offset : offset + 32])
            t = (t - 1) // 2
        return proof

    # ------------------------------------------------------------------ internals

    def _check_index(self, what: str, index: int, count: int) -> None:
        if self._data.closed:
            raise StoredTreeError(f"stored tree {self.path} is closed", hint="open it again to read from it")
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
            raise index_error(what, index, count)

    def _read_top(self, t: int) -> bytes:
        at = _HEADER.size + 32 * t
        return self._data[at : at + 32]

    def _read_leaf(self, i: int) -> bytes:
        at = self._leaves_at + 32 * i
        return self._data[at : at + 32]

    def _subtree(self, s: int) -> list[bytes]:
        """Every node of the subtree under node ``s``, level by level from ``s`` down: level ``j`` holds
        the nodes ``[(s + 1) 2^j - 1, ...)`` that exist, concatenated in index order."""
        n = self.leaf_count
        end = node_count(n)
        ranges: list[tuple[int, int]] = []
        low, width = s, 1
        while low < end:
            ranges.append((low, min(low + width, end)))
            low, width = 2 * low + 1, 2 * width
        new = keccak_new
        levels = [b""] * len(ranges)
        below = b""
        for j in range(len(ranges) - 1, -1, -1):
            low, high = ranges[j]
            inner = min(high, n - 1)  # [low, inner) are inner nodes, [max(low, n - 1), high) leaves
            parts: list[bytes] = []
            if inner > low:  # their children are the first 2 (inner - low) nodes of the level below
                parts = [new(p if p < p[32:] else p[32:] + p[:32]).digest()
                         for p in [below[o : o + 64] for o in range(0, 64 * (inner - low), 64)]]
            first_leaf = max(low, n - 1)
            if high > first_leaf:  # nodes [first_leaf, high) are leaves 2n-2-t, stored in reverse order
                at = self._leaves_at + 32 * (2 * n - 1 - high)
                block = self._data[at : at + 32 * (high - first_leaf)]
                parts.extend([block[o : o + 32] for o in range(len(block) - 32, -1, -32)])
            below = levels[j] = b"".join(parts)
        return levels


def _check_header(where: Path, header: bytes, size: int) -> tuple[int, int, bytes]:
    """The leaf count, cut depth and root of a stored tree file of ``size`` bytes starting with ``header``."""
    if len(header) < len(MAGIC) or header[: len(MAGIC)] != MAGIC:
        raise StoredTreeError(f"{where} is not a stored tree: it does not start with {MAGIC!r}",
                              hint="give the path of a stored tree file")
    if len(header) < _HEADER.size:
        raise StoredTreeError(
            f"stored tree {where} is truncated: {size} bytes, shorter than its {_HEADER.size}-byte header",
            hint=_REWRITE,
        )
    _magic, version, leaf_count, cut, root = _HEADER.unpack(header)
    if version != FORMAT_VERSION:
        raise StoredTreeError(
            f"stored tree {where} is of format version {version}; this dataseal reads version {FORMAT_VERSION}",
            hint="read it with the dataseal that wrote it, or write the tree again from its leaves",
        )
    if leaf_count < 1:
        raise StoredTreeError(f"stored tree {where} is inconsistent: its header says it has no leaves",
                              hint=_REWRITE)
    height = depth_of(node_count(leaf_count) - 1)
    if cut > height:
        raise StoredTreeError(
            f"stored tree {where} is inconsistent: cut depth {cut} is below the bottom of a tree of "
            f"{leaf_count:,} leaves (height {height})",
            hint=_REWRITE,
        )
    expected = stored_size(leaf_count, cut)
    if size < expected:
        raise StoredTreeError(
            f"stored tree {where} is truncated: {size:,} bytes, but a tree of {leaf_count:,} leaves cut at depth "
            f"{cut} takes {expected:,}",
            hint=_REWRITE,
        )
    if size > expected:
        raise StoredTreeError(
            f"stored tree {where} is inconsistent: {size:,} bytes, but a tree of {leaf_count:,} leaves cut at "
            f"depth {cut} takes {expected:,} ({size - expected:,} bytes follow its last leaf)",
            hint=_REWRITE,
        )
    return leaf_count, cut, root
