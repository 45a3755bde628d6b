"""`dataseal account fund` against an embedded data folder, in-process: a grantee made with `account new` is funded
by the node's operator and signs `use`; bad input is one line and sends nothing."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import keccak
from web3 import Web3

from dataseal.chain.contracts.records import Registration
from dataseal.chain.node.start import EmbeddedNode, NodeConfig
from dataseal.registry.context import Context
from dataseal.registry.settings import Settings
from tests.cli.conftest import Cli, one_line
from tests.support.devnode import free_port

ETH = 10**18
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def embedded(cli: Cli) -> tuple[str, int]:
    """An embedded data folder made by `dataseal node` (its operator funded at genesis, its password generated),
    with an Active asset of the operator; returns (operator, asset id)."""
    EmbeddedNode.start(NodeConfig(data_dir=cli.data_dir, port=0, light_kdf=True)).stop()
    with Context.open(Settings(data_dir=cli.data_dir)) as context:
        operator = context.keystore.default().address
        sender = context.sender(context.unlock())
        asset = context.contracts(sender).registry.register(Registration(keccak(text="r"), keccak(text="m"), 1, 0))
    return operator, asset.asset_id


def balance_of(cli: Cli, address: str) -> int:
    with Context.open(Settings(data_dir=cli.data_dir)) as context:
        return context.connection.balance(address)


def test_a_new_grantee_funded_by_the_operator_signs_use(cli: Cli, embedded: tuple[str, int], password_file: Path,
                                                         tmp_path: Path) -> None:
    operator, asset = embedded
    grantee = cli.json("account", "new", "--password-file", str(password_file), "--light-kdf")["address"]
    as_grantee = ["--account", grantee, "--password-file", str(password_file)]
    grant_id = cli.json("grant", str(asset), grantee, "--purpose", "training", "--until", "30d", "--quota", "5",
                        "--account", operator)["grant"]["grant_id"]
    receipt = tmp_path / "r1.json"
    assert cli("receipt", "new", str(grant_id), "--job", "j1", "--rows", "0-9", "--units", "1", "--result-hash",
               "0x" + "11" * 32, "-o", str(receipt))[0] == 0
    code, _, err = cli("use", str(grant_id), "--units", "1", "--receipt", str(receipt), *as_grantee)
    assert code == 1 and f"account {grantee} has 0 wei" in one_line(err)  # nothing to pay its gas with

    # two accounts in the keystore, none named: the operator (the deployer) pays
    funded = cli.json("account", "fund", grantee, "--amount", "2eth")["funding"]
    assert (funded["funder"], funded["recipient"], funded["amount_wei"]) == (operator, grantee, 2 * ETH)
    assert funded["recipient_balance_wei"] == balance_of(cli, grantee) == 2 * ETH
    used = cli.json("use", str(grant_id), "--units", "1", "--receipt", str(receipt), *as_grantee)
    assert used["record"]["sequence"] == 1 and used["record"]["recorder"] == grantee

    code, out, err = cli("account", "fund", grantee.lower(), "--amount", "20gwei", "--from", operator)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == f"sent 0.00000002 ETH from {operator} to {grantee} (chain {funded['chain_id']})"
    assert lines[1].startswith("tx       0x") and lines[2].startswith(f"balance  {grantee} now holds 1.99")


@pytest.mark.parametrize(("args", "words"), [
    (["0x1234"], "the recipient '0x1234' is not an address: give 0x followed by 40 hex digits [ADDRESS]"),
    (["0x70997970C51812dc3A010C7d01b50e0d17dc79c8"], "does not match its checksum (mixed case)"),
    (["0x" + "00" * 20], "the recipient is the zero address"),
    (["0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "--amount", "lots"],
     "the amount 'lots' is not an amount of ETH: write a number with its unit"),
    (["0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "--amount", "0wei"], "is nothing to send"),
    (["0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "--from", "0x" + "12" * 20], "0x" + "12" * 20),
])
def test_bad_input_is_one_line_and_sends_nothing(cli: Cli, embedded: tuple[str, int], args: list[str],
                                                 words: str) -> None:
    operator, _ = embedded
    before = balance_of(cli, operator)
    code, out, err = cli("account", "fund", *args)
    assert code == 1 and out == ""
    assert words in one_line(err)
    assert balance_of(cli, operator) == before


def test_a_balance_short_of_the_amount_says_both(cli: Cli, embedded: tuple[str, int]) -> None:
    operator, _ = embedded
    have = balance_of(cli, operator)
    code, out, err = cli("account", "fund", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "--amount",
                         f"{have + 1}wei")
    line = one_line(err)
    assert code == 1 and out == ""
    assert f"account {operator} has {have} wei" in line and f"less than the {have + 1} wei" in line
    assert line.endswith("[--amount AMOUNT; --from ACCOUNT]")


def test_an_unreachable_node_is_one_line(cli: Cli) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code, out, err = cli("account", "fund", Account.create().address, "--rpc", url)
    line = one_line(err)
    assert code == 1 and out == "" and url in line and "`dataseal node` starts the embedded chain" in line


def test_fund_help_teaches(cli: Cli) -> None:
    code, out, _ = cli("account", "fund", "--help", data_dir=False)
    text = " ".join(out.split())
    assert code == 0
    for words in ("dataseal account fund 0x7099", "--amount 0.5eth --json", "--from", "a number alone is ether",
                  "operator"):
        assert words in text, words


def test_fund_through_a_running_node(cli: Cli, tmp_path: Path) -> None:
    """`dataseal node` (as `make run` starts it) in its own process; `account fund` reaches it through the data
    folder's node.json and the operator it created pays."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "dataseal.cli.main", "node", "--port", "0", "--light-kdf", "--json",
         "--data-dir", str(cli.data_dir)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        started = json.loads(proc.stdout.readline())
        recipient = Account.create().address
        funded = cli.json("account", "fund", recipient, "--amount", "1.25")["funding"]
        assert (funded["funder"], funded["amount_wei"]) == (started["operator"], 5 * ETH // 4)
        w3 = Web3(Web3.HTTPProvider(started["rpc_url"]))
        assert w3.eth.get_balance(recipient) == 5 * ETH // 4
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
        proc.communicate()


def test_a_data_folder_without_a_chain_is_one_line(cli: Cli) -> None:
    code, out, err = cli("account", "fund", Account.create().address)
    assert code == 1 and out == "" and "no embedded chain in " in one_line(err)
