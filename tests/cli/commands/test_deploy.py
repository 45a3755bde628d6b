"""`dataseal deploy` against a real hardhat node."""

from __future__ import annotations

import io
import json
import socket
import sys
from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3

from dataseal.chain.contracts.deployment import load_deployments
from tests.cli.conftest import Cli, one_line

pytestmark = pytest.mark.hardhat


def _import_funded(
    cli: Cli, password_file: Path, hardhat_url: str, monkeypatch: pytest.MonkeyPatch, wei: int = 10**19
) -> str:
    account = Account.create()
    if wei:
        w3 = Web3(Web3.HTTPProvider(hardhat_url))
        w3.eth.wait_for_transaction_receipt(
            w3.eth.send_transaction({"from": w3.eth.accounts[9], "to": account.address, "value": wei})
        )
    monkeypatch.setattr(sys, "stdin", io.StringIO(bytes(account.key).hex()))
    code, out, err = cli("account", "import", "-", "--password-file", str(password_file), "--light-kdf")
    assert code == 0, err
    return account.address


def test_deploy_writes_the_record_and_refuses_to_redeploy(
    cli: Cli, password_file: Path, hardhat_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployer = _import_funded(cli, password_file, hardhat_url, monkeypatch)
    result = cli.json("deploy", "--rpc", hardhat_url, "--password-file", str(password_file), "--chain-id", "31337")
    deployment = result["deployment"]
    assert deployment["chain_id"] == 31337 and deployment["deployer"] == deployer
    assert deployment["review_mode"] is False and result["replaced"] is None
    assert load_deployments(cli.data_dir)[31337].to_json() == deployment
    w3 = Web3(Web3.HTTPProvider(hardhat_url))
    for key in ("asset_registry", "grant_registry", "transaction_ledger"):
        assert len(w3.eth.get_code(deployment[key])) > 1000

    code, out, err = cli("deploy", "--rpc", hardhat_url, "--password-file", str(password_file))
    assert code == 1 and out == ""
    assert err.startswith("dataseal: error: already deployed on chain 31337") and "--force" in err

    code, out, err = cli(
        "deploy", "--rpc", hardhat_url, "--password-file", str(password_file), "--force", "--review-mode"
    )
    assert code == 0, err
    assert "AssetRegistry" in out and "replacing the set at " + deployment["asset_registry"] in err
    again = load_deployments(cli.data_dir)[31337]
    assert again.asset_registry != deployment["asset_registry"] and again.review_mode is True
    registry = w3.eth.contract(
        address=again.asset_registry,
        abi=[
            {
                "type": "function",
                "name": "reviewMode",
                "inputs": [],
                "outputs": [{"type": "bool", "name": ""}],
                "stateMutability": "view",
            }
        ],
    )
    assert registry.functions.reviewMode().call() is True


def test_deploy_failures_are_one_line(
    cli: Cli, password_file: Path, hardhat_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = cli("deploy", "--password-file", str(password_file))
    assert code == 1 and "no node to deploy to: name the node's URL" in err and "[--rpc URL or DATASEAL_RPC_URL]" in err

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    code, _, err = cli("deploy", "--rpc", dead, "--password-file", str(password_file))
    assert code == 1 and f"cannot reach the node at {dead}" in err

    code, _, err = cli("deploy", "--rpc", hardhat_url, "--chain-id", "1", "--password-file", str(password_file))
    assert code == 1 and "wrong chain" in err and "expects chain 1" in err and "is chain 31337" in err

    code, _, err = cli("deploy", "--rpc", hardhat_url, "--password-file", str(password_file))
    assert code == 1 and "holds no account" in err

    poor = _import_funded(cli, password_file, hardhat_url, monkeypatch, wei=0)
    code, out, err = cli("deploy", "--rpc", hardhat_url, "--password-file", str(password_file))
    assert code == 1
    line = err.strip().splitlines()[-1]
    assert line.startswith(f"dataseal: error: deploying AssetRegistry: account {poor} has 0 wei (0 ETH) on chain 31337")
    assert line.endswith(": fund the account (send it ETH), or use another account [--account]")
    assert "Traceback" not in err
    assert 31337 not in load_deployments(cli.data_dir)

    wrong = password_file.parent / "wrong.txt"
    wrong.write_text("not it\n")
    code, _, err = cli("deploy", "--rpc", hardhat_url, "--password-file", str(wrong))
    assert code == 1 and "the password does not open" in err


def test_deploy_help_teaches(cli: Cli) -> None:
    code, out, _ = cli("deploy", "--help", data_dir=False)
    assert code == 0
    assert "Example" in out and "dataseal deploy --rpc http://127.0.0.1:8545" in out and "--review-mode" in out
    flat = " ".join(out.split())
    for flag in ("--notice-period", "--commits / --no-commits", "--commit-min-age", "--commit-max-age",
                 "--admin-delay"):
        assert flag in flat, flag
    assert "--notice-period 36h --commit-min-age 2m" in flat  # an example with the new constants
    assert "15d, 36h, 90m, 900s or plain seconds" in flat and "front-running" in flat


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--notice-period", "15x"], "'15x' is not a duration: give whole seconds or a number with s, m, h or d"),
        (["--notice-period", "-5"], "'-5' is not a duration"),
        (["--admin-delay", "1.5d"], "'1.5d' is not a duration"),
        (["--commit-min-age", "soon"], "'soon' is not a duration"),
        (["--review-mode", "--notice-period", "0"], "--review-mode needs a notice period above 0"),
        (["--no-commits", "--commit-max-age", "1h"], "commitment ages need commitments"),
    ],
)
def test_deploy_refuses_bad_constants_before_connecting(cli: Cli, args: list[str], needle: str) -> None:
    code, out, err = cli("deploy", "--rpc", "http://127.0.0.1:1", *args)
    assert code == 2 and out == "" and needle in " ".join(err.split()) and "cannot reach" not in err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--commit-min-age", "2h", "--commit-max-age", "1h"],
         "the commitment ages must satisfy 0 < minimum < maximum, got minimum 7200 s and maximum 3600 s"),
        (["--commit-min-age", "0"], "0 < minimum < maximum, got minimum 0 s"),
        (["--notice-period", "50000d"], "notice period must be a whole number of seconds from 0 to 4294967295, "
         "got 4320000000"),
    ],
)
def test_deploy_refuses_constants_the_contract_would_refuse_in_one_line(
    cli: Cli, args: list[str], needle: str
) -> None:
    code, out, err = cli("deploy", "--rpc", "http://127.0.0.1:1", *args)
    line = one_line(err)
    assert code == 1 and out == "" and needle in line and "cannot reach" not in line


def test_durations_are_read_and_written_in_units() -> None:
    from dataseal.cli.options import format_duration, parse_duration

    assert [parse_duration(text, "--x") for text in ("15d", "36h", "90m", "900s", "900", "2D", " 7 h")] == [
        15 * 86_400, 36 * 3600, 5400, 900, 900, 2 * 86_400, 7 * 3600]
    assert [format_duration(s) for s in (0, 45, 5400, 129_600, 1_296_000)] == ["0s", "45s", "90m", "36h", "15d"]


@pytest.mark.hardhat
def test_deploy_on_a_development_chain_takes_no_commitments_unless_asked(
    cli: Cli, password_file: Path, hardhat_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _import_funded(cli, password_file, hardhat_url, monkeypatch)
    plain = cli.json("deploy", "--rpc", hardhat_url, "--password-file", str(password_file))["deployment"]
    assert plain["commit_required"] is False and plain["review_mode"] is False
    assert plain["config"] == {"notice_period": 0, "min_commit_age": 0, "max_commit_age": 0, "admin_delay": 86_400}

    code, out, err = cli("deploy", "--rpc", hardhat_url, "--password-file", str(password_file), "--force",
                         "--notice-period", "36h", "--commits", "--commit-min-age", "2m", "--commit-max-age", "12h",
                         "--admin-delay", "2d")
    assert code == 0, err
    assert "review with 36h of public notice, commitments required (2m to 12h old), admin handover delay 2d" in out
    assert "warning" not in err
    again = load_deployments(cli.data_dir)[31337]
    assert (again.config.notice_period, again.config.min_commit_age, again.config.max_commit_age,
            again.config.admin_delay) == (129_600, 120, 43_200, 172_800)
    w3 = Web3(Web3.HTTPProvider(hardhat_url))
    from dataseal.chain.contracts.deployed import DatasealContracts

    registry = DatasealContracts.bind(w3, again).registry
    assert (registry.notice_period(), registry.min_commit_age(), registry.max_commit_age()) == (129_600, 120, 43_200)

    review = cli.json("deploy", "--rpc", hardhat_url, "--password-file", str(password_file), "--force",
                      "--review-mode")["deployment"]
    assert review["config"]["notice_period"] == 15 * 86_400 and review["commit_required"] is False


@pytest.mark.hardhat
def test_deploy_on_a_development_chain_takes_explicit_ages_as_asking_for_commitments(
    cli: Cli, password_file: Path, hardhat_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _import_funded(cli, password_file, hardhat_url, monkeypatch)
    code, out, err = cli("deploy", "--rpc", hardhat_url, "--password-file", str(password_file), "--json")
    assert code == 0, err
    notes = [line for line in err.splitlines() if "commitment" in line]
    assert notes == ["note: chain 31337 is a local development chain: registrations need no commitment (--commits "
                     "to require them)"]
    assert json.loads(out)["deployment"]["commit_required"] is False

    for ages, expected in ((["--commit-max-age", "12h"], (60, 43_200)), (["--commit-min-age", "2m"], (120, 86_400))):
        code, out, err = cli("deploy", "--rpc", hardhat_url, "--password-file", str(password_file), "--force",
                             *ages, "--json")
        assert code == 0, err
        config = json.loads(out)["deployment"]["config"]
        assert (config["min_commit_age"], config["max_commit_age"]) == expected
        assert "commitment" not in err and "warning" not in err

    code, out, err = cli("deploy", "--rpc", hardhat_url, "--password-file", str(password_file), "--force",
                         "--no-commits", "--json")
    assert code == 0, err
    assert "commitment" not in err and "warning" not in err  # asked for: no note


def test_deploy_on_a_public_chain_requires_commitments_by_default_and_warns_without(cli: Cli) -> None:
    """A chain id that is no local development chain's (Sepolia's, served by the embedded node)."""
    from dataseal.chain.node.start import EmbeddedNode, NodeConfig

    node = EmbeddedNode.start(NodeConfig(data_dir=cli.data_dir, port=0, light_kdf=True, chain_id=11155111))
    try:
        node.start_serving()
        url = node.startup.rpc_url
        code, out, err = cli("deploy", "--rpc", url, "--force")
        assert code == 0, err
        assert "no review, commitments required (1m to 1d old), admin handover delay 1d" in out
        assert "warning" not in err
        committed = load_deployments(cli.data_dir)[11155111]
        assert committed.commit_required and (committed.config.min_commit_age, committed.config.max_commit_age) == (
            60, 86_400)

        code, out, err = cli("deploy", "--rpc", url, "--force", "--no-commits")
        assert code == 0, err
        assert "warning: chain 11155111 is not a local development chain, and --no-commits lets anyone" in err
        assert "front-running" in err
        assert not load_deployments(cli.data_dir)[11155111].commit_required
    finally:
        node.stop()


def test_deploy_record_survives_a_second_chain(
    cli: Cli, password_file: Path, hardhat_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an entry for another chain (written by the dataseal of contracts v1) is kept when this chain's is recorded
    cli.data_dir.mkdir(parents=True, exist_ok=True)
    other = {
        "chain_id": 77,
        "asset_registry": "0x" + "11" * 20,
        "grant_registry": "0x" + "22" * 20,
        "transaction_ledger": "0x" + "33" * 20,
        "deploy_block": 1,
        "deployer": "0x" + "44" * 20,
        "review_mode": False,
        "artifacts": {},
    }
    (cli.data_dir / "deployments.json").write_text(json.dumps({"77": other}))
    _import_funded(cli, password_file, hardhat_url, monkeypatch)
    cli.json("deploy", "--rpc", hardhat_url, "--password-file", str(password_file))
    assert sorted(load_deployments(cli.data_dir)) == [31337]  # the v1 entry of chain 77 is not usable ...
    assert json.loads((cli.data_dir / "deployments.json").read_text())["77"] == other  # ... but kept as it is


def test_deploy_refuses_an_admin_that_is_not_an_address_before_connecting(cli: Cli) -> None:
    code, _, err = cli("deploy", "--rpc", "http://127.0.0.1:1", "--admin", "xyz")
    assert code == 2 and "'xyz' is not an address" in err and "cannot reach" not in err


def test_deploy_refuses_the_zero_admin_before_connecting(cli: Cli) -> None:
    code, out, err = cli("deploy", "--rpc", "http://127.0.0.1:1", "--admin", "0x" + "00" * 20)
    line = one_line(err)
    assert code == 2 and out == "" and "the zero address cannot hold the admin role" in line
    assert "cannot reach" not in line


@pytest.mark.hardhat
def test_deploy_replaces_a_record_of_other_contract_code_without_force(
    cli: Cli, password_file: Path, hardhat_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Contracts of other code than this dataseal ships are not "already deployed": nothing can use them."""
    from dataclasses import replace

    from dataseal.chain.contracts.deployment import save_deployment

    _import_funded(cli, password_file, hardhat_url, monkeypatch)
    cli.json("deploy", "--rpc", hardhat_url, "--password-file", str(password_file))
    first = load_deployments(cli.data_dir)[31337]
    save_deployment(cli.data_dir, replace(first, code={**first.code, "AssetRegistry": "00" * 32}))
    code, out, err = cli("status", "--rpc", hardhat_url)
    line = one_line(err)
    assert code == 1 and "AssetRegistry" in out and line.startswith("dataseal: error: stale contracts: ")
    # each thing said once: the hint says what to do, the brackets only name the commands
    assert line.endswith("stay there; on the embedded chain, restarting its node deploys them [`dataseal deploy "
                         "--rpc URL`, or `dataseal node` on the embedded chain]")
    assert line.count("deploys") == 1
    code, out, err = cli("deploy", "--rpc", hardhat_url, "--password-file", str(password_file))
    assert code == 0, err
    assert f"replacing the set at {first.asset_registry}: the registrations made under it stay there" in err
    again = load_deployments(cli.data_dir)[31337]
    assert again.asset_registry != first.asset_registry
    assert cli.json("status", "--rpc", hardhat_url)["ok"] is True

    # a record the dataseal of contracts v1 wrote (review_mode, no config): a problem, then replaced
    v1 = {k: v for k, v in again.to_json().items() if k not in ("config", "commit_required")}
    (cli.data_dir / "deployments.json").write_text(json.dumps({"31337": v1}))
    code, out, err = cli("status", "--rpc", hardhat_url)
    line = one_line(err)
    assert code == 1 and "predates contracts v2 (it has no config)" in line and "Traceback" not in err
    assert line.count("chain 31337") == 1  # it read "…, chain 31337: the deployment record of chain 31337 …"
    # the recorded contracts are shown, marked (they were only in the error line)
    assert "from before contracts v2" in out
    assert f"AssetRegistry      {again.asset_registry}  code present (pre-v2)" in out
    report = json.loads(cli("status", "--rpc", hardhat_url, "--json")[1])
    assert report["pre_v2"] is True and report["contracts"][0]["address"] == again.asset_registry
    code, out, err = cli("deploy", "--rpc", hardhat_url, "--password-file", str(password_file))
    assert code == 0, err
    assert (f"replacing the set at {again.asset_registry} (from before contracts v2): the registrations made under "
            "it stay there") in err
    assert cli.json("status", "--rpc", hardhat_url)["ok"] is True


@pytest.mark.hardhat
def test_deploy_over_a_record_of_contracts_no_longer_on_the_chain_does_not_say_their_registrations_stay(
    cli: Cli, password_file: Path, hardhat_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reset chain: the old record's contracts have no code, so nothing "stays there" (it used to say so)."""
    from dataclasses import replace

    from dataseal.chain.contracts.deployment import save_deployment

    _import_funded(cli, password_file, hardhat_url, monkeypatch)
    cli.json("deploy", "--rpc", hardhat_url, "--password-file", str(password_file))
    first = load_deployments(cli.data_dir)[31337]
    gone = {name: Account.create().address for name in first.addresses()}
    save_deployment(cli.data_dir, replace(first, asset_registry=gone["AssetRegistry"],
                                          grant_registry=gone["GrantRegistry"],
                                          transaction_ledger=gone["TransactionLedger"]))
    code, out, err = cli("deploy", "--rpc", hardhat_url, "--password-file", str(password_file))
    assert code == 0, err
    at = gone["AssetRegistry"]
    assert f"; the old record pointed at contracts no longer on this chain (the set at {at})\n" in err
    assert "stay there" not in err
    save_deployment(cli.data_dir, replace(first, asset_registry=gone["AssetRegistry"],
                                          grant_registry=gone["GrantRegistry"],
                                          transaction_ledger=gone["TransactionLedger"]))
    result = cli.json("deploy", "--rpc", hardhat_url, "--password-file", str(password_file))
    assert result["replaced_contracts"] is None and result["gone_contracts"] == gone
    assert result["replaced"]["asset_registry"] == gone["AssetRegistry"]


def test_deploy_over_outdated_contracts_on_a_shared_chain_needs_force_and_names_them(cli: Cli) -> None:
    """Their registrations stay in the old contracts: replacing them silently (as before) hid that."""
    from dataclasses import replace

    from dataseal.chain.contracts.deployment import save_deployment
    from dataseal.chain.node.start import EmbeddedNode, NodeConfig

    node = EmbeddedNode.start(NodeConfig(data_dir=cli.data_dir, port=0, light_kdf=True, chain_id=11155111))
    try:
        node.start_serving()
        url = node.startup.rpc_url
        first = node.startup.deployment
        save_deployment(cli.data_dir, replace(first, code={**first.code, "GrantRegistry": "00" * 32}))
        code, out, err = cli("deploy", "--rpc", url)
        line = one_line(err)
        assert code == 1 and out == ""
        record = cli.data_dir / "deployments.json"
        assert line.startswith(f"dataseal: error: outdated contracts on chain 11155111: {record} names contracts of "
                               f"other code than this dataseal's (AssetRegistry at {first.asset_registry}), and "
                               "its registrations stay there")
        assert "--force" in line
        assert load_deployments(cli.data_dir)[11155111].asset_registry == first.asset_registry  # nothing replaced

        v1 = {k: v for k, v in first.to_json().items() if k not in ("config", "commit_required")}
        (cli.data_dir / "deployments.json").write_text(json.dumps({"11155111": v1}))
        code, out, err = cli("deploy", "--rpc", url)
        assert code == 1 and "names contracts from before contracts v2 (AssetRegistry at " in one_line(err)

        code, out, err = cli("deploy", "--rpc", url, "--force")
        assert code == 0, err
        assert f"replacing the set at {first.asset_registry} (from before contracts v2)" in err
    finally:
        node.stop()
