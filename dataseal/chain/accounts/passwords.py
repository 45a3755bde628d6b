"""Where a keystore password comes from: sources the caller passes in.

The library never prompts and never reads the environment for a password: the front door knows
what it has (a setting read from ``DATASEAL_PASSWORD``, a password file, a terminal to prompt on,
an HTTP request that carries none) and hands over a list of sources, tried in order.
:func:`first_password` takes the first that has a password and says which sources it tried when
none has.

A source is anything with a ``name`` (how a message names it) and a ``read(purpose)`` that returns
the password, or None when this source has none to give.
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr

from dataseal.chain.accounts.keystore import KeystoreError, PasswordRequired
from dataseal.chain.files import read_limited, write_atomic
from dataseal.errors import ErrorKind


class PasswordSource(Protocol):
    """Gives a password, or None when it has none."""

    @property
    def name(self) -> str: ...

    def read(self, purpose: str) -> SecretStr | None: ...


@dataclass(frozen=True)
class GivenPassword:
    """A password the caller already has (a setting, a request field). An empty one is refused."""

    secret: SecretStr = field(repr=False)
    name: str = "the password given"

    def read(self, purpose: str) -> SecretStr:
        if not self.secret.get_secret_value():
            raise PasswordRequired(f"{self.name} for {purpose} is empty", hint="give the password",
                                   options=("password",))
        return self.secret


@dataclass(frozen=True)
class PasswordFile:
    """The first line of a file (geth's convention). ``optional``: a missing file gives None instead
    of an error (the password a node generated, which may not be there)."""

    path: Path
    optional: bool = False

    @property
    def name(self) -> str:
        return f"the password file {self.path}"

    def read(self, purpose: str) -> SecretStr | None:
        if self.optional and not self.path.exists():
            return None
        return read_password_file(self.path, purpose=purpose)


def given_sources(password: SecretStr | None, password_file: Path | None) -> list[PasswordSource]:
    """The sources a caller's settings name: the password file if there is one, else the password."""
    if password_file is not None:
        return [PasswordFile(Path(password_file))]
    if password is not None:
        return [GivenPassword(password)]
    return []


def first_password(sources: Sequence[PasswordSource], *, purpose: str) -> tuple[SecretStr, PasswordSource]:
    """The password of the first source that has one, and that source.

    Raises :class:`PasswordRequired` naming the sources tried when none has one.
    """
    for source in sources:
        secret = source.read(purpose)
        if secret is not None:
            return secret, source
    tried = ", ".join(source.name for source in sources) or "no source"
    raise PasswordRequired(f"no password for {purpose} (tried: {tried})", hint="give the password",
                           options=("password",))


#: The most bytes a password file may hold (its first line is the password).
MAX_PASSWORD_FILE_BYTES = 4096


def read_password_file(path: Path | str, *, purpose: str = "the keystore") -> SecretStr:
    """The password stored in ``path``: its first line without the line break (geth's convention); a
    regular file of at most :data:`MAX_PASSWORD_FILE_BYTES`."""
    file = Path(path)
    try:
        text = read_limited(file, MAX_PASSWORD_FILE_BYTES, what="password file", error=PasswordRequired,
                            options=("password",)).decode("utf-8")
    except FileNotFoundError:
        raise PasswordRequired(f"password file {file} does not exist",
                               hint="create it (one line, readable only by you) or give another",
                               options=("password",), kind=ErrorKind.NOT_FOUND) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "it is not UTF-8 text"
        raise PasswordRequired(f"password file {file} cannot be read ({reason})",
                               hint="give a text file you can read, whose first line is the password",
                               options=("password",)) from None
    value = text.splitlines()[0] if text else ""
    if not value:
        raise PasswordRequired(f"password file {file} is empty", hint=f"its first line must be the password for "
                               f"{purpose}", options=("password",))
    return SecretStr(value)


def create_password_file(path: Path | str, *, nbytes: int = 24) -> SecretStr:
    """Write a new random password to ``path`` (mode 0600, never overwriting) and return it."""
    file = Path(path)
    if file.exists():
        raise KeystoreError(f"password file {file} already exists", hint="refusing to overwrite it; use it or move it",
                            kind=ErrorKind.CONFLICT)
    value = secrets.token_urlsafe(nbytes)
    file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomic(file, (value + "\n").encode(), mode=0o600)
    return SecretStr(value)
