"""The EIP-712 type strings and domains Python signs with are the contracts' (v2): a signature made
here is one the contract accepts, and the type hashes match the constants the contracts use."""
from __future__ import annotations

from dataseal.chain.accounts.eip712 import (
    DOMAIN_VERSION,
    GRANT_TYPE,
    GRANTS_DOMAIN_NAME,
    LEDGER_DOMAIN_NAME,
    REGISTER_TYPE,
    REGISTRY_DOMAIN_NAME,
    TRADE_TYPE,
    type_hash,
)
from tests.conftest import Chain


def test_the_type_strings_hash_to_the_contracts_typehashes(pyevm: Chain) -> None:
    reader = pyevm.reader
    assert bytes(reader.registry.contract.functions.REGISTER_TYPEHASH().call()) == type_hash(REGISTER_TYPE)
    assert bytes(reader.grants.contract.functions.GRANT_TYPEHASH().call()) == type_hash(GRANT_TYPE)
    assert bytes(reader.ledger.contract.functions.TRADE_TYPEHASH().call()) == type_hash(TRADE_TYPE)
    assert "uint256 parentId,uint64 validUntil,uint256 nonce" in REGISTER_TYPE  # v2: the validity is signed


def test_the_domains_are_version_2_with_the_contracts_names(pyevm: Chain) -> None:
    reader = pyevm.reader
    for client, name in ((reader.registry, REGISTRY_DOMAIN_NAME), (reader.grants, GRANTS_DOMAIN_NAME),
                         (reader.ledger, LEDGER_DOMAIN_NAME)):
        domain = client.contract.functions.eip712Domain().call()  # ERC-5267
        assert (domain[1], domain[2], domain[3], domain[4]) == (name, DOMAIN_VERSION, pyevm.w3.eth.chain_id,
                                                                client.address)
    assert DOMAIN_VERSION == "2"
