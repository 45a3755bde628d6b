"""What the commands share: their common options (data folder, node, account, password, chain id),
the settings they make from them, and small renderers.

The wiring itself (settings to connection, account, sender, contracts) is the domain's:
:mod:`dataseal.registry.context`."""
from __future__ import annotations

from typing import Any

import typer

from dataseal.registry.settings import Settings

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
    "else the operator password `dataseal node` generated in the data folder (for its operator), else a prompt "
    "when run in a terminal.", show_default=False,
)
CHAIN_ID = typer.Option(
    None, "--chain-id", help="Refuse any chain but this one (guards against the wrong network).", show_default=False,
)


def settings(**given: Any) -> Settings:
    """Settings from the environment, with the command-line options that were given on top."""
    return Settings.load(**given)


def eth(wei: int) -> str:
    """``wei`` in ETH for people (the exact wei stay in --json output)."""
    return f"{wei / 10**18:.6f}".rstrip("0").rstrip(".") + " ETH"
