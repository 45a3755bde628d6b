"""The fast interpreter's storage (one-pass storage tries, :class:`BatchedAccountDB`) against py-evm's.

Random sequences of storage writes, clears, account deletions (storage wipes), checkpoints
reverted or committed, roots and persists run on py-evm's ``AccountDB`` and on
:class:`BatchedAccountDB`: same values read, same roots, same database.
"""
from __future__ import annotations

import random
from typing import Any

import pytest
from eth.db.account import AccountDB
from eth.db.atomic import AtomicDB
from eth.db.backends.memory import MemoryDB

from dataseal.chain.embedded.interpreter.storage import BatchedAccountDB


def _account_db_ops(seed: int) -> list[tuple[Any, ...]]:
    """A random sequence of what a block does to storage: writes, clears, account deletions (storage wipes),
    checkpoints committed or reverted, roots computed, persists."""
    rng = random.Random(seed)
    addresses = [bytes([i]) * 20 for i in (1, 2, 3)]
    ops: list[tuple[Any, ...]] = []
    depth = 0
    wiped: set[bytes] = set()  # accounts wiped since the outermost open checkpoint
    for _ in range(120):
        roll = rng.random()
        address = rng.choice(addresses)
        if roll < 0.55:
            value = rng.choice([0, 0, 1, 7, 2**255, rng.getrandbits(256), rng.getrandbits(8)])
            ops.append(("set", address, rng.choice([0, 1, 2, rng.getrandbits(256), rng.getrandbits(8)]), value))
        elif roll < 0.66:
            if address in wiped:  # py-evm can revert across one wipe of an account only (one per transaction)
                continue
            ops.append((rng.choice(["delete_account", "delete_storage"]), address))
            wiped.add(address)
        elif roll < 0.76:
            ops.append(("record",))
            depth += 1
        elif roll < 0.86 and depth:
            ops.append((rng.choice(["discard", "commit"]),))
            depth -= 1
            if not depth:
                wiped.clear()
        elif depth:  # roots and persists come between transactions, with no checkpoint open
            continue
        elif roll < 0.89:
            ops.append(("root",))
            wiped.clear()
        else:
            ops.append(("persist",))
            wiped.clear()
    return ops + [("commit",)] * depth + [("persist",)]


def _replay(db_class: type[AccountDB], ops: list[tuple[Any, ...]]) -> tuple[list[Any], dict[bytes, bytes]]:
    memory = MemoryDB()
    account_db = db_class(AtomicDB(memory))
    for address in (bytes([i]) * 20 for i in (1, 2, 3)):
        account_db.set_balance(address, 1)
    observed: list[Any] = []
    checkpoints = []
    for op in ops:
        name, args = op[0], op[1:]
        if name == "set":
            address, slot, value = args
            account_db.set_storage(address, slot, value)
            observed.append(account_db.get_storage(address, slot))
        elif name in ("delete_account", "delete_storage"):
            getattr(account_db, name)(args[0])
            account_db.set_balance(args[0], 1)  # keep it alive, so that its storage matters again
        elif name == "record":
            checkpoints.append(account_db.record())
        elif name in ("discard", "commit"):
            getattr(account_db, name)(checkpoints.pop())
        elif name == "root":
            account_db.lock_changes()
            observed.append(account_db.make_state_root())
        else:
            account_db.persist()
            observed.append(account_db.state_root)
        observed.append([account_db.get_storage(bytes([i]) * 20, slot) for i in (1, 2, 3) for slot in (0, 1, 2)])
    return observed, dict(memory.kv_store)


@pytest.mark.parametrize("seed", range(60))
def test_account_db_matches_pyevm_through_wipes_and_reverts(seed: int) -> None:
    ops = _account_db_ops(seed)
    expected, expected_db = _replay(AccountDB, ops)
    observed, observed_db = _replay(BatchedAccountDB, ops)
    assert observed == expected
    assert observed_db == expected_db
