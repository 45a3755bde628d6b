"""Nonces shared through a store: a stale stored nonce corrected by the node, processes sharing a key
never colliding."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dataseal.chain.sending.nonces import FileNonceStore, NonceManager
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
