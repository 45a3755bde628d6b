"""`dataseal register | version | cancel | review | verify`, and `prove` / `check --rpc` with the chain, against an
embedded data folder (the chain opened in-process by each command, as a user without a running node has it)."""
from __future__ import annotations

import json
import socket
import sqlite3
from pathlib import Path

import pytest

from dataseal.chain.node.start import EmbeddedNode, NodeConfig
from tests.cli.conftest import Cli, one_line

SECRET = bytes(range(32))


@pytest.fixture
def folder(cli: Cli) -> Path:
    """The data folder as the first `dataseal node` leaves it: chain, operator (password generated), deployment."""
    EmbeddedNode.start(NodeConfig(data_dir=cli.data_dir, port=0, light_kdf=True)).stop()
    return cli.data_dir


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "owner.key"
    path.write_bytes(SECRET)
    return path


def write_table(path: Path, rows: int, *, changed: int | None = None) -> Path:
    path.write_text("id,name\n" + "".join(f"{i},{'changed' if i == changed else f'person {i}'}\n"
                                          for i in range(rows)))
    return path


def test_register_verify_prove_check_cancel(cli: Cli, folder: Path, secret: Path, tmp_path: Path) -> None:
    data = write_table(tmp_path / "people.csv", 5)
    done = cli.json("register", str(data), "--salt-secret", str(secret), "--title", "People",
                    "--rights", "holding,processing", "--classification", "general", "--valid-until", "2099-12-31")
    assert (done["asset_id"], done["status"], done["resumed"], done["reused_seal"]) == (1, "Active", False, False)
    assert Path(done["stored_tree"]).parent == folder / "trees" and Path(done["manifest"]).exists()
    again = cli.json("register", str(data), "--salt-secret", str(secret), "--title", "People",
                     "--rights", "holding,processing", "--classification", "general", "--valid-until", "2099-12-31")
    assert (again["asset_id"], again["tx_hash"], again["resumed"], again["reused_seal"]) == \
        (1, done["tx_hash"], True, True)

    code, out, err = cli("verify", str(data), "--salt-secret", str(secret))
    assert code == 0, err
    assert out.startswith(f"REGISTERED  {data}: asset 1, Active, owner 0x")

    bundle = tmp_path / "row2.bundle.json"
    proved = cli.json("prove", str(data), "--row", "2", "--salt-secret", str(secret), "-o", str(bundle))
    assert (proved["kind"], proved["asset_id"], proved["tx_hash"]) == ("evidence", 1, done["tx_hash"])
    assert json.loads(bundle.read_text())["record"]["asset"]["assetId"] == 1
    code, out, err = cli("check", str(bundle), "--json", data_dir=False)
    assert code == 0, err
    offline = json.loads(out)
    assert offline["kind"] == "evidence" and any(line.startswith("chain:") for line in offline["not_checked"])

    node = EmbeddedNode.start(NodeConfig(data_dir=folder, port=0))
    try:
        node.start_serving()
        url = node.startup.rpc_url
        code, out, err = cli("check", str(bundle), "--rpc", url, "--json")  # the data folder's deployment: trusted
        assert code == 0, err
        report = json.loads(out)
        assert report["chain"]["status"] == "Active" and report["chain"]["holds_root"] is True
        assert any("emitted AssetRegistered" in line for line in report["checked"])
        [entry] = json.loads((folder / "deployments.json").read_text()).values()
        contract = entry["asset_registry"]
        assert f"chain: contract {contract} is the trusted AssetRegistry (the deployment of chain " in \
            "\n".join(report["checked"])
        code, out, err = cli("check", str(bundle), "--rpc", url, "--contract", contract, data_dir=False)
        assert code == 0 and out.startswith(f"OK  {bundle}") and "(the address given)" in out
        code, out, err = cli("check", str(bundle), "--rpc", url, data_dir=False)  # nothing says which to trust
        assert code == 1 and out == ""
        assert f"the bundle's record names AssetRegistry {contract} on chain " in one_line(err)
        assert "[--contract ADDRESS; --data-dir or DATASEAL_DATA_DIR]" in err
        other = "0x" + "12" * 20
        code, out, err = cli("check", str(bundle), "--rpc", url, "--contract", other, data_dir=False)
        assert code == 1 and out == ""
        assert "but the registry trusted on chain " in one_line(err) and "(the address given)" in err
        code, out, err = cli("check", str(bundle), "--contract", contract, data_dir=False)
        assert code == 2 and "give --rpc too" in one_line(err)
        code, out, err = cli("check", str(bundle), "--rpc", url, "--contract", "0x12", data_dir=False)
        assert code == 1 and "the registry address to trust '0x12' is not an address" in one_line(err)
        code, out, err = cli("check", str(folder.parent / "people.csv.dataseal" / "manifest.json"), "--rpc", url,
                             data_dir=False)
        assert code == 2 and "only an evidence bundle has a chain record to check" in one_line(err)
    finally:
        node.stop()

    write_table(data, 6, changed=3)
    code, out, err = cli("verify", str(data), "--salt-secret", str(secret))
    assert code == 1
    assert f"NOT REGISTERED  {data}" in out and "nearest registered version: asset 1" in out
    assert "rows that differ: 1: 3" in out and "rows only in the data: 1; only in asset 1: 0" in out

    version = cli.json("version", "1", str(data), "--salt-secret", str(secret))
    assert (version["asset_id"], version["parent_id"]) == (2, 1)

    bundle2 = tmp_path / "version.bundle.json"
    cli.json("prove", str(data), "--row", "0", "--salt-secret", str(secret), "-o", str(bundle2))
    code, out, err = cli("cancel", "2", "--reason", "a mistake")
    assert code == 0, err
    node = EmbeddedNode.start(NodeConfig(data_dir=folder, port=0))
    try:
        node.start_serving()
        code, checked, err = cli("check", str(bundle2), "--rpc", node.startup.rpc_url)
    finally:
        node.stop()
    assert code == 1 and checked == ""  # a cancelled registration is no longer evidence of anything
    assert "asset 2 is now Cancelled and no longer holds root 0x" in one_line(err)
    assert out.startswith("cancel asset 2: now Cancelled (tx 0x") and "earlier run" not in out
    tx = out.split("(tx ")[1].split(",")[0]
    code, again, err = cli("cancel", "2")
    assert code == 0, err
    assert again.startswith(f"cancel asset 2: already Cancelled (by tx {tx}, block ") and "nothing sent" in again
    assert "earlier run" not in again
    assert cli.json("cancel", "2")["already_done"] is True


def test_review_refuses_approving_a_registration_that_needs_none(cli: Cli, folder: Path, tmp_path: Path) -> None:
    data = tmp_path / "d.bin"
    data.write_bytes(b"x" * 100)
    cli.json("register", str(data))
    code, out, err = cli("review", "approve", "1")
    assert code == 1 and out == ""
    assert one_line(err).startswith("dataseal: error: asset 1 is Active: only a disputed registration is approved")
    code, out, err = cli("review", "reject", "1", "--reserve-for", "0x123")
    assert code == 1 and "reserve_for" in one_line(err) and "0x123" in err
    code, out, err = cli("review", "object", "1", "--evidence", str(tmp_path / "missing.pdf"))
    assert code == 1 and one_line(err).endswith("[--evidence FILE]")


def test_unknown_assets_and_bad_values(cli: Cli, folder: Path, tmp_path: Path) -> None:
    code, out, err = cli("cancel", "9")
    assert code == 1 and out == ""
    assert one_line(err).startswith("dataseal: error: no asset 9 on chain ")
    code, out, err = cli("version", "abc", str(tmp_path))
    assert code == 2 and "Invalid value for 'ASSET'" in one_line(err)
    code, out, err = cli("register", str(tmp_path / "nothing.csv"))
    assert code == 1 and one_line(err).startswith(f"dataseal: error: {tmp_path / 'nothing.csv'} does not exist")
    code, out, err = cli("register", str(tmp_path), "--classification", "secret")
    assert code == 2 and "is not a classification" in one_line(err)
    code, out, err = cli("register", str(tmp_path), "--valid-until", "someday")
    assert code == 2 and "neither an ISO date" in one_line(err)
    other = tmp_path / "other.bin"
    other.write_bytes(b"never registered")
    code, out, err = cli("verify", str(other))
    assert code == 1 and out.startswith(f"NOT REGISTERED  {other}") and "no registered version" in out


def test_an_unreachable_node_records_nothing(cli: Cli, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    data = tmp_path / "d.bin"
    data.write_bytes(b"x" * 10)
    code, out, err = cli("register", str(data), "--rpc", dead)
    assert code == 1 and out == ""
    assert one_line(err).startswith(f"dataseal: error: cannot reach the node at {dead}")
    assert not cli.data_dir.exists() and not (tmp_path / "d.bin.dataseal").exists()


@pytest.mark.parametrize("command", ["register", "version", "cancel", "review", "verify"])
def test_help_teaches_with_examples(cli: Cli, command: str) -> None:
    code, out, err = cli(command, "--help", data_dir=False)
    assert code == 0 and "Examples:" in out and "--json" in out


def test_register_prints_its_certificate_and_certificate_finds_the_recorded_manifest(
        cli: Cli, folder: Path, tmp_path: Path) -> None:
    data = tmp_path / "survey.bin"
    data.write_bytes(b"survey " * 100)
    code, out, err = cli("register", str(data), "--title", "深圳调查 2024", "--licence", "CC-BY-4.0", "--pdf")
    assert code == 0, err
    seal_folder = tmp_path / "survey.bin.dataseal"
    lines = out.splitlines()
    assert lines[0].startswith("registered asset 1: Active, owner 0x")
    [number_line] = [line for line in lines if line.startswith("certificate    ")]
    number = number_line.split()[1]
    assert number.startswith("DS-") and lines[lines.index(number_line) + 1:] == [
        f"               {seal_folder / name}" for name in ("certificate.json", "certificate.html", "certificate.pdf")]
    assert f"check it: dataseal certificate verify {seal_folder / 'certificate.json'}" in err
    assert cli.json("certificate", "verify", str(seal_folder / "certificate.json"))["ok"] is True

    # a rerun finds it all done and keeps the certificate; --json names it
    code, out, err = cli("register", str(data), "--title", "深圳调查 2024", "--licence", "CC-BY-4.0")
    assert code == 0 and out.startswith("registered asset 1 (registered by an earlier run): Active")
    assert f"certificate    {number} (kept from an earlier run)" in out
    again = cli.json("register", str(data), "--title", "深圳调查 2024", "--licence", "CC-BY-4.0")
    assert again["already_registered"] is True and again["resumed"] is True
    assert again["certificate"]["number"] == number and again["certificate"]["reused"] is True
    assert again["certificate"]["path"] == str(seal_folder / "certificate.json")

    # issued again without --manifest: the title comes from the manifest the registry recorded
    report = cli.json("certificate", "1", "-o", str(tmp_path / "again.html"))
    assert report["title"] == "深圳调查 2024"
    cert = json.loads(cli("certificate", "1")[1])
    assert (cert["title"], cert["licence"]) == ("深圳调查 2024", "CC-BY-4.0")

    # a stored copy altered in the database is refused, not printed
    with sqlite3.connect(folder / "registry.sqlite") as db:
        db.execute("UPDATE manifest_record SET manifest = json_set(manifest, '$.title', 'forged')")
    code, out, err = cli("certificate", "1")
    assert code == 1 and out == ""
    assert one_line(err).startswith("dataseal: error: the manifest the registry database at sqlite:///")
    assert "hashes to 0x" in err and "the stored copy was altered" in err and "[--manifest FILE]" in err
    code, out, err = cli("certificate", "1", "--manifest", str(seal_folder / "manifest.json"))
    assert code == 0 and json.loads(out)["title"] == "深圳调查 2024"


def test_register_refuses_a_bad_certificate_language_before_sending(cli: Cli, folder: Path, tmp_path: Path) -> None:
    data = tmp_path / "d.bin"
    data.write_bytes(b"d" * 10)
    code, out, err = cli("register", str(data), "--lang", "fr")
    assert code == 1 and out == ""
    assert one_line(err).startswith("dataseal: error: unknown certificate language 'fr'") and "[--lang" in err
    assert not (tmp_path / "d.bin.dataseal").exists()


def test_register_issues_for_the_base_url_setting_and_prints_chinese_as_it_is(
        cli: Cli, folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DATASEAL_BASE_URL: the registry's public address, which `certificate verify` then expects too."""
    data = tmp_path / "深圳调查.bin"
    data.write_bytes(b"d" * 10)
    monkeypatch.setenv("DATASEAL_BASE_URL", "https://registry.example.org")
    code, out, err = cli("register", str(data), "--title", "深圳调查", "--json")
    assert code == 0, err
    path = tmp_path / "深圳调查.bin.dataseal" / "certificate.json"
    assert f'"path": "{path}"' in out and "\\u" not in out
    cert = json.loads(path.read_text(encoding="utf-8"))
    assert cert["verifyUrl"] == f"https://registry.example.org/assets/1?cert={cert['certificateNumber']}"
    assert cli.json("certificate", "verify", str(path))["ok"] is True
    monkeypatch.delenv("DATASEAL_BASE_URL")
    assert cli("certificate", "verify", str(path))[0] == 1  # the default address is not the certificate's


def test_a_refused_register_leaves_the_seal_as_registered(cli: Cli, folder: Path, tmp_path: Path) -> None:
    data = tmp_path / "files" / "t1.txt"
    data.parent.mkdir()
    data.write_text("one\ntwo\nthree\n")
    done = cli.json("register", str(data), "--title", "T1")
    seal_folder = tmp_path / "files" / "t1.txt.dataseal"
    assert sorted(p.name for p in seal_folder.iterdir()) == ["certificate.html", "certificate.json", "manifest.json"]
    assert done["tree_dump"] is None  # the stored tree is the registry's; the full dump only when asked
    before = {p.name: p.read_bytes() for p in seal_folder.iterdir()}
    code, out, err = cli("register", str(data), "--title", "T1-changed")
    assert code == 1 and out == ""
    assert f"is already registered as your asset {done['asset_id']}" in one_line(err)
    assert {p.name: p.read_bytes() for p in seal_folder.iterdir()} == before
    assert json.loads((seal_folder / "manifest.json").read_text())["title"] == "T1"
    proved = cli.json("prove", str(data), "--chunk", "0", "-o", str(tmp_path / "chunk0.json"))
    assert (proved["kind"], proved["asset_id"]) == ("evidence", done["asset_id"])
    code, out, err = cli("verify", str(data))
    assert code == 0 and out.startswith(f"REGISTERED  {data}: asset {done['asset_id']}")

    dumped = cli.json("register", str(data), "--title", "T1", "--tree-dump")
    assert dumped["tree_dump"] == str(seal_folder / "tree.json") and dumped["already_registered"] is True
    code, out, err = cli("check", dumped["tree_dump"], "--root", done["content_root"], "--json", data_dir=False)
    assert code == 0, err
    assert json.loads(out)["ok"] is True


def test_register_keeps_a_registered_assets_seal_unless_forced(
        cli: Cli, folder: Path, secret: Path, tmp_path: Path) -> None:
    """The newcomer walk's case: a salted table registered, then `register` again without --rows (and with a
    validity end long past): one line naming the asset and how the seals differ, the seal untouched and still
    proving rows; a refused first registration leaves no seal; --force replaces and says where the old one is."""
    data = write_table(tmp_path / "t.csv", 4)
    first = cli.json("register", str(data), "--rows", "--salt-secret", str(secret))
    seal_folder = tmp_path / "t.csv.dataseal"
    before = {p.name: p.read_bytes() for p in seal_folder.iterdir()}
    code, out, err = cli("register", str(data), "--valid-until", "2020-01-01")
    line = one_line(err)
    assert code == 1 and out == ""
    assert f"{seal_folder / 'manifest.json'} is the seal of your asset {first['asset_id']}, which sealed {data} as a " \
        "csv table by salted rows; this registration would seal it as a file in chunks of 1048576 bytes" in line
    assert line.endswith("[--rows; --salt-secret FILE; --chunk-size; --force]")
    code, out, err = cli("register", str(data), "--title", "t.csv")  # forgetting --rows on a rerun
    assert code == 1 and f"is the seal of your asset {first['asset_id']}" in one_line(err)
    assert {p.name: p.read_bytes() for p in seal_folder.iterdir()} == before
    proved = cli.json("prove", str(data), "--row", "1", "--salt-secret", str(secret), "-o", str(tmp_path / "r1.json"))
    assert (proved["kind"], proved["asset_id"]) == ("evidence", first["asset_id"])

    fresh = write_table(tmp_path / "new.csv", 3)
    code, out, err = cli("register", str(fresh), "--valid-until", "2020-01-01")
    line = one_line(err)
    assert code == 1 and "the validity end 2020-01-01" in line and "the chain would refuse the registration" in line
    assert line.endswith("[--valid-until WHEN]")
    assert not (tmp_path / "new.csv.dataseal").exists()

    code, out, err = cli("register", str(data), "--force")
    assert code == 0, err
    kept = folder / "manifests" / f"{first['manifest_hash']}.json"
    assert f"replaced asset {first['asset_id']}'s seal beside the data; its manifest is kept at {kept} (its " \
        f"certificate: dataseal certificate {first['asset_id']})" in err
    assert out.startswith("registered asset 2: Active") and kept.exists()
    assert json.loads((seal_folder / "manifest.json").read_text())["content"]["kind"] == "file"


def test_version_of_unchanged_data_says_it_is_the_asset_itself(
        cli: Cli, folder: Path, secret: Path, tmp_path: Path) -> None:
    data = write_table(tmp_path / "survey.csv", 4)
    first = cli.json("register", str(data), "--salt-secret", str(secret))
    code, out, err = cli("version", str(first["asset_id"]), str(data), "--salt-secret", str(secret))
    line = one_line(err)
    assert code == 1 and out == ""
    assert f"{data} (root {first['content_root']}) is asset {first['asset_id']} itself: a new version must differ " \
        "from it" in line
    assert "this manifest hashes to" not in line
    write_table(data, 4, changed=2)
    done = cli.json("version", str(first["asset_id"]), str(data), "--salt-secret", str(secret))
    assert done["parent_id"] == first["asset_id"]
    assert done["replaced_seal"]["asset_id"] == first["asset_id"]


def test_register_warns_when_the_certificate_opens_a_local_address(
        cli: Cli, folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default base URL (127.0.0.1:8000) is served by this machine only: the certificate's QR code would open
    nothing for the person it is handed to. A public base URL: no warning."""
    local = write_table(tmp_path / "local.csv", 3)
    code, out, err = cli("register", str(local), "--rows")
    assert code == 0, err
    assert "warning: the certificate's QR code opens http://127.0.0.1:8000, an address only this machine serves; " \
        "set DATASEAL_BASE_URL or --base-url to the registry's public address" in err
    monkeypatch.setenv("DATASEAL_BASE_URL", "https://registry.example.org")
    public = write_table(tmp_path / "public.csv", 4)
    code, out, err = cli("register", str(public), "--rows")
    assert code == 0, err
    assert "QR code opens" not in err
