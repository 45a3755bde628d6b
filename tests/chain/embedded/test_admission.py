"""Admission (dataseal.chain.embedded.admission): the pool's refusals, with geth's reasons, replacements,
and the journal that keeps accepted transactions across a close or a crash."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import rlp
from eth_utils import keccak

from dataseal.chain.embedded.chain import EmbeddedChain, chain_file
from dataseal.chain.embedded.defaults import DEFAULT_CHAIN_ID
from dataseal.chain.embedded.errors import INVALID_PARAMS, TransactionRefused
from dataseal.chain.embedded.settings import Mining
from dataseal.chain.embedded.store import ChainStore
from tests.chain.embedded.conftest import Funded
from tests.chain.embedded.helpers import BOB, SMALL_GAS_LIMIT, addr, new_key, open_chain, outpriced, sign


def test_nonces_too_low_too_high_and_repeats_are_refused(chain: EmbeddedChain, keys: Funded) -> None:
    raw = sign(keys.alice, chain.chain_id, 0, to=BOB)
    chain.send_raw_transaction(raw)
    with pytest.raises(TransactionRefused, match="already known: transaction 0x"):
        chain.send_raw_transaction(raw)
    with pytest.raises(TransactionRefused, match="nonce too high: address .* tx: 5, next: 1.*send the missing"):
        chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 5, to=BOB))
    chain.mine()
    with pytest.raises(TransactionRefused, match="nonce too low: address .* tx: 0 state: 1"):
        chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=BOB, value=2))
    assert chain.pending_nonce(addr(keys.alice.address)) == 1


def test_a_replacement_must_pay_ten_percent_more(chain: EmbeddedChain, keys: Funded) -> None:
    first = chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=BOB, value=1, max_fee=10**10))
    with pytest.raises(TransactionRefused, match="replacement transaction underpriced: .* by 10%"):
        chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=BOB, value=2, max_fee=10**10 + 1))
    second = chain.send_raw_transaction(
        sign(keys.alice, chain.chain_id, 0, to=BOB, value=2, max_fee=11 * 10**9, priority=11 * 10**8)
    )
    follow = chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 1, to=BOB, value=4))
    assert chain.mine().transactions == (second, follow)
    assert chain.get_transaction(first) is None
    assert chain.get_balance(addr(BOB)) == 6


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
    with pytest.raises(TransactionRefused, match=message):
        chain.send_raw_transaction(make(chain, keys.alice))
    assert chain.pending_count == 0


def test_bytes_that_are_no_transaction_are_invalid_params(chain: EmbeddedChain) -> None:
    with pytest.raises(TransactionRefused, match="not a signed transaction .*raw bytes that signing produced") as info:
        chain.send_raw_transaction(b"\x02\xff\x00")
    assert info.value.code == INVALID_PARAMS


def test_a_tampered_signature_is_refused(chain: EmbeddedChain, keys: Funded) -> None:
    raw = sign(keys.alice, chain.chain_id, 0, legacy=True)
    fields = rlp.decode(raw)
    fields[-1] = b""  # s = 0
    with pytest.raises(TransactionRefused, match="invalid (transaction|signature)"):
        chain.send_raw_transaction(rlp.encode(fields))


def test_a_new_transaction_below_the_base_fee_is_still_refused(
    small_blocks: tuple[EmbeddedChain, Any, Any]
) -> None:
    chain, _, bob = small_blocks
    fee = chain.next_base_fee()
    with pytest.raises(TransactionRefused) as info:
        chain.send_raw_transaction(sign(bob, chain.chain_id, 0, max_fee=fee - 1, priority=1))
    assert "max fee per gas less than block base fee" in info.value.message
    assert f"baseFee: {fee}" in info.value.message and "raise maxFeePerGas" in info.value.message
    assert chain.get_transaction(keccak(sign(bob, chain.chain_id, 0, max_fee=fee - 1, priority=1))) is None


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


def test_a_waiting_transaction_survives_a_reopening(tmp_path: Path, keys: Funded) -> None:
    chain = open_chain(tmp_path / "data", [keys.alice.address, keys.bob.address], gas_limit=SMALL_GAS_LIMIT)
    first, second = outpriced(chain, keys.alice, keys.bob)
    chain.close(flush=False)
    chain = open_chain(tmp_path / "data", gas_limit=SMALL_GAS_LIMIT)
    try:
        # accepted once, it is not refused for the base fee when the journal is replayed
        assert chain.pending_count == 2 and chain.dropped_reason(first) is None
        mined = chain.mine()
        while not mined.transactions:
            mined = chain.mine()
        assert mined.transactions == (first, second)
    finally:
        chain.close(flush=False)
