"""Verification as pure functions: compute a root from a proof, then compare.

``compute_*`` return the root a proof leads to; ``verify_*`` return None or raise
:class:`ProofError` whose message shows the expected and the computed root.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dataseal.registry.merkle import core
from dataseal.registry.merkle.abi import encode_sequence, normalize_values, parse_encoding
from dataseal.registry.merkle.errors import ProofError
from dataseal.registry.merkle.hashing import keccak256, standard_leaf_hash
from dataseal.registry.merkle.tree import MultiProof, parse_hash

_WHOLE_HASH = "check that the hash was copied whole"


def to_hash(value: bytes | str, what: str = "hash") -> bytes:
    """A 32-byte hash from bytes or 0x-hex; :class:`ProofError` naming ``what`` when it is not one."""
    if type(value) is bytes and len(value) == 32:
        return value
    if isinstance(value, (bytes, bytearray)):
        if len(value) == 32:
            return bytes(value)
        raise ProofError(f"{what} is {len(value)} bytes; expected a 32-byte hash", hint=_WHOLE_HASH)
    return parse_hash(value, what, ProofError, hint=_WHOLE_HASH)


def to_proof(proof: Sequence[bytes | str], what: str = "proof") -> list[bytes]:
    """A list of 32-byte sibling hashes from bytes or 0x-hex strings."""
    if isinstance(proof, (str, bytes)) or not isinstance(proof, Sequence):
        raise ProofError(f"{what} is {type(proof).__name__}; expected a list of 32-byte hashes (0x + 64 hex digits)",
                         hint="give the proof's sibling hashes as a list, from the leaf up")
    return [to_hash(p, f"{what}[{i}]") for i, p in enumerate(proof)]


def compute_leaf_hash(leaf_encoding: Sequence[str], value: Sequence[Any]) -> bytes:
    """The standard-v1 leaf hash of ``value``: keccak256(keccak256(abi.encode(value)))."""
    types = parse_encoding(leaf_encoding)
    return standard_leaf_hash(encode_sequence(types, normalize_values(types, value)))


def compute_values_hash(leaf_encoding: Sequence[str], value: Sequence[Any]) -> bytes:
    """keccak256(abi.encode(value)), the hash that the leaf hash hashes once more: what
    ``AssetRegistry.verifyBatchMember`` takes, so that the contract computes the leaf itself and an
    inner node (64 bytes, hashed once) can never pass as a member."""
    types = parse_encoding(leaf_encoding)
    return keccak256(encode_sequence(types, normalize_values(types, value)))


def compute_root(leaf: bytes | str, proof: Sequence[bytes | str]) -> bytes:
    """The root that ``proof`` leads to from the leaf hash ``leaf``."""
    return core.process_proof(to_hash(leaf, "leaf"), to_proof(proof))


def verify_proof(root: bytes | str, leaf: bytes | str, proof: Sequence[bytes | str]) -> None:
    """Check that ``proof`` leads from the leaf hash ``leaf`` to ``root``; :class:`ProofError` if not."""
    expected = to_hash(root, "root")
    leaf_hash = to_hash(leaf, "leaf")
    computed = core.process_proof(leaf_hash, to_proof(proof))
    if computed != expected:
        raise ProofError(
            f"Merkle proof does not lead to the expected root: expected 0x{expected.hex()}, computed "
            f"0x{computed.hex()} from leaf 0x{leaf_hash.hex()} and {len(proof)} proof hashes; the value or "
            "the proof was altered, or the proof belongs to another tree",
            hint="get a fresh proof from the sealed data",
            expected=expected,
            computed=computed,
        )


def verify_value(
    root: bytes | str, leaf_encoding: Sequence[str], value: Sequence[Any], proof: Sequence[bytes | str]
) -> None:
    """Check that ``value`` (encoded with ``leaf_encoding``) is a member of the tree with ``root``."""
    verify_proof(root, compute_leaf_hash(leaf_encoding, value), proof)


def compute_multiproof_root(
    leaves: Sequence[bytes | str], proof: Sequence[bytes | str], proof_flags: Sequence[bool]
) -> bytes:
    """The root a multiproof over leaf hashes leads to; :class:`ProofError` when it is malformed."""
    wrong = next((i for i, f in enumerate(proof_flags) if not isinstance(f, bool)), None)
    if wrong is not None:
        raise ProofError(f"multiproof flags must be true or false; flag {wrong} is {proof_flags[wrong]!r:.40}",
                         hint="give the multiproof's flags as booleans, as getMultiProof returns them")
    return core.process_multiproof(
        [to_hash(leaf, f"leaves[{i}]") for i, leaf in enumerate(leaves)], to_proof(proof), list(proof_flags)
    )


def verify_multiproof(root: bytes | str, leaf_encoding: Sequence[str], multiproof: MultiProof) -> None:
    """Check that every value of ``multiproof`` is a member of the tree with ``root``."""
    expected = to_hash(root, "root")
    leaves = [compute_leaf_hash(leaf_encoding, v) for v in multiproof.leaves]
    computed = compute_multiproof_root(leaves, multiproof.proof, multiproof.proof_flags)
    if computed != expected:
        raise ProofError(
            f"Merkle multiproof does not lead to the expected root: expected 0x{expected.hex()}, computed "
            f"0x{computed.hex()} from {len(leaves)} leaves and {len(multiproof.proof)} proof hashes; a value or "
            "the proof was altered, or the proof belongs to another tree",
            hint="get a fresh multiproof from the sealed data",
            expected=expected,
            computed=computed,
        )
