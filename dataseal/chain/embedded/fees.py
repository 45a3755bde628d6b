"""Fees: the base fee (EIP-1559, as py-evm computes it), the suggested tip, and eth_feeHistory."""
from __future__ import annotations

from collections.abc import Sequence

from eth.abc import BlockHeaderAPI
from eth.vm.forks.london.headers import calculate_expected_base_fee_per_gas

from dataseal.chain.embedded.core import BlockData, ChainCore
from dataseal.chain.embedded.records import BlockRef, FeeHistory

SUGGESTED_PRIORITY_FEE = 10**9  # 1 gwei, as hardhat and geth's default suggest


def base_fee(header: BlockHeaderAPI) -> int:
    """The base fee of the block ``header``."""
    return int(header.base_fee_per_gas or 0)


def next_base_fee(parent: BlockHeaderAPI) -> int:
    """The base fee of the block after ``parent``."""
    return int(calculate_expected_base_fee_per_gas(parent))


def fee_history(core: ChainCore, count: int, newest: BlockRef, percentiles: Sequence[float]) -> FeeHistory:
    """eth_feeHistory over the ``count`` blocks up to ``newest`` (the core's lock held)."""
    last = core.header_for(newest)
    count = min(count, int(last.block_number) + 1)
    first = int(last.block_number) - count + 1
    base_fees: list[int] = []
    ratios: list[float] = []
    rewards: list[list[int]] = []
    for number in range(first, int(last.block_number) + 1):
        header = last if number == last.block_number else core.header_at(number)
        base_fees.append(base_fee(header))
        ratios.append(header.gas_used / header.gas_limit)
        if percentiles:
            rewards.append(_rewards(core.block_data(header), percentiles))
    base_fees.append(next_base_fee(last))
    return FeeHistory(first, base_fees, ratios, rewards if percentiles else None)


def _rewards(data: BlockData, percentiles: Sequence[float]) -> list[int]:
    """geth's algorithm: the effective tips of the block's transactions, weighted by gas used."""
    if not data.receipts:
        return [0 for _ in percentiles]
    header = data.header
    fee = base_fee(header)
    tips = sorted(
        (min(int(tx.max_priority_fee_per_gas), int(tx.max_fee_per_gas) - fee), data.gas_used(i))
        for i, tx in enumerate(data.block.transactions)
    )
    rewards: list[int] = []
    index, cumulative = 0, tips[0][1]
    for percentile in percentiles:
        threshold = int(header.gas_used * percentile / 100)  # whole gas, as geth's uint64(...)
        while cumulative < threshold and index < len(tips) - 1:
            index += 1
            cumulative += tips[index][1]
        rewards.append(tips[index][0])
    return rewards
