"""One line of an audit trail (:class:`TrailEntry`), made the same way from a chain record and from an
indexed row, and what a trail is about (:data:`Subject`) and where a page of it starts (:class:`Cursor`).

An entry is built from four things every source has: the event's name and contract, its arguments as
JSON (a record's ``to_json()`` without ``tx``), its position (block, log index, transaction, block hash)
and its block's time. Everything else — the asset, grant and trade it concerns, the accounts it names and
their roles, the one-line summary — is computed here from those, so that a trail read from the chain and
one read from the registry database compare field by field (:mod:`.verify`).

Usage records (``UsageRecorded``, ``UsageBatchRecorded``) do not name their asset: it is the asset of
their grant, which the source supplies (``asset_id``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any, NamedTuple

from pydantic import TypeAdapter

from dataseal.chain.contracts.records import (
    TRADE,
    USAGE,
    AdminChange,
    AssetRecord,
    AssetRenewal,
    AssetStatusChange,
    AssetTransfer,
    BatchRecord,
    CommitRecord,
    DomainChange,
    GrantRecord,
    GrantRevocation,
    NonceUse,
    ObjectionRecord,
    OperatorApproval,
    OperatorChange,
    Record,
    RoleAdminChange,
    RoleChange,
    RootReservation,
    TokenApproval,
    TradeRecord,
    UsageBatchRecord,
    UsageRecord,
)
from dataseal.chain.contracts.revert import ROLE_NAMES
from dataseal.chain.values import address as checked_address
from dataseal.registry.audit.errors import AuditInputError
from dataseal.registry.prices import format_price

ZERO_ADDRESS = "0x" + "0" * 40
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
#: Events that record usage under a grant (their asset is the grant's).
USAGE_EVENTS = frozenset({"UsageRecorded", "UsageBatchRecorded"})

# ------------------------------------------------------------------------------------ position


#: The largest block number or log index a cursor names (the index stores them as 64-bit integers).
MAX_POSITION = 2**63 - 1


class Cursor(NamedTuple):
    """A position in chain order: a page of a trail holds the entries strictly after it."""

    block_number: int
    log_index: int

    def __str__(self) -> str:
        return f"{self.block_number}:{self.log_index}"


def parse_cursor(text: str) -> Cursor:
    """``BLOCK:LOG`` (as a trail page prints its next cursor) as a :class:`Cursor`."""
    block, sep, log = text.strip().partition(":")
    if not sep or not block.isdigit() or not log.isdigit():
        raise AuditInputError(f"the cursor {text!r} is not BLOCK:LOG (two whole numbers, e.g. 1042:3)",
                              hint="give the next cursor a trail page printed", options=("after",))
    if int(block) > MAX_POSITION or int(log) > MAX_POSITION:
        raise AuditInputError(f"the cursor {text!r} is beyond any block or log index (at most {MAX_POSITION})",
                              hint="give the next cursor a trail page printed", options=("after",))
    return Cursor(int(block), int(log))


# ------------------------------------------------------------------------------------ subjects


class AssetSubject(NamedTuple):
    """The trail of one asset."""

    asset_id: int

    def __str__(self) -> str:
        return f"asset {self.asset_id}"


class AccountSubject(NamedTuple):
    """The trail of one account (every event naming it)."""

    address: str

    def __str__(self) -> str:
        return f"account {self.address}"


Subject = AssetSubject | AccountSubject


def parse_subject(text: str) -> Subject:
    """An asset id (decimal) or an account address (0x and 40 hex digits)."""
    value = text.strip()
    if value.isdigit():
        if int(value) < 1:
            raise AuditInputError(f"asset ids start at 1, got {value}", hint="give a registered asset's id")
        return AssetSubject(int(value))
    if value[:2].lower() == "0x" and _ADDRESS.match(value):
        return AccountSubject(checked_address(value, "the account"))
    raise AuditInputError(f"{text!r} is neither an asset id nor an address",
                          hint="give an asset id (a whole number such as 7) or an account (0x and 40 hex digits)")


# ------------------------------------------------------------------------------------ entry


# Plain frozen dataclasses, not pydantic models: a trail page builds a thousand entries from trusted values (the
# decoder's, the index's), and pydantic's validation was half the time of serving it. Pydantic models may still
# hold them (they serialise as dataclasses); :meth:`TrailEntry.to_json_data` dumps them the same way.


@dataclass(frozen=True, slots=True)
class Party:
    """An account an event names, and in which role (the event argument's name: registrant, grantee, …)."""

    role: str
    address: str


@dataclass(frozen=True, slots=True)
class TrailEntry:
    """One event of a trail, in chain order: where it is, when, what it was and whom it names. ``time`` is aware
    and in UTC (:func:`compute_entry` makes it so)."""

    block_number: int
    log_index: int
    tx_hash: str
    block_hash: str
    time: datetime
    contract: str
    event: str
    asset_id: int | None
    grant_id: int | None
    trade_id: int | None
    parties: tuple[Party, ...]
    summary: str
    args: dict[str, Any]

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.block_number, self.log_index)

    @property
    def addresses(self) -> tuple[str, ...]:
        """The accounts the event names, each once, in role order."""
        return tuple(dict.fromkeys(p.address for p in self.parties))

    def names(self, address: str) -> bool:
        """Whether the event names ``address`` (any case)."""
        lowered = address.lower()
        return any(p.address.lower() == lowered for p in self.parties)

    def to_json_data(self) -> dict[str, Any]:
        data: dict[str, Any] = _ENTRY_JSON.dump_python(self, mode="json")
        return data

    def replaced(self, **changes: Any) -> TrailEntry:
        """A copy with ``changes`` (field names as keys)."""
        return replace(self, **changes)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


_ENTRY_JSON: TypeAdapter[TrailEntry] = TypeAdapter(TrailEntry)


def compute_entry(
    *,
    contract: str,
    event: str,
    args: dict[str, Any],
    block_number: int,
    log_index: int,
    tx_hash: str,
    block_hash: str,
    time: datetime,
    asset_id: int | None = None,
) -> TrailEntry:
    """The trail entry of one event. ``asset_id`` is needed for usage events only (their grant's asset);
    every other event names its asset in ``args``."""
    grant_id = _positive(args.get("grant_id"))
    own_asset = args.get("asset_id")
    return TrailEntry(
        block_number=block_number,
        log_index=log_index,
        tx_hash=tx_hash,
        block_hash=block_hash,
        time=time.astimezone(UTC),
        contract=contract,
        event=event,
        asset_id=asset_id if event in USAGE_EVENTS else _positive(own_asset),
        grant_id=grant_id,
        trade_id=_positive(args.get("trade_id")),
        parties=compute_parties(args),
        summary=compute_summary(event, args, contract),
        args=args,
    )


def entry_of_record(record: Record, time: datetime, *, asset_id: int | None = None) -> TrailEntry:
    """The trail entry of a decoded chain record (see :func:`compute_entry` for ``asset_id``)."""
    contract, event = event_name(record)
    tx = record.tx
    return compute_entry(contract=contract, event=event, args=record_args(record), block_number=tx.block_number,
                         log_index=tx.log_index, tx_hash=tx.tx_hash, block_hash=tx.block_hash, time=time,
                         asset_id=asset_id)


def record_args(record: Record) -> dict[str, Any]:
    """A record's arguments as JSON: its ``to_json()`` without where it was emitted (what the indexer stores)."""
    data = record.to_json()
    data.pop("tx", None)
    return data


def compute_parties(args: dict[str, Any]) -> tuple[Party, ...]:
    """Every account ``args`` name (the zero address is nobody), by role name."""
    found = [Party(role=key, address=value) for key, value in args.items()
             if isinstance(value, str) and _ADDRESS.match(value) and value != ZERO_ADDRESS]
    return tuple(sorted(found, key=lambda p: p.role))


def _positive(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


# ------------------------------------------------------------------------------------ names

_NAMES: dict[type, tuple[str, str]] = {
    AssetRecord: ("AssetRegistry", "AssetRegistered"),
    AssetStatusChange: ("AssetRegistry", "AssetStatusChanged"),
    AssetTransfer: ("AssetRegistry", "Transfer"),
    TokenApproval: ("AssetRegistry", "Approval"),
    OperatorApproval: ("AssetRegistry", "ApprovalForAll"),
    BatchRecord: ("AssetRegistry", "BatchAnchored"),
    RoleAdminChange: ("AssetRegistry", "RoleAdminChanged"),
    CommitRecord: ("AssetRegistry", "Committed"),
    RootReservation: ("AssetRegistry", "RootReserved"),
    ObjectionRecord: ("AssetRegistry", "ObjectionFiled"),
    AssetRenewal: ("AssetRegistry", "AssetRenewed"),
    GrantRecord: ("GrantRegistry", "GrantCreated"),
    GrantRevocation: ("GrantRegistry", "GrantRevoked"),
    UsageRecord: ("TransactionLedger", "UsageRecorded"),
    UsageBatchRecord: ("TransactionLedger", "UsageBatchRecorded"),
    TradeRecord: ("TransactionLedger", "TradeRecorded"),
    OperatorChange: ("TransactionLedger", "OperatorSet"),
}
_ADMIN_EVENTS = {
    "transfer_scheduled": "DefaultAdminTransferScheduled",
    "transfer_canceled": "DefaultAdminTransferCanceled",
    "delay_change_scheduled": "DefaultAdminDelayChangeScheduled",
    "delay_change_canceled": "DefaultAdminDelayChangeCanceled",
}


def event_name(record: Record) -> tuple[str, str]:
    """(contract, Solidity event name) of a decoded record."""
    if isinstance(record, RoleChange):
        return "AssetRegistry", "RoleGranted" if record.granted else "RoleRevoked"
    if isinstance(record, AdminChange):
        return "AssetRegistry", _ADMIN_EVENTS[record.kind]
    if isinstance(record, DomainChange):
        return record.contract, "EIP712DomainChanged"
    if isinstance(record, NonceUse):
        return record.contract, "NonceUsed"
    return _NAMES[type(record)]


# ------------------------------------------------------------------------------------ summaries

_ROLES = {"0x" + role.hex(): name for role, name in ROLE_NAMES.items()}


def short(address: str) -> str:
    """An address for people: 0xAbCd…1234."""
    return f"{address[:6]}…{address[-4:]}" if _ADDRESS.match(str(address)) else str(address)


def _date(timestamp: int) -> str:
    if not timestamp:
        return "no expiry"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _hash(value: str) -> str:
    return f"{value[:10]}…"


def _role(value: str) -> str:
    return _ROLES.get(value, _hash(value))


def _currency(value: str) -> str:
    raw = bytes.fromhex(value[2:]).rstrip(b"\0")
    text = raw.decode("ascii", "replace")
    return text if raw and text.isprintable() and text.isascii() else _hash(value)


def _units(count: int) -> str:
    return f"{count} unit" if count == 1 else f"{count} units"


def _powers(powers: int) -> str:
    names = [name for bit, name in ((USAGE, "USAGE"), (TRADE, "TRADE")) if powers & bit]
    return "|".join(names) if names else "no powers"


def compute_summary(event: str, a: dict[str, Any], contract: str = "") -> str:
    """One line for people saying what the event did (e.g. "grant 3: 5 units used by 0xAb…cd12, sequence 2")."""
    if event == "AssetRegistered":
        lineage = {"Version": f", a version of asset {a['parent_id']}",
                   "Derived": f", derived from asset {a['parent_id']}"}.get(a["lineage"], "")
        return f"asset {a['asset_id']} registered by {short(a['registrant'])} ({a['status']}{lineage})"
    if event == "AssetStatusChanged":
        return f"asset {a['asset_id']}: {a['from_status']} → {a['to_status']} by {short(a['by'])}"
    if event == "Transfer":
        if a["from_address"] == ZERO_ADDRESS:
            return f"asset {a['asset_id']} minted to {short(a['to_address'])}"
        return f"asset {a['asset_id']} transferred from {short(a['from_address'])} to {short(a['to_address'])}"
    if event == "Approval":
        if a["approved"] == ZERO_ADDRESS:
            return f"asset {a['asset_id']}: transfer approval cleared by {short(a['owner'])}"
        return f"asset {a['asset_id']}: {short(a['approved'])} may transfer it for {short(a['owner'])}"
    if event == "ApprovalForAll":
        may = "may" if a["approved"] else "may no longer"
        return f"{short(a['operator'])} {may} transfer every asset of {short(a['owner'])}"
    if event == "BatchAnchored":
        return f"batch {a['batch_id']} of {a['count']} records anchored by {short(a['anchorer'])}"
    if event in ("RoleGranted", "RoleRevoked"):
        verb = "granted to" if event == "RoleGranted" else "revoked from"
        return f"{_role(a['role'])} {verb} {short(a['account'])} by {short(a['sender'])}"
    if event == "RoleAdminChanged":
        return f"{_role(a['role'])} is now administered by {_role(a['new_admin_role'])}"
    if event == "EIP712DomainChanged":
        return f"{contract}: EIP-712 signing domain changed"
    if event == "Committed":
        return f"commitment {_hash(a['commitment'])} by {short(a['by'])}"
    if event == "RootReserved":
        return (f"root {_hash(a['content_root'])} of asset {a['asset_id']} reserved for {short(a['beneficiary'])} "
                f"until {_date(a['reserved_until'])}")
    if event == "ObjectionFiled":
        return f"asset {a['asset_id']}: objection by {short(a['objector'])} (evidence {_hash(a['evidence_hash'])})"
    if event == "AssetRenewed":
        return f"asset {a['asset_id']} renewed until {_date(a['valid_until'])} by {short(a['by'])}"
    if event == "NonceUsed":
        return f"{a['contract']}: {short(a['owner'])} voided signatures with nonce {a['nonce']}"
    if event.startswith("DefaultAdmin"):
        return {
            "transfer_scheduled": f"admin handover to {short(a['new_admin'])} scheduled for {_date(a['schedule'])}",
            "transfer_canceled": "admin handover cancelled",
            "delay_change_scheduled": f"admin delay change to {a['new_delay']}s scheduled for {_date(a['schedule'])}",
            "delay_change_canceled": "admin delay change cancelled",
        }[a["kind"]]
    if event == "GrantCreated":
        return (f"grant {a['grant_id']} on asset {a['asset_id']}: {_units(a['quota'])} to {short(a['grantee'])} from "
                f"{_date(a['valid_from'])} until {_date(a['expires_at'])}, by {short(a['grantor'])}")
    if event == "GrantRevoked":
        return f"grant {a['grant_id']} on asset {a['asset_id']} revoked by {short(a['by'])}"
    if event == "UsageRecorded":
        return f"grant {a['grant_id']}: {_units(a['units'])} used by {short(a['recorder'])}, sequence {a['sequence']}"
    if event == "UsageBatchRecorded":
        return (f"grant {a['grant_id']}: {_units(a['units'])} in a batch of {a['count']} receipts by "
                f"{short(a['recorder'])}, sequence {a['sequence']}")
    if event == "TradeRecorded":
        licence = f" grant {a['grant_id']}" if a["settlement"] == "Licence" else ""
        return (f"trade {a['trade_id']}: asset {a['asset_id']} sold by {short(a['seller'])} to {short(a['buyer'])}, "
                f"{a['settlement']}{licence}, for {format_price(int(a['price']), _currency(a['currency']))}")
    if event == "OperatorSet":
        return f"{short(a['account'])} gave {short(a['operator'])} {_powers(a['powers'])}"
    return f"{contract} {event}"
