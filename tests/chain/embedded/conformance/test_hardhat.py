"""web3.py's provider conformance classes against a hardhat node: the same fixtures as for
`dataseal node`, a baseline that tells the node's gaps from what web3.py assumes of geth alone."""
from __future__ import annotations

import pytest
from web3._utils.module_testing import EthModuleTest, NetModuleTest, Web3ModuleTest

from tests.chain.embedded.conformance.expectations import CLIENT_SIDE, HARDHAT, NOT_APPLICABLE
from tests.chain.embedded.conformance.fixture_blocks import FixtureBlocksTest
from tests.chain.embedded.conformance.nodes import Node

pytestmark = pytest.mark.hardhat
EXPECTATIONS = {**NOT_APPLICABLE, **CLIENT_SIDE, **HARDHAT}


@pytest.fixture(scope="module")
def node(hardhat_conformance_node: Node) -> Node:
    return hardhat_conformance_node


class TestWeb3(Web3ModuleTest):
    def _check_web3_client_version(self, client_version: str) -> None:  # type: ignore[override]
        assert client_version.startswith("HardhatNetwork/")


class TestEth(EthModuleTest):
    pass


class TestNet(NetModuleTest):
    pass


class TestFixtureBlocks(FixtureBlocksTest):
    pass
