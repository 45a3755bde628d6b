"""Building a block (dataseal.chain.embedded.building): many transactions in one block, what does not
fit waits, what turned invalid is dropped alone, and what the base fee outprices waits with its
sender's later transactions."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from dataseal.chain.embedded.chain import EmbeddedChain, chain_file
from dataseal.chain.embedded.rpc import RpcDispatcher
from dataseal.chain.embedded.settings import Genesis, Mining
from tests.chain.embedded.conftest import Funded
from tests.chain.embedded.helpers import (
    BOB,
    DRAIN_RUNTIME,
    ETH,
    addr,
    deploy,
    new_key,
    open_chain,
    outpriced,
    sign,
)


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
    # Admission checks a sender's funds against all its pending transactions, so only what runs in the
    # block can make one invalid: here another sender's call drains an account delegated to DRAIN_RUNTIME.
    poor = new_key()
    genesis = Genesis(alloc={poor.address: 10 * ETH, keys.alice.address: ETH, keys.bob.address: ETH})
    with EmbeddedChain.open(chain_file(tmp_path), genesis=genesis, mining=Mining("manual")) as chain:
        drain = deploy(chain, keys.alice, DRAIN_RUNTIME)
        authorization = poor.sign_authorization({"chainId": chain.chain_id, "address": drain, "nonce": 0})
        chain.send_raw_transaction(bytes(keys.alice.sign_transaction({
            "type": 4, "chainId": chain.chain_id, "nonce": 1, "to": BOB, "value": 0, "gas": 100_000,
            "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9, "authorizationList": [authorization],
        }).raw_transaction))
        chain.mine()
        assert chain.get_code(addr(poor.address)) == b"\xef\x01\x00" + drain  # (and its nonce is 1)
        drainer = chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 2, to=poor.address, value=0,
                                                  gas=100_000))
        overdraw = chain.send_raw_transaction(sign(poor, chain.chain_id, 1, to=BOB, value=ETH))
        follower = chain.send_raw_transaction(sign(poor, chain.chain_id, 2, to=BOB, value=1))
        other = chain.send_raw_transaction(sign(keys.bob, chain.chain_id, 0, to=BOB, value=5))
        mined = chain.mine()
        assert mined.transactions == (drainer, other)
        assert [h for h, _ in mined.dropped] == [overdraw, follower]
        assert "balance" in (chain.dropped_reason(overdraw) or "")
        assert "dropped with the transaction before it" in (chain.dropped_reason(follower) or "")
        assert chain.get_receipt(overdraw) is None and chain.get_transaction(overdraw) is None
        assert chain.pending_nonce(addr(poor.address)) == 1  # the sender can send its nonce 1 again
        assert chain.pending_count == 0


def test_a_transaction_below_a_risen_base_fee_waits_with_its_followers(
    small_blocks: tuple[EmbeddedChain, Any, Any]
) -> None:
    chain, alice, bob = small_blocks
    first, second = outpriced(chain, alice, bob)
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
    small_blocks: tuple[EmbeddedChain, Any, Any]
) -> None:
    chain, alice, bob = small_blocks
    first, second = outpriced(chain, alice, bob)
    fee = chain.next_base_fee()
    replacement = chain.send_raw_transaction(sign(bob, chain.chain_id, 0, max_fee=2 * fee, priority=fee))
    mined = chain.mine()
    # the replacement pays; the follower still offers the old fee, so it waits for the next blocks
    assert mined.transactions == (replacement,) and mined.dropped == ()
    assert chain.get_transaction(first) is None and chain.get_transaction(second) is not None
