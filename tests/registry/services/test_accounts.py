"""Funding an account (services.accounts) on the py-evm chain: the transfer and its balances, the funder chosen, and
every refusal before anything is sent."""
from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account
from pydantic import SecretStr

from dataseal.chain.accounts.keystore import LIGHT_SCRYPT_N, AccountNotFound, Keystore, KeystoreError, keystore_dir
from dataseal.chain.connection import connect
from dataseal.chain.errors import InsufficientFunds, NodeUnreachable, TransactionRejected
from dataseal.errors import ErrorKind, InvalidInput
from dataseal.registry.context import Context
from dataseal.registry.registry import Registry
from dataseal.registry.services.accounts import compute_recipient, compute_wei, fund
from dataseal.registry.settings import Settings
from tests.conftest import Chain
from tests.registry.services.conftest import PASSWORD, RegistryFor
from tests.support.devnode import free_port

ETH = 10**18
ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def balance(chain: Chain, address: str) -> int:
    return int(chain.w3.eth.get_balance(address))  # type: ignore[arg-type]


def add_account(registry: Registry) -> str:
    """A new account in the registry's keystore (the services' test password); its address."""
    keystore = Keystore(keystore_dir(registry.data_dir), scrypt_n=LIGHT_SCRYPT_N)
    return keystore.import_private_key(bytes(Account.create().key), PASSWORD)


def without_account(registry: Registry, chain: Chain) -> Registry:
    """The same data folder and chain, with no account named in the settings."""
    settings = registry.settings.model_copy(update={"account": None})
    return Registry(settings, context=Context(settings, connect(chain.w3)))


def test_fund_sends_the_amount_and_reports_both_balances(pyevm: Chain, registry_for: RegistryFor) -> None:
    registry = registry_for(pyevm, pyevm.operator)
    recipient = Account.create().address
    before = balance(pyevm, pyevm.operator.address)
    done = fund(registry, recipient.lower(), "1.5eth")
    assert (done.funder, done.recipient, done.amount_wei) == (pyevm.operator.address, recipient, 3 * ETH // 2)
    assert balance(pyevm, recipient) == done.recipient_balance_wei == 3 * ETH // 2
    receipt = pyevm.w3.eth.get_transaction_receipt(done.tx_hash)  # type: ignore[arg-type]
    assert receipt["blockNumber"] == done.block_number and receipt["gasUsed"] == done.gas_used == 21_000
    paid = done.amount_wei + done.gas_used * int(receipt["effectiveGasPrice"])
    assert balance(pyevm, pyevm.operator.address) == done.funder_balance_wei == before - paid
    assert done.to_json()["tx_hash"] == done.tx_hash and done.chain_id == pyevm.w3.eth.chain_id
    again = fund(registry, recipient, 1000)  # an int is wei; the default amount is 10 ETH
    assert again.recipient_balance_wei == 3 * ETH // 2 + 1000
    assert fund(registry, Account.create().address).recipient_balance_wei == 10 * ETH


def test_the_funder_is_named_or_the_deployer(pyevm: Chain, registry_for: RegistryFor) -> None:
    registry = registry_for(pyevm, pyevm.operator)
    other = add_account(registry)
    fund(registry, other, "2eth")  # the settings name the operator
    assert pyevm.deployment.deployer == pyevm.operator.address
    unnamed = without_account(registry, pyevm)
    try:
        assert fund(unnamed, ADDRESS, "1gwei").funder == pyevm.operator.address  # two accounts: the deployer
        assert fund(unnamed, ADDRESS, "1gwei", funder=other).funder == other
        with pytest.raises(AccountNotFound):
            fund(unnamed, ADDRESS, "1gwei", funder=Account.create().address)
    finally:
        unnamed.close()


def test_without_the_deployer_in_the_keystore_the_funder_must_be_named(pyevm: Chain, registry_for: RegistryFor,
                                                                        tmp_path: Path) -> None:
    registry = registry_for(pyevm, pyevm.user, data_dir=tmp_path / "user-data")
    add_account(registry)
    unnamed = without_account(registry, pyevm)
    try:
        with pytest.raises(KeystoreError) as chosen:
            fund(unnamed, ADDRESS, "1gwei")
        assert "holds 2 accounts" in chosen.value.message and "none deployed the contracts" in chosen.value.message
        assert chosen.value.options == ("funder",)
    finally:
        unnamed.close()


def test_a_balance_short_of_the_amount_or_its_gas_sends_nothing(pyevm: Chain, registry_for: RegistryFor) -> None:
    registry = registry_for(pyevm, pyevm.operator)
    poor = add_account(registry)
    fund(registry, poor, "10000gwei")  # less than the gas of one transfer at the chain's fees?
    recipient = Account.create().address
    with pytest.raises(InsufficientFunds) as short:
        fund(registry, recipient, "1eth", funder=poor)
    assert short.value.message == (f"account {poor} has 10000000000000 wei (0.00001 ETH) on chain "
                                   f"{pyevm.w3.eth.chain_id}, less than the 1000000000000000000 wei (1 ETH) to send")
    assert (short.value.balance, short.value.needed) == (10**13, ETH)
    nonce = pyevm.w3.eth.get_transaction_count(poor)  # type: ignore[arg-type]
    everything = balance(pyevm, poor)
    with pytest.raises(InsufficientFunds) as gas:
        fund(registry, recipient, everything, funder=poor)  # the whole balance leaves nothing for gas
    assert f"has {everything} wei" in gas.value.message and "and up to" in gas.value.message
    assert gas.value.needed is not None and gas.value.needed > everything
    assert balance(pyevm, recipient) == 0 and pyevm.w3.eth.get_transaction_count(poor) == nonce  # type: ignore[arg-type]


def test_bad_recipients_and_amounts_are_refused_before_anything_is_sent(pyevm: Chain,
                                                                       registry_for: RegistryFor) -> None:
    registry = registry_for(pyevm, pyevm.operator)
    nonce = pyevm.w3.eth.get_transaction_count(pyevm.operator.address)  # type: ignore[arg-type]
    cases: list[tuple[str, str | int, str]] = [
        ("0x1234", "1eth", "is not an address"),
        ("0x" + "zz" * 20, "1eth", "is not an address"),
        (ADDRESS.replace("C8", "c8"), "1eth", "does not match its checksum"),
        ("0x" + "00" * 20, "1eth", "the zero address"),
        (ADDRESS, "one ether", "is not an amount of ETH"),
        (ADDRESS, "1.5wei", "is not a whole number of wei"),
        (ADDRESS, "0eth", "is nothing to send"),
        (ADDRESS, -5, "is nothing to send"),
        (ADDRESS, "1e80eth", "does not fit a balance"),
    ]
    for recipient, amount, words in cases:
        with pytest.raises(InvalidInput) as bad:
            fund(registry, recipient, amount)
        assert words in bad.value.message, (recipient, amount, bad.value.message)
    with pytest.raises(InvalidInput) as itself:
        fund(registry, pyevm.operator.address, "1eth")
    assert itself.value.kind == ErrorKind.CONFLICT and "would fund itself" in itself.value.message
    assert pyevm.w3.eth.get_transaction_count(pyevm.operator.address) == nonce  # type: ignore[arg-type]


def test_amounts_and_addresses_as_written() -> None:
    assert compute_wei("2eth") == compute_wei("2 ether") == compute_wei("2") == compute_wei("2ETH") == 2 * ETH
    assert compute_wei("0.5eth") == ETH // 2 and compute_wei("20gwei") == 20 * 10**9 and compute_wei("7wei") == 7
    assert compute_wei("1e3gwei") == 10**12 and compute_wei(12) == 12
    assert compute_recipient(ADDRESS.lower()) == compute_recipient(ADDRESS.upper().replace("0X", "0x")) == ADDRESS
    with pytest.raises(InvalidInput, match="is not an amount of ETH"):
        compute_wei(True)


def test_an_unreachable_node_is_named(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    settings = Settings(data_dir=tmp_path / "data", rpc_url=url, rpc_timeout=2, password=SecretStr(PASSWORD))
    with Registry.open(settings) as registry, pytest.raises(NodeUnreachable) as down:
        fund(registry, ADDRESS, "1eth")
    assert url in down.value.message


def test_a_contract_that_refuses_eth_is_named(pyevm: Chain, registry_for: RegistryFor) -> None:
    registry = registry_for(pyevm, pyevm.operator)
    before = balance(pyevm, pyevm.operator.address)
    with pytest.raises(TransactionRejected) as refused:
        fund(registry, pyevm.deployment.asset_registry, "1eth")
    assert f"{pyevm.deployment.asset_registry} is a contract and refuses the ETH" in refused.value.message
    assert refused.value.hint == "fund an account, not a contract"
    assert balance(pyevm, pyevm.operator.address) == before
