"""What the commands share: their common options (data folder, node, account, password, chain id),
the settings they make from them, and small renderers.

The wiring itself (settings to connection, account, sender, contracts) is the domain's:
:mod:`dataseal.registry.context`."""
from __future__ import annotations

import re
from typing import Any

import typer

from dataseal.chain.contracts.deployment import ContractConfig
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


_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400}
_DURATION = re.compile(r"(\d+)\s*([smhd]?)")


def parse_duration(text: str, flag: str) -> int:
    """``text`` ("15d", "36h", "90m", "900s" or plain seconds) in seconds; :class:`typer.BadParameter` otherwise."""
    found = _DURATION.fullmatch(text.strip().lower())
    if found is None:
        raise typer.BadParameter(f"{text!r} is not a duration: give whole seconds or a number with s, m, h or d "
                                 "(e.g. 900, 90m, 36h, 15d)", param_hint=flag)
    return int(found.group(1)) * _UNITS[found.group(2)]


def format_duration(seconds: int) -> str:
    """``seconds`` in the largest unit that divides it (15d, 36h, 90m, 45s)."""
    for unit in ("d", "h", "m"):
        if seconds and seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


def describe_config(config: ContractConfig) -> str:
    """The deployment constants in a few words, for people."""
    review = (f"review with {format_duration(config.notice_period)} of public notice" if config.review_mode
              else "no review")
    commits = (f"commitments required ({format_duration(config.min_commit_age)} to "
               f"{format_duration(config.max_commit_age)} old)" if config.commit_required else "no commitments")
    return f"{review}, {commits}, admin handover delay {format_duration(config.admin_delay)}"
