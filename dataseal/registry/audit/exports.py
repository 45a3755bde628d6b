"""A trail as documents: JSON (a page with its next cursor), CSV (one row per entry, stable columns) and W3C
PROV-JSON (https://www.w3.org/submissions/prov-json/).

The PROV document models what happened to data:

- entities: the datasets — every asset the trail registers or names as a parent (``asset:N``); a version or
  a derived asset ``wasDerivedFrom`` its parent (a version is a ``prov:Revision``);
- activities: each registration, grant, usage record and trade (``event:TX-LOG``), with its block time;
- agents: the accounts (``account:0x…``);
- relations: a registration generated its asset (``wasGeneratedBy``), which is attributed to its registrant
  (``wasAttributedTo``); every activity is associated with the accounts it names (``wasAssociatedWith``,
  with their role); grants, usage and trades ``used`` the asset; usage was informed by its grant
  (``wasInformedBy``) when the grant is in the trail.

Qualified names in attribute values are written ``{"$": "ds:Dataset", "type": "prov:QUALIFIED_NAME"}``, as
PROV-JSON requires for the ``prov`` package (and other readers) to read them as names, not strings.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

from dataseal.registry.audit.entries import TrailEntry

#: The CSV columns, in order (stable: scripts may rely on them).
CSV_COLUMNS = ("block_number", "log_index", "time", "contract", "event", "asset_id", "grant_id", "trade_id",
               "summary", "addresses", "tx_hash", "block_hash", "args")

#: The namespace of dataseal's own PROV terms.
DATASEAL_NS = "https://dataseal.dev/ns/prov#"


def compute_csv(entries: Iterable[TrailEntry]) -> str:
    """The trail as CSV: a header row, then one row per entry (:data:`CSV_COLUMNS`; ``addresses`` as
    ``role=address`` pairs separated by spaces, ``args`` as compact JSON)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        writer.writerow([
            e.block_number, e.log_index, e.time.isoformat(), e.contract, e.event, _blank(e.asset_id),
            _blank(e.grant_id), _blank(e.trade_id), e.summary, " ".join(f"{p.role}={p.address}" for p in e.parties),
            e.tx_hash, e.block_hash, json.dumps(e.args, sort_keys=True, separators=(",", ":")),
        ])
    return out.getvalue()


def _blank(value: int | None) -> str:
    return "" if value is None else str(value)


def _qname(name: str) -> dict[str, str]:
    return {"$": name, "type": "prov:QUALIFIED_NAME"}


class _ProvBuilder:
    def __init__(self, chain_id: int, asset_registry: str) -> None:
        self.doc: dict[str, Any] = {
            "prefix": {
                "ds": DATASEAL_NS,
                "asset": f"urn:dataseal:eip155:{chain_id}:{asset_registry.lower()}:asset:",
                "account": f"urn:dataseal:eip155:{chain_id}:account:",
                "event": f"urn:dataseal:eip155:{chain_id}:event:",
            },
            "entity": {}, "activity": {}, "agent": {},
        }
        self.grants: dict[int, str] = {}  # grant id -> its activity
        self._relations = 0

    def asset(self, asset_id: int, **attributes: Any) -> str:
        name = f"asset:{asset_id}"
        entity = self.doc["entity"].setdefault(name, {"prov:type": _qname("ds:Dataset"),
                                                      "prov:label": f"asset {asset_id}"})
        entity.update(attributes)
        return name

    def agent(self, address: str) -> str:
        name = f"account:{address}"
        self.doc["agent"].setdefault(name, {"prov:type": _qname("ds:Account"), "prov:label": address})
        return name

    def activity(self, entry: TrailEntry, kind: str) -> str:
        name = f"event:{entry.tx_hash}-{entry.log_index}"
        time = entry.time.isoformat()
        self.doc["activity"][name] = {
            "prov:startTime": time, "prov:endTime": time, "prov:type": _qname(f"ds:{kind}"),
            "prov:label": entry.summary, "ds:event": entry.event, "ds:txHash": entry.tx_hash,
            "ds:blockNumber": entry.block_number, "ds:logIndex": entry.log_index,
        }
        for party in entry.parties:
            self.relation("wasAssociatedWith", {"prov:activity": name, "prov:agent": self.agent(party.address),
                                                "prov:role": _qname(f"ds:{party.role}")})
        return name

    def relation(self, kind: str, body: dict[str, Any]) -> None:
        self._relations += 1
        self.doc.setdefault(kind, {})[f"_:{kind}{self._relations}"] = body

    def add(self, entry: TrailEntry) -> None:
        a = entry.args
        if entry.event == "AssetRegistered":
            asset = self.asset(a["asset_id"], **{"ds:contentRoot": a["content_root"],
                                                 "ds:manifestHash": a["manifest_hash"]})
            activity = self.activity(entry, "Registration")
            time = entry.time.isoformat()
            self.relation("wasGeneratedBy", {"prov:entity": asset, "prov:activity": activity, "prov:time": time})
            self.relation("wasAttributedTo", {"prov:entity": asset, "prov:agent": self.agent(a["registrant"])})
            if a["parent_id"]:
                body: dict[str, Any] = {"prov:generatedEntity": asset, "prov:usedEntity": self.asset(a["parent_id"]),
                                        "prov:activity": activity}
                if a["lineage"] == "Version":
                    body["prov:type"] = _qname("prov:Revision")
                self.relation("wasDerivedFrom", body)
        elif entry.event == "GrantCreated":
            activity = self.activity(entry, "Grant")
            self.grants[a["grant_id"]] = activity
            self.relation("used", {"prov:activity": activity, "prov:entity": self.asset(a["asset_id"]),
                                   "prov:time": entry.time.isoformat()})
        elif entry.event in ("UsageRecorded", "UsageBatchRecorded"):
            activity = self.activity(entry, "Usage")
            if entry.asset_id is not None:
                self.relation("used", {"prov:activity": activity, "prov:entity": self.asset(entry.asset_id),
                                       "prov:time": entry.time.isoformat()})
            grant = self.grants.get(a["grant_id"])
            if grant is not None:
                self.relation("wasInformedBy", {"prov:informed": activity, "prov:informant": grant})
        elif entry.event == "TradeRecorded":
            activity = self.activity(entry, "Trade")
            self.relation("used", {"prov:activity": activity, "prov:entity": self.asset(a["asset_id"]),
                                   "prov:time": entry.time.isoformat()})


def compute_prov(entries: Sequence[TrailEntry], *, chain_id: int, asset_registry: str) -> dict[str, Any]:
    """The trail as a PROV-JSON document (see the module documentation); names are scoped to the chain and
    the AssetRegistry the assets belong to."""
    builder = _ProvBuilder(chain_id, asset_registry)
    for entry in entries:
        builder.add(entry)
    return builder.doc
