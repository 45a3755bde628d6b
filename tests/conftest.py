"""Shared fixtures: an in-process py-evm chain (eth-tester) with dataseal deployed."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from eth_tester import EthereumTester, PyEVMBackend
from web3 import EthereumTesterProvider, Web3

from dataseal.chain.contracts import Contracts, Deployment, UnlockedSender, bind, deploy_contracts


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

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

from dataseal.chain.devnode import hardhat_node  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def hardhat_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `hardhat node` process on a free loopback port, stopped by PID afterwards."""
    with hardhat_node(tmp_path_factory.mktemp("hardhat"), root=ROOT) as url:
        yield url


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
