"""Password sources: tried in the order the caller gives, the first with a password wins, and an error
names every source tried; the password files dataseal reads and writes."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from dataseal.chain.accounts.keystore import KeystoreError, PasswordRequired
from dataseal.chain.accounts.passwords import (
    MAX_PASSWORD_FILE_BYTES,
    GivenPassword,
    PasswordFile,
    create_password_file,
    first_password,
    given_sources,
    read_password_file,
)
from dataseal.errors import ErrorKind
from tests.support.devices import null_device


class Never:
    """A source that must not be asked."""

    name = "a source that must not be asked"

    def read(self, purpose: str) -> SecretStr | None:
        raise AssertionError("must not be asked")


class Nothing:
    name = "an empty source"

    def read(self, purpose: str) -> SecretStr | None:
        return None


def test_the_first_source_with_a_password_wins(tmp_path: Path) -> None:
    file = tmp_path / "pw.txt"
    file.write_text("from-file\nsecond line ignored\n")
    secret, source = first_password([GivenPassword(SecretStr("given")), PasswordFile(file), Never()], purpose="x")
    assert secret.get_secret_value() == "given" and isinstance(source, GivenPassword)
    secret, source = first_password([Nothing(), PasswordFile(file), Never()], purpose="x")
    assert secret.get_secret_value() == "from-file" and source == PasswordFile(file)
    missing = PasswordFile(tmp_path / "generated.password", optional=True)
    secret, source = first_password([missing, GivenPassword(SecretStr("last"))], purpose="x")
    assert secret.get_secret_value() == "last"


def test_the_settings_name_a_file_before_a_password(tmp_path: Path) -> None:
    file = tmp_path / "pw.txt"
    assert given_sources(SecretStr("pw"), file) == [PasswordFile(file)]
    assert given_sources(SecretStr("pw"), None) == [GivenPassword(SecretStr("pw"))]
    assert given_sources(None, None) == []


def test_no_password_names_every_source_tried(tmp_path: Path) -> None:
    with pytest.raises(PasswordRequired) as exc:
        first_password([Nothing(), PasswordFile(tmp_path / "gen", optional=True)], purpose="account 0xabc")
    assert exc.value.message == f"no password for account 0xabc (tried: an empty source, the password file " \
        f"{tmp_path / 'gen'})"
    assert exc.value.hint == "give the password" and exc.value.options == ("password",)
    with pytest.raises(PasswordRequired, match=r"tried: no source"):
        first_password([], purpose="x")


def test_password_file_errors(tmp_path: Path) -> None:
    with pytest.raises(PasswordRequired, match="does not exist") as missing:
        read_password_file(tmp_path / "nope")
    assert missing.value.kind is ErrorKind.NOT_FOUND
    with pytest.raises(PasswordRequired, match="does not exist"):
        first_password([PasswordFile(tmp_path / "nope")], purpose="x")  # not optional: an error, not a skip
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(PasswordRequired, match="is empty"):
        read_password_file(tmp_path / "empty")
    with pytest.raises(PasswordRequired, match="the password given for x is empty"):
        first_password([GivenPassword(SecretStr(""))], purpose="x")


def test_create_password_file_is_private_and_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "data" / "operator.password"
    secret = create_password_file(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert read_password_file(target).get_secret_value() == secret.get_secret_value()
    assert len(secret.get_secret_value()) >= 24
    with pytest.raises(KeystoreError, match="already exists") as again:
        create_password_file(target)
    assert again.value.kind is ErrorKind.CONFLICT
    assert secret.get_secret_value() not in repr(secret)
    assert "pw" not in repr(GivenPassword(SecretStr("pw-secret")))


def test_a_password_file_is_a_small_regular_file(tmp_path: Path) -> None:
    device = null_device(tmp_path)  # as /dev/zero, which read whole never ends (tests/support/devices.py)
    with pytest.raises(PasswordRequired) as caught:
        read_password_file(device)
    assert str(caught.value) == (
        f"password file {device} is not a regular file (it is a character device): give the path of a regular file"
    )
    assert caught.value.options == ("password",)
    big = tmp_path / "big"
    big.write_text("x" * MAX_PASSWORD_FILE_BYTES + "\n")
    with pytest.raises(PasswordRequired, match=f"password file {big} is larger than 4,096 bytes"):
        read_password_file(big)
    big.write_text("x" * (MAX_PASSWORD_FILE_BYTES - 1) + "\n")
    assert read_password_file(big).get_secret_value() == "x" * (MAX_PASSWORD_FILE_BYTES - 1)
