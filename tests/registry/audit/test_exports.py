"""Exports of a real trail: CSV read back with the csv module, PROV-JSON loaded with the `prov` package and its
relations checked (derivations between versions, generation and attribution of registrations, usage of the
asset by grants, usage and trades, associations with the accounts)."""
from __future__ import annotations

import csv
import io
import json

from prov.model import (
    PROV_ROLE,
    PROV_TYPE,
    ProvActivity,
    ProvAgent,
    ProvAssociation,
    ProvAttribution,
    ProvCommunication,
    ProvDerivation,
    ProvDocument,
    ProvEntity,
    ProvGeneration,
    ProvUsage,
)

from dataseal.registry.audit import CSV_COLUMNS, AssetSubject, ChainTrailSource, TrailEntry, collect_trail, compute_csv
from dataseal.registry.audit.exports import compute_prov
from tests.registry.audit.conftest import History


def trail(history: History) -> list[TrailEntry]:
    return collect_trail(ChainTrailSource(history.chain.w3, history.chain.deployment), AssetSubject(history.asset))


def test_csv_has_stable_columns_and_one_row_per_entry(history: History) -> None:
    entries = trail(history)
    rows = list(csv.reader(io.StringIO(compute_csv(entries))))
    assert tuple(rows[0]) == CSV_COLUMNS == (
        "block_number", "log_index", "time", "contract", "event", "asset_id", "grant_id", "trade_id", "summary",
        "addresses", "tx_hash", "block_hash", "args")
    assert len(rows) == len(entries) + 1
    by_name = [dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows[1:]]
    for row, entry in zip(by_name, entries, strict=True):
        assert (int(row["block_number"]), int(row["log_index"]), row["event"], row["tx_hash"]) == (
            entry.block_number, entry.log_index, entry.event, entry.tx_hash)
        assert json.loads(row["args"]) == entry.args and row["summary"] == entry.summary
        assert row["time"] == entry.time.isoformat() and row["time"].endswith("+00:00")
    first_usage = next(r for r in by_name if r["event"] == "UsageRecorded")
    assert first_usage["grant_id"] == str(history.grant) and first_usage["trade_id"] == ""
    assert first_usage["addresses"] == f"recorder={history.chain.user.address}"


def _local(qualified: object) -> str:
    return str(getattr(qualified, "localpart", qualified))


def test_prov_json_loads_in_the_prov_package_with_its_relations(history: History) -> None:
    chain = history.chain
    entries = trail(history)
    document = compute_prov(entries, chain_id=chain.w3.eth.chain_id,
                            asset_registry=chain.deployment.asset_registry)
    text = json.dumps(document)
    assert '"type": "prov:QUALIFIED_NAME"' in text
    prov = ProvDocument.deserialize(content=text, format="json")

    entities = {_local(r.identifier) for r in prov.get_records(ProvEntity)}
    assert entities == {str(history.asset), str(history.version), str(history.derived)}
    dataset = prov.get_record(f"asset:{history.asset}")[0]
    assert {_local(t) for t in dataset.get_attribute(PROV_TYPE)} == {"Dataset"}  # read as a name, not a string

    derivations = {(_local(r.args[0]), _local(r.args[1]), tuple(_local(t) for t in r.get_attribute(PROV_TYPE)))
                   for r in prov.get_records(ProvDerivation)}
    assert derivations == {(str(history.version), str(history.asset), ("Revision",)),
                           (str(history.derived), str(history.asset), ())}

    activities = {_local(r.identifier): r for r in prov.get_records(ProvActivity)}
    kinds = sorted(_local(next(iter(a.get_attribute(PROV_TYPE)))) for a in activities.values())
    assert kinds == sorted(["Registration"] * 3 + ["Grant"] * 3 + ["Usage"] * 5 + ["Trade"] * 2)

    generated = {(_local(r.args[0]), _local(r.args[1])) for r in prov.get_records(ProvGeneration)}
    registration = next(e for e in entries if e.event == "AssetRegistered" and e.asset_id == history.asset)
    assert (str(history.asset), f"{registration.tx_hash}-{registration.log_index}") in generated
    attributed = {(_local(r.args[0]), _local(r.args[1])) for r in prov.get_records(ProvAttribution)}
    assert attributed == {(str(history.asset), chain.owner.address), (str(history.version), chain.owner.address),
                          (str(history.derived), chain.user.address)}

    used = [(_local(r.args[0]), _local(r.args[1])) for r in prov.get_records(ProvUsage)]
    usage_ids = {f"{e.tx_hash}-{e.log_index}" for e in entries if e.event.startswith("Usage")}
    assert {activity for activity, entity in used if entity == str(history.asset)} >= usage_ids
    assert len(used) == 3 + 5 + 2  # grants, usage, trades: each used the asset

    informed = {(_local(r.args[0]), _local(r.args[1])) for r in prov.get_records(ProvCommunication)}
    grant_event = next(e for e in entries if e.event == "GrantCreated" and e.grant_id == history.grant)
    first_usage = next(e for e in entries if e.event == "UsageRecorded")
    assert (f"{first_usage.tx_hash}-{first_usage.log_index}", f"{grant_event.tx_hash}-{grant_event.log_index}") \
        in informed and len(informed) == 5

    associations = {(_local(r.args[0]), _local(r.args[1]), _local(next(iter(r.get_attribute(PROV_ROLE)))))
                    for r in prov.get_records(ProvAssociation)}
    sale = entries[-1]
    assert {(a, r) for act, a, r in associations if act == f"{sale.tx_hash}-{sale.log_index}"} == {
        (chain.owner.address, "seller"), (chain.buyer.address, "buyer"), (chain.owner.address, "recorder")}
    agents = {_local(r.identifier) for r in prov.get_records(ProvAgent)}
    assert agents == {chain.owner.address, chain.user.address, chain.buyer.address}
