"""Fixtures of the conformance suite: web3.py's geth fixtures (tests/integration/conftest.py and
tests/integration/go_ethereum/conftest.py in web3.py's repository), here for a node picked by the
test module (its ``node`` fixture), plus the marks each test module declares for its node.

Each node is started once per session and the fixture chain built on it once, and the tests share
it (web3.py starts a geth from its saved fixture chain for every test): a test that leaves state
behind is seen by the later ones.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from eth_typing import ChecksumAddress, HexStr
from eth_utils import to_bytes
from eth_utils.toolz import identity
from hexbytes import HexBytes
from web3 import HTTPProvider, Web3
from web3._utils.contract_sources.contract_data.emitter_contract import EMITTER_CONTRACT_DATA
from web3._utils.contract_sources.contract_data.math_contract import MATH_CONTRACT_DATA
from web3._utils.contract_sources.contract_data.offchain_lookup import OFFCHAIN_LOOKUP_DATA
from web3._utils.contract_sources.contract_data.panic_errors_contract import PANIC_ERRORS_CONTRACT_DATA
from web3._utils.contract_sources.contract_data.revert_contract import REVERT_CONTRACT_DATA
from web3._utils.contract_sources.contract_data.storage_contract import STORAGE_CONTRACT_DATA
from web3._utils.module_testing.utils import RequestMocker
from web3.contract import Contract
from web3.types import BlockData, RPCEndpoint, RPCResponse

from tests.chain.embedded.conformance import chainstate
from tests.chain.embedded.conformance.chainstate import (
    CHAIN_ID,
    GENESIS_ETHER,
    KEYFILE_ACCOUNT_ADDRESS,
    KEYFILE_ACCOUNT_PKEY,
    RAW_TXN_ACCOUNT,
)
from tests.chain.embedded.conformance.nodes import Node, conformance_hardhat_node, dataseal_node, node_has_dev_flag

WEI_PER_ETHER = 10**18


def _rpc(w3: Web3, method: str, *params: Any) -> Any:
    response = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    assert "error" not in response, response
    return response["result"]


def _web3(url: str) -> Web3:
    return Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30}))


class GethFixtureAccounts(HTTPProvider):
    """An HTTP provider that answers ``eth_accounts`` itself, with what web3.py's geth fixture node
    answers: its one unlocked account, the keyfile account.

    Many of web3.py's tests take ``w3.eth.accounts[0]`` merely as an address to call from or to read
    (``eth_call``, ``eth_getBalance``, state overrides); neither node here holds that key, and the
    dataseal node holds none at all, so without this they would stop at an empty list before reaching
    the method they test. Every other request goes to the node.
    """

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        if method == "eth_accounts":
            return RPCResponse(jsonrpc="2.0", id=0, result=[KEYFILE_ACCOUNT_ADDRESS])
        return super().make_request(method, params)


@pytest.fixture(scope="session")
def dataseal_conformance_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """A `dataseal node` process with web3.py's genesis accounts and chain id, and its fixture chain."""
    args = ["--chain-id", str(CHAIN_ID)]
    for address in (KEYFILE_ACCOUNT_ADDRESS, RAW_TXN_ACCOUNT):
        args += ["--fund", f"{address}={GENESIS_ETHER}"]
    if node_has_dev_flag():
        args.append("--dev")  # evm_mine makes the empty block
    with dataseal_node(tmp_path_factory.mktemp("conformance") / "dataseal", args) as url:
        w3 = _web3(url)
        yield Node(url, chainstate.build(w3, lambda: _rpc(w3, "evm_mine")))


@pytest.fixture(scope="session")
def hardhat_conformance_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """A hardhat node with web3.py's chain id and genesis accounts' balances, and its fixture chain."""
    with conformance_hardhat_node(tmp_path_factory.mktemp("conformance-hardhat")) as url:
        w3 = _web3(url)
        for address in (KEYFILE_ACCOUNT_ADDRESS, RAW_TXN_ACCOUNT):
            _rpc(w3, "hardhat_setBalance", address, hex(GENESIS_ETHER * WEI_PER_ETHER))
        yield Node(url, chainstate.build(w3, lambda: _rpc(w3, "evm_mine")))


# --------------------------------------------------------------------- web3.py's fixtures (tests/conftest.py)


@pytest.fixture(scope="module", params=[lambda x: to_bytes(hexstr=x), identity], ids=["bytes", "hex"])
def address_conversion_func(request: pytest.FixtureRequest) -> Callable[[str], Any]:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def request_mocker() -> type[RequestMocker]:
    return RequestMocker


@pytest.fixture
def skip_if_testrpc() -> Callable[[Web3], None]:
    """web3.py skips some tests on its in-process eth-tester provider; the nodes here are real ones."""
    return lambda w3: None


# ------------------------------------------------------- web3.py's geth fixtures (tests/integration/...)


@pytest.fixture
def w3(node: Node) -> Web3:
    return Web3(GethFixtureAccounts(node.url, request_kwargs={"timeout": 30}))


def _contract(w3: Web3, data: dict[str, Any], address: ChecksumAddress) -> Contract:
    return w3.eth.contract(address=address, abi=data["abi"], bytecode=data["bytecode"])


@pytest.fixture
def math_contract_factory(w3: Web3) -> type[Contract]:
    return w3.eth.contract(abi=MATH_CONTRACT_DATA["abi"], bytecode=MATH_CONTRACT_DATA["bytecode"])


@pytest.fixture
def emitter_contract_factory(w3: Web3) -> type[Contract]:
    return w3.eth.contract(abi=EMITTER_CONTRACT_DATA["abi"], bytecode=EMITTER_CONTRACT_DATA["bytecode"])


@pytest.fixture
def revert_contract_factory(w3: Web3) -> type[Contract]:
    return w3.eth.contract(abi=REVERT_CONTRACT_DATA["abi"], bytecode=REVERT_CONTRACT_DATA["bytecode"])


@pytest.fixture
def offchain_lookup_contract_factory(w3: Web3) -> type[Contract]:
    return w3.eth.contract(abi=OFFCHAIN_LOOKUP_DATA["abi"], bytecode=OFFCHAIN_LOOKUP_DATA["bytecode"])


@pytest.fixture
def math_contract_deploy_txn_hash(node: Node) -> HexStr:
    return node.chain.math_deploy_txn_hash.to_0x_hex()  # (web3.py's come from a JSON file: hex strings)


@pytest.fixture
def math_contract(w3: Web3, node: Node) -> Contract:
    return _contract(w3, MATH_CONTRACT_DATA, node.chain.math_address)


@pytest.fixture
def math_contract_address(math_contract: Contract, address_conversion_func: Callable[[str], Any]) -> Any:
    return address_conversion_func(math_contract.address)


@pytest.fixture
def emitter_contract(w3: Web3, node: Node) -> Contract:
    return _contract(w3, EMITTER_CONTRACT_DATA, node.chain.emitter_address)


@pytest.fixture
def emitter_contract_address(emitter_contract: Contract, address_conversion_func: Callable[[str], Any]) -> Any:
    return address_conversion_func(emitter_contract.address)


@pytest.fixture
def revert_contract(w3: Web3, node: Node) -> Contract:
    return _contract(w3, REVERT_CONTRACT_DATA, node.chain.revert_address)


@pytest.fixture
def offchain_lookup_contract(w3: Web3, node: Node) -> Contract:
    return _contract(w3, OFFCHAIN_LOOKUP_DATA, node.chain.offchain_lookup_address)


@pytest.fixture
def panic_errors_contract(w3: Web3, node: Node) -> Contract:
    return _contract(w3, PANIC_ERRORS_CONTRACT_DATA, node.chain.panic_errors_contract_address)


@pytest.fixture
def storage_contract(w3: Web3, node: Node) -> Contract:
    return _contract(w3, STORAGE_CONTRACT_DATA, node.chain.storage_contract_address)


@pytest.fixture
def keyfile_account_pkey() -> str:
    return KEYFILE_ACCOUNT_PKEY


@pytest.fixture
def keyfile_account_address() -> ChecksumAddress:
    return ChecksumAddress(KEYFILE_ACCOUNT_ADDRESS)


@pytest.fixture
def keyfile_account_address_dual_type(keyfile_account_address: ChecksumAddress) -> ChecksumAddress:
    return keyfile_account_address  # (web3.py's geth conftest converts nothing either)


def _block(w3: Web3, block_hash: HexBytes) -> BlockData:
    block = w3.eth.get_block(block_hash)
    assert block["hash"] == block_hash
    return block


@pytest.fixture
def empty_block(w3: Web3, node: Node) -> BlockData:
    return _block(w3, node.chain.empty_block_hash)


@pytest.fixture
def block_with_txn(w3: Web3, node: Node) -> BlockData:
    return _block(w3, node.chain.block_with_txn_hash)


@pytest.fixture
def mined_txn_hash(node: Node) -> HexStr:
    return node.chain.mined_txn_hash.to_0x_hex()


@pytest.fixture
def block_with_txn_with_log(w3: Web3, node: Node) -> BlockData:
    return _block(w3, node.chain.block_hash_with_log)


@pytest.fixture
def txn_hash_with_log(node: Node) -> HexStr:
    return node.chain.txn_hash_with_log.to_0x_hex()




@pytest.fixture
def first_fixture_block(w3: Web3, math_contract_deploy_txn_hash: HexStr) -> int:
    """(fixture_blocks.py) The first block the fixture made (the math contract's deployment)."""
    return int(w3.eth.get_transaction_receipt(math_contract_deploy_txn_hash)["blockNumber"])


# ------------------------------------------------------------------------------------------ the marks


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test of a module that declares ``EXPECTATIONS`` ({test name: mark}); a test's full
    name (with its parameters) takes precedence over its function's name."""
    for item in items:
        expectations = getattr(getattr(item, "module", None), "EXPECTATIONS", None)
        if expectations is None:
            continue
        mark = expectations.get(item.name) or expectations.get(getattr(item, "originalname", item.name))
        if mark is not None:
            item.add_marker(mark)
