"""Answers from what is held, or none: a service's event loop answers a read itself when it needs no I/O.

An API route whose work is a few microseconds once its chain reads are cached (verify a proof, read an asset) pays
more for handing it to a worker thread than for the work, and under load the threads contend with the event loop
for the GIL. Such a route runs its work on the event loop inside :func:`cached_only`; every read that would wait for
the chain or the database calls :func:`require_io` first, which there raises :class:`NotCached`, and the route hands
the work to a thread instead (:func:`dataseal.api.deps.answer_from_cache`). Work run this way must not change
anything before its reads (it may be run twice).

The reads that call :func:`require_io`: every ``eth_call`` of a contract client and every head a
:class:`~dataseal.chain.contracts.reads.HeadReads` asks for, the chain id and deployment not yet known, the
registry's context and database not yet opened, and the API's manifest titles not yet held.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_CACHED_ONLY: ContextVar[bool] = ContextVar("dataseal_cached_only", default=False)


class NotCached(Exception):
    """Raised inside :func:`cached_only` by a read that would wait for I/O; ``args[0]`` names what it needed."""


@contextmanager
def cached_only() -> Iterator[None]:
    """Within: reads answer from what is held, or raise :class:`NotCached` (nothing waits for I/O)."""
    token = _CACHED_ONLY.set(True)
    try:
        yield
    finally:
        _CACHED_ONLY.reset(token)


def is_cached_only() -> bool:
    """Whether the caller runs inside :func:`cached_only`."""
    return _CACHED_ONLY.get()


def require_io(what: str) -> None:
    """Called before a read waits for I/O (``what``: which): raises :class:`NotCached` inside :func:`cached_only`."""
    if _CACHED_ONLY.get():
        raise NotCached(what)
