"""GrantRegistryClient: grants, their window and quota, and who may revoke them."""
from __future__ import annotations

import pytest
from eth_utils import keccak

from dataseal.chain.contracts.records import GrantRevocation, GrantStatus
from dataseal.chain.errors import ContractRevert
from dataseal.errors import ErrorKind
from tests.conftest import Chain


def h(label: str) -> bytes:
    return keccak(text=label)


def test_a_grant_is_usable_inside_its_window_until_revoked(pyevm: Chain) -> None:
    owner, buyer = pyevm.as_(pyevm.owner), pyevm.as_(pyevm.buyer)
    asset = owner.registry.register(h("root"), h("m"), 1, 0)
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
