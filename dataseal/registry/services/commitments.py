"""Commit–reveal registrations: the commitment a registration reveals, the wait for its minimum age on the chain's
own clock, the delivery of the registration that reveals it, and the AssetRegistered record it made. Shared by the
registration of sealed data (:mod:`.assets`) and of a client's manifest (:mod:`.manifest_writes`)."""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from web3 import Web3

from dataseal.chain.contracts.asset_registry import make_commitment
from dataseal.chain.contracts.client import ESTIMATE
from dataseal.chain.contracts.deployed import DatasealContracts
from dataseal.chain.contracts.deployment import Deployment
from dataseal.chain.contracts.logs import LogReader
from dataseal.chain.contracts.records import AssetRecord
from dataseal.chain.contracts.revert import format_time
from dataseal.chain.errors import ContractRevert
from dataseal.errors import ErrorKind, NotFound
from dataseal.registry.outbox import Delivered
from dataseal.registry.sealing import ProgressCallback
from dataseal.registry.services.writer import Clock, RegistrationError, Writer, event_topic

#: How many times a registration waits again when the node says its commitment is still too new (its clock
#: and ours disagree).
COMMIT_AGE_RETRIES = 5
#: Seconds (of the service's clock) a registration waits for the chain's time to pass its commitment's minimum age,
#: beyond the age itself, before it stops and says that a rerun continues.
COMMIT_WAIT_GRACE = 300.0
#: Seconds between two looks at the chain while waiting for it (its time reported through ``progress``).
COMMIT_WAIT_POLL = 5.0
#: The progress phase of that wait: done and total are the chain's seconds.
COMMIT_AGE_PHASE = "commit-age"


def commit(writer: Writer, root: bytes, wait: ChainWait, *, owner: str | None = None,
           again: str = "run again") -> bytes:
    """Make (or finish making) the commitment a registration of ``root`` reveals, for ``owner`` (the signing
    account by default; a relayed registration's owner need not be it), and wait out its minimum age; its salt.
    ``again`` is what the hint tells to do after the wait gave up."""
    client = writer.contracts.registry
    committer = owner if owner is not None else writer.me
    key = writer.key("commit", "0x" + root.hex(), committer)
    row = writer.outbox.prepare(key, "commit", {"salt": "0x" + os.urandom(32).hex()})
    max_age, min_age = client.max_commit_age(), client.min_commit_age()
    for _ in range(2):
        salt = bytes.fromhex(str(row.payload["salt"])[2:])
        commitment = make_commitment(root, committer, salt)
        writer.outbox.deliver(key, lambda c=commitment: client.submit_commit(c, gas=ESTIMATE),  # type: ignore[misc]
                              lambda c=commitment: client.committed_at(c) > 0)  # type: ignore[misc]
        made = client.committed_at(commitment)
        if made and writer.latest_timestamp() < made + max_age:
            wait.until(made + min_age, made + max_age)
            return salt
        # never made (a reorganisation took it) or too old to reveal: a new commitment with a new salt
        row = writer.outbox.renew(key, {"salt": "0x" + os.urandom(32).hex()})
    whose = f" for {owner}" if owner is not None else ""
    raise RegistrationError(f"the commitment to root 0x{root.hex()}{whose} could not be made and revealed in time",
                            hint=f"check the node's clock and block production, then {again}",
                            kind=ErrorKind.UNAVAILABLE)


class ChainWait:
    """Waiting for the chain's time to pass a commitment's minimum age, by the chain's own clock.

    The chain's time is its latest block's, moved on by the seconds ``clock`` says passed since that block was
    first seen: a node that mines only when a transaction arrives makes no block while we wait, and its clock may be
    ahead of or behind ours — only durations of ours count, never our time of day. A node that then finds the
    commitment still too new says its own time (:meth:`saw`), and the wait goes on from there. Progress goes to
    ``progress`` (phase :data:`COMMIT_AGE_PHASE`, in the chain's seconds); after the age itself and
    :data:`COMMIT_WAIT_GRACE` seconds more of ``clock``, the wait stops with an UNAVAILABLE
    :class:`RegistrationError` (a rerun continues: the commitment is recorded)."""

    def __init__(self, writer: Writer, clock: Clock, progress: ProgressCallback | None) -> None:
        self.writer, self.clock, self.progress = writer, clock, progress
        self._deadline: float | None = None
        self._started = 0.0
        self._anchor: tuple[int, float] | None = None  # (the chain's time, our clock when we learnt it)
        self._latest = -1
        self._valid_until = 0

    def chain_time(self) -> float:
        """The chain's time now, as best known: never ahead of the node's clock when blocks are made at its time."""
        latest, now = self.writer.latest_timestamp(), self.clock.now()
        if self._anchor is None or latest != self._latest:
            self._latest = latest
            if self._anchor is None or latest >= self._anchor[0] + (now - self._anchor[1]):
                self._anchor = (latest, now)
        return self._anchor[0] + max(0.0, now - self._anchor[1])

    def saw(self, timestamp: int) -> None:
        """The node's time is ``timestamp`` now (it said so, refusing a commitment still too new)."""
        self._anchor = (timestamp, self.clock.now())

    def until(self, target: int, valid_until: int = 0) -> None:
        """Return once the chain's time is at least ``target`` (see the class documentation)."""
        self._valid_until = valid_until or self._valid_until
        first = self.chain_time()
        if self._deadline is None:
            self._started = self.clock.now()
            self._deadline = self._started + max(0.0, target - first) + COMMIT_WAIT_GRACE
        total = max(1, int(target - first))
        while True:
            at = self.chain_time()
            if self.progress is not None:
                self.progress(COMMIT_AGE_PHASE, total if at >= target else min(total, max(0, int(at - first))), total)
            if at >= target:
                return
            left = self._deadline - self.clock.now()
            if left <= 0:
                raise self.gave_up(target)
            self.clock.sleep(max(1.0, min(target - at, left, COMMIT_WAIT_POLL)))

    def gave_up(self, target: int) -> RegistrationError:
        waited = self.clock.now() - self._started
        valid = f"; the commitment stays valid until {format_time(self._valid_until)}" if self._valid_until else ""
        return RegistrationError(
            f"waited {waited:.0f} s for the chain at {self.writer.registry.context.connection.endpoint} to reach "
            f"{format_time(target)} (the commitment's minimum age), but its latest block is at "
            f"{format_time(self.writer.latest_timestamp())}: the node makes no blocks, or its clock is behind",
            hint=f"check that the node mines and that its clock is right, then run again: the rerun continues with "
            f"the commitment already made{valid}", kind=ErrorKind.UNAVAILABLE)


def deliver_aged(writer: Writer, key: str, payload: dict[str, Any], send: Callable[[], Any],
                  done: Callable[[], bool], wait: ChainWait) -> Delivered:
    """Prepare the registration ``key`` (``payload``) and :meth:`Outbox.deliver` it, waiting again while the node
    finds the commitment too new (its clock behind). A first try refused while estimating leaves no record: it is
    prepared again before the next."""
    for attempt in range(COMMIT_AGE_RETRIES + 1):
        writer.outbox.prepare(key, "register", payload)
        try:
            return writer.outbox.deliver(key, send, done)
        except ContractRevert as exc:
            if exc.name != "CommitmentTooNew":
                raise
            reveal_from = int(exc.args_by_name["revealFrom"])
            wait.saw(int(exc.args_by_name["timestamp"]))
            if attempt == COMMIT_AGE_RETRIES:
                raise wait.gave_up(reveal_from) from None
            wait.until(reveal_from)
    raise AssertionError("unreachable")  # pragma: no cover


def find_registration(w3: Web3, deployment: Deployment, asset_id: int) -> AssetRecord:
    """The AssetRegistered record of ``asset_id``, read from the chain's logs (not from the database)."""
    contracts = DatasealContracts.bind(w3, deployment)
    topics = ["0x" + event_topic("AssetRegistered").hex(), "0x" + asset_id.to_bytes(32, "big").hex()]
    reader = LogReader(w3)
    for log in reader.logs(deployment.asset_registry, deployment.deploy_block, "latest", topics):
        record = contracts.decoder.decode_log(log)
        if isinstance(record, AssetRecord) and record.asset_id == asset_id:
            return record
    raise NotFound(f"no AssetRegistered event of asset {asset_id} in the logs of {deployment.asset_registry} on "
                   f"chain {deployment.chain_id}", hint="the node may have pruned old logs: use an archive node",
                   options=("rpc_url",))


def record_of(writer: Writer, delivered: Delivered, asset_id: int | None) -> AssetRecord:
    """The AssetRegistered record of a delivered registration: from its receipt, else from the logs."""
    if delivered.receipt is None and delivered.tx_hash:
        try:
            delivered = Delivered(delivered.key, delivered.tx_hash,
                                  writer.w3.eth.get_transaction_receipt(delivered.tx_hash))  # type: ignore[arg-type]
        except Exception:
            pass
    if delivered.receipt is not None:
        for record in writer.contracts.decoder.decode_receipt(delivered.receipt):
            if isinstance(record, AssetRecord) and (asset_id is None or record.asset_id == asset_id):
                return record
    if asset_id is None:
        root = writer.outbox.get(delivered.key)
        held = writer.contracts.registry.asset_id_of(bytes.fromhex(str(root.payload["contentRoot"])[2:])) if root \
            else None
        if held is None:  # pragma: no cover - delivered means the chain has it
            raise RegistrationError("the registration was sent but the chain does not show it",
                                    hint="run again", kind=ErrorKind.INTERNAL)
        asset_id = held
    return find_registration(writer.w3, writer.deployment, asset_id)
