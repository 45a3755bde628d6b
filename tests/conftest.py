"""Shared fixtures: dataseal deployed on an in-process py-evm chain (eth-tester) and on a real
`hardhat node`, with accounts that sign locally (the product's own sender), so that the tests go
through the one contract API the product uses."""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester, PyEVMBackend
from web3 import EthereumTesterProvider, Web3

from dataseal.chain.accounts.eip712 import LEDGER_DOMAIN_NAME, Domain, sign_trade
from dataseal.chain.contracts.deploy import deploy_contracts
from dataseal.chain.contracts.deployed import DatasealContracts
from dataseal.chain.contracts.deployment import DEFAULT_NOTICE_PERIOD, ContractConfig, Deployment
from dataseal.chain.contracts.records import TradeTerms
from dataseal.chain.sending.sender import LocalSender
from tests.support.devnode import anvil_node, hardhat_node

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "anvil: needs an anvil node process (started by the fixture)")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No DATASEAL_*, DATABASE_URL or terminal size from the shell running the tests: every test states its
    settings."""
    for name in list(os.environ):
        if name.startswith("DATASEAL_") or name in ("DATABASE_URL", "COLUMNS", "LINES"):  # (help wraps to COLUMNS)
            monkeypatch.delenv(name)
    yield


@dataclass
class Chain:
    """dataseal deployed on one chain, and funded accounts that sign locally.

    ``as_(sender)`` gives the three contract clients writing as that account; ``travel(seconds)``
    moves the chain's clock forward (a notice period or a commitment's age passes without waiting).
    """

    w3: Web3
    deployment: Deployment
    operator: LocalSender
    owner: LocalSender
    user: LocalSender
    buyer: LocalSender
    reviewer: LocalSender
    tester: EthereumTester | None = None  # the eth-tester behind ``w3``, if any (its clock is moved directly)
    keys: dict[str, LocalAccount] = field(default_factory=dict)  # address -> key, where the test holds them

    def as_(self, sender: LocalSender) -> DatasealContracts:
        return DatasealContracts.bind(self.w3, self.deployment, sender)

    @property
    def reader(self) -> DatasealContracts:
        """The clients without a sender: they read."""
        return DatasealContracts.bind(self.w3, self.deployment)

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def travel(self, seconds: int) -> int:
        """Mine a block ``seconds`` after the latest one (eth-tester, or a hardhat node's
        ``evm_setNextBlockTimestamp`` + ``evm_mine``): calls then see that time; it is returned."""
        target = self.now() + seconds
        if self.tester is not None:
            # eth-tester mines a block at one second before the time it is given (the next block gets that
            # time), and calls see the latest block: ask for one second more so that the latest block is at target.
            self.tester.time_travel(target + 1)
        else:
            self.w3.provider.make_request("evm_setNextBlockTimestamp", [target])  # type: ignore[arg-type]
            self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        return target

    def countersign(self, terms: TradeTerms, *, signer: str | None = None, deadline: int | None = None,
                    nonce: int | None = None) -> tuple[int, bytes]:
        """(deadline, signature) of ``terms`` by its buyer (or ``signer``) with the buyer's next nonce."""
        deadline = self.now() + 3600 if deadline is None else deadline
        nonce = self.reader.ledger.nonce_of(terms.buyer) if nonce is None else nonce
        domain = Domain(LEDGER_DOMAIN_NAME, self.w3.eth.chain_id, self.deployment.transaction_ledger)
        return deadline, sign_trade(self.keys[signer or terms.buyer].key, domain, terms, nonce, deadline)


def _senders(w3: Web3, accounts: list[LocalAccount]) -> list[LocalSender]:
    return [LocalSender(account, endpoint="the test chain") for account in accounts]


def pyevm_chain(config: ContractConfig | None = None) -> Chain:
    """dataseal deployed with ``config`` on a fresh in-process py-evm chain (the fixtures below use it)."""
    tester = EthereumTester(PyEVMBackend())
    w3 = Web3(EthereumTesterProvider(tester))
    keys = [Account.from_key(key.to_bytes()) for key in tester.backend.account_keys[:5]]
    operator, owner, user, buyer, reviewer = _senders(w3, keys)
    deployment = deploy_contracts(w3, operator, config=config)
    return Chain(w3, deployment, operator, owner, user, buyer, reviewer, tester,
                 {key.address: key for key in keys})


@pytest.fixture
def pyevm() -> Chain:
    """dataseal on a fresh in-process py-evm chain (eth-tester): no review, no commitments."""
    return pyevm_chain(ContractConfig())


@pytest.fixture
def pyevm_review() -> Chain:
    """The same in review mode: registrations are Pending for the default notice period (15 days; pass
    it with ``chain.travel``), during which anyone may object. Nobody holds REVIEWER yet."""
    return pyevm_chain(ContractConfig(notice_period=DEFAULT_NOTICE_PERIOD))


@pytest.fixture
def pyevm_commits() -> Chain:
    """The same with commitments required (revealed one minute to one day after they were made)."""
    return pyevm_chain(ContractConfig.with_commits())


@pytest.fixture(scope="session")
def hardhat_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `hardhat node` process on a free loopback port, stopped by PID afterwards."""
    with hardhat_node(tmp_path_factory.mktemp("hardhat"), root=ROOT) as url:
        yield url


@pytest.fixture(scope="session")
def anvil_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `anvil` process on a free loopback port, stopped by PID afterwards (one per worker: the indexer's
    and the services' tests share it)."""
    with anvil_node(tmp_path_factory.mktemp("anvil")) as url:
        yield url


@pytest.fixture
def hardhat(hardhat_url: str) -> Chain:
    """dataseal freshly deployed on the session's hardhat node (each test gets new contracts and new
    accounts, funded by one of the node's own)."""
    w3 = Web3(Web3.HTTPProvider(hardhat_url))
    accounts = [Account.create() for _ in range(5)]
    funder = w3.eth.accounts[0]
    for account in accounts:
        w3.eth.wait_for_transaction_receipt(
            w3.eth.send_transaction({"from": funder, "to": account.address, "value": 10**20})
        )
    operator, owner, user, buyer, reviewer = _senders(w3, accounts)
    return Chain(w3, deploy_contracts(w3, operator), operator, owner, user, buyer, reviewer)
