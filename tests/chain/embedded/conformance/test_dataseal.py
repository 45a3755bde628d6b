"""web3.py's provider conformance classes against a `dataseal node` process."""
from __future__ import annotations

import pytest
from web3._utils.module_testing import EthModuleTest, NetModuleTest, Web3ModuleTest

from tests.chain.embedded.conformance.expectations import CLIENT_SIDE, DATASEAL, NOT_APPLICABLE
from tests.chain.embedded.conformance.fixture_blocks import FixtureBlocksTest
from tests.chain.embedded.conformance.nodes import Node

EXPECTATIONS = {**NOT_APPLICABLE, **CLIENT_SIDE, **DATASEAL}


@pytest.fixture(scope="module")
def node(dataseal_conformance_node: Node) -> Node:
    return dataseal_conformance_node


class TestWeb3(Web3ModuleTest):
    def _check_web3_client_version(self, client_version: str) -> None:  # type: ignore[override]
        assert client_version.startswith("dataseal/v")


class TestEth(EthModuleTest):
    pass


class TestNet(NetModuleTest):
    pass


class TestFixtureBlocks(FixtureBlocksTest):
    pass
