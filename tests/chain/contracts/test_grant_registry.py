"""GrantRegistryClient: grants, their window and quota, and who may revoke them."""
from __future__ import annotations

import pytest
from eth_utils import keccak

from dataseal.chain.accounts.eip712 import GRANTS_DOMAIN_NAME, Domain, sign_grant
from dataseal.chain.contracts.records import GrantRevocation, GrantStatus, GrantTerms, NonceUse, Registration
from dataseal.chain.errors import ContractRevert
from dataseal.errors import ErrorKind
from tests.conftest import Chain


def h(label: str) -> bytes:
    return keccak(text=label)


def test_a_grant_is_usable_inside_its_window_until_revoked(pyevm: Chain) -> None:
    owner, buyer = pyevm.as_(pyevm.owner), pyevm.as_(pyevm.buyer)
    asset = owner.registry.register(Registration(h("root"), h("m"), 1, 0))
    t = pyevm.now()
    grant = owner.grants.grant(asset.asset_id, pyevm.user.address, h("purpose"), t + 100, t + 200, 50)
    assert grant.scope_root == b"\0" * 32  # no scope: the whole asset
    assert owner.grants.is_usable(grant.grant_id, t + 99) is False
    assert owner.grants.is_usable(grant.grant_id, t + 150) is True
    assert owner.grants.is_usable(grant.grant_id, t + 201) is False
    assert owner.grants.remaining(grant.grant_id) == 50 and owner.grants.total_grants() == 1

    with pytest.raises(ContractRevert) as stranger:
        buyer.grants.revoke(grant.grant_id, h("not mine"))
    assert stranger.value.name == "NotAssetOwner" and stranger.value.kind is ErrorKind.CONFLICT
    revoked = owner.grants.revoke(grant.grant_id, h("dispute"))
    assert isinstance(revoked, GrantRevocation) and (revoked.by, revoked.reason_hash) == (pyevm.owner.address,
                                                                                        h("dispute"))
    assert owner.grants.grant_of(grant.grant_id).status is GrantStatus.Revoked
    assert owner.grants.is_usable(grant.grant_id, t + 150) is False

    with pytest.raises(ContractRevert) as unknown:
        owner.grants.grant_of(99)
    assert (unknown.value.name, unknown.value.kind) == ("UnknownGrant", ErrorKind.NOT_FOUND)


def test_use_nonce_voids_a_signed_grant(pyevm: Chain) -> None:
    owner, relayer = pyevm.as_(pyevm.owner), pyevm.as_(pyevm.operator)
    asset = owner.registry.register(Registration(h("root"), h("m"), 1, 0))
    t = pyevm.now()
    terms = GrantTerms(asset.asset_id, pyevm.user.address, h("purpose"), t, t + 600, 5)
    domain = Domain(GRANTS_DOMAIN_NAME, pyevm.w3.eth.chain_id, pyevm.deployment.grant_registry)
    signature = sign_grant(pyevm.keys[pyevm.owner.address].key, domain, asset_id=terms.asset_id,
                           grantee=terms.grantee, purpose=terms.purpose, valid_from=terms.valid_from,
                           expires_at=terms.expires_at, quota=terms.quota, scope_root=terms.scope_root, nonce=0,
                           deadline=t + 600)
    used = owner.grants.use_nonce()
    assert used == NonceUse("GrantRegistry", pyevm.owner.address, 0, used.tx)
    assert owner.grants.nonce_of(pyevm.owner.address) == 1
    with pytest.raises(ContractRevert) as voided:
        relayer.grants.grant_by_sig(terms, t + 600, signature)
    assert voided.value.args_by_name == {"expected": pyevm.owner.address}


def test_only_the_ledger_grants_for_a_seller(pyevm: Chain) -> None:
    owner = pyevm.as_(pyevm.owner)
    asset = owner.registry.register(Registration(h("root"), h("m"), 1, 0))
    t = pyevm.now()
    terms = GrantTerms(asset.asset_id, pyevm.user.address, h("p"), t, t + 60, 1)
    with pytest.raises(ContractRevert) as refused:
        owner.grants._submit("grantFor", (pyevm.owner.address, terms.as_tuple()), lambda r, x: r, "estimate")
    assert refused.value.args_by_name == {"caller": pyevm.owner.address, "ledger": pyevm.deployment.transaction_ledger}
    assert "settle sales" in refused.value.hint
