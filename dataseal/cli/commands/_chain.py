"""What the chain commands (account, deploy, status) share: options, settings, opening a node and
unlocking an account. Not a command module (no ``register``)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer
from eth_account.signers.local import LocalAccount
from pydantic import ValidationError

from dataseal.chain.accounts import (
    PASSWORD_ENV,
    Keystore,
    WrongPassword,
    keystore_dir,
    read_password_file,
    resolve_password,
)
from dataseal.chain.client import Node, connect
from dataseal.chain.errors import ConfigError
from dataseal.chain.node.layout import OPERATOR_PASSWORD_FILENAME, running_node_url
from dataseal.chain.nonce import NonceManager
from dataseal.chain.sender import LocalSender
from dataseal.registry.settings import Settings

NONCES_DIRNAME = "nonces"

DATA_DIR = typer.Option(
    None, "--data-dir", help="dataseal's data folder (keystore, deployment record, embedded chain). "
    "Default ./.dataseal or DATASEAL_DATA_DIR.", show_default=False,
)
RPC = typer.Option(
    None, "--rpc", help="JSON-RPC URL of a node (http://, https://, ws://, wss://). Default: DATASEAL_RPC_URL, "
    "else the embedded chain of the data folder.", show_default=False,
)
ACCOUNT = typer.Option(
    None, "--account", help="Address (or keystore file) of the signing account. Default: the only account of "
    "the keystore, or DATASEAL_ACCOUNT.", show_default=False,
)
PASSWORD_FILE = typer.Option(
    None, "--password-file", help="File whose first line is the keystore password. Else DATASEAL_PASSWORD, "
    "else a prompt when run in a terminal.", show_default=False,
)
CHAIN_ID = typer.Option(
    None, "--chain-id", help="Refuse any chain but this one (guards against the wrong network).", show_default=False,
)


def settings(**overrides: Any) -> Settings:
    """Settings from the environment, with the command-line options that were given on top."""
    try:
        return Settings(**{key: value for key, value in overrides.items() if value is not None})
    except ValidationError as exc:
        def shown(error: Any) -> str:
            name = ".".join(str(part) for part in error["loc"]) or "settings"
            value = "***" if "password" in name else repr(error.get("input"))  # never echo a secret
            return f"{name}: {error['msg']} (got {value})"

        problems = "; ".join(shown(error) for error in exc.errors())
        raise ConfigError(
            f"invalid setting: {problems}. Check the command-line option or its DATASEAL_* environment variable"
        ) from None


def open_node(cfg: Settings) -> Node:
    """The node of ``cfg``: its RPC URL, else the `dataseal node` serving its data folder, else the
    embedded chain of its data folder opened in-process."""
    target: str | Path = cfg.rpc_url or running_node_url(cfg.data_dir) or Path(cfg.data_dir)
    return connect(target, timeout=cfg.rpc_timeout, expected_chain_id=cfg.chain_id)


def keystore(cfg: Settings) -> Keystore:
    return Keystore(keystore_dir(cfg.data_dir))


def unlock(cfg: Settings) -> LocalAccount:
    """The signing account of ``cfg``, decrypted with the password from its sources.

    Sources: --password-file, DATASEAL_PASSWORD, then the operator password `dataseal node` generates in
    the data folder (so the embedded default needs no set-up), then a prompt in a terminal.
    """
    store = keystore(cfg)
    entry = store.find(cfg.account) if cfg.account else store.default()
    purpose = f"account {entry.address}"
    generated = Path(cfg.data_dir) / OPERATOR_PASSWORD_FILENAME
    if cfg.password_file is None and cfg.password is None and not os.environ.get(PASSWORD_ENV) and generated.exists():
        try:
            return store.unlock(str(entry.path), read_password_file(generated, purpose=purpose))
        except WrongPassword:
            raise WrongPassword(
                f"the password in {generated} (the embedded node's operator) does not open {entry.path.name}: give "
                f"the password of {entry.address} with --password-file or {PASSWORD_ENV}"
            ) from None
    password = resolve_password(
        password=cfg.password if cfg.password is not None and cfg.password_file is None else None,
        password_file=cfg.password_file,
        purpose=purpose,
    )
    return store.unlock(str(entry.path), password)


def sender(cfg: Settings, node: Node, account: LocalAccount) -> LocalSender:
    """A local signer for ``account`` on ``node``, sharing nonces with other dataseal processes of the folder."""
    return LocalSender(
        account,
        nonces=NonceManager(Path(cfg.data_dir) / NONCES_DIRNAME),
        confirmations=cfg.confirmations,
        receipt_timeout=cfg.receipt_timeout,
        endpoint=node.endpoint,
    )


def require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def eth(wei: int) -> str:
    """``wei`` in ETH for people (the exact wei stay in --json output)."""
    return f"{wei / 10**18:.6f}".rstrip("0").rstrip(".") + " ETH"
