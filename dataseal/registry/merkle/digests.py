"""A standard-v1 tree of ``(uint256 index, bytes32 digest)`` leaves in index order, built as a stream.

This is the shape of every sealed file (one leaf per chunk) and table (one leaf per row): value
``i`` is ``(i, digest_i)``, leaves are not sorted (``sortLeaves: false``), so leaf ``i`` is value
``i``. It is the same tree as ``StandardMerkleTree.of(values, ["uint256", "bytes32"],
{sortLeaves: false})`` of @openzeppelin/merkle-tree, built without a Python object per leaf:

- while digests arrive, leaf hashes and digests go to two anonymous temporary files (the count
  is unknown until the end, and the node array's layout depends on it);
- :meth:`IndexedDigestTreeBuilder.finish` allocates the node array once (64 bytes per leaf) and
  reads the leaf hashes back into it; the digests stay on disk and are read for dumps and proofs.

So memory is ~64 bytes per leaf whatever the input size, plus buffers of a few MB.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from dataseal.errors import ErrorKind
from dataseal.registry.merkle import core
from dataseal.registry.merkle.errors import LeafEncodingError, MerkleError
from dataseal.registry.merkle.hashing import keccak_new
from dataseal.registry.merkle.tree import index_error, write_standard_dump

LEAF_ENCODING: tuple[str, str] = ("uint256", "bytes32")
_FLUSH = 1 << 21  # bytes buffered before a write to the temporary files
_READ = 32 << 15  # leaf hashes read back per block


class IndexedDigestTreeBuilder:
    """Collects digests in order; :meth:`finish` returns the tree. Use as a context manager."""

    def __init__(self, temp_dir: Path | str | None = None) -> None:
        self._leaves: IO[bytes] = tempfile.TemporaryFile(prefix="dataseal-leaves-", dir=temp_dir)
        self._digests: IO[bytes] = tempfile.TemporaryFile(prefix="dataseal-digests-", dir=temp_dir)
        self._leaf_buffer = bytearray()
        self._digest_buffer = bytearray()
        self._count = 0
        self._finished = False

    def __enter__(self) -> IndexedDigestTreeBuilder:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._finished:
            self.close()

    def __len__(self) -> int:
        return self._count

    def add(self, digest: bytes) -> int:
        """Append the next digest (32 bytes); returns its index."""
        if len(digest) != 32:
            raise LeafEncodingError(f"a digest is 32 bytes, got {len(digest)}",
                                    hint="give the 32-byte hash of the data")
        new = keccak_new
        index = self._count
        self._leaf_buffer += new(new(index.to_bytes(32, "big") + digest).digest()).digest()
        self._digest_buffer += digest
        self._count = index + 1
        if len(self._digest_buffer) >= _FLUSH:
            self._flush()
        return index

    def add_many(self, digests: bytes) -> None:
        """Append several digests given as one concatenated byte string."""
        new = keccak_new
        first = self._count
        count = len(digests) // 32
        if count * 32 != len(digests):
            raise LeafEncodingError(
                f"{len(digests)} bytes of digests are not a whole number of 32-byte values",
                hint="give whole 32-byte digests, concatenated",
            )
        view = memoryview(digests)
        self._leaf_buffer += b"".join(
            [new(new(i.to_bytes(32, "big") + view[32 * (i - first) : 32 * (i - first) + 32]).digest()).digest()
             for i in range(first, first + count)]
        )
        self._digest_buffer += digests
        self._count += count
        if len(self._digest_buffer) >= _FLUSH:
            self._flush()

    def finish(self, progress: core.NodeProgress | None = None) -> IndexedDigestTree:
        """Build the node array; the builder is spent afterwards."""
        if self._count == 0:
            self.close()
            raise LeafEncodingError("cannot build a Merkle tree of no digests", hint="add at least one digest first")
        self._flush()
        self._digests.flush()  # read back with os.pread, below Python's buffer
        n = self._count
        nodes = core.allocate(n)
        self._leaves.seek(0)
        first = 0
        while first < n:
            block = self._leaves.read(_READ)
            if not block:
                raise _ended_early("leaf hashes")  # pragma: no cover - our own temporary file
            core.place_leaves(nodes, n, first, block)
            first += len(block) // 32
        self._leaves.close()
        core.fill_inner_nodes(nodes, n, progress)
        self._finished = True
        return IndexedDigestTree(nodes, n, self._digests)

    def close(self) -> None:
        self._leaves.close()
        self._digests.close()

    def _flush(self) -> None:
        self._leaves.write(self._leaf_buffer)
        self._digests.write(self._digest_buffer)
        self._leaf_buffer.clear()
        self._digest_buffer.clear()


class IndexedDigestTree:
    """The built tree: node array in memory, digests in a temporary file. Close it (or use ``with``)."""

    leaf_encoding: tuple[str, ...] = LEAF_ENCODING

    def __init__(self, nodes: bytearray, leaf_count: int, digests: IO[bytes]) -> None:
        self._nodes = nodes
        self._count = leaf_count
        self._digests = digests

    def __enter__(self) -> IndexedDigestTree:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._digests.close()

    def __len__(self) -> int:
        return self._count

    @property
    def root(self) -> bytes:
        return core.node_at(self._nodes, 0)

    @property
    def root_hex(self) -> str:
        return "0x" + self.root.hex()

    @property
    def nodes(self) -> bytes:
        return bytes(self._nodes)

    def digest(self, index: int) -> bytes:
        self._check_index(index)
        data = os.pread(self._digests.fileno(), 32, 32 * index)
        if len(data) != 32:
            raise _ended_early("digests")  # pragma: no cover - our own temporary file
        return data

    def at(self, index: int) -> tuple[Any, ...]:
        """Value ``index``: ``(index, digest)``."""
        return (index, self.digest(index))

    def tree_index(self, index: int) -> int:
        self._check_index(index)
        return core.leaf_tree_index(self._count, index)

    def get_proof(self, index: int) -> list[bytes]:
        return core.get_proof(self._nodes, self.tree_index(index))

    def iter_digest_blocks(self) -> Iterator[bytes]:
        """The digests in order, as blocks of concatenated 32-byte values."""
        offset = 0
        fd = self._digests.fileno()
        while offset < 32 * self._count:
            block = os.pread(fd, min(_READ, 32 * self._count - offset), offset)
            if not block:
                raise _ended_early("digests")  # pragma: no cover - our own temporary file
            yield block
            offset += len(block)

    def iter_digests(self) -> Iterator[bytes]:
        for block in self.iter_digest_blocks():
            for o in range(0, len(block), 32):
                yield block[o : o + 32]

    def write_dump(self, out: IO[str], progress: core.NodeProgress | None = None) -> None:
        """Stream the standard-v1 dump (same as :meth:`StandardMerkleTree.write_dump`)."""
        write_standard_dump(out, self.leaf_encoding, self._nodes, self._value_entries(), progress)

    def _value_entries(self) -> Iterator[str]:
        last = 2 * self._count - 2
        i = 0
        for block in self.iter_digest_blocks():
            text = block.hex()
            for o in range(0, len(text), 64):
                yield f'{{"value":["{i}","0x{text[o : o + 64]}"],"treeIndex":{last - i}}}'
                i += 1

    def _check_index(self, index: int) -> None:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < self._count:
            raise index_error("leaf", index, self._count)


def _ended_early(what: str) -> MerkleError:
    return MerkleError(f"the temporary file of {what} ended early",
                       hint="try again; if it happens again, report it as a bug in dataseal", kind=ErrorKind.INTERNAL)
