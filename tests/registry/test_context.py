"""The one wiring point: settings in, connection, deployment, signing account, sender and contract
clients out, the same for every front door."""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from eth_utils import keccak
from pydantic import SecretStr

from dataseal.chain.accounts.keystore import AccountNotFound, KeystoreError, PasswordRequired, WrongPassword
from dataseal.chain.contracts.deployment import load_deployments, save_deployment
from dataseal.chain.contracts.records import Registration
from dataseal.chain.embedded.defaults import DEFAULT_CHAIN_ID
from dataseal.chain.errors import DeploymentError, NoEmbeddedChain, OutdatedDeployment, WrongChain
from dataseal.chain.node.layout import OPERATOR_PASSWORD_FILENAME, remove_marker, write_marker
from dataseal.chain.node.start import EmbeddedNode, NodeConfig
from dataseal.chain.sending.nonces import FileNonceStore
from dataseal.registry.context import NONCES_DIRNAME, Context, deploy_target, keystore_of, signing_entry
from dataseal.registry.settings import Settings


class Given:
    """A front door's own password source (the CLI's is a terminal prompt)."""

    name = "a test's source"

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def read(self, purpose: str) -> SecretStr:
        return SecretStr(self.secret)


@pytest.fixture
def data(tmp_path: Path) -> Iterator[Path]:
    """A data folder as the first `dataseal node` leaves it: chain, operator, generated password, deployment."""
    folder = tmp_path / "data"
    EmbeddedNode.start(NodeConfig(data_dir=folder, port=0, light_kdf=True)).stop()
    yield folder


def test_the_embedded_chain_of_the_folder_end_to_end(data: Path) -> None:
    with Context.open(Settings(data_dir=data)) as context:
        assert context.connection.chain_id == DEFAULT_CHAIN_ID
        assert context.connection.endpoint == f"the embedded chain in {data}"
        deployment = context.deployment()
        assert deployment == load_deployments(data)[DEFAULT_CHAIN_ID] == context.recorded_deployment()
        account = context.unlock()  # the password the node generated, found without being named
        assert account.address == signing_entry(context.settings).address == deployment.deployer
        sender = context.sender(account)
        store = sender.nonces.store
        assert isinstance(store, FileNonceStore) and store.folder == data / NONCES_DIRNAME
        record = context.contracts(sender).registry.register(Registration(keccak(text="root"), keccak(text="m"), 1, 0))
        assert record.registrant == account.address
        assert context.contracts().registry.asset_id_of(keccak(text="root")) == record.asset_id  # a reader


def test_a_running_node_of_the_folder_is_reached_over_json_rpc(data: Path) -> None:
    node = EmbeddedNode.start(NodeConfig(data_dir=data, port=0))
    try:
        node.start_serving()
        write_marker(data, node.startup.rpc_url)
        with Context.open(Settings(data_dir=data)) as context:
            assert context.connection.endpoint == node.startup.rpc_url
            assert context.deployment() == node.startup.deployment
    finally:
        remove_marker(data)
        node.stop()


def test_passwords_the_settings_name_come_first(data: Path) -> None:
    with Context.open(Settings(data_dir=data, password=SecretStr("wrong"))) as context:
        with pytest.raises(WrongPassword, match="the password does not open"):
            context.unlock(Given("never asked"))
    (data / OPERATOR_PASSWORD_FILENAME).write_text("not the operator's\n")
    with Context.open(Settings(data_dir=data)) as context:
        with pytest.raises(WrongPassword) as generated:
            context.unlock()
        assert generated.value.message.startswith(
            f"the password in {data / OPERATOR_PASSWORD_FILENAME} (the embedded node's operator) does not open ")
        assert generated.value.hint.startswith("give the password of 0x") and generated.value.options == ("password",)
    (data / OPERATOR_PASSWORD_FILENAME).unlink()
    with Context.open(Settings(data_dir=data)) as context:
        with pytest.raises(PasswordRequired, match=r"tried: the password file .*operator.password, a test's source"):
            context.unlock(type("Nothing", (), {"name": "a test's source", "read": lambda self, p: None})())
        with pytest.raises(WrongPassword):
            context.unlock(Given("typed at a prompt"))  # the front door's source is used once the rest have none


def test_the_account_must_be_in_the_keystore(data: Path) -> None:
    with Context.open(Settings(data_dir=data, account="0x" + "11" * 20)) as context:
        with pytest.raises(AccountNotFound, match="no keystore file for 0x1111"):
            context.unlock()


def test_a_folder_without_a_chain_and_a_chain_that_is_not_the_one_asked_for(tmp_path: Path, data: Path) -> None:
    with pytest.raises(NoEmbeddedChain):
        Context.open(Settings(data_dir=tmp_path / "empty"))
    with pytest.raises(WrongChain, match="the configured chain id expects chain 5"):
        Context.open(Settings(data_dir=data, chain_id=5))


def test_status_reports_the_chain_accounts_and_contracts(data: Path) -> None:
    with Context.open(Settings(data_dir=data)) as context:
        found = context.status()
    assert found.ok and found.problems == []
    assert found.chain.chain_id == DEFAULT_CHAIN_ID and found.endpoint == f"the embedded chain in {data}"
    assert [a.entry.address for a in found.accounts] == [found.deployment.deployer if found.deployment else None]
    assert found.accounts[0].balance_wei > 0
    assert [c.name for c in found.contracts if c.deployed] == ["AssetRegistry", "GrantRegistry", "TransactionLedger"]
    assert found.record == data / "deployments.json"


def test_status_collects_problems_instead_of_raising(data: Path) -> None:
    (data / "deployments.json").unlink()
    for keyfile in (data / "keystore").iterdir():
        keyfile.unlink()
    with Context.open(Settings(data_dir=data)) as context:
        found = context.status()
    assert not found.ok and found.deployment is None and found.contracts == []
    assert [type(p).__name__ for p in found.problems] == ["ContractsNotDeployed", "AccountNotFound"]


def test_status_names_a_record_of_other_code_or_from_before_contracts_v2_as_a_problem(data: Path) -> None:
    recorded = load_deployments(data)[DEFAULT_CHAIN_ID]
    save_deployment(data, replace(recorded, code={**recorded.code, "TransactionLedger": "00" * 32}))
    with Context.open(Settings(data_dir=data)) as context:
        with pytest.raises(OutdatedDeployment, match="stale contracts"):
            context.deployment()
        found = context.status()
    assert [type(p).__name__ for p in found.problems] == ["OutdatedDeployment"]
    assert found.deployment is not None and all(c.deployed for c in found.contracts)  # still shown

    v1 = {k: v for k, v in recorded.to_json().items() if k not in ("config", "commit_required")}
    (data / "deployments.json").write_text(json.dumps({str(DEFAULT_CHAIN_ID): v1}))
    with Context.open(Settings(data_dir=data)) as context:
        found = context.status()
    assert [type(p).__name__ for p in found.problems] == ["OutdatedDeployment"]
    assert "predates contracts v2" in found.problems[0].message and found.deployment is None
    # where the pre-v2 contracts are, marked as such (the report named them only in its error)
    assert found.pre_v2 and [(c.name, c.address, c.deployed) for c in found.contracts] == [
        (name, address, True) for name, address in recorded.addresses().items()]


def test_a_deployment_needs_a_node_named(data: Path) -> None:
    with pytest.raises(DeploymentError, match="no node to deploy to") as nowhere:
        deploy_target(Settings(data_dir=data))
    assert nowhere.value.options == ("rpc_url",)
    with Context.open(Settings(data_dir=data)) as context, pytest.raises(DeploymentError, match="no node"):
        context.deploy()


def test_another_account_of_the_folder_is_asked_for_its_own_password(data: Path) -> None:
    """The generated password opens the node's operator; for another account the front door's source is
    asked instead of failing on the operator's password."""
    other = keystore_of(Settings(data_dir=data)).create("other's password")
    asked: list[str] = []

    class Prompt:
        name = "a prompt"

        def read(self, purpose: str) -> SecretStr:
            asked.append(purpose)
            return SecretStr("other's password")

    with Context.open(Settings(data_dir=data, account=other)) as context:
        assert context.unlock(Prompt()).address == other
        assert asked == [f"account {other}"]
        with pytest.raises(WrongPassword, match=r"the password in .*operator.password \(the embedded node"):
            context.unlock()  # no other source: the operator's password was the only one, and it does not open it


def test_with_several_accounts_the_one_that_can_act_signs(data: Path) -> None:
    """A keystore of two accounts and no account named: the one that can act (the asset's owner, the grantee) is
    chosen; when none or both can, the keystore says which it holds and which can act."""
    settings = Settings(data_dir=data)
    operator = keystore_of(settings).default().address
    other = keystore_of(settings).create("other's password")
    assert signing_entry(settings, lambda: [operator.lower()]).address == operator
    assert signing_entry(settings, lambda: [other]).address == other
    with pytest.raises(KeystoreError, match=r"holds 2 accounts \(.*\), and none of them can act here \(it takes "
                       r"0x0{39}1\)") as caught:
        signing_entry(settings, lambda: ["0x" + "0" * 39 + "1"])
    assert caught.value.options == ("account",)
    with pytest.raises(KeystoreError, match=r"and 2 of them can act here"):
        signing_entry(settings, lambda: [operator, other])
    with pytest.raises(KeystoreError, match=r"holds 2 accounts"):
        signing_entry(settings)  # nothing says who can act: name one
    assert signing_entry(Settings(data_dir=data, account=other), lambda: [operator]).address == other  # named wins
    with Context.open(settings) as context:  # the operator unlocks with the generated password
        assert context.unlock(acting=lambda: [operator]).address == operator
