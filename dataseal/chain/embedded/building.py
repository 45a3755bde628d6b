"""Building a block: executing the candidates (nothing written), then committing the result.

:func:`execute_block` runs the pending transactions on a VM in acceptance order, one at a time:
one that turns out to be invalid when its turn comes (its sender's funds were spent by an
earlier transaction) is dropped with its reason, without costing the others their block; one
whose fee cap is below the block's base fee is not invalid, only too cheap for now, and waits
with its sender's later transactions. py-evm keeps the new state in memory meanwhile, so the
miner runs this without the chain's lock. :func:`commit_block` then writes the block — state,
bodies, receipts, indexes, canonical head — inside the caller's SQLite transaction.
"""
from __future__ import annotations

import os

from eth.abc import BlockAPI, BlockHeaderAPI, ReceiptAPI, VirtualMachineAPI
from eth.constants import BLANK_ROOT_HASH
from eth.vm.forks.london.headers import calculate_expected_base_fee_per_gas
from eth_typing import Hash32
from eth_utils import ValidationError

from dataseal.chain.embedded.fees import base_fee
from dataseal.chain.embedded.interpreter.hooks import give_way
from dataseal.chain.embedded.pool import PendingTx
from dataseal.chain.embedded.tries import ordered_trie_root_and_nodes
from dataseal.chain.embedded.vm import DatasealChain


class ExecutedBlock:
    """What executing a block's transactions produced, before anything is written."""

    def __init__(self, header: BlockHeaderAPI) -> None:
        self.header = header  # with the gas used and bloom of the included transactions
        self.included: list[PendingTx] = []
        self.receipts: list[ReceiptAPI] = []
        self.dropped: list[tuple[PendingTx, str]] = []  # (transaction, reason)
        self.fee_waiting = False  # a transaction waits for the base fee to fall to its fee cap
        self.wanted = False  # whether a block is to be written (transactions, or an empty block asked for)
        self.tx_trie: tuple[Hash32, dict[Hash32, bytes]] = (BLANK_ROOT_HASH, {})
        self.receipt_trie: tuple[Hash32, dict[Hash32, bytes]] = (BLANK_ROOT_HASH, {})


class Poisoned(Exception):
    """A transaction whose execution raised something other than a validation error."""

    def __init__(self, entry: PendingTx, cause: BaseException) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.entry = entry


def execute_block(
    vm: VirtualMachineAPI, header: BlockHeaderAPI, candidates: list[PendingTx], allow_empty: bool,
    *, lower_fee: bool = False,
) -> ExecutedBlock:
    """Run the candidates on ``vm``; compute the block's tries and state root in memory (no writes).

    A block is wanted when transactions were included, when ``allow_empty``, or — with
    ``lower_fee`` (the miner) — when transactions wait for the base fee to fall and this block
    lowers it. Raises :class:`Poisoned` for a transaction that breaks the VM.
    """
    current = header
    built = ExecutedBlock(header)
    fee = base_fee(header)
    blocked: dict[bytes, str | None] = {}  # sender -> why its later transactions are dropped (None: they wait)
    for entry in candidates:
        if entry.sender in blocked:
            reason = blocked[entry.sender]
            if reason is not None:
                reason = f"dropped with the transaction before it from the same sender ({reason})"
                built.dropped.append((entry, reason))
            continue
        if current.gas_used + entry.tx.gas > current.gas_limit:
            blocked[entry.sender] = None  # waits for the next block, with its sender's later ones
            continue
        if int(entry.tx.max_fee_per_gas) < fee:
            # Valid, only too cheap for this block: it waits (with its sender's later ones) for the
            # base fee to fall, or for a replacement paying more. py-evm would call it invalid.
            blocked[entry.sender] = None
            built.fee_waiting = True
            continue
        give_way()  # the miner, the lock released: requests being served first
        try:
            receipt, _ = vm.apply_transaction(current, entry.tx)
        except ValidationError as exc:
            reason = str(exc)
            blocked[entry.sender] = reason
            built.dropped.append((entry, reason))
            continue
        except Exception as exc:
            raise Poisoned(entry, exc) from exc
        current = vm.add_receipt_to_header(current, receipt)
        # (no vm.increment_blob_gas_used: blob transactions are refused, and it adds 0 for the others)
        built.included.append(entry)
        built.receipts.append(receipt)
    built.header = current
    falling = lower_fee and built.fee_waiting and calculate_expected_base_fee_per_gas(current) < fee
    if built.included or allow_empty or falling:
        built.wanted = True
        give_way()  # (the miner: requests being served first, here and in the state root's work)
        built.tx_trie = ordered_trie_root_and_nodes([e.tx.encode() for e in built.included])
        built.receipt_trie = ordered_trie_root_and_nodes([r.encode() for r in built.receipts])
        give_way()
        vm.state.make_state_root()  # the trie work; finalizing adds only the coinbase's touch
    return built


def commit_block(
    chain: DatasealChain, vm: VirtualMachineAPI, parent: BlockHeaderAPI, built: ExecutedBlock
) -> BlockAPI | None:
    """Write an executed block (inside the caller's store transaction); None when no block is wanted.

    What ``vm.set_block_transactions_and_withdrawals``, ``vm.pack_block`` and ``vm.finalize_block``
    do, with the tries computed by :func:`execute_block` and without their ``Block.copy()``, which
    deep-copies every transaction of the block twice: the block is built once instead (no block
    rewards since the merge: finalizing is persisting the state and stamping its root).
    ``vm.mine_block()`` would also validate the block, rebuilding its transaction trie: the
    builder made the trie a moment ago, so only the header is checked against its parent.
    """
    if not built.wanted:
        return None
    tx_root, tx_nodes = built.tx_trie
    receipt_root, receipt_nodes = built.receipt_trie
    chain.chaindb.persist_trie_data_dict(tx_nodes)
    chain.chaindb.persist_trie_data_dict(receipt_nodes)
    vm.state.persist()
    header = built.header.copy(transaction_root=tx_root, receipt_root=receipt_root,
                               mix_hash=new_mix_hash(), state_root=vm.state.state_root)
    empty = vm.get_block()
    block = type(empty)(header=header, transactions=[e.tx for e in built.included], uncles=[],
                        withdrawals=empty.withdrawals)
    vm.validate_header(block.header, parent)
    chain.chaindb.persist_block(block)
    return block


def new_mix_hash() -> bytes:
    """A new block's mix hash (PREVRANDAO): random, as the beacon chain's would be to a contract."""
    return os.urandom(32)
