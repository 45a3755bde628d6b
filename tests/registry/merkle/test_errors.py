"""Errors of the Merkle package: one family under DatasealError; a ProofError keeps both roots."""

from __future__ import annotations

from dataseal.errors import DatasealError, ErrorKind
from dataseal.registry.merkle import LeafEncodingError, MerkleError, ProofError, TreeDumpError


def test_every_merkle_error_is_a_dataseal_error_of_invalid_input() -> None:
    for error in (MerkleError, LeafEncodingError, ProofError, TreeDumpError):
        assert issubclass(error, DatasealError) and error.kind is ErrorKind.INVALID_INPUT


def test_a_proof_error_keeps_its_roots_beside_a_hint_options_and_kind() -> None:
    error = ProofError("wrong root", hint="get a fresh proof", options=("root",), expected=b"\1" * 32, computed=None)
    assert (str(error), error.options, error.expected, error.computed) == (
        "wrong root: get a fresh proof", ("root",), b"\1" * 32, None
    )
    assert ProofError("x", kind=ErrorKind.INTERNAL).kind is ErrorKind.INTERNAL
