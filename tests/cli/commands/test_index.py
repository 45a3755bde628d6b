"""`dataseal index` on the embedded chain of a data folder (in-process) and, with --follow, as its own process
against a hardhat node."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from eth_account import Account
from sqlalchemy import func, select

from dataseal.chain.connection import connect
from dataseal.chain.contracts.deploy import deploy_contracts
from dataseal.chain.contracts.deployment import save_deployment
from dataseal.chain.embedded.provider import EmbeddedProvider
from dataseal.chain.sending.sender import LocalSender
from dataseal.registry.db import Database
from dataseal.registry.db.models.chain import ChainEvent, GrantRow
from tests.chain.conftest import open_embedded
from tests.cli.conftest import Cli, one_line
from tests.conftest import Chain
from tests.registry.indexer.conftest import Story, h, node_chain, tell_story

ROOT = Path(__file__).resolve().parents[3]


def embedded_story(data_dir: Path) -> tuple[Story, int]:
    """A data folder whose embedded chain has a deployment (recorded) and a story of events; (story, logs)."""
    keys = [Account.create() for _ in range(5)]
    embedded = open_embedded(data_dir, [k.address for k in keys])
    try:
        node = connect(EmbeddedProvider(embedded), name="the embedded chain")
        senders = [LocalSender(k, endpoint=node.endpoint) for k in keys]
        chain = Chain(node.w3, deploy_contracts(node.w3, senders[0]), *senders, keys={k.address: k for k in keys})
        save_deployment(data_dir, chain.deployment)
        story = tell_story(chain)
        logs = len(node.w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest",  # type: ignore[typeddict-item]
                                         "address": list(chain.deployment.addresses().values())}))
    finally:
        embedded.close()  # `dataseal index` opens the chain itself, in-process
    return story, logs


def events_in(data_dir: Path) -> int:
    with Database.open(f"sqlite:///{data_dir / 'registry.sqlite'}") as db, db.session() as s:
        return int(s.execute(select(func.count()).select_from(ChainEvent)).scalar_one())


def test_index_the_embedded_chain_then_resume_then_rebuild(cli: Cli) -> None:
    story, logs = embedded_story(cli.data_dir)
    report = cli.json("index")
    assert report["events"] == logs and report["lag"] == 0 and report["reorgs"] == 0
    assert report["to_block"] == report["tip"] and report["started_over"] is None
    assert report["database"] == f"sqlite:///{(cli.data_dir / 'registry.sqlite').resolve()}"
    assert events_in(cli.data_dir) == logs
    with Database.open(f"sqlite:///{cli.data_dir / 'registry.sqlite'}") as db, db.session() as s:
        grant = s.get(GrantRow, story.grant)
        assert grant is not None and (grant.used, grant.status) == (11, "Revoked")

    code, out, err = cli("index")  # nothing new
    assert (code, err) == (0, "")
    assert out.startswith(f"up to date at block {report['to_block']} of chain {report['chain_id']}\n")
    assert f"tip {report['tip']}, 0 blocks behind (sqlite:///" in out

    rebuilt = cli.json("index", "--rebuild")
    assert rebuilt["rebuilt"] == {"dropped_events": logs} and rebuilt["events"] == logs
    assert events_in(cli.data_dir) == logs
    code, out, err = cli("index", "--rebuild")
    assert code == 0 and f"emptied the index ({logs} events); indexing again from block" in err
    assert f"indexed blocks {rebuilt['from_block']}..{rebuilt['to_block']} of chain {rebuilt['chain_id']}: " \
           f"{logs} events" in out


def test_index_leaves_the_confirmations(cli: Cli) -> None:
    embedded_story(cli.data_dir)
    report = cli.json("index", "--confirmations", "2")
    assert (report["lag"], report["to_block"]) == (2, report["tip"] - 2)
    code, _, err = cli("index", "--confirmations", "-1")
    assert code == 2 and "--confirmations': Input should be greater than or equal to 0" in one_line(err)


def test_index_help_teaches(cli: Cli) -> None:
    code, out, _ = cli("index", "--help", data_dir=False)
    assert code == 0 and "Examples" in out
    assert "dataseal index --rpc http://127.0.0.1:8545 --confirmations 2 --follow" in out
    assert "--rebuild" in out and "--follow" in out and "--json" in out


def test_index_without_a_node_or_a_deployment_is_one_line(cli: Cli) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    code, out, err = cli("index", "--rpc", dead)
    assert code == 1 and out == ""
    assert one_line(err).startswith(f"dataseal: error: cannot reach the node at {dead}")
    code, out, err = cli("index")  # a data folder without a chain
    assert code == 1 and out == "" and "no embedded chain in " in one_line(err)
    assert not (cli.data_dir / "registry.sqlite").exists()  # nothing written before the chain answered


def test_index_of_an_unreachable_database_is_one_line(cli: Cli, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    embedded_story(cli.data_dir)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'no-such-folder' / 'registry.sqlite'}")
    code, out, err = cli("index")
    assert code == 1 and out == ""
    assert one_line(err).startswith("dataseal: error: the registry database at sqlite:///")


@pytest.mark.hardhat
def test_index_follow_prints_a_line_per_sync_until_interrupted(hardhat_url: str, tmp_path: Path) -> None:
    chain = node_chain(hardhat_url)
    data_dir = tmp_path / "data"
    save_deployment(data_dir, chain.deployment)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dataseal.cli.main", "index", "--follow", "--json", "--poll-interval", "0.1",
         "--rpc", hardhat_url, "--data-dir", str(data_dir)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())  # the catch-up sync: one JSON line
        assert first["events"] > 0 and first["lag"] == 0
        chain.as_(chain.owner).registry.anchor_batch(h("followed"), 3, h("manifest"))
        seen = 0
        while not seen:  # one line per poll; the batch arrives in one of them
            line = json.loads(proc.stdout.readline())
            assert set(line) >= {"events", "to_block", "tip", "lag", "reorgs"}
            seen = line["events"]
        assert seen == 1
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate()
    assert proc.returncode == 130 and err.strip().splitlines()[-1] == "dataseal: interrupted"
    assert events_in(data_dir) == first["events"] + 1
