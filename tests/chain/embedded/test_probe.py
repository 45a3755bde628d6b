"""A first start that died before the genesis commit leaves a file with tables but no chain:
the next start must create the chain (and fund the operator), and other commands must not
mistake the file for a chain."""
from __future__ import annotations

from pathlib import Path

import pytest

from dataseal.chain.connection.connection import open_embedded_provider
from dataseal.chain.embedded.probe import has_chain
from dataseal.chain.embedded.store import ChainStore
from dataseal.chain.node.start import EmbeddedNode, NodeConfig
from dataseal.errors import ConfigError


def half_created(data_dir: Path) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    file = data_dir / "chain.sqlite"
    ChainStore(file).close()  # the tables exist; no genesis was committed
    return file


def test_a_file_without_genesis_is_not_a_chain(tmp_path: Path) -> None:
    file = half_created(tmp_path / "data")
    assert file.stat().st_size > 0
    assert not has_chain(file)
    assert not has_chain(tmp_path / "missing.sqlite")
    (tmp_path / "junk.sqlite").write_bytes(b"not sqlite at all")
    assert not has_chain(tmp_path / "junk.sqlite")


def test_status_refuses_a_half_created_chain(tmp_path: Path) -> None:
    half_created(tmp_path / "data")
    with pytest.raises(ConfigError, match="no embedded chain in .*: start the embedded node in this data folder"):
        open_embedded_provider(tmp_path / "data")
    assert not has_chain(tmp_path / "data" / "chain.sqlite")  # and it wrote no genesis of its own


def test_the_next_start_creates_the_chain_and_funds_the_operator(tmp_path: Path) -> None:
    data = tmp_path / "data"
    file = half_created(data)
    node = EmbeddedNode.start(NodeConfig(data_dir=data, port=0, light_kdf=True))
    try:
        assert has_chain(file)
        startup = node.startup
        assert startup.deployment.asset_registry  # deployed: the operator had funds
    finally:
        node.stop()
