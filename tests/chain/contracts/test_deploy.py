"""Deploying the three contracts: the ledger's address predicted from the deployer's nonce, the
record of what was deployed, and a deployment refused before anything is sent."""
from __future__ import annotations

import pytest

from dataseal.chain.contracts.artifacts import load_artifact
from dataseal.chain.contracts.deploy import creation_code, deploy_contracts, predict_create_address
from dataseal.chain.contracts.deployment import ContractConfig
from dataseal.chain.contracts.revert import decode_revert
from dataseal.chain.errors import ContractRevert, Reverted
from dataseal.errors import ConfigError
from tests.conftest import Chain, pyevm_chain


def test_the_ledger_address_is_predicted_from_the_deployer_nonce(pyevm: Chain) -> None:
    deployment = pyevm.deployment
    reader = pyevm.reader
    assert reader.grants.contract.functions.ledger().call() == deployment.transaction_ledger
    assert predict_create_address(deployment.deployer, 2) == deployment.transaction_ledger
    assert reader.ledger.contract.functions.grants().call() == deployment.grant_registry
    assert set(deployment.artifacts) == {"AssetRegistry", "GrantRegistry", "TransactionLedger"}
    assert deployment.artifacts["AssetRegistry"] == load_artifact("AssetRegistry").sha256
    assert deployment.deployer == pyevm.operator.address and deployment.review_mode is False
    assert reader.registry.contract.functions.ledger().call() == deployment.transaction_ledger


def test_creation_code_is_the_bytecode_and_the_encoded_constructor_arguments() -> None:
    code = creation_code("GrantRegistry", "0x" + "11" * 20, "0x" + "22" * 20)
    bytecode = bytes.fromhex(load_artifact("GrantRegistry").bytecode.removeprefix("0x"))
    assert code[: len(bytecode)] == bytecode
    assert code[len(bytecode):] == bytes(12) + b"\x11" * 20 + bytes(12) + b"\x22" * 20


def test_an_admin_that_is_not_an_address_is_refused_before_anything_is_sent(pyevm: Chain) -> None:
    nonce = pyevm.w3.eth.get_transaction_count(pyevm.operator.address)
    with pytest.raises(ConfigError, match="the admin 'nobody' is not an address") as refused:
        deploy_contracts(pyevm.w3, pyevm.operator, admin="nobody")
    assert refused.value.hint == "give 0x followed by 40 hex digits"
    assert pyevm.w3.eth.get_transaction_count(pyevm.operator.address) == nonce


class _RefusingSender:
    """A sender whose node refuses the creation with a revert (raw bytes, as a bare sender reports it)."""

    address = "0x" + "11" * 20

    def __init__(self, revert: bytes) -> None:
        self.revert = revert

    def submit(self, w3: object, tx: dict[str, object], *, action: str = "") -> object:
        raise Reverted(action, self.revert)


def test_a_refused_creation_is_named(pyevm: Chain) -> None:
    from eth_utils import function_signature_to_4byte_selector

    revert = function_signature_to_4byte_selector("InvalidConfig()")
    with pytest.raises(ContractRevert) as refused:
        deploy_contracts(pyevm.w3, _RefusingSender(revert))  # type: ignore[arg-type]
    assert refused.value.name == "InvalidConfig" and "deployment constants are inconsistent" in refused.value.hint


@pytest.mark.parametrize("config", [ContractConfig(notice_period=900), ContractConfig.with_commits(admin_delay=5)])
def test_the_deployment_constants_reach_the_contract(config: ContractConfig) -> None:
    chain = pyevm_chain(config)
    registry = chain.reader.registry
    assert (registry.notice_period(), registry.min_commit_age(), registry.max_commit_age()) == (
        config.notice_period, config.min_commit_age, config.max_commit_age)
    assert (registry.review_mode(), registry.commit_required()) == (config.review_mode, config.commit_required)
    assert registry.contract.functions.defaultAdminDelay().call() == config.admin_delay
    assert chain.deployment.config == config


ZERO = "0x" + "00" * 20


def test_the_zero_admin_is_refused_before_anything_is_sent(pyevm: Chain) -> None:
    nonce = pyevm.w3.eth.get_transaction_count(pyevm.operator.address)
    with pytest.raises(ConfigError, match="the admin cannot be the zero address") as refused:
        deploy_contracts(pyevm.w3, pyevm.operator, admin=ZERO)
    assert "none for the deployer" in refused.value.hint
    assert pyevm.w3.eth.get_transaction_count(pyevm.operator.address) == nonce


@pytest.mark.parametrize(
    ("admin", "ledger", "name", "args", "needle"),
    [
        # the contract's own refusals, for a deployment that does not go through deploy_contracts
        (ZERO, "0x" + "33" * 20, "AccessControlInvalidDefaultAdmin", {"defaultAdmin": ZERO},
         "at deployment the admin must not be the zero address"),
        ("0x" + "11" * 20, ZERO, "InvalidConfig", {}, "a non-zero ledger address"),
    ],
)
def test_a_zero_admin_or_ledger_reverts_the_creation_with_a_hint_that_names_it(
    pyevm: Chain, admin: str, ledger: str, name: str, args: dict[str, str], needle: str
) -> None:
    code = creation_code("AssetRegistry", admin, ContractConfig().as_tuple(), ledger, "")
    with pytest.raises(Reverted) as reverted:
        pyevm.operator.submit(pyevm.w3, {"data": code, "value": 0}, action="deploying AssetRegistry")
    error = decode_revert(reverted.value.data)
    assert (error.name, error.args_by_name) == (name, args) and needle in error.hint
