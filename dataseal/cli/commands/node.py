"""`dataseal node`: run the embedded chain and serve it over JSON-RPC."""
from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import typer
from eth_utils import is_address, to_checksum_address

from dataseal.chain.embedded.defaults import (
    DEFAULT_CALL_GAS_CAP,
    DEFAULT_CALL_TIMEOUT,
    DEFAULT_CHAIN_ID,
    DEFAULT_FUNDING_WEI,
)
from dataseal.chain.node.layout import remove_marker, write_marker
from dataseal.cli.options import DATA_DIR, settings
from dataseal.cli.output import note

if TYPE_CHECKING:
    from dataseal.chain.node.start import NodeStartup

WEI_PER_ETHER = 10**18
OPERATOR = typer.Option(
    None, "--account", help="Keystore account (address or file) that operates a new chain: funded at genesis, it "
    "deploys the contracts. Default: the keystore's only account, or a new one when the keystore is empty.",
    show_default=False,
)
PASSWORD_FILE = typer.Option(
    None, "--password-file", help="File whose first line is the operator keystore's password. Else "
    "DATASEAL_PASSWORD, else <data-dir>/operator.password (generated at the first start when no password is given).",
    show_default=False,
)
STARTUP_JSON = typer.Option(
    False, "--json", help="Print the startup report as one JSON line (rpc_url, chain_id, block, operator, "
    "deployment, pid) instead of lines for people.",
)
FUND = typer.Option(
    [], "--fund", metavar="ADDRESS[=ETHER]", help="Fund ADDRESS at genesis (default "
    f"{DEFAULT_FUNDING_WEI // WEI_PER_ETHER:,} ether). Repeatable. Only when the chain is created.",
)


def node(
    data_dir: Path | None = DATA_DIR,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on. 0.0.0.0 exposes the node to "
                             "the network: only do that behind a firewall."),
    port: int = typer.Option(8545, "--port", help="TCP port of the JSON-RPC server.", min=0, max=65535),
    block_time: float = typer.Option(
        0.0, "--block-time", min=0.0, help="Seconds between blocks. 0 (the default) mines as soon as "
        "transactions wait, gathering all that arrive meanwhile into one block.",
    ),
    chain_id: int | None = typer.Option(
        None, "--chain-id", min=1, help=f"Chain id of a new chain (default {DEFAULT_CHAIN_ID}). An existing chain "
        "keeps its own; a different value is refused.", show_default=False,
    ),
    fund: list[str] = FUND,
    account: str | None = OPERATOR,
    password_file: Path | None = PASSWORD_FILE,
    light_kdf: bool = typer.Option(
        False, "--light-kdf", help="Encrypt a new operator keystore with a light scrypt (like geth --lightkdf): "
        "faster, weaker; for tests and throwaway chains.",
    ),
    call_timeout: float = typer.Option(
        DEFAULT_CALL_TIMEOUT, "--call-timeout", min=0.001, help="Seconds one eth_call or eth_estimateGas may run "
        "before it is stopped with an error (like geth's --rpc.evmtimeout); the node keeps serving others meanwhile.",
    ),
    call_gas_cap: int = typer.Option(
        DEFAULT_CALL_GAS_CAP, "--call-gas-cap", min=21_000, help="Most gas one eth_call or eth_estimateGas may use "
        "(like geth's --rpc.gascap).",
    ),
    as_json: bool = STARTUP_JSON,
) -> None:
    """Run dataseal's embedded chain: a persistent EVM chain in the data folder, served over
    Ethereum JSON-RPC (web3, ethers, hardhat --network, MetaMask can use it).

    The first start creates what it needs in the data folder: an operator account (an encrypted
    keystore; its generated password goes to <data-dir>/operator.password, readable only by you,
    unless you give one with --password-file or DATASEAL_PASSWORD), the chain with the operator
    funded, and the three contracts with their deployment record. Later starts reuse all of it.

    Ctrl-C or SIGTERM stops the node cleanly: waiting transactions are mined first. After a crash
    the chain reopens at its last whole block, and accepted transactions that were not mined yet
    are mined then.

    \b
    Examples:
      dataseal node
      dataseal node --port 8600 --block-time 2
      dataseal node --data-dir /srv/dataseal --json
      dataseal node --fund 0x70997970C51812dc3A010C7d01b50e0d17dc79C8=100
    """
    cfg = settings(data_dir=data_dir, password_file=password_file, account=account)
    # py-evm loads here, not when the CLI starts (it is slow to import and raises the recursion limit).
    from dataseal.chain.embedded.settings import Mining, Tuning
    from dataseal.chain.node.start import EmbeddedNode, NodeConfig

    config = NodeConfig(
        data_dir=Path(cfg.data_dir),
        host=host,
        port=port,
        chain_id=chain_id,
        fund=_funding(fund),
        mining=Mining("interval", block_time) if block_time > 0 else Mining("idle"),
        account=cfg.account,
        password=cfg.password,
        password_file=cfg.password_file,
        light_kdf=light_kdf,
        tuning=Tuning(call_timeout=call_timeout, call_gas_cap=call_gas_cap),
    )
    _log_to_stderr()
    stop = threading.Event()
    previous = {sig: signal.signal(sig, _setter(stop)) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        running = EmbeddedNode.start(config)
        startup = running.startup
        for line in startup.notes:
            note(f"dataseal node: {line}")
        running.start_serving()
        # Other commands of this data folder find the node here (the chain file is locked by it).
        write_marker(config.data_dir, startup.rpc_url)
        _announce(startup, as_json)
        while not stop.wait(0.5):
            pass
        note("dataseal node: stopping (mining the waiting transactions first)")
        remove_marker(config.data_dir)
        head = running.stop()
        note(f"dataseal node: stopped at block {head}; the chain is in {startup.chain_file}")
    finally:
        remove_marker(config.data_dir)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _setter(stop: threading.Event) -> Callable[[int, FrameType | None], None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    return handler


def _announce(startup: NodeStartup, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(startup.to_json(), sort_keys=True) + "\n")
    else:
        d = startup.deployment
        print(f"dataseal node: chain {startup.chain_id} at {startup.rpc_url} (block {startup.block}, mining: "
              f"{startup.mining})")
        print(f"  data       {startup.chain_file}")
        print(f"  operator   {startup.operator}")
        print(f"  contracts  AssetRegistry {d.asset_registry}")
        print(f"             GrantRegistry {d.grant_registry}")
        print(f"             TransactionLedger {d.transaction_ledger}")
        print("Press Ctrl-C to stop.")
    sys.stdout.flush()


def _funding(values: list[str]) -> dict[str, int]:
    funded: dict[str, int] = {}
    for value in values:
        address, _, amount = value.partition("=")
        if not is_address(address):
            raise typer.BadParameter(
                f"{address!r} is not an address (0x followed by 40 hex digits)", param_hint="--fund"
            )
        wei = DEFAULT_FUNDING_WEI
        if amount:
            try:
                ether = Decimal(amount)
            except InvalidOperation:
                raise typer.BadParameter(
                    f"{amount!r} is not an amount of ether (write e.g. {address}=100)", param_hint="--fund"
                ) from None
            if not ether.is_finite() or ether < 0:
                raise typer.BadParameter(f"{amount!r} is not a non-negative amount of ether", param_hint="--fund")
            wei = int(ether * WEI_PER_ETHER)
            if wei >= 2**255:
                raise typer.BadParameter(
                    f"{amount!r} ether does not fit an account balance (at most about 5.7e58 ether)",
                    param_hint="--fund",
                )
        funded[to_checksum_address(address)] = wei
    return funded


def _log_to_stderr() -> None:
    logger = logging.getLogger("dataseal")
    if not any(getattr(h, "_dataseal_node", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("dataseal node: %(message)s"))
        handler._dataseal_node = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if "--verbose" in sys.argv or "-v" in sys.argv else logging.INFO)


def register(app: typer.Typer) -> None:
    app.command("node")(node)
