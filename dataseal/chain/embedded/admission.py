"""Admission: whether a signed transaction enters the pool, with geth's reason when it does not.

:func:`decode_transaction` checks the bytes on their own (size, type, encoding, chain id,
signature); :func:`admit` checks them against the chain (nonce, gas, fees, funds, replacement)
and journals an accepted transaction before it is pooled, so that a crash between acceptance
and mining does not lose it; :func:`replay_journal` re-admits the journal when the chain opens.
"""
from __future__ import annotations

import logging

from eth.abc import SignedTransactionAPI, TransactionBuilderAPI
from eth_typing import Address
from eth_utils import ValidationError, to_checksum_address

from dataseal.chain.embedded.core import ChainCore
from dataseal.chain.embedded.errors import INVALID_PARAMS, TransactionRefused
from dataseal.chain.embedded.fees import next_base_fee
from dataseal.chain.embedded.pool import PendingTx

logger = logging.getLogger("dataseal.chain.embedded")

REPLACEMENT_BUMP_PERCENT = 10  # geth's default price bump for a replacement
BLOB_TX_TYPE = 3


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
    try:
        tx = builder.decode(raw)
    except Exception as exc:  # rlp and py-evm raise several unrelated types for malformed bytes
        raise TransactionRefused(
            f"the bytes are not a signed transaction ({type(exc).__name__}: {exc}): send the raw bytes that "
            "signing produced (e.g. eth_account's SignedTransaction.raw_transaction)",
            code=INVALID_PARAMS,
        ) from None
    try:
        tx.validate()
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
    try:
        sender = bytes(tx.sender)
    except Exception as exc:  # eth_keys raises BadSignature or ValidationError
        raise TransactionRefused(
            f"invalid signature: {exc} (sign the transaction again with the sending account's key)"
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
    wanted = max(int(tx.intrinsic_gas), calldata_floor(bytes(tx.data)))
    if tx.gas < wanted:
        raise TransactionRefused(
            f"intrinsic gas too low: have {tx.gas}, want {wanted} (sign it again with a gas limit of at least "
            f"{wanted}; eth_estimateGas tells what it needs)"
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
    cost = int(tx.gas) * max_fee + int(tx.value)
    if balance < cost:
        raise TransactionRefused(
            f"insufficient funds for gas * price + value: address {who()} have {balance} want {cost} (fund "
            "the account, or lower the value, gas limit or fee cap)"
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
