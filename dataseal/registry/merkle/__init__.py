"""OpenZeppelin StandardMerkleTree ("standard-v1") compatible Merkle trees and proofs.

Self-contained: it depends on hashing only (safe-pysha3 or pycryptodome) and on
:mod:`dataseal.errors` for the error base class, so it can be used without the rest of dataseal.

- :class:`StandardMerkleTree` builds, dumps and loads trees (same root, proofs, multiproofs and
  dump as @openzeppelin/merkle-tree 1.0.8 for the same values, leaf encoding and options);
- ``compute_*`` / ``verify_*`` are pure functions over roots, leaves and proofs;
- :mod:`dataseal.registry.merkle.core` is the flat node-buffer layer that large trees are built with.
"""
from dataseal.registry.merkle.abi import AbiType, parse_encoding, parse_type, to_checksum_address
from dataseal.registry.merkle.errors import LeafEncodingError, MerkleError, ProofError, TreeDumpError
from dataseal.registry.merkle.hashing import KECCAK_BINDING, keccak256, standard_leaf_hash, standard_node_hash
from dataseal.registry.merkle.tree import STANDARD_V1, MultiProof, StandardMerkleTree, write_standard_dump
from dataseal.registry.merkle.verify import (
    compute_leaf_hash,
    compute_multiproof_root,
    compute_root,
    compute_values_hash,
    to_hash,
    to_proof,
    verify_multiproof,
    verify_proof,
    verify_value,
)

__all__ = [
    "KECCAK_BINDING",
    "STANDARD_V1",
    "AbiType",
    "LeafEncodingError",
    "MerkleError",
    "MultiProof",
    "ProofError",
    "StandardMerkleTree",
    "TreeDumpError",
    "compute_leaf_hash",
    "compute_multiproof_root",
    "compute_root",
    "compute_values_hash",
    "keccak256",
    "parse_encoding",
    "parse_type",
    "standard_leaf_hash",
    "standard_node_hash",
    "to_checksum_address",
    "to_hash",
    "to_proof",
    "verify_multiproof",
    "verify_proof",
    "verify_value",
    "write_standard_dump",
]
