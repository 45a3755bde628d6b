"""Review mode on a py-evm chain: the admin appoints and removes reviewers, a reviewer suspends and reinstates, the
registrations waiting in their notice or for a reviewer; role refusals decoded with the role's name."""
from __future__ import annotations

import pytest
from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector, keccak
from sqlmodel import select

from dataseal.chain.contracts.deployment import DEFAULT_NOTICE_PERIOD
from dataseal.chain.contracts.records import AssetStatus
from dataseal.chain.contracts.revert import decode_revert
from dataseal.chain.errors import ContractRevert
from dataseal.errors import InvalidInput
from dataseal.registry.db.models.local import OutboxTx
from dataseal.registry.registry import Registry
from dataseal.registry.services import status_changes
from dataseal.registry.services.writer import RegistrationError
from tests.conftest import Chain
from tests.registry.services.conftest import Crash, RegistryFor, crash_at, register_asset


def _sent(chain: Chain, address: str) -> int:
    return int(chain.w3.eth.get_transaction_count(address))


def _rows(registry: Registry, kind: str) -> list[OutboxTx]:
    with registry.db.session() as session:
        return list(session.exec(select(OutboxTx).where(OutboxTx.kind == kind)))


def _active_asset(chain: Chain, name: str = "survey") -> int:
    asset_id = register_asset(chain, name)
    chain.travel(DEFAULT_NOTICE_PERIOD + 1)
    assert chain.reader.registry.status_of(asset_id) == AssetStatus.Active
    return asset_id


def test_the_admin_appoints_and_removes_reviewers(pyevm_review: Chain, registry_for: RegistryFor) -> None:
    chain = pyevm_review
    admin, owner = registry_for(chain, chain.operator), registry_for(chain, chain.owner)
    who = chain.reviewer.address
    assert status_changes.list_reviewers(admin) == []

    added = status_changes.add_reviewer(admin, who.lower())
    assert (added.account, added.action, added.reviewer, added.already_done) == (who, "add", True, False)
    assert added.tx_hash and chain.reader.registry.is_reviewer(who)
    again = status_changes.add_reviewer(admin, who)  # nothing sent: already a reviewer, by that transaction
    assert (again.already_done, again.tx_hash, again.block_number) == (True, added.tx_hash, added.block_number)
    assert again.to_json()["already_done"] is True and again.to_json()["role"] == "REVIEWER_ROLE"
    assert status_changes.list_reviewers(admin) == [who]

    before = _sent(chain, chain.owner.address)
    with pytest.raises(RegistrationError) as caught:
        status_changes.remove_reviewer(owner, who)
    assert caught.value.message == (f"{chain.owner.address} is not the AssetRegistry's admin "
                                    f"({chain.operator.address}): only the admin removes reviewers")
    assert caught.value.hint == "sign with the admin's account" and _sent(chain, chain.owner.address) == before

    removed = status_changes.remove_reviewer(admin, who)
    assert (removed.reviewer, removed.already_done) == (False, False) and not chain.reader.registry.is_reviewer(who)
    assert status_changes.remove_reviewer(admin, who).already_done
    assert status_changes.list_reviewers(admin) == []
    back = status_changes.add_reviewer(admin, who)  # added, removed, added again: a new grant of the role
    assert back.tx_hash not in (None, added.tx_hash) and not back.already_done
    assert status_changes.list_reviewers(admin) == [who]

    with pytest.raises(InvalidInput, match="'0x12' is not an address"):
        status_changes.add_reviewer(admin, "0x12")
    with pytest.raises(InvalidInput, match="the zero address cannot be a reviewer"):
        status_changes.add_reviewer(admin, "0x" + "00" * 20)


def test_a_reviewer_suspends_and_reinstates(pyevm_review: Chain, registry_for: RegistryFor) -> None:
    chain = pyevm_review
    asset_id = _active_asset(chain)
    admin, reviewer = registry_for(chain, chain.operator), registry_for(chain, chain.reviewer)

    with pytest.raises(ContractRevert) as refused:  # not a reviewer yet: the chain's refusal, named
        status_changes.suspend(reviewer, asset_id, "disputed ownership")
    assert refused.value.name == "AccessControlUnauthorizedAccount"
    assert refused.value.message == (f"AccessControlUnauthorizedAccount(account={chain.reviewer.address}, "
                                     "neededRole=REVIEWER_ROLE)")
    assert refused.value.hint.startswith(f"{chain.reviewer.address} does not hold REVIEWER_ROLE, which this needs; "
                                         "the AssetRegistry's admin (the DEFAULT_ADMIN_ROLE holder) grants it")
    assert "\\x" not in str(refused.value) and _rows(reviewer, "suspend") == []  # nothing half-recorded

    status_changes.add_reviewer(admin, chain.reviewer.address)
    suspended = status_changes.suspend(reviewer, asset_id, "disputed ownership")
    assert (suspended.status, suspended.action, suspended.already_done) == ("Suspended", "suspend", False)
    again = status_changes.suspend(reviewer, asset_id)
    assert (again.already_done, again.tx_hash) == (True, suspended.tx_hash)
    [waiting] = status_changes.pending_reviews(reviewer)
    assert (waiting.asset_id, waiting.status) == (asset_id, "Suspended")
    assert waiting.to_json()["waits_for"] == "a reviewer: reinstate or reject"

    reinstated = status_changes.reinstate(reviewer, asset_id, "settled")
    assert (reinstated.status, reinstated.action, reinstated.already_done) == ("Active", "reinstate", False)
    assert status_changes.pending_reviews(reviewer) == []
    before = _sent(chain, chain.reviewer.address)
    again = status_changes.reinstate(reviewer, asset_id)  # this registry's reinstatement stands: nothing sent
    assert (again.already_done, again.tx_hash, again.block_number, again.status) == \
        (True, reinstated.tx_hash, reinstated.block_number, "Active")
    assert _sent(chain, chain.reviewer.address) == before
    second = status_changes.suspend(reviewer, asset_id, "a new dispute")  # suspended, reinstated, suspended again
    assert second.status == "Suspended" and second.tx_hash not in (None, suspended.tx_hash)
    assert status_changes.reinstate(reviewer, asset_id).tx_hash != reinstated.tx_hash


def test_only_active_or_expired_assets_are_suspended(pyevm_review: Chain, registry_for: RegistryFor) -> None:
    chain = pyevm_review
    chain.as_(chain.operator).registry.grant_reviewer(chain.reviewer.address)
    reviewer = registry_for(chain, chain.reviewer)
    pending = register_asset(chain)
    with pytest.raises(RegistrationError) as caught:
        status_changes.suspend(reviewer, pending)
    assert caught.value.message == f"asset {pending} is Pending: only an Active or Expired registration is suspended"
    assert "it becomes Active by itself when its notice ends" in caught.value.hint
    assert _rows(reviewer, "suspend") == []


@pytest.mark.parametrize("moment", ["suspend:submitted", "suspend:sent", "suspend:mined"])
def test_a_crashed_suspension_and_reinstatement_are_finished_once(
        pyevm_review: Chain, registry_for: RegistryFor, moment: str) -> None:
    """A run that dies before its transaction is recorded mined is finished by the rerun (``resumed``); one that dies
    after (before it could say so) is found done by the rerun, which sends nothing (``already_done``)."""
    chain = pyevm_review
    asset_id = _active_asset(chain)
    chain.as_(chain.operator).registry.grant_reviewer(chain.reviewer.address)
    reviewer = registry_for(chain, chain.reviewer)
    before = _sent(chain, chain.reviewer.address)
    finished = moment.endswith(":mined")
    with pytest.raises(Crash):
        status_changes.suspend(reviewer, asset_id, hook=crash_at(moment))
    done = status_changes.suspend(reviewer, asset_id)
    assert done.status == "Suspended" and _sent(chain, chain.reviewer.address) == before + 1
    assert (done.resumed, done.already_done) == (not finished, finished)
    [suspension] = _rows(reviewer, "suspend")
    assert done.tx_hash == suspension.tx_hash is not None
    back = moment.replace("suspend", "reinstate")
    with pytest.raises(Crash):
        status_changes.reinstate(reviewer, asset_id, hook=crash_at(back))
    again = status_changes.reinstate(reviewer, asset_id)
    assert again.status == "Active" and _sent(chain, chain.reviewer.address) == before + 2
    assert (again.resumed, again.already_done) == (not finished, finished)
    [reinstatement] = _rows(reviewer, "reinstate")
    assert (reinstatement.state, again.tx_hash) == ("mined", reinstatement.tx_hash)
    third = status_changes.reinstate(reviewer, asset_id)  # and again: the same reinstatement, nothing sent
    assert third.already_done and third.tx_hash is not None and again.tx_hash in (None, third.tx_hash)
    assert _sent(chain, chain.reviewer.address) == before + 2


def test_a_finished_reinstatement_is_not_answered_after_another_suspension_and_reinstatement(
        pyevm_review: Chain, registry_for: RegistryFor) -> None:
    """The outbox has this registry's reinstatement, mined; since then another reviewer suspended the asset and
    reinstated it again. The asset is Active by another's reinstatement: there is nothing to reinstate, and the
    earlier one is not given as the answer."""
    chain = pyevm_review
    asset_id = _active_asset(chain)
    admin = chain.as_(chain.operator).registry
    admin.grant_reviewer(chain.reviewer.address)
    admin.grant_reviewer(chain.operator.address)
    reviewer = registry_for(chain, chain.reviewer)
    status_changes.suspend(reviewer, asset_id)
    with pytest.raises(Crash):
        status_changes.reinstate(reviewer, asset_id, hook=crash_at("reinstate:mined"))
    admin.suspend(asset_id)
    theirs = admin.reinstate(asset_id)
    before = _sent(chain, chain.reviewer.address)
    with pytest.raises(RegistrationError) as caught:
        status_changes.reinstate(reviewer, asset_id)
    assert caught.value.message == f"asset {asset_id} is Active, not Suspended: there is nothing to reinstate"
    assert _sent(chain, chain.reviewer.address) == before and theirs.to_status == AssetStatus.Active


def test_pending_reviews_lists_the_registrations_that_wait(pyevm_review: Chain, registry_for: RegistryFor) -> None:
    chain = pyevm_review
    user = registry_for(chain, chain.user)
    quiet, objected = register_asset(chain, "quiet"), register_asset(chain, "objected")
    status_changes.review(user, "object", objected, evidence=b"my earlier copy")
    waiting = status_changes.pending_reviews(user)
    assert [(w.asset_id, w.status) for w in waiting] == [(quiet, "Pending"), (objected, "Disputed")]
    assert waiting[0].to_json()["waits_for"].startswith("its notice to end at ")
    assert waiting[0].notice_ends_at == waiting[0].registered_at + DEFAULT_NOTICE_PERIOD
    assert waiting[1].waits_for == "a reviewer: approve or reject"
    chain.travel(DEFAULT_NOTICE_PERIOD + 1)  # the quiet one is Active by itself; the disputed one still waits
    assert [(w.asset_id, w.status) for w in status_changes.pending_reviews(user)] == [(objected, "Disputed")]


def _unauthorized(account: str, role: bytes) -> bytes:
    selector = function_signature_to_4byte_selector("AccessControlUnauthorizedAccount(address,bytes32)")
    return selector + abi_encode(["address", "bytes32"], [account, role])


def test_role_errors_name_the_role_and_who_grants_it() -> None:
    account = "0x" + "ab" * 20
    admin = decode_revert(_unauthorized(account, b"\0" * 32))
    assert "neededRole=DEFAULT_ADMIN_ROLE" in admin.message
    assert "does not hold DEFAULT_ADMIN_ROLE" in admin.hint and "hands it over in two steps" in admin.hint
    reviewer = decode_revert(_unauthorized(account, keccak(text="REVIEWER_ROLE")))
    assert reviewer.message.endswith("neededRole=REVIEWER_ROLE)")
    other = decode_revert(_unauthorized(account, keccak(text="MINTER_ROLE")))
    assert f"neededRole=0x{keccak(text='MINTER_ROLE').hex()}" in other.message
    assert "only an account holding that role's admin role grants it" in other.hint
