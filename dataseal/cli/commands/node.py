"""`dataseal node`: run the embedded chain and serve it over JSON-RPC."""
from __future__ import annotations

import json
import logging
import math
import os
import select
import signal
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING

import typer
from eth_utils import is_address, to_checksum_address

from dataseal.chain.embedded.defaults import (
    DEFAULT_CALL_GAS_CAP,
    DEFAULT_CALL_TIMEOUT,
    DEFAULT_CHAIN_ID,
    DEFAULT_FUNDING_WEI,
)
from dataseal.chain.embedded.settings import DEFAULT_MAX_RESPONSE_BYTES, MAX_BLOCK_TIME
from dataseal.chain.node.layout import remove_marker, write_marker
from dataseal.cli.options import DATA_DIR, settings
from dataseal.cli.output import note

if TYPE_CHECKING:
    from dataseal.chain.node.start import NodeStartup

WEI_PER_ETHER = 10**18
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
HEALTH_CHECK_SECONDS = 0.5  # how often the main thread looks at the miner while it waits for a stop signal
#: how the options of the node's exposure are spelled here, for the messages its clients read
EXPOSURE_FLAGS = {"allowed_hosts": "--allow-host", "cors_origins": "--cors-origin", "dev": "--dev"}
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
ALLOW_HOST = typer.Option(
    [], "--allow-host", metavar="NAME", help="Also answer requests that reach the node by the name NAME (their "
    "Host header), e.g. when it listens on 0.0.0.0 behind a name. Repeatable; * answers any name. Without it "
    "only localhost and IP addresses are answered, so that no web page can reach the node by renaming itself "
    "(DNS rebinding; like geth's --http.vhosts).",
)
CORS_ORIGIN = typer.Option(
    [], "--cors-origin", metavar="URL", help="Let the web pages of this origin (scheme://host[:port], e.g. "
    "http://localhost:3000) call the node from a browser. Repeatable; * lets any page do it. Without it, "
    "requests from web pages are refused (like geth's --http.corsdomain). A browser wallet calls from its "
    "extension's origin (MetaMask in Chrome: chrome-extension://nkbihfbeogaeaoehlefnkodbefgpgknn).",
)


def node(
    data_dir: Path | None = DATA_DIR,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on. 0.0.0.0 exposes the node to "
                             "the network: only do that behind a firewall."),
    port: int = typer.Option(8545, "--port", help="TCP port of the JSON-RPC server.", min=0, max=65535),
    block_time: float = typer.Option(
        0.0, "--block-time", help="Seconds between blocks, at most 86400. 0 (the default) mines as soon as "
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
    allow_host: list[str] = ALLOW_HOST,
    cors_origin: list[str] = CORS_ORIGIN,
    dev: bool = typer.Option(
        False, "--dev", help="Start the node for development: serve the test methods (evm_mine, which mines a "
        "block now, optionally with a timestamp at most 15 minutes ahead). Off by default: any local program "
        "could otherwise fill the chain with empty blocks.",
    ),
    max_response_bytes: int = typer.Option(
        DEFAULT_MAX_RESPONSE_BYTES, "--max-response-bytes", min=1024, help="Largest response to one request or "
        "one batch (like geth's --rpc.batch-response-max-size): a larger result is refused with what to narrow, "
        "and a batch stops being answered once its responses reach it.",
    ),
    as_json: bool = STARTUP_JSON,
) -> None:
    """Run dataseal's embedded chain: a persistent EVM chain in the data folder, served over
    Ethereum JSON-RPC (web3, ethers, hardhat --network, MetaMask can use it).

    The first start creates what it needs in the data folder: an operator account (an encrypted
    keystore; its generated password goes to <data-dir>/operator.password, readable only by you,
    unless you give one with --password-file or DATASEAL_PASSWORD), the chain with the operator
    funded, and the three contracts with their deployment record. Later starts reuse all of it.

    Ctrl-C or SIGTERM stops the node cleanly: waiting transactions are mined first (for 5 s at most;
    a request still running then is cut). After a crash the chain reopens at its last whole block,
    and accepted transactions that were not mined yet are mined then. Should the miner stop, the
    node stops too (exit status 1) rather than accept transactions no block would take.

    Who is answered: programs on this machine (localhost) and clients reaching the node by an IP
    address; other names with --allow-host, web pages only from the origins given with
    --cors-origin; the test methods (evm_mine) only with --dev. Responses are at most 25 MB per
    request or batch (--max-response-bytes).

    \b
    Examples:
      dataseal node
      dataseal node --port 8600 --block-time 2
      dataseal node --data-dir /srv/dataseal --json
      dataseal node --fund 0x70997970C51812dc3A010C7d01b50e0d17dc79C8=100
      dataseal node --dev --cors-origin http://localhost:3000
    """
    cfg = settings(data_dir=data_dir, password_file=password_file, account=account)
    # py-evm loads here, not when the CLI starts (it is slow to import and raises the recursion limit).
    from dataseal.chain.embedded.settings import Exposure, Mining, Tuning
    from dataseal.chain.node.start import EmbeddedNode, MinerStopped, NodeConfig

    if not (math.isfinite(block_time) and 0 <= block_time <= MAX_BLOCK_TIME):
        raise typer.BadParameter(f"{block_time:g} is not a number of seconds from 0 to {MAX_BLOCK_TIME:g} (a day)",
                                 param_hint="--block-time")

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
        exposure=Exposure(allowed_hosts=tuple(allow_host), cors_origins=tuple(cors_origin), dev=dev,
                          max_response_bytes=max_response_bytes, spellings=EXPOSURE_FLAGS),
    )
    _log_to_stderr()
    failure: str | None = None
    with _StopSignals() as signals:
        try:
            running = EmbeddedNode.start(config)
            startup = running.startup
            for line in startup.notes:
                note(f"dataseal node: {line}")
            running.start_serving()
            # Other commands of this data folder find the node here (the chain file is locked by it).
            write_marker(config.data_dir, startup.rpc_url)
            _announce(startup, as_json)
            while not signals.received(HEALTH_CHECK_SECONDS) and running.failure is None:
                pass
            failure = running.failure
            if failure is not None:
                note(f"dataseal node: stopping: the miner stopped ({failure})")
            else:
                note("dataseal node: stopping (mining the waiting transactions first)")
            remove_marker(config.data_dir)
            stopped = running.stop()
            if stopped.busy is not None:
                note(f"dataseal node: {stopped.busy}: stopped without waiting for it; the chain reopens at its last "
                     f"whole block, and transactions still waiting stay in its journal")
            note(f"dataseal node: stopped at block {stopped.block}; the chain is in {startup.chain_file}")
        finally:
            remove_marker(config.data_dir)
    if failure is not None:
        raise MinerStopped(f"the node stopped because its miner stopped ({failure})",
                           hint="start the node again: accepted transactions are kept and mined then; the log "
                                "above tells why the miner stopped")


class _StopSignals:
    """SIGINT and SIGTERM, received as bytes on a pipe (:func:`signal.set_wakeup_fd`).

    The signals' own handler does nothing: it takes no lock, so that a signal arriving while
    another is handled (two Ctrl-C, a burst of SIGTERM) cannot deadlock it, as ``Event.set()``
    did (re-entered under its Condition's lock). The main thread waits on the pipe instead.
    """

    def __enter__(self) -> _StopSignals:
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        self._previous_fd = signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        self._previous = {sig: signal.signal(sig, _noted) for sig in STOP_SIGNALS}
        return self

    def received(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a stop signal; whether one came (since the last call)."""
        ready, _, _ = select.select([self._read], [], [], timeout)
        if not ready:
            return False
        try:
            while os.read(self._read, 4096):
                pass
        except BlockingIOError:
            pass
        return True

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(self._previous_fd)
        os.close(self._read)
        os.close(self._write)


def _noted(signum: int, frame: FrameType | None) -> None:
    """A stop signal's handler: nothing (the wakeup byte on the pipe is what tells the main thread)."""


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
