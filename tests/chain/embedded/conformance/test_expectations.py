"""The expectation tables name tests that exist: a renamed or removed test of web3.py's (an upgrade)
must not leave a mark behind that silently marks nothing."""
from __future__ import annotations

import pytest
from web3._utils.module_testing import EthModuleTest, NetModuleTest, Web3ModuleTest

from tests.chain.embedded.conformance.expectations import CLIENT_SIDE, DATASEAL, HARDHAT, NOT_APPLICABLE
from tests.chain.embedded.conformance.fixture_blocks import FixtureBlocksTest

CLASSES = (EthModuleTest, NetModuleTest, Web3ModuleTest, FixtureBlocksTest)


@pytest.mark.parametrize("table", [NOT_APPLICABLE, CLIENT_SIDE, DATASEAL, HARDHAT],
                         ids=["not-applicable", "client-side", "dataseal", "hardhat"])
def test_every_name_is_a_test_of_the_classes(table: dict[str, object]) -> None:
    unknown = [name for name in table
               if not any(callable(getattr(cls, name.split("[")[0], None)) for cls in CLASSES)]
    assert unknown == []


def test_not_applicable_is_only_for_tests_that_need_node_held_keys() -> None:
    for name, mark in NOT_APPLICABLE.items():
        assert mark.name == "skip" and mark.kwargs["reason"].endswith("the node holds no keys, by design"), name
    for table in (CLIENT_SIDE, DATASEAL, HARDHAT):
        for name, mark in table.items():
            assert mark.name == "xfail" and mark.kwargs["strict"] is True and mark.kwargs["raises"], name
