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
from tests.cli.conftest import Cli

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


def test_deploy_record_survives_a_second_chain(
    cli: Cli, password_file: Path, hardhat_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an entry for another chain is kept when this chain's deployment is recorded
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
    assert sorted(load_deployments(cli.data_dir)) == [77, 31337]


def test_deploy_refuses_an_admin_that_is_not_an_address_before_connecting(cli: Cli) -> None:
    code, _, err = cli("deploy", "--rpc", "http://127.0.0.1:1", "--admin", "xyz")
    assert code == 2 and "'xyz' is not an address" in err and "cannot reach" not in err
