"""The chain web3.py's conformance classes expect: what web3.py's geth fixture generator builds
(tests/integration/generate_fixtures/go_ethereum.py in web3.py's repository), built here over
eth_sendRawTransaction from a key the test holds, since neither node signs for it.

The generator sends from geth's unlocked coinbase, which is also the "keyfile account" the classes
sign with (its key is public); here that account is funded at genesis and signs locally.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3._utils.contract_sources.contract_data._custom_contract_data import EMITTER_ENUM
from web3._utils.contract_sources.contract_data.emitter_contract import EMITTER_CONTRACT_DATA
from web3._utils.contract_sources.contract_data.math_contract import MATH_CONTRACT_DATA
from web3._utils.contract_sources.contract_data.offchain_lookup import OFFCHAIN_LOOKUP_DATA
from web3._utils.contract_sources.contract_data.panic_errors_contract import PANIC_ERRORS_CONTRACT_DATA
from web3._utils.contract_sources.contract_data.revert_contract import REVERT_CONTRACT_DATA
from web3._utils.contract_sources.contract_data.storage_contract import STORAGE_CONTRACT_DATA
from web3.contract import Contract
from web3.types import TxParams, TxReceipt

# web3.py's geth fixture (generate_fixtures/common.py): its chain id ("web3py" as an integer), its
# keyfile account (also its coinbase) and the other account its genesis funds.
CHAIN_ID = 131277322940537
KEYFILE_ACCOUNT_PKEY = "0x58d23b55bc9cdce1f18c2500f40ff4ab7245df9a89505e9b1fa4851f623d241d"
KEYFILE_ACCOUNT_ADDRESS = "0xdC544d1AA88Ff8bbd2F2AeC754B1F1e99e1812fd"
RAW_TXN_ACCOUNT = "0x39EEed73fb1D3855E90Cbd42f348b3D7b340aAA6"
GENESIS_ETHER = 10**9  # each of the two: 10^27 wei, as in web3.py's genesis
REVERT_GAS = 320_000  # the gas web3.py's generator gives the revert contract's calls


@dataclass(frozen=True)
class GethFixture:
    """What web3.py's ``geth_fixture_data`` (config.json) holds, for this chain."""

    math_deploy_txn_hash: HexBytes
    math_address: ChecksumAddress
    emitter_deploy_txn_hash: HexBytes
    emitter_address: ChecksumAddress
    offchain_lookup_address: ChecksumAddress
    panic_errors_contract_address: ChecksumAddress
    storage_contract_address: ChecksumAddress
    revert_address: ChecksumAddress
    txn_hash_with_log: HexBytes
    block_hash_with_log: HexBytes
    empty_block_hash: HexBytes
    mined_txn_hash: HexBytes
    block_with_txn_hash: HexBytes


class _Sender:
    """Signs with the keyfile account and sends raw; fees and gas from the node unless given."""

    def __init__(self, w3: Web3, account: LocalAccount) -> None:
        self.w3 = w3
        self.account = account
        self.nonce = w3.eth.get_transaction_count(account.address, "pending")

    def send(self, tx: TxParams) -> TxReceipt:
        tx = {**tx, "from": self.account.address, "nonce": self.nonce, "chainId": CHAIN_ID}
        if "gasPrice" not in tx:
            tx.setdefault("maxPriorityFeePerGas", self.w3.eth.max_priority_fee)
            tx.setdefault("maxFeePerGas", 2 * self.w3.eth.get_block("latest")["baseFeePerGas"]
                          + tx["maxPriorityFeePerGas"])
        if "gas" not in tx:
            tx["gas"] = self.w3.eth.estimate_gas(tx)
        signed = self.account.sign_transaction(dict(tx))
        self.nonce += 1
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        return self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)

    def deploy(self, data: dict[str, Any]) -> TxReceipt:
        receipt = self.send({"data": data["bytecode"]})  # (none of the constructors takes arguments)
        assert receipt["status"] == 1 and receipt["contractAddress"], receipt
        return receipt

    def transact(self, contract: type[Contract] | Contract, function: str, *args: Any, **tx: Any) -> TxReceipt:
        return self.send({"to": contract.address, "data": contract.encode_abi(function, list(args)), **tx})


def build(w3: Web3, mine_empty_block: Callable[[], object]) -> GethFixture:
    """Build web3.py's geth fixture chain on ``w3`` (the keyfile account funded already).

    ``mine_empty_block()`` makes a block without transactions (geth's dev mode makes one every period).
    """
    sender = _Sender(w3, Account.from_key(KEYFILE_ACCOUNT_PKEY))

    math = sender.deploy(MATH_CONTRACT_DATA)
    emitter_deploy = sender.deploy(EMITTER_CONTRACT_DATA)
    emitter = w3.eth.contract(address=emitter_deploy["contractAddress"], abi=EMITTER_CONTRACT_DATA["abi"])
    with_log = sender.transact(emitter, "logDouble", EMITTER_ENUM["LogDoubleWithIndex"], 12345, 54321)

    revert_deploy = sender.deploy(REVERT_CONTRACT_DATA)
    revert = w3.eth.contract(address=revert_deploy["contractAddress"], abi=REVERT_CONTRACT_DATA["abi"])
    normal = sender.transact(revert, "normalFunction", gas=REVERT_GAS)
    with_msg = sender.transact(revert, "revertWithMessage", gas=REVERT_GAS)
    no_msg = sender.transact(revert, "revertWithoutMessage", gas=REVERT_GAS)
    assert (normal["status"], with_msg["status"], no_msg["status"]) == (1, 0, 0)

    offchain = sender.deploy(OFFCHAIN_LOOKUP_DATA)
    panic = sender.deploy(PANIC_ERRORS_CONTRACT_DATA)
    storage = sender.deploy(STORAGE_CONTRACT_DATA)

    mine_empty_block()
    empty = w3.eth.get_block("latest")
    assert not empty["transactions"], empty

    mined = sender.send({"to": sender.account.address, "value": 1, "gas": 21_000, "gasPrice": w3.eth.gas_price})
    return GethFixture(
        math_deploy_txn_hash=math["transactionHash"],
        math_address=math["contractAddress"],
        emitter_deploy_txn_hash=emitter_deploy["transactionHash"],
        emitter_address=emitter_deploy["contractAddress"],
        offchain_lookup_address=offchain["contractAddress"],
        panic_errors_contract_address=panic["contractAddress"],
        storage_contract_address=storage["contractAddress"],
        revert_address=revert_deploy["contractAddress"],
        txn_hash_with_log=with_log["transactionHash"],
        block_hash_with_log=with_log["blockHash"],
        empty_block_hash=empty["hash"],
        mined_txn_hash=mined["transactionHash"],
        block_with_txn_hash=mined["blockHash"],
    )
