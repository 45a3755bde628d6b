"""Connecting to real chains: what the node says about itself, over http and WebSocket."""
from __future__ import annotations

import pytest

from dataseal.chain.connection import ChainInfo, connect
from tests.chain.conftest import Backend


def test_connect_reads_what_the_node_is(backend: Backend) -> None:
    info = backend.node.info()
    assert isinstance(info, ChainInfo)
    assert info.chain_id == backend.w3.eth.chain_id == backend.node.chain_id
    assert info.client_version and info.client_version != "unknown"
    latest = backend.w3.eth.get_block("latest")
    assert (info.latest_block, info.latest_block_time) == (latest["number"], latest["timestamp"])
    assert info.base_fee is not None  # both are EIP-1559 chains
    if backend.name == "hardhat":
        assert info.chain_id == 31337 and info.client_version.startswith("HardhatNetwork")
    else:
        assert info.chain_id != 31337  # the embedded chain has an id of its own


@pytest.mark.hardhat
def test_websocket_url_works_like_http(hardhat_url: str) -> None:
    ws_url = hardhat_url.replace("http://", "ws://")
    with connect(ws_url) as node:
        assert node.chain_id == 31337
        assert node.info().latest_block >= 0
        # a transaction and its receipt over the same socket
        funder = node.w3.eth.accounts[8]
        tx_hash = node.w3.eth.send_transaction({"from": funder, "to": funder, "value": 1})
        assert node.w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1
