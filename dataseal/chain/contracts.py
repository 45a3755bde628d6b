"""Deploying dataseal's three contracts and talking to them through web3.

Roles are kept apart: a :class:`Sender` moves a transaction (an unlocked node account here; a
local keystore signer arrives with the chain layer), :func:`bind` gives ABI-aware handles, and
:func:`decode_events` turns receipts into named events (with :class:`chain.clients.EventDecoder`, the
decoder of the typed clients). A transaction that is mined but fails is explained by
:func:`replay_failure`, which the typed clients use too.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any, Protocol, cast

import rlp
from eth_utils import is_address, keccak, to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.types import TxParams, TxReceipt

from dataseal.chain.artifacts import CONTRACT_NAMES, load_artifact
from dataseal.chain.errors import ChainError, ConfigError, DeploymentError
from dataseal.chain.revert import as_chain_error, decode_revert, revert_data_from
from dataseal.errors import DatasealError


def predict_create_address(sender: str, nonce: int) -> str:
    """Address of the contract that ``sender`` creates with transaction nonce ``nonce``."""
    return to_checksum_address(keccak(rlp.encode([HexBytes(sender), nonce]))[12:])


class Sender(Protocol):
    """Something that sends a transaction and returns its mined receipt."""

    address: str

    def send(self, w3: Web3, tx: dict[str, Any]) -> TxReceipt: ...


@dataclass
class UnlockedSender:
    """Sends from an account the node holds unlocked (eth-tester, a hardhat node)."""

    address: str

    def send(self, w3: Web3, tx: dict[str, Any]) -> TxReceipt:
        tx_hash = w3.eth.send_transaction(cast(TxParams, {**tx, "from": self.address}))
        return w3.eth.wait_for_transaction_receipt(tx_hash)


@dataclass(frozen=True)
class Deployment:
    """Where dataseal's contracts live on one chain."""

    chain_id: int
    asset_registry: str
    grant_registry: str
    transaction_ledger: str
    deploy_block: int
    deployer: str
    review_mode: bool
    artifacts: dict[str, str] = field(default_factory=dict)  # contract name -> artifact sha256

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Deployment:
        """The deployment that :meth:`to_json` produced; raises :class:`DeploymentError` when malformed.

        Keys this version does not know are ignored (a newer dataseal may have written them).
        """
        if not isinstance(data, dict):
            raise DeploymentError(f"a deployment record must be a JSON object, got {type(data).__name__}")
        known = {f.name: f for f in fields(cls)}
        missing = [
            name for name, f in known.items()
            if name not in data and f.default is MISSING and f.default_factory is MISSING
        ]
        if missing:
            raise DeploymentError(
                f"the deployment record lacks {', '.join(missing)}: deploy again with `dataseal deploy`"
            )
        values = {name: data[name] for name in known if name in data}
        try:
            for name in ("chain_id", "deploy_block"):
                if not isinstance(values[name], int) or isinstance(values[name], bool):
                    raise ValueError(f"{name} must be an integer, got {values[name]!r}")
            for name in ("asset_registry", "grant_registry", "transaction_ledger", "deployer"):
                values[name] = to_checksum_address(values[name])
            if not isinstance(values["review_mode"], bool):
                raise ValueError(f"review_mode must be true or false, got {values['review_mode']!r}")
            artifacts = values.get("artifacts", {})
            if not isinstance(artifacts, dict) or not all(isinstance(v, str) for v in artifacts.values()):
                raise ValueError("artifacts must map contract names to sha256 digests")
        except (ValueError, TypeError) as exc:
            raise DeploymentError(
                f"the deployment record is malformed: {exc}; deploy again with `dataseal deploy`"
            ) from None
        return cls(**values)

    def addresses(self) -> dict[str, str]:
        """Contract name -> address."""
        return {
            "AssetRegistry": self.asset_registry,
            "GrantRegistry": self.grant_registry,
            "TransactionLedger": self.transaction_ledger,
        }


@dataclass(frozen=True)
class Contracts:
    """web3 handles of the three contracts of one deployment."""

    asset_registry: Contract
    grant_registry: Contract
    transaction_ledger: Contract

    def by_address(self) -> dict[str, tuple[str, Contract]]:
        return {
            self.asset_registry.address: ("AssetRegistry", self.asset_registry),
            self.grant_registry.address: ("GrantRegistry", self.grant_registry),
            self.transaction_ledger.address: ("TransactionLedger", self.transaction_ledger),
        }


def bind(w3: Web3, deployment: Deployment) -> Contracts:
    """Handles for the contracts of ``deployment``."""
    def handle(name: str, address: str) -> Contract:
        return w3.eth.contract(address=to_checksum_address(address), abi=load_artifact(name).abi)

    return Contracts(
        asset_registry=handle("AssetRegistry", deployment.asset_registry),
        grant_registry=handle("GrantRegistry", deployment.grant_registry),
        transaction_ledger=handle("TransactionLedger", deployment.transaction_ledger),
    )


def transact(w3: Web3, sender: Sender, call: ContractFunction | ContractConstructor, action: str) -> TxReceipt:
    """Send ``call`` from ``sender``; a revert raises :class:`ContractRevert` with the decoded error."""
    try:
        tx: dict[str, Any] = dict(call.build_transaction({"from": to_checksum_address(sender.address)}))
    except Exception as exc:  # web3 raises provider-specific errors while estimating gas
        raise as_chain_error(exc, action) from exc
    try:
        receipt = sender.send(w3, tx)
    except DatasealError:  # already typed by the sender (InsufficientFunds, ReceiptTimeout, ...)
        raise
    except Exception as exc:
        raise as_chain_error(exc, action) from exc
    if receipt["status"] != 1:
        raise replay_failure(w3, tx, sender.address, receipt, action)
    return receipt


def read(call: ContractFunction, action: str) -> Any:
    """Run a view ``call``; a revert raises :class:`ContractRevert` with the decoded error."""
    try:
        return call.call()
    except Exception as exc:
        raise as_chain_error(exc, action) from exc


def replay_failure(w3: Web3, tx: Mapping[str, Any], sender: str, receipt: TxReceipt, action: str) -> ChainError:
    """The error of ``tx``, mined from ``sender`` and failed (status 0) as ``receipt`` says.

    A receipt carries no revert reason, so the transaction is re-run as a call on the state before its
    block, then after it (another transaction of the block may have made it fail): a revert gives the
    decoded :class:`ContractRevert`. Else it ran out of gas, or the reason is lost.
    """
    block, gas_used = int(receipt["blockNumber"]), int(receipt["gasUsed"])
    request: Any = {"from": sender, **{k: tx[k] for k in ("to", "data", "value") if k in tx}}
    for at in (block - 1, block):
        try:
            w3.eth.call(request, at)
        except Exception as exc:
            data = revert_data_from(exc)
            if data is not None:
                return decode_revert(data)
    tx_hash = HexBytes(receipt["transactionHash"]).to_0x_hex()
    gas_limit = int(tx["gas"]) if "gas" in tx else None
    if gas_limit is not None and gas_used >= gas_limit:
        return ChainError(
            f"{action} ran out of gas: transaction {tx_hash} used all {gas_limit} gas in block {block}. "
            "Send it again with gas estimated for this very call (the plain, waiting methods do)"
        )
    used = f"gas used {gas_used}" if gas_limit is None else f"gas used {gas_used} of {gas_limit}"
    return ChainError(
        f"{action} failed: transaction {tx_hash} reverted in block {block} ({used}) and the reason could not be "
        "recovered by replaying it"
    )


def deploy_contracts(
    w3: Web3,
    sender: Sender,
    *,
    admin: str | None = None,
    review_mode: bool = False,
    base_token_uri: str = "",
) -> Deployment:
    """Deploy AssetRegistry, GrantRegistry and TransactionLedger, wired together.

    The grant registry must know its ledger at construction; the ledger is created by the next
    transaction of ``sender``, so its address is predicted from the nonce, and the ledger's
    constructor refuses a mismatch (``LedgerMismatch``).
    """
    if admin is not None and not is_address(admin):
        raise ConfigError(f"the admin {admin!r} is not an address: expected 0x followed by 40 hex digits")

    def create(name: str, *args: Any) -> str:
        artifact = load_artifact(name)
        factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = transact(w3, sender, factory.constructor(*args), f"deploying {name}")
        address = receipt.get("contractAddress")
        if not address:
            raise DeploymentError(f"deploying {name}: the receipt has no contract address")
        created_in[name] = int(receipt["blockNumber"])
        return to_checksum_address(address)

    created_in: dict[str, int] = {}
    registry = create("AssetRegistry", admin or sender.address, review_mode, base_token_uri)
    nonce = w3.eth.get_transaction_count(to_checksum_address(sender.address))
    ledger_address = predict_create_address(sender.address, nonce + 1)
    grants = create("GrantRegistry", registry, ledger_address)
    ledger = create("TransactionLedger", registry, grants)
    if ledger != ledger_address:
        raise DeploymentError(
            f"the ledger was deployed at {ledger}, expected {ledger_address}: "
            "another transaction from the deployer account was sent in between; deploy again"
        )
    return Deployment(
        chain_id=w3.eth.chain_id,
        asset_registry=registry,
        grant_registry=grants,
        transaction_ledger=ledger,
        deploy_block=created_in["AssetRegistry"],
        deployer=sender.address,
        review_mode=review_mode,
        artifacts={name: load_artifact(name).sha256 for name in CONTRACT_NAMES},
    )


@dataclass(frozen=True)
class DecodedEvent:
    """An event by its Solidity name and arguments (addresses checksummed), and where it was emitted."""

    contract: str
    name: str
    args: dict[str, Any]
    block_number: int
    transaction_hash: str
    log_index: int


def decode_events(contracts: Contracts, receipt: TxReceipt) -> list[DecodedEvent]:
    """Every log of ``receipt`` emitted by one of ``contracts``, decoded by name.

    A log from one of our addresses that matches no event of its ABI raises :class:`ChainError`:
    it would mean the handles do not match the deployed code.
    """
    from dataseal.chain.clients import EventDecoder  # the one event decoder; chain.clients imports this module

    addresses = {name: contract.address for name, contract in contracts.by_address().values()}
    return EventDecoder(addresses).decode_events(receipt)
