"""The embedded chain as its users hold it (dataseal.chain.embedded.chain): closed means closed, and
many threads sending, reading and mining at once keep one consistent chain."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from dataseal.chain.embedded.errors import EmbeddedChainError
from dataseal.chain.embedded.records import CallRequest
from dataseal.chain.embedded.settings import Mining
from dataseal.errors import ErrorKind
from tests.chain.embedded.helpers import BOB, addr, new_key, open_chain, sign


def test_a_closed_chain_says_so(tmp_path: Path) -> None:
    chain = open_chain(tmp_path)
    chain.close()
    with pytest.raises(EmbeddedChainError, match="is closed: open it again") as closed:
        chain.head()
    assert closed.value.kind is ErrorKind.UNAVAILABLE


def test_concurrent_senders_and_readers_all_get_their_answers(tmp_path: Path) -> None:
    senders = [new_key() for _ in range(8)]
    with open_chain(tmp_path, [k.address for k in senders], mining=Mining("idle")) as chain:
        errors: list[BaseException] = []

        def send_all(key) -> None:  # type: ignore[no-untyped-def]
            try:
                for nonce in range(10):
                    tx = chain.send_raw_transaction(sign(key, chain.chain_id, nonce, to=BOB, value=1))
                    receipt = chain.get_receipt(tx, wait=120)
                    assert receipt is not None and receipt.receipt.state_root == b"\x01"
                    chain.estimate_gas(CallRequest(sender=addr(key.address), to=addr(BOB), value=1))
            except BaseException as exc:  # collected for the main thread
                errors.append(exc)

        threads = [threading.Thread(target=send_all, args=(key,)) for key in senders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert chain.get_balance(addr(BOB)) == 80
        assert all(chain.get_nonce(addr(k.address)) == 10 for k in senders)
        assert sum(len(chain.block_by_ref(n).transactions) for n in range(1, chain.head().block_number + 1)) == 80


def test_bursts_and_mine_calls_while_the_miner_executes_keep_one_chain(tmp_path: Path) -> None:
    # The miner executes a block with the lock released: sends, reads and mine() calls meanwhile must
    # neither lose a transaction nor build a second block on the same parent.
    senders = [new_key() for _ in range(3)]
    with open_chain(tmp_path, [k.address for k in senders], mining=Mining("idle")) as chain:
        errors: list[BaseException] = []
        sent: list[bytes] = []
        done = threading.Event()

        def burst(key) -> None:  # type: ignore[no-untyped-def]
            try:
                for nonce in range(60):
                    sent.append(chain.send_raw_transaction(sign(key, chain.chain_id, nonce, to=BOB, value=1)))
            except BaseException as exc:  # collected for the main thread
                errors.append(exc)

        def mine_and_read() -> None:
            try:
                while not done.is_set():
                    chain.mine()
                    chain.get_balance(addr(BOB))
                    chain.pending_nonce(addr(senders[0].address))
            except BaseException as exc:  # collected for the main thread
                errors.append(exc)

        miner = threading.Thread(target=mine_and_read)
        miner.start()
        threads = [threading.Thread(target=burst, args=(key,)) for key in senders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        try:
            receipts = [chain.get_receipt(tx, wait=120) for tx in sent]
        finally:
            done.set()
            miner.join()
        assert errors == []
        assert all(r is not None and r.receipt.state_root == b"\x01" for r in receipts)
        assert chain.get_balance(addr(BOB)) == 180
        head = chain.head().block_number
        for number in range(1, head + 1):
            assert chain.header_for(number).parent_hash == chain.header_for(number - 1).hash
        assert sum(len(chain.block_by_ref(n).transactions) for n in range(1, head + 1)) == 180
        assert chain.integrity_check() == "ok"
