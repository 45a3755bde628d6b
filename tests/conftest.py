"""Shared fixtures: an in-process py-evm chain (eth-tester) with dataseal deployed."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from eth_tester import EthereumTester, PyEVMBackend
from web3 import EthereumTesterProvider, Web3

from chain.contracts import Contracts, Deployment, UnlockedSender, bind, deploy_contracts


@dataclass
class PyEvmChain:
    w3: Web3
    tester: EthereumTester
    deployment: Deployment
    contracts: Contracts
    operator: UnlockedSender
    owner: UnlockedSender
    user: UnlockedSender
    buyer: UnlockedSender
    reviewer: UnlockedSender

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])


def _chain(review_mode: bool) -> PyEvmChain:
    tester = EthereumTester(PyEVMBackend())
    w3 = Web3(EthereumTesterProvider(tester))
    operator, owner, user, buyer, reviewer = (UnlockedSender(a) for a in w3.eth.accounts[:5])
    deployment = deploy_contracts(w3, operator, review_mode=review_mode)
    return PyEvmChain(w3, tester, deployment, bind(w3, deployment), operator, owner, user, buyer, reviewer)


@pytest.fixture
def pyevm() -> PyEvmChain:
    return _chain(review_mode=False)


@pytest.fixture
def pyevm_review() -> PyEvmChain:
    return _chain(review_mode=True)


# --------------------------------------------------------------------------- hardhat node

import os  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def hardhat_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `hardhat node` process on a free loopback port, stopped by PID afterwards."""
    hardhat = ROOT / "node_modules" / ".bin" / "hardhat"
    assert hardhat.exists(), "node_modules is missing: run `make test` (it runs npm ci)"
    port = _free_port()
    log = tmp_path_factory.mktemp("hardhat") / "node.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            ["node", str(hardhat), "node", "--hostname", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "HARDHAT_DISABLE_TELEMETRY_PROMPT": "1"},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"hardhat node exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                if Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 2})).is_connected():
                    break
            except Exception:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"hardhat node did not answer on {url} within 90 s: {log.read_text()[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class HardhatChain:
    w3: Web3
    deployment: Deployment
    contracts: Contracts
    operator: UnlockedSender
    owner: UnlockedSender
    user: UnlockedSender
    buyer: UnlockedSender

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])


@pytest.fixture
def hardhat(hardhat_url: str) -> HardhatChain:
    """dataseal freshly deployed on the session's hardhat node (each test gets new contracts)."""
    w3 = Web3(Web3.HTTPProvider(hardhat_url))
    operator, owner, user, buyer = (UnlockedSender(a) for a in w3.eth.accounts[:4])
    deployment = deploy_contracts(w3, operator)
    return HardhatChain(w3, deployment, bind(w3, deployment), operator, owner, user, buyer)
