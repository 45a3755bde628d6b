"""Errors of the Merkle package, all under :class:`dataseal.errors.DatasealError`.

Messages say what failed, what was expected and what was found, and what to do next.
"""
from __future__ import annotations

from dataseal.errors import DatasealError, ErrorKind


class MerkleError(DatasealError):
    """A Merkle tree, proof or leaf value is wrong."""


class LeafEncodingError(MerkleError):
    """A leaf value does not fit the tree's leaf encoding (ABI types), or the encoding is invalid."""


class ProofError(MerkleError):
    """A proof is malformed, or it does not lead to the expected root.

    ``expected`` and ``computed`` hold the two roots when the failure is a mismatch (else None).
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str = "",
        options: tuple[str, ...] = (),
        kind: ErrorKind | None = None,
        expected: bytes | None = None,
        computed: bytes | None = None,
    ) -> None:
        super().__init__(message, hint=hint, options=options, kind=kind)
        self.expected = expected
        self.computed = computed


class TreeDumpError(MerkleError):
    """A tree dump (standard-v1 JSON) is of an unknown format, truncated, or inconsistent."""


class StoredTreeError(MerkleError):
    """A stored tree file (:mod:`dataseal.registry.merkle.stored`) is not one, is of an unknown version, or is
    truncated or inconsistent with its header."""
