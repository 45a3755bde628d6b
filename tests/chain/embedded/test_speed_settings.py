"""Settings the embedded chain changes for speed: eth-hash's keccak backend, the node's switch interval."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from eth_hash.auto import keccak
from eth_hash.backends import pycryptodome

from dataseal.chain.embedded.vm import use_native_keccak
from dataseal.chain.node.start import SERVING_SWITCH_INTERVAL, EmbeddedNode, NodeConfig


def test_the_native_keccak_gives_the_same_digests() -> None:
    assert use_native_keccak() == "pysha3"
    for data in (b"", b"\x00", b"dataseal", bytes(range(256)) * 40):
        assert keccak(data) == pycryptodome.backend.keccak256(data)
        assert keccak.new(data).digest() == pycryptodome.backend.keccak256(data)


def test_an_explicit_eth_hash_backend_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETH_HASH_BACKEND", "pycryptodome")
    assert use_native_keccak() == "pycryptodome"


def test_a_serving_node_shortens_the_switch_interval_until_it_stops(tmp_path: Path) -> None:
    before = sys.getswitchinterval()
    node = EmbeddedNode.start(NodeConfig(data_dir=tmp_path / "data", port=0, light_kdf=True))
    try:
        node.start_serving()
        assert sys.getswitchinterval() == pytest.approx(min(before, SERVING_SWITCH_INTERVAL))
    finally:
        node.stop()
    assert sys.getswitchinterval() == pytest.approx(before)
