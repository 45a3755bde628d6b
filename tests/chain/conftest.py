"""Backends for the client tests: the same test runs against a real hardhat node and against the
embedded chain (in-process, and over its HTTP server where a test needs a socket).

A :class:`Backend` has a funded "bank" account that signs locally, so that nothing depends on a node
holding unlocked accounts (the embedded chain holds none).
"""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from dataseal.chain.connection import Connection, connect
from dataseal.chain.contracts.deploy import deploy_contracts
from dataseal.chain.contracts.deployment import Deployment
from dataseal.chain.sending.sender import LocalSender

BANK_WEI = 10**24
ETH = 10**18


@dataclass
class Backend:
    """One chain to run a test against."""

    name: str
    node: Connection
    bank: LocalSender
    mine: Callable[[], None]
    tmp: Path
    _paused: Callable[[Backend], Any] = field(repr=False, default=None)  # type: ignore[assignment]

    @property
    def w3(self) -> Web3:
        return self.node.w3

    def sender(self, account: LocalAccount, **options: Any) -> LocalSender:
        options.setdefault("endpoint", self.node.endpoint)
        return LocalSender(account, **options)

    def fund(self, wei: int = 10 * ETH) -> LocalAccount:
        """A new account holding ``wei``."""
        account = Account.create()
        if wei:
            receipt = self.bank.send(self.w3, {"to": account.address, "value": wei, "gas": 21_000})
            assert receipt["status"] == 1
        return account

    def deploy(self, sender: LocalSender | None = None, **options: Any) -> Deployment:
        return deploy_contracts(self.w3, sender or self.sender(self.fund()), **options)

    @contextmanager
    def paused(self) -> Iterator[Paused]:
        """A chain that mines only when told to (``mine``), with a funded account."""
        with self._paused(self) as paused:
            yield paused


@dataclass
class Paused:
    node: Connection
    account: LocalAccount
    mine: Callable[[], None]


# ---------------------------------------------------------------------------------- hardhat


@contextmanager
def _hardhat_paused(backend: Backend) -> Iterator[Paused]:
    account = backend.fund()
    backend.w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    try:
        yield Paused(backend.node, account, backend.mine)
    finally:
        backend.w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
        backend.mine()  # whatever a test left in the pool


@pytest.fixture
def hardhat_backend(hardhat_url: str, tmp_path: Path) -> Backend:
    node = connect(hardhat_url)
    bank_key = Account.create()
    funder = node.w3.eth.accounts[9]
    node.w3.eth.wait_for_transaction_receipt(
        node.w3.eth.send_transaction({"from": funder, "to": bank_key.address, "value": 100 * ETH})
    )

    def mine() -> None:
        node.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    return Backend("hardhat", node, LocalSender(bank_key, endpoint=node.endpoint), mine, tmp_path, _hardhat_paused)


# ---------------------------------------------------------------------------------- embedded


def open_embedded(folder: Path, funded: list[str], *, manual: bool = False) -> Any:
    from dataseal.chain.embedded.chain import CHAIN_FILENAME, EmbeddedChain, Genesis, Mining

    folder.mkdir(parents=True, exist_ok=True)
    return EmbeddedChain.open(
        folder / CHAIN_FILENAME,
        genesis=Genesis(alloc={address: BANK_WEI for address in funded}),
        mining=Mining("manual") if manual else Mining(),
    )


@contextmanager
def _embedded_paused(backend: Backend) -> Iterator[Paused]:
    from dataseal.chain.embedded.provider import EmbeddedProvider

    account = Account.create()
    chain = open_embedded(backend.tmp / "manual-chain", [account.address], manual=True)
    try:
        node = connect(EmbeddedProvider(chain), name="the embedded chain (manual mining)")
        yield Paused(node, account, lambda: chain.mine() and None)
    finally:
        chain.close(flush=False)


@pytest.fixture
def embedded_backend(tmp_path: Path) -> Iterator[Backend]:
    from dataseal.chain.embedded.provider import EmbeddedProvider

    bank_key = Account.create()
    chain = open_embedded(tmp_path / "data", [bank_key.address])
    try:
        node = connect(EmbeddedProvider(chain), name=f"the embedded chain in {tmp_path / 'data'}")
        yield Backend("embedded", node, LocalSender(bank_key, endpoint=node.endpoint),
                      lambda: chain.mine() and None, tmp_path, _embedded_paused)
    finally:
        chain.close()


@pytest.fixture(params=["hardhat", "embedded"])
def backend(request: pytest.FixtureRequest) -> Backend:
    """Each test using it runs twice: on a real hardhat node and on the embedded chain in-process."""
    if request.param == "hardhat":
        request.applymarker(pytest.mark.hardhat)
        return request.getfixturevalue("hardhat_backend")  # type: ignore[no-any-return]
    return request.getfixturevalue("embedded_backend")  # type: ignore[no-any-return]


@dataclass
class HttpChain:
    url: str
    bank: LocalAccount
    stop: Callable[[], None]


@pytest.fixture
def embedded_http(tmp_path: Path) -> Iterator[HttpChain]:
    """The embedded chain served over HTTP by its own server on a free loopback port."""
    from dataseal.chain.embedded.rpc import RpcDispatcher
    from dataseal.chain.embedded.server import RpcServer

    bank = Account.create()
    chain = open_embedded(tmp_path / "http-data", [bank.address])
    server = RpcServer(RpcDispatcher(chain), "127.0.0.1", 0)
    server.start()
    stopped = False

    def stop() -> None:
        nonlocal stopped
        if not stopped:
            stopped = True
            server.shutdown()

    try:
        yield HttpChain(server.url, bank, stop)
    finally:
        stop()
        chain.close()


_SERVE = """
import sys
from dataseal.chain.embedded.chain import CHAIN_FILENAME, EmbeddedChain, Genesis
from dataseal.chain.embedded.rpc import RpcDispatcher
from dataseal.chain.embedded.server import RpcServer
folder, bank = sys.argv[1], sys.argv[2]
chain = EmbeddedChain.open(f"{folder}/{CHAIN_FILENAME}", genesis=Genesis(alloc={bank: 10**24}))
server = RpcServer(RpcDispatcher(chain), "127.0.0.1", 0)
print(server.url, flush=True)
server.serve_forever()
"""


@pytest.fixture
def embedded_process(tmp_path: Path) -> Iterator[HttpChain]:
    """The embedded chain served over HTTP by a separate process, which ``stop`` kills (by PID)."""
    bank = Account.create()
    folder = tmp_path / "process-data"
    folder.mkdir()
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVE, str(folder), bank.address], cwd=root, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(root)},
    )

    def stop() -> None:
        if proc.poll() is None:
            proc.kill()
        proc.wait()

    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://"):
            stop()
            raise RuntimeError(f"the embedded node did not start: {proc.stderr.read() if proc.stderr else ''}")
        yield HttpChain(url, bank, stop)
    finally:
        stop()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
