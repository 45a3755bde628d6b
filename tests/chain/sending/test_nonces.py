"""Nonces shared through a store: a stale stored nonce corrected by the node, processes sharing a key
never colliding."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from dataseal.chain.sending.nonces import FileNonceStore, MemoryNonceStore, NonceManager
from tests.chain.conftest import Backend, HttpChain

ROOT = Path(__file__).resolve().parents[2]


def test_nonce_too_high_after_the_chain_forgot_a_transaction(backend: Backend) -> None:
    account = backend.fund()
    nonces = NonceManager(FileNonceStore(backend.tmp / "nonces"))
    sender = backend.sender(account, nonces=nonces)
    sender.send(backend.w3, {"to": account.address, "value": 1, "gas": 21_000})
    # the shared state says 7 (as if transactions the node never kept had been counted)
    state = backend.tmp / "nonces" / f"{backend.node.chain_id}-{account.address.lower()}.nonce"
    assert state.read_text().strip() == "1"
    state.write_text("7\n")
    receipt = sender.send(backend.w3, {"to": account.address, "value": 1, "gas": 21_000})
    assert backend.w3.eth.get_transaction(receipt["transactionHash"])["nonce"] == 1
    assert state.read_text().strip() == "2"


_CHILD = """
import json, sys
from eth_account import Account
from dataseal.chain.connection import connect
from dataseal.chain.sending.nonces import FileNonceStore, NonceManager
from dataseal.chain.sending.sender import LocalSender
url, key, state, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
node = connect(url)
sender = LocalSender(Account.from_key(key), nonces=NonceManager(FileNonceStore(state)), endpoint=node.endpoint)
pending = [sender.submit(node.w3, {"to": sender.address, "value": 1, "gas": 21000}) for _ in range(count)]
receipts = sender.wait_all(node.w3, pending)
print(json.dumps([[p.nonce, p.tx_hash, r["status"]] for p, r in zip(pending, receipts)]))
"""


def _processes_share_a_key(url: str, key: bytes, state: Path) -> list[list[object]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [
        subprocess.Popen([sys.executable, "-c", _CHILD, url, "0x" + key.hex(), str(state), "5"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        for _ in range(3)
    ]
    sent: list[list[object]] = []
    for child in children:
        out, err = child.communicate()
        assert child.returncode == 0, err[-2000:]
        sent.extend(json.loads(out))
    return sent


@pytest.mark.hardhat
def test_processes_sharing_a_key_never_collide_on_hardhat(hardhat_backend: Backend) -> None:
    account = hardhat_backend.fund()
    sent = _processes_share_a_key(hardhat_backend.node.endpoint, bytes(account.key), hardhat_backend.tmp / "nonces")
    assert sorted(n for n, _, _ in sent) == list(range(15))  # type: ignore[type-var]
    assert all(status == 1 for _, _, status in sent)


def test_processes_sharing_a_key_never_collide_on_the_embedded_chain(embedded_http: HttpChain,
                                                                       tmp_path: Path) -> None:
    sent = _processes_share_a_key(embedded_http.url, bytes(embedded_http.bank.key), tmp_path / "nonces")
    assert sorted(n for n, _, _ in sent) == list(range(15))  # type: ignore[type-var]
    assert all(status == 1 for _, _, status in sent)


# ------------------------------------------------------------------------------------ the stores


@pytest.mark.parametrize("make_store", [lambda tmp: MemoryNonceStore(), lambda tmp: FileNonceStore(tmp / "nonces")],
                         ids=["memory", "file"])
def test_a_store_keeps_one_value_per_account_and_lets_one_holder_at_a_time(make_store: Any, tmp_path: Path) -> None:
    store = make_store(tmp_path)
    key, other = (1, "0x" + "aA" * 20), (2, "0x" + "aA" * 20)
    with store.hold(key) as held:
        assert held.read() is None
        held.write(41)
    with store.hold(key) as held, store.hold(other) as elsewhere:  # another chain: another value, no wait
        assert held.read() == 41 and elsewhere.read() is None

    entered, release = threading.Event(), threading.Event()
    order: list[str] = []

    def first() -> None:
        with store.hold(key) as held:
            entered.set()
            release.wait()
            held.write(42)
            order.append("first wrote")

    def second() -> None:
        entered.wait()
        with store.hold(key) as held:
            order.append(f"second read {held.read()}")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    entered.wait()
    release.set()
    for thread in threads:
        thread.join()
    assert order == ["first wrote", "second read 42"]


class _CountingNode:
    def __init__(self, count: int) -> None:
        self.count = count
        self.asked = 0

    def __call__(self) -> int:
        self.asked += 1
        return self.count


def test_the_manager_asks_the_node_once_then_trusts_the_store() -> None:
    manager, node = NonceManager(), _CountingNode(5)
    with manager.reserve(1, "0x" + "11" * 20, node) as reservation:
        assert reservation.nonce == 5
        reservation.commit()
    with manager.reserve(1, "0x" + "11" * 20, node) as reservation:
        assert reservation.nonce == 6  # from the store, no round trip
    assert node.asked == 1
    with manager.reserve(1, "0x" + "11" * 20, node) as reservation:
        assert reservation.nonce == 6  # the last one was not committed: given back
    manager.forget(1, "0x" + "11" * 20)
    node.count = 9
    with manager.reserve(1, "0x" + "11" * 20, node) as reservation:
        assert reservation.nonce == 9 and node.asked == 2


def test_a_store_shared_by_two_managers_is_what_replicas_share() -> None:
    """Two managers (two processes, or two replicas on a database-backed store) over one store never
    hand out the same nonce: each learns what the other committed, from the node at its first use and
    from the store after that."""
    store = MemoryNonceStore()
    committed: list[int] = []

    def node() -> int:  # the node has every transaction handed to it in its pool
        return len(committed)

    first, second = NonceManager(store), NonceManager(store)
    for manager in (first, second, first, second, first):
        with manager.reserve(1, "0x" + "11" * 20, node) as reservation:
            committed.append(reservation.nonce)
            reservation.commit()
    assert committed == [0, 1, 2, 3, 4]


def test_a_new_process_trusts_the_node_over_a_store_that_is_ahead() -> None:
    """A nonce the store counted may have left the node's pool (evicted, a restarted node): nodes that
    queue a gapped nonce would hold every later transaction for ever, so a new process starts from the
    node's count."""
    store = MemoryNonceStore()
    with NonceManager(store).reserve(1, "0x" + "11" * 20, _CountingNode(5)) as reservation:
        reservation.commit()  # the store now says 6
    with NonceManager(store).reserve(1, "0x" + "11" * 20, _CountingNode(5)) as reservation:
        assert reservation.nonce == 5
