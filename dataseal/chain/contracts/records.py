"""What dataseal's contracts record, as Python values: the records of their events and the views of
their state.

Records (one per event, :data:`Record`) carry where the event was emitted (:class:`TxRef`: the
transaction, the block number *and hash* — a reader that follows the chain can tell a block a
reorganisation replaced — and the log's position). State views (:class:`Asset`, :class:`Grant`,
:class:`Batch`) are what the contracts' getters return. All are frozen; ``to_json()`` gives
plain JSON values (bytes as 0x-hex, enums by name). :mod:`.events` maps each event to its record.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from enum import IntEnum
from typing import Any, cast

from dataseal.chain.values import address, bytes32

ZERO32 = b"\0" * 32
_PLAIN: frozenset[type] = frozenset({int, str, bool, type(None), float})

# ------------------------------------------------------------------------------------ enums


class AssetStatus(IntEnum):
    """IAssetRegistry.Status (Solidity names)."""

    None_ = 0
    Pending = 1
    Active = 2
    Suspended = 3
    Cancelled = 4
    Rejected = 5
    Disputed = 6
    Expired = 7


class Lineage(IntEnum):
    """IAssetRegistry.Lineage."""

    None_ = 0
    Version = 1
    Derived = 2


class GrantStatus(IntEnum):
    """IGrantRegistry.GrantStatus."""

    None_ = 0
    Active = 1
    Revoked = 2


class Settlement(IntEnum):
    """ITransactionLedger.Settlement: how a trade settles on chain."""

    None_ = 0
    Transfer = 1
    Licence = 2


#: Operator powers (ITransactionLedger): record usage under the account's grants, record its trades.
USAGE = 1
TRADE = 2


# ------------------------------------------------------------------------------------ records


class _Json:
    def to_json(self) -> dict[str, Any]:
        return {name: _jsonable(getattr(self, name)) for name in _field_names(type(self))}


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    """The dataclass fields of ``cls``, in order (read once per class: ``fields()`` on every record costs as much
    as the rest of ``to_json``)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cast(Any, cls)))
    return names


def _jsonable(value: Any) -> Any:
    if type(value) in _PLAIN:  # (most values: the checks below in one look-up)
        return value
    if isinstance(value, IntEnum):
        return value.name.rstrip("_")
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, _Json):
        return value.to_json()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class TxRef(_Json):
    """Where an event was emitted: transaction, block (number and hash), position in the block's logs."""

    tx_hash: str
    block_number: int
    log_index: int
    block_hash: str


@dataclass(frozen=True)
class AssetRecord(_Json):
    """AssetRegistered: a registration as the chain recorded it."""

    asset_id: int
    registrant: str
    content_root: bytes
    manifest_hash: bytes
    rights_type: int
    classification: int
    status: AssetStatus
    parent_id: int
    lineage: Lineage
    registered_at: int
    valid_until: int
    tx: TxRef


@dataclass(frozen=True)
class AssetStatusChange(_Json):
    """AssetStatusChanged: rejection, dispute and its resolution, suspension, reinstatement, cancellation."""

    asset_id: int
    from_status: AssetStatus
    to_status: AssetStatus
    by: str
    reason_hash: bytes
    tx: TxRef


@dataclass(frozen=True)
class CommitRecord(_Json):
    """Committed: ``by`` committed to a registration it will reveal later (see ``make_commitment``)."""

    commitment: bytes
    by: str
    tx: TxRef


@dataclass(frozen=True)
class RootReservation(_Json):
    """RootReserved: a reviewer rejected ``asset_id`` and reserved its ``content_root`` for ``beneficiary`` until
    ``reserved_until``."""

    content_root: bytes
    beneficiary: str
    asset_id: int
    reserved_until: int
    tx: TxRef


@dataclass(frozen=True)
class ObjectionRecord(_Json):
    """ObjectionFiled: ``objector`` objected to a registration in its notice period."""

    asset_id: int
    objector: str
    evidence_hash: bytes
    tx: TxRef


@dataclass(frozen=True)
class AssetRenewal(_Json):
    """AssetRenewed: the certification of ``asset_id`` now runs until ``valid_until``."""

    asset_id: int
    previous_valid_until: int
    valid_until: int
    by: str
    tx: TxRef


@dataclass(frozen=True)
class NonceUse(_Json):
    """NonceUsed: ``owner`` voided its unused signatures with ``nonce`` at ``contract``."""

    contract: str
    owner: str
    nonce: int
    tx: TxRef


@dataclass(frozen=True)
class AdminChange(_Json):
    """The AssetRegistry's two-step admin handover (AccessControlDefaultAdminRules).

    ``kind`` is "transfer_scheduled" (``new_admin`` may accept at ``schedule``), "transfer_canceled",
    "delay_change_scheduled" (``new_delay`` takes effect at ``schedule``) or "delay_change_canceled";
    fields the event does not carry are zero.
    """

    kind: str
    new_admin: str
    new_delay: int
    schedule: int
    tx: TxRef


@dataclass(frozen=True)
class AssetTransfer(_Json):
    """Transfer (ERC-721) of an asset token; ``from_address`` is the zero address at registration."""

    from_address: str
    to_address: str
    asset_id: int
    tx: TxRef


@dataclass(frozen=True)
class BatchRecord(_Json):
    """BatchAnchored: the Merkle root of many asset records, committed in one transaction."""

    batch_id: int
    anchorer: str
    batch_root: bytes
    manifest_hash: bytes
    count: int
    anchored_at: int
    tx: TxRef


@dataclass(frozen=True)
class GrantRecord(_Json):
    """GrantCreated: an authorization of ``grantee`` to use ``asset_id`` for ``purpose``."""

    grant_id: int
    asset_id: int
    grantee: str
    grantor: str
    purpose: bytes
    valid_from: int
    expires_at: int
    quota: int
    scope_root: bytes
    tx: TxRef


@dataclass(frozen=True)
class GrantRevocation(_Json):
    """GrantRevoked."""

    grant_id: int
    asset_id: int
    by: str
    reason_hash: bytes
    tx: TxRef


@dataclass(frozen=True)
class UsageRecord(_Json):
    """UsageRecorded: ``units`` used under a grant for one job, with the hash of its receipt."""

    grant_id: int
    recorder: str
    units: int
    sequence: int
    receipt_hash: bytes
    tx: TxRef


@dataclass(frozen=True)
class UsageBatchRecord(_Json):
    """UsageBatchRecorded: many jobs' units, committed by the Merkle root of their receipts."""

    grant_id: int
    recorder: str
    units: int
    sequence: int
    receipts_root: bytes
    count: int
    tx: TxRef


@dataclass(frozen=True)
class TradeRecord(_Json):
    """TradeRecorded: a sale of an asset the buyer countersigned; ``grant_id`` is the licence a
    :attr:`Settlement.Licence` sale created (0 otherwise)."""

    trade_id: int
    asset_id: int
    seller: str
    buyer: str
    price: int
    currency: bytes
    settlement_hash: bytes
    settlement: Settlement
    grant_id: int
    recorder: str
    tx: TxRef


@dataclass(frozen=True)
class OperatorChange(_Json):
    """OperatorSet: ``account`` gave ``operator`` the powers ``powers`` (:data:`USAGE` | :data:`TRADE`; 0: none)."""

    account: str
    operator: str
    powers: int
    tx: TxRef


@dataclass(frozen=True)
class TokenApproval(_Json):
    """Approval (ERC-721): ``approved`` may transfer ``asset_id`` for its owner (the zero address: nobody)."""

    owner: str
    approved: str
    asset_id: int
    tx: TxRef


@dataclass(frozen=True)
class OperatorApproval(_Json):
    """ApprovalForAll (ERC-721): ``operator`` may (or may no longer) transfer every asset of ``owner``."""

    owner: str
    operator: str
    approved: bool
    tx: TxRef


@dataclass(frozen=True)
class RoleChange(_Json):
    """RoleGranted / RoleRevoked (AccessControl): ``account`` gained or lost ``role``, by ``sender``."""

    role: bytes
    account: str
    sender: str
    granted: bool
    tx: TxRef


@dataclass(frozen=True)
class RoleAdminChange(_Json):
    """RoleAdminChanged (AccessControl): ``role`` is now administered by ``new_admin_role``."""

    role: bytes
    previous_admin_role: bytes
    new_admin_role: bytes
    tx: TxRef


@dataclass(frozen=True)
class DomainChange(_Json):
    """EIP712DomainChanged (ERC-5267): the contract's EIP-712 signing domain may have changed."""

    contract: str
    tx: TxRef


Record = (
    AssetRecord | AssetStatusChange | AssetTransfer | BatchRecord | GrantRecord | GrantRevocation | UsageRecord
    | UsageBatchRecord | TradeRecord | OperatorChange | TokenApproval | OperatorApproval | RoleChange
    | RoleAdminChange | DomainChange | CommitRecord | ObjectionRecord | AssetRenewal | NonceUse | AdminChange
    | RootReservation
)


@dataclass(frozen=True)
class Asset(_Json):
    """An asset's current state (assetOf)."""

    asset_id: int
    content_root: bytes
    manifest_hash: bytes
    owner: str
    registrant: str
    registered_at: int
    rights_type: int
    classification: int
    status: AssetStatus
    parent_id: int
    lineage: Lineage
    valid_until: int
    notice_ends_at: int


@dataclass(frozen=True)
class Batch(_Json):
    """An anchored batch (batchOf)."""

    batch_id: int
    batch_root: bytes
    manifest_hash: bytes
    anchorer: str
    anchored_at: int
    count: int


@dataclass(frozen=True)
class Reservation(_Json):
    """Who may register a freed content root until when (reservationOf).

    ``beneficiary`` is the account a reviewer reserved the root for, or None while it cools after a
    cancellation (nobody may register it before ``until``). A root held, or free to all, has no reservation:
    :meth:`AssetRegistryClient.reservation_of` returns None for it.
    """

    beneficiary: str | None
    until: int

    @property
    def cooling(self) -> bool:
        """Whether the root cools after a cancellation (nobody may register it) rather than being reserved."""
        return self.beneficiary is None


@dataclass(frozen=True)
class Grant(_Json):
    """A grant's current state (grantOf)."""

    grant_id: int
    asset_id: int
    grantee: str
    valid_from: int
    expires_at: int
    quota: int
    used: int
    sequence: int
    scope_root: bytes
    status: GrantStatus


@dataclass(frozen=True)
class GrantTerms(_Json):
    """What an owner signs for grantBySig (IGrantRegistry.GrantTerms)."""

    asset_id: int
    grantee: str
    purpose: bytes
    valid_from: int
    expires_at: int
    quota: int
    scope_root: bytes = ZERO32

    def as_tuple(self) -> tuple[Any, ...]:
        return (self.asset_id, address(self.grantee, "grantee"), bytes32(self.purpose, "purpose"), self.valid_from,
                self.expires_at, self.quota, bytes32(self.scope_root, "scope_root"))


@dataclass(frozen=True)
class Registration(_Json):
    """What a registrant declares (IAssetRegistry.Registration); ``valid_until`` 0 means no expiry."""

    content_root: bytes
    manifest_hash: bytes
    rights_type: int
    classification: int
    parent_id: int = 0
    valid_until: int = 0

    def as_tuple(self) -> tuple[Any, ...]:
        return (bytes32(self.content_root, "content_root"), bytes32(self.manifest_hash, "manifest_hash"),
                self.rights_type, self.classification, self.parent_id, self.valid_until)


@dataclass(frozen=True)
class TradeTerms(_Json):
    """A sale both sides agree to (ITransactionLedger.TradeTerms); the buyer countersigns it.

    A :attr:`Settlement.Transfer` sale moves the token to the buyer and carries no licence terms
    (they must be zero); a :attr:`Settlement.Licence` sale creates a grant for the buyer with them.
    Build them with :meth:`transfer` or :meth:`licence`.
    """

    asset_id: int
    seller: str
    buyer: str
    price: int
    currency: bytes
    settlement_hash: bytes
    settlement: Settlement
    purpose: bytes = ZERO32
    valid_from: int = 0
    expires_at: int = 0
    quota: int = 0
    scope_root: bytes = ZERO32

    @classmethod
    def transfer(cls, asset_id: int, seller: str, buyer: str, price: int, currency: bytes,
                 settlement_hash: bytes) -> TradeTerms:
        """A sale of the asset itself: the token moves to ``buyer`` when the trade is recorded."""
        return cls(asset_id, seller, buyer, price, currency, settlement_hash, Settlement.Transfer)

    @classmethod
    def licence(cls, asset_id: int, seller: str, buyer: str, price: int, currency: bytes, settlement_hash: bytes,
                purpose: bytes, valid_from: int, expires_at: int, quota: int,
                scope_root: bytes = ZERO32) -> TradeTerms:
        """A sale of a licence: the buyer gets a grant with these terms when the trade is recorded."""
        return cls(asset_id, seller, buyer, price, currency, settlement_hash, Settlement.Licence, purpose,
                   valid_from, expires_at, quota, scope_root)

    def as_tuple(self) -> tuple[Any, ...]:
        return (self.asset_id, address(self.seller, "seller"), address(self.buyer, "buyer"), self.price,
                bytes32(self.currency, "currency"), bytes32(self.settlement_hash, "settlement_hash"),
                int(self.settlement), bytes32(self.purpose, "purpose"), self.valid_from, self.expires_at,
                self.quota, bytes32(self.scope_root, "scope_root"))
