"""web3 on the embedded chain, in-process and over HTTP: the same code, the same answers."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_utils import keccak
from web3 import Web3

from dataseal.chain.contracts.deploy import deploy_contracts
from dataseal.chain.contracts.deployed import DatasealContracts
from dataseal.chain.contracts.records import AssetRecord, AssetTransfer, GrantRecord, Registration, UsageRecord
from dataseal.chain.embedded.chain import EmbeddedChain
from dataseal.chain.embedded.defaults import DEFAULT_CHAIN_ID
from dataseal.chain.embedded.provider import EmbeddedProvider
from dataseal.chain.embedded.rpc import RpcDispatcher
from dataseal.chain.embedded.server import RpcServer
from dataseal.chain.errors import ContractRevert
from dataseal.chain.sending.sender import LocalSender
from tests.chain.embedded.conftest import Funded


@pytest.fixture
def http_url(auto_chain: EmbeddedChain) -> Iterator[str]:
    server = RpcServer(RpcDispatcher(auto_chain), "127.0.0.1", 0)
    server.start()
    try:
        yield server.url
    finally:
        server.shutdown()


@pytest.fixture(params=["in-process", "http"])
def w3(request: pytest.FixtureRequest, auto_chain: EmbeddedChain) -> Web3:
    if request.param == "in-process":
        return Web3(EmbeddedProvider(auto_chain))
    return Web3(Web3.HTTPProvider(request.getfixturevalue("http_url")))


def test_deploy_register_grant_and_decode(w3: Web3, keys: Funded) -> None:
    assert w3.is_connected() and w3.eth.chain_id == DEFAULT_CHAIN_ID
    operator, user = LocalSender(keys.alice), LocalSender(keys.bob)
    deployment = deploy_contracts(w3, operator)
    as_operator = DatasealContracts.bind(w3, deployment, operator)
    as_user = DatasealContracts.bind(w3, deployment, user)
    assert w3.eth.get_code(deployment.asset_registry)

    root = keccak(text="dataset v1")
    registration = Registration(root, keccak(text="m"), rights_type=1, classification=0)
    submitted = as_operator.registry.submit_register(registration)
    submitted.wait()
    assert submitted.receipt is not None
    assert [type(r) for r in as_operator.decoder.decode_receipt(submitted.receipt)] == [AssetTransfer, AssetRecord]
    sent = w3.eth.get_transaction(submitted.receipt["transactionHash"])
    assert sent["type"] == 2 and sent["maxFeePerGas"] >= sent["maxPriorityFeePerGas"] > 0  # EIP-1559 fees
    assert as_operator.registry.asset_id_of(root) == 1

    with pytest.raises(ContractRevert, match=r"AssetAlreadyRegistered\(contentRoot=0x.*assetId=1\)"):
        as_operator.registry.register(registration)

    now = w3.eth.get_block("latest")["timestamp"]
    granted = as_operator.grants.grant(1, user.address, keccak(text="research"), now - 10, now + 3600, 100)
    assert isinstance(granted, GrantRecord)
    assert isinstance(as_user.ledger.record_usage(1, 30, keccak(text="job")), UsageRecord)

    logs = w3.eth.get_logs({"fromBlock": 0, "address": deployment.asset_registry})
    registered = as_operator.registry.contract.events.AssetRegistered().process_log(logs[-1])
    assert len(logs) == 3 and all(log["removed"] is False for log in logs)  # RoleGranted, Transfer, AssetRegistered
    assert registered["args"]["contentRoot"] == root
    history = w3.eth.fee_history(2, "latest", [50])
    assert len(history["baseFeePerGas"]) == 3 and len(history["reward"]) == 2


def test_batch_requests(w3: Web3) -> None:
    with w3.batch_requests() as batch:
        batch.add(w3.eth.get_block(0))
        batch.add(w3.eth.get_balance("0x" + "00" * 20))
        answers = batch.execute()
    assert answers[0]["number"] == 0 and answers[1] == 0


def test_in_process_and_http_answer_the_same(auto_chain: EmbeddedChain, http_url: str, keys: Funded) -> None:
    local = Web3(EmbeddedProvider(auto_chain))
    remote = Web3(Web3.HTTPProvider(http_url))
    deployment = deploy_contracts(local, LocalSender(keys.alice))
    receipt = local.eth.get_transaction_receipt(
        local.eth.get_block(deployment.deploy_block, full_transactions=True)["transactions"][0]["hash"]
    )
    tx_hash = receipt["transactionHash"]
    for ask in (
        lambda w: w.eth.get_block(deployment.deploy_block, full_transactions=True),
        lambda w: w.eth.get_transaction(tx_hash),
        lambda w: w.eth.get_transaction_receipt(tx_hash),
        lambda w: w.eth.get_logs({"fromBlock": 0}),
        lambda w: w.eth.fee_history(3, "latest", [10, 90]),
        lambda w: w.eth.get_balance(keys.alice.address),
        lambda w: w.eth.get_transaction_count(keys.alice.address, "pending"),
    ):
        assert ask(local) == ask(remote)
