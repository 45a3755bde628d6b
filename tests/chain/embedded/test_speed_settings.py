"""A setting `dataseal node` changes for the embedded chain's speed: the interpreter's switch interval.

(It tests :mod:`dataseal.chain.node.start`, so it belongs in tests/chain/node/test_start.py; the
keccak backend's tests are in tests/chain/embedded/interpreter/test_keccak.py.)"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dataseal.chain.node.start import SERVING_SWITCH_INTERVAL, EmbeddedNode, NodeConfig


def test_a_serving_node_shortens_the_switch_interval_until_it_stops(tmp_path: Path) -> None:
    before = sys.getswitchinterval()
    node = EmbeddedNode.start(NodeConfig(data_dir=tmp_path / "data", port=0, light_kdf=True))
    try:
        node.start_serving()
        assert sys.getswitchinterval() == pytest.approx(min(before, SERVING_SWITCH_INTERVAL))
    finally:
        node.stop()
    assert sys.getswitchinterval() == pytest.approx(before)
