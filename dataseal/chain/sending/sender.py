"""Sending transactions signed with a local key and seeing them mined: :class:`LocalSender`.

The sending role of the chain layer (web3.py and ape keep provider, account and contract apart):
a sender takes an unsigned call (``to``, ``data``, ``value``), fills in what the chain needs
(a nonce from a :class:`~dataseal.chain.sending.nonces.NonceManager`, gas, EIP-1559 fees from a
:class:`~dataseal.chain.sending.fees.FeeOracle` — a legacy gas price only when the node has no
base fee — and the chain id), has it signed (:class:`~dataseal.chain.accounts.signer.TransactionSigner`),
hands the raw bytes to the node, and waits for the receipt with a timeout and a number of
confirmations.

:meth:`LocalSender.submit` returns as soon as the node accepted the transaction, so that many can
be in flight; :meth:`LocalSender.wait` / :meth:`LocalSender.wait_all` collect receipts;
:meth:`LocalSender.send` is both. :class:`TxSender` is what the contract clients need of a sender.

Failures become typed errors: :class:`InsufficientFunds`, :class:`ReceiptTimeout`,
:class:`TransactionDropped`, :class:`TransactionRejected`, :class:`NodeUnreachable`; a revert found
while estimating gas is a :class:`~dataseal.chain.errors.Reverted` carrying the revert bytes, which the
contract clients decode (this role knows no contract). "Nonce too
low/high" is recovered from by re-reading the nonce from the node, a dropped transaction by
sending the same signed bytes again.
"""
from __future__ import annotations

import math
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound
from web3.types import TxParams, TxReceipt

from dataseal.chain.accounts.signer import TransactionSigner
from dataseal.chain.connection.failures import (
    UNKNOWN_ANSWER,
    expected_nonce,
    is_already_known,
    is_connection_failure,
    is_insufficient_funds,
    is_nonce_too_high,
    is_nonce_too_low,
    is_underpriced,
    mined_hash,
    revert_data_from,
    rpc_message,
    unreachable,
)
from dataseal.chain.errors import (
    ChainError,
    InsufficientFunds,
    NodeUnreachable,
    ReceiptTimeout,
    Reverted,
    TransactionDropped,
    TransactionRejected,
)
from dataseal.chain.sending.fees import FeeOracle, Fees
from dataseal.chain.sending.nonces import NonceManager
from dataseal.errors import ConfigError

GWEI = 10**9
# web3_clientVersion prefixes of nodes with one block producer and no reorganisations, whose
# receipts are final as soon as they exist: the embedded chain (`dataseal node`, EmbeddedProvider).
FINAL_WHEN_MINED_CLIENTS = ("dataseal/",)


class TxSender(Protocol):
    """What the contract clients need of a sender (:class:`LocalSender` is one)."""

    @property
    def address(self) -> str: ...

    def submit(self, w3: Web3, tx: dict[str, Any], *, action: str = ...) -> PendingTransaction: ...

    def wait(self, w3: Web3, pending: PendingTransaction, *, timeout: float | None = None) -> TxReceipt: ...

    def wait_all(self, w3: Web3, pending: Sequence[PendingTransaction], *,
                 timeout: float | None = None) -> list[TxReceipt]: ...

    def estimate_gas(self, w3: Web3, call: dict[str, Any], action: str = ...) -> int: ...


# ------------------------------------------------------------------------------------- pending


@dataclass
class PendingTransaction:
    """A transaction the node accepted; wait for it with :meth:`LocalSender.wait`."""

    tx_hash: str
    nonce: int
    sender: ChecksumAddress
    chain_id: int
    tx: dict[str, Any] = field(repr=False)  # the signed fields (to, data, value, gas, fees)
    raw: bytes = field(repr=False)
    sent_at: float = field(default_factory=time.monotonic, repr=False)
    rebroadcasts: int = 0

    @property
    def upfront_cost(self) -> int:
        cap = int(self.tx.get("maxFeePerGas", self.tx.get("gasPrice", 0)))
        return int(self.tx["gas"]) * cap + int(self.tx.get("value", 0))


# ------------------------------------------------------------------------------------- sender


class LocalSender:
    """Signs with a local key and sends raw transactions; a :class:`TxSender`.

    ``confirmations``: blocks to wait on top of the transaction's block, against reorganisations
    (none on the embedded chain: see :meth:`confirmations_needed`). ``receipt_timeout``:
    seconds to wait for a receipt before :class:`ReceiptTimeout`. ``gas_margin``: multiplier on
    ``eth_estimateGas``. ``drop_check_after``: seconds without a receipt before checking whether
    the node still knows the transaction (and re-sending it if it does not). ``batch_size``: receipts
    per JSON-RPC batch in :meth:`wait_all`. ``endpoint`` names the node in error messages.
    ``decode_revert`` names a revert found while estimating or sending (the contracts' decoder,
    :func:`dataseal.chain.contracts.revert.decode_revert`, which :class:`~dataseal.registry.context.Context`
    passes); without it a revert is :class:`Reverted`, which the contract clients name.
    """

    def __init__(
        self,
        account: LocalAccount,
        *,
        nonces: NonceManager | None = None,
        fees: FeeOracle | None = None,
        confirmations: int = 0,
        receipt_timeout: float = 120.0,
        poll_interval: float = 0.25,
        gas_margin: float = 1.2,
        drop_check_after: float = 5.0,
        batch_size: int = 100,
        endpoint: str = "the node",
        decode_revert: Callable[[bytes], ChainError] | None = None,
    ) -> None:
        if confirmations < 0:
            raise ConfigError(f"confirmations must be 0 or more, got {confirmations}",
                              hint="give the blocks to wait on top of a transaction's block (0: none)",
                              options=("confirmations",))
        if receipt_timeout <= 0:
            raise ConfigError(f"the receipt timeout must be above 0 seconds, got {receipt_timeout}",
                              hint="give the seconds to wait for a transaction to be mined",
                              options=("receipt_timeout",))
        self._checksum: ChecksumAddress = to_checksum_address(account.address)
        self.address: str = self._checksum  # the Sender protocol's attribute
        self._signer = TransactionSigner(account)
        self.nonces = nonces or NonceManager()
        self.fee_oracle = fees or FeeOracle()
        self.confirmations = confirmations
        self.receipt_timeout = receipt_timeout
        self.poll_interval = poll_interval
        self.gas_margin = gas_margin
        self.drop_check_after = drop_check_after
        self.batch_size = batch_size
        self.endpoint = endpoint
        self.decode_revert = decode_revert
        self._chain_ids: weakref.WeakKeyDictionary[Web3, int] = weakref.WeakKeyDictionary()
        self._final_when_mined: weakref.WeakKeyDictionary[Web3, bool] = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        return f"LocalSender({self.address}, confirmations={self.confirmations})"

    # ----------------------------------------------------------------- submit and wait

    def send(self, w3: Web3, tx: dict[str, Any]) -> TxReceipt:
        """Submit ``tx`` and wait for its receipt (which may have status 0: the caller decodes reverts)."""
        return self.wait(w3, self.submit(w3, tx))

    # ----------------------------------------------------------------- submit

    def submit(self, w3: Web3, tx: dict[str, Any], *, action: str = "sending a transaction") -> PendingTransaction:
        """Fill, sign and hand ``tx`` to the node; return without waiting for it to be mined.

        ``tx`` needs ``to`` (absent for a contract creation) and ``data``; ``value``, ``gas`` and fee
        fields are used when present. A revert while estimating gas raises
        :class:`~dataseal.chain.errors.Reverted` (with the revert bytes) before anything is sent.
        """
        chain_id = self.chain_id(w3)
        call: dict[str, Any] = {"from": self.address, "value": int(tx.get("value", 0)), "chainId": chain_id}
        if tx.get("to"):
            call["to"] = to_checksum_address(tx["to"])
        call["data"] = HexBytes(tx.get("data", b""))
        if "gas" in tx:
            call["gas"] = int(tx["gas"])
        else:
            call["gas"] = self.estimate_gas(w3, call, action)
        fee_keys = ("gasPrice", "maxFeePerGas", "maxPriorityFeePerGas")
        explicit_fees = {k: int(tx[k]) for k in fee_keys if k in tx}
        for attempt in range(4):
            fees = explicit_fees or self._fees(w3, chain_id, action).as_tx_fields()
            try:
                return self._sign_and_send(w3, {**call, **fees}, chain_id, action)
            except _FeesTooLow as exc:
                if explicit_fees or attempt == 3:
                    raise TransactionRejected(
                        f"{action}: the node refused the fee ({exc.message})",
                        hint="the base fee is rising; retry, or set a higher fee",
                    ) from None
                self.fee_oracle.invalidate(chain_id)
        raise AssertionError("unreachable")  # pragma: no cover

    def estimate_gas(self, w3: Web3, call: dict[str, Any], action: str = "sending a transaction") -> int:
        """``eth_estimateGas`` times :attr:`gas_margin`; a revert raises :class:`Reverted`."""
        request = {k: v for k, v in call.items() if k in ("from", "to", "data", "value")}
        try:
            estimate = int(w3.eth.estimate_gas(cast(TxParams, request)))
        except Exception as exc:
            raise self._translate(w3, exc, action, call) from exc
        return math.ceil(estimate * self.gas_margin)

    def chain_id(self, w3: Web3) -> int:
        cached = self._chain_ids.get(w3)
        if cached is None:
            try:
                cached = self._chain_ids[w3] = int(w3.eth.chain_id)
            except Exception as exc:
                if is_connection_failure(exc):
                    raise unreachable(self.endpoint, exc) from exc
                raise
        return cached

    def confirmations_needed(self, w3: Web3) -> int:
        """The blocks :meth:`wait` waits for on top of a transaction's block at ``w3``'s node.

        Confirmations guard against reorganisations: a block that another producer's chain replaces
        takes its transactions with it. The embedded chain (``dataseal node``, or an
        :class:`~dataseal.chain.embedded.provider.EmbeddedProvider`) has one block producer and never
        reorganises, so its receipts are final as soon as they exist; and it makes blocks only when
        transactions wait (idle mining), so blocks on top of the last one may never come. Against it
        this is 0; against any other node, :attr:`confirmations`. The node is recognised by its
        ``web3_clientVersion`` (``dataseal/...``), asked once per Web3 instance; a node that does not
        answer it is treated as an ordinary one.
        """
        if self.confirmations == 0:
            return 0
        final = self._final_when_mined.get(w3)
        if final is None:
            try:
                version = str(w3.client_version)
            except Exception as exc:
                if is_connection_failure(exc):
                    raise unreachable(self.endpoint, exc) from exc
                version = ""  # web3_clientVersion is optional
            final = self._final_when_mined[w3] = version.lower().startswith(FINAL_WHEN_MINED_CLIENTS)
        return 0 if final else self.confirmations

    def _fees(self, w3: Web3, chain_id: int, action: str) -> Fees:
        try:
            return self.fee_oracle.fees(w3, chain_id)
        except Exception as exc:
            if is_connection_failure(exc):
                raise unreachable(self.endpoint, exc) from exc
            raise ChainError(f"{action}: reading the fee market failed: {exc}", hint=UNKNOWN_ANSWER) from exc

    def _sign_and_send(self, w3: Web3, call: dict[str, Any], chain_id: int, action: str) -> PendingTransaction:
        def pending_count() -> int:
            try:
                return int(w3.eth.get_transaction_count(self._checksum, "pending"))
            except Exception as exc:
                if is_connection_failure(exc):
                    raise unreachable(self.endpoint, exc) from exc
                raise

        unsigned = {k: v for k, v in call.items() if k != "from"}
        with self.nonces.reserve(chain_id, self.address, pending_count) as reservation:
            for _ in range(5):
                unsigned["nonce"] = reservation.nonce
                raw = self._signer.sign(unsigned)
                tx_hash = keccak(raw)
                try:
                    w3.eth.send_raw_transaction(raw)
                except Exception as exc:
                    if is_connection_failure(exc):
                        raise unreachable(self.endpoint, exc) from exc
                    message = rpc_message(exc)
                    if is_already_known(message) or mined_hash(exc) == tx_hash:
                        # the very same bytes are already in the pool; or (hardhat automining) the node mined
                        # them and reports that they reverted: the nonce is used, the receipt tells the rest
                        pass
                    elif is_nonce_too_low(message) or is_nonce_too_high(message):
                        reservation.resync(expected_nonce(message))
                        continue
                    elif is_underpriced(message):
                        if "replace" in message.lower():  # another wallet's pending tx holds this nonce
                            reservation.resync(reservation.nonce + 1)
                            continue
                        raise _FeesTooLow(message) from None
                    else:
                        raise self._translate(w3, exc, action, unsigned) from exc
                reservation.commit()
                return PendingTransaction(
                    tx_hash="0x" + tx_hash.hex(), nonce=reservation.nonce, sender=self._checksum, chain_id=chain_id,
                    tx=unsigned, raw=raw,
                )
        raise TransactionRejected(
            f"{action}: the node kept refusing the nonce of {self.address} (last tried {reservation.nonce})",
            hint="another program is sending from this account at the same time; stop it or use another account",
            options=("account",),
        )

    def _translate(self, w3: Web3, exc: BaseException, action: str, call: dict[str, Any]) -> ChainError:
        if is_connection_failure(exc):
            return unreachable(self.endpoint, exc)
        data = revert_data_from(exc)
        if data is not None:
            # Named by the decoder this sender was given (the contracts' errors), else by the contract client
            # that sent it: this role knows no contract.
            return self.decode_revert(data) if self.decode_revert is not None else Reverted(action, data)
        message = rpc_message(exc)
        if is_insufficient_funds(message):
            return self.insufficient_funds(w3, call, action, message)
        return ChainError(f"{action} failed: {' '.join(message.split())}", hint=UNKNOWN_ANSWER)

    def insufficient_funds(self, w3: Web3, call: dict[str, Any], action: str, detail: str = "") -> InsufficientFunds:
        try:
            balance: int | None = int(w3.eth.get_balance(self._checksum))
        except Exception:
            balance = None
        gas = int(call.get("gas", 0))
        cap = int(call.get("maxFeePerGas", call.get("gasPrice", 0)))
        needed = gas * cap + int(call.get("value", 0))
        have = f"{balance} wei ({balance / 1e18:.6g} ETH)" if balance is not None else "an unknown balance"
        cost = f"up to {needed} wei (gas {gas} x {cap / GWEI:.4g} gwei)" if needed else "more than that"
        text = f"{action}: account {self.address} has {have} on chain {self.chain_id(w3)}, and this transaction " \
            f"costs {cost}"
        if detail and not needed:
            text += f" (node: {detail})"
        return InsufficientFunds(text, hint="fund the account (send it ETH), or use another account",
                                 options=("account",), balance=balance, needed=needed or None)

    # ----------------------------------------------------------------- wait

    def wait(self, w3: Web3, pending: PendingTransaction, *, timeout: float | None = None) -> TxReceipt:
        """The receipt of ``pending`` once it has :attr:`confirmations` blocks on top (on the embedded
        chain, as soon as it exists: see :meth:`confirmations_needed`).

        Re-sends the signed bytes if the node forgot the transaction; raises :class:`ReceiptTimeout`
        after ``timeout`` (default :attr:`receipt_timeout`) seconds, :class:`TransactionDropped` if
        another transaction took its nonce.
        """
        limit = self.receipt_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        next_drop_check = time.monotonic() + self.drop_check_after
        delay = 0.002
        lost: NodeUnreachable | None = None  # the node stopped answering while we waited
        receipt: TxReceipt | None = None
        while True:
            try:
                receipt = self._receipt(w3, pending)
                if receipt is not None:
                    if self.confirmations_needed(w3) == 0:
                        return receipt
                    confirmed = self._confirmed(w3, pending, receipt)
                    if confirmed is not None:
                        return confirmed
                now = time.monotonic()
                if receipt is None and now >= next_drop_check:
                    self._check_dropped(w3, pending)
                    next_drop_check = now + self.drop_check_after
                lost = None
            except NodeUnreachable as exc:
                # A restarting node is not a failed transaction: keep asking until the deadline.
                lost = exc
            now = time.monotonic()
            if now >= deadline:
                if lost is not None:
                    raise NodeUnreachable(
                        f"{lost.message} — while waiting for transaction {pending.tx_hash} (nonce {pending.nonce} of "
                        f"{pending.sender}), which may have been mined",
                        hint="once the node is back, look the transaction up by its hash before sending again",
                        options=lost.options,
                    ) from lost
                raise self._timeout(w3, pending, limit, mined=receipt is not None)
            time.sleep(min(delay, max(deadline - now, 0)))
            delay = min(delay * 2, self.poll_interval)

    def wait_all(self, w3: Web3, pending: Sequence[PendingTransaction], *,
                 timeout: float | None = None) -> list[TxReceipt]:
        """Receipts of every transaction in ``pending``, in order.

        A node mines one account's transactions in nonce order, so all of them with a nonce below
        the account's mined transaction count (``eth_getTransactionCount`` at ``latest``) have
        their receipts (or were dropped): those are fetched in JSON-RPC batches of
        :attr:`batch_size`, one round trip per batch instead of one per transaction, as soon as
        they are mined — while the node still mines the rest, this end reads what is ready. When
        nothing more is, the earliest is waited for with :meth:`wait`. Anything a batch does not
        return — a node without batches, a dropped transaction — is waited for one by one, with
        every check of :meth:`wait`.
        """
        limit = self.receipt_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit

        def left() -> float:
            return max(deadline - time.monotonic(), 0.001)

        known: dict[str, TxReceipt] = {}
        if len(pending) > 2 and self.confirmations_needed(w3) == 0:
            waiting = sorted((p for p in pending if p.sender == self._checksum), key=lambda p: p.nonce)
            while waiting:
                mined = self._mined_count(w3)
                ready = [p for p in waiting if p.nonce < mined]
                if not ready:  # none mined yet: wait for the earliest (a later one cannot come first)
                    known[waiting[0].tx_hash] = self.wait(w3, waiting[0], timeout=left())
                    ready = waiting[:1]
                else:
                    known.update(self._batch_receipts(w3, ready))
                    for item in ready:  # not returned by a batch: one by one, with every check
                        if item.tx_hash not in known:
                            known[item.tx_hash] = self.wait(w3, item, timeout=left())
                waiting = waiting[len(ready):]
        return [known.get(item.tx_hash) or self.wait(w3, item, timeout=left()) for item in pending]

    def _mined_count(self, w3: Web3) -> int:
        """How many transactions of this account are mined (its nonce at ``latest``)."""
        try:
            return int(w3.eth.get_transaction_count(self._checksum, "latest"))
        except Exception as exc:
            if is_connection_failure(exc):
                raise unreachable(self.endpoint, exc) from exc
            raise ChainError(f"reading the transaction count of {self.address} failed: {exc}",
                             hint=UNKNOWN_ANSWER) from exc

    def _batch_receipts(self, w3: Web3, pending: Sequence[PendingTransaction]) -> dict[str, TxReceipt]:
        """Receipts fetched in batches; a batch that fails (unsupported, a missing receipt) gives nothing."""
        found: dict[str, TxReceipt] = {}
        for start in range(0, len(pending), self.batch_size):
            chunk = pending[start:start + self.batch_size]
            try:
                with w3.batch_requests() as batch:
                    for item in chunk:
                        batch.add(w3.eth.get_transaction_receipt(HexBytes(item.tx_hash)))
                    receipts = batch.execute()
            except Exception as exc:
                if is_connection_failure(exc):
                    raise unreachable(self.endpoint, exc) from exc
                continue  # TransactionNotFound in the batch, or no batch support: one by one then
            for item, receipt in zip(chunk, receipts, strict=True):
                if isinstance(receipt, dict) or hasattr(receipt, "get"):
                    found[item.tx_hash] = cast(TxReceipt, receipt)
        return found

    def _receipt(self, w3: Web3, pending: PendingTransaction) -> TxReceipt | None:
        try:
            return w3.eth.get_transaction_receipt(HexBytes(pending.tx_hash))
        except TransactionNotFound:
            return None
        except Exception as exc:
            if is_connection_failure(exc):
                raise unreachable(self.endpoint, exc) from exc
            message = rpc_message(exc).lower()
            if "not found" in message or "unknown transaction" in message or "indexing" in message:
                return None
            raise ChainError(f"reading the receipt of {pending.tx_hash} failed: {exc}", hint=UNKNOWN_ANSWER) from exc

    def _confirmed(self, w3: Web3, pending: PendingTransaction, receipt: TxReceipt) -> TxReceipt | None:
        try:
            head = int(w3.eth.block_number)
        except Exception as exc:
            if is_connection_failure(exc):
                raise unreachable(self.endpoint, exc) from exc
            raise
        if head < int(receipt["blockNumber"]) + self.confirmations:
            return None
        again = self._receipt(w3, pending)  # still there after the confirmations (no reorg took it)?
        if again is None or again["blockHash"] != receipt["blockHash"]:
            return None
        return again

    def _check_dropped(self, w3: Web3, pending: PendingTransaction) -> None:
        try:
            w3.eth.get_transaction(HexBytes(pending.tx_hash))
            return  # the node still knows it: it is pending
        except TransactionNotFound:
            pass
        except Exception as exc:
            if is_connection_failure(exc):
                raise unreachable(self.endpoint, exc) from exc
            return
        try:
            w3.eth.send_raw_transaction(pending.raw)
            pending.rebroadcasts += 1
            return
        except Exception as exc:
            if is_connection_failure(exc):
                raise unreachable(self.endpoint, exc) from exc
            message = rpc_message(exc)
            if is_already_known(message):
                return
            if not is_nonce_too_low(message):
                raise TransactionDropped(
                    f"transaction {pending.tx_hash} (nonce {pending.nonce} of {pending.sender}) left the node's pool "
                    f"unmined, and re-sending it failed: {message}", hint="send it again",
                ) from None
        if self._receipt(w3, pending) is not None:
            return  # mined in the meantime
        mined_count = int(w3.eth.get_transaction_count(pending.sender, "latest"))
        if mined_count > pending.nonce:
            raise TransactionDropped(
                f"transaction {pending.tx_hash} was replaced: another transaction of {pending.sender} with the "
                f"same nonce {pending.nonce} was mined instead (another wallet or process uses this key)",
                hint="check whether the action happened; send it again if not",
            )

    def _timeout(self, w3: Web3, pending: PendingTransaction, limit: float, *, mined: bool) -> ReceiptTimeout:
        if mined:
            return ReceiptTimeout(
                f"transaction {pending.tx_hash} was mined but did not reach {self.confirmations} confirmations "
                f"within {limit:g} s: the node is not producing blocks fast enough (a node that mines only when "
                "transactions arrive, such as hardhat's automine, makes none on top by itself)",
                hint="wait longer, or ask for fewer confirmations", options=("receipt_timeout", "confirmations"),
            )
        try:
            w3.eth.get_transaction(HexBytes(pending.tx_hash))
            where = "is still pending in the node's pool"
        except Exception:
            where = "is not known to the node any more"
        return ReceiptTimeout(
            f"no receipt for transaction {pending.tx_hash} (nonce {pending.nonce} of {pending.sender}) after "
            f"{limit:g} s; it {where}",
            hint=f"is the node mining (automine off, or its block interval long)? Check {self.endpoint}, then wait "
            "longer; do not resend blindly, it may still be mined", options=("receipt_timeout",),
        )


class _FeesTooLow(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
