"""What the conformance suite expects of each node, test by test, where that is not "passes".

A test module sets ``EXPECTATIONS`` (test name → mark; conftest.py applies them), from these tables:

- ``NOT_APPLICABLE``: the test needs the node to hold a key (eth_sendTransaction, eth_sign, ...); the
  dataseal node holds none, by design. Skipped, on hardhat too: it holds its own accounts, not the
  keyfile account web3.py's geth fixture unlocks, and the two runs compare like with like.
- ``CLIENT_SIDE``: fails in web3.py itself, whatever the node; strict, so it shows when it passes.
- ``DATASEAL`` and ``HARDHAT``: each node's failures, every one explained, all strict: a gap of the
  node ("issue 9: ..."), or a legitimate difference from geth that web3.py's tests assume. A fixed
  gap XPASSes, which fails the run until its mark is removed.

A full name (with parameters) marks that case only; a function's name marks all its cases.
"""
from __future__ import annotations

from typing import Any

import pytest
from web3.exceptions import ContractLogicError, MethodUnavailable, Web3RPCError

NO_KEYS = "the node holds no keys, by design"


def _not_applicable(needs: str) -> Any:
    return pytest.mark.skip(reason=f"not applicable: needs {needs}; {NO_KEYS}")


def _strict(reason: str, raises: type[BaseException] | tuple[type[BaseException], ...]) -> Any:
    """Expected to fail with ``raises`` (failing with anything else is a failure), and to go on failing."""
    return pytest.mark.xfail(strict=True, raises=raises, reason=reason)


_SEND = "eth_sendTransaction from the keyfile account (the node signs)"
_SIGN_TX = "eth_signTransaction (the node signs)"
NOT_APPLICABLE: dict[str, Any] = {
    "test_eth_accounts": _not_applicable("eth_accounts to list node-held accounts"),
    "test_eth_create_access_list": _not_applicable(
        f"{_SEND} once the access list is made (eth_createAccessList itself: FixtureBlocksTest.test_create_access_list)"
    ),
    "test_eth_sign": _not_applicable("eth_sign"),
    "test_eth_sign_ens_names": _not_applicable("eth_sign"),
    "test_eth_sign_typed_data": _not_applicable("eth_signTypedData"),
    "test_invalid_eth_sign_typed_data": _not_applicable("eth_signTypedData"),
    "test_eth_sign_transaction_legacy": _not_applicable(_SIGN_TX),
    "test_eth_sign_transaction": _not_applicable(_SIGN_TX),
    "test_eth_sign_transaction_hex_fees": _not_applicable(_SIGN_TX),
    "test_eth_sign_transaction_ens_names": _not_applicable(_SIGN_TX),
    **{name: _not_applicable(_SEND) for name in (
        "test_eth_send_transaction_legacy",
        "test_eth_send_transaction",
        "test_eth_send_transaction_with_nonce",
        "test_eth_send_transaction_default_fees",
        "test_eth_send_transaction_hex_fees",
        "test_eth_send_transaction_no_gas",
        "test_eth_send_transaction_no_max_fee",
        "test_gas_price_from_strategy_bypassed_for_dynamic_fee_txn",
        "test_gas_price_strategy_hex_value",
        "test_eth_replace_transaction_legacy",
        "test_eth_replace_transaction",
        "test_eth_replace_transaction_underpriced",
        "test_eth_replace_transaction_already_mined",
        "test_eth_replace_transaction_incorrect_nonce",
        "test_eth_replace_transaction_gas_price_too_low",
        "test_eth_replace_transaction_gas_price_defaulting_minimum",
        "test_eth_replace_transaction_gas_price_defaulting_strategy_higher",
        "test_eth_replace_transaction_gas_price_defaulting_strategy_lower",
        "test_eth_modify_transaction_legacy",
        "test_eth_modify_transaction",
        "test_eth_get_transaction_receipt_unmined",
        "test_eth_wait_for_transaction_receipt_unmined",
        "test_eth_call_old_contract_state",
        "test_eth_get_raw_transaction_by_block",
    )},
    "test_sign_authorization_send_raw_and_send_set_code_transactions": _not_applicable(
        f"{_SEND} to reset the delegation its raw transaction sets (stopped there, it leaves the keyfile account "
        "delegated to the math contract, and value sent to it reverts in later tests)"
    ),
}

_ENS = _strict(
    "client side, not the node: web3 8.0.0's ENS name normalization fails under pyunormalize 18.0.0 "
    "(AttributeError: 'list' object has no attribute 'isascii') before any request is sent",
    AttributeError,
)
CLIENT_SIDE: dict[str, Any] = {
    "test_solidity_keccak_ens": _ENS,
    "test_eth_get_balance_with_ens_name": _ENS,
    "test_eth_get_storage_at_ens_name": _ENS,
    "test_eth_get_transaction_count_ens_name": _ENS,
    "test_eth_get_code_ens_address": _ENS,
}


_OWN_LOGS = ("`dataseal node` deploys dataseal's three contracts at its first start (blocks 1 to 3), and their "
             "logs come before any the fixture makes; web3.py's geth fixture chain has none before its emitter's")
DATASEAL: dict[str, Any] = {
    # methods geth answers (hardhat 2.29 answers none of these either)
    "test_eth_get_raw_transaction": _strict(
        "issue 9: eth_getRawTransactionByHash is missing (-32601); geth answers the transaction's signed bytes",
        MethodUnavailable,
    ),
    "test_eth_get_raw_transaction_raises_error": _strict(
        "issue 9: eth_getRawTransactionByHash is missing (-32601); geth answers null for an unknown hash",
        MethodUnavailable,
    ),
    "test_eth_get_raw_transaction_by_block_raises_error": _strict(
        "issue 9: eth_getRawTransactionByBlockNumberAndIndex and eth_getRawTransactionByBlockHashAndIndex are missing "
        "(-32601); geth answers null for an unknown block",
        MethodUnavailable,
    ),
    "test_eth_simulate_v1": _strict(
        "issue 9: eth_simulateV1 is missing (-32601); geth answers it (web3.py runs this test on geth 1.16.7)",
        MethodUnavailable,
    ),
    "test_create_access_list": _strict(
        "issue 9: eth_createAccessList is missing (-32601); geth answers the access list and the gas used",
        MethodUnavailable,
    ),
    # what web3.py's tests assume of geth's fixture and node
    "test_eth_get_logs_with_logs": _strict(
        f"differs from geth's fixture: {_OWN_LOGS}; so the first log from block 0 is not the emitter's "
        "(FixtureBlocksTest.test_get_logs_over_the_fixture_blocks checks from the fixture's first block)",
        AssertionError,
    ),
    "test_eth_get_logs_without_logs": _strict(
        f"differs from geth's fixture: {_OWN_LOGS}; so blocks 0 to the one before the emitter's log hold logs "
        "(FixtureBlocksTest checks the same queries from the fixture's first block)",
        AssertionError,
    ),
    "test_eth_get_logs_with_logs_none_topic_args": _strict(
        f"differs from geth's fixture: {_OWN_LOGS}, and one of them has 4 topics, which topics [null, null, "
        "null] from block 0 rightly match. The gap this test also shows (issue 9: [null, null, null] returns "
        "logs of 2 topics) is marked on FixtureBlocksTest.test_get_logs_with_none_topic_args_over_the_fixture_blocks",
        AssertionError,
    ),
    "test_eth_getBlockByHash_pending": _strict(
        "differs from geth: \"pending\" is the latest block on this node (a documented deviation, see "
        "dataseal/chain/embedded/rpc.py), so it has a hash; geth answers the block being built, hash null",
        AssertionError,
    ),
    "test_eth_getBlockByNumber_pending": _strict(
        "differs from geth: \"pending\" is the latest block on this node (a documented deviation, see "
        "dataseal/chain/embedded/rpc.py), so its number is the latest's; geth answers the block being built, "
        "latest + 1",
        AssertionError,
    ),
}


def _hardhat(what: str, raises: type[BaseException]) -> Any:
    return _strict(f"hardhat 2.29: {what}", raises)


_REVERT_DATA = ("a revert's error has data as an object ({message, data}) instead of geth's hex string, so web3 "
                "raises a plain ContractLogicError and decodes no custom error, panic code or OffchainLookup")
_HARDHAT_REVERT_DATA = _hardhat(_REVERT_DATA, ContractLogicError)
_HARDHAT_REVERT_MESSAGE = _hardhat(
    "a revert's message is \"Error: VM Exception while processing transaction: reverted with reason string "
    "'...'\", not geth's \"execution reverted: ...\"",
    AssertionError,
)
_HARDHAT_BLOCK_RECEIPTS = _hardhat("eth_getBlockReceipts is not supported (-32004)", Web3RPCError)
_HARDHAT_REVERSED_RANGE = _hardhat("eth_getLogs with fromBlock after toBlock answers [] (geth: an error)",
                                   pytest.fail.Exception)
HARDHAT: dict[str, Any] = {
    "test_eth_get_balance_with_block_identifier": _hardhat(
        "the genesis block's miner (0x0) is not the later blocks' coinbase (0xc014ba5e...), so its balance "
        "never changes",
        AssertionError,
    ),
    "test_eth_call_revert_with_msg": _HARDHAT_REVERT_MESSAGE,
    "test_eth_estimate_gas_revert_with_msg": _HARDHAT_REVERT_MESSAGE,
    **{name: _HARDHAT_REVERT_DATA for name in (
        "test_eth_call_custom_error_revert_with_msg",
        "test_eth_call_custom_error_revert_without_msg",
        "test_eth_estimate_gas_custom_error_revert_with_msg",
        "test_eth_estimate_gas_custom_error_revert_without_msg",
        "test_contract_panic_errors",
        "test_eth_call_offchain_lookup",
        "test_eth_call_offchain_lookup_raises_when_ccip_read_is_disabled",
        "test_eth_call_offchain_lookup_call_flag_overrides_provider_flag",
        "test_eth_call_offchain_lookup_raises_for_improperly_formatted_rest_request_response",
        "test_eth_call_offchain_lookup_tries_next_url_for_non_4xx_error_status_and_tests_POST",
        "test_eth_call_offchain_lookup_raises_when_all_supplied_urls_fail",
        "test_eth_call_continuous_offchain_lookup_raises_with_too_many_requests",
    )},
    # (the ContractLogicError does not match the HTTP error it expects)
    "test_eth_call_offchain_lookup_calls_raise_for_status_for_4xx_status_code": _hardhat(_REVERT_DATA, AssertionError),
    "test_eth_estimate_gas_with_override_param_type_check": _hardhat(
        "eth_estimateGas takes no state override: \"trailing characters at line 1 column 102\"",
        ContractLogicError,
    ),
    "test_eth_getBlockByHash_pending": _hardhat("the \"pending\" block has a hash (geth: null)", AssertionError),
    "test_eth_getBlockByNumber_pending": _hardhat(
        "the \"pending\" block's number is null (geth: latest + 1)", AssertionError
    ),
    "test_eth_getBlockReceipts_hash": _HARDHAT_BLOCK_RECEIPTS,
    "test_eth_getBlockReceipts_not_found": _HARDHAT_BLOCK_RECEIPTS,
    "test_eth_getBlockReceipts_with_integer": _HARDHAT_BLOCK_RECEIPTS,
    "test_eth_getBlockReceipts_safe": _HARDHAT_BLOCK_RECEIPTS,
    "test_eth_getBlockReceipts_finalized": _HARDHAT_BLOCK_RECEIPTS,
    "test_eth_get_logs_without_logs": _HARDHAT_REVERSED_RANGE,
    "test_get_logs_with_a_reversed_range_is_an_error": _HARDHAT_REVERSED_RANGE,
    "test_eth_get_raw_transaction": _hardhat(
        "eth_getRawTransactionByHash is not supported (-32004)", Web3RPCError
    ),
    "test_eth_get_raw_transaction_raises_error": _hardhat(
        "eth_getRawTransactionByHash is not supported (-32004)", Web3RPCError
    ),
    "test_eth_get_raw_transaction_by_block_raises_error": _hardhat(
        "eth_getRawTransactionByBlockNumberAndIndex and ...ByBlockHashAndIndex are not supported (-32004)",
        Web3RPCError,
    ),
    "test_eth_simulate_v1": _hardhat("eth_simulateV1 is not supported (-32004)", Web3RPCError),
    "test_create_access_list": _hardhat("eth_createAccessList is not supported (-32004)", Web3RPCError),
}
