"""The pending pool (dataseal.chain.embedded.pool): transactions by hash and by sender and nonce, in
acceptance order; a replacement takes its predecessor's place; the next nonce a sender must use; the
gas the pool holds. (What the pool accepts is admission's to decide: test_admission.py.)"""
from __future__ import annotations

import pytest
from eth.abc import SignedTransactionAPI
from eth.vm.forks.prague import PragueVM
from eth_account.signers.local import LocalAccount

from dataseal.chain.embedded.chain import EmbeddedChain
from dataseal.chain.embedded.errors import TransactionRefused
from dataseal.chain.embedded.pool import PendingPool
from tests.chain.embedded.conftest import Funded
from tests.chain.embedded.helpers import BOB, addr, new_key, sign

CHAIN_ID = 7
BUILDER = PragueVM.get_transaction_builder()


def signed(key: LocalAccount, nonce: int, *, gas: int = 21_000, value: int = 1) -> tuple[SignedTransactionAPI, bytes]:
    raw = sign(key, CHAIN_ID, nonce, gas=gas, value=value)
    return BUILDER.decode(raw), raw


def add(pool: PendingPool, key: LocalAccount, nonce: int, *, gas: int = 21_000) -> bytes:
    tx, raw = signed(key, nonce, gas=gas)
    entry = pool.add(tx, raw, addr(key.address))
    assert (entry.tx, entry.raw, entry.sender, entry.hash, entry.nonce) == (tx, raw, addr(key.address), tx.hash, nonce)
    return entry.hash


def test_an_empty_pool() -> None:
    pool = PendingPool()
    sender = addr(BOB)
    assert len(pool) == 0 and not pool and pool.total_gas == 0
    assert pool.ordered() == [] and pool.get(b"\x01" * 32) is None and b"\x01" * 32 not in pool
    assert pool.count_from(sender) == 0 and pool.at_nonce(sender, 0) is None
    assert pool.next_nonce(sender, 5) == 5  # nothing pending: the nonce of the account's state
    assert pool.remove(b"\x01" * 32) is None


def test_transactions_are_found_by_hash_and_by_sender_and_nonce_in_acceptance_order() -> None:
    alice, bob = new_key(), new_key()
    pool = PendingPool()
    first = add(pool, alice, 3, gas=30_000)
    second = add(pool, bob, 0)
    third = add(pool, alice, 4, gas=50_000)
    assert len(pool) == 3 and all(h in pool for h in (first, second, third))
    assert [e.hash for e in pool.ordered()] == [first, second, third]  # as accepted, senders interleaved
    assert [e.seq for e in pool.ordered()] == sorted(e.seq for e in pool.ordered())
    assert pool.count_from(addr(alice.address)) == 2 and pool.count_from(addr(bob.address)) == 1
    assert pool.at_nonce(addr(alice.address), 4) == pool.get(third)
    assert pool.at_nonce(addr(alice.address), 5) is None and pool.at_nonce(addr(bob.address), 3) is None
    assert pool.next_nonce(addr(alice.address), 3) == 5  # one past the highest pending, not the state's
    assert pool.next_nonce(addr(alice.address), 0) == 5
    assert pool.next_nonce(addr(bob.address), 0) == 1
    assert pool.total_gas == 30_000 + 21_000 + 50_000  # the gas limits, not what they will use


def test_a_replacement_takes_the_place_of_the_transaction_it_replaces() -> None:
    alice, bob = new_key(), new_key()
    pool = PendingPool()
    hashes = [add(pool, alice, n) for n in range(3)]
    other = add(pool, bob, 0)
    old = pool.at_nonce(addr(alice.address), 0)
    assert old is not None
    tx, raw = signed(alice, 0, gas=40_000, value=2)
    new = pool.replace(old, tx, raw)
    assert (new.seq, new.nonce, new.sender, new.hash, new.raw) == (old.seq, 0, old.sender, tx.hash, raw)
    assert old.hash not in pool and pool.get(old.hash) is None and pool.get(new.hash) == new
    assert pool.at_nonce(addr(alice.address), 0) == new
    assert [e.hash for e in pool.ordered()] == [new.hash, hashes[1], hashes[2], other]  # its place, not the end
    assert len(pool) == 4 and pool.count_from(addr(alice.address)) == 3
    assert pool.next_nonce(addr(alice.address), 0) == 3  # still one past the highest
    assert pool.total_gas == 40_000 + 3 * 21_000


def test_removing_leaves_the_rest_in_order_and_forgets_an_emptied_sender() -> None:
    alice, bob = new_key(), new_key()
    pool = PendingPool()
    a0, b0, a1 = add(pool, alice, 0), add(pool, bob, 0, gas=30_000), add(pool, alice, 1)
    removed = pool.remove(a0)  # mined
    assert removed is not None and removed.hash == a0 and a0 not in pool
    assert pool.remove(a0) is None  # once
    assert [e.hash for e in pool.ordered()] == [b0, a1]
    assert pool.next_nonce(addr(alice.address), 1) == 2 and pool.total_gas == 51_000
    assert pool.remove(a1) is not None
    assert pool.count_from(addr(alice.address)) == 0 and pool.at_nonce(addr(alice.address), 1) is None
    assert pool.next_nonce(addr(alice.address), 2) == 2  # nothing pending any more: the state's nonce
    assert pool.remove(b0) is not None
    assert len(pool) == 0 and pool.total_gas == 0 and pool.ordered() == []


def test_replacing_an_earlier_transaction_keeps_the_next_nonce(chain: EmbeddedChain, keys: Funded) -> None:
    sent = [chain.send_raw_transaction(sign(keys.alice, chain.chain_id, n, to=BOB)) for n in range(3)]
    replacement = chain.send_raw_transaction(
        sign(keys.alice, chain.chain_id, 0, to=BOB, value=5, max_fee=11 * 10**9, priority=11 * 10**8)
    )
    assert chain.pending_nonce(addr(keys.alice.address)) == 3
    last = chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 3, to=BOB))
    assert chain.mine().transactions == (replacement, sent[1], sent[2], last)


def test_the_next_nonce_counts_pending_transactions_and_a_gap_is_refused(chain: EmbeddedChain, keys: Funded) -> None:
    alice = addr(keys.alice.address)
    for nonce in range(3):
        chain.send_raw_transaction(sign(keys.alice, chain.chain_id, nonce, to=BOB))
    assert chain.pending_nonce(alice) == 3 and chain.get_nonce(alice) == 0
    with pytest.raises(TransactionRefused, match="nonce too high: .* tx: 4, next: 3"):
        chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 4, to=BOB))
    chain.mine()
    assert chain.pending_nonce(alice) == chain.get_nonce(alice) == 3  # none pending: the state's
    with pytest.raises(TransactionRefused, match="tx: 4, next: 3"):
        chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 4, to=BOB))


def test_what_each_sender_may_spend_is_kept_through_adds_replacements_and_removals() -> None:
    pool = PendingPool()
    alice, bob = new_key(), new_key()
    each = 21_000 * 10**10 + 1  # gas at the fee cap, and the value (sign()'s defaults)
    first = add(pool, alice, 0)
    add(pool, alice, 1)
    add(pool, bob, 0)
    assert pool.cost_from(addr(alice.address)) == 2 * each and pool.cost_from(addr(bob.address)) == each
    old = pool.get(first)
    assert old is not None and old.cost == each
    tx, raw = signed(alice, 0, gas=30_000, value=5)
    pool.replace(old, tx, raw)
    assert pool.cost_from(addr(alice.address)) == each + 30_000 * 10**10 + 5
    for entry in pool.ordered():
        pool.remove(entry.hash)
    assert pool.cost_from(addr(alice.address)) == 0 == pool.cost_from(addr(bob.address))
