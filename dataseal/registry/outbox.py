"""The outbox: how every write of the registry reaches the chain once, even when a run dies half-way.

A write is known by what it does, its natural key (``register:<chain>:<registry>:<root>``,
``cancel:<chain>:<registry>:<asset>``...), and goes through four moments, each recorded in
:class:`~dataseal.registry.db.models.local.OutboxTx` before the next one starts:

1. **prepared** — the intent, with what a rerun needs (a commitment's random salt), written before
   anything is signed; the attempt counter is raised just before the transaction is handed to the node;
2. **sent** — the transaction's hash, nonce and signed bytes, as soon as the node took it;
3. **mined** — its receipt succeeded (or the chain shows the action done);
4. **failed** — its receipt reverted (a rerun may try again, after asking the chain).

A rerun never sends blindly. A **sent** transaction is looked up by its hash: mined, it is finished; still
in the node's pool, it is waited for; forgotten by the node, its signed bytes are handed over again (the same
transaction, the same nonce: never a second one); replaced (its nonce used by another transaction), the chain
is asked. A **prepared** intent whose attempt may have reached the node (the run died between handing it
over and recording its hash) waits until the account has no transaction pending, then asks the chain; if the
account still has pending transactions after the receipt timeout, the run stops (it would risk a second write)
and says to run again once they are mined.
The chain is the final judge: every write says how to tell it is done (``done``: the root is registered by
this owner, the asset is cancelled, the commitment exists), and a write the chain shows done is not sent.
A write whose transaction was mined and that the chain no longer shows done (cancelled, then registered again
once its root is free; a dispute dismissed and raised again) is a new write under the same key:
:meth:`Outbox.retire_undone` keeps the finished record aside first, so that it is sent, not answered from the
old one.

A **mined** record is not taken on trust either: a reorganisation may have dropped its block. A rerun looks its
transaction up again (:meth:`Outbox.recheck_mined`): a receipt in a block that is still the chain's at that height
stands (the record follows it to another block when the transaction was mined again there); no receipt, or a block
the chain replaced, and the record goes back to **sent** — its signed bytes are handed over again when their nonce
is still the account's next one (the same transaction: never a second write), else the chain is asked and the write
is sent afresh if it does not have it. What was found is kept in :attr:`Outbox.reorged` (one line each), so that the
caller can say what happened.

``hook(moment)`` is called at each moment (``"<kind>:prepared"``, ``"<kind>:submitting"``,
``"<kind>:submitted"`` — handed to the node, hash not yet recorded — ``"<kind>:sent"``, ``"<kind>:mined"``),
so that tests can stop a run at any of them and run again.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eth_utils import to_checksum_address
from hexbytes import HexBytes
from sqlmodel import select
from web3 import Web3
from web3.exceptions import TransactionNotFound
from web3.types import TxReceipt

from dataseal.chain.connection.failures import (
    is_already_known,
    is_connection_failure,
    is_nonce_too_low,
    rpc_message,
    unreachable,
)
from dataseal.chain.contracts.client import Submitted
from dataseal.chain.contracts.revert import replay_failure
from dataseal.chain.errors import ChainError, ContractRevert, InsufficientFunds, TransactionDropped
from dataseal.chain.sending.sender import PendingTransaction, TxSender
from dataseal.errors import DatasealError, ErrorKind, InvalidInput
from dataseal.registry.db import Database
from dataseal.registry.db.models.local import OutboxState, OutboxTx, utc_now

Hook = Callable[[str], None]
#: Seconds between two looks at the account's pending transactions, while waiting for them to settle.
POLL_SECONDS = 0.25
#: Errors raised before a transaction reaches the node (a revert found while estimating gas, a value that does
#: not encode, an account that cannot pay): nothing was sent, so the attempt is taken back.
NOT_SENT = (ContractRevert, InvalidInput, InsufficientFunds)


@dataclass(frozen=True)
class Delivered:
    """A write the chain has: the transaction that did it and its receipt, or neither when the chain showed it
    done without one of ours to point at (a run died before recording the hash, and the chain already had it)."""

    key: str
    tx_hash: str | None
    receipt: TxReceipt | None
    payload: dict[str, Any] = field(default_factory=dict)
    resumed: bool = False
    """Whether an earlier run had started it (this run finished it, or found it finished)."""


def get_record(db: Database, key: str) -> OutboxTx | None:
    """The outbox record of ``key`` in ``db`` (of any sender), or None: whether an earlier run started it."""
    with db.session() as session:
        return session.exec(select(OutboxTx).where(OutboxTx.key == key)).first()


def _resumed(row: OutboxTx) -> bool:
    """Whether an earlier run may have handed ``row``'s transaction to the node."""
    return row.attempts > 0 or row.state != OutboxState.PREPARED


class Outbox:
    """The outbox of one sender on one chain, recorded in ``db``."""

    def __init__(self, db: Database, w3: Web3, sender: TxSender, *, chain_id: int, hook: Hook | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.db = db
        self.w3 = w3
        self.sender = sender
        #: The node's name in errors, and how long to wait for an earlier run's transactions (a
        #: :class:`~dataseal.chain.sending.sender.LocalSender`'s; defaults for other senders).
        self.endpoint: str = getattr(sender, "endpoint", "the node")
        self.receipt_timeout: float = float(getattr(sender, "receipt_timeout", 120.0))
        self.chain_id = chain_id
        self.hook = hook
        self.sleep = sleep
        #: What this outbox found undone by reorganisations (a mined transaction dropped, or mined again in another
        #: block), one line each, in the order found.
        self.reorged: list[str] = []

    # ----------------------------------------------------------------------------------- records

    def get(self, key: str) -> OutboxTx | None:
        """The record of ``key``, or None."""
        return get_record(self.db, key)

    def prepare(self, key: str, kind: str, payload: dict[str, Any] | None = None) -> OutboxTx:
        """The intent of ``key``: the earlier run's, payload and all, or a new one with ``payload``."""
        with self.db.session() as session:
            row = session.exec(select(OutboxTx).where(OutboxTx.key == key)).first()
            if row is None:
                row = OutboxTx(key=key, kind=kind, chain_id=self.chain_id, sender=self.sender.address,
                               payload=dict(payload or {}))
                session.add(row)
            session.flush()
        self._at(f"{kind}:prepared")
        return row

    def renew(self, key: str, payload: dict[str, Any]) -> OutboxTx:
        """Start ``key`` afresh with a new payload (a commitment that expired unrevealed needs a new salt); only
        once its transaction is mined or failed, never while one may still be pending."""
        with self.db.session() as session:
            row = session.exec(select(OutboxTx).where(OutboxTx.key == key)).one()
            row.payload, row.state, row.tx_hash, row.raw_tx, row.nonce = dict(payload), OutboxState.PREPARED, None, \
                None, None
            row.block_number, row.error, row.attempts, row.updated = None, None, 0, utc_now()
            session.add(row)
        return row

    def mark_done(self, key: str, *, tx_hash: str | None = None, block_number: int | None = None) -> None:
        """Record ``key`` as done because the chain shows it done (found there by the caller, e.g. in the logs,
        with the transaction that did it when known; a done record that lacks its transaction gets it); nothing
        when there is no record of it."""
        row = self.get(key)
        if row is None:
            return
        if row.state == OutboxState.MINED and (tx_hash is None or (
                tx_hash == row.tx_hash and block_number in (None, row.block_number))):
            return
        if row.state == OutboxState.MINED and row.tx_hash and tx_hash is not None:
            if tx_hash != row.tx_hash:  # the chain's record wins over ours: a reorganisation replaced ours
                self._note(f"{row.kind}: the chain has it from transaction {tx_hash} (block {block_number}), not "
                           f"from {row.tx_hash} (block {row.block_number}), which a reorganisation dropped")
            elif block_number != row.block_number:
                self._note(f"{row.kind}: transaction {tx_hash} is now in block {block_number}, not "
                           f"{row.block_number} (a reorganisation mined it again)")
        self._update(key, state=OutboxState.MINED, tx_hash=tx_hash or row.tx_hash,
                     block_number=block_number if block_number is not None else row.block_number, error=None)

    def forget(self, key: str) -> None:
        """Drop the record of ``key`` (an intent nothing was sent for)."""
        with self.db.session() as session:
            row = session.exec(select(OutboxTx).where(OutboxTx.key == key)).first()
            if row is not None:
                session.delete(row)

    def _update(self, key: str, **values: Any) -> OutboxTx:
        with self.db.session() as session:
            row = session.exec(select(OutboxTx).where(OutboxTx.key == key)).one()
            for name, value in values.items():
                setattr(row, name, value)
            row.updated = utc_now()
            session.add(row)
        return row

    def _at(self, moment: str) -> None:
        if self.hook is not None:
            self.hook(moment)

    def _note(self, line: str) -> None:
        if line not in self.reorged:
            self.reorged.append(line)

    # ----------------------------------------------------------------------------------- delivery

    def deliver(self, key: str, send: Callable[[], Submitted[Any]], done: Callable[[], bool]) -> Delivered:
        """Get the prepared write ``key`` onto the chain once: finish an earlier run's transaction, or ask
        the chain (``done``) whether it already has the action, and only then ``send`` it (see the module
        documentation). A transaction that reverts raises its decoded error (the record says failed)."""
        row = self.get(key)
        if row is None:
            raise InvalidInput(f"no outbox record {key!r}: prepare a write before delivering it",
                               hint="this is a bug in the caller")  # pragma: no cover - a programming error
        payload = dict(row.payload)
        resumed = _resumed(row)
        if resumed:
            found = self._reconcile(row, done)
            if found is not None:
                return found
            row = self.get(key) or row
        self._update(key, attempts=row.attempts + 1)
        self._at(f"{row.kind}:submitting")
        try:
            submitted = send()
        except NOT_SENT:
            self._update(key, attempts=row.attempts)  # nothing reached the node
            if row.attempts == 0 and row.state == OutboxState.PREPARED:
                self.forget(key)  # a first try that never left: nothing half-recorded
            raise
        self._at(f"{row.kind}:submitted")
        pending = submitted.pending
        self._update(key, state=OutboxState.SENT, tx_hash=pending.tx_hash, nonce=pending.nonce,
                     raw_tx="0x" + bytes(pending.raw).hex(), error=None)
        self._at(f"{row.kind}:sent")
        receipt = self.sender.wait(self.w3, pending)
        return self._finished(self.get(key) or row, receipt, submitted, payload, resumed=resumed)

    def reconcile(self, key: str, done: Callable[[], bool]) -> Delivered | None:
        """What an earlier run left of ``key``, settled without sending anything: :class:`Delivered` when the chain
        has the write (its transaction mined, or ``done`` says so once the account has nothing pending), None when
        nothing of it is on chain or on its way (no record, or a record whose transactions never made it), so that
        it may be sent afresh. A transaction of it that reverted raises its decoded error, as :meth:`deliver`."""
        row = self.get(key)
        return None if row is None else self._reconcile(row, done)

    def _reconcile(self, row: OutboxTx, done: Callable[[], bool]) -> Delivered | None:
        payload = dict(row.payload)
        if row.state == OutboxState.MINED:
            if not row.tx_hash:  # the chain showed it done, with no transaction of ours to look up
                return Delivered(row.key, row.tx_hash, None, payload, resumed=True)
            receipt = self.recheck_mined(row)
            if receipt is not None:
                return Delivered(row.key, row.tx_hash, receipt, payload, resumed=True)
            row = self.get(row.key) or row  # dropped by a reorganisation: sent again below, as any sent one
        if row.state == OutboxState.SENT and row.tx_hash:
            receipt = self._settle(row)
            if receipt is not None:
                return self._finished(row, receipt, None, payload, resumed=True)
        still_pending = self._wait_account_idle()
        if done():
            # the transaction that did it: ours only when the chain has its receipt (not one a reorganisation dropped)
            tx_hash = row.tx_hash if row.state == OutboxState.SENT and row.tx_hash and \
                self._canonical_receipt(row.tx_hash) is not None else None
            self._update(row.key, state=OutboxState.MINED, tx_hash=tx_hash, error=None)
            self._at(f"{row.kind}:mined")
            return Delivered(row.key, tx_hash, None, payload, resumed=True)
        if still_pending and _resumed(row):
            # the earlier run's transaction may be among them: sending now could do the write twice
            raise ChainError(
                f"{row.kind}: account {self.sender.address} still has {still_pending} transaction(s) pending at "
                f"{self.endpoint} after {self.receipt_timeout:g} s, and an earlier run's {row.kind} may be one of them",
                hint="wait until the node has mined them (or dropped them), then run again",
                options=("receipt_timeout",), kind=ErrorKind.UNAVAILABLE)
        return None

    def retire(self, key: str, suffix: str) -> None:
        """Keep the finished write ``key`` under ``key#suffix``, so that the same key starts a new write (a grant,
        which has no natural key on chain, is known by its terms only until it is made)."""
        with self.db.session() as session:
            row = session.exec(select(OutboxTx).where(OutboxTx.key == key)).first()
            if row is not None:
                row.key, row.updated = f"{key}#{suffix}", utc_now()
                session.add(row)

    def retire_undone(self, key: str, done: Callable[[], bool]) -> bool:
        """Keep the finished write ``key`` under ``key#<record id>`` when the chain no longer shows it done
        (``done`` is false: what it did was undone since — a registration cancelled and its root freed, a dismissed
        dispute raised again), so that the same key starts a new write instead of answering with the old one;
        whether it did. Only a record whose transaction was mined is retired: a prepared, sent or failed one is an
        earlier run's unfinished write, which :meth:`deliver` finishes (never sent twice)."""
        row = self.get(key)
        if row is None or row.state != OutboxState.MINED or done():
            return False
        if row.tx_hash and self.recheck_mined(row) is None:
            return False  # not undone: never done, its block dropped by a reorganisation; deliver finishes it
        self.retire(key, str(row.id))
        return True

    def recheck_mined(self, row: OutboxTx) -> TxReceipt | None:
        """The receipt of the mined record ``row``'s transaction if the chain still has it (in a block that is
        the chain's at that height; the record follows it to another block when it was mined again there); None
        when a reorganisation dropped it: the record is then **sent** again (its signed bytes and nonce kept), and
        what happened is noted in :attr:`reorged`. A record without a transaction is left as it is (None)."""
        if row.state != OutboxState.MINED or not row.tx_hash:
            return None
        receipt = self._canonical_receipt(row.tx_hash)
        if receipt is not None:
            block = int(receipt["blockNumber"])
            if block != row.block_number:
                self._note(f"{row.kind}: transaction {row.tx_hash} is now in block {block}, not {row.block_number} "
                           "(a reorganisation mined it again)")
                self._update(row.key, block_number=block)
            return receipt
        where = f"block {row.block_number}" if row.block_number is not None else "its block"
        self._note(f"{row.kind}: transaction {row.tx_hash}, mined in {where}, was dropped by a reorganisation")
        error = f"{row.tx_hash} mined in {where}, then dropped by a reorganisation"
        if row.raw_tx and row.nonce is not None:
            self._update(row.key, state=OutboxState.SENT, block_number=None, error=error)
        else:  # found done on chain, not sent by this outbox: nothing to hand over again, the chain is asked
            self._update(row.key, state=OutboxState.PREPARED, tx_hash=None, block_number=None, error=error,
                         attempts=max(row.attempts, 1))
        return None

    def _canonical_receipt(self, tx_hash: str) -> TxReceipt | None:
        """The receipt of ``tx_hash`` when its block is the chain's block at that height (a node may answer from a
        block a reorganisation replaced); None otherwise."""
        receipt = self._receipt(tx_hash)
        return receipt if receipt is not None and self._in_chain(receipt) else None

    def _in_chain(self, receipt: TxReceipt) -> bool:
        """Whether ``receipt``'s block is the chain's block at its height."""
        try:
            block = self.w3.eth.get_block(int(receipt["blockNumber"]))
        except Exception as exc:
            if is_connection_failure(exc):
                raise unreachable(self.endpoint, exc) from exc
            return False  # no block at that height any more: the chain is shorter than it was
        return HexBytes(block["hash"]) == HexBytes(receipt["blockHash"])

    def _finished(self, row: OutboxTx, receipt: TxReceipt, submitted: Submitted[Any] | None,
                  payload: dict[str, Any], *, resumed: bool) -> Delivered:
        tx_hash = HexBytes(receipt["transactionHash"]).to_0x_hex()
        if int(receipt["status"]) != 1:
            error = self._failure(row, receipt, submitted)
            self._update(row.key, state=OutboxState.FAILED, block_number=int(receipt["blockNumber"]),
                         error=error.message)
            raise error
        self._update(row.key, state=OutboxState.MINED, block_number=int(receipt["blockNumber"]), error=None)
        self._at(f"{row.kind}:mined")
        return Delivered(row.key, tx_hash, receipt, payload, resumed=resumed)

    def _failure(self, row: OutboxTx, receipt: TxReceipt, submitted: Submitted[Any] | None) -> DatasealError:
        if submitted is not None:
            try:
                submitted.result(receipt)
            except DatasealError as exc:
                return exc
        tx: Any
        try:
            tx = self.w3.eth.get_transaction(HexBytes(receipt["transactionHash"]))
        except Exception:
            tx = {}
        request = {"to": tx.get("to"), "data": tx.get("input", b""), "value": tx.get("value", 0),
                   "gas": tx.get("gas", 0)}
        return replay_failure(self.w3, request, row.sender, receipt, row.kind)

    # ----------------------------------------------------------------------------------- reconciling

    def _settle(self, row: OutboxTx) -> TxReceipt | None:
        """The receipt of a sent transaction once mined in a block that is the chain's; None when it left the node
        unmined for good, or when the node still answers with a receipt from a block a reorganisation replaced (the
        caller then asks the chain, once the account has nothing pending)."""
        assert row.tx_hash is not None and row.nonce is not None
        receipt = self._canonical_receipt(row.tx_hash)
        if receipt is not None:
            return receipt
        # no receipt, or one from a replaced block (which a node may still serve): as for a transaction never mined
        known = self._known(row.tx_hash)
        if not known and row.raw_tx:
            known = self._rebroadcast(row.raw_tx, row.nonce)
        if not known:
            return None
        pending = PendingTransaction(tx_hash=row.tx_hash, nonce=row.nonce, sender=to_checksum_address(row.sender),
                                     chain_id=row.chain_id, tx={}, raw=bytes(HexBytes(row.raw_tx or "0x")))
        try:
            receipt = self.sender.wait(self.w3, pending)
        except TransactionDropped:  # replaced: another transaction took its nonce
            return None
        return receipt if self._in_chain(receipt) else None

    def _receipt(self, tx_hash: str) -> TxReceipt | None:
        try:
            return self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
        except TransactionNotFound:
            return None
        except Exception as exc:
            if is_connection_failure(exc):
                raise unreachable(self.endpoint, exc) from exc
            message = rpc_message(exc).lower()
            if "not found" in message or "unknown transaction" in message:
                return None
            raise ChainError(f"reading the receipt of {tx_hash} failed: {exc}",
                             hint="check the node, then run again") from exc

    def _known(self, tx_hash: str) -> bool:
        try:
            self.w3.eth.get_transaction(HexBytes(tx_hash))
            return True
        except TransactionNotFound:
            return False
        except Exception as exc:
            if is_connection_failure(exc):
                raise unreachable(self.endpoint, exc) from exc
            return False

    def _rebroadcast(self, raw_tx: str, nonce: int | None = None) -> bool:
        """Hand the signed bytes to the node again; whether it now has them (False: their nonce is used, or — after
        a reorganisation — above the account's next one, where they would wait behind a gap)."""
        if nonce is not None and nonce > self._pending_count():
            return False
        try:
            self.w3.eth.send_raw_transaction(HexBytes(raw_tx))
            return True
        except Exception as exc:
            if is_connection_failure(exc):
                raise unreachable(self.endpoint, exc) from exc
            message = rpc_message(exc)
            if is_already_known(message):
                return True
            if is_nonce_too_low(message):
                return False
            return False

    def _pending_count(self) -> int:
        """The account's next nonce, counting the transactions the node holds for it."""
        try:
            return int(self.w3.eth.get_transaction_count(self.sender.address, "pending"))  # type: ignore[arg-type]
        except Exception as exc:
            if is_connection_failure(exc):
                raise unreachable(self.endpoint, exc) from exc
            raise ChainError(f"reading the transaction count of {self.sender.address} failed: {exc}",
                             hint="check the node, then run again") from exc

    def _wait_account_idle(self) -> int:
        """Wait (up to the sender's receipt timeout) until the account has no transaction pending, so that the
        chain's answer to ``done`` counts whatever an earlier run handed to the node; the transactions still
        pending then (0: none)."""
        deadline = time.monotonic() + self.receipt_timeout
        address = self.sender.address
        while True:
            try:
                pending = int(self.w3.eth.get_transaction_count(address, "pending"))  # type: ignore[arg-type]
                mined = int(self.w3.eth.get_transaction_count(address, "latest"))  # type: ignore[arg-type]
            except Exception as exc:
                if is_connection_failure(exc):
                    raise unreachable(self.endpoint, exc) from exc
                raise ChainError(f"reading the transaction count of {address} failed: {exc}",
                                 hint="check the node, then run again") from exc
            if pending <= mined or time.monotonic() >= deadline:
                return max(0, pending - mined)
            self.sleep(POLL_SECONDS)
