"""Fees (dataseal.chain.embedded.fees): the EIP-1559 base fee, and eth_feeHistory over a range of blocks
with its reward percentiles computed as geth computes them (the effective tips, weighted by gas used).

The RPC's side of eth_feeHistory (parameters, the JSON answer) is tested in test_rpc.py."""
from __future__ import annotations

from dataseal.chain.embedded.chain import EmbeddedChain
from dataseal.chain.embedded.fees import base_fee, next_base_fee
from tests.chain.embedded.conftest import Funded
from tests.chain.embedded.helpers import BOB, sign

GWEI = 10**9
GAS_LIMIT = 30_000_000  # the chain fixture's blocks: a gas target of 15 000 000
CALLDATA = b"\x01" * 1_000  # EIP-7623 floor: 21000 + 10 * 4 * 1000 = 61000 gas used


def test_the_next_base_fee_follows_eip1559(chain: EmbeddedChain) -> None:
    genesis = chain.head()
    assert genesis.gas_limit == GAS_LIMIT

    def after(gas_used: int, fee: int) -> int:
        return next_base_fee(genesis.copy(gas_used=gas_used, base_fee_per_gas=fee))

    assert after(15_000_000, GWEI) == GWEI  # at the target: unchanged
    assert after(30_000_000, GWEI) == GWEI + GWEI // 8  # a full block: up by an eighth
    assert after(22_500_000, GWEI) == GWEI + GWEI // 16  # halfway to full: up by a sixteenth
    assert after(0, GWEI) == GWEI - GWEI // 8  # an empty block: down by an eighth
    assert after(15_000_001, 7) == after(30_000_000, 7) == 8  # above the target it rises by 1 wei at least
    assert after(0, 7) == 7  # below it falls by 7 // 8 = 0 wei: the floor
    assert base_fee(genesis.copy(base_fee_per_gas=123)) == 123


def test_each_block_has_the_base_fee_its_parent_implies(chain: EmbeddedChain, keys: Funded) -> None:
    assert chain.next_base_fee() == next_base_fee(chain.head())
    chain.mine()  # empty: the fee falls
    chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=BOB))
    chain.mine()
    for number in (1, 2):
        header, parent = chain.header_for(number), chain.header_for(number - 1)
        assert base_fee(header) == next_base_fee(parent)
    assert base_fee(chain.header_for(1)) < base_fee(chain.header_for(0))


def test_fee_history_of_a_range_of_blocks(chain: EmbeddedChain, keys: Funded) -> None:
    for number in range(1, 5):  # blocks 1 to 4; 1 and 3 carry a transfer with a 2 gwei tip
        if number % 2:
            chain.send_raw_transaction(sign(keys.alice, chain.chain_id, number // 2, to=BOB, priority=2 * GWEI))
        chain.mine()
    headers = [chain.header_for(n) for n in range(5)]

    history = chain.fee_history(2, 3, [50])  # blocks 2 and 3, though the head is 4
    assert history.oldest_block == 2
    # one base fee more than blocks: the next block's, as block 3 implies it (not the head's successor)
    assert history.base_fee_per_gas == [base_fee(headers[2]), base_fee(headers[3]), base_fee(headers[4])]
    assert history.base_fee_per_gas[-1] == next_base_fee(headers[3]) != chain.next_base_fee()
    assert history.gas_used_ratio == [0.0, 21_000 / GAS_LIMIT]
    assert history.reward == [[0], [2 * GWEI]]  # an empty block's rewards are zeros

    by_hash = chain.fee_history(1, headers[3].hash, [])
    assert (by_hash.oldest_block, by_hash.reward) == (3, None)  # no percentiles asked: no rewards

    clipped = chain.fee_history(100, 1, [25, 75])  # more blocks than there are up to block 1
    assert clipped.oldest_block == 0 and len(clipped.gas_used_ratio) == 2
    assert clipped.base_fee_per_gas == [base_fee(headers[0]), base_fee(headers[1]), base_fee(headers[2])]
    assert clipped.reward == [[0, 0], [2 * GWEI, 2 * GWEI]]

    latest = chain.fee_history(1, "latest", [])
    assert latest.oldest_block == 4 and latest.base_fee_per_gas[-1] == chain.next_base_fee()


def rewards_block(chain: EmbeddedChain, keys: Funded) -> int:
    """A block of three transactions whose effective tips differ, as their gas used does; its gas used.

    By tip: 1 gwei for 21000 gas, 2 gwei (a fee cap that leaves only that much above the base fee, though
    the tip offered is more) for 21000 gas, 3 gwei for 61000 gas."""
    fee = chain.next_base_fee()
    sent = [
        chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=BOB, gas=61_000, data=CALLDATA,
                                        priority=3 * GWEI, max_fee=fee + 10 * GWEI)),
        chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 1, to=BOB, priority=GWEI, max_fee=fee + 10 * GWEI)),
        chain.send_raw_transaction(sign(keys.bob, chain.chain_id, 0, to=BOB, priority=fee + 2 * GWEI,
                                        max_fee=fee + 2 * GWEI)),
    ]
    assert chain.mine().transactions == tuple(sent)
    receipts = [chain.get_receipt(tx) for tx in sent]
    assert [r.gas_used for r in receipts if r is not None] == [61_000, 21_000, 21_000]
    return int(chain.head().gas_used)


def test_rewards_are_percentiles_of_the_effective_tips_weighted_by_gas_used(
    chain: EmbeddedChain, keys: Funded
) -> None:
    assert rewards_block(chain, keys) == 103_000
    # Sorted by tip, the gas used adds up to 21000 (1 gwei), 42000 (2 gwei), 103000 (3 gwei). A percentile
    # takes the tip of the first transaction whose sum reaches percentile% of the block's gas used.
    percentiles = [0, 20, 20.5, 40.7, 41, 100]  # of 103000: 0, 20600, 21115, 41921, 42230, 103000
    (rewards,) = chain.fee_history(1, "latest", percentiles).reward or []
    assert rewards == [GWEI, GWEI, 2 * GWEI, 2 * GWEI, 3 * GWEI, 3 * GWEI]


def test_a_reward_threshold_is_whole_gas_as_in_geth(chain: EmbeddedChain, keys: Funded) -> None:
    # geth truncates the threshold to whole gas: uint64(103000 * 20.3884 / 100) = 21000, which the first
    # transaction's 21000 gas reaches.
    assert rewards_block(chain, keys) == 103_000
    assert chain.fee_history(1, "latest", [20.3884]).reward == [[GWEI]]


def test_a_legacy_transactions_tip_is_its_gas_price_above_the_base_fee(chain: EmbeddedChain, keys: Funded) -> None:
    fee = chain.next_base_fee()
    chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=BOB, legacy=True, max_fee=fee + GWEI // 2))
    chain.mine()
    assert chain.fee_history(1, "latest", [0, 50, 100]).reward == [[GWEI // 2] * 3]
