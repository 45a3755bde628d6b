"""`dataseal status` on a hardhat node (--rpc) and on the embedded chain of a data folder (in-process)."""

from __future__ import annotations

import json
import socket
from dataclasses import replace

import pytest
from eth_account import Account

from dataseal.chain.accounts.keystore import LIGHT_SCRYPT_N, Keystore, keystore_dir
from dataseal.chain.connection import connect
from dataseal.chain.contracts.deploy import deploy_contracts
from dataseal.chain.contracts.deployment import load_deployments, save_deployment
from dataseal.chain.node.layout import OPERATOR_PASSWORD_FILENAME, remove_marker, write_marker
from dataseal.chain.sending.sender import LocalSender
from tests.chain.conftest import Backend, open_embedded
from tests.cli.conftest import Cli


@pytest.mark.hardhat
def test_status_of_a_hardhat_deployment(cli: Cli, hardhat_backend: Backend) -> None:
    account = hardhat_backend.fund(3 * 10**18)
    Keystore(keystore_dir(cli.data_dir), scrypt_n=LIGHT_SCRYPT_N).import_private_key(bytes(account.key), "pw")
    deployment = hardhat_backend.deploy()
    save_deployment(cli.data_dir, deployment)
    url = hardhat_backend.node.endpoint
    report = cli.json("status", "--rpc", url)
    assert report["ok"] is True and report["problems"] == []
    assert report["chain"]["chain_id"] == 31337 and report["chain"]["client_version"].startswith("HardhatNetwork")
    assert report["chain"]["latest_block"] == hardhat_backend.w3.eth.block_number
    assert report["accounts"] == [
        {"address": account.address, "path": report["accounts"][0]["path"], "balance_wei": 3 * 10**18}
    ]
    assert [(c["name"], c["address"], c["deployed"]) for c in report["contracts"]] == [
        (name, address, True) for name, address in deployment.addresses().items()
    ]
    assert report["deployment"] == deployment.to_json()

    code, out, err = cli("status", "--rpc", url)
    assert code == 0 and err == ""
    assert "chain      31337 at " + url in out and "code present" in out and "3 ETH" in out


@pytest.mark.hardhat
def test_status_reports_problems_then_fails(cli: Cli, hardhat_backend: Backend) -> None:
    url = hardhat_backend.node.endpoint
    code, out, err = cli("status", "--rpc", url, "--json")
    assert code == 1
    report = json.loads(out)  # the whole report is printed first
    assert report["ok"] is False and report["chain"]["chain_id"] == 31337
    assert err.startswith("dataseal: error: contracts not deployed: no deployment record")
    assert "no account in" in err and err.count("\n") == 1  # both problems on the one line, each with its advice
    assert "[`dataseal deploy --rpc URL` deploys them; --rpc URL or DATASEAL_RPC_URL; --data-dir" in err
    assert "[`dataseal account list`, `account new` or `account import`" in err
    assert report["problems"][0].endswith("[`dataseal deploy --rpc URL` deploys them; --rpc URL or DATASEAL_RPC_URL; "
                                          "--data-dir or DATASEAL_DATA_DIR]")
    # a record whose contracts are gone (a restarted node): named, with what to do
    deployment = hardhat_backend.deploy()
    gone = Account.create().address
    save_deployment(cli.data_dir, replace(deployment, transaction_ledger=gone))
    code, out, err = cli("status", "--rpc", url)
    assert code == 1 and "TransactionLedger  " + gone + "  NO CODE" in out
    assert f"TransactionLedger at {gone}" in err and "dataseal deploy --rpc" in err
    # another chain's record only: wrong chain, saying which is which
    cli.data_dir.joinpath("deployments.json").write_text(
        json.dumps({"4242": replace(deployment, chain_id=4242).to_json()})
    )
    code, out, err = cli("status", "--rpc", url)
    assert code == 1 and "wrong chain: the node at " + url + " is chain 31337" in err and "chain 4242" in err


def test_status_when_the_node_is_unreachable(cli: Cli) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    code, out, err = cli("status", "--rpc", dead)
    assert code == 1 and out == "" and err.count("\n") == 1
    assert err.startswith(f"dataseal: error: cannot reach the node at {dead} (Connection refused)")


def test_status_of_the_embedded_chain_in_process(cli: Cli) -> None:
    owner = Account.create()
    from dataseal.chain.embedded.provider import EmbeddedProvider

    chain = open_embedded(cli.data_dir, [owner.address])  # a data folder with a chain and a deployment
    try:
        live = connect(EmbeddedProvider(chain))
        deployment = deploy_contracts(live.w3, LocalSender(owner))
        save_deployment(cli.data_dir, deployment)
        chain_id = live.chain_id
    finally:
        chain.close()  # status opens the chain itself, in-process
    Keystore(keystore_dir(cli.data_dir), scrypt_n=LIGHT_SCRYPT_N).import_private_key(bytes(owner.key), "pw")
    report = cli.json("status")  # no --rpc: the embedded chain of the data folder
    assert report["ok"] is True and report["chain"]["chain_id"] == chain_id != 31337
    assert report["endpoint"] == f"the embedded chain in {cli.data_dir}"
    assert all(c["deployed"] for c in report["contracts"])
    assert report["accounts"][0]["address"] == owner.address and report["accounts"][0]["balance_wei"] > 0
    assert load_deployments(cli.data_dir)[chain_id] == deployment


def test_status_of_a_folder_without_a_chain(cli: Cli) -> None:
    code, out, err = cli("status")
    assert code == 1 and out == "" and "no embedded chain in " in err
    assert err.rstrip().endswith("[`dataseal node` creates it; --data-dir or DATASEAL_DATA_DIR; --rpc URL or "
                                 "DATASEAL_RPC_URL]")


def test_status_help_teaches(cli: Cli) -> None:
    code, out, _ = cli("status", "--help", data_dir=False)
    assert code == 0 and "Examples" in out and "dataseal status --rpc http://127.0.0.1:8545 --json" in out


def test_status_and_deploy_against_dataseal_node(cli: Cli) -> None:
    """The embedded default end to end: `dataseal node`'s first start, then these commands with no set-up."""
    from dataseal.chain.node.start import OPERATOR_PASSWORD_FILENAME as THEIRS
    from dataseal.chain.node.start import EmbeddedNode, NodeConfig

    assert THEIRS == OPERATOR_PASSWORD_FILENAME  # the CLI finds the password the node generated
    node = EmbeddedNode.start(NodeConfig(data_dir=cli.data_dir, port=0, light_kdf=True))
    try:
        node.start_serving()
        url = node.startup.rpc_url
        report = cli.json("status", "--rpc", url)
        assert report["ok"] is True and report["chain"]["chain_id"] == node.startup.chain_id
        assert report["deployment"] == node.startup.deployment.to_json()
        assert [a["address"] for a in report["accounts"]] == [node.startup.operator]
        # the operator's key unlocks with the generated password file: no --password-file needed
        result = cli.json("deploy", "--rpc", url, "--force")
        assert result["deployment"]["deployer"] == node.startup.operator
        assert result["replaced"] == node.startup.deployment.to_json()
        # While the node holds the chain file (opening it in-process would fail with "in use"),
        # commands of its data folder reach it through node.json.
        write_marker(cli.data_dir, url)
        report = cli.json("status")
        assert report["ok"] is True and report["chain"]["latest_block"] >= node.startup.block
        assert report["deployment"] == result["deployment"]
        remove_marker(cli.data_dir)
    finally:
        node.stop()
    # the node is stopped: status opens its chain in-process and finds the new deployment live
    report = cli.json("status")
    assert report["ok"] is True and report["deployment"] == result["deployment"]


def test_status_shows_the_deployment_rules(cli: Cli) -> None:
    from dataseal.chain.contracts.deployment import ContractConfig
    from dataseal.chain.embedded.provider import EmbeddedProvider

    owner = Account.create()
    chain = open_embedded(cli.data_dir, [owner.address])
    try:
        live = connect(EmbeddedProvider(chain))
        config = ContractConfig.with_commits(notice_period=3600, admin_delay=7200)
        save_deployment(cli.data_dir, deploy_contracts(live.w3, LocalSender(owner), config=config))
    finally:
        chain.close()
    Keystore(keystore_dir(cli.data_dir), scrypt_n=LIGHT_SCRYPT_N).import_private_key(bytes(owner.key), "pw")
    code, out, err = cli("status")
    assert code == 0, err
    assert "rules      review with 1h of public notice, commitments required (1m to 1d old), admin handover delay 2h" \
        in out
    report = cli.json("status")
    assert report["deployment"]["config"] == {"notice_period": 3600, "min_commit_age": 60, "max_commit_age": 86_400,
                                              "admin_delay": 7200}
    assert report["deployment"]["review_mode"] is True and report["deployment"]["commit_required"] is True
