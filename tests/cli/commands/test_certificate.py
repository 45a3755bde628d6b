"""`dataseal certificate`: issue a certificate from the embedded chain of a data folder (JSON, HTML, PDF) and
verify it, and every bad input as one line."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from dataseal.chain.connection import connect
from dataseal.chain.contracts.deploy import deploy_contracts
from dataseal.chain.contracts.deployed import DatasealContracts
from dataseal.chain.contracts.deployment import Deployment, save_deployment
from dataseal.chain.contracts.records import AssetStatusChange, Registration
from dataseal.chain.sending.sender import LocalSender
from dataseal.cli.commands.certificate import is_local_url
from dataseal.registry.manifest import Manifest
from tests.chain.conftest import open_embedded
from tests.cli.conftest import Cli, one_line
from tests.registry.certificates.conftest import TITLE, seal_manifest


@dataclass
class Folder:
    """A data folder whose embedded chain has dataseal deployed and asset 1 registered with ``manifest``."""

    manifest: Manifest
    manifest_path: Path
    owner: str
    key: LocalAccount
    deployment: Deployment

    def cancel(self, data_dir: Path) -> AssetStatusChange:
        """Cancel asset 1 as its owner (the chain opened here, then closed for the commands)."""
        from dataseal.chain.embedded.provider import EmbeddedProvider

        chain = open_embedded(data_dir, [])
        try:
            live = connect(EmbeddedProvider(chain))
            return DatasealContracts.bind(live.w3, self.deployment, LocalSender(self.key)).registry.cancel(1)
        finally:
            chain.close()


@pytest.fixture
def folder(cli: Cli, tmp_path: Path) -> Folder:
    from dataseal.chain.embedded.provider import EmbeddedProvider

    owner = Account.create()
    manifest = seal_manifest(tmp_path)
    manifest_path = tmp_path / "manifest.json"
    manifest_path.write_text(manifest.to_text(), encoding="utf-8")
    chain = open_embedded(cli.data_dir, [owner.address])
    try:
        live = connect(EmbeddedProvider(chain))
        sender = LocalSender(owner)
        deployment = deploy_contracts(live.w3, sender)
        save_deployment(cli.data_dir, deployment)
        DatasealContracts.bind(live.w3, deployment, sender).registry.register(Registration(
            bytes.fromhex(manifest.tree.root[2:]), manifest.hash, manifest.rights_bitmask, 2))
    finally:
        chain.close()  # the command opens the chain itself, in-process
    return Folder(manifest, manifest_path, owner.address, owner, deployment)


def test_issue_every_format_then_verify(cli: Cli, folder: Folder, tmp_path: Path) -> None:
    out = tmp_path / "cert.json"
    report = cli.json("certificate", "1", "--manifest", str(folder.manifest_path), "-o", str(out))
    assert report["file"] == str(out) and report["format"] == "json" and report["asset_id"] == 1
    assert report["title"] == TITLE and report["status"] == "Active"
    cert = json.loads(out.read_text(encoding="utf-8"))
    assert cert["certificateNumber"] == report["certificate_number"] and cert["classification"] == "important"
    assert cert["owner"] == folder.owner and cert["manifest"] == folder.manifest.to_json_data()
    assert report["verify_url"] == f"http://127.0.0.1:8000/assets/1?cert={cert['certificateNumber']}"

    code, stdout, err = cli("certificate", "1", "--manifest", str(folder.manifest_path), "--lang", "en",
                            "--base-url", "https://registry.example.org", "-o", str(tmp_path / "cert.html"))
    assert code == 0 and err == ""
    assert stdout.startswith(f"wrote {tmp_path / 'cert.html'}: certificate DS-") and f"({TITLE})" in stdout
    assert "verify at      https://registry.example.org/assets/1?cert=DS-" in stdout
    page = (tmp_path / "cert.html").read_text(encoding="utf-8")
    assert "Data Asset Registration Certificate" in page and "数据资产登记证书" not in page and "<svg" in page

    pdf = tmp_path / "cert.pdf"
    assert cli.json("certificate", "1", "--manifest", str(folder.manifest_path), "-o", str(pdf))["format"] == "pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert cert["certificateNumber"] in text and TITLE in text

    checked = cli.json("certificate", "verify", str(out))
    assert checked["ok"] is True and checked["mismatches"] == [] and checked["now"]["status"] == "Active"
    code, stdout, err = cli("certificate", "verify", str(out))
    assert code == 0 and err == ""
    assert stdout.startswith(f"OK  {out}: certificate {cert['certificateNumber']} of asset 1 matches the chain")
    assert "  not checked  issuedAt" in stdout and "  now          block " in stdout
    lines = stdout.splitlines()
    assert lines[1].startswith("  checked      certificateNumber (check character), registrationNumber (check "
                               "character), chainId, contract,")
    paragraph = lines[1:next(i for i, line in enumerate(lines) if line.startswith("  not checked"))]
    assert all(len(line) <= 110 for line in paragraph) and all(line.startswith(" " * 15) for line in paragraph[1:])
    assert sum(line.startswith("  checked") for line in lines) == 1 and "manifest (its hash" in stdout


def test_without_out_the_certificate_goes_to_stdout(cli: Cli, folder: Folder) -> None:
    code, stdout, err = cli("certificate", "1")
    assert code == 0 and err.count("\n") == 1 and err.startswith("warning: the certificate's QR code opens")
    cert = json.loads(stdout)
    assert cert["kind"] == "dataseal.certificate" and cert["title"] is None and cert["manifest"] is None
    assert not (cli.data_dir / "registry.sqlite").exists()  # no database is made to look a manifest up in


def test_a_tampered_certificate_names_its_fields_and_exits_1(cli: Cli, folder: Folder, tmp_path: Path) -> None:
    out = tmp_path / "cert.json"
    cli.json("certificate", "1", "--manifest", str(folder.manifest_path), "-o", str(out))
    cert = json.loads(out.read_text(encoding="utf-8"))
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({**cert, "owner": "0x" + "ab" * 20, "title": "别人的数据"}, ensure_ascii=False),
                      encoding="utf-8")
    code, stdout, err = cli("certificate", "verify", str(forged))
    assert code == 1
    assert stdout.startswith(f"TAMPERED  {forged}: certificate {cert['certificateNumber']} does not match the chain")
    assert f"  differs      owner: the certificate says 0x{'ab' * 20}, the chain {folder.owner}" in stdout
    assert f"  differs      title: the certificate says 别人的数据, the chain {TITLE}" in stdout
    assert one_line(err).startswith(f"dataseal: error: certificate {cert['certificateNumber']} does not match the "
                                    "chain: owner, title differ")
    code, stdout, err = cli("certificate", "verify", str(forged), "--json")
    assert code == 1 and [m["field"] for m in json.loads(stdout)["mismatches"]] == ["owner", "title"]
    # in a process of its own: the exit status and the one line
    result = subprocess.run([sys.executable, "-m", "dataseal.cli.main", "certificate", "verify", str(forged),
                             "--data-dir", str(cli.data_dir)], capture_output=True, text=True, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "owner, title differ" in result.stderr


def test_a_certificate_of_an_asset_cancelled_since_is_lapsed_and_exits_1(cli: Cli, folder: Folder,
                                                                         tmp_path: Path) -> None:
    out = tmp_path / "cert.json"
    cli.json("certificate", "1", "--manifest", str(folder.manifest_path), "-o", str(out))
    number = json.loads(out.read_text(encoding="utf-8"))["certificateNumber"]
    change = folder.cancel(cli.data_dir)
    since = (f"asset 1 became Cancelled at block {change.tx.block_number} (tx {change.tx.tx_hash}, by "
             f"{folder.owner})")
    code, stdout, err = cli("certificate", "verify", str(out))
    assert code == 1
    assert stdout.startswith(f"LAPSED  {out}: certificate {number} was true when issued, but asset 1 no longer "
                             "stands as it says\n")
    assert f"  since        {since}\n" in stdout and "differs" not in stdout and ": Cancelled, owner " in stdout
    assert one_line(err) == (f"dataseal: error: certificate {number} was true when issued, but asset 1 no longer "
                             f"stands as it says: {since}: the certificate states the chain as of its own block: ask "
                             "the registry for the public record, and for a new certificate if the asset still "
                             "stands")
    code, stdout, _ = cli("certificate", "verify", str(out), "--json")
    report = json.loads(stdout)
    assert code == 1 and report["ok"] is False and report["mismatches"] == []
    assert report["lapses"] == [{"what": "status", "description": since, "block_number": change.tx.block_number,
                                 "tx_hash": change.tx.tx_hash}]


def test_bad_input_is_one_line(cli: Cli, folder: Folder, tmp_path: Path) -> None:
    code, _, err = cli("certificate", "2")
    assert code == 1 and "asset 2 is not registered in AssetRegistry" in one_line(err)
    code, _, err = cli("certificate", "seven")
    assert code == 1 and one_line(err).startswith("dataseal: error: 'seven' is not an asset id")
    code, _, err = cli("certificate", "1", "-o", str(tmp_path / "cert.png"))
    assert code == 2 and "has no certificate format's extension: use .json, .html or .pdf" in one_line(err)
    existing = tmp_path / "taken.json"
    existing.write_text("mine")
    code, _, err = cli("certificate", "1", "-o", str(existing))
    assert code == 1 and "--force" in one_line(err) and existing.read_text() == "mine"
    assert cli("certificate", "1", "-o", str(existing), "--force")[0] == 0 and existing.read_text() != "mine"
    other = tmp_path / "other.json"
    other.write_text(seal_manifest(tmp_path, "别的").to_text(), encoding="utf-8")
    code, _, err = cli("certificate", "1", "--manifest", str(other))
    assert code == 1 and "the manifest given is not asset 1's" in one_line(err) and "[--manifest FILE]" in err
    code, _, err = cli("certificate", "1", "--lang", "fr")
    assert code == 1 and "unknown certificate language 'fr'" in one_line(err) and "[--lang zh|en|zh-en]" in err
    code, _, err = cli("certificate", "1", "--base-url", "registry.example.org")
    assert code == 1 and "is not an http(s) URL" in one_line(err) and "[--base-url URL or DATASEAL_BASE_URL]" in err
    code, _, err = cli("certificate", "verify")
    assert code == 2 and "give the certificate's JSON file" in one_line(err)
    code, _, err = cli("certificate", "1", str(other))
    assert code == 2 and "issuing takes one asset id" in one_line(err)
    code, _, err = cli("certificate", "verify", str(other))
    assert code == 1 and "is not a dataseal certificate: its kind is 'dataseal.manifest'" in one_line(err)
    code, _, err = cli("certificate", "verify", str(tmp_path / "missing.json"))
    assert code == 1 and "does not exist" in one_line(err)


@pytest.mark.parametrize("name", ["cert.pdf", "cert.json", "cert.html"])
def test_an_output_in_a_missing_folder_is_one_line_naming_the_folder(cli: Cli, folder: Folder, tmp_path: Path,
                                                                     name: str) -> None:
    out = tmp_path / "nonexistent" / "dir" / name
    code, stdout, err = cli("certificate", "1", "-o", str(out))
    line = one_line(err)
    assert (code, stdout) == (1, "")
    assert line.startswith(f"dataseal: error: cannot write output file {out}: the folder {out.parent} does not exist")
    assert "create the folder first" in line and ".tmp" not in line and "[-o/--out FILE]" in err
    assert not (tmp_path / "nonexistent").exists()


def test_a_folder_without_a_chain_is_one_line(cli: Cli) -> None:
    code, out, err = cli("certificate", "1")
    assert code == 1 and out == "" and "no embedded chain in " in one_line(err)


def test_help_teaches(cli: Cli) -> None:
    code, out, _ = cli("certificate", "--help", data_dir=False)
    assert code == 0 and "Examples" in out and "dataseal certificate verify cert.json --json" in out
    assert "dataseal certificate 7 --manifest survey.csv.dataseal/manifest.json -o cert.pdf" in out


def _issue_json(cli: Cli, folder: Folder, tmp_path: Path) -> dict[str, Any]:
    out = tmp_path / "cert.json"
    cli.json("certificate", "1", "--manifest", str(folder.manifest_path), "-o", str(out))
    issued: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return issued


@pytest.mark.parametrize(("asset", "message"), [
    (str(2**256), f"'{2**256}' is not an asset id: ids are whole numbers from 1 to 2**256 - 1"),
    ("9" * 5000, "is not an asset id: ids are whole numbers from 1 to 2**256 - 1"),
    ("²", "'²' is not an asset id"),
])
def test_an_asset_id_the_chain_cannot_hold_is_one_line(cli: Cli, folder: Folder, tmp_path: Path, asset: str,
                                                       message: str) -> None:
    out = tmp_path / "x.json"
    code, stdout, err = cli("certificate", asset, "-o", str(out))
    assert (code, stdout) == (1, "") and message in one_line(err) and not out.exists()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("assetId", 2**256, "assetId: Input should be less than or equal to " + str(2**256 - 1)),
    ("asOf.blockNumber", 2**63, "asOf.blockNumber: Input should be less than or equal to " + str(2**63 - 1)),
    ("registration.blockNumber", 2**63, "registration.blockNumber: Input should be less than or equal to"),
    ("parentId", 2**256, "parentId: Input should be less than or equal to"),
])
def test_a_certificate_with_numbers_the_chain_cannot_hold_is_one_line(cli: Cli, folder: Folder, tmp_path: Path,
                                                                      field: str, value: int, message: str) -> None:
    cert = _issue_json(cli, folder, tmp_path)
    *parents, last = field.split(".")
    target = cert
    for key in parents:
        target = target[key]
    target[last] = value
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(cert, ensure_ascii=False), encoding="utf-8")
    code, stdout, err = cli("certificate", "verify", str(forged))
    assert (code, stdout) == (1, "") and message in one_line(err) and "is invalid" in err


def test_a_certificate_of_the_last_block_a_node_takes_is_named_tampered(cli: Cli, folder: Folder,
                                                                        tmp_path: Path) -> None:
    cert = _issue_json(cli, folder, tmp_path)
    cert["asOf"]["blockNumber"] = 2**63 - 1
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(cert, ensure_ascii=False), encoding="utf-8")
    code, stdout, err = cli("certificate", "verify", str(forged))
    assert code == 1 and f"differs      asOf.blockNumber: the certificate says {2**63 - 1}, the chain " in stdout
    assert "has no block" in stdout and "asOf.blockNumber differ" in one_line(err)


def test_verify_names_a_verify_url_off_the_base_url(cli: Cli, folder: Folder, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    cert = _issue_json(cli, folder, tmp_path)
    number = cert["certificateNumber"]
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({**cert, "verifyUrl": f"https://evil.example/assets/1?cert={number}"},
                                 ensure_ascii=False), encoding="utf-8")
    code, stdout, err = cli("certificate", "verify", str(forged))
    assert code == 1 and "verifyUrl differ" in one_line(err)
    assert (f"  differs      verifyUrl: the certificate says https://evil.example/assets/1?cert={number}, the chain "
            f"http://127.0.0.1:8000/assets/1?cert={number} (the public record of this asset and certificate is "
            "expected under http://127.0.0.1:8000: the QR code opens another address)") in stdout
    assert stdout.count("verifyUrl") == 2 and "not checked  verifyUrl" not in stdout  # differs, and checked once
    # the registry's public address, from --base-url or DATASEAL_BASE_URL, for issuing and verifying alike
    public = tmp_path / "public.json"
    monkeypatch.setenv("DATASEAL_BASE_URL", "https://registry.example.org")
    assert cli.json("certificate", "1", "-o", str(public))["verify_url"].startswith(
        "https://registry.example.org/assets/1?cert=DS-")
    checked = cli.json("certificate", "verify", str(public))
    assert checked["ok"] and "verifyUrl (under https://registry.example.org)" in checked["checked"]
    assert cli("certificate", "verify", str(forged))[0] == 1
    code, stdout, _ = cli("certificate", "verify", str(public), "--base-url", "http://127.0.0.1:8000")
    assert code == 1 and "  differs      verifyUrl: " in stdout
    monkeypatch.delenv("DATASEAL_BASE_URL")
    assert cli("certificate", "verify", str(public), "--base-url", "https://registry.example.org/")[0] == 0
    code, stdout, err = cli("certificate", "verify", str(public), "--base-url", "registry.example.org")
    assert (code, stdout) == (1, "") and "the verify base URL 'registry.example.org' is not an http" in one_line(err)
    assert "[--base-url URL or DATASEAL_BASE_URL]" in err


def test_json_output_keeps_chinese_as_it_is(cli: Cli, folder: Folder, tmp_path: Path) -> None:
    code, stdout, _ = cli("certificate", "1", "--manifest", str(folder.manifest_path), "-o", str(tmp_path / "c.json"),
                          "--json")
    assert code == 0 and f'"title": "{TITLE}"' in stdout and "\\u" not in stdout
    forged = tmp_path / "forged.json"
    cert = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    forged.write_text(json.dumps({**cert, "title": "别人的数据"}, ensure_ascii=False), encoding="utf-8")
    code, stdout, _ = cli("certificate", "verify", str(forged), "--json")
    assert code == 1 and '"certificate": "别人的数据"' in stdout and f'"chain": "{TITLE}"' in stdout


def test_a_qr_code_that_opens_this_machine_is_warned_about(cli: Cli, folder: Folder, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATASEAL_BASE_URL", raising=False)
    code, stdout, err = cli("certificate", "1", "-o", str(tmp_path / "c.pdf"))
    assert code == 0 and stdout.startswith(f"wrote {tmp_path / 'c.pdf'}")
    assert err.count("\n") == 1 and err.startswith(
        "warning: the certificate's QR code opens http://127.0.0.1:8000/assets/1?cert=DS-")
    assert ("an address only this machine serves; set DATASEAL_BASE_URL or --base-url to the registry's public "
            "address") in err
    code, stdout, err = cli("certificate", "1", "--base-url", "http://localhost:9000", "--json")
    assert code == 0 and json.loads(stdout)["kind"] == "dataseal.certificate"  # stdout stays the document
    assert "QR code opens http://localhost:9000/assets/1" in err
    assert cli("certificate", "1", "--base-url", "https://registry.example.org", "--json")[2] == ""
    monkeypatch.setenv("DATASEAL_BASE_URL", "https://registry.example.org")
    assert cli("certificate", "1", "-o", str(tmp_path / "d.json"))[2] == ""


@pytest.mark.parametrize(("url", "local"), [
    ("http://127.0.0.1:8000/assets/1", True), ("http://127.0.0.2/", True), ("http://localhost/", True),
    ("http://app.localhost:8000/", True), ("http://[::1]:8000/", True), ("https://registry.example.org/", False),
    ("http://10.0.0.7:8000/", False), ("https://localhost.example.org/", False),
])
def test_is_local_url(url: str, local: bool) -> None:
    assert is_local_url(url) is local
