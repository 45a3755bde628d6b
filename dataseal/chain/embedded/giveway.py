"""The miner's hook for giving way to requests being served (see "Serving first" in
:mod:`chain.embedded.chain`): the miner thread sets ``MINER.give_way`` while it executes a block
without the chain's lock; the places where long work comes back round call :func:`give_way`."""
from __future__ import annotations

import threading
from collections.abc import Callable


class _ThisThread(threading.local):
    give_way: Callable[[], None] | None = None


MINER = _ThisThread()  # MINER.give_way: set by the miner thread for the blocks it executes; None elsewhere


def give_way() -> None:
    """Let requests being served go first, if this thread is the miner executing a block."""
    hook = MINER.give_way
    if hook is not None:
        hook()
