"""keccak256 and the two hashes of OpenZeppelin's StandardMerkleTree ("standard-v1").

- leaf hash: ``keccak256(keccak256(abi.encode(values)))`` (double hashing, so that a leaf can
  never be mistaken for an inner node of 64 bytes);
- node hash: ``keccak256(min(a, b) ‖ max(a, b))`` (sorted pairs, as in OpenZeppelin's
  ``MerkleProof.sol``), so a proof is a plain list of siblings without left/right flags.

The binding is chosen once at import: ``sha3.keccak_256`` from safe-pysha3 (a C extension)
when installed, else pycryptodome, 5-8× slower per call on 64-byte inputs (``scripts/bench/seal.py``
measures the bindings installed here).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

KECCAK_BINDING: str
_new: Callable[[bytes], Any]

try:
    import sha3 as _pysha3

    _new = _pysha3.keccak_256
    KECCAK_BINDING = "safe-pysha3"
except ImportError:  # pragma: no cover - exercised only where safe-pysha3 is missing
    from Crypto.Hash import keccak as _cryptodome_keccak

    def _cryptodome_new(data: bytes = b"") -> Any:
        return _cryptodome_keccak.new(data=data, digest_bits=256)

    _new = _cryptodome_new
    KECCAK_BINDING = "pycryptodome"

#: Constructor of a keccak-256 hash object (``new(data).digest()``); the hot loops use it directly.
keccak_new: Callable[[bytes], Any] = _new


def keccak256(data: bytes | bytearray | memoryview) -> bytes:
    """The 32-byte keccak-256 digest of ``data`` (Ethereum's hash, not NIST SHA3-256)."""
    return bytes(_new(data).digest())


def standard_leaf_hash(encoded: bytes | bytearray | memoryview) -> bytes:
    """Leaf hash of an ABI-encoded value: ``keccak256(keccak256(encoded))``."""
    return bytes(_new(_new(encoded).digest()).digest())


def standard_node_hash(a: bytes, b: bytes) -> bytes:
    """Inner node hash of two children: keccak256 of the pair, smaller first."""
    return bytes(_new(a + b if a <= b else b + a).digest())
