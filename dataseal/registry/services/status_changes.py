"""Status changes of a registration: the owner cancels; anyone objects during the notice; a reviewer approves (dismisses
the dispute), rejects, suspends or reinstates; the AssetRegistry's admin appoints and removes reviewers. Every write
goes through the outbox (:mod:`dataseal.registry.outbox`). Read-only: the registrations waiting in their notice or for
a reviewer (:func:`pending_reviews`), and the reviewers (:func:`list_reviewers`)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from eth_utils import keccak

from dataseal.chain.accounts.passwords import PasswordSource
from dataseal.chain.contracts.asset_registry import REVIEWER_ROLE
from dataseal.chain.contracts.client import ESTIMATE
from dataseal.chain.contracts.logs import LogReader
from dataseal.chain.contracts.records import (
    ZERO32,
    AssetRecord,
    AssetStatus,
    AssetStatusChange,
    ObjectionRecord,
    RoleChange,
)
from dataseal.chain.contracts.revert import format_time
from dataseal.chain.values import address as checked_address
from dataseal.errors import InvalidInput
from dataseal.registry.db.models.local import OutboxState, OutboxTx
from dataseal.registry.outbox import Delivered, Hook
from dataseal.registry.registry import Registry
from dataseal.registry.services.writer import (
    RegistrationError,
    Writer,
    admin_of,
    event_topic,
    open_writer,
    owner_of,
    read_asset,
    reviewers_held,
    status_name,
    when_active,
)

ReviewAction = Literal["approve", "reject", "object"]


@dataclass(frozen=True)
class StatusChangeResult:
    """A status move of an asset (cancel, review) on chain: the transaction that made it (None only when the chain
    shows it done and its logs no longer show by which transaction); ``resumed``: an earlier run of this registry
    had sent it and this run finished it; ``already_done``: the asset had that status before this run (a
    cancellation or rejection made earlier), and nothing was sent."""

    asset_id: int
    action: str
    tx_hash: str | None
    block_number: int | None
    status: str
    resumed: bool = False
    already_done: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"asset_id": self.asset_id, "action": self.action, "tx_hash": self.tx_hash,
                "block_number": self.block_number, "status": self.status, "resumed": self.resumed,
                "already_done": self.already_done}


def _reason_hash(reason: str | None) -> bytes:
    """keccak256 of the reason's UTF-8 text (what goes on chain), or zero for none."""
    return keccak(text=reason) if reason else ZERO32


def cancel(registry: Registry, asset_id: int, reason: str | None = None, *,
           passwords: Sequence[PasswordSource] = (), hook: Hook | None = None) -> StatusChangeResult:
    """Cancel ``asset_id`` (its owner). The record stays; the root cools for the contract's cooldown, then goes
    to whoever registers it first. ``reason`` is hashed (keccak256 of its text) onto the chain."""
    writer = open_writer(registry, passwords, hook, acting=owner_of(registry, asset_id))
    asset = read_asset(writer.contracts, asset_id)
    key = writer.key("cancel", asset_id)
    if asset.status == AssetStatus.Cancelled:
        return _final_status(writer, asset_id, "cancel", key, AssetStatus.Cancelled)
    if asset.owner != writer.me:
        raise RegistrationError(f"asset {asset_id} is owned by {asset.owner}; you ({writer.me}) cannot cancel it",
                                hint="sign with the owner's account", options=("account",))
    if asset.status not in (AssetStatus.Pending, AssetStatus.Active, AssetStatus.Expired):
        raise RegistrationError(
            f"asset {asset_id} is {status_name(asset.status)}: only a Pending, Active or Expired registration can be "
            "cancelled", hint="a suspended or disputed registration waits for a reviewer")
    client = writer.contracts.registry
    writer.outbox.prepare(key, "cancel", {"reason": reason or ""})
    delivered = writer.outbox.deliver(key, lambda: client.submit_cancel(asset_id, _reason_hash(reason), gas=ESTIMATE),
                                      lambda: client.status_of(asset_id) == AssetStatus.Cancelled)
    return _status_result(writer, asset_id, "cancel", delivered)


class Review(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    OBJECT = "object"


def review(
    registry: Registry,
    action: ReviewAction | str,
    asset_id: int,
    *,
    reason: str | None = None,
    evidence: bytes | None = None,
    reserve_for: str | None = None,
    passwords: Sequence[PasswordSource] = (),
    hook: Hook | None = None,
) -> StatusChangeResult:
    """Review a registration.

    - ``object`` (anyone, during the notice period): ``evidence`` is the evidence document's bytes (its
      keccak256 goes on chain), or ``reason`` its text;
    - ``reject`` (a REVIEWER): a pending, disputed or suspended registration, or a cancelled one whose root still
      cools; a dispute is upheld. ``reserve_for`` reserves the freed root for its true owner;
    - ``approve`` (a REVIEWER): dismiss the dispute of a disputed registration. A pending registration nobody
      objected to needs no approval: it becomes Active by itself when its notice ends, and is refused here.
    """
    try:
        which = Review(action)
    except ValueError:
        raise InvalidInput(f"{action!r} is not a review action", hint="use approve, reject or object") from None
    if reserve_for is not None:
        reserve_for = checked_address(reserve_for, "reserve_for")
        if which != Review.REJECT:
            raise InvalidInput("a root is reserved only when a registration is rejected",
                               hint="leave out the account to reserve for", options=("reserve_for",))
    writer = open_writer(registry, passwords, hook,
                         acting=None if which == Review.OBJECT else reviewers_held(registry))  # anyone may object
    asset = read_asset(writer.contracts, asset_id)
    client = writer.contracts.registry
    status = asset.status
    if which == Review.OBJECT:
        proof = keccak(evidence) if evidence is not None else (keccak(text=reason) if reason else None)
        if proof is None:
            raise InvalidInput("an objection needs evidence", hint="give the evidence document (or its text)",
                               options=("evidence",))
        if status not in (AssetStatus.Pending, AssetStatus.Disputed):
            raise RegistrationError(
                f"asset {asset_id} is {status_name(status)}: objections are made during the notice period of a "
                "pending registration", hint="ask a reviewer to suspend or reject it instead")
        key = writer.key("object", asset_id, writer.me, "0x" + proof.hex())

        def objected() -> bool:
            return _objected(writer, asset_id, proof)

        writer.outbox.retire_undone(key, objected)  # an objection since dismissed: this one raises it anew
        writer.outbox.prepare(key, "object", {"evidenceHash": "0x" + proof.hex()})
        delivered = writer.outbox.deliver(key, lambda: client.submit_object(asset_id, proof, gas=ESTIMATE),
                                          objected)
        return _status_result(writer, asset_id, "object", delivered)
    reason_hash = _reason_hash(reason)
    if which == Review.APPROVE:
        if status == AssetStatus.Pending:
            raise RegistrationError(
                f"asset {asset_id} is Pending and nobody objected: there is nothing to approve",
                hint=when_active(asset) or "it becomes Active by itself when its notice ends")
        if status != AssetStatus.Disputed:
            raise RegistrationError(f"asset {asset_id} is {status_name(status)}: only a disputed registration is "
                                    "approved (its dispute dismissed)", hint="check the asset id")
        key = writer.key("approve", asset_id)

        def dismissed() -> bool:
            return client.status_of(asset_id) != AssetStatus.Disputed

        writer.outbox.retire_undone(key, dismissed)  # an earlier dispute's dismissal: this dispute is another one
        writer.outbox.prepare(key, "approve", {"reason": reason or ""})
        delivered = writer.outbox.deliver(
            key, lambda: client.submit_resolve_dispute(asset_id, False, reason_hash, None, gas=ESTIMATE), dismissed)
        return _status_result(writer, asset_id, "approve", delivered)
    if status == AssetStatus.Rejected:
        return _final_status(writer, asset_id, "reject", writer.key("reject", asset_id), AssetStatus.Rejected)
    if status not in (AssetStatus.Pending, AssetStatus.Disputed, AssetStatus.Suspended, AssetStatus.Cancelled):
        raise RegistrationError(f"asset {asset_id} is {status_name(status)}: a reviewer rejects a pending, disputed "
                                "or suspended registration (or a cancelled one whose root still cools)",
                                hint="suspend an active asset first")
    key = writer.key("reject", asset_id)
    writer.outbox.prepare(key, "reject", {"reason": reason or "", "reserveFor": reserve_for})

    def send() -> Any:
        if status == AssetStatus.Disputed:
            return client.submit_resolve_dispute(asset_id, True, reason_hash, reserve_for, gas=ESTIMATE)
        return client.submit_reject_registration(asset_id, reason_hash, reserve_for, gas=ESTIMATE)

    delivered = writer.outbox.deliver(key, send, lambda: client.status_of(asset_id) == AssetStatus.Rejected)
    return _status_result(writer, asset_id, "reject", delivered)


def _objected(writer: Writer, asset_id: int, evidence_hash: bytes) -> bool:
    """Whether the chain has this account's objection to ``asset_id`` with this evidence, made since the asset's
    last dispute was dismissed (a dismissed objection is no longer standing: objecting again is a new objection)."""
    reader = LogReader(writer.w3)
    standing = False
    topics = [None, "0x" + asset_id.to_bytes(32, "big").hex()]  # the asset's events (assetId is indexed first)
    for log in reader.logs(writer.deployment.asset_registry, writer.deployment.deploy_block, "latest", topics):
        record = writer.contracts.decoder.decode_log(log)
        if (isinstance(record, ObjectionRecord) and record.asset_id == asset_id and record.objector == writer.me
                and record.evidence_hash == evidence_hash):
            standing = True
        elif (isinstance(record, AssetStatusChange) and record.asset_id == asset_id
              and record.from_status == AssetStatus.Disputed
              and record.to_status in (AssetStatus.Pending, AssetStatus.Active)):
            standing = False
    return standing


def _final_status(writer: Writer, asset_id: int, action: str, key: str, status: AssetStatus) -> StatusChangeResult:
    """``asset_id`` already has the final ``status`` that ``action`` asks for: the transaction that gave it (from the
    chain's logs), and whether it was an earlier run of this registry, unfinished in the outbox (then recorded
    done: this run finished it) or not (the asset was already so: nothing to do)."""
    change = _last_change(writer, asset_id, status)
    tx_hash = change.tx.tx_hash if change is not None else None
    block = change.tx.block_number if change is not None else None
    row = writer.outbox.get(key)
    if row is not None and row.state != OutboxState.MINED:  # an earlier run's, which the chain shows done
        writer.outbox.mark_done(key, tx_hash=tx_hash, block_number=block)
        return StatusChangeResult(asset_id, action, tx_hash, block, status_name(status), resumed=True)
    return StatusChangeResult(asset_id, action, tx_hash, block, status_name(status), already_done=True)


def _last_change(writer: Writer, asset_id: int, status: AssetStatus) -> AssetStatusChange | None:
    """The last move of ``asset_id`` to ``status`` in the chain's logs; None when the node has no such log."""
    moves = [change for change in _status_changes(writer, asset_id) if change.to_status == status]
    return moves[-1] if moves else None


def _status_changes(writer: Writer, asset_id: int) -> list[AssetStatusChange]:
    """The status moves of ``asset_id`` in the chain's logs, in the chain's order."""
    topics = ["0x" + event_topic("AssetStatusChanged").hex(), "0x" + asset_id.to_bytes(32, "big").hex()]
    changes = []
    for log in LogReader(writer.w3).logs(writer.deployment.asset_registry, writer.deployment.deploy_block, "latest",
                                         topics):
        record = writer.contracts.decoder.decode_log(log)
        if isinstance(record, AssetStatusChange) and record.asset_id == asset_id:
            changes.append(record)
    return changes


def _status_result(writer: Writer, asset_id: int, action: str, delivered: Delivered) -> StatusChangeResult:
    block = int(delivered.receipt["blockNumber"]) if delivered.receipt is not None else None
    status = writer.contracts.registry.status_of(asset_id)
    return StatusChangeResult(asset_id, action, delivered.tx_hash, block, status_name(status),
                              resumed=delivered.resumed)


# ----------------------------------------------------------------------------------------- suspend, reinstate


def suspend(registry: Registry, asset_id: int, reason: str | None = None, *,
            passwords: Sequence[PasswordSource] = (), hook: Hook | None = None) -> StatusChangeResult:
    """Suspend ``asset_id`` (a REVIEWER): an Active (or Expired) registration is frozen over a dispute raised after
    its notice — no grants, uses, transfers or cancellation — until a reviewer reinstates or rejects it.
    ``reason`` is hashed onto the chain. Suspending an asset already Suspended sends nothing (``already_done``).
    An account without the role gets the chain's refusal, decoded (``AccessControlUnauthorizedAccount``, naming
    the role and who grants it)."""
    writer = open_writer(registry, passwords, hook, acting=reviewers_held(registry))
    asset = read_asset(writer.contracts, asset_id)
    key = writer.key("suspend", asset_id)
    if asset.status == AssetStatus.Suspended:
        return _final_status(writer, asset_id, "suspend", key, AssetStatus.Suspended)
    if asset.status not in (AssetStatus.Active, AssetStatus.Expired):
        raise RegistrationError(
            f"asset {asset_id} is {status_name(asset.status)}: only an Active or Expired registration is suspended",
            hint=(when_active(asset) + "; a pending one is objected to or rejected instead") if when_active(asset)
            else "a pending or disputed registration is rejected instead")
    client = writer.contracts.registry

    def suspended() -> bool:
        return client.status_of(asset_id) == AssetStatus.Suspended

    writer.outbox.retire_undone(key, suspended)  # suspended before, reinstated since: this is a new suspension
    writer.outbox.prepare(key, "suspend", {"reason": reason or ""})
    delivered = writer.outbox.deliver(
        key, lambda: client.submit_suspend(asset_id, _reason_hash(reason), gas=ESTIMATE), suspended)
    return _status_result(writer, asset_id, "suspend", delivered)


def reinstate(registry: Registry, asset_id: int, reason: str | None = None, *,
              passwords: Sequence[PasswordSource] = (), hook: Hook | None = None) -> StatusChangeResult:
    """Reinstate a Suspended ``asset_id`` (a REVIEWER): it is Active again. ``reason`` is hashed onto the chain. A
    rerun after a crash finishes the same reinstatement, or, when the earlier run's was mined and is still the
    asset's last, sends nothing (``already_done``); an asset that is not Suspended (and no earlier run of this
    registry left a reinstatement unfinished) is refused."""
    writer = open_writer(registry, passwords, hook, acting=reviewers_held(registry))
    asset = read_asset(writer.contracts, asset_id)
    key = writer.key("reinstate", asset_id)
    client = writer.contracts.registry

    def reinstated() -> bool:
        return client.status_of(asset_id) != AssetStatus.Suspended

    if asset.status != AssetStatus.Suspended:
        earlier = writer.outbox.get(key)
        if earlier is not None and earlier.state == OutboxState.MINED and \
                asset.status in (AssetStatus.Active, AssetStatus.Expired):
            finished = _finished_reinstatement(writer, asset_id, earlier)
            if finished is not None:  # an earlier run's, finished before it could say so: nothing to send
                return finished
            earlier = writer.outbox.get(key)  # dropped by a reorganisation (sent again below), or suspended since
        if earlier is not None and earlier.state != OutboxState.MINED and asset.status == AssetStatus.Active:
            delivered = writer.outbox.deliver(key, lambda: client.submit_reinstate(
                asset_id, _reason_hash(reason), gas=ESTIMATE), reinstated)  # an earlier run's: finished
            return _status_result(writer, asset_id, "reinstate", delivered)
        raise RegistrationError(f"asset {asset_id} is {status_name(asset.status)}, not Suspended: there is nothing "
                                "to reinstate", hint="check the asset id")
    writer.outbox.retire_undone(key, lambda: False)  # a reinstatement finished earlier: this suspension is another
    writer.outbox.prepare(key, "reinstate", {"reason": reason or ""})
    delivered = writer.outbox.deliver(
        key, lambda: client.submit_reinstate(asset_id, _reason_hash(reason), gas=ESTIMATE), reinstated)
    return _status_result(writer, asset_id, "reinstate", delivered)


def _finished_reinstatement(writer: Writer, asset_id: int, row: OutboxTx) -> StatusChangeResult | None:
    """The reinstatement of ``asset_id`` that the outbox records mined (``row``), as already done, when it still
    stands: its transaction in a block that is the chain's (:meth:`~dataseal.registry.outbox.Outbox.recheck_mined`)
    and the asset's last reinstatement in the chain's logs (a suspension since would have needed another to make
    the asset Active again). None when a reorganisation dropped it (the record is then sent again) or the asset was
    suspended and reinstated by another since."""
    if row.tx_hash and writer.outbox.recheck_mined(row) is None:
        return None
    reinstatements = [change for change in _status_changes(writer, asset_id)
                      if change.from_status == AssetStatus.Suspended and change.to_status == AssetStatus.Active]
    if not reinstatements or (row.tx_hash and reinstatements[-1].tx.tx_hash != row.tx_hash):
        return None
    last = reinstatements[-1].tx
    status = writer.contracts.registry.status_of(asset_id)
    return StatusChangeResult(asset_id, "reinstate", last.tx_hash, last.block_number, status_name(status),
                              already_done=True)


# ----------------------------------------------------------------------------------------- reviewers


@dataclass(frozen=True)
class ReviewerChangeResult:
    """The REVIEWER role given to or taken from ``account`` (``action`` add or remove): the transaction (None when
    nothing was sent or the chain showed it done without one of ours), whether the account holds the role now;
    ``resumed``: an earlier run had sent it; ``already_done``: the account already was (or was not) a reviewer."""

    account: str
    action: str
    tx_hash: str | None
    block_number: int | None
    reviewer: bool
    resumed: bool = False
    already_done: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"account": self.account, "action": self.action, "role": "REVIEWER_ROLE", "tx_hash": self.tx_hash,
                "block_number": self.block_number, "reviewer": self.reviewer, "resumed": self.resumed,
                "already_done": self.already_done}


def add_reviewer(registry: Registry, account: str, *, passwords: Sequence[PasswordSource] = (),
                 hook: Hook | None = None) -> ReviewerChangeResult:
    """Give ``account`` the REVIEWER role (the AssetRegistry's admin). An account already a reviewer: nothing sent
    (``already_done``)."""
    return _change_reviewer(registry, account, True, passwords, hook)


def remove_reviewer(registry: Registry, account: str, *, passwords: Sequence[PasswordSource] = (),
                    hook: Hook | None = None) -> ReviewerChangeResult:
    """Take the REVIEWER role from ``account`` (the AssetRegistry's admin). An account that is no reviewer: nothing
    sent (``already_done``)."""
    return _change_reviewer(registry, account, False, passwords, hook)


def _change_reviewer(registry: Registry, account: str, add: bool, passwords: Sequence[PasswordSource],
                     hook: Hook | None) -> ReviewerChangeResult:
    who = checked_address(account, "account")
    if int(who, 16) == 0:
        raise InvalidInput("the zero address cannot be a reviewer", hint="name the reviewer's account",
                           options=("account",))
    action = "add" if add else "remove"
    writer = open_writer(registry, passwords, hook, acting=admin_of(registry))
    client = writer.contracts.registry
    key = writer.key("reviewer-add" if add else "reviewer-remove", who)

    def done() -> bool:
        return client.is_reviewer(who) == add

    row = writer.outbox.get(key)
    if done() and (row is None or row.state == OutboxState.MINED):  # nothing of ours unfinished: it already was so
        change = _last_role_change(writer, who, add)
        return ReviewerChangeResult(who, action, change.tx.tx_hash if change else None,
                                    change.tx.block_number if change else None, add, already_done=True)
    if not done():
        admin = client.admin()
        if admin != writer.me:
            raise RegistrationError(
                f"{writer.me} is not the AssetRegistry's admin ({admin}): only the admin "
                f"{'appoints' if add else 'removes'} reviewers", hint="sign with the admin's account",
                options=("account",))
    writer.outbox.retire_undone(key, done)  # added before, removed since (or the other way): a new change
    writer.outbox.prepare(key, f"reviewer-{action}", {"account": who})
    delivered = writer.outbox.deliver(key, lambda: (client.submit_grant_reviewer if add else
                                                    client.submit_revoke_reviewer)(who, gas=ESTIMATE), done)
    block = int(delivered.receipt["blockNumber"]) if delivered.receipt is not None else None
    return ReviewerChangeResult(who, action, delivered.tx_hash, block, client.is_reviewer(who),
                                resumed=delivered.resumed)


def _role_changes(registry: Registry, account: str | None = None) -> list[RoleChange]:
    """The REVIEWER role's grants and revocations in the chain's logs (of ``account`` only, when given)."""
    context = registry.context
    deployment = context.deployment()
    decoder = context.contracts().decoder
    topics: list[Any] = [["0x" + event_topic(name).hex() for name in ("RoleGranted", "RoleRevoked")],
                         "0x" + REVIEWER_ROLE.hex()]
    if account is not None:
        topics.append("0x" + bytes.fromhex(account[2:]).rjust(32, b"\0").hex())
    changes = []
    for log in LogReader(context.connection.w3, endpoint=context.connection.endpoint).logs(
            deployment.asset_registry, deployment.deploy_block, "latest", topics):
        record = decoder.decode_log(log)
        if isinstance(record, RoleChange) and record.role == REVIEWER_ROLE:
            changes.append(record)
    return changes


def _last_role_change(writer: Writer, account: str, granted: bool) -> RoleChange | None:
    found = [c for c in _role_changes(writer.registry, account) if c.account == account and c.granted == granted]
    return found[-1] if found else None


def list_reviewers(registry: Registry) -> list[str]:
    """The accounts holding the REVIEWER role now (from the role's grants in the logs, each checked on chain), in
    the order they were first made reviewers."""
    client = registry.context.contracts().registry
    seen: list[str] = []
    for change in _role_changes(registry):
        if change.granted and change.account not in seen:
            seen.append(change.account)
    return [account for account in seen if client.is_reviewer(account)]


# ----------------------------------------------------------------------------------------- pending


@dataclass(frozen=True)
class PendingReview:
    """A registration that waits: Pending (in its notice period: objections are taken), Disputed (objected to: a
    reviewer approves or rejects it) or Suspended (a reviewer reinstates or rejects it)."""

    asset_id: int
    status: str
    owner: str
    registered_at: int
    notice_ends_at: int

    @property
    def waits_for(self) -> str:
        if self.status == "Pending":
            return f"its notice to end at {format_time(self.notice_ends_at)} (objections until then)"
        return "a reviewer: approve or reject" if self.status == "Disputed" else "a reviewer: reinstate or reject"

    def to_json(self) -> dict[str, Any]:
        return {"asset_id": self.asset_id, "status": self.status, "owner": self.owner,
                "registered_at": self.registered_at, "notice_ends_at": self.notice_ends_at, "waits_for": self.waits_for}


_WAITING = (AssetStatus.Pending, AssetStatus.Disputed, AssetStatus.Suspended)


def pending_reviews(registry: Registry) -> list[PendingReview]:
    """The registrations waiting in their notice period or for a reviewer (:class:`PendingReview`), by asset id.

    One walk over the AssetRegistry's registration and status events (``eth_getLogs``, no database) gives each
    asset's last recorded status; those left Pending, Disputed or Suspended are read again (``assetOf``: a pending
    registration past its notice is Active by then, though no event says so)."""
    context = registry.context
    deployment = context.deployment()
    contracts = context.contracts()
    topics: list[Any] = [["0x" + event_topic(name).hex() for name in ("AssetRegistered", "AssetStatusChanged")]]
    last: dict[int, AssetStatus] = {}
    for log in LogReader(context.connection.w3, endpoint=context.connection.endpoint).logs(
            deployment.asset_registry, deployment.deploy_block, "latest", topics):
        record = contracts.decoder.decode_log(log)
        if isinstance(record, AssetRecord):
            last[record.asset_id] = record.status
        elif isinstance(record, AssetStatusChange):
            last[record.asset_id] = record.to_status
    waiting = []
    for asset_id in sorted(a for a, status in last.items() if status in _WAITING):
        asset = contracts.registry.asset(asset_id)
        if asset.status in _WAITING:
            waiting.append(PendingReview(asset_id, status_name(asset.status), asset.owner, asset.registered_at,
                                         asset.notice_ends_at))
    return waiting
