"""What the clients share: many transactions in flight, threads sharing a sender, receipts collected in
batches, mined failures explained."""
from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest
from eth_utils import keccak

from dataseal.chain.contracts.client import wait_all
from dataseal.chain.contracts.deployed import DatasealContracts
from dataseal.chain.contracts.records import Registration, TradeTerms
from dataseal.chain.contracts.revert import replay_failure
from dataseal.chain.errors import ChainError, ContractRevert
from dataseal.errors import ErrorKind, InvalidInput
from tests.chain.conftest import Backend
from tests.conftest import Chain
from tests.support.recording import recording_requests


def h(label: str) -> bytes:
    return keccak(text=label)


def test_many_registrations_in_flight(backend: Backend) -> None:
    owner = backend.sender(backend.fund())
    contracts = DatasealContracts.bind(backend.w3, backend.deploy(), owner)
    pending = [contracts.registry.submit_register(Registration(h(f"bulk-{i}"), h("m"), 1, 0)) for i in range(25)]
    assert len({p.tx_hash for p in pending}) == 25
    assert [p.pending.nonce for p in pending] == list(range(pending[0].pending.nonce, pending[0].pending.nonce + 25))
    # wait for the event itself, the last one mined (how many of the 25 a node has mined when the wait starts
    # depends on the machine's load); the timeout only keeps a broken node from hanging the run
    backend.w3.eth.wait_for_transaction_receipt(pending[-1].tx_hash, timeout=600, poll_latency=0.01)
    calls: list[str] = []
    with recording_requests(backend.w3, calls):
        records = wait_all(pending)
    # what is mined (the account's transaction count says how far) is read in JSON-RPC batches, not one by one
    assert "eth_getTransactionReceipt" not in calls, calls
    assert sum(int(c.removeprefix("batch of ")) for c in calls if c.startswith("batch of ")) == 25, calls
    assert [r.asset_id for r in records] == list(range(1, 26))
    assert [r.content_root for r in records] == [h(f"bulk-{i}") for i in range(25)]
    assert contracts.registry.total_assets() == 25


def test_threads_share_one_sender(backend: Backend) -> None:
    owner = backend.sender(backend.fund())
    contracts = DatasealContracts.bind(backend.w3, backend.deploy(), owner)
    contracts.registry.register(Registration(h("warm-up"), h("m"), 1, 0))  # one estimate, reused by the threads
    results: dict[int, list[int]] = {}
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            pending = [contracts.registry.submit_register(Registration(h(f"t{worker}-{i}"), h("m"), 1, 0))
                       for i in range(6)]
            results[worker] = [p.pending.nonce for p in pending]
            wait_all(pending)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    nonces = sorted(n for ns in results.values() for n in ns)
    assert nonces == list(range(nonces[0], nonces[0] + 24))  # no nonce twice, no gap
    assert contracts.registry.total_assets() == 25


def test_a_transaction_that_fails_once_mined_is_replayed_into_its_revert(pyevm: Chain) -> None:
    """Valid when estimated, reverted once mined: the first copy registered the root."""
    owner = pyevm.as_(pyevm.owner).registry
    first = owner.submit_register(Registration(h("twice"), h("m"), 1, 0), gas=300_000)
    second = owner.submit_register(Registration(h("twice"), h("m"), 1, 0), gas=300_000)
    assert first.wait().asset_id == 1
    with pytest.raises(ContractRevert) as twice:
        second.wait()
    assert twice.value.name == "AssetAlreadyRegistered" and twice.value.args_by_name["assetId"] == 1
    assert second.receipt is not None and second.receipt["status"] == 0


def test_a_transaction_out_of_gas_says_so_and_the_next_estimate_is_fresh(pyevm: Chain) -> None:
    owner = pyevm.as_(pyevm.owner).registry
    starved = owner.submit_register(Registration(h("oog"), h("m"), 1, 0), gas=60_000)
    with pytest.raises(ChainError) as oog:
        starved.wait()
    assert starved.receipt is not None
    tx_hash = starved.receipt["transactionHash"].to_0x_hex()
    assert type(oog.value) is ChainError and oog.value.kind is ErrorKind.CONFLICT
    assert oog.value.message.startswith(
        f"AssetRegistry.register ran out of gas: transaction {tx_hash} used all 60000 gas in block ")
    assert "send it again with gas estimated for this very call" in oog.value.hint
    # the cached estimate is enough
    assert owner.submit_register(Registration(h("oog"), h("m"), 1, 0)).wait().content_root == h("oog")


def test_a_failure_whose_replay_no_longer_reverts_says_the_reason_is_lost(pyevm: Chain) -> None:
    owner = pyevm.as_(pyevm.owner).registry
    starved = owner.submit_register(Registration(h("lost"), h("m"), 1, 0), gas=60_000)
    with pytest.raises(ChainError):
        starved.wait()
    receipt = starved.receipt
    assert receipt is not None
    quiet: Any = SimpleNamespace(eth=SimpleNamespace(call=lambda request, block: b""))  # the state moved on
    lost = replay_failure(quiet, {**starved.pending.tx, "gas": 100_000}, pyevm.owner.address, receipt, "register")
    assert lost.message == (
        f"register failed: transaction {starved.tx_hash} reverted in block {receipt['blockNumber']} "
        "(gas used 60000 of 100000) and the reason could not be recovered by replaying it"
    )
    assert lost.hint.startswith("look the transaction up")


def test_arguments_that_do_not_fit_their_types_are_invalid_input_before_anything_is_sent(pyevm: Chain) -> None:
    owner = pyevm.as_(pyevm.owner)
    nonce = pyevm.w3.eth.get_transaction_count(pyevm.owner.address)
    with pytest.raises(InvalidInput, match=r"AssetRegistry.register: an argument does not fit its type") as big:
        owner.registry.register(Registration(h("root"), h("m"), rights_type=300, classification=0))
    assert big.value.hint == "check the values given for ((bytes32,bytes32,uint8,uint8,uint256,uint64), bytes32)"
    with pytest.raises(InvalidInput, match=r"AssetRegistry.assetOf: the arguments do not fit its ABI") as negative:
        owner.registry.asset(-1)
    assert "\n" not in str(negative.value)
    with pytest.raises(InvalidInput, match="buyer 'nobody' is not an address"):
        owner.ledger.record_trade(TradeTerms.transfer(1, pyevm.owner.address, "nobody", 1, b"\0" * 32, h("s")), 0,
                                  b"")
    assert pyevm.w3.eth.get_transaction_count(pyevm.owner.address) == nonce
