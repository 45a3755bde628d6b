"""Failure behaviour: each failure is a distinct error class whose message says what to do.

Every case runs against a real hardhat node and against the embedded chain (in-process; over its
HTTP server where the failure is about a socket).
"""
from __future__ import annotations

import socket
from dataclasses import replace

import pytest
from eth._utils.address import generate_contract_address
from eth_account import Account
from eth_utils import keccak, to_canonical_address

from dataseal.chain.connection import connect
from dataseal.chain.contracts.client import wait_all, wait_all_settled
from dataseal.chain.contracts.deployed import DatasealContracts
from dataseal.chain.contracts.deployment import live_deployment, save_deployment, verify_deployment
from dataseal.chain.contracts.records import AssetRecord, Registration
from dataseal.chain.errors import (
    ChainError,
    ContractRevert,
    ContractsNotDeployed,
    InsufficientFunds,
    NodeUnreachable,
    NoEmbeddedChain,
    ReceiptTimeout,
    TransactionDropped,
    WrongChain,
)
from dataseal.chain.sending.sender import LocalSender
from dataseal.errors import ErrorKind
from tests.chain.conftest import Backend, HttpChain
from tests.chain.embedded.helpers import BOB, DRAIN_RUNTIME, init_code


def h(label: str) -> bytes:
    return keccak(text=label)


def _dead_url() -> str:
    """A loopback URL where nothing listens (the port was free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_distinct_error_classes() -> None:
    classes = [NodeUnreachable, WrongChain, ContractsNotDeployed, InsufficientFunds, ContractRevert, ReceiptTimeout,
               TransactionDropped]
    assert len(set(classes)) == len(classes)
    assert all(issubclass(c, ChainError) for c in classes)
    for a in classes:  # none is a special case of another: a handler for one never catches another
        assert not [b for b in classes if b is not a and issubclass(a, b)]


# ------------------------------------------------------------------------------------ node unreachable


def test_node_unreachable_at_connect() -> None:
    url = _dead_url()
    with pytest.raises(NodeUnreachable) as exc:
        connect(url)
    message = str(exc.value)
    assert url in message and "Connection refused" in message
    assert exc.value.hint == "start it, or check the node's URL" and exc.value.options == ("rpc_url",)
    assert exc.value.kind is ErrorKind.UNAVAILABLE


@pytest.mark.hardhat
def test_node_unreachable_when_a_transaction_is_sent(hardhat_backend: Backend) -> None:
    # a sender that worked against hardhat, pointed at a URL where the node is gone
    account = hardhat_backend.fund()
    sender = hardhat_backend.sender(account)
    sender.send(hardhat_backend.w3, {"to": account.address, "value": 1, "gas": 21_000})
    from web3 import Web3

    gone = Web3(Web3.HTTPProvider(_dead_url()))
    sender.endpoint = "the stopped node"
    with pytest.raises(NodeUnreachable, match="cannot reach the node at the stopped node"):
        sender.send(gone, {"to": account.address, "value": 1, "gas": 21_000})


def test_node_unreachable_when_the_embedded_node_stops(embedded_process: HttpChain) -> None:
    node = connect(embedded_process.url)
    sender = LocalSender(embedded_process.bank, endpoint=node.endpoint)
    assert sender.send(node.w3, {"to": sender.address, "value": 1, "gas": 21_000})["status"] == 1
    embedded_process.stop()  # the node's process is killed
    with pytest.raises(NodeUnreachable) as exc:
        node.info()
    assert embedded_process.url in str(exc.value) and "start it" in str(exc.value)
    with pytest.raises(NodeUnreachable):
        sender.send(node.w3, {"to": sender.address, "value": 1, "gas": 21_000})
    with pytest.raises(NodeUnreachable):
        connect(embedded_process.url)


def test_waiting_through_a_node_outage_names_the_transaction(embedded_process: HttpChain) -> None:
    node = connect(embedded_process.url)
    sender = LocalSender(embedded_process.bank, endpoint=node.endpoint)
    pending = sender.submit(node.w3, {"to": sender.address, "value": 1, "gas": 21_000})
    embedded_process.stop()  # the node dies while we wait: that is not a failed transaction
    with pytest.raises(NodeUnreachable) as exc:
        sender.wait(node.w3, pending, timeout=0.5)
    message = str(exc.value)
    assert f"while waiting for transaction {pending.tx_hash}" in message
    assert "may have been mined" in message and "look the transaction up by its hash" in message
    assert exc.value.options == ("rpc_url",)


def test_embedded_folder_without_a_chain(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NoEmbeddedChain, match=r"no embedded chain in .*: start the embedded node in this data "
                       r"folder, or connect to a node") as missing:
        connect(tmp_path / "empty")
    assert missing.value.options == ("data_dir", "rpc_url") and missing.value.kind is ErrorKind.NOT_FOUND


# ------------------------------------------------------------------------------------ wrong chain


def test_wrong_chain_names_which_is_which(backend: Backend) -> None:
    deployment = backend.deploy()
    other = 999_999 if backend.node.chain_id != 999_999 else 999_998
    save_deployment(backend.tmp, replace(deployment, chain_id=other))
    with pytest.raises(WrongChain) as exc:
        live_deployment(backend.node, backend.tmp)
    message = str(exc.value)
    assert f"the node at {backend.node.endpoint} is chain {backend.node.chain_id}" in message
    assert f"knows only chain {other}" in message
    assert exc.value.hint == f"connect to the node you deployed on, or deploy to chain {backend.node.chain_id}"
    with pytest.raises(WrongChain, match=f"expects chain {other}, but the node at .* is chain "
                                         f"{backend.node.chain_id}"):
        verify_deployment(backend.node, replace(deployment, chain_id=other))
    with pytest.raises(WrongChain, match=r"the configured chain id expects chain 5, but") as configured:
        connect(backend.node.w3, expected_chain_id=5)
    assert configured.value.options == ("rpc_url", "chain_id")


# ------------------------------------------------------------------------------------ not deployed


def test_contracts_not_deployed(backend: Backend) -> None:
    with pytest.raises(ContractsNotDeployed, match="no deployment record at .*: deploy the contracts to this node"):
        live_deployment(backend.node, backend.tmp)
    deployment = backend.deploy()
    # the record says there are contracts at addresses where this chain has no code (a reset chain)
    empty = Account.create().address
    save_deployment(backend.tmp, replace(deployment, grant_registry=empty))
    with pytest.raises(ContractsNotDeployed) as exc:
        live_deployment(backend.node, backend.tmp)
    message = str(exc.value)
    assert f"GrantRegistry at {empty}" in message and "AssetRegistry" not in message
    assert "has no code there" in message and "deploy the contracts again" in message


# ------------------------------------------------------------------------------------ funds


def test_insufficient_funds(backend: Backend) -> None:
    contracts = DatasealContracts.bind(backend.w3, backend.deploy(), None)
    poor = backend.sender(Account.create())  # never funded
    registry = DatasealContracts.bind(backend.w3, contracts.deployment, poor).registry
    with pytest.raises(InsufficientFunds) as exc:
        registry.register(Registration(h("unpaid"), h("m"), 1, 0))
    assert exc.value.balance == 0 and exc.value.needed and exc.value.needed > 0
    message = str(exc.value)
    assert f"account {poor.address} has 0 wei" in message and f"up to {exc.value.needed} wei" in message
    assert "fund the account" in message
    # a value transfer above the balance, from an account that has a little
    account = backend.fund(10**15)
    with pytest.raises(InsufficientFunds, match=r"has 1000000000000000 wei"):
        backend.sender(account).send(backend.w3, {"to": account.address, "value": 10**18, "gas": 21_000})


# ------------------------------------------------------------------------------------ reverts


def test_reverted_transaction_is_decoded_before_sending(backend: Backend) -> None:
    owner = backend.sender(backend.fund())
    other = backend.sender(backend.fund())
    deployment = backend.deploy()
    first = DatasealContracts.bind(backend.w3, deployment, owner).registry.register(
        Registration(h("dup"), h("m"), 1, 0))
    registry = DatasealContracts.bind(backend.w3, deployment, other).registry
    balance = backend.w3.eth.get_balance(other.address)
    with pytest.raises(ContractRevert) as exc:
        registry.register(Registration(h("dup"), h("m"), 1, 0))
    assert exc.value.name == "AssetAlreadyRegistered"
    assert exc.value.args_by_name == {"contentRoot": h("dup"), "assetId": first.asset_id}
    assert "keeps priority while its registration stands" in str(exc.value)
    assert backend.w3.eth.get_balance(other.address) == balance  # refused at estimation: nothing spent


def test_reverted_transaction_in_flight_is_decoded_from_the_chain(backend: Backend) -> None:
    owner = backend.sender(backend.fund())
    registry = DatasealContracts.bind(backend.w3, backend.deploy(), owner).registry
    registry.register(Registration(h("warm-up"), h("m"), 1, 0))  # the gas estimate that in-flight sends reuse
    first = registry.submit_register(Registration(h("twice"), h("m"), 1, 0))
    # valid when sent; reverts once the first is in
    second = registry.submit_register(Registration(h("twice"), h("m"), 1, 0))
    assert isinstance(first.wait(), AssetRecord)
    with pytest.raises(ContractRevert) as exc:
        second.wait()
    assert exc.value.name == "AssetAlreadyRegistered" and exc.value.args_by_name["assetId"] == 2
    receipt = backend.w3.eth.get_transaction_receipt(second.tx_hash)
    assert receipt["status"] == 0  # it was mined and reverted on chain
    # a burst with one bad apple: every result in place, the failure as its decoded error
    burst = [registry.submit_register(Registration(h(f"burst-{i}"), h("m"), 1, 0)) for i in range(3)]
    burst.insert(1, registry.submit_register(Registration(h("burst-0"), h("m"), 1, 0)))
    settled = wait_all_settled(burst)
    assert [type(r).__name__ for r in settled] == ["AssetRecord", "ContractRevert", "AssetRecord", "AssetRecord"]
    assert isinstance(settled[1], ContractRevert) and settled[1].args_by_name["assetId"] == settled[0].asset_id
    with pytest.raises(ContractRevert, match="AssetAlreadyRegistered"):
        wait_all([registry.submit_register(Registration(h("burst-1"), h("m"), 1, 0))])


# ------------------------------------------------------------------------------------ timeouts, drops


def test_receipt_timeout_then_the_same_transaction_is_mined(backend: Backend) -> None:
    with backend.paused() as paused:
        sender = LocalSender(paused.account, endpoint=paused.node.endpoint, receipt_timeout=0.3)
        pending = sender.submit(paused.node.w3, {"to": sender.address, "value": 1, "gas": 21_000})
        with pytest.raises(ReceiptTimeout) as exc:
            sender.wait(paused.node.w3, pending)
        message = str(exc.value)
        assert pending.tx_hash in message and "after 0.3 s" in message
        assert "still pending in the node's pool" in message and "is the node mining" in message
        assert exc.value.options == ("receipt_timeout",)
        paused.mine()
        receipt = sender.wait(paused.node.w3, pending)
        assert receipt["status"] == 1 and pending.rebroadcasts == 0


@pytest.mark.hardhat
def test_a_dropped_transaction_is_sent_again(hardhat_backend: Backend) -> None:
    with hardhat_backend.paused() as paused:
        w3 = paused.node.w3
        sender = LocalSender(paused.account, endpoint=paused.node.endpoint, drop_check_after=0.0, receipt_timeout=5)
        pending = sender.submit(w3, {"to": sender.address, "value": 1, "gas": 21_000})
        assert w3.provider.make_request("hardhat_dropTransaction", [pending.tx_hash])["result"] is True  # type: ignore[arg-type]
        with pytest.raises(ReceiptTimeout):  # re-sent, but nothing mines it yet
            sender.wait(w3, pending, timeout=0.2)
        assert pending.rebroadcasts >= 1
        assert w3.eth.get_transaction(pending.tx_hash)["nonce"] == pending.nonce  # back in the pool
        paused.mine()
        assert sender.wait(w3, pending)["status"] == 1


def test_a_transaction_dropped_for_good_is_an_error(embedded_backend: Backend) -> None:
    # embedded chain only: it drops, when it builds a block, a queued transaction that became unaffordable;
    # hardhat leaves such a transaction queued (seen: evm_mine then mined neither), so there is nothing to detect.
    # Admission counts a sender's pending transactions against its balance, so only what runs before it in
    # the block makes one unaffordable: here the account is delegated (EIP-7702) to code that gives its
    # balance away when called, and its first transaction calls it.
    with embedded_backend.paused() as paused:
        w3, key = paused.node.w3, paused.account
        fees = {"chainId": w3.eth.chain_id, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9, "value": 0}
        w3.eth.send_raw_transaction(key.sign_transaction(
            {**fees, "nonce": 0, "gas": 200_000, "data": init_code(DRAIN_RUNTIME)}).raw_transaction)
        drain = generate_contract_address(to_canonical_address(key.address), 0)
        authorization = key.sign_authorization({"chainId": fees["chainId"], "address": drain, "nonce": 2})
        w3.eth.send_raw_transaction(key.sign_transaction(
            {**fees, "type": 4, "nonce": 1, "to": BOB, "gas": 100_000, "authorizationList": [authorization]}
        ).raw_transaction)
        paused.mine()
        sender = LocalSender(key, endpoint=paused.node.endpoint, drop_check_after=0.0, receipt_timeout=5)
        balance = w3.eth.get_balance(sender.address)
        first = sender.submit(w3, {"to": sender.address, "value": 0, "gas": 100_000})  # drains the account
        second = sender.submit(w3, {"to": Account.create().address, "value": balance // 10, "gas": 21_000})
        paused.mine()
        assert sender.wait(w3, first)["status"] == 1
        with pytest.raises(TransactionDropped) as exc:
            sender.wait(w3, second)
        assert second.tx_hash in str(exc.value) and "insufficient funds" in str(exc.value)


# ------------------------------------------------------------------------------------ confirmations


def test_confirmations_on_the_embedded_chain_need_no_blocks_on_top(embedded_backend: Backend) -> None:
    # one block producer, no reorganisations: a receipt is final as mined. Idle mining makes no block on
    # top of the last one by itself, so waiting for one would last until the timeout.
    w3 = embedded_backend.w3
    sender = embedded_backend.sender(embedded_backend.fund(), confirmations=3, receipt_timeout=5)
    assert sender.confirmations_needed(w3) == 0
    receipt = sender.send(w3, {"to": sender.address, "value": 1, "gas": 21_000})
    assert receipt["status"] == 1 and w3.eth.block_number == receipt["blockNumber"]
    burst = [sender.submit(w3, {"to": sender.address, "value": 1, "gas": 21_000}) for _ in range(3)]
    assert [r["status"] for r in sender.wait_all(w3, burst)] == [1, 1, 1]


@pytest.mark.hardhat
def test_confirmations_on_another_node_wait_for_blocks_on_top(hardhat_backend: Backend) -> None:
    w3 = hardhat_backend.w3
    sender = hardhat_backend.sender(hardhat_backend.fund(), confirmations=2, receipt_timeout=0.5)
    assert sender.confirmations_needed(w3) == 2
    pending = sender.submit(w3, {"to": sender.address, "value": 1, "gas": 21_000})  # automine: mined at once
    with pytest.raises(ReceiptTimeout) as exc:
        sender.wait(w3, pending)
    assert "was mined but did not reach 2 confirmations" in str(exc.value)
    assert "ask for fewer confirmations" in str(exc.value)
    hardhat_backend.mine()
    hardhat_backend.mine()
    receipt = sender.wait(w3, pending)
    assert receipt["status"] == 1 and w3.eth.block_number >= receipt["blockNumber"] + 2
