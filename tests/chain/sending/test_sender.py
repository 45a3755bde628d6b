"""LocalSender on real chains: receipts as their blocks come, nonce conflicts recovered, EIP-1559 and
legacy fees, confirmations."""
from __future__ import annotations

import threading

import pytest
from eth_account import Account
from eth_tester import EthereumTester, PyEVMBackend
from eth_utils import keccak
from web3 import EthereumTesterProvider

from dataseal.chain.connection import connect
from dataseal.chain.errors import ReceiptTimeout
from dataseal.chain.sending.sender import LocalSender
from tests.chain.conftest import Backend
from tests.conftest import Chain
from tests.support.recording import recording_requests


def test_receipts_are_read_as_their_blocks_come(backend: Backend) -> None:
    with backend.paused() as paused:
        w3 = paused.node.w3
        sender = LocalSender(paused.account, endpoint=paused.node.endpoint, poll_interval=0.01)
        mined_first = [sender.submit(w3, {"to": sender.address, "value": 1, "gas": 21_000}) for _ in range(4)]
        paused.mine()
        later = [sender.submit(w3, {"to": sender.address, "value": 1, "gas": 21_000}) for _ in range(3)]
        calls: list[str] = []
        miners: list[threading.Thread] = []

        def mine_when_waited_for(method: str) -> None:
            if method == "eth_getTransactionReceipt" and not miners:
                # the wait for the first of the later ones: mine them now, from elsewhere
                # "mining" is noted before the block is made: noted after it, the sender could read the receipts
                # in between, and the order of the notes would race the threads
                miners.append(threading.Thread(target=lambda: (calls.append("mining"), paused.mine())))
                miners[0].start()

        try:
            with recording_requests(w3, calls, on_request=mine_when_waited_for):
                receipts = sender.wait_all(w3, mined_first + later)
        finally:
            for miner in miners:
                miner.join()
    assert [r["status"] for r in receipts] == [1] * 7
    assert [r["transactionHash"].to_0x_hex() for r in receipts] == [p.tx_hash for p in mined_first + later]
    # the four mined ones were read, in one batch, before the other three were even mined
    assert calls.index("batch of 4") < calls.index("mining")
    assert "batch of 2" in calls[calls.index("mining"):]  # the rest of the later ones, once mined


def test_nonce_too_low_after_another_wallet_used_the_key(backend: Backend) -> None:
    account = backend.fund()
    sender = backend.sender(account)
    first = sender.send(backend.w3, {"to": account.address, "value": 1, "gas": 21_000})
    # another wallet (plain eth-account + web3) sends with the same key, behind the manager's back
    chain_id = backend.node.chain_id
    base = int(backend.w3.eth.get_block("latest")["baseFeePerGas"])
    for nonce in (1, 2):
        raw = account.sign_transaction({"to": account.address, "value": 2, "gas": 21_000, "nonce": nonce,
                                        "chainId": chain_id, "maxFeePerGas": 3 * base + 10**9,
                                        "maxPriorityFeePerGas": 10**9}).raw_transaction
        backend.w3.eth.wait_for_transaction_receipt(backend.w3.eth.send_raw_transaction(raw))
    # the manager believes the next nonce is 1: the node says "nonce too low", the sender re-reads and succeeds
    receipt = sender.send(backend.w3, {"to": account.address, "value": 3, "gas": 21_000})
    assert receipt["status"] == 1
    assert backend.w3.eth.get_transaction(receipt["transactionHash"])["nonce"] == 3
    assert first["status"] == 1


def test_eip1559_fees_follow_the_base_fee(backend: Backend) -> None:
    account = backend.fund()
    receipt = backend.sender(account).send(backend.w3, {"to": account.address, "value": 1, "gas": 21_000})
    tx = backend.w3.eth.get_transaction(receipt["transactionHash"])
    assert tx["type"] == 2
    parent = backend.w3.eth.get_block(receipt["blockNumber"] - 1)  # the latest block when the fees were read
    tip = backend.w3.eth.max_priority_fee
    assert tx["maxPriorityFeePerGas"] == tip
    assert tx["maxFeePerGas"] == 2 * parent["baseFeePerGas"] + tip


def test_legacy_gas_price_only_without_a_base_fee() -> None:
    from eth.vm.forks import BerlinVM

    tester = EthereumTester(PyEVMBackend(vm_configuration=((0, BerlinVM),)))  # a pre-London chain
    node = connect(EthereumTesterProvider(tester))
    assert node.info().base_fee is None
    key = tester.backend.account_keys[0]
    sender = LocalSender(Account.from_key(key.to_bytes()), endpoint=node.endpoint)
    receipt = sender.send(node.w3, {"to": sender.address, "value": 1, "gas": 21_000})
    tx = node.w3.eth.get_transaction(receipt["transactionHash"])
    assert receipt["status"] == 1 and tx["type"] == 0 and tx["gasPrice"] == node.w3.eth.gas_price


def test_confirmations_wait_for_blocks_on_top(backend: Backend) -> None:
    account = backend.fund()
    sender = backend.sender(account, confirmations=2)
    pending = sender.submit(backend.w3, {"to": account.address, "value": 1, "gas": 21_000})
    mined = backend.sender(account).wait(backend.w3, pending)  # mined (no confirmations asked)
    if backend.name == "embedded":
        # One block producer, no reorganisation: a receipt is final once it exists, so the
        # confirmations asked for are not waited for (idle mining might never make those blocks).
        assert sender.confirmations_needed(backend.w3) == 0
        head = backend.w3.eth.block_number
        assert sender.wait(backend.w3, pending, timeout=0.2)["blockHash"] == mined["blockHash"]
        assert backend.w3.eth.block_number == head
        return
    assert sender.confirmations_needed(backend.w3) == 2
    with pytest.raises(ReceiptTimeout, match="was mined but did not reach 2 confirmations"):
        sender.wait(backend.w3, pending, timeout=0.2)  # no block on top yet
    backend.mine()
    backend.mine()
    receipt = sender.wait(backend.w3, pending)
    assert backend.w3.eth.block_number >= receipt["blockNumber"] + 2


def test_a_revert_is_raw_bytes_to_a_bare_sender_and_named_with_a_decoder(pyevm: Chain) -> None:
    from dataseal.chain.contracts.records import Registration
    from dataseal.chain.contracts.revert import decode_revert
    from dataseal.chain.errors import ContractRevert, Reverted

    owner = pyevm.as_(pyevm.owner).registry
    root = keccak(text="root")
    registration = Registration(root, keccak(text="m"), 1, 0)
    owner.register(registration)
    call = {"to": owner.address,
            "data": owner.contract.encode_abi("register", args=[registration.as_tuple(), b"\0" * 32])}
    account = Account.create()
    pyevm.operator.send(pyevm.w3, {"to": account.address, "value": 10**18, "gas": 21_000})
    with pytest.raises(Reverted) as raw:
        LocalSender(account).send(pyevm.w3, call)  # no decoder: the bytes, for a client to name
    assert raw.value.message.startswith("sending a transaction reverted (0x")
    assert decode_revert(raw.value.data).name == "AssetAlreadyRegistered"
    with pytest.raises(ContractRevert) as named:
        LocalSender(account, decode_revert=decode_revert).send(pyevm.w3, call)
    assert named.value.name == "AssetAlreadyRegistered" and named.value.args_by_name["assetId"] == 1
