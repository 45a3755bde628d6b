"""`dataseal up`: the whole product in one process — the embedded chain (or a real node), the indexer
following it into the registry database, and the HTTP API over both."""
from __future__ import annotations

import gc
import json
import logging
import math
import os
import shlex
import shutil
import signal
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

import typer

from dataseal.chain.embedded.settings import MAX_BLOCK_TIME, Exposure
from dataseal.chain.node.layout import remove_marker, write_marker
from dataseal.cli.commands.node import (
    ALLOW_HOST,
    CORS_ORIGIN,
    EXPOSURE_FLAGS,
    HEALTH_CHECK_SECONDS,
    OPERATOR,
    PASSWORD_FILE,
    STOP_SIGNALS,
    _StopSignals,
)
from dataseal.cli.errors import render
from dataseal.cli.options import DATA_DIR, settings
from dataseal.cli.output import note
from dataseal.errors import DatasealError
from dataseal.registry.context import keystore_of, signing_entry
from dataseal.registry.indexer import Indexer, SyncReport
from dataseal.registry.registry import Registry
from dataseal.registry.settings import DEFAULT_BASE_URL, Settings

if TYPE_CHECKING:
    from dataseal.api.server import ApiServer
    from dataseal.chain.node.start import EmbeddedNode, NodeConfig

DEFAULT_RPC_PORT = 8545
DEFAULT_API_PORT = 8000
#: Names by which the API is always reached (beside those given with --allow-host): this machine's.
LOCAL_API_HOSTS = ("127.0.0.1", "localhost")
UNSPECIFIED_HOSTS = ("0.0.0.0", "::", "")
#: What `up` prints in front of its lines on stderr.
PREFIX = "dataseal up"


def up(
    data_dir: Path | None = DATA_DIR,
    host: str = typer.Option("127.0.0.1", "--host", help="Address the API and the embedded chain listen on. "
                             "0.0.0.0 exposes them to the network: only do that behind a firewall."),
    api_port: int = typer.Option(DEFAULT_API_PORT, "--api-port", min=0, max=65535,
                                 help="TCP port of the HTTP API (0: a free one)."),
    port: int | None = typer.Option(
        None, "--port", min=0, max=65535, show_default=False,
        help=f"TCP port of the embedded chain's JSON-RPC (default {DEFAULT_RPC_PORT}; 0: a free one).",
    ),
    rpc: str | None = typer.Option(
        None, "--rpc", show_default=False, help="JSON-RPC URL of a real node to serve instead of the embedded chain "
        "(its contracts deployed with `dataseal deploy`). Default: DATASEAL_RPC_URL, else the embedded chain.",
    ),
    database_url: str | None = typer.Option(
        None, "--database-url", show_default=False, help="SQLAlchemy URL of the registry database (e.g. "
        "postgresql+psycopg://dataseal@db/registry). Default: DATABASE_URL, else SQLite in the data folder.",
    ),
    block_time: float | None = typer.Option(
        None, "--block-time", show_default=False, help="Seconds between the embedded chain's blocks, at most 86400. "
        "Default 0: mine as soon as transactions wait.",
    ),
    chain_id: int | None = typer.Option(
        None, "--chain-id", min=1, show_default=False, help="Chain id of a new embedded chain; with --rpc, refuse "
        "any other chain.",
    ),
    account: str | None = OPERATOR,
    password_file: Path | None = PASSWORD_FILE,
    light_kdf: bool = typer.Option(
        False, "--light-kdf", help="Encrypt a new operator keystore with a light scrypt: faster, weaker; for tests "
        "and throwaway chains.",
    ),
    confirmations: int | None = typer.Option(
        None, "--confirmations", metavar="N", min=0, show_default=False, help="Blocks the indexer leaves behind the "
        "node's latest (default DATASEAL_CONFIRMATIONS or 0: the embedded chain's blocks are final).",
    ),
    poll_interval: float = typer.Option(1.0, "--poll-interval", metavar="SECONDS", min=0.0,
                                        help="Seconds between two syncs of the indexer."),
    allow_host: list[str] = ALLOW_HOST,
    cors_origin: list[str] = CORS_ORIGIN,
    dev: bool = typer.Option(False, "--dev", help="Serve the embedded chain's test methods (evm_mine)."),
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON line once everything serves (api_url, rpc_url, chain_id, block, "
        "operator, deployment, database, pid, next) instead of lines for people.",
    ),
) -> None:
    """Run dataseal as a service: the embedded chain, the indexer and the HTTP API, in one process.

    The embedded chain is served over JSON-RPC (like `dataseal node`: the first start creates the
    operator account, the chain and its contracts in the data folder; later starts reuse them); the
    indexer follows the chain's events into the registry database (SQLite in the data folder, or
    --database-url); the HTTP API serves both, with its documentation at /docs and /health. With
    --rpc it serves a real node instead of the embedded chain (the contracts deployed there with
    `dataseal deploy`).

    Both ports answer only this machine's programs and clients reaching them by an IP address
    (other names with --allow-host) and web pages only from the origins given with --cors-origin.
    Ctrl-C or SIGTERM stops the API, then the indexer, then the chain (waiting transactions are mined
    first), each within seconds.

    \b
    Examples:
      dataseal up
      dataseal up --api-port 8080 --port 8600 --json
      dataseal up --cors-origin http://localhost:3000
      dataseal up --rpc http://127.0.0.1:8545 --database-url postgresql+psycopg://dataseal@db/registry
    """
    cfg = settings(data_dir=data_dir, rpc_url=rpc, database_url=database_url, account=account,
                   password_file=password_file, chain_id=chain_id, confirmations=confirmations)
    embedded = not cfg.rpc_url
    if not embedded:
        given = [flag for flag, value in (("--port", port is not None), ("--block-time", block_time is not None),
                                          ("--light-kdf", light_kdf), ("--dev", dev)) if value]
        if given:
            raise typer.BadParameter(f"{', '.join(given)} only apply to the embedded chain, not to the node at "
                                     f"{cfg.rpc_url}", param_hint=given[0])
    block_time = block_time or 0.0
    if not (math.isfinite(block_time) and 0 <= block_time <= MAX_BLOCK_TIME):
        raise typer.BadParameter(f"{block_time:g} is not a number of seconds from 0 to {MAX_BLOCK_TIME:g} (a day)",
                                 param_hint="--block-time")
    exposure = Exposure(allowed_hosts=tuple(allow_host), cors_origins=tuple(cors_origin), dev=dev,
                        spellings=EXPOSURE_FLAGS)
    node_config = _node_config(cfg, host, DEFAULT_RPC_PORT if port is None else port, block_time, light_kdf,
                               exposure) if embedded else None

    # The API's modules load here, not when the CLI starts (every other command would pay for them).
    from dataseal.api.server import ApiServer

    _log_to_stderr()
    services = _Services(Path(cfg.data_dir), poll_interval)
    with _StopSignals() as signals:
        try:
            with _InterruptOnce():  # while starting, a stop signal interrupts what waits (a node that does not answer)
                # The API's port first: when it is taken, nothing has been created yet.
                services.api = ApiServer.bind(host, api_port)
                if node_config is not None:
                    services.start_node(node_config)
                ready = services.start(cfg, exposure)
            _announce(ready, as_json)
            failure = services.wait(signals)
            note(f"{PREFIX}: stopping" + (f" ({failure})" if failure else ""))
        finally:
            services.stop()
    if failure is not None:
        raise typer.Exit(1)


class _InterruptOnce:
    """SIGINT and SIGTERM raise KeyboardInterrupt, once (a second signal while the first is handled does nothing):
    start-up waits in calls a pipe cannot wake (a node that accepts and never answers); the stop that follows runs
    under the served phase's handlers again, which only note signals."""

    def __enter__(self) -> _InterruptOnce:
        self._raised = False
        self._previous = {sig: signal.signal(sig, self._interrupt) for sig in STOP_SIGNALS}
        return self

    def _interrupt(self, signum: int, frame: FrameType | None) -> None:
        if not self._raised:
            self._raised = True
            raise KeyboardInterrupt

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


@dataclass
class _Ready:
    """What `up` serves, once it does: for people and for the --json line."""

    api_url: str
    rpc_url: str
    chain_id: int
    block: int
    operator: str | None
    deployment: dict[str, Any]
    data_dir: Path
    database: str
    embedded: bool
    next_commands: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "api_url": self.api_url,
            "docs_url": f"{self.api_url}/docs",
            "health_url": f"{self.api_url}/health",
            "rpc_url": self.rpc_url,
            "chain_id": self.chain_id,
            "block": self.block,
            "operator": self.operator,
            "deployment": self.deployment,
            "data_dir": str(self.data_dir),
            "database": self.database,
            "embedded": self.embedded,
            "pid": os.getpid(),
            "next": self.next_commands,
        }


@dataclass
class _Services:
    """The parts `up` runs, started in order and stopped in the reverse order: the chain, the indexer, the API."""

    data_dir: Path
    poll_interval: float
    api: ApiServer | None = None
    node: EmbeddedNode | None = None
    indexer: _IndexerThread | None = None
    registries: list[Registry] = field(default_factory=list)
    _api_started: bool = False

    def start_node(self, config: NodeConfig) -> None:
        from dataseal.chain.node.start import EmbeddedNode  # py-evm loads here, not when the CLI starts

        self.node = EmbeddedNode.start(config)
        for line in self.node.startup.notes:
            note(f"{PREFIX}: {line}")
        self.node.start_serving()
        # Other commands of this data folder find the node here (the chain file is locked by it).
        write_marker(config.data_dir, self.node.startup.rpc_url)

    def start(self, cfg: Settings, exposure: Exposure) -> _Ready:
        """Open the registry, start the indexer and the API (the node, if any, serves already)."""
        from dataseal.api.app import create_app

        assert self.api is not None
        api_url = _reachable(self.api.url)
        update: dict[str, Any] = {}
        if self.node is not None:
            update["rpc_url"] = _reachable(self.node.startup.rpc_url)
        if "base_url" not in cfg.model_fields_set and api_url != DEFAULT_BASE_URL:
            update["base_url"] = api_url  # the certificates' QR codes open this API's pages
        operator = (self.node.startup.operator or None) if self.node is not None else _operator(cfg)
        if cfg.account is None and operator is not None:
            update["account"] = operator  # the service signs as its operator, also once the keystore holds others
        service_settings = cfg.model_copy(update=update)
        registry = self._registry(service_settings)
        deployment = registry.context.deployment()  # connects; the deployment live on the chain, or why not
        database = registry.db.url  # opens the database and brings its schema up to date
        connection = registry.context.connection
        self.indexer = _IndexerThread(self._registry(service_settings), self.poll_interval)
        allowed_hosts = _api_hosts(self.api.host, exposure)
        app = create_app(registry, cors_origins=exposure.cors_origins, allowed_hosts=allowed_hosts,
                         index_wait=self.indexer.wait_indexed)
        freeze_startup_heap()  # before the indexer runs: what its syncs make is collected as usual
        self.indexer.start()
        self.api.start(app)
        self._api_started = True
        startup = self.node.startup if self.node is not None else None
        return _Ready(
            api_url=api_url,
            rpc_url=startup.rpc_url if startup is not None else connection.endpoint,
            chain_id=connection.chain_id,
            block=startup.block if startup is not None else connection.info().latest_block,
            operator=(startup.operator or None) if startup is not None else _operator(service_settings),
            deployment=deployment.to_json(),
            data_dir=Path(cfg.data_dir).resolve(),
            database=database,
            embedded=startup is not None,
            next_commands=_next_commands(cfg, api_url, embedded=startup is not None,
                                         operator=service_settings.account),
        )

    def _registry(self, cfg: Settings) -> Registry:
        registry = Registry(cfg)
        self.registries.append(registry)
        return registry

    def wait(self, signals: _StopSignals) -> str | None:
        """Wait for a stop signal (None) or a part's failure (what failed)."""
        while not signals.received(HEALTH_CHECK_SECONDS):
            if self.node is not None and self.node.failure is not None:
                return f"the chain's miner stopped: {self.node.failure}"
            if self.api is not None and self.api.failure is not None:
                return f"the HTTP API stopped: {self.api.failure}"
        return None

    def stop(self) -> None:
        if self.api is not None:
            if self._api_started and not self.api.stop():
                note(f"{PREFIX}: requests to the API still in progress were cancelled")
            elif not self._api_started:
                self.api.stop()
        if self.indexer is not None and not self.indexer.stop():
            note(f"{PREFIX}: the indexer was still reading; its page is rolled back and the next start resumes there")
        for registry in self.registries:
            registry.close()
        if self.node is not None:
            remove_marker(self.data_dir)
            stopped = self.node.stop()
            if stopped.busy is not None:
                note(f"{PREFIX}: {stopped.busy}: stopped without waiting for it; the chain reopens at its last whole "
                     "block, and transactions still waiting stay in its journal")
            note(f"{PREFIX}: stopped at block {stopped.block}; the chain is in {self.node.startup.chain_file}")
        elif self._api_started:
            note(f"{PREFIX}: stopped")


class _IndexerThread:
    """The indexer following the chain from a thread (:meth:`Indexer.follow`) until :meth:`stop`; an error is
    told once on stderr and the next sync tried after the poll interval (a node or database back up resumes)."""

    def __init__(self, registry: Registry, poll_interval: float) -> None:
        self.registry = registry
        self.poll_interval = poll_interval
        self.last: SyncReport | None = None
        self._indexed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dataseal-indexer", daemon=True)
        self._problem: str | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self, grace: float = 5.0) -> bool:
        """Ask the indexer to stop after its current sync; whether it did within ``grace`` seconds."""
        self._stop.set()
        with self._indexed:  # a write waiting for the index stops waiting
            self._indexed.notify_all()
        if self._thread.ident is None:  # never started (the start stopped before it)
            return True
        self._thread.join(grace)
        return not self._thread.is_alive()

    def _run(self) -> None:
        indexer: Indexer | None = None
        while not self._stop.is_set():
            try:
                if indexer is None:
                    context = self.registry.context
                    indexer = Indexer(self.registry.db, context.connection.w3, context.deployment(),
                                      confirmations=self.registry.settings.confirmations,
                                      endpoint=context.connection.endpoint)
                indexer.follow(self._stop, self.poll_interval, on_sync=self._synced)
            except DatasealError as exc:
                self._tell(render(exc))
            except Exception as exc:  # a bug of ours: told, and tried again rather than silently gone
                self._tell(f"internal error: {type(exc).__name__}: {exc}")
            self._stop.wait(self.poll_interval)

    def wait_indexed(self, block: int, seconds: float) -> bool:
        """Wait until the index holds ``block``; whether it does. The wait is bounded by ``seconds`` and by two polls
        (the write worker waits here, one write at a time: a slow poll or an index catching up must not hold every
        write). An index kept confirmations behind the chain, failing, or stopping is not waited for."""
        if self.registry.settings.confirmations or self._problem is not None:
            return False

        def holds() -> bool:
            return self._stop.is_set() or (self.last is not None and self.last.tip - self.last.lag >= block)

        with self._indexed:
            return self._indexed.wait_for(holds, min(seconds, 2 * self.poll_interval + 1)) and not self._stop.is_set()

    def _synced(self, report: SyncReport) -> None:
        with self._indexed:
            self.last = report
            self._indexed.notify_all()
        if self._problem is not None:
            note(f"{PREFIX}: indexer: indexing again (block {report.to_block})")
            self._problem = None

    def _tell(self, problem: str) -> None:
        if self._stop.is_set() or problem == self._problem:
            return
        self._problem = problem
        note(f"{PREFIX}: indexer: {problem} (trying again every {self.poll_interval:g} s)")


def freeze_startup_heap() -> None:
    """Leave what start-up made (the chain's engine, web3, the app: millions of objects) out of Python's garbage
    collections from now on: a full collection walked all of it, some 100 ms in which no request was answered
    (the p99 of the API under load). Its garbage is collected first; what the service makes later is collected as
    usual (:func:`gc.freeze`). What start-up made and later drops in a reference cycle stays: bounded by the
    start-up heap, it does not grow."""
    gc.collect()
    gc.freeze()


def _log_to_stderr() -> None:
    """dataseal's log lines (the chain's, the indexer's) on stderr, after ``dataseal up:``."""
    logger = logging.getLogger("dataseal")
    if not any(getattr(h, "_dataseal_up", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(f"{PREFIX}: %(message)s"))
        handler._dataseal_up = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if "--verbose" in sys.argv or "-v" in sys.argv else logging.INFO)


def _node_config(cfg: Settings, host: str, port: int, block_time: float, light_kdf: bool,
                 exposure: Exposure) -> NodeConfig:
    from dataseal.chain.embedded.settings import Mining
    from dataseal.chain.node.start import NodeConfig

    return NodeConfig(
        data_dir=Path(cfg.data_dir), host=host, port=port, chain_id=cfg.chain_id,
        mining=Mining("interval", block_time) if block_time > 0 else Mining("idle"),
        account=cfg.account, password=cfg.password, password_file=cfg.password_file, light_kdf=light_kdf,
        exposure=exposure,
    )


def _reachable(url: str) -> str:
    """``url`` with an address that listens everywhere (0.0.0.0, ::) replaced by this machine's loopback."""
    for unspecified, loopback in (("//0.0.0.0:", "//127.0.0.1:"), ("//[::]:", "//[::1]:")):
        url = url.replace(unspecified, loopback)
    return url


def _api_hosts(host: str, exposure: Exposure) -> tuple[str, ...]:
    """The Host names the API answers: this machine's, the address it listens on, and those allowed."""
    if "*" in exposure.allowed_hosts:
        return ("*",)
    listening = () if host in UNSPECIFIED_HOSTS or host in LOCAL_API_HOSTS else (host,)
    return tuple(dict.fromkeys((*LOCAL_API_HOSTS, *listening, *exposure.allowed_hosts)))


def _operator(cfg: Settings) -> str | None:
    """The account the service signs with on a real node, when the keystore names one."""
    try:
        return signing_entry(cfg).address
    except DatasealError:
        return None


def _next_commands(cfg: Settings, api_url: str, *, embedded: bool, operator: str | None = None) -> list[str]:
    """Three commands to try, that work as printed in another terminal of this folder (the register names the
    operator's account once the keystore holds others: it would ask which one to sign with)."""
    command = _dataseal_command()
    options = ""
    if Path(cfg.data_dir).resolve() != Path(".dataseal").resolve():
        options += f" --data-dir {shlex.quote(str(cfg.data_dir))}"
    if not embedded and cfg.rpc_url:
        options += f" --rpc {shlex.quote(cfg.rpc_url)}"
    signer = ""
    if operator is not None and len(keystore_of(cfg).list()) > 1:
        signer = f" --account {operator}"
    return [
        f"curl {api_url}/health",
        f"echo 'hello, dataseal' > hello.txt && {command} register hello.txt{options}{signer}",
        f"{command} audit 1{options}",
    ]


def _dataseal_command() -> str:
    """How to run this dataseal from a shell in this folder: ``dataseal`` when that is the one on the PATH."""
    on_path = shutil.which("dataseal")
    script = Path(sys.argv[0])
    if script.name == "dataseal":
        if on_path is not None and Path(on_path).resolve() == script.resolve():
            return "dataseal"
        return shlex.quote(str(script))
    return "dataseal" if on_path is not None else f"{shlex.quote(sys.executable)} -m dataseal.cli.main"


def _announce(ready: _Ready, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(ready.to_json(), sort_keys=True) + "\n")
    else:
        d = ready.deployment
        chain = "embedded chain" if ready.embedded else "node"
        print(f"dataseal up: serving {ready.api_url} (public pages {ready.api_url}/, API docs {ready.api_url}/docs)")
        print(f"  {chain:<14} {ready.rpc_url} (chain {ready.chain_id}, block {ready.block})")
        print(f"  {'data':<14} {ready.data_dir}")
        print(f"  {'database':<14} {ready.database}")
        if ready.operator:
            print(f"  {'operator':<14} {ready.operator}")
        print(f"  {'contracts':<14} AssetRegistry {d['asset_registry']}")
        print(f"  {'':<14} GrantRegistry {d['grant_registry']}")
        print(f"  {'':<14} TransactionLedger {d['transaction_ledger']}")
        print("Try, in another terminal in this folder:")
        for command in ready.next_commands:
            print(f"  {command}")
        print("Press Ctrl-C to stop.")
    sys.stdout.flush()


def register(app: typer.Typer) -> None:
    app.command("up")(up)
