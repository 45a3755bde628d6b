"""`dataseal node`: the embedded chain with its operator account, contracts and JSON-RPC server.

First start in a data folder (default ``./.dataseal``):

1. the operator account: the keystore's only account, or a new one. A new account is encrypted
   with the password given (``--password-file`` or ``DATASEAL_PASSWORD``), or with a generated
   one written to ``<data>/operator.password`` (mode 0600), so that the node starts with no
   terminal and no arguments;
2. the chain, in ``<data>/chain.sqlite``, with the operator (and any ``--fund`` address)
   funded at genesis;
3. the three contracts, deployed by the operator, and the deployment record
   (``<data>/deployments.json``, keyed by chain id).

A restart finds all three and reuses them. :meth:`EmbeddedNode.start` does the work and returns what it
did (:class:`NodeStartup`) for the front door to report; it prints nothing.

:meth:`EmbeddedNode.stop` ends serving and closes the chain (mining the waiting transactions
first) within a grace: a request still running after it has its connection cut, and a chain
still busy after it (a request holding it) is left to the process's exit, which loses nothing
but a block being written (the chain reopens at its last whole block, the journal keeps the
waiting transactions). A node whose miner died (:attr:`EmbeddedNode.failure`) is to be stopped:
it would accept transactions that no block takes.
"""
from __future__ import annotations

import os
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import to_canonical_address, to_checksum_address
from pydantic import SecretStr
from web3 import Web3

from dataseal.chain.accounts.keystore import (
    LIGHT_SCRYPT_N,
    STANDARD_SCRYPT_N,
    Keystore,
    keystore_dir,
)
from dataseal.chain.accounts.passwords import (
    PasswordFile,
    create_password_file,
    first_password,
    given_sources,
    read_password_file,
)
from dataseal.chain.contracts.deploy import deploy_contracts
from dataseal.chain.contracts.deployment import (
    ContractConfig,
    Deployment,
    deployments_path,
    get_deployment,
    save_deployment,
)
from dataseal.chain.embedded.chain import EmbeddedChain, chain_file
from dataseal.chain.embedded.defaults import DEFAULT_FUNDING_WEI
from dataseal.chain.embedded.errors import EmbeddedChainError, NodeStartError
from dataseal.chain.embedded.probe import has_chain
from dataseal.chain.embedded.provider import EmbeddedProvider
from dataseal.chain.embedded.rpc import RpcDispatcher
from dataseal.chain.embedded.server import RpcServer
from dataseal.chain.embedded.settings import Exposure, Genesis, Mining, Tuning
from dataseal.chain.errors import OutdatedDeployment
from dataseal.chain.node.layout import OPERATOR_PASSWORD_FILENAME
from dataseal.chain.sending.sender import LocalSender
from dataseal.errors import ErrorKind

SERVING_SWITCH_INTERVAL = 0.0002  # seconds a thread may keep the GIL while another waits (Python's default: 0.005)
STOP_GRACE_SECONDS = 5.0  # how long stopping waits for requests in progress, and then for the chain to close


class MinerStopped(EmbeddedChainError):
    """The node's miner thread died: the node stopped rather than accept transactions no block would take."""

    kind = ErrorKind.INTERNAL


@dataclass(frozen=True)
class NodeConfig:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8545
    chain_id: int | None = None  # None: the default for a new chain, the chain's own when reopening
    fund: Mapping[str, int] = field(default_factory=dict)  # extra genesis balances (address -> wei)
    mining: Mining = field(default_factory=Mining)
    account: str | None = None  # which keystore account operates the node (default: the only one)
    password: SecretStr | None = field(default=None, repr=False)  # the operator keystore's (a setting)
    password_file: Path | None = None  # ... or the file holding it
    light_kdf: bool = False  # a cheap scrypt for a new operator keystore (tests, throwaway chains)
    tuning: Tuning = field(default_factory=Tuning)  # the chain's knobs (call limits, ...)
    exposure: Exposure = field(default_factory=Exposure)  # who the JSON-RPC answers, and what


@dataclass(frozen=True)
class NodeStartup:
    """What :meth:`EmbeddedNode.start` found or made; ``notes`` are the things worth telling a person."""

    rpc_url: str
    chain_id: int
    block: int
    data_dir: Path
    chain_file: Path
    operator: str  # "" when the chain was not made by a node and no keystore account is known
    deployment: Deployment
    mining: str
    notes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "rpc_url": self.rpc_url,
            "chain_id": self.chain_id,
            "block": self.block,
            "data_dir": str(self.data_dir),
            "chain_file": str(self.chain_file),
            "operator": self.operator or None,
            "deployment": self.deployment.to_json(),
            "mining": self.mining,
            "pid": os.getpid(),
        }


@dataclass(frozen=True)
class NodeStopped:
    """How :meth:`EmbeddedNode.stop` ended: the head block once stopped, and whether the chain closed
    (``busy`` says what it was still doing when the grace ran out, else None)."""

    block: int
    busy: str | None = None


class EmbeddedNode:
    """A started node: call :meth:`serve_forever` (or :meth:`start_serving`) then :meth:`stop`."""

    def __init__(self, chain: EmbeddedChain, server: RpcServer, startup: NodeStartup) -> None:
        self.chain = chain
        self.server = server
        self.startup = startup
        self._switch_interval: float | None = None  # the interpreter's own, while serving with a shorter one

    @classmethod
    def start(cls, config: NodeConfig) -> EmbeddedNode:
        """Bind the port, open (or create) the chain, the operator and the contracts."""
        data_dir = Path(config.data_dir)
        try:
            data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise NodeStartError(f"cannot create the data folder {data_dir}: {exc.strerror}",
                                 hint="choose a folder you can write to", options=("data_dir",)) from None
        notes: list[str] = []
        # The port first: when it is taken, nothing has been created yet.
        server = RpcServer(None, config.host, config.port, config.exposure)
        chain: EmbeddedChain | None = None
        try:
            file = chain_file(data_dir)
            scrypt_n = LIGHT_SCRYPT_N if config.light_kdf else STANDARD_SCRYPT_N
            keystore = Keystore(keystore_dir(data_dir), scrypt_n=scrypt_n)
            # Blocks come as soon as transactions wait while the node deploys; then the chosen mode.
            idle = Mining("idle")
            if _chain_exists(file):
                chain = EmbeddedChain.open(file, genesis=Genesis(chain_id=config.chain_id, alloc=dict(config.fund)),
                                           mining=idle, tuning=config.tuning)
                if config.account:
                    operator = keystore.find(config.account).address
                else:
                    operator = chain.meta("operator") or _existing_operator(keystore, config, allow_none=True)
            else:
                operator = _existing_operator(keystore, config, allow_none=True) or _create_operator(
                    keystore, data_dir, config, notes
                )
                alloc: dict[str, int] = {operator: DEFAULT_FUNDING_WEI}
                alloc.update((to_checksum_address(a), w) for a, w in config.fund.items())
                chain = EmbeddedChain.open(file, genesis=Genesis(chain_id=config.chain_id, alloc=alloc), mining=idle,
                                           tuning=config.tuning)
                chain.set_meta("operator", operator)
                notes.append(f"created chain {chain.chain_id} in {file}, operator {operator} funded at genesis")
            dispatcher = RpcDispatcher(chain, config.exposure)
            server.attach(dispatcher)
            deployment = _ensure_deployment(chain, dispatcher, keystore, operator, data_dir, config, notes)
            if config.mining != idle:
                chain.set_mining(config.mining)
        except BaseException:
            server.shutdown()
            if chain is not None:
                chain.close()
            raise
        mining: str = config.mining.mode
        if config.mining.mode == "interval":
            mining += f" every {config.mining.block_time:g} s"
        startup = NodeStartup(
            rpc_url=server.url,
            chain_id=chain.chain_id,
            block=int(chain.head().block_number),
            data_dir=data_dir,
            chain_file=chain.path,
            operator=operator,
            deployment=deployment,
            mining=mining,
            notes=tuple(notes),
        )
        return cls(chain, server, startup)

    def serve_forever(self) -> None:
        self._shorten_switch_interval()
        self.server.serve_forever()

    def start_serving(self) -> None:
        self._shorten_switch_interval()
        self.server.start()

    @property
    def failure(self) -> str | None:
        """Why the node cannot go on (its miner died), None while it can."""
        return self.chain.miner_failure

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> NodeStopped:
        """Stop serving, then mine what is pending and close the chain, each waited for ``grace`` seconds at most.

        Requests in progress get their answers (calls stop at their own time limit); one still
        running after the grace has its connection cut. The chain is closed by a thread of its
        own: when it is still busy after the grace (a request holds it), it is left to close when
        it can, or to end with the process.
        """
        self.server.shutdown(grace)
        closing = threading.Thread(target=self.chain.close, kwargs={"flush": True}, name="dataseal-close",
                                   daemon=True)
        closing.start()
        closing.join(grace)
        if self._switch_interval is not None:
            sys.setswitchinterval(self._switch_interval)
            self._switch_interval = None
        if closing.is_alive():
            return NodeStopped(self.chain.block_number,
                               busy=f"the chain was still busy after {grace:g} s (a request held it, or the "
                               "waiting transactions took longer to mine)")
        return NodeStopped(self.chain.block_number)

    def _shorten_switch_interval(self) -> None:
        """Let request threads take the GIL from the miner within SERVING_SWITCH_INTERVAL.

        The miner executes blocks in Python while the server's threads accept transactions; with
        the interpreter's default 5 ms switch interval, every request that arrives meanwhile waits
        up to 5 ms before it is even read (and again at each point where it lets the GIL go:
        SQLite, the socket), so a client sending transactions one after another is held to the
        miner's pace. ``scripts/bench/chain.py`` measured ~190 registrations/s in flight over
        HTTP at 5 ms and ~225/s at 0.2 ms. Restored by :meth:`stop`.
        """
        if self._switch_interval is None:
            self._switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(self._switch_interval, SERVING_SWITCH_INTERVAL))


def _chain_exists(file: Path) -> bool:
    # Not the file's size: a first start that died before its genesis commit leaves tables but no
    # chain, and the next start must create the chain (and fund the operator) afresh.
    return has_chain(file)


def _existing_operator(keystore: Keystore, config: NodeConfig, *, allow_none: bool = False) -> str:
    if config.account:
        return keystore.find(config.account).address
    entries = keystore.list()
    if not entries and allow_none:
        return ""
    return keystore.default().address


def _create_operator(keystore: Keystore, data_dir: Path, config: NodeConfig, notes: list[str]) -> str:
    password = _given_password(config)
    if password is None:
        file = data_dir / OPERATOR_PASSWORD_FILENAME
        if file.exists():  # left by an earlier start that stopped before creating the account
            password = read_password_file(file, purpose="the operator keystore")
        else:
            password = create_password_file(file)
            notes.append(f"generated a password for the operator keystore in {file} (readable only by you)")
    address = keystore.create(password)
    notes.append(f"created the operator account {address} in {keystore.folder}")
    return address


def _given_password(config: NodeConfig) -> SecretStr | None:
    sources = given_sources(config.password, config.password_file)
    return first_password(sources, purpose="the operator keystore")[0] if sources else None


def _operator_password(data_dir: Path, config: NodeConfig) -> SecretStr:
    """The password given (its own errors stand), else the one generated at the first start."""
    given = _given_password(config)
    if given is not None:
        return given
    file = data_dir / OPERATOR_PASSWORD_FILENAME
    generated = PasswordFile(file, optional=True).read("the operator keystore")
    if generated is None:
        raise NodeStartError(
            f"the contracts must be deployed and the operator keystore is locked (no {file} was found)",
            hint="give the operator keystore's password", options=("password",),
        )
    return generated


def _ensure_deployment(
    chain: EmbeddedChain,
    dispatcher: RpcDispatcher,
    keystore: Keystore,
    operator: str,
    data_dir: Path,
    config: NodeConfig,
    notes: list[str],
) -> Deployment:
    # A record this node cannot use is replaced by a fresh set: contracts missing (a reset chain), from before
    # contracts v2, or whose code is not the one this dataseal ships (the embedded chain is this node's
    # alone). The registrations made under replaced contracts stay there: the note names them.
    def without_code(addresses: dict[str, str]) -> list[str]:
        return [name for name, address in addresses.items() if not chain.get_code(to_canonical_address(address))]

    try:
        recorded = get_deployment(data_dir, chain.chain_id)
    except OutdatedDeployment as outdated:
        recorded = None
        old = outdated.addresses
        if not old or without_code(old) == list(old):
            notes.append(f"the deployment record for chain {chain.chain_id} predates contracts v2 and names no "
                         "contract with code on this chain (it was created anew): deploying the v2 contracts")
        else:
            at = f" (AssetRegistry at {old['AssetRegistry']})" if "AssetRegistry" in old else ""
            notes.append(f"the deployment record for chain {chain.chain_id} predates contracts v2: deploying the v2 "
                         f"contracts; the registrations made under the v1 contracts{at} stay there")
    if recorded is not None:
        missing = without_code(recorded.addresses())
        stale = recorded.stale_code()
        if not missing and not stale:
            return recorded
        if missing:
            notes.append(
                f"the deployment record for chain {chain.chain_id} names addresses without code "
                f"({', '.join(missing)}): the chain was reset, deploying again"
            )
        else:
            notes.append(
                f"the deployment record for chain {chain.chain_id} names contracts whose code is not the one this "
                f"dataseal ships (the code of {', '.join(stale)} differs): deploying them again; the "
                f"registrations made under the old AssetRegistry at {recorded.asset_registry} stay there"
            )
    if not operator:
        raise NodeStartError(
            f"the contracts of chain {chain.chain_id} must be deployed and no operator account is known",
            hint=f"create or import an account in {data_dir} and fund it, or name a funded one",
            options=("account", "data_dir"),
        )
    account = keystore.unlock(operator, _operator_password(data_dir, config))
    w3 = Web3(EmbeddedProvider(dispatcher))
    # No review and no commitments (ContractConfig()): the embedded chain has one block producer, this node,
    # and no public mempool, so nobody sees a registration before it is mined and nobody can front-run it;
    # review is a deployment choice for shared networks (`dataseal deploy --notice-period`).
    deployment = deploy_contracts(w3, LocalSender(account, endpoint=f"the embedded chain in {data_dir}"),
                                  config=ContractConfig())
    save_deployment(data_dir, deployment)
    notes.append(
        f"deployed AssetRegistry {deployment.asset_registry}, GrantRegistry {deployment.grant_registry}, "
        f"TransactionLedger {deployment.transaction_ledger}; recorded in {deployments_path(data_dir)}"
    )
    return deployment
