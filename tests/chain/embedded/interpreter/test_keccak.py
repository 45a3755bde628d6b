"""eth-hash's keccak backend, switched to safe-pysha3's native one (same digests)."""
from __future__ import annotations

import pytest
from eth_hash.auto import keccak
from eth_hash.backends import pycryptodome

from dataseal.chain.embedded.interpreter.keccak import use_native_keccak


def test_the_native_keccak_gives_the_same_digests() -> None:
    assert use_native_keccak() == "pysha3"
    for data in (b"", b"\x00", b"dataseal", bytes(range(256)) * 40):
        assert keccak(data) == pycryptodome.backend.keccak256(data)
        assert keccak.new(data).digest() == pycryptodome.backend.keccak256(data)


def test_an_explicit_eth_hash_backend_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETH_HASH_BACKEND", "pycryptodome")
    assert use_native_keccak() == "pycryptodome"
