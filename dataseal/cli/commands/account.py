"""`dataseal account new|import|list|fund`: the local keystore (standard V3 files geth and MetaMask read), and ETH
for an account's gas."""
from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path

import typer
from pydantic import SecretStr

from dataseal.chain.accounts.keystore import (
    LIGHT_SCRYPT_N,
    MAX_KEYFILE_BYTES,
    InvalidKeyfile,
    Keystore,
    read_key_file,
)
from dataseal.chain.accounts.passwords import first_password, given_sources
from dataseal.cli.options import CHAIN_ID, DATA_DIR, PASSWORD_FILE, RPC, settings
from dataseal.cli.output import JSON, emit, note
from dataseal.cli.prompt import TerminalPrompt
from dataseal.errors import ErrorKind
from dataseal.registry.context import keystore_of
from dataseal.registry.registry import Registry
from dataseal.registry.services.accounts import DEFAULT_FUNDING, fund
from dataseal.registry.settings import Settings

LIGHT_KDF = typer.Option(
    False, "--light-kdf", help="Faster, weaker key encryption (scrypt n=4096, like geth --lightkdf): for test and "
    "throwaway accounts only.",
)

account_app = typer.Typer(
    name="account",
    help=(
        "Manage the signing accounts of the local keystore (<data-dir>/keystore).\n\n"
        "Keys are stored as standard encrypted V3 keystore files, named like geth's "
        "(UTC--<time>--<address>): copy one into geth's keystore or import it into MetaMask as is.\n\n"
        "\b\nExamples:\n"
        "  dataseal account new\n"
        "  dataseal account new --password-file ./pw.txt --json\n"
        "  dataseal account import ~/Downloads/UTC--2024-...--0a1b...   (a keystore file)\n"
        "  printf '%s' \"$KEY\" | dataseal account import - --password-file ./pw.txt\n"
        "  dataseal account list\n"
        "  dataseal account fund 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --amount 2eth"
    ),
    no_args_is_help=True,
)


@account_app.command("new")
def new(
    data_dir: Path | None = DATA_DIR,
    password_file: Path | None = PASSWORD_FILE,
    light_kdf: bool = LIGHT_KDF,
    as_json: bool = JSON,
) -> None:
    """Create a new account, encrypted with a password.

    The password comes from --password-file, else DATASEAL_PASSWORD, else a prompt (twice) when run in a
    terminal. Keep the password: without it the key cannot be recovered.

    \b
    Example:
      dataseal account new --password-file ./pw.txt
    """
    cfg = settings(data_dir=data_dir, password_file=password_file)
    password = _new_password(cfg.password_file, cfg.password)
    store = _keystore(cfg, light_kdf)
    address = store.create(password)
    entry = store.find(address)
    _show(address, entry.path, "created", as_json)


@account_app.command("import")
def import_(
    source: str = typer.Argument(
        ..., help="A V3 keystore file (as geth or MetaMask export), a file holding a hex private key, or - to "
        "read the private key from stdin.", show_default=False,
    ),
    data_dir: Path | None = DATA_DIR,
    password_file: Path | None = PASSWORD_FILE,
    light_kdf: bool = LIGHT_KDF,
    as_json: bool = JSON,
) -> None:
    """Import an account from a keystore file or a raw private key.

    A keystore file is copied as is (it keeps its own password, given with --password-file,
    DATASEAL_PASSWORD or a prompt). A raw private key (64 hex digits, from a file or stdin) is encrypted
    with a new password from the same sources. A private key is never accepted as an argument: it would
    stay in your shell history and be visible to other users in the process list.

    \b
    Examples:
      dataseal account import ./UTC--2024-05-01T10-20-30.000000000Z--0a1b2c...
      printf '%s' "$PRIVATE_KEY" | dataseal account import - --password-file ./pw.txt
    """
    cfg = settings(data_dir=data_dir, password_file=password_file)
    store = _keystore(cfg, light_kdf)
    if source == "-":
        key = sys.stdin.read(MAX_KEYFILE_BYTES + 1)
        if len(key) > MAX_KEYFILE_BYTES:
            raise InvalidKeyfile(f"more than {MAX_KEYFILE_BYTES:,} characters came on stdin; a private key is 64 hex "
                                 "digits", hint="pipe the private key in, and nothing else")
        address = _import_key(store, key, cfg.password_file, cfg.password, from_stdin=True)
    else:
        path = Path(source)
        try:
            text = read_key_file(path).decode("utf-8")
        except FileNotFoundError:
            raise InvalidKeyfile(f"{path} does not exist", hint="give the path of a keystore file or of a key file",
                                 kind=ErrorKind.NOT_FOUND) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidKeyfile(f"{path} cannot be read ({type(exc).__name__})", hint="check the path") from None
        if _looks_like_json(text):
            password, _ = first_password([*given_sources(cfg.password, cfg.password_file), TerminalPrompt()],
                                         purpose=f"the keystore file {path.name}")
            address = store.import_file(path, password)
        else:
            address = _import_key(store, text, cfg.password_file, cfg.password, from_stdin=False)
    entry = store.find(address)
    _show(address, entry.path, "imported into", as_json)


@account_app.command("list")
def list_(data_dir: Path | None = DATA_DIR, as_json: bool = JSON) -> None:
    """List the accounts of the keystore (address and file). No password needed.

    \b
    Example:
      dataseal account list --json
    """
    cfg = settings(data_dir=data_dir)
    store = keystore_of(cfg)
    entries = store.list()

    def human() -> None:
        if not entries:
            note(f"no accounts in {store.folder}: create one with `dataseal account new`")
        for entry in entries:
            print(f"{entry.address}  {entry.path}")

    emit({"keystore": str(store.folder), "accounts": [e.to_json() for e in entries]}, as_json, human)


@account_app.command("fund")
def fund_command(
    address: str = typer.Argument(..., metavar="ADDRESS", help="The account to fund (0x followed by 40 hex digits).",
                                  show_default=False),
    amount: str = typer.Option(
        DEFAULT_FUNDING, "--amount", metavar="AMOUNT", help="How much: a number with its unit, eth, gwei or wei "
        "(2eth, 0.5eth, 20gwei, 1000000wei); a number alone is ether.",
    ),
    funder: str | None = typer.Option(
        None, "--from", "--account", metavar="ACCOUNT", help="Keystore account (address or file) that pays. Default: "
        "DATASEAL_ACCOUNT, else the keystore's only account, else the one that deployed the contracts (on the "
        "embedded chain, the operator `dataseal node` funded at genesis).", show_default=False,
    ),
    rpc: str | None = RPC,
    password_file: Path | None = PASSWORD_FILE,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Send ETH to ADDRESS for its gas, e.g. to a grantee made with `account new` so that it can sign `use`.

    The payer is --from, else the operator of the embedded chain (its password is the one `dataseal node`
    generated, unless you gave your own). Nothing is sent when the payer's balance does not cover the amount and
    its gas. On another node (--rpc) the payer is a keystore account holding ETH there.

    \b
    Examples:
      dataseal account fund 0x70997970C51812dc3A010C7d01b50e0d17dc79C8
      dataseal account fund 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --amount 0.5eth --json
      dataseal account fund 0x7099...79C8 --amount 20gwei --from 0xf39F...2266 --password-file ./pw.txt
    """
    cfg = settings(rpc_url=rpc, password_file=password_file, chain_id=chain_id, data_dir=data_dir)
    with Registry.open(cfg) as registry:
        done = fund(registry, address, amount, funder=funder, passwords=[TerminalPrompt()])

    def human() -> None:
        print(f"sent {_ether(done.amount_wei)} from {done.funder} to {done.recipient} (chain {done.chain_id})")
        print(f"tx       {done.tx_hash} (block {done.block_number})")
        print(f"balance  {done.recipient} now holds {_ether(done.recipient_balance_wei)}")

    emit({"funding": done.to_json()}, as_json, human)


def _ether(wei: int) -> str:
    """``wei`` in ETH, exactly (20 gwei is 0.00000002 ETH, not 0)."""
    return f"{Decimal(wei) / 10**18:f} ETH"


def _keystore(cfg: Settings, light_kdf: bool) -> Keystore:
    store = keystore_of(cfg)
    return Keystore(store.folder, scrypt_n=LIGHT_SCRYPT_N) if light_kdf else store


def _show(address: str, path: Path, verb: str, as_json: bool) -> None:
    def human() -> None:
        print(address)
        note(f"{verb} {path}")

    emit({"address": address, "path": str(path)}, as_json, human)


def _new_password(password_file: Path | None, password: SecretStr | None) -> SecretStr:
    secret, _ = first_password([*given_sources(password, password_file), TerminalPrompt(confirm=True)],
                               purpose="the new account")
    return secret


def _import_key(store: Keystore, text: str, password_file: Path | None, password: SecretStr | None,
                *, from_stdin: bool) -> str:
    key = SecretStr(text.strip())
    if from_stdin and not key.get_secret_value():
        raise InvalidKeyfile("nothing was read from stdin", hint="pipe the private key in (64 hex digits)")
    return store.import_private_key(key, _new_password(password_file, password))


def _looks_like_json(text: str) -> bool:
    stripped = text.lstrip()
    if not stripped.startswith("{"):
        return False
    try:
        json.loads(stripped)
    except ValueError:
        return False
    return True


def register(app: typer.Typer) -> None:
    app.add_typer(account_app)
