"""Deploying dataseal's three contracts, wired together, from any :class:`TxSender`."""
from __future__ import annotations

from typing import Any

import rlp
from eth_abi import encode as abi_encode
from eth_utils import is_address, keccak, to_checksum_address
from hexbytes import HexBytes
from web3 import Web3

from dataseal.chain.contracts.artifacts import CONTRACT_NAMES, load_artifact
from dataseal.chain.contracts.deployment import ContractConfig, Deployment
from dataseal.chain.contracts.revert import canonical_type, decode_revert, replay_failure
from dataseal.chain.errors import DeploymentError, Reverted
from dataseal.chain.sending.sender import TxSender
from dataseal.errors import ConfigError, ErrorKind


def predict_create_address(sender: str, nonce: int) -> str:
    """Address of the contract that ``sender`` creates with transaction nonce ``nonce``."""
    return to_checksum_address(keccak(rlp.encode([HexBytes(sender), nonce]))[12:])


def creation_code(name: str, *args: Any) -> bytes:
    """The bytecode that creates contract ``name`` with constructor arguments ``args``."""
    artifact = load_artifact(name)
    constructor: dict[str, Any] = next((item for item in artifact.abi if item.get("type") == "constructor"),
                                       {"inputs": []})
    types = [canonical_type(item) for item in constructor["inputs"]]
    return bytes(HexBytes(artifact.bytecode)) + abi_encode(types, list(args))


def deploy_contracts(
    w3: Web3,
    sender: TxSender,
    *,
    admin: str | None = None,
    config: ContractConfig | None = None,
    base_token_uri: str = "",
) -> Deployment:
    """Deploy AssetRegistry, GrantRegistry and TransactionLedger, wired together; where they are.

    ``config`` holds the registry's deployment constants (notice period, commitment ages, admin
    delay; :class:`ContractConfig` by default: no review, no commitments). Both registries must
    know the ledger at construction; the ledger is created two transactions of ``sender`` later, so
    its address is predicted from the nonce, and the ledger's constructor refuses a mismatch
    (``WiringMismatch``).
    """
    config = config if config is not None else ContractConfig()
    if admin is not None and not is_address(admin):
        raise ConfigError(f"the admin {admin!r} is not an address", hint="give 0x followed by 40 hex digits")
    if admin is not None and int(admin, 16) == 0:
        raise ConfigError("the admin cannot be the zero address: nobody could grant REVIEWER or hand the role over",
                          hint="name the account that will administer the registry, or none for the deployer")
    created_in: dict[str, int] = {}

    def create(name: str, *args: Any) -> tuple[str, int]:
        action = f"deploying {name}"
        try:
            pending = sender.submit(w3, {"data": creation_code(name, *args), "value": 0}, action=action)
        except Reverted as exc:
            raise decode_revert(exc.data) from exc
        receipt = sender.wait(w3, pending)
        if receipt["status"] != 1:
            raise replay_failure(w3, pending.tx, sender.address, receipt, action)
        address = receipt.get("contractAddress")
        if not address:
            raise DeploymentError(f"{action}: the receipt has no contract address",
                                  hint="the node did not report the contract it created: check the node, then deploy "
                                  "again", kind=ErrorKind.INTERNAL)
        created_in[name] = int(receipt["blockNumber"])
        return to_checksum_address(address), pending.nonce

    first_nonce = int(w3.eth.get_transaction_count(to_checksum_address(sender.address), "pending"))
    ledger_address = predict_create_address(sender.address, first_nonce + 2)
    registry, registry_nonce = create("AssetRegistry", to_checksum_address(admin or sender.address),
                                      config.as_tuple(), ledger_address, base_token_uri)
    if registry_nonce != first_nonce:
        raise DeploymentError(
            f"the AssetRegistry was created with nonce {registry_nonce}, expected {first_nonce}",
            hint="another transaction from the deployer account was sent in between; deploy again",
            kind=ErrorKind.CONFLICT,
        )
    grants, _ = create("GrantRegistry", registry, ledger_address)
    ledger, _ = create("TransactionLedger", registry, grants)
    if ledger != ledger_address:
        raise DeploymentError(
            f"the ledger was deployed at {ledger}, expected {ledger_address}",
            hint="another transaction from the deployer account was sent in between; deploy again",
            kind=ErrorKind.CONFLICT,
        )
    return Deployment(
        chain_id=int(w3.eth.chain_id),
        asset_registry=registry,
        grant_registry=grants,
        transaction_ledger=ledger,
        deploy_block=created_in["AssetRegistry"],
        deployer=to_checksum_address(sender.address),
        config=config,
        artifacts={name: load_artifact(name).sha256 for name in CONTRACT_NAMES},
        code={name: load_artifact(name).code_sha256 for name in CONTRACT_NAMES},
    )
