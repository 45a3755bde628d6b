"""kill -9 at random moments: the chain reopens at its last whole block, never half-written.

A forked writer process keeps accepting transactions (transfers, and calls that change a
contract's storage) and mining blocks of them; the test kills it with SIGKILL at a random moment,
reopens the chain and checks it block by block against what the transactions must have done:
the chain of parent hashes, every transaction findable by hash at its place with its receipt,
gas adding up, every balance, nonce and the contract's storage. Every transaction the writer was
told was accepted must be on the chain once the reopened chain has mined its journal.
"""
from __future__ import annotations

import os
import random
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from eth._utils.address import generate_contract_address
from eth_account import Account
from eth_utils import to_canonical_address, to_checksum_address

from dataseal.chain.embedded.chain import EmbeddedChain, Genesis, Mining, chain_file
from dataseal.chain.embedded.serialize import effective_gas_price
from tests.chain.embedded.clocks import until
from tests.chain.embedded.helpers import ETH, STORE_RUNTIME, init_code, sign

ROUNDS = 20
SENDER_KEYS = [bytes([n]) * 32 for n in range(1, 4)]
SENDERS = [Account.from_key(k) for k in SENDER_KEYS]
RECIPIENTS = [to_checksum_address(bytes([0xA0 + n]) * 20) for n in range(5)]
STORE = bytes(generate_contract_address(to_canonical_address(SENDERS[0].address), 0))
GENESIS = Genesis(alloc={s.address: 10_000 * ETH for s in SENDERS})


def _writer(folder: Path, log_path: Path, seed: int) -> None:
    """Runs in the forked child until it is killed."""
    rng = random.Random(seed)
    chain = EmbeddedChain.open(chain_file(folder), genesis=GENESIS, mining=Mining("manual"))
    with open(log_path, "a", encoding="ascii") as log:

        def send(raw: bytes) -> None:
            tx_hash = chain.send_raw_transaction(raw)
            log.write(tx_hash.hex() + "\n")  # written only once the chain has accepted it
            log.flush()

        first = SENDERS[0]
        if not chain.get_code(STORE) and chain.pending_nonce(to_canonical_address(first.address)) == 0:
            send(sign(first, chain.chain_id, 0, to=None, value=0, gas=200_000, data=init_code(STORE_RUNTIME)))
            chain.mine()
        while True:
            for _ in range(rng.randint(1, 25)):
                sender = rng.choice(SENDERS)
                nonce = chain.pending_nonce(to_canonical_address(sender.address))
                if rng.random() < 0.25:
                    word = rng.getrandbits(256).to_bytes(32, "big")
                    send(sign(sender, chain.chain_id, nonce, to=to_checksum_address(STORE), value=0, gas=80_000,
                              data=word))
                else:
                    send(sign(sender, chain.chain_id, nonce, to=rng.choice(RECIPIENTS), value=rng.randint(1, 10**15)))
            chain.mine()


@dataclass
class Expected:
    """The state the verified blocks imply."""

    head: int = 0
    head_hash: bytes = b""
    balances: dict[bytes, int] = field(default_factory=dict)
    nonces: dict[bytes, int] = field(default_factory=dict)
    stored: int = 0


def _verify(chain: EmbeddedChain, expected: Expected, context: str) -> None:
    assert chain.integrity_check() == "ok", context
    head = int(chain.head().block_number)
    assert head >= expected.head, f"{context}: the head went back from {expected.head} to {head}"
    if expected.head:
        assert chain.header_for(expected.head).hash == expected.head_hash, (
            f"{context}: verified block {expected.head} changed"
        )
    parent = chain.header_for(expected.head)
    for number in range(expected.head + 1, head + 1):
        block = chain.block_by_ref(number)
        receipts = chain.block_receipts(number)
        assert block is not None and receipts is not None, f"{context}: block {number} is missing"
        header = block.header
        assert header.parent_hash == parent.hash, f"{context}: block {number} does not follow block {number - 1}"
        assert len(receipts) == len(block.transactions), f"{context}: block {number} lacks receipts"
        assert sum(r.gas_used for r in receipts) == header.gas_used, f"{context}: gas of block {number}"
        for record in receipts:
            tx = record.tx
            found = chain.get_transaction(tx.hash)
            assert found is not None and found.header is not None, f"{context}: 0x{tx.hash.hex()} not found by hash"
            assert (found.header.block_number, found.index) == (number, record.index), context
            sender = record.sender
            assert tx.nonce == expected.nonces.get(sender, 0), f"{context}: nonce order of {sender.hex()}"
            expected.nonces[sender] = tx.nonce + 1
            ok = record.receipt.state_root == b"\x01"
            spent = record.gas_used * effective_gas_price(tx, header) + (tx.value if ok else 0)
            expected.balances[sender] = expected.balances.get(sender, 0) - spent
            if ok and tx.to:
                expected.balances[bytes(tx.to)] = expected.balances.get(bytes(tx.to), 0) + tx.value
                if bytes(tx.to) == STORE:
                    expected.stored = int.from_bytes(tx.data[:32], "big")
        parent = header
    for account, balance in expected.balances.items():
        assert chain.get_balance(account) == balance, f"{context}: balance of 0x{account.hex()}"
    for account, nonce in expected.nonces.items():
        assert chain.get_nonce(account) == nonce, f"{context}: nonce of 0x{account.hex()}"
    if chain.get_code(STORE):
        assert chain.get_storage_at(STORE, 0) == expected.stored, f"{context}: the contract's storage"
    expected.head, expected.head_hash = head, bytes(chain.head().hash)


def _accepted(log_path: Path) -> int:
    """How many transactions the writer was told were accepted (whole lines of its log)."""
    text = log_path.read_text() if log_path.exists() else ""
    return sum(1 for line in text.split("\n")[:-1] if len(line) == 64)


def test_the_chain_survives_kill_9_at_random_moments(tmp_path: Path) -> None:
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    folder = tmp_path / "data"
    log_path = tmp_path / "accepted.log"
    expected = Expected(balances={to_canonical_address(s.address): 10_000 * ETH for s in SENDERS})
    kills_with_pending = 0
    checked = 0  # lines of the writer's log already found on chain
    for round_number in range(ROUNDS):
        context = f"round {round_number} (seed {seed})"
        pid = os.fork()
        if pid == 0:  # the writer
            try:
                _writer(folder, log_path, rng.getrandbits(32))
            finally:
                os._exit(0)
        # Some work first (1 to 40 more transactions accepted: the rounds cover something whatever the
        # machine's speed), then the kill at a random moment (mid-block, mid-acceptance, idle...).
        wanted = _accepted(log_path) + rng.randint(1, 40)
        ended: list[int] = []  # the writer's exit status, should it end on its own (it must not)

        def worked(pid: int = pid, wanted: int = wanted, ended: list[int] = ended) -> bool:
            if _accepted(log_path) >= wanted:
                return True
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                ended.append(status)
            return bool(done)

        until(worked, f"{context}: the writer accepting transactions")
        if not ended:
            time.sleep(rng.uniform(0, 0.05))
            os.kill(pid, signal.SIGKILL)
            ended.append(os.waitpid(pid, 0)[1])
        status = ended[0]
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, f"{context}: the writer died early"

        chain = EmbeddedChain.open(chain_file(folder), genesis=GENESIS, mining=Mining("manual"))
        try:
            _verify(chain, expected, context)
            if chain.pending_count:
                kills_with_pending += 1
            while chain.pending_count:
                assert chain.mine().transactions, f"{context}: journalled transactions could not be mined"
            _verify(chain, expected, context + " after mining the journal")
            lines = log_path.read_text().splitlines() if log_path.exists() else []
            if lines and len(lines[-1]) != 64:  # the kill cut the last line: the child was told nothing yet
                lines.pop()
                log_path.write_text("".join(line + "\n" for line in lines))
            for line in lines[checked:]:
                assert chain.get_receipt(bytes.fromhex(line)) is not None, (
                    f"{context}: accepted transaction 0x{line} was lost"
                )
            checked = len(lines)
        finally:
            chain.close(flush=False)
    assert checked >= ROUNDS, f"only {checked} accepted transactions were checked in {ROUNDS} rounds (seed {seed})"
    print(f"{ROUNDS} kills, {expected.head} blocks, {kills_with_pending} kills left accepted transactions unmined")
