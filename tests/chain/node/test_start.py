"""`dataseal node`: first start, restart, clean stops, its refusals, and hardhat as a client."""
from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from eth_utils import to_canonical_address
from pydantic import SecretStr

from dataseal.chain.accounts.keystore import Keystore, KeystoreError, PasswordRequired, keystore_dir
from dataseal.chain.contracts.deployment import ContractConfig, Deployment, get_deployment, save_deployment
from dataseal.chain.embedded.chain import EmbeddedChain, Genesis, Mining, chain_file
from dataseal.chain.embedded.defaults import DEFAULT_CHAIN_ID
from dataseal.chain.embedded.errors import ChainInUseError, GenesisMismatchError, NodeStartError
from dataseal.chain.embedded.mining import Miner
from dataseal.chain.embedded.settings import Tuning
from dataseal.chain.node.start import (
    OPERATOR_PASSWORD_FILENAME,
    SERVING_SWITCH_INTERVAL,
    EmbeddedNode,
    NodeConfig,
    NodeStopped,
)
from dataseal.cli.main import main
from tests.chain.embedded.clocks import HANG_GUARD_SECONDS, until
from tests.chain.embedded.helpers import ETH, ROOT, free_port, new_key, rpc, running_node, sign, start_node

HARDHAT = ROOT / "node_modules" / ".bin" / "hardhat"


def config(data_dir: Path, **kw: object) -> NodeConfig:
    return NodeConfig(data_dir=data_dir, port=0, light_kdf=True, **kw)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------ in-process


def test_first_start_creates_everything_and_a_restart_reuses_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    node = EmbeddedNode.start(config(data))
    first = node.startup
    try:
        notes = "\n".join(first.notes)
        assert f"generated a password for the operator keystore in {data / OPERATOR_PASSWORD_FILENAME}" in notes
        assert f"created the operator account {first.operator}" in notes
        assert f"created chain {DEFAULT_CHAIN_ID}" in notes and "deployed AssetRegistry" in notes
        assert first.chain_id == DEFAULT_CHAIN_ID and first.block == 3
        assert first.deployment.config == ContractConfig()  # one block producer, no public mempool: no review
        assert node.chain.get_balance(to_canonical_address(first.operator)) > 999_000 * ETH
        for address in first.deployment.addresses().values():
            assert node.chain.get_code(to_canonical_address(address))
    finally:
        node.stop()
    password_file = data / OPERATOR_PASSWORD_FILENAME
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    (entry,) = Keystore(keystore_dir(data)).list()
    assert entry.address == first.operator and stat.S_IMODE(entry.path.stat().st_mode) == 0o600
    assert get_deployment(data, DEFAULT_CHAIN_ID) == first.deployment
    assert first.deployment.deployer == first.operator

    node = EmbeddedNode.start(config(data))
    try:
        assert node.startup.notes == ()
        assert node.startup.deployment == first.deployment
        assert node.startup.block == 3  # nothing was deployed again
        assert node.startup.operator == first.operator
    finally:
        node.stop()


def test_the_call_limits_reach_the_chain_on_creation_and_on_reopening(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for timeout, cap in ((0.75, 20_000_000), (2.5, 60_000_000)):  # creates, then reopens
        node = EmbeddedNode.start(config(data, tuning=Tuning(call_timeout=timeout, call_gas_cap=cap)))
        try:
            assert (node.chain.tuning.call_timeout, node.chain.tuning.call_gas_cap) == (timeout, cap)
        finally:
            node.stop()


def test_a_given_password_encrypts_the_operator_and_no_password_file_is_written(tmp_path: Path) -> None:
    data = tmp_path / "data"
    config = NodeConfig(data_dir=data, port=0, light_kdf=True, password=SecretStr("s3cret pw"))
    node = EmbeddedNode.start(config)
    try:
        operator = node.startup.operator
    finally:
        node.stop()
    assert not (data / OPERATOR_PASSWORD_FILENAME).exists()
    assert Keystore(keystore_dir(data)).unlock(operator, "s3cret pw").address == operator


def test_a_record_naming_contracts_the_chain_lacks_is_deployed_again(tmp_path: Path) -> None:
    data = tmp_path / "data"
    EmbeddedNode.start(config(data)).stop()
    stale = Deployment(DEFAULT_CHAIN_ID, "0x" + "11" * 20, "0x" + "12" * 20, "0x" + "13" * 20, 1,
                       "0x" + "14" * 20, ContractConfig())
    save_deployment(data, stale)
    node = EmbeddedNode.start(config(data))
    try:
        assert any("names addresses without code (AssetRegistry, GrantRegistry, TransactionLedger)" in n
                   for n in node.startup.notes)
        assert node.startup.deployment != stale and node.startup.block == 6
    finally:
        node.stop()
    assert get_deployment(data, DEFAULT_CHAIN_ID) == node.startup.deployment


def test_a_record_from_before_contracts_v2_is_replaced_by_a_fresh_set(tmp_path: Path) -> None:
    """The v1 record (review_mode, no config) points at live code, but the v1 contracts' code: deploy v2."""
    data = tmp_path / "data"
    node = EmbeddedNode.start(config(data))
    first = node.startup.deployment
    node.stop()
    v1 = {key: value for key, value in first.to_json().items() if key not in ("config", "commit_required")}
    elsewhere = {**v1, "chain_id": 77}  # another chain's v1 entry: kept as it is
    (data / "deployments.json").write_text(json.dumps({str(DEFAULT_CHAIN_ID): v1, "77": elsewhere}))
    node = EmbeddedNode.start(config(data))
    try:
        assert any(f"the deployment record for chain {DEFAULT_CHAIN_ID} predates contracts v2: deploying the v2 "
                   f"contracts; the registrations made under the v1 contracts (AssetRegistry at "
                   f"{first.asset_registry}) stay there" in n for n in node.startup.notes)
        assert node.startup.deployment.asset_registry != first.asset_registry
    finally:
        node.stop()
    assert get_deployment(data, DEFAULT_CHAIN_ID) == node.startup.deployment
    assert json.loads((data / "deployments.json").read_text())["77"] == elsewhere


def test_a_pre_v2_record_of_a_chain_created_anew_says_so_rather_than_naming_v1_contracts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    EmbeddedNode.start(config(data)).stop()
    v1 = {"chain_id": DEFAULT_CHAIN_ID, "asset_registry": "0x" + "11" * 20, "grant_registry": "0x" + "12" * 20,
          "transaction_ledger": "0x" + "13" * 20, "deploy_block": 1, "deployer": "0x" + "14" * 20,
          "review_mode": False}
    (data / "deployments.json").write_text(json.dumps({str(DEFAULT_CHAIN_ID): v1}))
    node = EmbeddedNode.start(config(data))
    try:
        note = next(n for n in node.startup.notes if "predates contracts v2" in n)
        assert "names no contract with code on this chain (it was created anew): deploying the v2 contracts" in note
        assert "v1 contracts" not in note
    finally:
        node.stop()


def test_a_record_of_other_contract_code_is_replaced_by_a_fresh_set_naming_the_old_one(tmp_path: Path) -> None:
    data = tmp_path / "data"
    node = EmbeddedNode.start(config(data))
    first = node.startup.deployment
    node.stop()
    save_deployment(data, replace(first, code={**first.code, "GrantRegistry": "00" * 32}))
    node = EmbeddedNode.start(config(data))
    try:
        assert any("names contracts whose code is not the one this dataseal ships (the code of GrantRegistry "
                   f"differs): deploying them again; the registrations made under the old AssetRegistry at "
                   f"{first.asset_registry} stay there" in n for n in node.startup.notes)
        assert node.startup.deployment.asset_registry != first.asset_registry
        assert node.startup.deployment.code == first.code
    finally:
        node.stop()
    assert get_deployment(data, DEFAULT_CHAIN_ID) == node.startup.deployment


def test_a_record_of_other_artifact_files_but_the_same_code_is_kept(tmp_path: Path) -> None:
    """A rebuild that changes only comments changes the artifact's sha256 (the metadata hash), not the code: the
    node keeps the deployed contracts (it used to redeploy them)."""
    data = tmp_path / "data"
    node = EmbeddedNode.start(config(data))
    first = node.startup.deployment
    node.stop()
    rebuilt = replace(first, artifacts={**first.artifacts, "GrantRegistry": "00" * 32})
    save_deployment(data, rebuilt)
    node = EmbeddedNode.start(config(data))
    try:
        assert node.startup.deployment == rebuilt
        assert not any("deploying" in n for n in node.startup.notes)
    finally:
        node.stop()


def test_deploying_with_a_locked_keystore_says_how_to_unlock_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    EmbeddedNode.start(config(data)).stop()
    (data / "deployments.json").unlink()
    (data / OPERATOR_PASSWORD_FILENAME).unlink()
    with pytest.raises(NodeStartError, match="operator keystore is locked .*: give the operator keystore's password") \
            as locked:
        EmbeddedNode.start(config(data))
    assert locked.value.options == ("password",)
    # a password file that is not there is said so, not taken for a locked keystore
    with pytest.raises(PasswordRequired, match=f"password file {tmp_path / 'missing.txt'} does not exist"):
        EmbeddedNode.start(config(data, password_file=tmp_path / "missing.txt"))
    with pytest.raises(PasswordRequired, match="the password given for the operator keystore is empty"):
        EmbeddedNode.start(config(data, password=SecretStr("")))


def test_several_accounts_need_one_chosen(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = Keystore(keystore_dir(data), scrypt_n=2)
    first, second = store.create("pw"), store.create("pw")
    with pytest.raises(KeystoreError, match="holds 2 accounts .*: choose one") as two:
        EmbeddedNode.start(config(data, password=None))
    assert two.value.options == ("account",)
    node = EmbeddedNode.start(NodeConfig(data_dir=data, port=0, account=second, password=SecretStr("pw")))
    try:
        assert node.startup.operator == second != first
        assert node.startup.deployment.deployer == second
    finally:
        node.stop()


def test_a_second_node_on_the_same_folder_is_refused_and_frees_its_port(tmp_path: Path) -> None:
    data = tmp_path / "data"
    node = EmbeddedNode.start(config(data))
    try:
        port = free_port()
        with pytest.raises(ChainInUseError, match=f"in use by another process \\(pid {os.getpid()}"):
            EmbeddedNode.start(NodeConfig(data_dir=data, port=port, light_kdf=True))
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))  # the refused node let its port go
    finally:
        node.stop()


def test_a_taken_port_stops_the_start_before_anything_is_created(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        with pytest.raises(NodeStartError, match="already in use"):
            EmbeddedNode.start(NodeConfig(data_dir=data, port=s.getsockname()[1], light_kdf=True))
    assert not chain_file(data).exists() and not keystore_dir(data).exists()


def test_restarting_with_another_chain_id_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    EmbeddedNode.start(config(data, chain_id=777)).stop()
    with pytest.raises(GenesisMismatchError, match="has chain id 777, not 778"):
        EmbeddedNode.start(config(data, chain_id=778))


def test_stop_reports_the_head_once_the_waiting_transactions_are_mined(tmp_path: Path) -> None:
    data = tmp_path / "data"
    key = new_key()
    node = EmbeddedNode.start(config(data, mining=Mining("interval", 60), fund={key.address: 5 * ETH}))
    assert node.startup.block == 3
    for nonce in (0, 1):
        node.chain.send_raw_transaction(sign(key, node.startup.chain_id, nonce, value=ETH))
    stopped = node.stop()
    assert stopped == NodeStopped(block=4)  # the two were mined into block 4 as the node stopped
    with EmbeddedChain.open(chain_file(data), mining=Mining("manual")) as chain:
        assert chain.head().block_number == 4 and chain.pending_count == 0


def test_stop_completes_while_a_request_holds_the_chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A scan holding the chain (here eth_getLogs, held on an event): stopping ends the server and
    leaves the chain to close when it can, without waiting for the scan."""
    from dataseal.chain.embedded.logs import LogScanner

    entered, release, finished = threading.Event(), threading.Event(), threading.Event()
    scan = LogScanner._scan

    def held(self: LogScanner, *args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(HANG_GUARD_SECONDS)
        finished.set()
        return scan(self, *args, **kwargs)

    monkeypatch.setattr(LogScanner, "_scan", held)
    node = EmbeddedNode.start(config(tmp_path / "data"))
    node.start_serving()
    asking = threading.Thread(target=_ask_quietly, args=(node.startup.rpc_url, "eth_getLogs", [{}]), daemon=True)
    stopped: list[NodeStopped] = []
    stopping = threading.Thread(target=lambda: stopped.append(node.stop(grace=0.05)), daemon=True)
    try:
        asking.start()
        assert entered.wait(HANG_GUARD_SECONDS)
        stopping.start()
        stopping.join(HANG_GUARD_SECONDS)
        assert stopped, "the node did not stop while a request held the chain"
        assert not finished.is_set()  # the scan is still running
        assert stopped[0].block == 3 and "the chain was still busy" in (stopped[0].busy or "")
    finally:
        release.set()
    until(lambda: node.chain.closed, "the chain closed once the scan let it go")


def _ask_quietly(url: str, method: str, params: list[Any]) -> None:
    try:
        rpc(url, method, params)
    except OSError:
        pass  # its connection was cut


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # (the miner dies)
def test_a_dead_miner_is_the_nodes_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _break_interval_miners(monkeypatch)
    node = EmbeddedNode.start(config(tmp_path / "data", mining=Mining("interval", 60)))
    try:
        failure = until(lambda: node.failure, "the miner died")
        assert failure.startswith("OverflowError")
    finally:
        node.stop()


def _break_interval_miners(monkeypatch: pytest.MonkeyPatch) -> None:
    """Interval miners wait for ever, as --block-time inf once made them do: their wait overflows."""
    start = Miner.start

    def broken(self: Miner) -> None:
        if self.mining.mode == "interval":
            object.__setattr__(self.mining, "block_time", float("inf"))
        start(self)

    monkeypatch.setattr(Miner, "start", broken)


# ------------------------------------------------------------------------------------ the CLI


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # (the miner dies)
def test_cli_a_dead_miner_stops_the_node_with_a_non_zero_exit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _break_interval_miners(monkeypatch)
    guard = threading.Timer(HANG_GUARD_SECONDS, os.kill, (os.getpid(), signal.SIGTERM))  # (a hang, not a limit)
    guard.start()
    try:
        code = main(["node", "--data-dir", str(tmp_path / "data"), "--port", "0", "--light-kdf", "--json",
                     "--block-time", "60"])
    finally:
        guard.cancel()
    err = capsys.readouterr().err
    assert code == 1, err
    assert "dataseal node: stopping: the miner stopped (OverflowError" in err
    assert "dataseal node: stopped at block 3" in err
    assert err.splitlines()[-1].startswith("dataseal: error: the node stopped because its miner stopped "
                                           "(OverflowError")


def test_cli_refuses_block_times_that_are_not_a_number_of_seconds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    guard = threading.Timer(HANG_GUARD_SECONDS, os.kill, (os.getpid(), signal.SIGTERM))  # (a node that started)
    guard.start()
    try:
        for value in ("inf", "nan", "-1", "1e300", "86401"):
            code = main(["node", "--data-dir", str(tmp_path / "data"), "--port", "0", "--block-time", value])
            err = capsys.readouterr().err
            assert code == 2 and "is not a number of seconds from 0 to 86400 (a day)" in err, (value, err)
    finally:
        guard.cancel()
    assert not (tmp_path / "data").exists()


def test_cli_refusals_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    assert main(["node", "--data-dir", str(data), "--fund", "0x12"]) == 2
    assert "'0x12' is not an address" in capsys.readouterr().err
    assert main(["node", "--data-dir", str(data), "--fund", "0x" + "ab" * 20 + "=lots"]) == 2
    assert "'lots' is not an amount of ether" in capsys.readouterr().err
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert main(["node", "--data-dir", str(data), "--port", str(s.getsockname()[1])]) == 1
    err = capsys.readouterr().err
    assert err.startswith("dataseal: error: port ") and "already in use" in err and len(err.splitlines()) == 1


# ------------------------------------------------------------------------------------ the process


def test_the_process_starts_without_a_terminal_and_stops_cleanly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running_node(data) as node:
        info = node.info
        assert info["chain_id"] == DEFAULT_CHAIN_ID and info["block"] == 3 and info["pid"] == node.proc.pid
        assert rpc(node.url, "eth_chainId")["result"] == hex(DEFAULT_CHAIN_ID)
        code = rpc(node.url, "eth_getCode", [info["deployment"]["asset_registry"], "latest"])["result"]
        assert len(code) > 1000
        assert node.stop() == 0
        stderr = node.stderr()
        assert "generated a password for the operator keystore" in stderr
        assert "stopped at block 3" in stderr
    with running_node(data) as again:
        assert again.info["deployment"] == info["deployment"] and again.info["block"] == 3
        assert again.stop() == 0
        assert "deployed" not in again.stderr() and "created" not in again.stderr()


def test_sigterm_mines_the_waiting_transactions_first(tmp_path: Path) -> None:
    data = tmp_path / "data"
    key = new_key()
    with running_node(data, "--block-time", "3600", "--fund", f"{key.address}=5") as node:
        raw = sign(key, DEFAULT_CHAIN_ID, 0, to="0x" + "22" * 20, value=ETH)
        tx_hash = rpc(node.url, "eth_sendRawTransaction", ["0x" + raw.hex()])["result"]
        assert rpc(node.url, "eth_getTransactionReceipt", [tx_hash])["result"] is None  # the block is an hour away
        assert node.stop() == 0
        assert "stopped at block 4" in node.stderr()  # the block mined as it stopped
    with EmbeddedChain.open(chain_file(data), mining=Mining("manual")) as chain:
        assert chain.get_receipt(bytes.fromhex(tx_hash[2:])) is not None
        assert chain.get_balance(b"\x22" * 20) == ETH
        assert chain.genesis_alloc[key.address] == 5 * ETH


SIGNALS_IN_A_ROW = 100_000  # of each, from two threads at once: many arrive while another is handled
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _send_signals(pid: int, sig: int) -> None:
    for _ in range(SIGNALS_IN_A_ROW):
        os.kill(pid, sig)


BLOCK_NUMBER = b'{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}'


def test_stop_signals_in_quick_succession_stop_the_node_once_and_cleanly(tmp_path: Path) -> None:
    """SIGTERM and SIGINT by the hundred thousand, arriving while others are handled and while the
    node stops (they once deadlocked the handler, or overflowed the stack with handlers run inside
    handlers). A request kept in progress (its body not sent yet) holds the node in its stop until
    the signals are all sent, so that none arrives after the process gave the signals back."""
    node = start_node(tmp_path / "data")
    try:
        url = node.url.removeprefix("http://")
        host, port = url.rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=HANG_GUARD_SECONDS) as held:
            held.sendall(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n"
                         b"Expect: 100-continue\r\n\r\n" % len(BLOCK_NUMBER))
            assert held.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"  # the request is in progress
            senders = [threading.Thread(target=_send_signals, args=(node.proc.pid, sig)) for sig in STOP_SIGNALS]
            for sender in senders:
                sender.start()
            for sender in senders:
                sender.join()
            held.sendall(BLOCK_NUMBER)
            answer = held.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b'"result":"0x3"}')
        code = node.proc.wait(timeout=HANG_GUARD_SECONDS)  # (a guard against a hang, not a time limit)
    except BaseException:
        node.stop(signal.SIGKILL)
        raise
    stderr = node.stderr()
    assert code == 0, stderr[-3000:]
    assert stderr.count("dataseal node: stopping") == 1 and "dataseal node: stopped at block 3" in stderr


@pytest.mark.hardhat
@pytest.mark.skipif(not HARDHAT.exists(), reason="node_modules is missing: run `make test` (it runs npm ci)")
def test_hardhat_deploys_transacts_estimates_reads_logs_and_decodes_a_custom_error(tmp_path: Path) -> None:
    key = new_key()
    with running_node(tmp_path / "data", "--fund", key.address) as node:
        env = {
            **os.environ,
            "DATASEAL_RPC_URL": node.url,
            "DATASEAL_TEST_KEY": "0x" + key.key.hex(),
            "DATASEAL_ASSET_REGISTRY": node.info["deployment"]["asset_registry"],
            "HARDHAT_DISABLE_TELEMETRY_PROMPT": "1",
        }
        done = subprocess.run(
            ["node", str(HARDHAT), "run", "--no-compile", "--network", "dataseal",
             str(Path(__file__).with_name("hardhat_client.js"))],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["network"] == "dataseal" and seen["chainId"] == str(DEFAULT_CHAIN_ID)
    assert seen["accounts"] == [] and seen["eip1559"] is True
    assert seen["deployReceipt"] == {"to": None, "contractAddress": seen["deployed"], "status": 1, "type": 2}
    assert seen["deployedCodeBytes"] > 1000
    wiring = seen["wiring"]  # v2: both registries name the ledger, predicted from the deployer's nonce
    assert wiring["ledger"] == wiring["predictedLedger"] == wiring["registryLedger"] == wiring["grantsLedger"]
    assert wiring["ledgerAssets"] == seen["deployed"] and wiring["ledgerGrants"] == wiring["grants"]
    assert wiring["reviewMode"] is False and wiring["commitRequired"] is False
    register = seen["register"]
    assert register["status"] == 1 and register["type"] == 2 and register["events"] == ["Transfer", "AssetRegistered"]
    assert int(register["gasUsed"]) <= int(seen["estimate"])
    assert seen["recordRoot"] == seen["root"] and seen["assetIdOfRoot"] == seen["assetId"]
    assert seen["recordStatus"] == "2"  # Active: the node's registry has no review
    assert seen["logs"] == [{"name": "AssetRegistered", "assetId": seen["assetId"], "removed": False}]
    for revert in (seen["staticRevert"], seen["sendRevert"]):
        assert revert["name"] == "AssetAlreadyRegistered" and revert["args"] == [seen["root"], seen["assetId"]]
    assert seen["transfer"] == {"status": 1, "gasUsed": "21000", "balance": str(3 * ETH // 2)}
    assert seen["block"]["hasTransfer"] and seen["block"]["baseFeePerGas"]
    assert seen["fetchedTransfer"]["value"] == str(3 * ETH // 2)


def test_a_chain_made_without_a_node_gets_its_contracts_from_a_funded_account(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = Keystore(keystore_dir(data), scrypt_n=2)
    funded = store.create("pw")
    EmbeddedChain.open(chain_file(data), genesis=Genesis(alloc={funded: ETH})).close()
    node = EmbeddedNode.start(NodeConfig(data_dir=data, port=0, password=SecretStr("pw")))
    try:
        assert node.startup.operator == funded and node.startup.deployment.deployer == funded
    finally:
        node.stop()


def test_a_chain_made_without_a_node_and_no_account_says_what_to_do(tmp_path: Path) -> None:
    data = tmp_path / "data"
    EmbeddedChain.open(chain_file(data)).close()
    with pytest.raises(NodeStartError, match="no operator account is known: create or import an account in .* and "
                       "fund it, or name a funded one") as unknown:
        EmbeddedNode.start(config(data))
    assert unknown.value.options == ("account", "data_dir")


def test_a_data_folder_that_cannot_be_made_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(NodeStartError, match=f"cannot create the data folder {blocker / 'data'}"):
        EmbeddedNode.start(config(blocker / "data"))


def test_a_serving_node_shortens_the_switch_interval_until_it_stops(tmp_path: Path) -> None:
    before = sys.getswitchinterval()
    node = EmbeddedNode.start(NodeConfig(data_dir=tmp_path / "data", port=0, light_kdf=True))
    try:
        node.start_serving()
        assert sys.getswitchinterval() == pytest.approx(min(before, SERVING_SWITCH_INTERVAL))
    finally:
        node.stop()
    assert sys.getswitchinterval() == pytest.approx(before)
