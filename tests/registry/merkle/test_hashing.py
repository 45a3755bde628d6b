"""keccak-256 as Ethereum computes it (not NIST SHA-3)."""

from __future__ import annotations

from dataseal.registry.merkle import keccak256


def test_keccak256_is_ethereum_keccak_not_nist_sha3() -> None:
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
