"""The miner (dataseal.chain.embedded.mining): mining on demand, idle and interval mining, a block that
breaks or fails to commit, and an idle miner facing transactions the base fee outprices: it makes
the empty blocks that lower the fee, and sleeps when nothing it could do would change anything."""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak

from dataseal.chain.embedded.chain import EmbeddedChain, chain_file
from dataseal.chain.embedded.errors import InvalidParams
from dataseal.chain.embedded.mining import MAX_TIMESTAMP_AHEAD
from dataseal.chain.embedded.settings import Mining, Tuning
from dataseal.chain.embedded.store import ChainStore
from dataseal.chain.embedded.vm import DatasealVM
from tests.chain.embedded.clocks import ManualClock
from tests.chain.embedded.conftest import Funded
from tests.chain.embedded.helpers import BOB, SMALL_GAS_LIMIT, addr, open_chain, outpriced, sign

MINER = "dataseal-miner"  # the miner thread's name
FLOOR_BASE_FEE = 7  # where the base fee stops falling: an empty block lowers it by 1/8, rounded down

def test_mining_an_empty_block_and_choosing_its_time(chain: EmbeddedChain) -> None:
    head = chain.head()
    first = chain.mine(timestamp=head.timestamp + 100)
    second = chain.mine(timestamp=head.timestamp + 100)  # blocks may share a second
    assert (first.number, second.number) == (1, 2) and first.transactions == ()
    assert chain.header_for(2).timestamp == chain.header_for(1).timestamp == head.timestamp + 100
    with pytest.raises(InvalidParams, match="before the latest block's .* never go backwards"):
        chain.mine(timestamp=head.timestamp)


def test_a_timestamp_asked_for_is_at_most_fifteen_minutes_ahead_of_the_clock(tmp_path: Path) -> None:
    clock = ManualClock()
    chain = open_chain(tmp_path / "data", clock=clock)
    try:
        latest = int(clock.time()) + MAX_TIMESTAMP_AHEAD
        assert MAX_TIMESTAMP_AHEAD == 15 * 60
        for stamp in (latest + 1, 2**63, 2**64):
            with pytest.raises(InvalidParams, match=f"timestamp {stamp} is too far ahead: .* at most 900 seconds after "
                               f"the node's clock \\({latest}\\)"):
                chain.mine(timestamp=stamp)
        assert chain.head().block_number == 0
        assert chain.header_for(chain.mine(timestamp=latest).number).timestamp == latest
        clock.advance(60)  # the clock moves on: blocks keep their parent's time until it passes it
        assert chain.header_for(chain.mine().number).timestamp == latest
        clock.advance(MAX_TIMESTAMP_AHEAD)
        assert chain.header_for(chain.mine().number).timestamp == int(clock.time())
    finally:
        chain.close(flush=False)


def test_a_transaction_that_breaks_the_vm_is_dropped_alone(
    chain: EmbeddedChain, keys: Funded, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=BOB, value=7))
    good = chain.send_raw_transaction(sign(keys.bob, chain.chain_id, 0, to=BOB, value=9))
    original = DatasealVM.apply_transaction

    def apply(self, header, tx):  # type: ignore[no-untyped-def]
        if tx.hash == bad:
            raise RuntimeError("simulated VM bug")
        return original(self, header, tx)

    monkeypatch.setattr(DatasealVM, "apply_transaction", apply)
    mined = chain.mine()
    assert mined.transactions == (good,)
    assert "could not execute it: RuntimeError: simulated VM bug" in (chain.dropped_reason(bad) or "")
    assert chain.get_balance(addr(BOB)) == 9


def test_a_block_that_fails_to_commit_is_rolled_back_whole(
    chain: EmbeddedChain, keys: Funded, monkeypatch: pytest.MonkeyPatch
) -> None:
    tx = chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=BOB, value=3))

    def full_disk(self, hashes):  # type: ignore[no-untyped-def]
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(ChainStore, "journal_remove", full_disk)
    with pytest.raises(sqlite3.OperationalError):
        chain.mine()
    monkeypatch.undo()
    assert chain.head().block_number == 0
    assert chain.get_balance(addr(BOB)) == 0
    assert chain.get_transaction(tx) is not None and chain.get_receipt(tx) is None  # still pending
    assert chain.mine().transactions == (tx,)
    assert chain.get_balance(addr(BOB)) == 3


def test_idle_mining_mines_without_being_asked(auto_chain: EmbeddedChain, keys: Funded) -> None:
    sent = [auto_chain.send_raw_transaction(sign(keys.alice, auto_chain.chain_id, n, to=BOB)) for n in range(20)]
    receipts = [auto_chain.get_receipt(h, wait=60) for h in sent]
    assert all(r is not None for r in receipts)
    assert auto_chain.get_balance(addr(BOB)) == 20
    assert auto_chain.wait_until_mined(sent[-1], timeout=1)


def test_interval_mining_mines_on_its_clock(tmp_path: Path, keys: Funded) -> None:
    clock = ManualClock()
    with open_chain(tmp_path, keys.addresses, mining=Mining("interval", 2.0), clock=clock) as chain:
        tx = chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=BOB))
        clock.sleeper(MINER, lambda sleeper: sleeper.timeout == 2.0)  # the block is due in 2 s
        assert chain.get_receipt(tx, wait=1.0) is None  # later than anyone would wait here: answered at once
        assert chain.pending_count == 1
        clock.advance(2.0)
        assert chain.wait_until_mined(tx, timeout=60)
        assert chain.get_receipt(tx) is not None and int(chain.head().block_number) == 1


def test_a_pending_receipt_is_not_waited_for_without_a_miner(tmp_path: Path, keys: Funded) -> None:
    clock = ManualClock()  # stands still: a wait would never end by itself
    with open_chain(tmp_path, keys.addresses, mining=Mining("manual"), clock=clock) as chain:
        tx = chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=BOB))
        assert chain.get_receipt(tx, wait=30) is None  # manual mining: nobody would mine it
        assert not chain.wait_until_mined(tx, timeout=30)
        assert clock.history == []  # answered at once: nothing waited


def test_closing_with_automatic_mining_mines_what_waits(tmp_path: Path, keys: Funded) -> None:
    chain = open_chain(tmp_path, keys.addresses, mining=Mining("interval", 3600))
    tx = chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=BOB))
    chain.close()
    with EmbeddedChain.open(chain_file(tmp_path), mining=Mining("manual")) as chain:
        assert chain.get_receipt(tx) is not None and chain.pending_count == 0


def test_the_idle_miner_lowers_the_base_fee_until_a_waiting_transaction_fits(
    small_blocks: tuple[EmbeddedChain, Any, Any]
) -> None:
    chain, alice, bob = small_blocks
    first, second = outpriced(chain, alice, bob)
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
    chain = open_chain(tmp_path / "data", keys.addresses, gas_limit=SMALL_GAS_LIMIT)
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
        other = chain.send_raw_transaction(sign(alice, chain.chain_id, 0, max_fee=10 * chain.next_base_fee(),
                                                            priority=1))
        assert chain.wait_until_mined(other, timeout=30)
        assert chain.get_transaction(keccak(stuck)) is not None and chain.dropped_reason(keccak(stuck)) is None
        assert chain.pending_count == 1
        clock.sleeper(MINER, lambda sleeper: sleeper.timeout is None)  # asleep again
        assert int(chain.head().block_number) == floor_block + 1
    finally:
        chain.close(flush=False)
