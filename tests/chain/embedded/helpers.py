"""Helpers shared by the embedded chain's tests: keys, signed transactions, a node process."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth._utils.address import generate_contract_address
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_canonical_address, to_checksum_address

from dataseal.chain.embedded.chain import EmbeddedChain, chain_file
from dataseal.chain.embedded.clock import Clock
from dataseal.chain.embedded.settings import Genesis, Mining, Tuning

ETH = 10**18
ROOT = Path(__file__).resolve().parents[3]
BOB = to_checksum_address("0x" + "b0" * 20)  # an address nobody holds the key of


def addr(hex_address: str) -> bytes:
    return to_canonical_address(hex_address)


def new_key() -> LocalAccount:
    return Account.create()


def sign(
    key: LocalAccount,
    chain_id: int,
    nonce: int,
    *,
    to: str | None = "0x" + "22" * 20,
    value: int = 1,
    gas: int = 21_000,
    max_fee: int = 10**10,
    priority: int = 10**9,
    data: bytes = b"",
    legacy: bool = False,
) -> bytes:
    tx: dict[str, Any] = {"chainId": chain_id, "nonce": nonce, "gas": gas, "value": value, "data": data}
    if to is not None:
        tx["to"] = to
    if legacy:
        tx["gasPrice"] = max_fee
    else:
        tx.update(type=2, maxFeePerGas=max_fee, maxPriorityFeePerGas=priority)
    return bytes(key.sign_transaction(tx).raw_transaction)


def open_chain(
    folder: Path, funded: list[str] | None = None, *, mining: Mining | None = None, tuning: Tuning | None = None,
    clock: Clock | None = None, **genesis: Any
) -> EmbeddedChain:
    """A chain in ``folder`` (mining manually unless told otherwise), ``funded`` with 1000 ether each."""
    return EmbeddedChain.open(
        chain_file(folder),
        genesis=Genesis(alloc={a: 1_000 * ETH for a in funded or []}, **genesis),
        mining=mining or Mining("manual"),
        tuning=tuning,
        clock=clock,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class NodeProcess:
    """A `dataseal node` subprocess and what it printed at startup (its --json line)."""

    proc: subprocess.Popen[bytes]
    info: dict[str, Any]
    stderr_path: Path

    @property
    def url(self) -> str:
        return str(self.info["rpc_url"])

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Signal the process by PID and wait for it; its exit status."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            raise


def start_node(data_dir: Path, *args: str, port: int | None = None, env: dict[str, str] | None = None) -> NodeProcess:
    """Start `dataseal node --json` on a free port and wait for its startup line."""
    port = port or free_port()
    stdout_path = data_dir.parent / f"{data_dir.name}-node-{port}.out"
    stderr_path = data_dir.parent / f"{data_dir.name}-node-{port}.err"
    command = [sys.executable, "-m", "dataseal.cli.main", "node", "--data-dir", str(data_dir), "--port", str(port),
               "--json", "--light-kdf", *args]
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        proc = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                env={**os.environ, **(env or {})})
    deadline = time.monotonic() + 120
    while True:
        text = stdout_path.read_text()
        if text.endswith("\n"):
            return NodeProcess(proc, json.loads(text.splitlines()[0]), stderr_path)
        if proc.poll() is not None:
            raise RuntimeError(f"dataseal node exited with {proc.returncode}: {stderr_path.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            raise RuntimeError(f"dataseal node printed no startup line within 120 s: {stderr_path.read_text()[-3000:]}")
        time.sleep(0.1)


@contextmanager
def running_node(data_dir: Path, *args: str, **kw: Any) -> Iterator[NodeProcess]:
    node = start_node(data_dir, *args, **kw)
    try:
        yield node
    finally:
        node.stop()


def rpc(url: str, method: str, params: list[Any] | None = None) -> Any:
    """One JSON-RPC call over HTTP with the standard library; the whole response object."""
    import urllib.request

    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


# --------------------------------------------------------------------------------- tiny contracts

STORE_RUNTIME = bytes.fromhex("60003560005500")  # SSTORE(0, calldata[0:32])
LOG_RUNTIME = bytes.fromhex("60003560006000a100")  # LOG1(topic = calldata[0:32]), no data
REVERT_RUNTIME = bytes.fromhex("63deadbeef6000526004601cfd")  # REVERT with the 4 bytes 0xdeadbeef
GAS_RUNTIME = bytes.fromhex("5a5000")  # GAS POP STOP: reads its remaining gas
# Sends its account's whole balance to BOB: PUSH1 0, DUP1 x3 (no data in or out), SELFBALANCE, PUSH20 BOB,
# GAS, CALL, STOP. An account delegated to it (EIP-7702) is drained by any transaction that calls it.
DRAIN_RUNTIME = bytes.fromhex("6000808080" + "47" + "73" + BOB[2:] + "5af100")


def init_code(runtime: bytes) -> bytes:
    """Creation code that deploys ``runtime`` (at most 32 bytes)."""
    assert 0 < len(runtime) <= 32
    push = bytes([0x60 + len(runtime) - 1]) + runtime
    return push + bytes.fromhex("600052") + bytes([0x60, len(runtime), 0x60, 32 - len(runtime)]) + b"\xf3"


def deploy(chain: EmbeddedChain, key: LocalAccount, runtime: bytes) -> bytes:
    """Deploy ``runtime`` from ``key`` in a block of its own; the contract's address."""
    sender = addr(key.address)
    nonce = chain.pending_nonce(sender)
    chain.send_raw_transaction(sign(key, chain.chain_id, nonce, to=None, value=0, gas=200_000, data=init_code(runtime)))
    chain.mine()
    return bytes(generate_contract_address(sender, nonce))


# --------------------------------------------------------------------------------- a base fee that rose

SMALL_GAS_LIMIT = 100_000  # small blocks: one transaction with calldata fills one and raises the base fee
FILLER_DATA = b"\x01" * 1_900  # EIP-7623 floor: 21000 + 40 * 1900 = 97000 gas, above the 50000 target
FILLER_GAS = 97_000


def outpriced(chain: EmbeddedChain, alice: LocalAccount, bob: LocalAccount) -> tuple[bytes, bytes]:
    """Two transactions of bob at exactly the next base fee, left behind by a block that a big
    transaction of alice fills, which raises the base fee above their cap. Their hashes."""
    fee = chain.next_base_fee()
    chain.send_raw_transaction(sign(alice, chain.chain_id, 0, gas=FILLER_GAS, data=FILLER_DATA, max_fee=10 * fee))
    first = chain.send_raw_transaction(sign(bob, chain.chain_id, 0, max_fee=fee, priority=fee))
    second = chain.send_raw_transaction(sign(bob, chain.chain_id, 1, max_fee=fee, priority=fee))
    mined = chain.mine()
    assert len(mined.transactions) == 1  # bob's do not fit beside alice's
    assert chain.next_base_fee() > fee
    return first, second
