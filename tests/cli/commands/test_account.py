"""`dataseal account new|import|list` through the real CLI entry point."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from eth_account import Account

from dataseal.chain.accounts.keystore import LIGHT_SCRYPT_N
from tests.cli.conftest import Cli, one_line
from tests.support.devices import null_device

KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
ADDRESS = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"


def test_new_then_list(cli: Cli, password_file: Path) -> None:
    made = cli.json("account", "new", "--password-file", str(password_file), "--light-kdf")
    path = Path(made["path"])
    assert path.parent == cli.data_dir / "keystore" and path.name.endswith(made["address"][2:].lower())
    document = json.loads(path.read_text())
    assert document["crypto"]["kdfparams"]["n"] == LIGHT_SCRYPT_N
    assert Account.from_key(Account.decrypt(document, "correct horse battery staple")).address == made["address"]
    listed = cli.json("account", "list")
    assert listed["accounts"] == [{"address": made["address"], "path": made["path"]}]
    code, out, err = cli("account", "list")
    assert code == 0 and out == f"{made['address']}  {made['path']}\n"


def test_new_human_output_and_env_password(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATASEAL_PASSWORD", "from the environment")
    code, out, err = cli("account", "new", "--light-kdf")
    assert code == 0
    address = out.strip()
    assert address.startswith("0x") and "created " in err
    (entry,) = json.loads(cli("account", "list", "--json")[1])["accounts"]
    assert Account.decrypt(json.loads(Path(entry["path"]).read_text()), "from the environment")


def test_new_without_any_password_source_is_one_line(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal: no prompt
    code, out, err = cli("account", "new")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("dataseal: error: no password for the new account")
    assert "--password-file" in err and "DATASEAL_PASSWORD" in err and "Traceback" not in err
    code, _, err = cli("--verbose", "account", "new")
    assert code == 1 and "Traceback" in err and "PasswordRequired" in err


def test_import_a_key_from_stdin_never_shows_it(cli: Cli, password_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(KEY + "\n"))
    code, out, err = cli("account", "import", "-", "--password-file", str(password_file), "--light-kdf")
    assert (code, out.strip()) == (0, ADDRESS)
    assert KEY[2:] not in out + err
    monkeypatch.setattr(sys, "stdin", io.StringIO(KEY))
    code, out, err = cli("account", "import", "-", "--password-file", str(password_file), "--light-kdf")
    assert code == 1 and f"already holds {ADDRESS}" in err and KEY[2:] not in out + err


def test_import_a_bad_key_never_echoes_it(cli: Cli, password_file: Path, tmp_path: Path) -> None:
    bad = "0x" + "zz" * 32
    key_file = tmp_path / "key.txt"
    key_file.write_text(bad)
    code, out, err = cli("account", "import", str(key_file), "--password-file", str(password_file))
    assert code == 1 and "not hex digits" in err and "zzzz" not in err


def test_import_a_keystore_file(cli: Cli, password_file: Path, tmp_path: Path) -> None:
    exported = tmp_path / "UTC--exported"
    exported.write_text(json.dumps(Account.encrypt(KEY, "geth password", kdf="scrypt", iterations=LIGHT_SCRYPT_N)))
    other = tmp_path / "other-password.txt"
    other.write_text("geth password\n")
    code, _, err = cli("account", "import", str(exported), "--password-file", str(password_file))
    assert code == 1 and "the password does not open" in err
    imported = cli.json("account", "import", str(exported), "--password-file", str(other))
    assert imported["address"] == ADDRESS
    assert json.loads(Path(imported["path"]).read_text())["crypto"] == json.loads(exported.read_text())["crypto"]
    code, _, err = cli("account", "import", str(tmp_path / "missing"), "--password-file", str(other))
    assert code == 1 and "does not exist" in err


def test_help_teaches_with_examples(cli: Cli) -> None:
    for command in (
        ["account", "--help"],
        ["account", "new", "--help"],
        ["account", "import", "--help"],
        ["account", "list", "--help"],
    ):
        code, out, _ = cli(*command, data_dir=False)
        assert code == 0 and "Example" in out and "dataseal account" in out
    code, out, _ = cli("account", "import", "--help", data_dir=False)
    assert "never accepted as an argument" in out


def test_a_keystore_in_a_file_instead_of_a_folder(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    not_a_folder = tmp_path / "afile"
    not_a_folder.write_text("x")
    monkeypatch.setenv("DATASEAL_PASSWORD", "pw")
    code, _, err = cli("account", "new", "--light-kdf", "--data-dir", str(not_a_folder), data_dir=False)
    assert code == 1
    assert "cannot write the keystore file" in one_line(err) and "Not a directory" in err


def test_a_keystore_asking_for_an_extreme_kdf_is_refused_at_once(cli: Cli, tmp_path: Path, password_file: Path) -> None:
    # pbkdf2 c = 10**9 ran for 242 s, deaf to Ctrl-C: refused before the KDF runs.
    document = Account.encrypt(b"\x11" * 32, "correct horse battery staple", kdf="pbkdf2", iterations=1000)
    document["crypto"]["kdfparams"]["c"] = 10**9
    path = tmp_path / "extreme.json"
    path.write_text(json.dumps(document))
    code, out, err = cli("account", "import", str(path), "--password-file", str(password_file))
    assert (code, out) == (1, "")
    assert one_line(err) == (
        f"dataseal: error: {path}: its pbkdf2 parameter c is 1000000000; dataseal unlocks c from 1 to 10,000,000 (geth "
        "writes 262,144): the file was altered or made with extreme settings: export the key again with standard "
        "ones, or import the raw private key"
    )


def test_a_password_file_or_key_file_that_never_ends_is_refused(cli: Cli, tmp_path: Path) -> None:
    device = null_device(tmp_path)  # like /dev/zero, a device; made here (tests/support/devices.py says why)
    code, _, err = cli("account", "new", "--password-file", str(device))
    assert code == 1 and one_line(err) == (
        f"dataseal: error: password file {device} is not a regular file (it is a character device): give the path "
        "of a regular file [--password-file FILE or DATASEAL_PASSWORD]"
    )
    code, _, err = cli("account", "import", str(device))
    assert code == 1 and one_line(err) == (
        f"dataseal: error: keystore file {device} is not a regular file (it is a character device): give the path "
        "of a regular file"
    )
