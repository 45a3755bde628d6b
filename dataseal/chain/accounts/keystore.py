"""Local accounts in standard encrypted keystores (Web3 Secret Storage, "V3").

A :class:`Keystore` is a folder of keystore files named the way geth names them
(``UTC--2024-05-01T10-20-30.123456000Z--<address>``), so a file can be copied into geth's
``keystore/`` folder or imported into MetaMask as is, and a geth keystore file can be imported
here. Files are written atomically, readable only by their owner.

Passwords are given by the caller (:mod:`dataseal.chain.accounts.passwords`): nothing here reads
the environment or prompts.

A private key never leaves this module as text: it is not logged, not put in an error message,
and the objects returned here do not show it in their ``repr``.
"""
from __future__ import annotations

import builtins
import json
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import is_address, to_checksum_address
from pydantic import SecretStr

from dataseal.chain.files import read_limited, write_atomic
from dataseal.errors import ConfigError, ErrorKind

KEYSTORE_DIRNAME = "keystore"
_T = TypeVar("_T")

# scrypt cost: geth's standard parameters (n=2**18, about a second and 256 MB per unlock) and its
# "light" ones (``geth --lightkdf``), for tests and throwaway accounts.
STANDARD_SCRYPT_N = 1 << 18
LIGHT_SCRYPT_N = 1 << 12
#: The most bytes of a keystore file (geth's are about 500).
MAX_KEYFILE_BYTES = 64 << 10

# The most work a keystore file may ask of an unlock. geth and eth-keyfile write scrypt n=2**18, r=8, p=1
# (256 MiB, about a second) or pbkdf2 c=262144; these bounds leave room for four times geth's scrypt cost and
# about forty times its pbkdf2 count, and refuse a file that would take minutes or gigabytes (a single KDF
# call is one uninterruptible C call, so its size is what bounds the wait for Ctrl-C).
MAX_SCRYPT_N = 1 << 20
#: r and p on their own (pycryptodome's scrypt slows down faster than linearly in r: n=2, r=10**6 ran for minutes)
MAX_SCRYPT_R = 32
MAX_SCRYPT_P = 16
#: scrypt's memory is 128 * n * r bytes
MAX_SCRYPT_MEMORY = 1 << 30
#: scrypt's work is proportional to n * r * p
MAX_SCRYPT_WORK = (1 << 20) * 8
MAX_PBKDF2_C = 10_000_000
#: derived key lengths: 32 bytes are used (16 for AES-128, 16 for the MAC)
KDF_DKLEN = (32, 64)


class KeystoreError(ConfigError):
    """An account could not be created, found, imported or unlocked."""


class AccountNotFound(KeystoreError):
    """No keystore file for the requested address."""

    kind = ErrorKind.NOT_FOUND


class AccountExists(KeystoreError):
    """The keystore already holds this address."""

    kind = ErrorKind.CONFLICT


class WrongPassword(KeystoreError):
    """The password does not decrypt the keystore file."""


class PasswordRequired(KeystoreError):
    """No password source gave a password, or a password is empty."""


class InvalidKeyfile(KeystoreError):
    """A file is not a readable V3 keystore."""


class InvalidPrivateKey(KeystoreError):
    """A private key to import is malformed (the message never contains the key)."""


@dataclass(frozen=True)
class KeystoreEntry:
    """One account of a keystore: its checksummed address and the file holding it."""

    address: str
    path: Path

    def to_json(self) -> dict[str, str]:
        return {"address": self.address, "path": str(self.path)}


def keystore_dir(data_dir: Path) -> Path:
    """The keystore folder inside dataseal's data folder."""
    return Path(data_dir) / KEYSTORE_DIRNAME


def keyfile_name(address: str, when: datetime | None = None) -> str:
    """geth's file name for ``address``: ``UTC--<ISO time with '-' for ':'>--<lowercase hex address>``."""
    moment = (when or datetime.now(UTC)).astimezone(UTC)
    stamp = moment.strftime("%Y-%m-%dT%H-%M-%S.") + f"{moment.microsecond * 1000:09d}Z"
    return f"UTC--{stamp}--{to_checksum_address(address)[2:].lower()}"


class Keystore:
    """A folder of V3 keystore files.

    ``scrypt_n`` is the scrypt cost of files created or imported from a raw key here; the
    default is geth's standard. Files imported with :meth:`import_file` keep their own
    parameters, byte for byte.
    """

    def __init__(self, folder: Path | str, *, scrypt_n: int = STANDARD_SCRYPT_N) -> None:
        if scrypt_n < 2 or scrypt_n & (scrypt_n - 1):
            raise KeystoreError(f"the keystore's scrypt cost must be a power of two >= 2, got {scrypt_n}",
                                hint="use the standard cost (2**18) or the light one (2**12)")
        self.folder = Path(folder)
        self.scrypt_n = scrypt_n

    def __repr__(self) -> str:
        return f"Keystore({str(self.folder)!r})"

    # ----------------------------------------------------------------------------- create/import

    def create(self, password: SecretStr | str) -> str:
        """Create a new random account, store it encrypted with ``password``; its address."""
        account = Account.create(extra_entropy=secrets.token_bytes(32))
        return self._store(account.address, account.key, password)

    def import_private_key(self, private_key: SecretStr | str | bytes, password: SecretStr | str) -> str:
        """Store ``private_key`` (32 bytes, or 64 hex digits with or without 0x) encrypted; its address."""
        raw = _private_key_bytes(private_key)
        try:
            account = Account.from_key(raw)
        except Exception:  # eth_keys: a key outside the curve order; never echo the key
            raise InvalidPrivateKey(
                "the private key is not a valid secp256k1 key (it must be 32 bytes, nonzero and below the "
                "curve order)", hint="check that you copied the whole key"
            ) from None
        return self._store(account.address, account.key, password)

    def import_file(self, path: Path | str, password: SecretStr | str) -> str:
        """Copy the V3 keystore file at ``path`` here after checking that ``password`` opens it; its address.

        The file keeps its encryption (cipher, KDF and parameters) unchanged.
        """
        source = Path(path)
        document = _read_keyfile(source)
        address = _decrypt(document, password, source).address
        declared = document.get("address")
        if declared and is_address(declared) and to_checksum_address(declared) != address:
            raise InvalidKeyfile(
                f"{source} declares address {to_checksum_address(declared)} but its key belongs to {address}",
                hint="the file was edited or is corrupt; ask for a fresh export",
            )
        self._refuse_existing(address)
        self._write(keyfile_name(address), {**document, "address": address[2:].lower()})
        return address

    # ----------------------------------------------------------------------------- read

    def list(self) -> builtins.list[KeystoreEntry]:
        """Every account in the folder, sorted by file name (oldest first for geth-named files).

        Files that are not V3 keystores (other documents, temp files) are ignored, like geth does.
        """
        if not self.folder.is_dir():
            return []
        entries: builtins.list[KeystoreEntry] = []
        for path in sorted(self.folder.iterdir()):
            if path.name.startswith(".") or not path.is_file():
                continue
            try:
                document = _read_keyfile(path)
            except InvalidKeyfile:
                continue
            declared = document.get("address")
            if isinstance(declared, str) and is_address(declared if declared.startswith("0x") else "0x" + declared):
                entries.append(KeystoreEntry(to_checksum_address("0x" + declared.removeprefix("0x")), path))
        return entries

    def find(self, account: str) -> KeystoreEntry:
        """The entry for ``account``: an address in this keystore, or the path of a keystore file."""
        if is_address(account):
            wanted = to_checksum_address(account)
            for entry in self.list():
                if entry.address == wanted:
                    return entry
            known = ", ".join(e.address for e in self.list()) or "none"
            raise AccountNotFound(
                f"no keystore file for {wanted} in {self.folder} (accounts there: {known})",
                hint="create or import the account, or use the data folder that holds it",
                options=("account", "data_dir"),
            )
        path = Path(account)
        if path.is_file():
            document = _read_keyfile(path)
            declared = str(document.get("address", ""))
            if not is_address("0x" + declared.removeprefix("0x")):
                raise InvalidKeyfile(f"{path} has no address field", hint="give a V3 keystore file")
            return KeystoreEntry(to_checksum_address("0x" + declared.removeprefix("0x")), path)
        raise AccountNotFound(
            f"account {account!r} is neither an address (0x followed by 40 hex digits) nor an existing keystore file",
            hint="name an account of the keystore", options=("account",),
        )

    def default(self) -> KeystoreEntry:
        """The only account of the keystore; raises when there is none or more than one."""
        entries = self.list()
        if len(entries) == 1:
            return entries[0]
        if not entries:
            raise AccountNotFound(f"the keystore {self.folder} holds no account", hint="create or import one",
                                  options=("data_dir",))
        raise KeystoreError(
            f"the keystore {self.folder} holds {len(entries)} accounts ({', '.join(e.address for e in entries)})",
            hint="choose one", options=("account",),
        )

    def unlock(self, address: str, password: SecretStr | str) -> LocalAccount:
        """The signing account for ``address`` (or a keystore file path), decrypted with ``password``."""
        entry = self.find(address)
        return _decrypt(_read_keyfile(entry.path), password, entry.path)

    # ----------------------------------------------------------------------------- internals

    def _refuse_existing(self, address: str) -> None:
        for entry in self.list():
            if entry.address == address:
                raise AccountExists(
                    f"the keystore {self.folder} already holds {address} (file {entry.path.name})",
                    hint=f"nothing to import; sign with {address}", options=("account",),
                )

    def _store(self, address: str, key: bytes, password: SecretStr | str) -> str:
        self._refuse_existing(address)
        secret = _reveal(password)
        if not secret:
            raise PasswordRequired("refusing to encrypt a key with an empty password", hint="choose a password",
                                   options=("password",))
        document = Account.encrypt(key, secret, kdf="scrypt", iterations=self.scrypt_n)
        document["address"] = to_checksum_address(address)[2:].lower()  # as geth writes it
        self._write(keyfile_name(address), document)
        return to_checksum_address(address)

    def _write(self, name: str, document: Mapping[str, Any]) -> Path:
        target = self.folder / name
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomic(target, json.dumps(document).encode(), mode=0o600)
        except OSError as exc:
            raise KeystoreError(
                f"cannot write the keystore file {target}: {exc.strerror or exc}",
                hint="check that the data folder is a folder you can write to", options=("data_dir",),
            ) from None
        return target


# --------------------------------------------------------------------------------- helpers


def _reveal(secret: SecretStr | str) -> str:
    return secret.get_secret_value() if isinstance(secret, SecretStr) else secret


def _private_key_bytes(key: SecretStr | str | bytes) -> bytes:
    if isinstance(key, bytes):
        raw = key
    else:
        text = _reveal(key).strip()
        text = text[2:] if text[:2].lower() == "0x" else text
        if len(text) != 64:
            raise InvalidPrivateKey(
                f"a private key is 64 hex digits (optionally after 0x); got {len(text)} characters",
                hint="check that you copied the whole key",
            )
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise InvalidPrivateKey(
                "the private key contains characters that are not hex digits",
                hint="check that you copied the right value",
            ) from None
    if len(raw) != 32:
        raise InvalidPrivateKey(f"a private key is 32 bytes; got {len(raw)}",
                                hint="check that you copied the whole key")
    return raw


def read_key_file(path: Path) -> bytes:
    """The bytes of a keystore or key file: a regular file of at most :data:`MAX_KEYFILE_BYTES`
    (:class:`InvalidKeyfile` if not; OSErrors are the caller's)."""
    return read_limited(path, MAX_KEYFILE_BYTES, what="keystore file", error=InvalidKeyfile)


def _read_keyfile(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(read_key_file(path))
    except FileNotFoundError:
        raise InvalidKeyfile(f"keystore file {path} does not exist", hint="check the path",
                             kind=ErrorKind.NOT_FOUND) from None
    except (OSError, ValueError) as exc:
        raise InvalidKeyfile(
            f"{path} is not a keystore file ({exc.__class__.__name__})",
            hint="give a V3 keystore JSON (as geth, MetaMask or dataseal write them)",
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("crypto", document.get("Crypto")), dict):
        raise InvalidKeyfile(f"{path} is JSON but not a V3 keystore (no 'crypto' section)",
                             hint="export the account as a keystore file")
    if document.get("version") not in (3, "3"):
        raise InvalidKeyfile(f"{path} is keystore version {document.get('version')!r}", hint="give a version 3 file")
    return document


def check_kdf(document: Mapping[str, Any], path: Path) -> None:
    """:class:`InvalidKeyfile` unless the keystore's KDF and its parameters are ones dataseal unlocks within
    bounds (see :data:`MAX_SCRYPT_N` and the constants beside it), naming the file and the parameter."""
    crypto = document.get("crypto", document.get("Crypto"))
    kdf = crypto.get("kdf") if isinstance(crypto, Mapping) else None
    params = crypto.get("kdfparams") if isinstance(crypto, Mapping) else None
    if kdf not in ("scrypt", "pbkdf2") or not isinstance(params, Mapping):
        raise InvalidKeyfile(f"{path} uses key derivation {kdf!r}; a V3 keystore uses scrypt or pbkdf2",
                             hint="export the key again from the wallet that made it, or import the raw private key")

    def number(name: str, low: int, high: int, standard: str) -> int:
        value = params.get(name)
        if type(value) is not int or not low <= value <= high:
            raise InvalidKeyfile(
                f"{path}: its {kdf} parameter {name} is {value!r}; dataseal unlocks {name} from {low:,} to {high:,} "
                f"({standard})",
                hint="the file was altered or made with extreme settings: export the key again with standard ones, "
                "or import the raw private key",
            )
        return value

    number("dklen", *KDF_DKLEN, "geth writes 32")
    if kdf == "pbkdf2":
        number("c", 1, MAX_PBKDF2_C, "geth writes 262,144")
        if params.get("prf") != "hmac-sha256":
            raise InvalidKeyfile(f"{path}: its pbkdf2 parameter prf is {params.get('prf')!r}; a V3 keystore uses "
                                 "'hmac-sha256'", hint="export the key again from the wallet that made it, or import "
                                 "the raw private key")
        return
    n = number("n", 2, MAX_SCRYPT_N, "a power of two; geth writes 262,144")
    r = number("r", 1, min(MAX_SCRYPT_R, MAX_SCRYPT_MEMORY // (128 * n)),
               "and 128 * n * r bytes of memory at most 1 GiB; geth writes 8")
    number("p", 1, min(MAX_SCRYPT_P, max(1, MAX_SCRYPT_WORK // (n * r))),
           f"and n * r * p at most {MAX_SCRYPT_WORK:,}; geth writes 1")
    if n & (n - 1):
        raise InvalidKeyfile(f"{path}: its scrypt parameter n is {n:,}, not a power of two",
                             hint="the file was altered: export the key again, or import the raw private key")


def _in_worker(function: Callable[..., _T], *args: Any) -> _T:
    """``function(*args)`` on a daemon thread, the caller waiting for it: a KDF is one long C call during which
    the main thread would not see Ctrl-C; waiting on a thread, it does (and the process may exit meanwhile)."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append((True, function(*args)))
        except BaseException as exc:  # handed to the caller
            outcome.append((False, exc))

    worker = threading.Thread(target=run, name="keystore-kdf", daemon=True)
    worker.start()
    worker.join()  # a lock wait: a signal's handler (KeyboardInterrupt) runs in it
    ok, value = outcome[0]
    if not ok:
        raise value
    return cast(_T, value)


def _decrypt(document: dict[str, Any], password: SecretStr | str, path: Path) -> LocalAccount:
    check_kdf(document, path)
    try:
        key = _in_worker(Account.decrypt, document, _reveal(password))
    except ValueError as exc:  # eth-keyfile: "MAC mismatch" (wrong password) or a malformed file
        if "MAC mismatch" in str(exc):
            raise WrongPassword(
                f"the password does not open {path}",
                hint="check the password (a password file holds it on its first line)", options=("password",),
            ) from None
        raise InvalidKeyfile(f"{path} could not be decrypted ({exc}): the file is malformed",
                             hint="export the key again from the wallet that made it, or import the raw private key"
                             ) from None
    except (KeyError, TypeError, NotImplementedError) as exc:
        raise InvalidKeyfile(
            f"{path} could not be decrypted ({exc.__class__.__name__}: {exc}): unsupported or malformed keystore",
            hint="export the key again from the wallet that made it, or import the raw private key"
        ) from None
    return Account.from_key(key)
