"""`dataseal prove` finds the chain by itself: the default data folder's (./.dataseal) deployment when its chain
answers, the on-chain record then attached; one line (not an error) and the proof alone when it does not; nothing
asked with --offline. A chain that is named (--rpc, --data-dir, --chain-id) must answer, as before."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataseal.chain.contracts.deployment import DEPLOYMENTS_FILENAME
from dataseal.chain.embedded.chain import CHAIN_FILENAME
from dataseal.chain.node.start import EmbeddedNode, NodeConfig
from tests.cli.conftest import Cli, one_line

SECRET = bytes(range(32))


@pytest.fixture
def home(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder whose ./.dataseal is a data folder as the first `dataseal node` leaves it (the chain is
    opened in-process by each command); the commands run there."""
    cli.data_dir = tmp_path / ".dataseal"
    EmbeddedNode.start(NodeConfig(data_dir=cli.data_dir, port=0, light_kdf=True)).stop()
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    path.write_text("id,name\n" + "".join(f"{i},person {i}\n" for i in range(4)))
    return path


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "owner.key"
    path.write_bytes(SECRET)
    return path


def _register(cli: Cli, table: Path, secret: Path) -> dict[str, object]:
    done: dict[str, object] = cli.json("register", str(table), "--salt-secret", str(secret), "--title", "People")
    return done


def test_the_default_data_folder_attaches_the_record(cli: Cli, home: Path, table: Path, secret: Path) -> None:
    done = _register(cli, table, secret)
    bundle = home / "row1.json"
    code, out, err = cli("prove", str(table), "--row", "1", "--salt-secret", str(secret), "-o", str(bundle),
                         data_dir=False)
    assert code == 0 and err == "", err
    assert f"evidence bundle with the registration of asset 1 (tx {done['tx_hash']}" in out
    document = json.loads(bundle.read_text())
    assert document["record"]["asset"]["assetId"] == 1 and document["record"]["txHash"] == done["tx_hash"]
    # to stdout as well, and in JSON
    code, out, err = cli("prove", str(table), "--row", "1", "--salt-secret", str(secret), data_dir=False)
    assert code == 0 and err == "" and json.loads(out)["record"]["txHash"] == done["tx_hash"]
    proved = json.loads(cli("prove", str(table), "--row", "2", "--salt-secret", str(secret), "-o",
                            str(home / "row2.json"), "--json", data_dir=False)[1])
    assert (proved["kind"], proved["asset_id"], proved["unregistered"]) == ("evidence", 1, None)


def test_offline_does_not_ask_the_chain(cli: Cli, home: Path, table: Path, secret: Path) -> None:
    _register(cli, table, secret)
    proof = home / "row1.json"
    code, out, err = cli("prove", str(table), "--row", "1", "--salt-secret", str(secret), "--offline", "-o",
                         str(proof), data_dir=False)
    assert code == 0 and err == "" and "evidence bundle" not in out
    assert "record" not in json.loads(proof.read_text())
    proved = json.loads(cli("prove", str(table), "--row", "1", "--salt-secret", str(secret), "--offline", "--json",
                            "-o", str(proof), "--force", data_dir=False)[1])
    assert (proved["kind"], proved["unregistered"]) == ("proof", "the chain was not asked (offline)")


@pytest.mark.parametrize("named", [["--rpc", "http://127.0.0.1:9"], ["--data-dir", "elsewhere"],
                                   ["--chain-id", "1"], ["--grant", "1"]])
def test_offline_with_a_chain_named_is_refused(cli: Cli, tmp_path: Path, table: Path, named: list[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cli("seal", str(table), "--rows", data_dir=False)
    code, out, err = cli("prove", str(table), "--row", "1", "--offline", *named, data_dir=False)
    assert (code, out) == (2, "") and "--offline does not look for the chain, which " in err


def test_without_a_data_folder_the_proof_is_written_alone_saying_why(
    cli: Cli, tmp_path: Path, table: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    cli("seal", str(table), "--rows", data_dir=False)
    proof = tmp_path / "row1.json"
    code, out, err = cli("prove", str(table), "--row", "1", "-o", str(proof), data_dir=False)
    assert code == 0 and out.startswith(f"wrote {proof}: row 1 of {table}")
    assert one_line(err) == ("dataseal: no chain record: the chain could not be asked: no deployment is recorded in "
                             f".dataseal (no {DEPLOYMENTS_FILENAME}); wrote the proof alone")
    assert "record" not in json.loads(proof.read_text()) and not (tmp_path / ".dataseal").exists()


def test_a_default_chain_that_does_not_answer_is_one_line_not_an_error(
    cli: Cli, home: Path, table: Path, secret: Path,
) -> None:
    """The data folder records a deployment, but its chain is gone: said, and the proof is written without it."""
    _register(cli, table, secret)
    (cli.data_dir / CHAIN_FILENAME).rename(home / "chain-moved-away")
    proof = home / "row1.json"
    code, out, err = cli("prove", str(table), "--row", "1", "--salt-secret", str(secret), "-o", str(proof),
                         data_dir=False)
    assert code == 0 and out.startswith(f"wrote {proof}: row 1 of {table}")
    assert one_line(err).startswith("dataseal: no chain record: the chain could not be asked: no embedded chain in "
                                    ".dataseal")
    assert one_line(err).endswith("; wrote the proof alone") and "record" not in json.loads(proof.read_text())
    # named, the same folder is an error: the chain asked for must answer
    code, out, err = cli("prove", str(table), "--row", "1", "--salt-secret", str(secret), "--data-dir", ".dataseal",
                         data_dir=False)
    assert (code, out) == (1, "") and "no embedded chain in .dataseal" in one_line(err)


def test_unregistered_data_with_the_default_chain_says_so(cli: Cli, home: Path, table: Path) -> None:
    cli("seal", str(table), "--rows", data_dir=False)
    code, out, err = cli("prove", str(table), "--row", "0", data_dir=False)
    assert code == 0 and "record" not in json.loads(out)
    assert one_line(err).startswith("dataseal: no chain record: root 0x")
    assert "is not registered on chain" in err and err.rstrip().endswith("; wrote the proof alone")


def test_an_output_in_a_missing_folder_is_one_line_naming_the_folder(
    cli: Cli, tmp_path: Path, table: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    cli("seal", str(table), "--rows", data_dir=False)
    out = tmp_path / "nonexistent" / "dir" / "row1.json"
    code, stdout, err = cli("prove", str(table), "--row", "1", "-o", str(out), data_dir=False)
    assert (code, stdout) == (1, "")
    assert one_line(err).startswith(f"dataseal: error: cannot write output file {out}: the folder {out.parent} does "
                                    "not exist") and ".tmp" not in err
    assert not (tmp_path / "nonexistent").exists()
