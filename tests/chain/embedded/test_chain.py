"""The embedded chain as a library: genesis, reopening, blocks of many transactions, the pool's
refusals, dropping at mining, the journal, calls and gas estimates, logs."""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
import rlp
from eth._utils.address import generate_contract_address
from eth_utils import keccak, to_canonical_address, to_checksum_address

from dataseal.chain.embedded.chain import (
    CallRequest,
    EmbeddedChain,
    Genesis,
    LogFilter,
    Mining,
    Tuning,
    chain_file,
)
from dataseal.chain.embedded.defaults import DEFAULT_CHAIN_ID
from dataseal.chain.embedded.errors import (
    INVALID_PARAMS,
    BlockNotFound,
    ChainStoreError,
    EmbeddedChainError,
    ExecutionFailed,
    ExecutionReverted,
    GenesisMismatchError,
    InvalidParams,
    LimitExceeded,
    TransactionRejected,
)
from dataseal.chain.embedded.store import ChainStore
from dataseal.chain.embedded.vm import DatasealVM
from tests.chain.embedded.conftest import Funded
from tests.chain.embedded.helpers import (
    ETH,
    GAS_RUNTIME,
    LOG_RUNTIME,
    REVERT_RUNTIME,
    STORE_RUNTIME,
    init_code,
    new_key,
    open_chain,
    sign,
)

BOB = to_checksum_address("0x" + "b0" * 20)


def addr(hex_address: str) -> bytes:
    return to_canonical_address(hex_address)


def deploy(chain: EmbeddedChain, key, runtime: bytes) -> bytes:  # type: ignore[no-untyped-def]
    nonce = chain.pending_nonce(addr(key.address))
    chain.send_raw_transaction(sign(key, chain.chain_id, nonce, to=None, value=0, gas=200_000, data=init_code(runtime)))
    chain.mine()
    return bytes(generate_contract_address(addr(key.address), nonce))


# ------------------------------------------------------------------------------------ genesis


def test_a_new_chain_has_dataseals_chain_id_and_its_funded_accounts(chain: EmbeddedChain, keys: Funded) -> None:
    assert chain.chain_id == DEFAULT_CHAIN_ID == 1684108385 == int.from_bytes(b"data", "big")
    assert chain.created
    assert chain.head().block_number == 0
    assert chain.get_balance(addr(keys.alice.address)) == 1_000 * ETH
    assert chain.genesis_alloc == {keys.alice.address: 1_000 * ETH, keys.bob.address: 1_000 * ETH}
    assert chain.gas_limit == 30_000_000


def test_the_chain_id_can_be_chosen(tmp_path: Path) -> None:
    with open_chain(tmp_path, chain_id=4242) as chain:
        assert chain.chain_id == 4242


def test_genesis_settings_are_checked(tmp_path: Path) -> None:
    with pytest.raises(EmbeddedChainError, match="'0x12' is not an address"):
        Genesis(alloc={"0x12": 1})
    with pytest.raises(EmbeddedChainError, match="-1 is not a balance in wei"):
        Genesis(alloc={BOB: -1})
    with pytest.raises(EmbeddedChainError, match="positive integer below 2\\*\\*64, got 0"):
        Genesis(chain_id=0)
    with pytest.raises(EmbeddedChainError, match="gas limit must be at least 5000"):
        Genesis(gas_limit=10)
    with pytest.raises(EmbeddedChainError, match="unknown mining mode 'often'"):
        Mining("often")  # type: ignore[arg-type]
    with pytest.raises(EmbeddedChainError, match="block time above 0 seconds, got 0"):
        Mining("interval", 0)


def test_reopening_keeps_blocks_balances_and_lookups(tmp_path: Path, keys: Funded) -> None:
    chain = open_chain(tmp_path, keys.addresses)
    hashes = [chain.send_raw_transaction(sign(keys.alice, chain.chain_id, n, to=BOB, value=n + 1)) for n in range(3)]
    first = chain.mine()
    last = chain.send_raw_transaction(sign(keys.bob, chain.chain_id, 0, to=BOB, value=10))
    chain.mine()
    chain.close()

    chain = EmbeddedChain.open(chain_file(tmp_path), mining=Mining("manual"))
    try:
        assert not chain.created
        assert chain.head().block_number == 2
        assert chain.get_balance(addr(BOB)) == 1 + 2 + 3 + 10
        assert chain.get_nonce(addr(keys.alice.address)) == 3
        record = chain.get_transaction(hashes[2])
        assert record is not None and record.header is not None
        assert (record.header.block_number, record.index) == (1, 2)
        assert record.header.hash == first.hash
        receipt = chain.get_receipt(last)
        assert receipt is not None and (receipt.header.block_number, receipt.index, receipt.gas_used) == (2, 0, 21_000)
        assert chain.get_balance(addr(BOB), 1) == 6  # state at an earlier block stays readable
    finally:
        chain.close()


def test_reopening_with_another_chain_id_is_refused(tmp_path: Path) -> None:
    open_chain(tmp_path).close()
    with pytest.raises(GenesisMismatchError, match=f"has chain id {DEFAULT_CHAIN_ID}, not 7.*drop the chain id option"):
        EmbeddedChain.open(chain_file(tmp_path), genesis=Genesis(chain_id=7))


def test_reopening_with_funding_it_never_had_is_refused(tmp_path: Path, keys: Funded) -> None:
    open_chain(tmp_path, [keys.alice.address]).close()
    same = EmbeddedChain.open(chain_file(tmp_path), genesis=Genesis(alloc={keys.alice.address: 1_000 * ETH}))
    same.close()  # the same funding again is fine
    with pytest.raises(GenesisMismatchError, match=f"did not fund {keys.bob.address}.*send funds from a funded"):
        EmbeddedChain.open(chain_file(tmp_path), genesis=Genesis(alloc={keys.bob.address: ETH}))


def test_a_chain_file_with_a_damaged_genesis_record_is_refused(tmp_path: Path) -> None:
    open_chain(tmp_path).close()
    with sqlite3.connect(chain_file(tmp_path)) as db:
        db.execute("UPDATE meta SET value = '0x00' WHERE key = 'genesis_hash'")
    with pytest.raises(ChainStoreError, match="is inconsistent: its genesis block is 0x"):
        EmbeddedChain.open(chain_file(tmp_path))


def test_a_chain_file_with_damaged_settings_is_refused(tmp_path: Path, keys: Funded) -> None:
    open_chain(tmp_path, [keys.alice.address]).close()
    with sqlite3.connect(chain_file(tmp_path)) as db:
        db.execute("UPDATE meta SET value = 'not json' WHERE key = 'genesis_alloc'")
    with pytest.raises(ChainStoreError, match="is damaged: its recorded genesis funding is not a map"
                       ".*: restore it from a backup"):
        EmbeddedChain.open(chain_file(tmp_path), genesis=Genesis(alloc={keys.alice.address: 1_000 * ETH}))
    with sqlite3.connect(chain_file(tmp_path)) as db:
        db.execute("UPDATE meta SET value = 'x' WHERE key = 'chain_id'")
    with pytest.raises(ChainStoreError, match="is damaged: its recorded chain id 'x' is not a number"):
        EmbeddedChain.open(chain_file(tmp_path))


def test_a_closed_chain_says_so(tmp_path: Path) -> None:
    chain = open_chain(tmp_path)
    chain.close()
    with pytest.raises(EmbeddedChainError, match="is closed; open it again"):
        chain.head()


# ------------------------------------------------------------------------------------ blocks


def test_many_transactions_share_one_block(chain: EmbeddedChain, keys: Funded) -> None:
    sent = []
    for n in range(60):
        sent.append(chain.send_raw_transaction(sign(keys.alice, chain.chain_id, n, to=BOB)))
        sent.append(chain.send_raw_transaction(sign(keys.bob, chain.chain_id, n, to=BOB)))
    mined = chain.mine()
    assert mined.number == 1 and mined.transactions == tuple(sent) and mined.dropped == ()
    header = chain.head()
    assert header.gas_used == 120 * 21_000
    receipts = chain.block_receipts(1)
    assert receipts is not None and [r.index for r in receipts] == list(range(120))
    assert all(r.gas_used == 21_000 for r in receipts)
    assert chain.get_balance(addr(BOB)) == 120


def test_a_full_block_leaves_the_rest_for_the_next(tmp_path: Path, keys: Funded) -> None:
    with open_chain(tmp_path, keys.addresses, gas_limit=100_000) as chain:  # four transfers per block
        for n in range(10):
            chain.send_raw_transaction(sign(keys.alice, chain.chain_id, n, to=BOB))
        assert [len(chain.mine().transactions) for _ in range(3)] == [4, 4, 2]
        assert chain.pending_count == 0
        assert chain.get_nonce(addr(keys.alice.address)) == 10


def test_a_transaction_invalid_when_mined_is_dropped_without_the_others(tmp_path: Path, keys: Funded) -> None:
    poor = new_key()  # its funds cover either of its transfers, not both
    fee = 21_000 * 10**10
    genesis = Genesis(alloc={poor.address: fee + 10 * ETH, keys.alice.address: ETH})
    with EmbeddedChain.open(chain_file(tmp_path), genesis=genesis, mining=Mining("manual")) as chain:
        spend = chain.send_raw_transaction(sign(poor, chain.chain_id, 0, to=BOB, value=10 * ETH))
        overdraw = chain.send_raw_transaction(sign(poor, chain.chain_id, 1, to=BOB, value=10 * ETH))
        follower = chain.send_raw_transaction(sign(poor, chain.chain_id, 2, to=BOB, value=1))
        other = chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=BOB, value=5))
        mined = chain.mine()
        assert mined.transactions == (spend, other)
        assert [h for h, _ in mined.dropped] == [overdraw, follower]
        assert "balance" in (chain.dropped_reason(overdraw) or "")
        assert "dropped with the transaction before it" in (chain.dropped_reason(follower) or "")
        assert chain.get_receipt(overdraw) is None and chain.get_transaction(overdraw) is None
        assert chain.pending_nonce(addr(poor.address)) == 1  # the sender can send its nonce 1 again
        assert chain.pending_count == 0


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


def test_mining_an_empty_block_and_choosing_its_time(chain: EmbeddedChain) -> None:
    head = chain.head()
    first = chain.mine(timestamp=head.timestamp + 100)
    second = chain.mine(timestamp=head.timestamp + 100)  # blocks may share a second
    assert (first.number, second.number) == (1, 2) and first.transactions == ()
    assert chain.header_for(2).timestamp == chain.header_for(1).timestamp == head.timestamp + 100
    with pytest.raises(InvalidParams, match="before the latest block's .* never go backwards"):
        chain.mine(timestamp=head.timestamp)


def test_blocks_by_reference(chain: EmbeddedChain) -> None:
    chain.mine()
    assert chain.header_for("earliest").block_number == 0
    assert chain.header_for("latest").block_number == chain.header_for("pending").block_number == 1
    assert chain.header_for(chain.head().hash).block_number == 1
    with pytest.raises(BlockNotFound, match="block 5 is beyond the head of this chain \\(1\\)"):
        chain.header_for(5)
    with pytest.raises(BlockNotFound, match="no canonical block has hash 0x0000"):
        chain.header_for(b"\0" * 32)
    with pytest.raises(InvalidParams, match="unknown block tag 'newest'"):
        chain.header_for("newest")
    assert chain.block_by_ref(9) is None


# ------------------------------------------------------------------------------------ the pool's refusals


def test_nonces_too_low_too_high_and_repeats_are_refused(chain: EmbeddedChain, keys: Funded) -> None:
    raw = sign(keys.alice, chain.chain_id, 0, to=BOB)
    chain.send_raw_transaction(raw)
    with pytest.raises(TransactionRejected, match="already known: transaction 0x"):
        chain.send_raw_transaction(raw)
    with pytest.raises(TransactionRejected, match="nonce too high: address .* tx: 5, next: 1.*send the missing"):
        chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 5, to=BOB))
    chain.mine()
    with pytest.raises(TransactionRejected, match="nonce too low: address .* tx: 0 state: 1"):
        chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=BOB, value=2))
    assert chain.pending_nonce(addr(keys.alice.address)) == 1


def test_a_replacement_must_pay_ten_percent_more(chain: EmbeddedChain, keys: Funded) -> None:
    first = chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=BOB, value=1, max_fee=10**10))
    with pytest.raises(TransactionRejected, match="replacement transaction underpriced: .* by 10%"):
        chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=BOB, value=2, max_fee=10**10 + 1))
    second = chain.send_raw_transaction(
        sign(keys.alice, chain.chain_id, 0, to=BOB, value=2, max_fee=11 * 10**9, priority=11 * 10**8)
    )
    follow = chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 1, to=BOB, value=4))
    assert chain.mine().transactions == (second, follow)
    assert chain.get_transaction(first) is None
    assert chain.get_balance(addr(BOB)) == 6


def test_replacing_an_earlier_transaction_keeps_the_next_nonce(chain: EmbeddedChain, keys: Funded) -> None:
    sent = [chain.send_raw_transaction(sign(keys.alice, chain.chain_id, n, to=BOB)) for n in range(3)]
    replacement = chain.send_raw_transaction(
        sign(keys.alice, chain.chain_id, 0, to=BOB, value=5, max_fee=11 * 10**9, priority=11 * 10**8)
    )
    assert chain.pending_nonce(addr(keys.alice.address)) == 3
    last = chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 3, to=BOB))
    assert chain.mine().transactions == (replacement, sent[1], sent[2], last)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda c, k: sign(k, 1, 0), "invalid chain id: the transaction is signed for chain 1, this chain is"),
        (lambda c, k: bytes(k.sign_transaction({"nonce": 0, "gasPrice": 10**10, "gas": 21_000, "to": BOB,
                                                 "value": 1}).raw_transaction),
         "only replay-protected \\(EIP-155\\) transactions are accepted"),
        (lambda c, k: sign(k, c.chain_id, 0, gas=20_000), "intrinsic gas too low: have 20000, want 21000"),
        (lambda c, k: sign(k, c.chain_id, 0, gas=21_000, data=b"\1" * 100),
         "intrinsic gas too low: have 21000, want 25000"),
        (lambda c, k: sign(k, c.chain_id, 0, gas=31_000_000), "exceeds block gas limit: .* 31000000 gas, blocks hold"),
        (lambda c, k: sign(k, c.chain_id, 0, max_fee=1, priority=1), "max fee per gas less than block base fee"),
        (lambda c, k: sign(new_key(), c.chain_id, 0),
         "insufficient funds for gas \\* price \\+ value: address 0x.* have 0"),
        (lambda c, k: sign(k, c.chain_id, 0, data=b"\1" * 140_000, gas=3_000_000), "oversized data: .* at most 131072"),
        (lambda c, k: b"\x03" + rlp.encode([1, 2, 3]), "blob transactions \\(type 3\\) are not supported"),
    ],
    ids=["chain-id", "unprotected", "intrinsic-gas", "calldata-floor", "gas-limit", "base-fee", "funds", "oversized",
         "blob"],
)
def test_bad_transactions_are_refused_with_the_reason(chain: EmbeddedChain, keys: Funded, make, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TransactionRejected, match=message):
        chain.send_raw_transaction(make(chain, keys.alice))
    assert chain.pending_count == 0


def test_bytes_that_are_no_transaction_are_invalid_params(chain: EmbeddedChain) -> None:
    with pytest.raises(TransactionRejected, match="not a signed transaction .*raw bytes that signing produced") as info:
        chain.send_raw_transaction(b"\x02\xff\x00")
    assert info.value.code == INVALID_PARAMS


def test_a_tampered_signature_is_refused(chain: EmbeddedChain, keys: Funded) -> None:
    raw = sign(keys.alice, chain.chain_id, 0, legacy=True)
    fields = rlp.decode(raw)
    fields[-1] = b""  # s = 0
    with pytest.raises(TransactionRejected, match="invalid (transaction|signature)"):
        chain.send_raw_transaction(rlp.encode(fields))


# ------------------------------------------------------------------------------------ journal


def test_accepted_transactions_survive_a_close_without_mining(tmp_path: Path, keys: Funded) -> None:
    chain = open_chain(tmp_path, keys.addresses)
    sent = [chain.send_raw_transaction(sign(keys.alice, chain.chain_id, n, to=BOB)) for n in range(3)]
    chain.close(flush=False)
    chain = EmbeddedChain.open(chain_file(tmp_path), mining=Mining("manual"))
    try:
        assert chain.pending_count == 3
        assert chain.get_transaction(sent[0]) is not None
        assert chain.mine().transactions == tuple(sent)
    finally:
        chain.close()
    store = ChainStore(chain_file(tmp_path))
    try:
        assert store.journal_items() == []
    finally:
        store.close()


def test_a_journalled_transaction_that_no_longer_fits_is_dropped_on_reopening(tmp_path: Path, keys: Funded) -> None:
    chain = open_chain(tmp_path, keys.addresses)
    chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=BOB))
    chain.mine()
    chain.close()
    stale = sign(keys.alice, DEFAULT_CHAIN_ID, 0, to=BOB, value=99)  # its nonce was used meanwhile
    store = ChainStore(chain_file(tmp_path))
    store.journal_add(keccak(stale), stale)
    store.close()
    chain = EmbeddedChain.open(chain_file(tmp_path), mining=Mining("manual"))
    try:
        assert chain.pending_count == 0
        assert "nonce too low" in (chain.dropped_reason(keccak(stale)) or "")
    finally:
        chain.close()


def test_closing_with_automatic_mining_mines_what_waits(tmp_path: Path, keys: Funded) -> None:
    chain = open_chain(tmp_path, keys.addresses, mining=Mining("interval", 3600))
    tx = chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=BOB))
    chain.close()
    with EmbeddedChain.open(chain_file(tmp_path), mining=Mining("manual")) as chain:
        assert chain.get_receipt(tx) is not None and chain.pending_count == 0


# ------------------------------------------------------------------------------------ automatic mining


def test_idle_mining_mines_without_being_asked(auto_chain: EmbeddedChain, keys: Funded) -> None:
    sent = [auto_chain.send_raw_transaction(sign(keys.alice, auto_chain.chain_id, n, to=BOB)) for n in range(20)]
    receipts = [auto_chain.get_receipt(h, wait=60) for h in sent]
    assert all(r is not None for r in receipts)
    assert auto_chain.get_balance(addr(BOB)) == 20
    assert auto_chain.wait_until_mined(sent[-1], timeout=1)


def test_interval_mining_mines_on_its_clock(tmp_path: Path, keys: Funded) -> None:
    with open_chain(tmp_path, keys.addresses, mining=Mining("interval", 0.05)) as chain:
        tx = chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=BOB))
        assert chain.wait_until_mined(tx, timeout=60)
        assert chain.get_receipt(tx) is not None


def test_a_pending_receipt_is_not_waited_for_without_a_miner(chain: EmbeddedChain, keys: Funded) -> None:
    tx = chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=BOB))
    assert chain.get_receipt(tx, wait=30) is None  # manual mining: nobody would mine it
    assert not chain.wait_until_mined(tx, timeout=30)


# ------------------------------------------------------------------------------------ calls and estimates


def test_calls_read_state_and_reverts_carry_their_data(chain: EmbeddedChain, keys: Funded) -> None:
    store = deploy(chain, keys.alice, STORE_RUNTIME)
    reverter = deploy(chain, keys.alice, REVERT_RUNTIME)
    alice = addr(keys.alice.address)
    chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 2, to=to_checksum_address(store), value=0, gas=60_000,
                                    data=(42).to_bytes(32, "big")))
    chain.mine()
    assert chain.get_storage_at(store, 0) == 42
    assert chain.get_code(store) == STORE_RUNTIME
    with pytest.raises(ExecutionReverted, match="execution reverted") as info:
        chain.call(CallRequest(sender=alice, to=reverter))
    assert info.value.data == "0xdeadbeef" and info.value.revert_data == bytes.fromhex("deadbeef")
    with pytest.raises(ExecutionReverted):
        chain.estimate_gas(CallRequest(sender=alice, to=reverter))
    with pytest.raises(ExecutionFailed, match="gas required exceeds allowance \\(22000\\)"):
        chain.call(CallRequest(sender=alice, to=store, gas=22_000, data=(1).to_bytes(32, "big")))
    with pytest.raises(ExecutionFailed, match="balance"):
        chain.call(CallRequest(sender=addr(BOB), to=store, value=ETH))


@pytest.mark.parametrize("runtime", [STORE_RUNTIME, GAS_RUNTIME, LOG_RUNTIME], ids=["sstore", "reads-gas", "log"])
def test_a_transaction_sent_with_exactly_the_estimate_succeeds(
    chain: EmbeddedChain, keys: Funded, runtime: bytes
) -> None:
    contract = deploy(chain, keys.alice, runtime)
    data = (7).to_bytes(32, "big")
    estimate = chain.estimate_gas(CallRequest(sender=addr(keys.alice.address), to=contract, data=data))
    tx = chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 1, to=to_checksum_address(contract), value=0,
                                         gas=estimate, data=data))
    chain.mine()
    receipt = chain.get_receipt(tx)
    assert receipt is not None and receipt.receipt.state_root == b"\x01"
    assert estimate - receipt.gas_used <= 2_300 + 4_800  # at most the SSTORE margin above the (refunded) use


def test_a_plain_transfer_is_estimated_at_21000(chain: EmbeddedChain, keys: Funded) -> None:
    assert chain.estimate_gas(CallRequest(sender=addr(keys.alice.address), to=addr(BOB), value=1)) == 21_000


# ------------------------------------------------------------------------------------ logs


def test_logs_are_filtered_by_address_topic_and_block(chain: EmbeddedChain, keys: Funded) -> None:
    logger = deploy(chain, keys.alice, LOG_RUNTIME)  # block 1
    other = deploy(chain, keys.alice, LOG_RUNTIME)  # block 2
    topics = [keccak(text=f"topic{n}") for n in range(3)]
    nonce = 2
    for target, topic in [(logger, topics[0]), (logger, topics[1]), (other, topics[0]), (logger, topics[2])]:
        chain.send_raw_transaction(sign(keys.alice, chain.chain_id, nonce, to=to_checksum_address(target), value=0,
                                        gas=60_000, data=topic))
        nonce += 1
    chain.mine()  # block 3: four logs
    everything = chain.get_logs(LogFilter(from_block=0, to_block="latest"))
    assert [(r.address, r.topics[0], r.log_index, r.tx_index) for r in everything] == [
        (logger, topics[0], 0, 0), (logger, topics[1], 1, 1), (other, topics[0], 2, 2), (logger, topics[2], 3, 3)
    ]
    assert len(chain.get_logs(LogFilter(from_block=0, addresses=(logger,)))) == 3
    assert len(chain.get_logs(LogFilter(from_block=0, topics=((topics[0], topics[2]),)))) == 3
    assert len(chain.get_logs(LogFilter(from_block=0, addresses=(other,), topics=((topics[1],),)))) == 0
    assert len(chain.get_logs(LogFilter(from_block=0, topics=(None, (topics[0],))))) == 0  # no second topic
    assert chain.get_logs(LogFilter(from_block=1, to_block=2)) == []
    assert len(chain.get_logs(LogFilter(block_hash=chain.head().hash))) == 4
    assert chain.get_logs(LogFilter(from_block=50, to_block=60)) == []
    with pytest.raises(InvalidParams, match="fromBlock 3 is after toBlock 1"):
        chain.get_logs(LogFilter(from_block=3, to_block=1))
    with pytest.raises(BlockNotFound, match="unknown block"):
        chain.get_logs(LogFilter(block_hash=b"\1" * 32))


def test_log_queries_too_large_are_refused(chain: EmbeddedChain, keys: Funded) -> None:
    logger = deploy(chain, keys.alice, LOG_RUNTIME)
    for nonce in range(1, 4):
        chain.send_raw_transaction(sign(keys.alice, chain.chain_id, nonce, to=to_checksum_address(logger), value=0,
                                        gas=60_000, data=keccak(text="t")))
    chain.mine()
    chain.close(flush=False)
    with EmbeddedChain.open(chain.path, tuning=Tuning(max_log_results=2), mining=Mining("manual")) as limited:
        with pytest.raises(LimitExceeded, match="query returned more than 2 results: ask for a smaller block range"):
            limited.get_logs(LogFilter(from_block=0))
    with EmbeddedChain.open(chain.path, tuning=Tuning(max_log_block_range=2), mining=Mining("manual")) as limited:
        with pytest.raises(LimitExceeded, match="block range too large: 3 blocks \\(0..2\\) asked, at most 2"):
            limited.get_logs(LogFilter(from_block=0))


def test_concurrent_senders_and_readers_all_get_their_answers(tmp_path: Path) -> None:
    senders = [new_key() for _ in range(8)]
    with open_chain(tmp_path, [k.address for k in senders], mining=Mining("idle")) as chain:
        errors: list[BaseException] = []

        def send_all(key) -> None:  # type: ignore[no-untyped-def]
            try:
                for nonce in range(10):
                    tx = chain.send_raw_transaction(sign(key, chain.chain_id, nonce, to=BOB, value=1))
                    receipt = chain.get_receipt(tx, wait=120)
                    assert receipt is not None and receipt.receipt.state_root == b"\x01"
                    chain.estimate_gas(CallRequest(sender=addr(key.address), to=addr(BOB), value=1))
            except BaseException as exc:  # collected for the main thread
                errors.append(exc)

        threads = [threading.Thread(target=send_all, args=(key,)) for key in senders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert chain.get_balance(addr(BOB)) == 80
        assert all(chain.get_nonce(addr(k.address)) == 10 for k in senders)
        assert sum(len(chain.block_by_ref(n).transactions) for n in range(1, chain.head().block_number + 1)) == 80


def test_bursts_and_mine_calls_while_the_miner_executes_keep_one_chain(tmp_path: Path) -> None:
    # The miner executes a block with the lock released: sends, reads and mine() calls meanwhile must
    # neither lose a transaction nor build a second block on the same parent.
    senders = [new_key() for _ in range(3)]
    with open_chain(tmp_path, [k.address for k in senders], mining=Mining("idle")) as chain:
        errors: list[BaseException] = []
        sent: list[bytes] = []
        done = threading.Event()

        def burst(key) -> None:  # type: ignore[no-untyped-def]
            try:
                for nonce in range(60):
                    sent.append(chain.send_raw_transaction(sign(key, chain.chain_id, nonce, to=BOB, value=1)))
            except BaseException as exc:  # collected for the main thread
                errors.append(exc)

        def mine_and_read() -> None:
            try:
                while not done.is_set():
                    chain.mine()
                    chain.get_balance(addr(BOB))
                    chain.pending_nonce(addr(senders[0].address))
            except BaseException as exc:  # collected for the main thread
                errors.append(exc)

        miner = threading.Thread(target=mine_and_read)
        miner.start()
        threads = [threading.Thread(target=burst, args=(key,)) for key in senders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        try:
            receipts = [chain.get_receipt(tx, wait=120) for tx in sent]
        finally:
            done.set()
            miner.join()
        assert errors == []
        assert all(r is not None and r.receipt.state_root == b"\x01" for r in receipts)
        assert chain.get_balance(addr(BOB)) == 180
        head = chain.head().block_number
        for number in range(1, head + 1):
            assert chain.header_for(number).parent_hash == chain.header_for(number - 1).hash
        assert sum(len(chain.block_by_ref(n).transactions) for n in range(1, head + 1)) == 180
        assert chain.integrity_check() == "ok"
