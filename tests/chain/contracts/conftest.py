"""Local py-evm fixtures for the contract client tests: deployments with given constants (no review,
review with a notice period, commitments required), and the chain's clock to move without waiting."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester, PyEVMBackend
from web3 import EthereumTesterProvider, Web3

from dataseal.chain.accounts.eip712 import LEDGER_DOMAIN_NAME, Domain, sign_trade
from dataseal.chain.contracts.deploy import deploy_contracts
from dataseal.chain.contracts.deployment import DEFAULT_NOTICE_PERIOD, ContractConfig
from dataseal.chain.contracts.records import TradeTerms
from dataseal.chain.sending.sender import LocalSender
from tests.conftest import Chain


class TestChain(Chain):
    """A :class:`Chain` on eth-tester, whose clock a test may move forward."""

    __test__ = False
    tester: EthereumTester
    keys: dict[str, LocalAccount]

    def travel(self, seconds: int) -> int:
        """Mine a block ``seconds`` after the latest one; its timestamp (the chain's time now)."""
        target = self.now() + seconds
        self.tester.time_travel(target + 1)  # eth-tester mines the block one second before the time it is given
        assert self.now() == target
        return target

    def countersign(self, terms: TradeTerms, *, signer: str | None = None, deadline: int | None = None,
                    nonce: int | None = None) -> tuple[int, bytes]:
        """(deadline, signature) of ``terms`` by its buyer (or ``signer``) with the buyer's next nonce."""
        deadline = self.now() + 3600 if deadline is None else deadline
        nonce = self.reader.ledger.nonce_of(terms.buyer) if nonce is None else nonce
        domain = Domain(LEDGER_DOMAIN_NAME, self.w3.eth.chain_id, self.deployment.transaction_ledger)
        return deadline, sign_trade(self.keys[signer or terms.buyer].key, domain, terms, nonce, deadline)


def pyevm_chain(config: ContractConfig | None = None) -> TestChain:
    tester = EthereumTester(PyEVMBackend())
    w3 = Web3(EthereumTesterProvider(tester))
    keys = [Account.from_key(key.to_bytes()) for key in tester.backend.account_keys[:5]]
    operator, owner, user, buyer, reviewer = (LocalSender(key, endpoint="the test chain") for key in keys)
    deployment = deploy_contracts(w3, operator, config=config)
    chain = TestChain(w3, deployment, operator, owner, user, buyer, reviewer)
    chain.tester = tester
    chain.keys = {key.address: key for key in keys}
    return chain


@pytest.fixture
def pyevm() -> TestChain:
    """dataseal on a fresh in-process py-evm chain: no review, no commitments."""
    return pyevm_chain()


@pytest.fixture
def pyevm_review() -> TestChain:
    """The same in review mode (the default notice period); nobody holds REVIEWER yet."""
    return pyevm_chain(ContractConfig(notice_period=DEFAULT_NOTICE_PERIOD))


@pytest.fixture
def pyevm_commits() -> TestChain:
    """The same with commitments required (one minute to one day old)."""
    return pyevm_chain(ContractConfig.with_commits())


@pytest.fixture
def make_chain() -> Callable[[ContractConfig | None], TestChain]:
    return pyevm_chain
