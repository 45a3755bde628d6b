"""`dataseal audit` on the embedded chain of a data folder (in-process), with a real history: registration,
a grant used three times and by a batch, a second grant revoked."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from prov.model import ProvDerivation, ProvDocument, ProvUsage
from sqlmodel import select

from dataseal.chain.connection import connect
from dataseal.chain.contracts.deploy import deploy_contracts
from dataseal.chain.contracts.deployed import DatasealContracts
from dataseal.chain.contracts.deployment import Deployment, save_deployment
from dataseal.chain.contracts.records import Registration
from dataseal.chain.sending.sender import LocalSender
from dataseal.registry.db import Database
from dataseal.registry.db.models.chain import ChainEvent
from dataseal.registry.receipts import build_receipt, purpose_hash
from dataseal.registry.scope import compute_scope_root
from tests.chain.conftest import open_embedded
from tests.cli.conftest import Cli, one_line

EVENTS = ["Transfer", "AssetRegistered", "AssetRegistered", "GrantCreated", "UsageRecorded", "UsageRecorded",
          "UsageRecorded", "UsageBatchRecorded", "GrantCreated", "GrantRevoked"]


def h(label: str) -> bytes:
    return keccak(text=label)


@dataclass
class Folder:
    owner: str
    user: str
    chain_id: int
    owner_account: LocalAccount
    deployment: Deployment


@pytest.fixture
def folder(cli: Cli) -> Folder:
    """A data folder whose embedded chain has dataseal deployed and asset 1's history (asset 2 is its version)."""
    from dataseal.chain.embedded.provider import EmbeddedProvider

    owner, user = Account.create(), Account.create()
    chain = open_embedded(cli.data_dir, [owner.address, user.address])
    try:
        live = connect(EmbeddedProvider(chain))
        deployment = deploy_contracts(live.w3, LocalSender(owner))
        save_deployment(cli.data_dir, deployment)
        as_owner = DatasealContracts.bind(live.w3, deployment, LocalSender(owner))
        as_user = DatasealContracts.bind(live.w3, deployment, LocalSender(user))
        asset = as_owner.registry.register(Registration(h("data"), h("manifest"), 1, 0)).asset_id
        as_owner.registry.register_version(Registration(h("data-2"), h("manifest-2"), 1, 0, asset))
        t = int(live.w3.eth.get_block("latest")["timestamp"])
        grant = as_owner.grants.grant(asset, user.address, h("analytics"), t - 1, t + 86_400, 100).grant_id
        for i in range(3):
            as_user.ledger.record_usage(grant, 5, h(f"job-{i}"))
        as_user.ledger.record_usage_batch(grant, 10, h("receipts"), 4)
        second = as_owner.grants.grant(asset, user.address, h("trial"), t - 1, t + 86_400, 5).grant_id
        as_owner.grants.revoke(second, h("over"))
        chain_id = live.chain_id
    finally:
        chain.close()  # the command opens the chain itself
    return Folder(owner.address, user.address, chain_id, owner, deployment)


def test_the_trail_of_an_asset_for_people_and_for_scripts(cli: Cli, folder: Folder) -> None:
    code, out, err = cli("audit", "1")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert len(lines) == len(EVENTS) and "AssetRegistered" in lines[1] and "registered by " in lines[1]
    assert f"grant 1: 5 units used by {folder.user[:6]}…{folder.user[-4:]}, sequence 1" in lines[4]
    assert lines[2].endswith(f"asset 2 registered by {folder.owner[:6]}…{folder.owner[-4:]} (Active, a version of "
                             f"asset 1)  (tx {lines[2].split('(tx ')[1]}")
    report = cli.json("audit", "1")
    assert report["subject"] == {"asset_id": 1} and report["chain_id"] == folder.chain_id
    assert [e["event"] for e in report["trail"]] == EVENTS and report["next"] is None
    assert report["entries"] == len(EVENTS) and "verify" not in report
    usage = report["trail"][4]
    assert (usage["asset_id"], usage["grant_id"], usage["args"]["units"]) == (1, 1, 5)
    assert usage["time"].endswith("Z") or usage["time"].endswith("+00:00")


def test_pages_end_with_the_cursor_of_the_next(cli: Cli, folder: Folder) -> None:
    first = cli.json("audit", "1", "--limit", "4")
    assert len(first["trail"]) == 4 and first["next"] == "{block_number}:{log_index}".format(**first["trail"][-1])
    code, out, _ = cli("audit", "1", "--limit", "4")
    assert code == 0 and out.splitlines()[-1] == f"more: dataseal audit 1 --limit 4 --after {first['next']}"
    rest = cli.json("audit", "1", "--after", first["next"])
    assert [e["event"] for e in first["trail"] + rest["trail"]] == EVENTS and rest["next"] is None


def test_an_accounts_trail(cli: Cli, folder: Folder) -> None:
    report = cli.json("audit", folder.user.lower())
    assert report["subject"] == {"address": folder.user}
    # the user is grantee and recorder; the revocation names only the owner who revoked
    assert [e["event"] for e in report["trail"]] == ["GrantCreated", "UsageRecorded", "UsageRecorded",
                                                     "UsageRecorded", "UsageBatchRecorded", "GrantCreated"]


def test_exports_to_files_and_stdout(cli: Cli, folder: Folder, tmp_path: Path) -> None:
    target = tmp_path / "asset1.csv"
    report = cli.json("audit", "1", "--format", "csv", "-o", str(target))
    assert report["file"] == str(target) and report["format"] == "csv" and "trail" not in report
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [r["event"] for r in rows] == EVENTS and rows[4]["grant_id"] == "1"

    prov_file = tmp_path / "asset1.prov.json"
    code, out, err = cli("audit", "1", "--format", "prov", "-o", str(prov_file))
    assert code == 0 and out == f"wrote {prov_file}: prov, {len(EVENTS)} entries of asset 1\n"
    prov = ProvDocument.deserialize(content=prov_file.read_text(), format="json")
    assert [(str(r.args[0].localpart), str(r.args[1].localpart)) for r in prov.get_records(ProvDerivation)] == [
        ("2", "1")]
    assert len(list(prov.get_records(ProvUsage))) == 2 + 4  # two grants and four usage records used asset 1

    code, out, _ = cli("audit", "1", "--format", "json", "--limit", "3")
    page = json.loads(out)
    assert code == 0 and page["chain_id"] == folder.chain_id and len(page["entries"]) == 3 and page["next"]

    code, out, err = cli("audit", "1", "--format", "csv", "-o", str(target))  # exists, no --force
    assert code == 1 and str(target) in one_line(err) and "--force" in err
    assert cli("audit", "1", "--limit", "2", "--format", "csv", "-o", str(target), "--force")[0] == 0
    assert len(target.read_text().splitlines()) == 3


def test_verify_compares_with_the_chains_logs(cli: Cli, folder: Folder) -> None:
    code, out, err = cli("audit", "1", "--verify", "--limit", "2")
    assert code == 0 and err == ""
    assert out.splitlines()[-1] == f"verified: the {len(EVENTS)} entries of asset 1 match the chain's logs"
    report = cli.json("audit", "1", "--verify")
    assert report["verify"]["ok"] is True and report["verify"]["recomputed"] == len(EVENTS)


def alter_index(data_dir: Path) -> None:
    """Damage the registry's index as a faulty indexer or a forger would: drop the second usage record of grant 1,
    and raise grant 1's quota."""
    db = Database.open(f"sqlite:///{data_dir / 'registry.sqlite'}")
    try:
        with db.session() as session:
            usage = session.exec(select(ChainEvent).where(ChainEvent.event == "UsageRecorded")).all()
            session.delete(next(row for row in usage if row.args["sequence"] == 2))
            grant = session.exec(select(ChainEvent).where(ChainEvent.event == "GrantCreated")).first()
            assert grant is not None
            grant.args = {**grant.args, "quota": 1000}
            session.add(grant)
    finally:
        db.close()


def test_verify_names_every_difference_of_a_damaged_index_then_fails(cli: Cli, folder: Folder) -> None:
    assert cli("audit", "1")[0] == 0  # the index is made and brought up to date
    alter_index(cli.data_dir)
    code, out, err = cli("audit", "1")  # the next sync reads only new blocks: the damage stays, and shows
    assert code == 0 and len(out.splitlines()) == len(EVENTS) - 1
    code, out, err = cli("audit", "1", "--verify")
    assert code == 1
    lines = out.splitlines()
    assert any(line.startswith("missing  ") and "UsageRecorded" in line for line in lines)
    assert any(line.startswith("changed  ") and "GrantCreated" in line and line.endswith(": summary, args")
               for line in lines)
    assert "gap      grant 1: usage sequence 3" in out
    assert one_line(err).startswith("dataseal: error: the recorded trail of asset 1 differs from the chain's logs: "
                                    "1 missing, 1 changed, 1 sequence gaps")
    code, out, err = cli("audit", "1", "--verify", "--json")
    report = json.loads(out)
    assert code == 1 and report["verify"]["ok"] is False and len(report["verify"]["missing"]) == 1
    assert report["verify"]["changed"][0]["recorded"]["args"]["quota"] == 1000
    assert report["verify"]["changed"][0]["recomputed"]["args"]["quota"] == 100
    assert report["verify"]["gaps"][0]["expected"] == 2 and report["verify"]["gaps"][0]["found"] == 3
    code, out, err = cli("audit", "1", "--verify", "--format", "csv")  # the export on stdout, the check on stderr
    assert code == 1 and out.startswith("block_number,") and "missing  " in err
    code, out, err = cli("index", "--rebuild")  # the chain is the source of truth: rebuilt, the index is whole
    assert code == 0, err
    assert cli.json("audit", "1", "--verify")["verify"]["ok"] is True


def test_no_sync_reads_the_index_as_it_is(cli: Cli, folder: Folder) -> None:
    from dataseal.chain.embedded.provider import EmbeddedProvider

    code, out, err = cli("audit", "1", "--no-sync")
    assert code == 1 and out == "" and "there is no registry database in " in one_line(err)
    assert "[`dataseal index` fills it; --data-dir or DATASEAL_DATA_DIR; DATABASE_URL]" in err
    assert not (cli.data_dir / "registry.sqlite").exists()  # nothing made
    assert cli("audit", "1")[0] == 0
    chain = open_embedded(cli.data_dir, [])  # a third grant since the last sync
    try:
        live = connect(EmbeddedProvider(chain))
        t = int(live.w3.eth.get_block("latest")["timestamp"])
        DatasealContracts.bind(live.w3, folder.deployment, LocalSender(folder.owner_account)).grants.grant(
            1, folder.user, h("later"), t - 1, t + 86_400, 7)
    finally:
        chain.close()
    code, out, err = cli("audit", "1", "--no-sync")
    assert code == 0 and len(out.splitlines()) == len(EVENTS)
    assert one_line(err).startswith("dataseal: read the index as it is (not brought up to date): chain "
                                    f"{folder.chain_id} up to block ")
    report = cli.json("audit", "1", "--no-sync")
    assert report["index"]["synced"] is None and report["entries"] == len(EVENTS)
    assert report["index"]["chain_id"] == folder.chain_id and report["index"]["last_block"] > 0
    code, out, _ = cli("audit", "1", "--no-sync", "--limit", "2")
    second = report["trail"][1]
    assert out.splitlines()[-1] == ("more: dataseal audit 1 --limit 2 --no-sync --after "
                                    f"{second['block_number']}:{second['log_index']}")
    code, out, err = cli("audit", "99", "--no-sync")
    assert code == 1 and "asset 99 is not in the registry's index of chain " in one_line(err)
    assert "which was not brought up to date" in err
    synced = cli.json("audit", "1")
    assert synced["entries"] == len(EVENTS) + 1 and synced["index"]["synced"]["events"] == 1


def test_encumbrances_are_the_grants_that_still_bind(cli: Cli, folder: Folder) -> None:
    report = cli.json("audit", "1", "--encumbrances")
    assert "trail" not in report and report["subject"] == {"asset_id": 1}
    grants = report["encumbrances"]["grants"]
    assert [(g["grant_id"], g["grantee"], g["quota"], g["used"], g["remaining"]) for g in grants] == [
        (1, folder.user, 100, 25, 75)]  # grant 2 was revoked
    assert grants[0]["purpose"] == "0x" + h("analytics").hex() and grants[0]["purpose_text"] is None  # not ours
    code, out, err = cli("audit", "1", "--encumbrances")
    assert code == 0 and err == ""
    assert out.splitlines()[0].startswith("1 grant binds asset 1 at ")
    assert f"grant 1     to {folder.user}" in out and "used 25 of 100 (75 left)" in out
    start = datetime.fromisoformat(grants[0]["valid_from"])
    later = (start + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    code, out, _ = cli("audit", "1", "--encumbrances", "--at", later)  # both grants have expired by then
    assert code == 0 and out.startswith("no grant binds asset 1 at ")
    assert cli.json("audit", "1", "--encumbrances", "--at", "2001-01-01")["encumbrances"]["grants"] == []
    assert cli.json("audit", "1", "--encumbrances", "--at", "2d")["encumbrances"]["grants"] == []  # from now
    assert len(cli.json("audit", "1", "--encumbrances", "--at", "now")["encumbrances"]["grants"]) == 1


def test_usage_per_grant_and_period(cli: Cli, folder: Folder) -> None:
    report = cli.json("audit", "1", "--usage", "day")
    rows = report["usage"]["rows"]
    assert report["usage"]["period"] == "day" and len(rows) == 1
    assert (rows[0]["grant_id"], rows[0]["units"], rows[0]["records"], rows[0]["receipts"]) == (1, 25, 4, 7)
    assert len(rows[0]["period"]) == len("2024-05-01")
    code, out, err = cli("audit", folder.user, "--usage", "month")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["grant", "month", "units", "records", "receipts"]
    assert lines[1].split()[0] == "1" and lines[1].split()[2:] == ["25", "4", "7"]
    assert lines[2].split() == ["total", "25", "4", "7"]
    both = cli.json("audit", "1", "--usage", "month", "--encumbrances", "--verify")
    assert both["usage"]["rows"][0]["units"] == 25 and both["encumbrances"]["grants"] and both["verify"]["ok"]


def test_accounting_options_refuse_what_does_not_fit(cli: Cli, folder: Folder, tmp_path: Path) -> None:
    for args, words in ((["1", "--usage", "week"], "'week' is not a period: give day or month"),
                        (["1", "--usage", "day", "--format", "csv"], "--usage prints its own report, not a page of the "
                         "trail: drop --format"),
                        (["1", "--encumbrances", "-o", str(tmp_path / "x.json")], "drop -o"),
                        ([folder.user, "--encumbrances"], "encumbrances are an asset's: give an asset id"),
                        (["1", "--at", "2030-01-01"], "--at is the moment --encumbrances is asked about"),
                        (["1", "--encumbrances", "--at", "soon"], "the moment 'soon' is not a time: give now")):
        code, out, err = cli("audit", *args)
        assert code == 2 and out == "" and words in one_line(err), args
    assert not (tmp_path / "x.json").exists()


def test_bad_input_is_one_line(cli: Cli, folder: Folder, tmp_path: Path) -> None:
    code, out, err = cli("audit", "99")
    assert code == 1 and out == ""
    assert one_line(err).startswith(f"dataseal: error: asset 99 is not registered on chain {folder.chain_id}")
    for args, words in ((["nope"], "'nope' is neither an asset id nor an address"),
                        (["1", "--after", "12"], "the cursor '12' is not BLOCK:LOG"),
                        (["1", "--limit", "0"], "a trail page holds 1 to 100,000 entries, not 0")):
        code, out, err = cli("audit", *args)
        assert code == 1 and out == "" and words in one_line(err)
    assert "[--after BLOCK:LOG]" in cli("audit", "1", "--after", "x")[2]
    assert "[--limit N]" in cli("audit", "1", "--limit", "0")[2]
    code, _, err = cli("audit", "1", "--format", "xml")
    assert code == 2 and "'xml' is not an export format: give json, csv or prov" in one_line(err)
    code, _, err = cli("audit", "1", "--format", "csv", "--json")
    assert code == 2 and "needs a file: add -o FILE" in one_line(err)
    assert not (tmp_path / "never.csv").exists()


def test_a_folder_without_a_chain(cli: Cli, tmp_path: Path) -> None:
    out_file = tmp_path / "trail.json"
    code, out, err = cli("audit", "1", "-o", str(out_file))
    assert code == 1 and out == "" and "no embedded chain in " in one_line(err)
    assert not out_file.exists()  # nothing half-written


def test_help_teaches(cli: Cli) -> None:
    code, out, _ = cli("audit", "--help", data_dir=False)
    assert code == 0 and "Examples" in out and "dataseal audit 7 --format prov -o asset7.prov.json" in out
    assert "--verify" in out and "--after" in out


def test_receipts_are_checked_against_the_trail(cli: Cli, tmp_path: Path) -> None:
    from dataseal.chain.embedded.provider import EmbeddedProvider

    owner, user = Account.create(), Account.create()
    chain = open_embedded(cli.data_dir, [owner.address, user.address])
    folder, scope = tmp_path / "receipts", tmp_path / "scope.json"
    folder.mkdir()
    scope.write_text(json.dumps(["0-99"]))
    try:
        live = connect(EmbeddedProvider(chain))
        deployment = deploy_contracts(live.w3, LocalSender(owner))
        save_deployment(cli.data_dir, deployment)
        as_owner = DatasealContracts.bind(live.w3, deployment, LocalSender(owner))
        as_user = DatasealContracts.bind(live.w3, deployment, LocalSender(user))
        asset = as_owner.registry.register(Registration(h("rows"), h("manifest"), 1, 0)).asset_id
        t = int(live.w3.eth.get_block("latest")["timestamp"])
        grant = as_owner.grants.grant(asset, user.address, purpose_hash("analytics"), t - 1, t + 86_400, 100,
                                      compute_scope_root(range(100))).grant_id
        for job, rows in (("inside", [1, 2]), ("outside", [150])):
            receipt = build_receipt(chain_id=live.chain_id, grant_registry=deployment.grant_registry, grant_id=grant,
                                    job_id=job, purpose="analytics", unit="row", indexes=rows, started_at=t,
                                    ended_at=t + 1, units=2, result_hash=h(job))
            as_user.ledger.record_usage(grant, 2, receipt.hash)
            (folder / f"{job}.json").write_text(receipt.to_text())
    finally:
        chain.close()
    code, out, err = cli("audit", "1", "--receipts", str(folder), "--scope", str(scope), "--limit", "1")
    assert code == 1
    assert "OK   receipt " in out and "job 'inside' grant 1: recorded (usage) in 0x" in out and "scope inside" in out
    assert "FAIL receipt " in out and "job 'outside'" in out and "outside the scope" in out
    assert one_line(err).startswith("dataseal: error: 1 of 2 receipts do not match the chain (first: receipt ")
    (folder / "outside.json").unlink()
    report = cli.json("audit", "1", "--receipts", str(folder), "--scope", str(scope))
    assert [(r["job_id"], r["ok"], r["scope"]) for r in report["receipts"]] == [("inside", True, "inside")]
    code, _, err = cli("audit", "1", "--receipts", str(folder))  # without the scope: no proof of the rows
    assert code == 1 and "no proof that the touched indexes are inside the scope" in one_line(err)
    code, _, err = cli("audit", owner.address, "--receipts", str(folder))
    assert code == 2 and "receipts are checked against an asset's trail" in one_line(err)
