"""The grants service on a py-evm chain: grant, revoke, the grant's state; what it refuses before sending."""
from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_utils import keccak
from sqlmodel import select

from dataseal.chain.connection import connect
from dataseal.chain.contracts.deploy import deploy_contracts
from dataseal.chain.contracts.records import ZERO32, GrantStatus
from dataseal.chain.contracts.revert import format_time
from dataseal.chain.embedded.chain import CHAIN_FILENAME, EmbeddedChain, Genesis
from dataseal.chain.embedded.clock import SystemClock
from dataseal.chain.embedded.provider import EmbeddedProvider
from dataseal.chain.errors import ContractRevert
from dataseal.chain.sending.sender import LocalSender
from dataseal.errors import ErrorKind, InvalidInput
from dataseal.registry.db import Database
from dataseal.registry.db.models.receipts import GrantPurposeRecord, GrantScopeRecord
from dataseal.registry.outbox import get_record
from dataseal.registry.registry import Registry
from dataseal.registry.scope import ScopeError, compute_scope_root
from dataseal.registry.services.grant_terms import (
    GrantError,
    compute_next_block_time,
    format_count,
    get_scope_indexes,
    resolve_time,
)
from dataseal.registry.services.grants import grant, grant_state, revoke
from tests.conftest import Chain
from tests.registry.services.conftest import Crash, crash_at, register_asset, registry_on

PURPOSE = "credit scoring model training"


def test_a_grant_with_a_scope_then_its_state_then_revoked(registry: Registry, pyevm: Chain, tmp_path: Path) -> None:
    asset_id = register_asset(pyevm)
    scope = tmp_path / "scope.txt"
    scope.write_text("0-99\n500\n")
    done = grant(registry, asset_id, pyevm.user.address, PURPOSE, "now", "30d", 1000, scope, sender=pyevm.owner)
    record = done.grant
    assert record.asset_id == asset_id and record.grantee == pyevm.user.address
    assert record.grantor == pyevm.owner.address
    assert record.purpose == keccak(text=PURPOSE) and record.quota == 1000
    now = pyevm.w3.eth.get_block(record.tx.block_number)["timestamp"]  # "now": the time of the block that took it
    assert record.valid_from == now and record.expires_at == now + 30 * 86_400
    assert record.scope_root == compute_scope_root([*range(100), 500]) == done.scope.root  # type: ignore[union-attr]
    assert done.to_json()["scope"]["indexes"] == "0-99,500"
    with registry.db.session() as session:
        assert session.get(GrantPurposeRecord, "0x" + keccak(text=PURPOSE).hex()).text == PURPOSE  # type: ignore[union-attr]
        assert session.get(GrantScopeRecord, done.scope.root_hex).index_count == 101  # type: ignore[union-attr]
    assert get_scope_indexes(registry, record.scope_root) == (*range(100), 500)

    state = grant_state(registry, record.grant_id)
    assert state.purpose == PURPOSE and state.remaining == 1000 and state.problem() is None
    assert state.created == record and state.to_json()["usable"] is True

    revoked = revoke(registry, record.grant_id, "contract ended", sender=pyevm.owner)
    assert revoked.reason_hash == keccak(text="contract ended") and revoked.by == pyevm.owner.address
    assert (revoked.reason, revoked.resumed, revoked.already_done) == ("contract ended", False, False)
    state = grant_state(registry, record.grant_id)
    assert state.grant.status == GrantStatus.Revoked and state.problem() == (
        f"grant {record.grant_id} is Revoked", "ask the asset owner for a new grant")
    sent = _sent(pyevm, pyevm.owner)
    again = revoke(registry, record.grant_id)  # this registry's revocation, again: no account unlocked, nothing sent
    assert again.revocation == revoked.revocation and again.already_done and not again.resumed
    assert again.reason == "contract ended"  # the reason this registry sent, not the rerun's (none)
    assert again.to_json()["already_done"] is True and again.to_json()["reason"] == "contract ended"
    assert _sent(pyevm, pyevm.owner) == sent


def test_a_grant_revoked_elsewhere_is_already_revoked(registry: Registry, pyevm: Chain) -> None:
    asset_id = register_asset(pyevm)
    done = grant(registry, asset_id, pyevm.user.address, PURPOSE, "now", "1d", 1, sender=pyevm.owner)
    elsewhere = pyevm.as_(pyevm.owner).grants.revoke(done.grant.grant_id, keccak(text="breach"))  # not this registry
    sent = _sent(pyevm, pyevm.owner)
    again = revoke(registry, done.grant.grant_id, "breach", sender=pyevm.owner)
    assert again.revocation == elsewhere and again.already_done and again.reason == "breach"
    other = revoke(registry, done.grant.grant_id, "another reason", sender=pyevm.user)  # anyone: nothing is sent
    assert other.already_done and other.reason is None and other.reason_hash == keccak(text="breach")
    assert _sent(pyevm, pyevm.owner) == sent


def test_a_scope_beyond_the_asset_is_refused_before_sending(pyevm: Chain, registry_for: Any, tmp_path: Path) -> None:
    from dataseal.registry.sealing.options import SealOptions
    from dataseal.registry.services import assets

    data = tmp_path / "data.bin"
    data.write_bytes(bytes(range(250)) * 6)  # 1,500 bytes: 3 chunks of 512
    owner = registry_for(pyevm, pyevm.owner)
    asset_id = assets.register(owner, data, options=SealOptions(chunk_size=512), certificate=None).asset_id
    scope = tmp_path / "scope.txt"
    scope.write_text("0-2\n30\n")
    with pytest.raises(GrantError) as caught:
        grant(owner, asset_id, pyevm.user.address, PURPOSE, "now", "1d", 1, scope)
    assert caught.value.message == (f"the scope lists index 30, beyond asset {asset_id}'s 3 chunks (indexes 0 to 2; 1 "
                                    "of the scope's 4 indexes is beyond them)")
    assert caught.value.hint == "give chunk indexes from 0 to 2 in the scope" and caught.value.options == ("scope",)
    with pytest.raises(GrantError, match=r"the scope lists index 3, .*; 2 of the scope's 3 indexes are beyond them"):
        grant(owner, asset_id, pyevm.user.address, PURPOSE, "now", "1d", 1, [0, 3, 4])
    assert pyevm.reader.grants.total_grants() == 0
    with owner.db.session() as session:
        assert session.exec(select(GrantScopeRecord)).all() == []  # nothing kept of a refused grant

    inside = grant(owner, asset_id, pyevm.user.address, PURPOSE, "now", "1d", 1, [0, 2])
    assert inside.scope_unchecked is None and inside.to_json()["scope_unchecked"] is None
    unsealed = register_asset(pyevm, "unsealed")  # registered without this registry: its leaves are not known
    blind = grant(owner, unsealed, pyevm.user.address, PURPOSE, "now", "1d", 1, [0, 30])
    assert blind.scope_unchecked == (f"this registry holds no manifest of asset {unsealed}, so the scope's indexes "
                                     "were not checked against its leaves")
    assert blind.to_json()["scope_unchecked"] == blind.scope_unchecked
    assert grant(owner, unsealed, pyevm.user.address, PURPOSE, "now", "1d", 1).scope_unchecked is None  # no scope


@pytest.mark.parametrize(("count", "noun", "text"), [(1, "unit", "1 unit"), (2, "unit", "2 units"),
                                                      (0, "receipt", "0 receipts"), (1, "index", "1 index"),
                                                      (7, "index", "7 indexes")])
def test_counts_are_singular_for_one(count: int, noun: str, text: str) -> None:
    assert format_count(count, noun) == text


def test_a_whole_asset_grant_in_the_future(registry: Registry, pyevm: Chain) -> None:
    asset_id = register_asset(pyevm)
    start = datetime.fromtimestamp(pyevm.now() + 86_400, UTC)
    done = grant(registry, asset_id, pyevm.user.address, PURPOSE, start, "1w", 5, sender=pyevm.owner)
    assert done.grant.scope_root == ZERO32 and done.scope is None
    assert done.grant.expires_at - done.grant.valid_from == 7 * 86_400  # a duration until counts from the start
    problem = grant_state(registry, done.grant.grant_id).problem()
    assert problem is not None and problem[0].startswith(f"grant {done.grant.grant_id} starts at ")


def test_only_the_owner_grants_and_revokes(registry: Registry, pyevm: Chain) -> None:
    asset_id = register_asset(pyevm)
    with pytest.raises(GrantError) as caught:
        grant(registry, asset_id, pyevm.buyer.address, PURPOSE, "now", "1d", 1, sender=pyevm.user)
    assert caught.value.message == (f"{pyevm.user.address} does not own asset {asset_id} (its owner is "
                                    f"{pyevm.owner.address}): only the owner grants its use")
    assert caught.value.kind == ErrorKind.CONFLICT
    done = grant(registry, asset_id, pyevm.user.address, PURPOSE, "now", "1d", 1, sender=pyevm.owner)
    with pytest.raises(GrantError, match="only the owner revokes its grants"):
        revoke(registry, done.grant.grant_id, sender=pyevm.user)


def test_unknown_assets_and_grants_are_named(registry: Registry, pyevm: Chain) -> None:
    with pytest.raises(ContractRevert) as caught:
        grant(registry, 99, pyevm.user.address, PURPOSE, "now", "1d", 1, sender=pyevm.owner)
    assert caught.value.kind == ErrorKind.NOT_FOUND and "no asset 99 on this chain" in str(caught.value)
    with pytest.raises(ContractRevert, match="no grant 42 on this chain"):
        grant_state(registry, 42)
    with pytest.raises(ContractRevert, match="no grant 42 on this chain"):
        revoke(registry, 42, sender=pyevm.owner)
    with pytest.raises(InvalidInput, match=r"0 is not a grant id \(grant ids are whole numbers from 1\)"):
        grant_state(registry, 0)


@pytest.mark.parametrize(
    ("args", "error", "needle"),
    [
        (dict(grantee="0x1234"), InvalidInput, "grantee '0x1234' is not an address"),
        (dict(grantee="0x" + "00" * 20), GrantError, "the grantee cannot be the zero address"),
        (dict(purpose="  "), GrantError, "the purpose is empty"),
        (dict(quota=0), GrantError, "the quota 0 is not a number of units from 1 to"),
        (dict(quota=2**64), GrantError, "the quota 18446744073709551616 is not"),
        (dict(valid_from="yesterday"), InvalidInput, "valid_from 'yesterday' is not a time"),
        (dict(until="2000-01-01"), GrantError,
         "the window ends (2000-01-01 00:00:00 UTC (946684800)) before it starts"),
        (dict(valid_from="2000-01-01", until="2000-02-01"), GrantError, "already past"),
        (dict(scope=[-1]), ScopeError, "a negative index"),
    ],
)
def test_bad_terms_are_refused_before_sending(registry: Registry, pyevm: Chain, args: dict[str, object],
                                              error: type[Exception], needle: str) -> None:
    asset_id = register_asset(pyevm)
    terms: dict[str, object] = dict(grantee=pyevm.user.address, purpose=PURPOSE, valid_from="now", until="1d",
                                    quota=1, scope=None)
    terms.update(args)
    before = pyevm.w3.eth.get_transaction_count(pyevm.owner.address)
    with pytest.raises(error) as caught:
        grant(registry, asset_id, sender=pyevm.owner, **terms)  # type: ignore[arg-type]
    assert needle in str(caught.value)
    assert pyevm.w3.eth.get_transaction_count(pyevm.owner.address) == before  # nothing sent


def test_times() -> None:
    now = 1_700_000_000
    assert resolve_time("now", now, "t") == now
    assert resolve_time("30d", now, "t") == now + 30 * 86_400
    assert resolve_time("2h", now, "t", base=5) == 7205
    assert resolve_time("2026-03-01", now, "t") == int(datetime(2026, 3, 1, tzinfo=UTC).timestamp())
    assert resolve_time("2026-03-01T12:00:00+08:00", now, "t") == int(datetime(2026, 3, 1, 4, tzinfo=UTC).timestamp())
    assert resolve_time("2026-03-01T04:00:00Z", now, "t") == int(datetime(2026, 3, 1, 4, tzinfo=UTC).timestamp())
    assert resolve_time("1800000000", now, "t") == 1_800_000_000
    with pytest.raises(InvalidInput, match="has no time zone"):
        resolve_time(datetime(2026, 1, 1), now, "t")
    with pytest.raises(InvalidInput, match="out of range"):
        resolve_time(2**41, now, "t")
    with pytest.raises(InvalidInput, match="is not a time"):
        resolve_time(True, now, "t")


GRANT_MOMENTS = ["grant:prepared", "grant:submitting", "grant:submitted", "grant:sent", "grant:mined"]


def _sent(chain: Chain, sender: Any) -> int:
    return int(chain.w3.eth.get_transaction_count(sender.address))


@pytest.mark.parametrize("moment", GRANT_MOMENTS)
def test_a_crash_at_any_moment_of_a_grant_is_finished_by_the_rerun(
        registry: Registry, pyevm: Chain, moment: str) -> None:
    """``grant:submitted``: the node took (and mined) the transaction, its hash was not yet recorded."""
    asset_id = register_asset(pyevm)
    # the first run's "now": the time the next block will carry (eth-tester's pending block is stamped already)
    before, first_now = _sent(pyevm, pyevm.owner), pyevm.w3.eth.get_block("pending")["timestamp"]
    with pytest.raises(Crash):
        grant(registry, asset_id, pyevm.user.address, PURPOSE, "now", "30d", 10, [1, 2, 3], sender=pyevm.owner,
              hook=crash_at(moment))
    pyevm.travel(60)  # the rerun comes later: "now" is another time, the grant keeps the first run's window
    done = grant(registry, asset_id, pyevm.user.address, PURPOSE, "now", "30d", 10, [1, 2, 3], sender=pyevm.owner)
    assert pyevm.reader.grants.total_grants() == 1 and done.grant.grant_id == 1
    assert _sent(pyevm, pyevm.owner) == before + 1  # one transaction: never a second grant
    sent_before_crash = moment in ("grant:submitted", "grant:sent", "grant:mined")
    assert done.resumed == sent_before_crash
    if sent_before_crash:
        assert done.grant.valid_from == first_now and done.grant.expires_at == first_now + 30 * 86_400
    assert pyevm.reader.grants.grant_of(1).scope_root == compute_scope_root([1, 2, 3])
    again = grant(registry, asset_id, pyevm.user.address, PURPOSE, "now", "30d", 10, [1, 2, 3], sender=pyevm.owner)
    assert again.grant.grant_id == 2 and not again.resumed  # the request was closed: the same command, a new grant


def test_a_request_id_gives_the_same_grant_every_time(registry: Registry, pyevm: Chain) -> None:
    asset_id = register_asset(pyevm)
    first = grant(registry, asset_id, pyevm.user.address, PURPOSE, "now", "1d", 5, request="order-17",
                  sender=pyevm.owner)
    again = grant(registry, asset_id, pyevm.user.address, PURPOSE, "now", "1d", 5, request="order-17",
                  sender=pyevm.owner)
    assert again.grant == first.grant and again.resumed and pyevm.reader.grants.total_grants() == 1
    other = grant(registry, asset_id, pyevm.user.address, PURPOSE, "now", "1d", 5, request="order-18",
                  sender=pyevm.owner)
    assert other.grant.grant_id == 2
    with pytest.raises(InvalidInput, match="a request id is a non-empty text, got ' '"):
        grant(registry, asset_id, pyevm.user.address, PURPOSE, "now", "1d", 5, request=" ", sender=pyevm.owner)


def test_an_earlier_request_that_never_left_is_made_with_fresh_terms(registry: Registry, pyevm: Chain) -> None:
    """A run that died before handing the grant to the node left an intent with its window; when the rerun comes
    after that window, the grant is made with the rerun's times (nothing of the first run is on chain)."""
    asset_id = register_asset(pyevm)
    with pytest.raises(Crash):
        grant(registry, asset_id, pyevm.user.address, PURPOSE, "now", "1h", 5, sender=pyevm.owner,
              hook=crash_at("grant:submitting"))
    later = pyevm.travel(2 * 3600)
    done = grant(registry, asset_id, pyevm.user.address, PURPOSE, "now", "1h", 5, sender=pyevm.owner)
    assert done.grant.valid_from >= later and done.grant.expires_at == done.grant.valid_from + 3600
    assert pyevm.reader.grants.total_grants() == 1


#: (resumed, already_done) of the rerun after a crash at each moment: sent afresh (nothing had reached the node),
#: finished by it, or found finished before it
RERUN_SAYS = {"revoke:prepared": (False, False), "revoke:submitting": (False, False), "revoke:submitted": (True, False),
              "revoke:sent": (True, False), "revoke:mined": (False, True)}


@pytest.mark.parametrize("moment", [*RERUN_SAYS])
def test_a_crash_at_any_moment_of_a_revocation_is_finished_by_the_rerun(
        registry: Registry, pyevm: Chain, moment: str) -> None:
    asset_id = register_asset(pyevm)
    made = grant(registry, asset_id, pyevm.user.address, PURPOSE, "now", "1d", 5, sender=pyevm.owner).grant
    before = _sent(pyevm, pyevm.owner)
    with pytest.raises(Crash):
        revoke(registry, made.grant_id, "ended", sender=pyevm.owner, hook=crash_at(moment))
    revoked = revoke(registry, made.grant_id, "ended", sender=pyevm.owner)
    assert revoked.grant_id == made.grant_id and revoked.reason_hash == keccak(text="ended")
    assert revoked.reason == "ended" and (revoked.resumed, revoked.already_done) == RERUN_SAYS[moment]
    assert _sent(pyevm, pyevm.owner) == before + 1
    assert pyevm.reader.grants.grant_of(made.grant_id).status == GrantStatus.Revoked


def test_a_rerun_finishes_its_own_grant_not_an_earlier_one_of_the_same_terms(registry: Registry, pyevm: Chain
                                                                            ) -> None:
    """Two grants of the same fixed terms, made one after the other: the second run dies once the node took its
    transaction; the rerun finds the second grant (mined after the request started), not the first one (mined
    in the block the request started from)."""
    asset_id = register_asset(pyevm)
    start, end = pyevm.now() + 3600, pyevm.now() + 7200
    first = grant(registry, asset_id, pyevm.user.address, PURPOSE, start, end, 5, sender=pyevm.owner).grant
    with pytest.raises(Crash):
        grant(registry, asset_id, pyevm.user.address, PURPOSE, start, end, 5, sender=pyevm.owner,
              hook=crash_at("grant:submitted"))
    done = grant(registry, asset_id, pyevm.user.address, PURPOSE, start, end, 5, sender=pyevm.owner)
    assert pyevm.reader.grants.total_grants() == 2
    assert (first.grant_id, done.grant.grant_id) == (1, 2) and done.resumed


def test_a_rerun_does_not_take_another_requests_grant_of_the_same_terms(registry: Registry, pyevm: Chain) -> None:
    """Request ``b`` dies as it hands its grant over (nothing reached the node); request ``a``, of the same terms,
    is made meanwhile; ``b``'s rerun does not take ``a``'s grant for its own: it makes its grant."""
    asset_id = register_asset(pyevm)
    start, end = pyevm.now() + 3600, pyevm.now() + 7200
    with pytest.raises(Crash):
        grant(registry, asset_id, pyevm.user.address, PURPOSE, start, end, 5, request="b", sender=pyevm.owner,
              hook=crash_at("grant:submitting"))
    made_a = grant(registry, asset_id, pyevm.user.address, PURPOSE, start, end, 5, request="a", sender=pyevm.owner)
    made_b = grant(registry, asset_id, pyevm.user.address, PURPOSE, start, end, 5, request="b", sender=pyevm.owner)
    assert (made_a.grant.grant_id, made_b.grant.grant_id) == (1, 2)
    assert pyevm.reader.grants.total_grants() == 2
    again = grant(registry, asset_id, pyevm.user.address, PURPOSE, start, end, 5, request="a", sender=pyevm.owner)
    assert again.grant == made_a.grant and again.resumed


def test_a_grant_found_on_chain_by_a_rerun_is_kept_from_other_requests(registry: Registry, pyevm: Chain) -> None:
    """Request ``a`` dies once the node took its grant and its rerun finds the grant on chain (no transaction hash
    was recorded): the outbox records that grant's transaction, so that request ``b`` of the same terms, started
    before ``a``'s grant was mined and dead before sending, makes its own grant on its rerun."""
    asset_id = register_asset(pyevm)
    start, end = pyevm.now() + 3600, pyevm.now() + 7200
    terms = (asset_id, pyevm.user.address, PURPOSE, start, end, 5)
    with pytest.raises(Crash):
        grant(registry, *terms, request="b", sender=pyevm.owner, hook=crash_at("grant:submitting"))
    with pytest.raises(Crash):
        grant(registry, *terms, request="a", sender=pyevm.owner, hook=crash_at("grant:submitted"))
    made_a = grant(registry, *terms, request="a", sender=pyevm.owner)
    assert made_a.grant.grant_id == 1 and made_a.resumed
    made_b = grant(registry, *terms, request="b", sender=pyevm.owner)
    assert made_b.grant.grant_id == 2 and pyevm.reader.grants.total_grants() == 2


def test_a_revocation_that_never_left_is_sent_with_the_reruns_reason(registry: Registry, pyevm: Chain) -> None:
    asset_id = register_asset(pyevm)
    made = grant(registry, asset_id, pyevm.user.address, PURPOSE, "now", "1d", 5, sender=pyevm.owner).grant
    with pytest.raises(Crash):
        revoke(registry, made.grant_id, "first reason", sender=pyevm.owner, hook=crash_at("revoke:prepared"))
    revoked = revoke(registry, made.grant_id, "contract ended", sender=pyevm.owner)
    assert revoked.reason_hash == keccak(text="contract ended")
    key = f"revoke:{pyevm.deployment.chain_id}:{pyevm.deployment.grant_registry}:{made.grant_id}"
    record = get_record(registry.db, key)
    assert record is not None and record.payload["reasonHash"] == "0x" + keccak(text="contract ended").hex()
    assert record.tx_hash == revoked.tx.tx_hash


# ------------------------------------------------------------------- the time a grant is checked against


def test_on_an_idle_node_now_is_the_time_of_the_next_block(hardhat: Chain, tmp_path: Path, database: Database
                                                           ) -> None:
    """An hour without blocks (hardhat's evm_increaseTime: the next block is stamped an hour after the latest). A
    window ending half an hour after the latest block is over by the time the chain checks it: refused before
    sending. ``now`` is the next block's time, not the latest block's."""
    registry = registry_on(hardhat, tmp_path / "data", database)
    try:
        asset_id = register_asset(hardhat)
        hardhat.w3.provider.make_request("evm_increaseTime", [3600])  # type: ignore[arg-type]
        latest = hardhat.now()
        before = _sent(hardhat, hardhat.owner)
        with pytest.raises(GrantError) as caught:
            grant(registry, asset_id, hardhat.user.address, PURPOSE, latest - 60, latest + 1800, 1,
                  sender=hardhat.owner)
        assert caught.value.message.startswith(f"the window ends at {format_time(latest + 1800)}, already past "
                                               "(the next block will carry ")
        assert caught.value.options == ("until",) and _sent(hardhat, hardhat.owner) == before  # nothing sent
        done = grant(registry, asset_id, hardhat.user.address, PURPOSE, "now", "1h", 1, sender=hardhat.owner).grant
        stamped = int(hardhat.w3.eth.get_block(done.tx.block_number)["timestamp"])
        assert latest + 3600 <= done.valid_from <= stamped  # not the stale latest block's time
        assert grant_state(registry, done.grant_id).problem() is None  # usable now: its window has started
    finally:
        registry.close()


class _ShiftedClock(SystemClock):
    """The system clock, moved on by ``ahead`` seconds (the embedded node's clock and the service's alike)."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def time(self) -> float:  # type: ignore[override]
        return time.time() + self.ahead


def test_a_node_without_a_pending_block_is_read_with_the_clock(tmp_path: Path, database: Database) -> None:
    """The embedded chain answers "pending" with its latest block and stamps the next one with its clock: after an
    idle hour (the clock moved on, no block made), ``now`` is the clock's time, which the service is given."""
    clock = _ShiftedClock()
    keys = [Account.create() for _ in range(5)]
    (tmp_path / "chain").mkdir()
    embedded = EmbeddedChain.open(tmp_path / "chain" / CHAIN_FILENAME,
                                  genesis=Genesis(alloc={k.address: 10**21 for k in keys}), clock=clock)
    try:
        node = connect(EmbeddedProvider(embedded), name="the embedded chain")
        senders = [LocalSender(k, endpoint=node.endpoint) for k in keys]
        chain = Chain(node.w3, deploy_contracts(node.w3, senders[0]), *senders, keys={k.address: k for k in keys})
        registry = registry_on(chain, tmp_path / "data", database)
        asset_id = register_asset(chain)
        clock.ahead = 3600.0
        latest = chain.now()
        assert compute_next_block_time(registry, clock.time) >= latest + 3600
        with pytest.raises(GrantError, match="already past"):
            grant(registry, asset_id, chain.user.address, PURPOSE, latest - 60, latest + 1800, 1,
                  sender=chain.owner, clock=clock.time)
        done = grant(registry, asset_id, chain.user.address, PURPOSE, "now", "1h", 1, sender=chain.owner,
                     clock=clock.time).grant
        stamped = int(chain.w3.eth.get_block(done.tx.block_number)["timestamp"])
        assert latest + 3600 <= done.valid_from <= stamped
        registry.close()
    finally:
        embedded.close()


def test_a_window_the_chain_still_refuses_is_one_line(registry: Registry, pyevm: Chain) -> None:
    """The checks pass, then the chain's time moves past the window's end before the grant is sent (a slow
    node, a long queue): the chain's InvalidValidity arrives as one GrantError with the window and its time."""
    asset_id = register_asset(pyevm)

    def late(moment: str) -> None:
        if moment == "grant:submitting":
            pyevm.travel(2 * 86_400)

    with pytest.raises(GrantError) as caught:
        grant(registry, asset_id, pyevm.user.address, PURPOSE, "now", "1d", 1, sender=pyevm.owner, hook=late)
    message = caught.value.message
    assert message.startswith("the chain refused the window ") and "at or after the end" in message
    assert "its block is stamped " in message and "\n" not in message
    assert caught.value.hint.startswith("give a later end") and caught.value.options == ("until",)
    assert pyevm.reader.grants.total_grants() == 0
    done = grant(registry, asset_id, pyevm.user.address, PURPOSE, "now", "1d", 1, sender=pyevm.owner)  # then again
    assert done.grant.grant_id == 1
