"""The embedded chain with one-pass storage tries, shared jump analysis and its lean opcode loop against stock py-evm.

The same transactions — dataseal's contracts deployed, then registrations, grants, usage, and
a contract writing and clearing slots, one created and self-destructed in its own transaction, a
reverted write — are mined twice at the same timestamps from the same genesis: once with
:class:`DatasealState`, once with py-evm's ``PragueState``. Every block must come out the same,
and so must the state read back at old blocks, also after the chain is closed and reopened.

Below the chain, random sequences of storage writes, clears, account deletions (storage wipes),
checkpoints reverted or committed, roots and persists run on py-evm's ``AccountDB`` and on
:class:`BatchedAccountDB`: same values read, same roots, same database.
"""
from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from eth.db.account import AccountDB
from eth.db.atomic import AtomicDB
from eth.db.backends.memory import MemoryDB
from eth.vm.forks.prague.state import PragueState
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_canonical_address, to_checksum_address
from web3 import Web3
from web3.types import TxReceipt

from dataseal.chain.contracts import Deployment, deploy_contracts
from dataseal.chain.embedded import building
from dataseal.chain.embedded.chain import EmbeddedChain, Genesis, Mining, chain_file
from dataseal.chain.embedded.provider import EmbeddedProvider
from dataseal.chain.embedded.statetrie import BatchedAccountDB
from dataseal.chain.embedded.vm import DatasealState, DatasealVM
from tests.chain.embedded.clocks import ManualClock
from tests.chain.embedded.helpers import ETH, init_code, sign

GENESIS_TIME = 1_900_000_000
DEPLOY_GAS = 10_000_000
# For each 64-byte pair (slot, value) of the calldata: SSTORE(slot, value); a value of 0 clears the slot.
WRITER_RUNTIME = bytes.fromhex("6000" "5b" "803611156018" "57" "8060200135" "8135" "55" "604001" "600256" "5b00")
# Creation code that stores two slots, then self-destructs: EIP-6780 deletes the account it created.
SELF_DESTRUCTING_INIT = bytes.fromhex("6001600055" "6002600155" "33ff")
# Stores slot 0, then reverts.
REVERTING_RUNTIME = bytes.fromhex("6001600055" "600080fd")

OWNER = Account.from_key(keccak(text="dataseal statetrie owner"))
USER = Account.from_key(keccak(text="dataseal statetrie user"))


def h(label: str) -> bytes:
    return keccak(text=label)


@dataclass
class Run:
    """One chain being fed the scenario; each block is mined at the next second after genesis."""

    chain: EmbeddedChain
    clock: int = GENESIS_TIME
    nonces: dict[str, int] = field(default_factory=dict)

    @property
    def w3(self) -> Web3:
        return Web3(EmbeddedProvider(self.chain))

    def mine(self) -> None:
        self.clock += 1
        self.chain.mine(timestamp=self.clock)

    def signed(self, key: LocalAccount, *, to: str | None, data: bytes, gas: int = 3_000_000) -> bytes:
        nonce = self.nonces.get(key.address, self.chain.pending_nonce(to_canonical_address(key.address)))
        self.nonces[key.address] = nonce + 1
        return sign(key, self.chain.chain_id, nonce, to=to, value=0, gas=gas, max_fee=10**11, data=data)


@dataclass
class MiningSender:
    """A :class:`chain.contracts.Sender` that mines each transaction in a block of its own."""

    run: Run
    key: LocalAccount

    @property
    def address(self) -> str:
        return self.key.address

    def send(self, w3: Web3, tx: dict[str, Any]) -> TxReceipt:
        # A fixed gas limit: the estimate in ``tx`` runs on a block stamped with the wall clock.
        raw = self.run.signed(self.key, to=tx.get("to"), data=bytes(Web3.to_bytes(hexstr=tx["data"])),
                              gas=DEPLOY_GAS)
        tx_hash = self.run.chain.send_raw_transaction(raw)
        self.run.mine()
        return w3.eth.get_transaction_receipt(tx_hash)


@contextmanager
def opened(folder: Path) -> Iterator[EmbeddedChain]:
    chain = EmbeddedChain.open(chain_file(folder), mining=Mining("manual"), clock=ManualClock(wall=GENESIS_TIME),
                               genesis=Genesis(alloc={OWNER.address: 1_000 * ETH, USER.address: 1_000 * ETH}))
    try:
        with pytest.MonkeyPatch.context() as patch:
            # A block's mix hash is random by design: fixed, so that block hashes, which the next block
            # and the history contract's storage commit to, compare.
            patch.setattr(building, "new_mix_hash", lambda: b"\x5a" * 32)
            yield chain
    finally:
        chain.close()


def deploying(runtime: bytes) -> bytes:
    """Creation code (13 bytes) that deploys ``runtime`` of any length: PUSH2 size, DUP1, PUSH2 13,
    PUSH1 0, CODECOPY (the runtime behind it, to memory 0), PUSH1 0, RETURN."""
    size = len(runtime).to_bytes(2, "big")
    return b"\x61" + size + b"\x80\x61\x00\x0d\x60\x00\x39\x60\x00\xf3" + runtime


def scenario(run: Run) -> dict[str, str]:
    """Deploy, then blocks of many transactions; the addresses of the contracts it made."""
    w3 = run.w3
    deployment: Deployment = deploy_contracts(w3, MiningSender(run, OWNER))
    writer = run.chain.send_raw_transaction(run.signed(OWNER, to=None, data=init_code(WRITER_RUNTIME)))
    reverting = run.chain.send_raw_transaction(run.signed(OWNER, to=None, data=init_code(REVERTING_RUNTIME)))
    # Code that fails in the VM (all gas used): an endless loop, an invalid opcode, stack underflows (ADD,
    # SWAP1, DUP1, POP on too few items) and overflows (1025 PUSH1, 1024 DUP1 on one item).
    failing = [run.chain.send_raw_transaction(run.signed(OWNER, to=None, data=deploying(bytes.fromhex(code))))
               for code in ("5b600056", "fe", "600101", "600190", "80", "50", "6001" * 1025, "6001" + "80" * 1024)]
    # Stack gymnastics that succeed and leave their result in storage: 17 pushes, DUP16, SWAP16, SSTORE,
    # then a PUSH32 cut short by the end of the code (padded with zeros).
    juggler = run.chain.send_raw_transaction(run.signed(OWNER, to=None, data=deploying(bytes.fromhex(
        "".join(f"60{i:02x}" for i in range(1, 18)) + "8f9f55" + "7f0102"))))
    run.mine()
    writer_address = str(w3.eth.get_transaction_receipt(writer)["contractAddress"])
    reverting_address = str(w3.eth.get_transaction_receipt(reverting)["contractAddress"])
    failing_addresses = [str(w3.eth.get_transaction_receipt(tx)["contractAddress"]) for tx in failing]
    juggler_address = str(w3.eth.get_transaction_receipt(juggler)["contractAddress"])
    registry = w3.eth.contract(address=to_checksum_address(deployment.asset_registry),
                               abi=_abi("AssetRegistry"))
    grants = w3.eth.contract(address=to_checksum_address(deployment.grant_registry), abi=_abi("GrantRegistry"))
    ledger = w3.eth.contract(address=to_checksum_address(deployment.transaction_ledger),
                             abi=_abi("TransactionLedger"))

    def pairs(*slots: tuple[int, int]) -> bytes:
        return b"".join(slot.to_bytes(32, "big") + value.to_bytes(32, "big") for slot, value in slots)

    for round_ in range(4):
        raws = [run.signed(OWNER, to=registry.address, data=_call(registry, "register", h(f"root {round_} {i}"),
                                                                  h(f"manifest {round_} {i}"), 1, 1, 0))
                for i in range(20)]
        first = round_ * 20 + 1
        raws.append(run.signed(OWNER, to=grants.address, data=_call(
            grants, "grant", first, USER.address, h("purpose"), GENESIS_TIME, GENESIS_TIME + 10**6, 100, h("scope"))))
        # Writes, overwrites and clears in one block, slots shared with earlier rounds; big and small values.
        raws.append(run.signed(OWNER, to=writer_address, data=pairs(
            *((slot, (round_ + 1) * 0x1000 + slot) for slot in range(round_ * 7, round_ * 7 + 12)),
            (2**255 + round_, 2**256 - 1), (round_, 0))))
        raws.append(run.signed(OWNER, to=writer_address, data=pairs(*((slot, 0) for slot in range(round_ * 5)))))
        raws.append(run.signed(OWNER, to=None, data=SELF_DESTRUCTING_INIT))
        raws.append(run.signed(OWNER, to=reverting_address, data=b""))
        raws += [run.signed(OWNER, to=address, data=b"", gas=60_000 + round_) for address in failing_addresses]
        raws.append(run.signed(OWNER, to=juggler_address, data=b"", gas=60_000))
        for raw in raws:
            run.chain.send_raw_transaction(raw)
        run.mine()
        usage = [run.signed(USER, to=ledger.address, data=_call(ledger, "recordUsage", first, 3, h(f"job {i}")))
                 for i in range(3)]
        for raw in usage:
            run.chain.send_raw_transaction(raw)
        run.mine()
    # Every slot of the writer cleared: its storage trie down to empty.
    run.chain.send_raw_transaction(run.signed(OWNER, to=writer_address, data=pairs(
        *((slot, 0) for slot in range(40)), *((2**255 + r, 0) for r in range(4)))))
    run.mine()
    return {"writer": writer_address, "registry": registry.address, "grants": grants.address,
            "juggler": juggler_address}


def _abi(name: str) -> Any:
    from dataseal.chain.artifacts import load_artifact

    return load_artifact(name).abi


def _call(contract: Any, name: str, *args: Any) -> bytes:
    return bytes(Web3.to_bytes(hexstr=contract.encode_abi(name, args=list(args))))


def blocks(chain: EmbeddedChain) -> list[tuple[Any, ...]]:
    """What each block commits to, its hash included; its receipts' statuses."""
    rows = []
    for number in range(int(chain.head().block_number) + 1):
        header = chain.header_for(number)
        statuses = [record.receipt.state_root for record in chain.block_receipts(number) or []]
        rows.append((number, header.state_root, header.receipt_root, header.transaction_root, header.gas_used,
                     header.hash, statuses))
    return rows


def state_reads(chain: EmbeddedChain, addresses: dict[str, str]) -> list[Any]:
    """Balances and storage at every block: history read through the persisted tries."""
    reads: list[Any] = []
    for number in range(int(chain.head().block_number) + 1):
        reads.append(chain.get_balance(to_canonical_address(OWNER.address), number))
        for address in addresses.values():
            canonical = to_canonical_address(address)
            reads.append([chain.get_storage_at(canonical, slot, number) for slot in (*range(0, 40, 3), 2**255 + 1)])
    return reads


@pytest.mark.filterwarnings("ignore:SELFDESTRUCT opcode present:DeprecationWarning")  # used on purpose
def test_blocks_and_history_match_stock_pyevm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    results = {}
    for name, state_class in (("stock", PragueState), ("batched", DatasealState)):
        monkeypatch.setattr(DatasealVM, "_state_class", state_class)
        folder = tmp_path / name
        with opened(folder) as chain:
            run = Run(chain)
            addresses = scenario(run)
            results[name] = (blocks(chain), state_reads(chain, addresses))
        if name == "batched":
            with opened(folder) as chain:  # reopened: the history comes from SQLite only
                assert (blocks(chain), state_reads(chain, addresses)) == results[name]
                run = Run(chain, clock=int(chain.head().timestamp))
                run.chain.send_raw_transaction(run.signed(OWNER, to=addresses["writer"], data=(7).to_bytes(32, "big")
                                                          + (9).to_bytes(32, "big")))
                run.mine()
                assert chain.get_storage_at(to_canonical_address(addresses["writer"]), 7) == 9
    stock_blocks, stock_reads = results["stock"]
    batched_blocks, batched_reads = results["batched"]
    assert len(stock_blocks) == 14  # genesis, 3 deployments, 2 contracts, 4 rounds of 2 blocks, the clearing
    round_statuses = [row[-1] for row in stock_blocks[5:13:2]]
    # the reverting call reverted and the eight failing codes failed; all else succeeded
    assert round_statuses == [[b"\x01"] * 24 + [b""] * 9 + [b"\x01"]] * 4
    assert batched_blocks == stock_blocks
    assert batched_reads == stock_reads
    assert any(isinstance(row, list) and any(row) for row in stock_reads)  # they saw storage, not just zeros


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
