"""The API's writes as operations: a write checked and accepted (202) is queued in the database
(:class:`~dataseal.registry.db.models.api.ApiOperation`) and carried out by one background worker per app (a thread:
the operator's transactions are sent one after another anyway), which records its status (queued, submitted, mined,
failed), its transactions and its result or error body. ``GET /operations/{id}`` reads it.

The same write posted twice (its natural key: the outbox key of what it does) is one operation. Operations left
unfinished by a stopped service are carried out when a worker starts again: the services finish a write through
their outbox, never twice. Replicas sharing one database each run a worker: a worker takes an operation by leasing
it (:data:`LEASE`, renewed at each step of the write), so that two never carry out the same one at once; a worker
stopping gives its operation back at once, one that died holds it until its lease ends (a minute: the lease is
renewed by a heartbeat while the write runs). A mined write is told mined once the service's indexer (when one runs
beside the API, as in `dataseal up`) holds its block, so that trails and listings read then show it.
"""
from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from dataseal.api.errors import INTERNAL_HINT, INTERNAL_MESSAGE, compute_error_body
from dataseal.api.security import purge_idempotent_responses
from dataseal.errors import Conflict, DatasealError, ErrorKind, NotFound
from dataseal.registry.db.models.api import ApiOperation
from dataseal.registry.db.models.local import OutboxTx
from dataseal.registry.outbox import Hook
from dataseal.registry.registry import Registry
from dataseal.registry.services.writer import Clock

log = logging.getLogger("dataseal.api.operations")

QUEUED, SUBMITTED, MINED, FAILED = "queued", "submitted", "mined", "failed"
UNFINISHED = (QUEUED, SUBMITTED)
FINISHED = (MINED, FAILED)

#: How long a worker holds an operation it took without a sign of life: another worker (a replica, or this service
#: restarted after a crash) takes it over after that. The worker renews it every :data:`HEARTBEAT` while it carries
#: the operation out (a receipt may take minutes on a real chain) and at each step of the write.
LEASE = timedelta(seconds=60)
HEARTBEAT = LEASE.total_seconds() / 4
#: Idempotency records are kept this long (a client retries within minutes; a day is generous), purged hourly.
IDEMPOTENCY_KEPT = timedelta(days=1)
PURGE_EVERY = 3600.0
#: How long a mined write waits for the service's indexer to reach its block before it is told mined (the index
#: answers trails and listings: a client that reads them once the operation is mined should see the write).
INDEX_WAIT = 30.0

IndexWait = Callable[[int, float], bool]
"""``wait(block, seconds)``: wait until the service's index holds ``block``; whether it does (False: not within
``seconds``, or no indexer runs)."""

Handler = Callable[[Registry, Mapping[str, Any], Hook, Clock], dict[str, Any]]
"""Carries out an operation's request (rerun-safe); answers its result (JSON-ready)."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def operation_json(row: ApiOperation) -> dict[str, Any]:
    """What the API answers about an operation."""
    hashes = list(row.tx_hashes or [])
    return {"operation": row.id, "kind": row.kind, "status": row.status, "tx_hash": hashes[-1] if hashes else None,
            "tx_hashes": hashes, "poll": f"/operations/{row.id}", "result": row.result, "error": row.error}


class Operations:
    """The operations of one registry and the worker carrying them out (:meth:`start`, :meth:`stop`).

    ``handlers`` carry out each kind; ``clock`` is the services' clock (a commitment's minimum age is waited out
    with it: tests pass the chain's); ``hook(moment)`` sees every moment of the writes (tests)."""

    def __init__(self, registry: Registry, handlers: Mapping[str, Handler], *, clock: Clock | None = None,
                 hook: Hook | None = None, index_wait: IndexWait | None = None) -> None:
        self.registry = registry
        self.index_wait = index_wait
        self._purged_at: float | None = None
        self.handlers = dict(handlers)
        self.clock = clock or Clock()
        self.hook = hook
        self._changed = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.worker_id = "w_" + secrets.token_hex(8)

    # ------------------------------------------------------------------------------ asking

    def submit(self, kind: str, natural_key: str, writer: str, request: dict[str, Any]) -> dict[str, Any]:
        """Queue the write ``request`` of ``kind``, or answer the operation already made of it (the same natural key
        and request); a failed one is replaced by a new attempt. :class:`Conflict` when the natural key is another
        request's, still under way or done."""
        if kind not in self.handlers:  # pragma: no cover - a programming error
            raise ValueError(f"no handler for operations of kind {kind!r}")
        try:
            answer = self._submit(kind, natural_key, writer, request)
        except IntegrityError:  # the same write posted at the same moment: the other request queued it
            answer = self._submit(kind, natural_key, writer, request)
        with self._changed:
            self._changed.notify_all()
        return answer

    def _submit(self, kind: str, natural_key: str, writer: str, request: dict[str, Any]) -> dict[str, Any]:
        now = utc_now()
        with self.registry.db.session() as session:
            row = session.exec(select(ApiOperation).where(ApiOperation.natural_key == natural_key)).first()
            if row is not None and row.status != FAILED:
                if row.kind != kind or row.request != request:
                    raise Conflict(f"another write of the same thing ({natural_key}) is operation {row.id}, "
                                   f"{row.status}, asked with other values",
                                   hint=f"see GET /operations/{row.id}; a write of other values goes once it is "
                                        "failed", options=("operation",))
                return operation_json(row)
            if row is not None:  # failed: kept under another key, a new attempt takes the natural key
                row.natural_key = f"{natural_key}#failed:{row.id}"[:255]
                session.add(row)
                session.flush()
            row = ApiOperation(id="op_" + secrets.token_hex(16), kind=kind, natural_key=natural_key, writer=writer,
                               status=QUEUED, request=request, tx_hashes=[], created_at=now, updated_at=now)
            session.add(row)
            session.flush()
            return operation_json(row)

    def find(self, kind: str, natural_key: str, request: dict[str, Any]) -> dict[str, Any] | None:
        """The operation made of this very write (kind, natural key and request), unless it failed; None if none.
        A route answers it before its checks: a write already made no longer passes them (a nonce used, a root
        held), yet posting it again is answered with its operation."""
        with self.registry.db.session() as session:
            row = session.exec(select(ApiOperation).where(ApiOperation.natural_key == natural_key)).first()
            if row is None or row.status == FAILED or row.kind != kind or row.request != request:
                return None
            return operation_json(row)

    def get(self, operation_id: str) -> dict[str, Any]:
        """The operation ``operation_id``; :class:`NotFound` if there is none."""
        with self.registry.db.session() as session:
            row = session.get(ApiOperation, operation_id)
            if row is None:
                raise NotFound(f"no operation {operation_id!r} on this registry",
                               hint="give the operation id a write answered (its poll URL)")
            return operation_json(row)

    def wait(self, operation_id: str, timeout: float = 120.0) -> dict[str, Any]:
        """The operation once finished (mined or failed), or as it is after ``timeout`` seconds (a bound for tests
        and clients in this process: it returns as soon as the worker records the end)."""
        with self._changed:
            self._changed.wait_for(lambda: self.get(operation_id)["status"] in FINISHED, timeout)
        return self.get(operation_id)

    # ------------------------------------------------------------------------------ the worker

    def start(self) -> None:
        """Start the worker (once): it carries out the queued operations, those left unfinished first."""
        with self._changed:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="dataseal-api-writes", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the worker to stop after the step it is in, and wait up to ``timeout`` seconds for it. An operation
        it was carrying out stays unfinished: the next start finishes it."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None

    def _free(self, now: datetime) -> Any:
        return or_(col(ApiOperation.lease_until).is_(None), col(ApiOperation.lease_until) < now,
                   col(ApiOperation.worker) == self.worker_id)

    def _next(self) -> ApiOperation | None:
        """The oldest unfinished operation no other worker holds, taken (leased) by this one."""
        now = utc_now()
        with self.registry.db.session() as session:
            candidates = session.exec(select(ApiOperation.id).where(col(ApiOperation.status).in_(UNFINISHED),
                                                                    self._free(now))
                                      .order_by(col(ApiOperation.created_at)).limit(8)).all()
        for operation_id in candidates:
            with self.registry.db.session() as session:
                taken = session.execute(update(ApiOperation).where(
                    col(ApiOperation.id) == operation_id, col(ApiOperation.status).in_(UNFINISHED), self._free(now))
                    .values(worker=self.worker_id, lease_until=now + LEASE))
                if not getattr(taken, "rowcount", 0):
                    continue  # another worker took it in between
            with self.registry.db.session() as session:
                row = session.get(ApiOperation, operation_id)
                if row is not None:
                    session.expunge(row)
                    return row
        return None

    def _purge(self) -> None:
        """Drop idempotency records older than :data:`IDEMPOTENCY_KEPT`, at most every :data:`PURGE_EVERY` (idle)."""
        now = time.monotonic()
        if self._purged_at is not None and now - self._purged_at < PURGE_EVERY:
            return
        self._purged_at = now
        try:
            purge_idempotent_responses(self.registry.db, before=utc_now() - IDEMPOTENCY_KEPT)
        except Exception:  # the database did not answer: the next purge tries again
            log.exception("purging old idempotency records failed")

    def _beat(self, operation_id: str, done: threading.Event) -> None:
        """Renew the lease of ``operation_id`` every :data:`HEARTBEAT` until ``done``."""
        while not done.wait(HEARTBEAT):
            try:
                self._renew(operation_id)
            except Exception:  # the database did not answer: the next beat tries again
                log.exception("renewing the lease of operation %s failed", operation_id)

    def _renew(self, operation_id: str) -> None:
        with self.registry.db.session() as session:
            session.execute(update(ApiOperation).where(col(ApiOperation.id) == operation_id,
                                                       col(ApiOperation.worker) == self.worker_id)
                            .values(lease_until=utc_now() + LEASE))

    def _release(self, operation_id: str) -> None:
        """Give up ``operation_id`` unfinished (the worker stops): the next worker takes it at once."""
        with self.registry.db.session() as session:
            session.execute(update(ApiOperation).where(col(ApiOperation.id) == operation_id,
                                                       col(ApiOperation.worker) == self.worker_id)
                            .values(worker=None, lease_until=None))

    def _run(self) -> None:
        while True:
            with self._changed:
                if self._stopping:
                    return
            row = None
            try:
                row = self._next()
            except Exception:  # the database did not answer: try again when told or after a while
                log.exception("reading the queued operations failed")
            self._purge()  # at most hourly, busy or idle
            if row is None:
                with self._changed:
                    if not self._stopping:
                        self._changed.wait(5.0)
                continue
            try:
                self._carry_out(row)
            except Exception:  # the database failed while recording it: given back, tried again (the worker lives on)
                log.exception("carrying out operation %s (%s) failed", row.id, row.kind)
                try:
                    self._release(row.id)
                except Exception:
                    log.exception("giving back operation %s failed (its lease ends within %s)", row.id, LEASE)
                with self._changed:
                    if not self._stopping:
                        self._changed.wait(5.0)

    def _carry_out(self, row: ApiOperation) -> None:
        handler = self.handlers.get(row.kind)
        if handler is None:  # queued by another version of dataseal sharing the database: told, not retried for ever
            self._finish(row.id, FAILED, error=compute_error_body(
                ErrorKind.INTERNAL, f"this service cannot carry out operations of kind {row.kind!r}",
                "carry it out with the dataseal version that accepted it")["error"])
            return

        def hook(moment: str) -> None:
            if self._stopping:
                raise _Stopped()
            if moment.endswith(":sent"):
                self._record_sent(row.id, moment.split(":", 1)[0])
            else:
                self._renew(row.id)
            if self.hook is not None:
                self.hook(moment)

        beating = threading.Event()
        heart = threading.Thread(target=self._beat, args=(row.id, beating), name="dataseal-api-lease", daemon=True)
        heart.start()
        try:
            result = handler(self.registry, row.request, hook, self.clock)
        except _Stopped:
            self._release(row.id)
            return
        except DatasealError as exc:
            body = compute_error_body(exc.kind, exc.message, exc.hint, exc.options)
            self._finish(row.id, FAILED, error=body["error"])
            return
        except Exception:
            log.exception("operation %s (%s) failed", row.id, row.kind)
            self._finish(row.id, FAILED,
                         error=compute_error_body(ErrorKind.INTERNAL, INTERNAL_MESSAGE, INTERNAL_HINT)["error"])
            return
        finally:
            beating.set()
        block = result.get("block_number")
        if self.index_wait is not None and isinstance(block, int):
            self.index_wait(block, INDEX_WAIT)  # bounded: told mined after it either way (the chain has it)
        tx_hash = result.get("tx_hash")
        self._finish(row.id, MINED, result=result, tx_hash=tx_hash if isinstance(tx_hash, str) else None)

    def _record_sent(self, operation_id: str, kind: str) -> None:
        """A transaction of the operation was handed to the node: its hash (the outbox's latest of that kind)."""
        with self.registry.db.session() as session:
            sent = session.exec(select(OutboxTx).where(OutboxTx.kind == kind, col(OutboxTx.tx_hash).is_not(None))
                                .order_by(col(OutboxTx.updated).desc())).first()
            row = session.get(ApiOperation, operation_id)
            if row is None:
                return
            hashes = list(row.tx_hashes or [])
            if sent is not None and sent.tx_hash not in hashes:
                hashes.append(sent.tx_hash)
            row.tx_hashes, row.status, row.updated_at = hashes, SUBMITTED, utc_now()
            row.lease_until = utc_now() + LEASE
            session.add(row)
        with self._changed:
            self._changed.notify_all()

    def _finish(self, operation_id: str, status: str, *, result: dict[str, Any] | None = None,
                error: dict[str, Any] | None = None, tx_hash: str | None = None) -> None:
        self.registry.context.head_moved()  # before it is told: a reader polling it then reading sees what it wrote
        with self.registry.db.session() as session:
            row = session.get(ApiOperation, operation_id)
            if row is not None:
                hashes = list(row.tx_hashes or [])
                if tx_hash is not None and tx_hash not in hashes:
                    hashes.append(tx_hash)
                row.status, row.result, row.error, row.tx_hashes = status, result, error, hashes
                row.updated_at, row.worker, row.lease_until = utc_now(), None, None
                session.add(row)
        with self._changed:
            self._changed.notify_all()


class _Stopped(Exception):
    """The worker was asked to stop between two steps of an operation (it stays unfinished)."""
