"""From records to rows: the event row of each record (with the asset, grant and trade it concerns and the
accounts it names) and the projections (assets, grants, usage, trades, batches) the events build.

Projections are a function of the events in chain order: :class:`Projector` applies records one after the
other to the rows of one database session, so that the indexer (new events) and a rollback after a
reorganisation (replaying the events that remain) build the same rows.
"""
from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from eth_utils import keccak
from sqlmodel import Session

from dataseal.chain.contracts.artifacts import CONTRACT_NAMES, load_artifact
from dataseal.chain.contracts.records import (
    AssetRecord,
    AssetRenewal,
    AssetStatusChange,
    AssetTransfer,
    BatchRecord,
    GrantRecord,
    GrantRevocation,
    Record,
    TradeRecord,
    UsageBatchRecord,
    UsageRecord,
)
from dataseal.chain.contracts.revert import canonical_type
from dataseal.registry.db.models.chain import AssetRow, GrantRow

ZERO_ADDRESS = "0x" + "0" * 40

#: The events that change an asset's row and a grant's row (replayed after a reorganisation).
ASSET_EVENTS = ("AssetRegistered", "AssetStatusChanged", "Transfer", "AssetRenewed")
GRANT_EVENTS = ("GrantCreated", "GrantRevoked")


@cache
def event_names() -> dict[tuple[str, str], str]:
    """(contract, topic0 as 0x-hex) -> the Solidity name of the event, from the shipped ABIs."""
    names: dict[tuple[str, str], str] = {}
    for contract in CONTRACT_NAMES:
        for item in load_artifact(contract).abi:
            if item.get("type") == "event" and not item.get("anonymous"):
                signature = f"{item['name']}({','.join(canonical_type(i) for i in item['inputs'])})"
                names[(contract, "0x" + keccak(text=signature).hex())] = str(item["name"])
    return names


def utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def utc_or_none(timestamp: int) -> datetime | None:
    """A contract's time, where 0 means none (no expiry)."""
    return utc(timestamp) if timestamp else None


def hex32(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def record_args(record: Record) -> dict[str, Any]:
    """The record's JSON without where it was emitted (``tx``)."""
    args = record.to_json()
    args.pop("tx", None)
    return args


def named_accounts(args: dict[str, Any]) -> list[tuple[str, str]]:
    """(role, address) of every account a record's :func:`record_args` name (the zero address is nobody, and
    left out)."""
    out = []
    for role, value in args.items():
        if isinstance(value, str) and len(value) == 42 and value.startswith("0x") and value != ZERO_ADDRESS:
            out.append((role, value))
    return out


def event_ids(record: Record) -> tuple[int | None, int | None, int | None]:
    """(asset id, grant id, trade id) the record names itself (a usage record's asset is its grant's)."""
    asset_id = getattr(record, "asset_id", None)
    grant_id = getattr(record, "grant_id", None)
    trade_id = record.trade_id if isinstance(record, TradeRecord) else None
    if isinstance(record, TradeRecord) and not grant_id:
        grant_id = None  # a sale of the token creates no licence
    return asset_id, grant_id, trade_id


class Projector:
    """Applies records, in chain order, to the projections of one session.

    Assets and grants are loaded once per projector and kept (the session writes them when it flushes);
    usage, trade and batch rows are collected in :attr:`usage`, :attr:`trades`, :attr:`batches` for one
    bulk insert. ``grant_assets`` maps grant ids to their asset ids (kept across pages by the indexer).
    """

    def __init__(self, session: Session, grant_assets: dict[int, int]) -> None:
        self.session = session
        self.grant_assets = grant_assets
        self.assets: dict[int, AssetRow | None] = {}
        self.grants: dict[int, GrantRow | None] = {}
        self._minted_to: dict[int, str] = {}  # an asset's mint Transfer may come before its AssetRegistered
        self.usage: list[dict[str, Any]] = []
        self._used: dict[int, list[int]] = {}  # grant id -> [units, last sequence, last block] not yet applied
        self.trades: list[dict[str, Any]] = []
        self.batches: list[dict[str, Any]] = []

    def asset(self, asset_id: int) -> AssetRow | None:
        if asset_id not in self.assets:
            self.assets[asset_id] = self.session.get(AssetRow, asset_id)
        return self.assets[asset_id]

    def grant(self, grant_id: int) -> GrantRow | None:
        if grant_id not in self.grants:
            self.grants[grant_id] = self.session.get(GrantRow, grant_id)
        return self.grants[grant_id]

    def asset_of_grant(self, grant_id: int) -> int | None:
        """The asset of grant ``grant_id`` (None for a grant the index has not seen created)."""
        if grant_id not in self.grant_assets:
            grant = self.grant(grant_id)
            if grant is None:
                return None
            self.grant_assets[grant_id] = grant.asset_id
        return self.grant_assets[grant_id]

    def apply(self, record: Record, block_time: datetime) -> None:
        """Apply one record (emitted at ``block_time``) to the projections."""
        tx = record.tx
        if isinstance(record, AssetRecord):
            row = AssetRow(
                asset_id=record.asset_id, content_root=hex32(record.content_root),
                manifest_hash=hex32(record.manifest_hash),
                owner=self._minted_to.pop(record.asset_id, record.registrant), registrant=record.registrant,
                rights_type=record.rights_type, classification=record.classification,
                parent_id=record.parent_id or None, lineage=record.lineage.name.rstrip("_"),
                status=record.status.name.rstrip("_"), registered_at=utc(record.registered_at),
                valid_until=utc_or_none(record.valid_until), tx_hash=tx.tx_hash, block_number=tx.block_number,
                updated_block=tx.block_number,
            )
            self.session.add(row)
            self.assets[record.asset_id] = row
        elif isinstance(record, AssetTransfer):
            asset = self.asset(record.asset_id)
            if asset is None:
                self._minted_to[record.asset_id] = record.to_address
            else:
                asset.owner = record.to_address
                asset.updated_block = tx.block_number
        elif isinstance(record, AssetStatusChange):
            asset = self.asset(record.asset_id)
            if asset is not None:
                asset.status = record.to_status.name.rstrip("_")
                asset.updated_block = tx.block_number
        elif isinstance(record, AssetRenewal):
            asset = self.asset(record.asset_id)
            if asset is not None:
                asset.valid_until = utc_or_none(record.valid_until)
                asset.updated_block = tx.block_number
        elif isinstance(record, GrantRecord):
            created = GrantRow(
                grant_id=record.grant_id, asset_id=record.asset_id, grantee=record.grantee, grantor=record.grantor,
                purpose=hex32(record.purpose), valid_from=utc(record.valid_from),
                valid_until=utc_or_none(record.expires_at), quota=record.quota, used=0, sequence=0,
                scope_root=hex32(record.scope_root), status="Active", revoked=False, tx_hash=tx.tx_hash,
                block_number=tx.block_number, updated_block=tx.block_number,
            )
            self.session.add(created)
            self.grants[record.grant_id] = created
            self.grant_assets[record.grant_id] = record.asset_id
        elif isinstance(record, GrantRevocation):
            grant = self.grant(record.grant_id)
            if grant is not None:
                grant.status, grant.revoked, grant.revoked_by = "Revoked", True, record.by
                grant.updated_block = tx.block_number
        elif isinstance(record, UsageRecord | UsageBatchRecord):
            self._usage(record, block_time)
        elif isinstance(record, TradeRecord):
            self.trades.append({
                "trade_id": record.trade_id, "asset_id": record.asset_id, "seller": record.seller,
                "buyer": record.buyer, "price": record.price, "currency": hex32(record.currency),
                "settlement_hash": hex32(record.settlement_hash), "settlement": record.settlement.name.rstrip("_"),
                "grant_id": record.grant_id or None, "recorder": record.recorder, "tx_hash": tx.tx_hash,
                "block_number": tx.block_number, "log_index": tx.log_index, "block_time": block_time,
            })
        elif isinstance(record, BatchRecord):
            self.batches.append({
                "batch_id": record.batch_id, "anchorer": record.anchorer, "batch_root": hex32(record.batch_root),
                "manifest_hash": hex32(record.manifest_hash), "count": record.count,
                "anchored_at": utc(record.anchored_at), "tx_hash": tx.tx_hash, "block_number": tx.block_number,
            })

    def _usage(self, record: UsageRecord | UsageBatchRecord, block_time: datetime) -> None:
        self.usage.append({
            "tx_hash": record.tx.tx_hash, "log_index": record.tx.log_index, "grant_id": record.grant_id,
            "asset_id": self.asset_of_grant(record.grant_id), "sequence": record.sequence, "units": record.units,
            "receipt_hash": hex32(record.receipt_hash) if isinstance(record, UsageRecord) else None,
            "receipts_root": hex32(record.receipts_root) if isinstance(record, UsageBatchRecord) else None,
            "count": record.count if isinstance(record, UsageBatchRecord) else 1, "recorder": record.recorder,
            "block_number": record.tx.block_number, "block_time": block_time,
        })
        used = self._used.setdefault(record.grant_id, [0, 0, 0])
        used[0] += record.units
        used[1] = max(used[1], record.sequence)
        used[2] = record.tx.block_number

    def finish(self) -> None:
        """Apply the usage summed by :meth:`apply` to the grants (once per grant: setting an ORM attribute per
        usage record costs more than reading the record)."""
        for grant_id, (units, sequence, block) in self._used.items():
            grant = self.grant(grant_id)
            if grant is not None:
                grant.used = grant.used + units
                grant.sequence = max(grant.sequence, sequence)
                grant.updated_block = max(grant.updated_block, block)
        self._used.clear()
