"""The keccak256 backend of eth-hash (py-evm's and web3's hash), switched to a native one."""
from __future__ import annotations

import os


def use_native_keccak() -> str:
    """Have eth-hash — py-evm's and web3's keccak256 — use safe-pysha3's C function; the backend's name.

    eth-hash picks pycryptodome first when both are installed, whose ctypes call costs ~5 µs and
    releases the GIL on every hash (py-evm hashes ~60 times per transaction: tries, storage keys,
    blooms); safe-pysha3 costs under 1 µs and computes the same digest. An explicit
    ``ETH_HASH_BACKEND`` is left alone, as is a missing safe-pysha3. Process-wide and idempotent,
    so it is not part of the fast/stock switch: every chain in the process shares it.
    """
    if os.environ.get("ETH_HASH_BACKEND"):
        return os.environ["ETH_HASH_BACKEND"]
    try:
        from eth_hash.backends import pysha3
    except ImportError:  # pragma: no cover - safe-pysha3 is a dependency
        return "auto"
    from eth_hash.auto import keccak

    backend = pysha3.backend
    if backend.keccak256(b"") != bytes.fromhex("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"):
        return "auto"  # pragma: no cover - a broken build: keep eth-hash's own choice
    keccak.hasher = backend.keccak256  # type: ignore[assignment]
    keccak.preimage = backend.preimage  # type: ignore[assignment]
    return "pysha3"
