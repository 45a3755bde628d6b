"""What some of web3.py's tests check, over the fixture's own blocks: their queries start at block 0,
and a `dataseal node` chain holds the product's contracts from its first start (blocks 1 to 3, with
their logs) before anything the fixture sends. Also eth_createAccessList, which web3.py tests only
in a test that then needs the node to sign.

Run against both nodes (each test module subclasses :class:`FixtureBlocksTest`).
"""
from __future__ import annotations

from typing import Any

import pytest
from eth_typing import ChecksumAddress, HexStr
from eth_utils import is_checksum_address, is_same_address
from web3 import Web3
from web3._utils.module_testing.eth_module import UNKNOWN_ADDRESS
from web3._utils.module_testing.module_testing_utils import assert_contains_log
from web3.contract import Contract
from web3.exceptions import Web3RPCError
from web3.types import BlockData


class FixtureBlocksTest:
    def test_get_logs_over_the_fixture_blocks(
        self, w3: Web3, first_fixture_block: int, block_with_txn_with_log: BlockData,
        emitter_contract_address: Any, txn_hash_with_log: HexStr,
    ) -> None:
        # web3.py's test_eth_get_logs_with_logs, from the fixture's first block instead of block 0
        for params in ({"fromBlock": first_fixture_block},
                       {"fromBlock": first_fixture_block, "address": emitter_contract_address}):
            assert_contains_log(w3.eth.get_logs(params), block_with_txn_with_log,  # type: ignore[arg-type]
                                emitter_contract_address, txn_hash_with_log)

    def test_get_logs_over_fixture_blocks_without_logs(
        self, w3: Web3, first_fixture_block: int, block_with_txn_with_log: BlockData
    ) -> None:
        # web3.py's test_eth_get_logs_without_logs, from the fixture's first block instead of block 0
        before_the_log = {"fromBlock": first_fixture_block, "toBlock": block_with_txn_with_log["number"] - 1}
        assert w3.eth.get_logs(before_the_log) == []  # type: ignore[arg-type]
        assert w3.eth.get_logs({"fromBlock": first_fixture_block, "address": UNKNOWN_ADDRESS}) == []  # type: ignore
        assert w3.eth.get_logs(
            {"fromBlock": first_fixture_block, "address": [UNKNOWN_ADDRESS, UNKNOWN_ADDRESS]}  # type: ignore
        ) == []

    def test_get_logs_with_a_reversed_range_is_an_error(self, w3: Web3, block_with_txn_with_log: BlockData) -> None:
        # the part of web3.py's test_eth_get_logs_without_logs that does not depend on earlier blocks
        number = block_with_txn_with_log["number"]
        with pytest.raises(Web3RPCError):
            w3.eth.get_logs({"fromBlock": number, "toBlock": number - 1})  # type: ignore[typeddict-item]

    def test_get_logs_with_none_topic_args_over_the_fixture_blocks(self, w3: Web3, first_fixture_block: int) -> None:
        # web3.py's test_eth_get_logs_with_logs_none_topic_args, from the fixture's first block: its only log
        # has 2 topics, so three positions (even wildcards) match nothing
        assert w3.eth.get_logs({"fromBlock": first_fixture_block, "topics": [None, None, None]}) == []  # type: ignore

    def test_create_access_list(
        self, w3: Web3, keyfile_account_address: ChecksumAddress, math_contract: Contract
    ) -> None:
        # web3.py's test_eth_create_access_list, without the eth_sendTransaction it ends with
        txn = math_contract.functions.incrementCounter(1).build_transaction({"from": keyfile_account_address})
        response = w3.eth.create_access_list(txn)
        access_list = response["accessList"]
        assert len(access_list) > 0
        assert is_checksum_address(access_list[0]["address"])
        assert is_same_address(access_list[0]["address"], math_contract.address)
        assert len(access_list[0]["storageKeys"][0]) == 66
        assert int(response["gasUsed"]) > 0
