"""A pending transaction whose fee cap fell below the base fee waits; it is not dropped.

The base fee rises after a block more than half full; a transaction accepted at the old base fee
may then be too cheap for the next block. Like a real node's pool, the chain keeps it (and its
sender's later transactions) pending until the base fee falls back; the miner makes the empty
blocks that lower it, and sleeps when nothing can change.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from dataseal.chain.embedded.chain import EmbeddedChain, chain_file
from dataseal.chain.embedded.errors import TransactionRejected
from dataseal.chain.embedded.rpc import RpcDispatcher
from dataseal.chain.embedded.settings import Mining, Tuning
from dataseal.chain.embedded.store import ChainStore
from tests.chain.embedded.clocks import ManualClock
from tests.chain.embedded.conftest import Funded
from tests.chain.embedded.helpers import new_key, open_chain, sign

GAS_LIMIT = 100_000  # small blocks: one transaction with calldata fills one and raises the base fee
FILLER_DATA = b"\x01" * 1_900  # EIP-7623 floor: 21000 + 40 * 1900 = 97000 gas, above the 50000 target
FILLER_GAS = 97_000
FLOOR_BASE_FEE = 7  # where the base fee stops falling: an empty block lowers it by 1/8, rounded down
MINER = "dataseal-miner"


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


def test_an_idle_miner_with_nothing_it_can_mine_sleeps_until_something_changes(tmp_path: Path, keys: Funded) -> None:
    # A base fee at its floor: at 7 wei, an empty block lowers it by 7 // 8 = 0. A journalled transaction
    # (accepted once) with a fee cap below it can never be mined, and empty blocks would not help.
    alice, bob = keys.alice, keys.bob
    chain = open_chain(tmp_path / "data", keys.addresses, gas_limit=GAS_LIMIT)
    while chain.next_base_fee() > 7:
        chain.mine()
    assert chain.next_base_fee() == FLOOR_BASE_FEE
    floor_block = int(chain.head().block_number)
    chain.close(flush=False)
    stuck = sign(bob, chain.chain_id, 0, max_fee=FLOOR_BASE_FEE - 1, priority=1)
    store = ChainStore(chain_file(tmp_path / "data"))
    store.journal_add(keccak(stuck), stuck)
    store.close()

    clock = ManualClock()  # stands still: the miner can wake only for a change, not by a timeout
    chain = open_chain(tmp_path / "data", mining=Mining("idle"), clock=clock, tuning=Tuning(idle_linger=0.0))
    try:
        # It tried, made nothing, and sleeps until something changes (a wait without a time limit).
        clock.sleeper(MINER, lambda sleeper: sleeper.timeout is None)
        assert int(chain.head().block_number) == floor_block and chain.pending_count == 1
        # a new transaction wakes it: alice's is mined, bob's keeps waiting
        other = chain.send_raw_transaction(sign(alice, chain.chain_id, 0, max_fee=10 * chain.next_base_fee()))
        assert chain.wait_until_mined(other, timeout=30)
        assert chain.get_transaction(keccak(stuck)) is not None and chain.dropped_reason(keccak(stuck)) is None
        assert chain.pending_count == 1
        clock.sleeper(MINER, lambda sleeper: sleeper.timeout is None)  # asleep again
        assert int(chain.head().block_number) == floor_block + 1
    finally:
        chain.close(flush=False)


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
    with pytest.raises(TransactionRejected) as info:
        chain.send_raw_transaction(sign(bob, chain.chain_id, 0, max_fee=fee - 1, priority=1))
    assert "max fee per gas less than block base fee" in info.value.message
    assert f"baseFee: {fee}" in info.value.message and "raise maxFeePerGas" in info.value.message
    assert chain.get_transaction(keccak(sign(bob, chain.chain_id, 0, max_fee=fee - 1, priority=1))) is None
