"""The write worker's own rules (api/operations.py), with handlers of the test's on the API world's real registry
database: the same write posted at the same moment is one operation (no 500 from the unique natural key), a write
running long keeps its lease by a heartbeat, a mined write waits for the index before it is told mined, a failed
one carries its error body once (not nested), and a worker whose record of an operation fails lives on."""
from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from dataseal.api import operations as ops
from dataseal.api.operations import Operations
from dataseal.errors import Conflict
from dataseal.registry.db.models.api import ApiOperation
from dataseal.registry.outbox import Hook
from dataseal.registry.registry import Registry
from dataseal.registry.services.writer import Clock
from tests.api.conftest import World
from tests.chain.embedded.clocks import HANG_GUARD_SECONDS


def _done(result: dict[str, Any]) -> ops.Handler:
    def handler(registry: Registry, request: Mapping[str, Any], hook: Hook, clock: Clock) -> dict[str, Any]:
        return dict(result)
    return handler


@pytest.fixture
def stopped() -> Iterator[list[Operations]]:
    made: list[Operations] = []
    yield made
    for operations in made:
        operations.stop()


def test_the_same_write_posted_at_the_same_moment_is_one_operation(world: World, stopped: list[Operations]) -> None:
    operations = Operations(world.registry, {"t": _done({})})
    stopped.append(operations)
    start = threading.Barrier(8)
    answers: list[str] = []
    errors: list[BaseException] = []

    def post() -> None:
        start.wait(HANG_GUARD_SECONDS)
        try:
            answers.append(operations.submit("t", "same:write", "api-key:test", {"a": 1})["operation"])
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(HANG_GUARD_SECONDS)
    assert errors == [] and len(answers) == 8 and len(set(answers)) == 1
    with pytest.raises(Conflict, match="asked with other values"):
        operations.submit("t", "same:write", "api-key:test", {"a": 2})


def test_a_long_write_keeps_its_lease_and_a_mined_one_waits_for_the_index(
        world: World, stopped: list[Operations], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ops, "HEARTBEAT", 0.01)
    renewed = threading.Event()
    waited: list[tuple[int, str]] = []

    def lease_of(operation_id: str) -> Any:
        with world.registry.db.session() as session:
            row = session.get(ApiOperation, operation_id)
            assert row is not None
            return row.lease_until, row.status

    def handler(registry: Registry, request: Mapping[str, Any], hook: Hook, clock: Clock) -> dict[str, Any]:
        first, _ = lease_of(request["me"])
        for _ in range(10_000):  # until a beat renews the lease (each check waits a little: a hang guard)
            if lease_of(request["me"])[0] != first:
                renewed.set()
                break
            renewed.wait(0.01)
        return {"tx_hash": "0x" + "ab" * 32, "block_number": 7}

    def index_wait(block: int, seconds: float) -> bool:
        waited.append((block, lease_of(operation_id)[1]))
        return True

    operations = Operations(world.registry, {"t": handler}, index_wait=index_wait)
    stopped.append(operations)
    operation_id = operations.submit("t", "long:write", "api-key:test", {})["operation"]
    with world.registry.db.session() as session:  # the handler reads its own id from the request
        row = session.get(ApiOperation, operation_id)
        assert row is not None
        row.request = {"me": operation_id}
        session.add(row)
    operations.start()
    done = operations.wait(operation_id, HANG_GUARD_SECONDS)
    assert renewed.is_set() and done["status"] == "mined"
    assert waited == [(7, "queued")], "the index was waited for before the write was told mined"
    lease, _ = lease_of(operation_id)
    assert lease is None


def test_a_failed_write_carries_its_error_once_and_a_worker_outlives_a_failed_record(
        world: World, stopped: list[Operations], monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(registry: Registry, request: Mapping[str, Any], hook: Hook, clock: Clock) -> dict[str, Any]:
        raise Conflict("the chain refused it", hint="do something else")

    operations = Operations(world.registry, {"bad": refused, "ok": _done({"x": 1}), "t": _done({})})
    stopped.append(operations)
    real_finish = operations._finish  # noqa: SLF001
    broken = {"once": True}

    def finish(*args: Any, **kwargs: Any) -> None:
        if broken["once"] and kwargs.get("result") == {"x": 1}:
            broken["once"] = False
            raise RuntimeError("the database went away while recording")
        real_finish(*args, **kwargs)

    monkeypatch.setattr(operations, "_finish", finish)
    failed = operations.submit("bad", "bad:write", "api-key:test", {})["operation"]
    fine = operations.submit("ok", "ok:write", "api-key:test", {})["operation"]
    operations.start()
    assert operations.wait(failed, HANG_GUARD_SECONDS)["error"] == {
        "kind": "conflict", "message": "the chain refused it", "hint": "do something else"}
    again = operations.wait(fine, HANG_GUARD_SECONDS)  # given back after the failed record, carried out again
    assert again["status"] == "mined" and again["result"] == {"x": 1} and not broken["once"]


def test_a_write_that_loses_the_race_for_its_natural_key_answers_the_winner(
        world: World, stopped: list[Operations], monkeypatch: pytest.MonkeyPatch) -> None:
    """The race itself, made certain: between this request's look-up and its insert, another request inserts the same
    write; the database refuses the second insert (the unique natural key): the answer is the winner's operation."""
    operations = Operations(world.registry, {"t": _done({})})
    stopped.append(operations)
    real = operations._submit  # noqa: SLF001
    winner: list[str] = []

    def losing(kind: str, natural_key: str, writer: str, request: dict[str, Any]) -> dict[str, Any]:
        if not winner:
            winner.append(real(kind, natural_key, writer, request)["operation"])  # the other request's insert
            raise IntegrityError("INSERT INTO api_operation", {}, Exception("UNIQUE constraint failed"))
        return real(kind, natural_key, writer, request)

    monkeypatch.setattr(operations, "_submit", losing)
    assert operations.submit("t", "raced:write", "api-key:test", {"a": 1})["operation"] == winner[0]


def test_an_operation_whose_worker_died_is_taken_over_once_its_lease_ends(world: World,
                                                                          stopped: list[Operations]) -> None:
    """A worker killed while it held an operation (kill -9: nothing given back) leaves its lease: another worker (the
    restarted service, a replica) takes the operation once the lease ends — within :data:`LEASE`, a minute."""
    assert ops.LEASE <= timedelta(seconds=60)
    operations = Operations(world.registry, {"t": _done({"taken": True})})
    stopped.append(operations)
    held = operations.submit("t", "held:write", "api-key:test", {})["operation"]
    lapsed = operations.submit("t", "lapsed:write", "api-key:test", {})["operation"]
    now = datetime.now(UTC)
    with world.registry.db.session() as session:
        for operation_id, until in ((held, now + ops.LEASE), (lapsed, now - timedelta(seconds=1))):
            row = session.get(ApiOperation, operation_id)
            assert row is not None
            row.worker, row.lease_until = "w_dead", until
            session.add(row)
    operations.start()
    assert operations.wait(lapsed, HANG_GUARD_SECONDS)["result"] == {"taken": True}
    assert operations.get(held)["status"] == "queued", "a lease still running is not taken"


def test_an_operation_of_a_kind_this_service_does_not_know_fails_and_does_not_hold_the_queue(
        world: World, stopped: list[Operations]) -> None:
    """Queued by another dataseal version sharing the database: failed with a clear error, and the operations after
    it are carried out (it is not retried for ever at the head of the queue)."""
    older = Operations(world.registry, {"gone": _done({}), "t": _done({})})
    stranger = older.submit("gone", "gone:write", "api-key:test", {})["operation"]
    operations = Operations(world.registry, {"t": _done({"after": True})})
    stopped.append(operations)
    after = operations.submit("t", "after:write", "api-key:test", {})["operation"]
    operations.start()
    assert operations.wait(after, HANG_GUARD_SECONDS)["result"] == {"after": True}
    failed = operations.wait(stranger, HANG_GUARD_SECONDS)
    assert failed["status"] == "failed" and "kind 'gone'" in failed["error"]["message"]
