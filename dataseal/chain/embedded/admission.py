"""Admission: whether a signed transaction enters the pool, with geth's reason when it does not.

:func:`decode_transaction` checks the bytes on their own (size, type, encoding, intrinsic and
floor gas, chain id, init code size, fee cap against tip, signature); :func:`admit` checks them
against the chain (nonce, block gas limit, base fee, replacement, and funds for this transaction
with the sender's pending ones) and journals an accepted transaction before it is
pooled, so that a crash between acceptance and mining does not lose it; :func:`replay_journal`
re-admits the journal when the chain opens.

These are geth's txpool rules (``ValidateTransaction``, ``ValidateTransactionWithState``), so
that a hash answered is a transaction the miner will include, or that waits truthfully (for a
base fee that fell below its fee cap since, or for room in a block). py-evm's ``tx.validate()``
already checks the fields' ranges (uint256 values and fee caps, nonce below 2**64 - 1, a set-code
transaction's authorizations) and is not repeated; what it checks only when the transaction
executes (a low s, the init code size, the funds) is checked here with integer comparisons on the
decoded fields, and the pool keeps each sender's pending cost as a running sum, so that the hot
path gains no loop and no second decoding or signature recovery.
"""
from __future__ import annotations

import logging

from eth.abc import SignedTransactionAPI, TransactionBuilderAPI
from eth.vm.forks.shanghai.constants import INITCODE_WORD_COST, MAX_INITCODE_SIZE
from eth_keys.constants import SECPK1_N
from eth_typing import Address
from eth_utils import ValidationError, to_checksum_address

from dataseal.chain.embedded.core import ChainCore
from dataseal.chain.embedded.errors import INVALID_PARAMS, TransactionRefused
from dataseal.chain.embedded.fees import next_base_fee
from dataseal.chain.embedded.pool import PendingTx, transaction_cost

logger = logging.getLogger("dataseal.chain.embedded")

REPLACEMENT_BUMP_PERCENT = 10  # geth's default price bump for a replacement
BLOB_TX_TYPE = 3
TYPED_TX_TYPES = (1, 2, 4)  # EIP-2930 access lists, EIP-1559 fees, EIP-7702 set code (0: legacy, an RLP list)
HALF_N = SECPK1_N // 2  # EIP-2: s above it is the same signature's malleable twin


def initcode_gas(tx: SignedTransactionAPI) -> int:
    """EIP-3860: what a creation pays per word of init code (py-evm charges it at execution, geth
    counts it in the intrinsic gas: so does admission)."""
    return INITCODE_WORD_COST * ((len(tx.data) + 31) // 32) if not tx.to else 0


def calldata_floor(data: bytes) -> int:
    """EIP-7623: the least gas a transaction with this calldata is charged."""
    zeros = data.count(0)
    return 21_000 + 10 * (zeros + 4 * (len(data) - zeros))


def decode_transaction(
    raw: bytes, *, chain_id: int, builder: type[TransactionBuilderAPI], max_bytes: int
) -> tuple[SignedTransactionAPI, bytes]:
    """The transaction in ``raw`` and its sender; raises :class:`TransactionRefused` with the reason."""
    if len(raw) > max_bytes:
        raise TransactionRefused(
            f"oversized data: the transaction is {len(raw)} bytes, at most {max_bytes} (spread the data over "
            "several transactions, or keep it off chain and send its hash)"
        )
    if raw[:1] == bytes([BLOB_TX_TYPE]):
        raise TransactionRefused(
            "blob transactions (type 3) are not supported by the embedded chain: send the data as calldata "
            "in a type 2 (EIP-1559) transaction"
        )
    if raw and raw[0] < 0xC0 and raw[0] not in TYPED_TX_TYPES:  # (an RLP list, 0xc0 and up, is a legacy one)
        raise TransactionRefused(
            f"the bytes are not a signed transaction: transaction type not supported: type {raw[0]} (this chain "
            f"takes legacy transactions and types {', '.join(map(str, TYPED_TX_TYPES))})",
            code=INVALID_PARAMS,
        )
    try:
        tx = builder.decode(raw)
    except Exception as exc:  # rlp and py-evm raise several unrelated types for malformed bytes
        raise TransactionRefused(
            f"the bytes are not a signed transaction ({type(exc).__name__}: {exc}): send the raw bytes that "
            "signing produced (e.g. eth_account's SignedTransaction.raw_transaction)",
            code=INVALID_PARAMS,
        ) from None
    gas = int(tx.gas)
    intrinsic = int(tx.intrinsic_gas) + initcode_gas(tx)
    if gas < intrinsic:
        raise TransactionRefused(
            f"intrinsic gas too low: gas {gas}, minimum needed {intrinsic} (sign it again with a gas limit of at "
            f"least {intrinsic}; eth_estimateGas tells what it needs)"
        )
    floor = calldata_floor(bytes(tx.data))
    if gas < floor:
        raise TransactionRefused(
            f"insufficient gas for floor data gas cost: gas {gas}, minimum needed {floor} (EIP-7623: calldata costs "
            f"at least 10 gas per byte, 40 per non-zero byte; sign it again with a gas limit of at least {floor})"
        )
    try:
        tx.validate()  # (after the intrinsic gas: py-evm's legacy transactions check it here, without the numbers)
    except ValidationError as exc:
        raise TransactionRefused(f"invalid transaction: {exc}") from None
    signed_for = tx.chain_id
    if signed_for is None:
        raise TransactionRefused(
            f"only replay-protected (EIP-155) transactions are accepted: sign with chain id {chain_id}"
        )
    if signed_for != chain_id:
        raise TransactionRefused(
            f"invalid chain id: the transaction is signed for chain {signed_for}, this chain is {chain_id}: "
            "sign it again with this chain's id (eth_chainId)"
        )
    if not tx.to and len(tx.data) > MAX_INITCODE_SIZE:
        raise TransactionRefused(
            f"max initcode size exceeded: code size {len(tx.data)}, limit {MAX_INITCODE_SIZE} (EIP-3860: deploy "
            "less code per contract, e.g. split it into libraries)"
        )
    tip, fee_cap = int(tx.max_priority_fee_per_gas), int(tx.max_fee_per_gas)
    if tip > fee_cap:
        raise TransactionRefused(
            f"max priority fee per gas higher than max fee per gas: maxPriorityFeePerGas: {tip}, maxFeePerGas: "
            f"{fee_cap} (the tip is part of the fee cap: sign it again with a tip at most the fee cap)"
        )
    if not (0 < tx.r < SECPK1_N and 0 < tx.s <= HALF_N):  # (py-evm checks a low s only when executing)
        raise TransactionRefused(
            "invalid sender: invalid transaction v, r, s values (EIP-2: s must be at most secp256k1n/2; sign the "
            "transaction again with a current library, which produces such signatures)"
        )
    try:
        sender = bytes(tx.sender)
    except Exception as exc:  # eth_keys raises BadSignature or ValidationError
        raise TransactionRefused(
            f"invalid sender: {exc} (sign the transaction again with the sending account's key)"
        ) from None
    return tx, sender


def admit(core: ChainCore, tx: SignedTransactionAPI, raw: bytes, sender: bytes, *, journal: bool) -> PendingTx:
    """Check ``tx`` against the head and the pool; pool it (journalled first, with ``journal``).

    The core's lock held. A journalled transaction being replayed (``journal`` False) was accepted
    once: it is not refused for a base fee above its fee cap, it waits for the fee to fall.
    """
    tx_hash = bytes(tx.hash)

    def who() -> str:  # the sender as a person reads it, for a refusal's message
        return to_checksum_address(sender)

    pool = core.pool
    if tx_hash in pool:
        raise TransactionRefused(f"already known: transaction 0x{tx_hash.hex()} is pending")
    state = core.state_at(core.head)
    state_nonce = state.get_nonce(Address(sender))
    nonce = int(tx.nonce)
    if nonce < state_nonce:
        raise TransactionRefused(
            f"nonce too low: address {who()}, tx: {nonce} state: {state_nonce} (the next nonce is "
            f"{pool.next_nonce(sender, state_nonce)}; ask eth_getTransactionCount with \"pending\")"
        )
    expected = pool.next_nonce(sender, state_nonce)
    if nonce > expected:
        raise TransactionRefused(
            f"nonce too high: address {who()}, tx: {nonce}, next: {expected} (this node keeps no gapped "
            "transactions: send the missing nonces first)"
        )
    gas_limit = int(core.head.gas_limit)
    if tx.gas > gas_limit:
        raise TransactionRefused(
            f"exceeds block gas limit: the transaction asks for {tx.gas} gas, blocks hold {gas_limit} (lower "
            "its gas limit to what eth_estimateGas says, or split the work over several transactions)"
        )
    base_fee = next_base_fee(core.head)
    max_fee = int(tx.max_fee_per_gas)
    if max_fee < base_fee and journal:  # (a journalled one was accepted once: it waits for the fee to fall)
        raise TransactionRefused(
            f"max fee per gas less than block base fee: address {who()}, maxFeePerGas: {max_fee}, "
            f"baseFee: {base_fee} (raise maxFeePerGas to at least the base fee; eth_gasPrice suggests one)"
        )
    replacing = pool.at_nonce(sender, nonce) if nonce < expected else None
    if replacing is not None:
        old = replacing.tx
        bump = 100 + REPLACEMENT_BUMP_PERCENT
        if (max_fee * 100 < int(old.max_fee_per_gas) * bump
                or int(tx.max_priority_fee_per_gas) * 100 < int(old.max_priority_fee_per_gas) * bump):
            raise TransactionRefused(
                f"replacement transaction underpriced: transaction 0x{bytes(replacing.hash).hex()} with nonce "
                f"{nonce} is pending; a replacement must raise both fee caps by {REPLACEMENT_BUMP_PERCENT}%"
            )
    balance = state.get_balance(Address(sender))
    cost = transaction_cost(tx)
    queued = pool.cost_from(sender) - (0 if replacing is None else replacing.cost)
    if balance < cost:
        raise TransactionRefused(
            f"insufficient funds for gas * price + value: address {who()} have {balance} want {cost} (fund "
            "the account, or lower the value, gas limit or fee cap)"
        )
    # Its sender's pending transactions are mined first: the balance must cover them all at their fee caps.
    if balance < queued + cost:
        raise TransactionRefused(
            f"insufficient funds for gas * price + value: balance {balance}, queued cost {queued}, tx cost {cost}, "
            f"overshot {queued + cost - balance} (the sender's pending transactions come first; wait for them to "
            "be mined, fund the account, or lower the value, gas limit or fee cap)"
        )
    if replacing is not None:
        if journal:
            core.store.journal_replace(replacing.hash, tx_hash, raw)
        return pool.replace(replacing, tx, raw)
    if journal:
        core.store.journal_add(tx_hash, raw)
    return pool.add(tx, raw, sender)


def replay_journal(core: ChainCore, builder: type[TransactionBuilderAPI], max_bytes: int) -> None:
    """Re-admit the journalled transactions (the chain opening); those no longer valid are dropped."""
    stale: list[bytes] = []
    for tx_hash, raw in core.store.journal_items():
        try:
            tx, sender = decode_transaction(raw, chain_id=core.chain_id, builder=builder, max_bytes=max_bytes)
            admit(core, tx, raw, sender, journal=False)
        except TransactionRefused as exc:
            logger.warning("journalled transaction 0x%s dropped on reopening: %s", tx_hash.hex(), exc.message)
            core.dropped[tx_hash] = exc.message
            stale.append(tx_hash)
    core.store.journal_remove(stale)
    if core.pool:
        logger.info("%d journalled transaction(s) waiting to be mined", len(core.pool))
