"""A data folder whose keystore holds several accounts and no account named: the write is signed by the one that
can act — the asset's owner (after a transfer, the new one), the grantee's USAGE operator — never by one the
contract would refuse; none or several: the keystore says which it holds and which can act."""
from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from dataseal.chain.accounts.keystore import LIGHT_SCRYPT_N, Keystore, KeystoreError, keystore_dir
from dataseal.chain.contracts.records import USAGE
from dataseal.registry.registry import Registry
from dataseal.registry.services.grants import grant, revoke
from dataseal.registry.services.usage import use
from dataseal.registry.services.usage_receipts import new_receipt
from tests.conftest import Chain
from tests.registry.services.conftest import PASSWORD, register_asset

PURPOSE = "credit scoring"


class Given:
    """The front door's password source (the CLI's is a prompt): every account here has the same password."""

    name = "the test's password"

    def read(self, purpose: str) -> SecretStr:
        return SecretStr(PASSWORD)


def hold(registry: Registry, chain: Chain, *signers: object) -> None:
    """Put the keys of ``signers`` (senders of ``chain``) in the registry's keystore."""
    keystore = Keystore(keystore_dir(registry.data_dir), scrypt_n=LIGHT_SCRYPT_N)
    for signer in signers:
        keystore.import_private_key(chain.keys[signer.address].key, PASSWORD)  # type: ignore[attr-defined]


def test_revoke_is_signed_by_the_assets_owner_after_a_transfer(registry: Registry, pyevm: Chain) -> None:
    """The grant's grantor sold the asset: only the new owner may revoke, and is the one chosen (the grantor is
    in the keystore too, and would be refused)."""
    asset_id = register_asset(pyevm)
    grant_id = grant(registry, asset_id, pyevm.user.address, PURPOSE, "now", "30d", 5,
                     sender=pyevm.owner).grant.grant_id
    pyevm.as_(pyevm.owner).registry.transfer(asset_id, pyevm.buyer.address)
    hold(registry, pyevm, pyevm.owner, pyevm.buyer)
    done = revoke(registry, grant_id, "sold", passwords=[Given()])
    assert done.by == pyevm.buyer.address and not done.already_done


def test_grant_is_signed_by_the_owner_and_use_by_the_grantees_operator(registry: Registry, pyevm: Chain) -> None:
    asset_id = register_asset(pyevm)
    hold(registry, pyevm, pyevm.owner, pyevm.user, pyevm.buyer)
    made = grant(registry, asset_id, pyevm.user.address, PURPOSE, "now", "30d", 5, passwords=[Given()]).grant
    assert made.grantor == pyevm.owner.address
    now = pyevm.now()
    receipt = new_receipt(registry, made.grant_id, "job-1", unit="row", indexes=[0], started_at=now, ended_at=now,
                          units=1, result_hash="0x" + "cd" * 32)
    # the grantee and the owner are both held: the grantee records (the owner cannot)
    assert use(registry, made.grant_id, 1, receipt, passwords=[Given()]).record.recorder == pyevm.user.address


def test_an_operator_with_the_usage_power_records_for_the_grantee(registry: Registry, pyevm: Chain,
                                                                   tmp_path: Path) -> None:
    """The keystore holds the grantee's operator and an account that cannot act: the operator is chosen."""
    asset_id = register_asset(pyevm)
    made = grant(registry, asset_id, pyevm.user.address, PURPOSE, "now", "30d", 5, sender=pyevm.owner).grant
    now = pyevm.now()
    receipt = new_receipt(registry, made.grant_id, "job-1", unit="row", indexes=[0], started_at=now, ended_at=now,
                          units=1, result_hash="0x" + "cd" * 32)
    hold(registry, pyevm, pyevm.buyer, pyevm.reviewer)
    with pytest.raises(KeystoreError) as caught:  # not yet an operator: none of them can act
        use(registry, made.grant_id, 1, receipt, passwords=[Given()])
    assert f"and none of them can act here (it takes {pyevm.user.address})" in caught.value.message
    assert caught.value.options == ("account",)
    pyevm.as_(pyevm.user).ledger.set_operator(pyevm.buyer.address, powers=USAGE)
    assert use(registry, made.grant_id, 1, receipt, passwords=[Given()]).record.recorder == pyevm.buyer.address
