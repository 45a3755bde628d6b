"""Python's EIP-712 signatures (dataseal.chain.accounts.eip712) are the ones the contracts verify:
the type strings hash to the contracts' constants, and a signed registration and grant go through,
once (the nonce moves) and only on the chain and contract they were signed for."""
from __future__ import annotations

import pytest
from eth_account import Account
from eth_utils import keccak

from dataseal.chain.accounts.eip712 import (
    GRANT_TYPE,
    GRANTS_DOMAIN_NAME,
    REGISTER_TYPE,
    REGISTRY_DOMAIN_NAME,
    Domain,
    sign_grant,
    sign_register,
    type_hash,
)
from dataseal.chain.contracts.records import GrantTerms, Registration
from dataseal.chain.errors import ContractRevert
from tests.conftest import Chain

ZERO = b"\0" * 32


def h(label: str) -> bytes:
    return keccak(text=label)


def test_python_eip712_matches_the_contracts(pyevm: Chain) -> None:
    relayer = pyevm.as_(pyevm.operator)
    reg, grants = relayer.registry, relayer.grants
    assert reg.contract.functions.REGISTER_TYPEHASH().call() == type_hash(REGISTER_TYPE)
    assert grants.contract.functions.GRANT_TYPEHASH().call() == type_hash(GRANT_TYPE)

    signer = Account.from_key(h("owner key"))
    chain_id = pyevm.w3.eth.chain_id
    deadline = pyevm.now() + 600
    sig = sign_register(
        signer.key, Domain(REGISTRY_DOMAIN_NAME, chain_id, reg.address), owner=signer.address,
        content_root=h("sig-root"), manifest_hash=h("sig-m"), rights_type=4, classification=3, parent_id=0,
        nonce=0, deadline=deadline,
    )
    registered = reg.register_by_sig(signer.address, Registration(h("sig-root"), h("sig-m"), 4, 3), ZERO, deadline, sig)
    assert registered.registrant == signer.address
    assert reg.asset(1).owner == signer.address

    # The same signature again: the nonce moved, so it no longer verifies.
    with pytest.raises(ContractRevert) as replay:
        reg.register_by_sig(signer.address, Registration(h("sig-root"), h("sig-m"), 4, 3), ZERO, deadline, sig)
    assert replay.value.name == "InvalidSignature"
    assert replay.value.args_by_name == {"expected": signer.address}

    # Signed for another chain id: refused.
    other = sign_register(
        signer.key, Domain(REGISTRY_DOMAIN_NAME, chain_id + 1, reg.address), owner=signer.address,
        content_root=h("sig-root-2"), manifest_hash=h("sig-m"), rights_type=4, classification=3, parent_id=0,
        nonce=1, deadline=deadline,
    )
    with pytest.raises(ContractRevert, match="InvalidSignature"):
        reg.register_by_sig(signer.address, Registration(h("sig-root-2"), h("sig-m"), 4, 3), ZERO, deadline, other)

    t = pyevm.now()
    terms = GrantTerms(1, pyevm.user.address, h("purpose"), t - 1, t + 3600, 7, ZERO)
    gsig = sign_grant(
        signer.key, Domain(GRANTS_DOMAIN_NAME, chain_id, grants.address), asset_id=1, grantee=pyevm.user.address,
        purpose=h("purpose"), valid_from=t - 1, expires_at=t + 3600, quota=7, scope_root=ZERO, nonce=0,
        deadline=deadline,
    )
    created = grants.grant_by_sig(terms, deadline, gsig)
    assert created.grantor == signer.address
    assert created.quota == 7
