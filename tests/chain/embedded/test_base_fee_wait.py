"""A pending transaction whose fee cap fell below the base fee waits; it is not dropped.

The base fee rises after a block more than half full; a transaction accepted at the old base fee
may then be too cheap for the next block. Like a real node's pool, the chain keeps it (and its
sender's later transactions) pending until the base fee falls back; the miner makes the empty
blocks that lower it, and sleeps when nothing can change.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from dataseal.chain.embedded import chain as chain_module
from dataseal.chain.embedded.chain import EmbeddedChain, Mining
from dataseal.chain.embedded.rpc import RpcDispatcher
from tests.chain.embedded.conftest import Funded
from tests.chain.embedded.helpers import new_key, open_chain, sign

GAS_LIMIT = 100_000  # small blocks: one transaction with calldata fills one and raises the base fee
FILLER_DATA = b"\x01" * 1_900  # EIP-7623 floor: 21000 + 40 * 1900 = 97000 gas, above the 50000 target
FILLER_GAS = 97_000


@pytest.fixture
def small(tmp_path: Path) -> Iterator[tuple[EmbeddedChain, LocalAccount, LocalAccount]]:
    alice, bob = new_key(), new_key()
    opened = open_chain(tmp_path / "small", [alice.address, bob.address], gas_limit=GAS_LIMIT)
    try:
        yield opened, alice, bob
    finally:
        opened.close(flush=False)


def _outpriced(chain: EmbeddedChain, alice: LocalAccount, bob: LocalAccount) -> tuple[bytes, bytes]:
    """Two transactions of bob at exactly the next base fee, left behind by a block that a big
    transaction of alice fills, which raises the base fee above their cap. Their hashes."""
    fee = chain.next_base_fee()
    chain.send_raw_transaction(sign(alice, chain.chain_id, 0, gas=FILLER_GAS, data=FILLER_DATA, max_fee=10 * fee))
    first = chain.send_raw_transaction(sign(bob, chain.chain_id, 0, max_fee=fee, priority=fee))
    second = chain.send_raw_transaction(sign(bob, chain.chain_id, 1, max_fee=fee, priority=fee))
    mined = chain.mine()
    assert len(mined.transactions) == 1  # bob's do not fit beside alice's
    assert chain.next_base_fee() > fee
    return first, second


def test_a_transaction_below_a_risen_base_fee_waits_with_its_followers(
    small: tuple[EmbeddedChain, LocalAccount, LocalAccount]
) -> None:
    chain, alice, bob = small
    first, second = _outpriced(chain, alice, bob)
    mined = chain.mine()  # its base fee is above their cap
    assert mined.transactions == () and mined.dropped == ()
    assert chain.pending_count == 2
    assert chain.dropped_reason(first) is None and chain.dropped_reason(second) is None
    found = RpcDispatcher(chain).call("eth_getTransactionByHash", ["0x" + first.hex()])
    assert found["hash"] == "0x" + first.hex() and found["blockNumber"] is None  # still pending
    for _ in range(10):  # empty blocks lower the base fee by 1/8 each
        mined = chain.mine()
        if mined.transactions:
            break
    assert mined.transactions == (first, second) and mined.dropped == ()
    assert chain.pending_count == 0


def test_a_replacement_paying_the_base_fee_goes_in_at_once(
    small: tuple[EmbeddedChain, LocalAccount, LocalAccount]
) -> None:
    chain, alice, bob = small
    first, second = _outpriced(chain, alice, bob)
    fee = chain.next_base_fee()
    replacement = chain.send_raw_transaction(sign(bob, chain.chain_id, 0, max_fee=2 * fee, priority=fee))
    mined = chain.mine()
    # the replacement pays; the follower still offers the old fee, so it waits for the next blocks
    assert mined.transactions == (replacement,) and mined.dropped == ()
    assert chain.get_transaction(first) is None and chain.get_transaction(second) is not None


def test_the_idle_miner_lowers_the_base_fee_until_a_waiting_transaction_fits(
    small: tuple[EmbeddedChain, LocalAccount, LocalAccount]
) -> None:
    chain, alice, bob = small
    first, second = _outpriced(chain, alice, bob)
    head = int(chain.head().block_number)
    chain.set_mining(Mining("idle"))
    assert chain.wait_until_mined(second, timeout=60)
    receipts = [chain.get_receipt(first), chain.get_receipt(second)]
    assert all(r is not None and r.receipt.state_root == b"\x01" for r in receipts)
    assert chain.dropped_reason(first) is None
    blocks = int(chain.head().block_number) - head
    assert 1 <= blocks <= 3  # one or two empty blocks, then theirs; nothing after
    chain.set_mining(Mining("manual"))
    assert int(chain.head().block_number) - head == blocks


def test_an_idle_miner_with_nothing_it_can_mine_sleeps_until_something_changes(
    small: tuple[EmbeddedChain, LocalAccount, LocalAccount], monkeypatch: pytest.MonkeyPatch
) -> None:
    chain, alice, bob = small
    first, second = _outpriced(chain, alice, bob)
    # A base fee at its floor: it no longer falls, so empty blocks would not help.
    monkeypatch.setattr(chain_module, "calculate_expected_base_fee_per_gas", lambda header: header.base_fee_per_gas)
    attempts: list[int] = []
    tried = threading.Event()
    execute = chain._execute_block

    def counting(*args: Any, **kwargs: Any) -> Any:
        attempts.append(1)
        tried.set()
        return execute(*args, **kwargs)

    monkeypatch.setattr(chain, "_execute_block", counting)
    head = int(chain.head().block_number)
    chain.set_mining(Mining("idle"))
    try:
        assert tried.wait(30)
        time.sleep(0.3)  # a window in which a spinning miner would try dozens of times
        assert len(attempts) <= 2
        assert int(chain.head().block_number) == head and chain.pending_count == 2
        # a new transaction wakes it: alice's is mined, bob's keep waiting
        other = chain.send_raw_transaction(sign(alice, chain.chain_id, 1, max_fee=10 * chain.next_base_fee()))
        assert chain.wait_until_mined(other, timeout=30)
        assert chain.get_transaction(first) is not None and chain.dropped_reason(first) is None
    finally:
        chain.set_mining(Mining("manual"))


def test_a_waiting_transaction_survives_a_reopening(tmp_path: Path, keys: Funded) -> None:
    chain = open_chain(tmp_path / "data", [keys.alice.address, keys.bob.address], gas_limit=GAS_LIMIT)
    first, second = _outpriced(chain, keys.alice, keys.bob)
    chain.close(flush=False)
    chain = open_chain(tmp_path / "data", gas_limit=GAS_LIMIT)
    try:
        # accepted once, it is not refused for the base fee when the journal is replayed
        assert chain.pending_count == 2 and chain.dropped_reason(first) is None
        mined = chain.mine()
        while not mined.transactions:
            mined = chain.mine()
        assert mined.transactions == (first, second)
    finally:
        chain.close(flush=False)


def test_a_new_transaction_below_the_base_fee_is_still_refused(
    small: tuple[EmbeddedChain, LocalAccount, LocalAccount]
) -> None:
    chain, _, bob = small
    fee = chain.next_base_fee()
    with pytest.raises(chain_module.TransactionRejected) as info:
        chain.send_raw_transaction(sign(bob, chain.chain_id, 0, max_fee=fee - 1, priority=1))
    assert "max fee per gas less than block base fee" in info.value.message
    assert f"baseFee: {fee}" in info.value.message and "raise maxFeePerGas" in info.value.message
    assert chain.get_transaction(keccak(sign(bob, chain.chain_id, 0, max_fee=fee - 1, priority=1))) is None
