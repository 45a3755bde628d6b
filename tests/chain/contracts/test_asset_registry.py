"""AssetRegistryClient: review, status changes and what they refuse."""
from __future__ import annotations

import pytest
from eth_utils import keccak

from dataseal.chain.contracts.records import (
    AssetRecord,
    AssetStatus,
    AssetStatusChange,
    RoleChange,
)
from dataseal.chain.errors import ContractRevert
from tests.conftest import Chain

ZERO = b"\0" * 32


def h(label: str) -> bytes:
    return keccak(text=label)


def test_status_changes_are_logged_and_enforced(pyevm_review: Chain) -> None:
    chain = pyevm_review
    owner, admin, reviewer = chain.as_(chain.owner), chain.as_(chain.operator), chain.as_(chain.reviewer)
    pending = owner.registry.register(h("r"), h("m"), 1, 0)
    assert isinstance(pending, AssetRecord) and pending.status is AssetStatus.Pending
    assert owner.registry.asset(1).status is AssetStatus.Pending

    t = chain.now()
    with pytest.raises(ContractRevert) as refused:
        owner.grants.grant(1, chain.user.address, h("p"), t, t + 60, 1, ZERO)
    assert refused.value.name == "AssetNotActive"
    assert refused.value.args_by_name == {"assetId": 1, "status": "Pending"}
    assert "must be Active" in str(refused.value)

    role = admin.registry.grant_reviewer(chain.reviewer.address)
    assert isinstance(role, RoleChange) and (role.account, role.sender, role.granted) == (
        chain.reviewer.address, chain.operator.address, True)
    changed = reviewer.registry.approve_registration(1, h("reviewed"))
    assert changed == AssetStatusChange(1, AssetStatus.Pending, AssetStatus.Active, chain.reviewer.address,
                                        h("reviewed"), changed.tx)
