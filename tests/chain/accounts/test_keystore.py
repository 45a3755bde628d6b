"""Keystores: V3 files geth and MetaMask read, passwords from every source, keys never shown."""
from __future__ import annotations

import json
import os
import re
import stat
import traceback
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from pydantic import SecretStr

from dataseal.chain.accounts.keystore import (
    LIGHT_SCRYPT_N,
    MAX_KEYFILE_BYTES,
    MAX_PBKDF2_C,
    MAX_SCRYPT_N,
    AccountExists,
    AccountNotFound,
    InvalidKeyfile,
    InvalidPrivateKey,
    Keystore,
    KeystoreError,
    PasswordRequired,
    WrongPassword,
    keyfile_name,
)
from dataseal.errors import ErrorKind

KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
KEY_ADDRESS = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"


@pytest.fixture
def keystore(tmp_path: Path) -> Keystore:
    return Keystore(tmp_path / "keystore", scrypt_n=LIGHT_SCRYPT_N)


def test_create_writes_a_geth_named_v3_file_readable_only_by_the_owner(keystore: Keystore) -> None:
    address = keystore.create("correct horse")
    (entry,) = keystore.list()
    assert entry.address == address
    assert re.fullmatch(r"UTC--\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{9}Z--[0-9a-f]{40}", entry.path.name)
    assert entry.path.name.endswith(address[2:].lower())
    assert stat.S_IMODE(entry.path.stat().st_mode) == 0o600
    document = json.loads(entry.path.read_text())
    assert document["version"] == 3
    assert document["address"] == address[2:].lower()
    assert document["crypto"]["kdf"] == "scrypt"
    assert document["crypto"]["kdfparams"]["n"] == LIGHT_SCRYPT_N
    assert document["crypto"]["cipher"] == "aes-128-ctr"
    # the file is a plain V3 keystore: eth-account (as geth/MetaMask) opens it with the password alone
    assert Account.from_key(Account.decrypt(document, "correct horse")).address == address


def test_unlock_returns_a_signing_account(keystore: Keystore) -> None:
    address = keystore.create(SecretStr("pw-1"))
    account = keystore.unlock(address.lower(), "pw-1")
    assert account.address == address
    signed = account.sign_transaction(
        {"to": address, "value": 0, "gas": 21000, "maxFeePerGas": 2, "maxPriorityFeePerGas": 1, "nonce": 0,
         "chainId": 1}
    )
    assert Account.recover_transaction(signed.raw_transaction) == address


def test_wrong_password_is_a_distinct_error_that_names_the_file(keystore: Keystore) -> None:
    address = keystore.create("right")
    with pytest.raises(WrongPassword, match=r"the password does not open .*UTC--") as wrong:
        keystore.unlock(address, "wrong")
    assert wrong.value.hint == "check the password (a password file holds it on its first line)"
    assert wrong.value.options == ("password",)


def test_unknown_account_lists_what_is_there(keystore: Keystore) -> None:
    known = keystore.create("pw")
    with pytest.raises(AccountNotFound) as exc:
        keystore.unlock("0x" + "11" * 20, "pw")
    assert "0x1111111111111111111111111111111111111111" in str(exc.value)
    assert known in str(exc.value)
    assert exc.value.hint == "create or import the account, or use the data folder that holds it"
    assert exc.value.options == ("account", "data_dir") and exc.value.kind is ErrorKind.NOT_FOUND
    with pytest.raises(AccountNotFound, match="neither an address"):
        keystore.find("not-an-account")


def test_import_private_key_round_trips_and_refuses_duplicates(keystore: Keystore) -> None:
    assert keystore.import_private_key(KEY, "pw") == KEY_ADDRESS
    assert keystore.import_private_key  # bound
    assert bytes(keystore.unlock(KEY_ADDRESS, "pw").key).hex() == KEY[2:]
    with pytest.raises(AccountExists, match=f"already holds {KEY_ADDRESS}"):
        keystore.import_private_key(KEY[2:].upper(), "pw")


@pytest.mark.parametrize(
    ("key", "needle"),
    [
        ("0x1234", "got 4 characters"),
        ("zz" * 32, "not hex digits"),
        ("00" * 32, "not a valid secp256k1 key"),
        ("ff" * 32, "not a valid secp256k1 key"),
    ],
)
def test_a_bad_private_key_is_refused_without_echoing_it(keystore: Keystore, key: str, needle: str) -> None:
    with pytest.raises(InvalidPrivateKey) as exc:
        keystore.import_private_key(key, "pw")
    assert needle in str(exc.value)
    assert key not in str(exc.value) and key[2:] not in str(exc.value)
    # nor in a chained exception a --verbose traceback would show
    shown = "".join(traceback.format_exception(exc.value)).lower()
    assert key[-20:].lower() not in shown


def test_the_private_key_never_appears_in_repr_or_errors(keystore: Keystore) -> None:
    keystore.import_private_key(SecretStr(KEY), "pw")
    account = keystore.unlock(KEY_ADDRESS, "pw")
    for text in (repr(account), str(account), repr(keystore), repr(keystore.list())):
        assert KEY[2:] not in text.lower()
    with pytest.raises(WrongPassword) as exc:
        keystore.unlock(KEY_ADDRESS, "nope")
    assert KEY[2:] not in str(exc.value)
    for path in keystore.folder.iterdir():
        assert KEY[2:] not in path.read_text().lower()


def test_import_file_keeps_a_geth_file_byte_compatible(tmp_path: Path, keystore: Keystore) -> None:
    # a file as geth writes it: pbkdf2 would be MetaMask's older choice, "Crypto" capitalised is geth's older one
    document = Account.encrypt(KEY, "geth-pw", kdf="pbkdf2", iterations=1024)
    document["Crypto"] = document.pop("crypto")
    source = tmp_path / "exported.json"
    source.write_text(json.dumps(document))
    assert keystore.import_file(source, "geth-pw") == KEY_ADDRESS
    (entry,) = keystore.list()
    stored = json.loads(entry.path.read_text())
    assert stored["Crypto"] == document["Crypto"]  # same cipher text and KDF parameters
    assert keystore.unlock(KEY_ADDRESS, "geth-pw").address == KEY_ADDRESS
    with pytest.raises(AccountExists):
        keystore.import_file(source, "geth-pw")


def test_import_file_checks_the_password_and_the_format(tmp_path: Path, keystore: Keystore) -> None:
    source = tmp_path / "k.json"
    source.write_text(json.dumps(Account.encrypt(KEY, "pw", kdf="scrypt", iterations=LIGHT_SCRYPT_N)))
    with pytest.raises(WrongPassword):
        keystore.import_file(source, "other")
    assert keystore.list() == []
    (tmp_path / "notes.json").write_text('{"hello": 1}')
    with pytest.raises(InvalidKeyfile, match="no 'crypto' section"):
        keystore.import_file(tmp_path / "notes.json", "pw")
    (tmp_path / "garbage").write_text("not json")
    with pytest.raises(InvalidKeyfile, match="not a keystore file"):
        keystore.import_file(tmp_path / "garbage", "pw")
    with pytest.raises(InvalidKeyfile, match="does not exist"):
        keystore.import_file(tmp_path / "missing.json", "pw")
    tampered = json.loads(source.read_text())
    tampered["address"] = "11" * 20
    source.write_text(json.dumps(tampered))
    with pytest.raises(InvalidKeyfile, match="declares address 0x1111"):
        keystore.import_file(source, "pw")


def test_list_ignores_other_files_and_default_needs_exactly_one(keystore: Keystore) -> None:
    assert keystore.list() == []
    with pytest.raises(AccountNotFound, match="holds no account"):
        keystore.default()
    first = keystore.create("pw")
    (keystore.folder / "README").write_text("not a key")
    (keystore.folder / ".partial.tmp").write_text("{")
    assert keystore.default().address == first
    second = keystore.create("pw")
    assert {e.address for e in keystore.list()} == {first, second}
    with pytest.raises(KeystoreError, match="holds 2 accounts .*: choose one") as two:
        keystore.default()
    assert two.value.options == ("account",)


def test_find_accepts_a_keystore_file_path(keystore: Keystore) -> None:
    address = keystore.create("pw")
    (entry,) = keystore.list()
    assert keystore.find(str(entry.path)).address == address
    assert keystore.unlock(str(entry.path), "pw").address == address


def test_empty_password_is_refused_for_new_accounts(keystore: Keystore) -> None:
    with pytest.raises(PasswordRequired, match="empty password"):
        keystore.create("")


def test_keyfile_name_matches_geth() -> None:
    from datetime import UTC, datetime

    when = datetime(2016, 3, 22, 12, 57, 55, 920751, tzinfo=UTC)
    assert keyfile_name(KEY_ADDRESS, when) == (
        "UTC--2016-03-22T12-57-55.920751000Z--2c7536e3605d9c16a7a3d7b1898e529396a65c23"
    )


# ------------------------------------------------------------------------------ password sources




def _altered(document: dict[str, Any], **params: Any) -> dict[str, Any]:
    altered = json.loads(json.dumps(document))
    altered["crypto"]["kdfparams"].update(params)
    return altered


PBKDF2 = Account.encrypt(bytes.fromhex(KEY[2:]), "pw", kdf="pbkdf2", iterations=1000)
SCRYPT = Account.encrypt(bytes.fromhex(KEY[2:]), "pw", kdf="scrypt", iterations=2)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        # Each would cost minutes or gigabytes, or is a parameter no V3 file has; each is refused before any KDF runs.
        (_altered(PBKDF2, c=MAX_PBKDF2_C + 1), "its pbkdf2 parameter c is 10000001; dataseal unlocks c from 1 to "
         "10,000,000 (geth writes 262,144)"),
        (_altered(PBKDF2, c=10**9), "its pbkdf2 parameter c is 1000000000"),
        (_altered(PBKDF2, c=True), "its pbkdf2 parameter c is True"),
        (_altered(PBKDF2, c="1000"), "its pbkdf2 parameter c is '1000'"),
        (_altered(PBKDF2, prf="hmac-sha512"), "its pbkdf2 parameter prf is 'hmac-sha512'; a V3 keystore uses "
         "'hmac-sha256'"),
        (_altered(PBKDF2, dklen=16), "its pbkdf2 parameter dklen is 16; dataseal unlocks dklen from 32 to 64"),
        (_altered(SCRYPT, n=MAX_SCRYPT_N * 2), "its scrypt parameter n is 2097152; dataseal unlocks n from 2 to "
         "1,048,576 (a power of two; geth writes 262,144)"),
        (_altered(SCRYPT, n=3), "its scrypt parameter n is 3, not a power of two"),
        (_altered(SCRYPT, r=33), "its scrypt parameter r is 33; dataseal unlocks r from 1 to 32"),
        (_altered(SCRYPT, n=MAX_SCRYPT_N, r=9), "its scrypt parameter r is 9; dataseal unlocks r from 1 to 8 (and "
         "128 * n * r bytes of memory at most 1 GiB; geth writes 8)"),
        (_altered(SCRYPT, p=17), "its scrypt parameter p is 17; dataseal unlocks p from 1 to 16"),
        (_altered(SCRYPT, n=1 << 18, p=5), "its scrypt parameter p is 5; dataseal unlocks p from 1 to 4 (and n * r * "
         "p at most 8,388,608; geth writes 1)"),
    ],
)
def test_kdf_parameters_beyond_the_bounds_are_refused_naming_file_and_parameter(
    tmp_path: Path, keystore: Keystore, document: dict[str, Any], message: str
) -> None:
    path = tmp_path / "UTC--altered"
    path.write_text(json.dumps(document))
    for attempt in (lambda: keystore.import_file(path, "pw"), lambda: Keystore(tmp_path).unlock(str(path), "pw")):
        with pytest.raises(InvalidKeyfile) as caught:
            attempt()
        assert caught.value.message.startswith(f"{path}: {message}")
        assert "export the key again" in caught.value.hint


def test_geths_standard_kdf_parameters_are_unlocked(tmp_path: Path, keystore: Keystore) -> None:
    path = tmp_path / "UTC--pbkdf2"
    path.write_text(json.dumps(Account.encrypt(bytes.fromhex(KEY[2:]), "pw", kdf="pbkdf2", iterations=262_144)))
    assert keystore.import_file(path, "pw") == KEY_ADDRESS


def test_a_keystore_file_that_is_not_a_regular_file_or_too_large_is_refused(tmp_path: Path, keystore: Keystore) -> None:
    big = tmp_path / "big.json"
    big.write_text(json.dumps({**PBKDF2, "padding": " " * MAX_KEYFILE_BYTES}))
    with pytest.raises(InvalidKeyfile, match="is larger than 65,536 bytes"):
        keystore.import_file(big, "pw")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(InvalidKeyfile, match="keystore file .*fifo is not a regular file \\(it is a FIFO\\)"):
        keystore.import_file(fifo, "pw")
