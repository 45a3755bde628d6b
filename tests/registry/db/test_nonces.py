"""Nonces through the registry database: replicas sharing one database and one key never collide, and a sender
killed while it holds an account's nonce gives it back (or the next sender resyncs from the node).

Each test runs on SQLite and on PostgreSQL (the ``database_url`` fixture), the replicas as separate processes."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy import text
from web3 import Web3

from dataseal.chain.sending.nonces import FileNonceStore
from dataseal.registry.context import Context
from dataseal.registry.db import Database
from dataseal.registry.db.engine import create_database_engine
from dataseal.registry.db.nonces import DatabaseNonceStore
from dataseal.registry.registry import Registry
from dataseal.registry.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
ACCOUNT = "0x" + "aA" * 20


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database.open(database_url)  # migrated here, so that the processes below only use it
    try:
        yield db
    finally:
        db.close()


def _funded(hardhat_url: str) -> LocalAccount:
    w3 = Web3(Web3.HTTPProvider(hardhat_url))
    account: LocalAccount = Account.create()
    w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": account.address, "value": 10**20}))
    return account


def _stored(database: Database, chain_id: int, address: str) -> int | None:
    with database.engine.connect() as connection:
        value = connection.execute(text("SELECT next_nonce FROM account_nonce WHERE chain_id = :c AND address = :a"),
                                   {"c": chain_id, "a": address}).scalar()
    return None if value is None else int(value)


def _is_locked(url: str, chain_id: int, address: str) -> bool:
    """Whether another connection holds ``address``'s nonce now (asked without waiting)."""
    engine = create_database_engine(url)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA busy_timeout=0")
                statement = "BEGIN IMMEDIATE"
            else:
                statement = ("SELECT 1 FROM account_nonce WHERE chain_id = %(c)s AND address = %(a)s "
                             "FOR UPDATE NOWAIT")
            try:
                connection.exec_driver_sql(statement, {"c": chain_id, "a": address} if "%(" in statement else ())
            except Exception as exc:
                return "locked" in str(exc).lower() or "could not obtain lock" in str(exc).lower()
            connection.rollback()
            return False
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------------ the store


def test_the_store_keeps_one_value_per_account_and_lets_one_holder_at_a_time(database_url: str,
                                                                              database: Database) -> None:
    store, other_store = DatabaseNonceStore(database), DatabaseNonceStore(Database.open(database_url))
    key, other = (1, ACCOUNT), (2, ACCOUNT)
    with store.hold(key) as held:
        assert held.read() is None
        held.write(41)
    with store.hold(other) as elsewhere:  # another chain: another row
        assert elsewhere.read() is None
    if database.dialect == "postgresql":
        with store.hold(key) as held, store.hold(other) as elsewhere:  # row locks: no wait for another account
            assert held.read() == 41 and elsewhere.read() is None

    # two stores on two engines, as two processes would be: only the database's lock keeps them apart
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
        with other_store.hold(key) as held:
            order.append(f"second read {held.read()}")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    entered.wait()
    assert _is_locked(database_url, *key)
    release.set()
    for thread in threads:
        thread.join()
    other_store.database.close()
    assert order == ["first wrote", "second read 42"]
    assert not _is_locked(database_url, *key)


def test_a_hold_whose_block_fails_keeps_what_it_wrote_and_nothing_else(database: Database) -> None:
    store, key = DatabaseNonceStore(database), (1, ACCOUNT)
    with store.hold(key) as held:
        held.write(5)
    with pytest.raises(RuntimeError), store.hold(key) as held:
        raise RuntimeError("the send failed")
    with pytest.raises(RuntimeError), store.hold(key) as held:
        held.write(9)  # a value written is stored, as with the file store
        raise RuntimeError("then something else failed")
    assert _stored(database, *key) == 9


@pytest.mark.hardhat
def test_a_registry_sends_with_the_database_store_and_a_bare_context_with_files(hardhat_url: str, database_url: str,
                                                                                 database: Database,
                                                                                 tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", rpc_url=hardhat_url, database_url=database_url)
    with Registry(settings) as registry:
        assert isinstance(registry.context.nonces, DatabaseNonceStore)
        assert registry._database is None  # connecting to the chain does not open the database
        account = _funded(hardhat_url)
        sender = registry.context.sender(account)
        assert sender.nonces.store is registry.context.nonces
        assert registry.context.signing_as(account.address).nonces is registry.context.nonces
        receipt = sender.send(registry.context.connection.w3, {"to": account.address, "value": 1, "gas": 21_000})
        assert receipt["status"] == 1
        assert _stored(database, registry.context.connection.chain_id, account.address) == 1
    with Context.open(settings) as context:  # chain-only commands (deploy, status): files in the data folder
        assert isinstance(context.nonces, FileNonceStore) and context.nonces.folder == tmp_path / "data" / "nonces"


# ------------------------------------------------------------------------------------ replicas


_REPLICA = """
import json, sys
from contextlib import contextmanager
from eth_account import Account
from dataseal.registry.registry import Registry
from dataseal.registry.settings import Settings
data_dir, rpc, database_url, key, count = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])

class Watched:
    def __init__(self, store):
        self.store, self.holds = store, []
    @contextmanager
    def hold(self, key):
        with self.store.hold(key) as held:
            seen = {"read": None, "wrote": None}
            class View:
                def read(self):
                    seen["read"] = held.read()
                    return seen["read"]
                def write(self, value):
                    seen["wrote"] = value
                    held.write(value)
            yield View()
        self.holds.append([seen["read"], seen["wrote"]])

with Registry(Settings(data_dir=data_dir, rpc_url=rpc, database_url=database_url)) as registry:
    context = registry.context
    watched = context.nonces = Watched(context.nonces)  # what each hold read and stored
    sender = context.sender(Account.from_key(key))
    print("ready", flush=True)
    sys.stdin.readline()  # "go": both replicas send at once
    pending = [sender.submit(context.connection.w3, {"to": sender.address, "value": 1, "gas": 21000})
               for _ in range(count)]
    receipts = sender.wait_all(context.connection.w3, pending)
    print(json.dumps({"sent": [[p.nonce, r["status"]] for p, r in zip(pending, receipts)], "holds": watched.holds}))
"""


@pytest.mark.hardhat
def test_replicas_sharing_a_database_and_a_key_never_collide_on_hardhat(hardhat_url: str, database_url: str,
                                                                        database: Database, tmp_path: Path) -> None:
    """Two processes, each with its own Registry and data folder (so no file of theirs is shared), send 10
    transactions each from one key: 20 mined with nonces 0..19, and no hold had to resync ("nonce too low"):
    each one stored the nonce it read plus one."""
    account, count = _funded(hardhat_url), 10
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    replicas = [
        subprocess.Popen([sys.executable, "-c", _REPLICA, str(tmp_path / f"replica{i}"), hardhat_url, database_url,
                          "0x" + bytes(account.key).hex(), str(count)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                         cwd=ROOT)
        for i in range(2)
    ]
    try:
        for replica in replicas:
            assert replica.stdout is not None and replica.stdout.readline().strip() == "ready"
        outputs = [replica.communicate("go\n") for replica in replicas]
    finally:
        for replica in replicas:
            if replica.poll() is None:
                replica.kill()
                replica.wait()
    results = []
    for replica, (out, err) in zip(replicas, outputs, strict=True):
        assert replica.returncode == 0, err[-3000:]
        results.append(json.loads(out))
    sent = [nonce for result in results for nonce, _ in result["sent"]]
    assert sorted(sent) == list(range(2 * count))
    assert all(status == 1 for result in results for _, status in result["sent"])
    holds = [hold for result in results for hold in result["holds"]]
    assert len(holds) == 2 * count
    assert all(wrote == (read or 0) + 1 for read, wrote in holds), holds
    chain_id = Web3(Web3.HTTPProvider(hardhat_url)).eth.chain_id
    assert _stored(database, chain_id, account.address) == 2 * count


# ------------------------------------------------------------------------------------ crashes


_HOLDER = """
import sys
from eth_account import Account
from web3 import Web3
from dataseal.registry.db import Database
from dataseal.registry.db.nonces import DatabaseNonceStore
database_url, chain_id, address, rpc, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
with DatabaseNonceStore(Database.open(database_url)).hold((chain_id, address)) as held:
    nonce = held.read()
    if rpc:  # hand the node a transaction with the held nonce, as a sender does before it stores the next one
        w3 = Web3(Web3.HTTPProvider(rpc))
        signed = Account.from_key(key).sign_transaction({
            "to": address, "value": 1, "gas": 21000, "nonce": nonce, "chainId": chain_id,
            "maxFeePerGas": 2 * w3.eth.gas_price + 10**9, "maxPriorityFeePerGas": 10**9})
        w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction))
    held.write(nonce + 1)  # not committed: the hold has not ended
    print("holding", flush=True)
    sys.stdin.readline()  # never answered: the process is killed here
"""


@contextmanager
def _killed_while_holding(database_url: str, chain_id: int, address: str, rpc: str = "",
                          key: str = "") -> Iterator[None]:
    """A process that holds ``address``'s nonce (having written the next one, not committed) when the block runs;
    killed (SIGKILL) before the block's end."""
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, database_url, str(chain_id), address, rpc, key],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    try:
        assert holder.stdout is not None
        line = holder.stdout.readline()
        assert line.strip() == "holding", holder.communicate()[1][-3000:]
        yield
    finally:
        if holder.poll() is None:
            os.kill(holder.pid, signal.SIGKILL)
        holder.communicate()
    assert holder.returncode == -signal.SIGKILL


def test_a_sender_killed_while_holding_gives_the_nonce_back(database_url: str, database: Database) -> None:
    store, key = DatabaseNonceStore(database), (1, ACCOUNT)
    with store.hold(key) as held:
        held.write(5)
    with _killed_while_holding(database_url, *key):
        assert _is_locked(database_url, *key)  # held by the process, with 6 written in its transaction
    with store.hold(key) as held:  # the lock went with the process; its write was never committed
        assert held.read() == 5


@pytest.mark.hardhat
def test_the_next_sender_resyncs_after_one_killed_once_the_node_had_its_transaction(
        hardhat_url: str, database_url: str, database: Database, tmp_path: Path) -> None:
    account = _funded(hardhat_url)
    settings = Settings(data_dir=tmp_path / "data", rpc_url=hardhat_url, database_url=database_url)
    with Registry(settings) as registry:
        w3, chain_id = registry.context.connection.w3, registry.context.connection.chain_id
        sender = registry.context.sender(account)
        call = {"to": account.address, "value": 1, "gas": 21_000}
        assert w3.eth.get_transaction(sender.send(w3, call)["transactionHash"])["nonce"] == 0
        with _killed_while_holding(database_url, chain_id, account.address, hardhat_url,
                                   "0x" + bytes(account.key).hex()):
            pass  # the node mined its nonce 1; the store still says 1
        assert _stored(database, chain_id, account.address) == 1
        receipt = sender.send(w3, call)  # the store's 1 is refused ("nonce too low"): the node's count is taken
        assert receipt["status"] == 1 and w3.eth.get_transaction(receipt["transactionHash"])["nonce"] == 2
        assert _stored(database, chain_id, account.address) == 3
