"""`dataseal receipt new | use | use-batch` refusals and the offline receipt, in-process on an embedded data folder."""
from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import pytest

from dataseal.chain.contracts.deployment import load_deployments, save_deployment
from dataseal.registry.receipts import build_receipt, purpose_hash
from tests.cli.commands.test_grants import as_operator, folder  # noqa: F401 - the fixture
from tests.cli.conftest import Cli, one_line
from tests.conftest import Chain
from tests.registry.services.conftest import register_asset


def write_unchecked_receipt(cli: Cli, grant_id: int, path: Path, *, started: int, ended: int,
                            purpose: str = "reporting", units: int = 1) -> None:
    """A receipt written without any check (as an offline `receipt new` writes it), for `use` to refuse."""
    [deployment] = load_deployments(cli.data_dir).values()
    receipt = build_receipt(chain_id=deployment.chain_id, grant_registry=deployment.grant_registry, grant_id=grant_id,
                            job_id="unchecked", purpose=purpose, unit="row", indexes=[1], started_at=started,
                            ended_at=ended, units=units, result_hash="0x" + "44" * 32)
    path.write_text(receipt.to_text())


def test_receipt_new_offline_writes_the_receipt_with_a_warning(cli: Cli, folder: tuple[str, Path, int],  # noqa: F811
                                                               tmp_path: Path) -> None:
    user, password, asset = folder
    grant_id = cli.json("grant", str(asset), user, "--purpose", "reporting", "--until", "30d", "--quota", "10",
                        *as_operator(cli))["grant"]["grant_id"]
    args = ["receipt", "new", str(grant_id), "--job", "j", "--rows", "1", "--units", "1", "--result-hash",
            "0x" + "44" * 32, "--rpc", "http://127.0.0.1:9"]
    code, out, err = cli(*args, "-o", str(tmp_path / "no.json"))
    assert code == 1 and out == "" and not (tmp_path / "no.json").exists()
    assert "the chain cannot be reached (" in one_line(err)
    assert f"this registry does not know the purpose text of grant {grant_id}" in one_line(err)
    assert "--purpose TEXT" in one_line(err)

    code, out, err = cli(*args, "--purpose", "reporting", "-o", str(tmp_path / "r.json"), "--json")
    assert code == 0, err
    made = json.loads(out)
    assert made["checked"] is False and "127.0.0.1:9" in made["unchecked"]
    assert f"warning: the receipt was not checked against grant {grant_id}" in err
    online = cli.json("receipt", "new", str(grant_id), "--job", "j", "--rows", "1", "--units", "1", "--result-hash",
                      "0x" + "44" * 32, "--ended", json.loads((tmp_path / "r.json").read_text())["endedAt"],
                      "-o", str(tmp_path / "online.json"))
    assert online["checked"] is True and online["receipt_hash"] == made["receipt_hash"]


def test_use_refuses_a_batch_member_and_an_unchecked_private_receipt(cli: Cli, folder: tuple[str, Path, int],  # noqa: F811
                                                                      tmp_path: Path) -> None:
    user, password, asset = folder
    as_user = ["--account", user, "--password-file", str(password)]
    scope = tmp_path / "scope.txt"
    scope.write_text("0-4\n")
    grant_id = cli.json("grant", str(asset), user, "--purpose", "reporting", "--until", "30d", "--quota", "10",
                        "--scope", str(scope), *as_operator(cli))["grant"]["grant_id"]
    batch = tmp_path / "batch"
    batch.mkdir()
    for job in ("a", "b"):
        assert cli("receipt", "new", str(grant_id), "--job", job, "--rows", "1", "--units", "1", "--result-hash",
                   "0x" + "11" * 32, "--private", "-o", str(batch / f"{job}.json"))[0] == 0
    code, out, err = cli("receipt", "new", str(grant_id), "--job", "c", "--rows", "5", "--units", "1",
                         "--result-hash", "0x" + "11" * 32, "--private", "-o", str(tmp_path / "c.json"))
    assert code == 1 and f"touched 1 row outside grant {grant_id}'s scope (first: 5)" in one_line(err)
    done = cli.json("use-batch", str(grant_id), "--receipts", str(batch), *as_user)
    code, out, err = cli("use", str(grant_id), "--units", "1", "--receipt", str(batch / "a.json"), *as_user)
    assert code == 1 and out == ""
    assert f"was recorded in the batch {done['receipts_root']} (tx {done['record']['tx']['tx_hash']}" in one_line(err)

    private = tmp_path / "p.json"
    assert cli("receipt", "new", str(grant_id), "--job", "p", "--rows", "2-3", "--units", "1", "--result-hash",
               "0x" + "11" * 32, "--private", "-o", str(private))[0] == 0
    code, out, err = cli("use", str(grant_id), "--units", "1", "--receipt", str(private), "--touched", "2", *as_user)
    assert code == 1 and out == ""
    assert "(1 row: 2) have the root" in one_line(err) and "[--touched LIST]" in one_line(err)
    used = cli.json("use", str(grant_id), "--units", "1", "--receipt", str(private), "--touched", "2-3", *as_user)
    assert used["record"]["sequence"] == 2


@pytest.mark.hardhat
def test_receipt_new_stamps_now_by_the_chain_when_it_runs_ahead_of_this_clock(
        cli: Cli, hardhat: Chain, hardhat_url: str, tmp_path: Path) -> None:
    """A node that mined a burst of blocks (here: an hour, evm_increaseTime) is ahead of this machine's clock; a
    grant opened "now" opens at the chain's time, and a receipt of a job that ended "now" (the default) must fall
    inside it: stamped by this machine's clock it fell before the grant and was refused."""
    cli.data_dir.mkdir(parents=True)
    save_deployment(cli.data_dir, hardhat.deployment)
    asset_id = register_asset(hardhat)
    hardhat.w3.provider.make_request("evm_increaseTime", [3600])  # type: ignore[arg-type]
    hardhat.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    opened = hardhat.now()
    assert opened >= time.time() + 3000  # the chain is ahead of this clock
    made = hardhat.as_(hardhat.owner).grants.grant(asset_id, hardhat.user.address, purpose_hash("reporting"), opened,
                                                   opened + 86_400, 5)
    code, out, err = cli("receipt", "new", str(made.grant_id), "--job", "j", "--rows", "1", "--units", "1",
                         "--result-hash", "0x" + "44" * 32, "--purpose", "reporting", "--rpc", hardhat_url,
                         "-o", str(tmp_path / "r.json"), "--json")
    assert code == 0, err
    receipt = json.loads((tmp_path / "r.json").read_text())
    assert json.loads(out)["checked"] is True
    assert int(datetime.fromisoformat(receipt["endedAt"].replace("Z", "+00:00")).timestamp()) >= opened
