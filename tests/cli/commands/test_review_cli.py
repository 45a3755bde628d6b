"""`dataseal review reviewers|suspend|reinstate|pending` against an embedded data folder, in-process: the folder's
operator deployed the contracts, so it is the AssetRegistry's admin."""
from __future__ import annotations

import pytest
from eth_utils import keccak

from dataseal.chain.contracts.records import Registration
from dataseal.chain.node.start import EmbeddedNode, NodeConfig
from dataseal.registry.context import Context
from dataseal.registry.settings import Settings
from tests.cli.conftest import Cli, one_line


@pytest.fixture
def folder(cli: Cli) -> tuple[str, int]:
    """An embedded data folder and an Active asset of its operator; (the operator's address, the asset id)."""
    EmbeddedNode.start(NodeConfig(data_dir=cli.data_dir, port=0, light_kdf=True)).stop()
    with Context.open(Settings(data_dir=cli.data_dir)) as context:
        operator = context.keystore.list()[0].address
        sender = context.sender(context.unlock())
        asset = context.contracts(sender).registry.register(Registration(keccak(text="r"), keccak(text="m"), 1, 0))
    return operator, asset.asset_id


def test_appoint_a_reviewer_suspend_list_reinstate_remove(cli: Cli, folder: tuple[str, int]) -> None:
    operator, asset = folder
    assert cli.json("review", "reviewers", "list") == {"reviewers": []}
    code, out, err = cli("review", "suspend", str(asset), "--reason", "disputed")  # not a reviewer yet
    assert code == 1 and out == ""
    line = one_line(err)
    assert f"neededRole=REVIEWER_ROLE): {operator} does not hold REVIEWER_ROLE" in line
    assert "the AssetRegistry's admin (the DEFAULT_ADMIN_ROLE holder) grants it" in line

    added = cli.json("review", "reviewers", "add", operator.lower())
    assert (added["account"], added["reviewer"], added["already_done"]) == (operator, True, False)
    code, out, err = cli("review", "reviewers", "add", operator)
    assert code == 0 and out.startswith(f"{operator} is already a reviewer (by tx {added['tx_hash']}, block ")
    code, out, err = cli("review", "reviewers", "list")
    assert code == 0 and out.strip() == operator

    suspended = cli.json("review", "suspend", str(asset), "--reason", "ownership disputed in court")
    assert (suspended["status"], suspended["already_done"]) == ("Suspended", False)
    assert cli.json("review", "suspend", str(asset))["already_done"] is True
    [waiting] = cli.json("review", "pending")
    assert (waiting["asset_id"], waiting["status"], waiting["owner"]) == (asset, "Suspended", operator)
    code, out, err = cli("review", "pending")
    assert code == 0 and out.startswith(f"asset {asset}  Suspended") and "reinstate or reject" in out

    code, out, err = cli("review", "reinstate", str(asset), "--reason", "settled")
    assert code == 0 and out.startswith(f"reinstate asset {asset}: now Active (tx 0x")
    code, out, err = cli("review", "reinstate", str(asset))  # this folder's reinstatement stands: nothing sent
    assert code == 0 and out.startswith(f"reinstate asset {asset}: already Active (by tx 0x")
    assert out.rstrip().endswith("; nothing sent")
    code, out, err = cli("review", "pending")
    assert code == 0 and out.startswith("nothing waits")

    code, out, err = cli("review", "reviewers", "remove", operator)
    assert code == 0 and out.startswith(f"{operator} is now no reviewer (tx 0x")
    assert cli.json("review", "reviewers", "list") == {"reviewers": []}


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["review", "reviewers", "add", "0x12"], 1, "'0x12' is not an address"),
        (["review", "reviewers", "add", "0x" + "00" * 20], 1, "the zero address cannot be a reviewer"),
        (["review", "suspend", "9"], 1, "no asset 9 on chain "),
        (["review", "reinstate", "x"], 2, "Invalid value for 'ASSET'"),
        (["review", "bless", "1"], 2, "No such command 'bless'"),
    ],
)
def test_bad_input_is_one_line(cli: Cli, folder: tuple[str, int], args: list[str], code: int, needle: str) -> None:
    got, out, err = cli(*args)
    assert got == code and out == ""
    assert needle in (one_line(err) if code == 1 else " ".join(err.split()))


@pytest.mark.parametrize("command", [["approve"], ["reject"], ["object"], ["suspend"], ["reinstate"], ["pending"],
                                     ["reviewers", "add"], ["reviewers", "remove"], ["reviewers", "list"]])
def test_help_teaches(cli: Cli, command: list[str]) -> None:
    code, out, _ = cli("review", *command, "--help", data_dir=False)
    assert code == 0 and "Examples:" in out and "--json" in out and "dataseal review " + " ".join(command) in out
