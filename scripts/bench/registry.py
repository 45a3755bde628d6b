#!/usr/bin/env python3
"""Registry benchmark: indexing, audit trails and stored trees (a benchmark, not a test).

One run makes ``--events`` real usage events (default 100,000) on a ``hardhat node``, then measures:

- ``raw_getlogs_events_per_s``: the baseline, a plain paged ``eth_getLogs`` of the deployment's three
  addresses over the same blocks with stock web3 (``w3.eth.get_logs``, pages of the indexer's size);
  ``raw_json_getlogs_events_per_s`` beside it: the same pages as JSON only (``provider.make_request``, no
  web3 formatting of the logs' fields, which the indexer skips as well);
- ``index_events_per_s`` (SQLite, the default database) and ``index_events_per_s_postgres``: the same blocks
  indexed from scratch by :class:`~dataseal.registry.indexer.Indexer` (decoded, projected, written) into a
  SQLite file and into a PostgreSQL the benchmark starts; target ≥ 0.5× raw. The baselines and the indexing
  are measured in turn in ``--rounds`` rounds (this machine's speed drifts by 1.5x over minutes, and other
  processes share it); rates are the medians of the rounds, ``index_ratio*`` the median of each round's ratio;
- ``trail_first_page_p50_ms_sqlite`` / ``_postgres``: the first page of the asset's trail (all the events
  are usage of one grant on one asset, so the asset has ``--events`` usage records) read through
  :class:`~dataseal.registry.audit.db_source.DbTrailSource`, as ``dataseal audit`` reads it, with the CLI's
  page size (``--trail-limit``, default the CLI's); target ≤ 20 ms. The baseline beside it: the same rows
  selected with plain SQL on the same engine (no entries built);
- ``proof_10m_ms`` and ``stored_tree_bytes_per_leaf``: ``scripts/bench/trees.py`` run on a tree of
  ``--tree-leaves`` leaves (default 10,000,000; about a minute and 2 GB of memory); its baseline is
  ``core.get_proof`` on the node buffer in memory; targets ≤ 5 ms and ≤ 40 bytes.

How the events are made: one asset, one grant with a huge quota to a fresh account, and that grantee's
``recordUsage`` transactions signed locally and sent as JSON-RPC batches of 500 raw transactions with
automine off, each batch followed by ``evm_mine`` (each batch fits hardhat's block: 500 usage events a block,
so that 100,000 events are 200 blocks and one page of the indexer). Every process started here (hardhat,
PostgreSQL, the tree benchmark) is stopped by its PID, also on error. The last line printed is one JSON object.
Nothing here asserts on time.

    .venv/bin/python scripts/bench/registry.py                             # full run (~15 minutes)
    .venv/bin/python scripts/bench/registry.py --events 5000 --tree-leaves 100000 --no-postgres
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from eth_account import Account  # noqa: E402
from eth_account.signers.local import LocalAccount  # noqa: E402
from eth_utils import keccak, to_checksum_address  # noqa: E402
from sqlalchemy import select  # noqa: E402
from web3 import Web3  # noqa: E402
from web3.types import FilterParams, RPCEndpoint, Wei  # noqa: E402

from dataseal.chain.contracts.artifacts import load_artifact  # noqa: E402
from dataseal.chain.contracts.deploy import deploy_contracts  # noqa: E402
from dataseal.chain.contracts.deployed import DatasealContracts  # noqa: E402
from dataseal.chain.contracts.deployment import Deployment  # noqa: E402
from dataseal.chain.contracts.records import Registration  # noqa: E402
from dataseal.chain.sending.sender import LocalSender  # noqa: E402
from dataseal.registry.audit.db_source import DbTrailSource  # noqa: E402
from dataseal.registry.audit.sources import DEFAULT_PAGE  # noqa: E402
from dataseal.registry.db import Database  # noqa: E402
from dataseal.registry.db.models.chain import ChainEvent, table_of  # noqa: E402
from dataseal.registry.indexer import Indexer  # noqa: E402
from dataseal.registry.indexer.indexer import DEFAULT_PAGE_BLOCKS  # noqa: E402
from tests.support.devnode import hardhat_node  # noqa: E402
from tests.support.postgres import postgres_server  # noqa: E402

SEND_BATCH = 500  # raw transactions per JSON-RPC batch, one evm_mine after each
USAGE_GAS = 120_000
TARGET_INDEX_RATIO = 0.5
TARGET_TRAIL_MS = 20.0
TARGET_PROOF_MS = 5.0
TARGET_BYTES_PER_LEAF = 40.0


def say(message: str) -> None:
    print(message, flush=True)


def rpc(w3: Web3, method: str, *params: Any) -> Any:
    answer = w3.provider.make_request(RPCEndpoint(method), list(params))
    if "error" in answer:
        raise SystemExit(f"{method} failed: {answer['error']}")
    return answer["result"]


@dataclass(frozen=True)
class Workload:
    """What :func:`make_events` left on the node."""

    deployment: Deployment
    asset_id: int
    grant_id: int
    first_block: int
    last_block: int
    events: int  # events of the deployment in first_block..last_block (the usage and the set-up before it)
    blocks_with_usage: int
    generate_s: float


def make_events(url: str, count: int) -> Workload:
    """Deploy dataseal on the node at ``url`` and make ``count`` usage events of one grant (see the module)."""
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 600}))
    funder = w3.eth.accounts[0]
    operator, owner, grantee = (cast(LocalAccount, Account.create()) for _ in range(3))
    for account in (operator, owner, grantee):
        w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(
            {"from": funder, "to": account.address, "value": Wei(10**21)}))
    deployment = deploy_contracts(w3, LocalSender(operator, endpoint="hardhat"))
    contracts = DatasealContracts.bind(w3, deployment, LocalSender(owner, endpoint="hardhat"))
    asset_id = contracts.registry.register(Registration(keccak(text="bench-root"), keccak(text="bench-manifest"),
                                                        1, 0)).asset_id
    now = int(w3.eth.get_block("latest")["timestamp"])
    grant_id = contracts.grants.grant(asset_id, grantee.address, keccak(text="bench-purpose"), now - 1,
                                      now + 10**8, 10**15).grant_id
    ledger = w3.eth.contract(address=to_checksum_address(deployment.transaction_ledger),
                             abi=load_artifact("TransactionLedger").abi)
    chain_id = int(w3.eth.chain_id)
    nonce = int(w3.eth.get_transaction_count(grantee.address))
    prefix = ledger.functions.recordUsage(grant_id, 1, b"\0" * 32)._encode_transaction_data()[:-64]
    rpc(w3, "evm_setAutomine", False)
    session = requests.Session()
    start = time.perf_counter()
    sent = 0
    while sent < count:
        raws = []
        for i in range(sent, min(count, sent + SEND_BATCH)):
            tx = {"to": deployment.transaction_ledger, "data": prefix + keccak(i.to_bytes(8, "big")).hex(),
                  "gas": USAGE_GAS, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 1, "nonce": nonce,
                  "chainId": chain_id, "type": 2}
            raws.append(Account.sign_transaction(tx, grantee.key).raw_transaction.to_0x_hex())
            nonce += 1
        body: list[dict[str, Any]] = [{"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [raw]}
                for i, raw in enumerate(raws)]
        answers = session.post(url, json=body, timeout=600).json()
        refused = [a for a in answers if "result" not in a]
        if refused:
            raise SystemExit(f"hardhat refused a usage transaction: {refused[0]}")
        rpc(w3, "evm_mine")
        sent += len(raws)
    while int(w3.eth.get_transaction_count(grantee.address, "latest")) < nonce:  # what did not fit: more blocks
        rpc(w3, "evm_mine")
    generate_s = time.perf_counter() - start
    rpc(w3, "evm_setAutomine", True)
    last = int(w3.eth.block_number)
    first = deployment.deploy_block
    logs = raw_logs(url, deployment, first, last, DEFAULT_PAGE_BLOCKS)
    usage_blocks = {int(log["blockNumber"]) for log in logs if log["address"] == deployment.transaction_ledger}
    return Workload(deployment, asset_id, grant_id, first, last, len(logs), len(usage_blocks), generate_s)


def raw_logs(url: str, deployment: Deployment, first: int, last: int, page_blocks: int) -> list[Any]:
    """The baseline: stock web3's ``eth_getLogs`` over ``first..last`` in pages of ``page_blocks`` blocks."""
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 600}))
    addresses = list(deployment.addresses().values())
    out: list[Any] = []
    for start in range(first, last + 1, page_blocks):
        params = {"address": addresses, "fromBlock": start, "toBlock": min(last, start + page_blocks - 1)}
        out.extend(w3.eth.get_logs(cast(FilterParams, params)))
    return out


def measure_raw(url: str, work: Workload) -> float:
    """Events per second of :func:`raw_logs` over the workload's blocks."""
    start = time.perf_counter()
    count = len(raw_logs(url, work.deployment, work.first_block, work.last_block, DEFAULT_PAGE_BLOCKS))
    seconds = time.perf_counter() - start
    if count != work.events:
        raise SystemExit(f"eth_getLogs returned {count} events, expected {work.events}")
    return count / seconds


def measure_raw_json(url: str, work: Workload) -> float:
    """Events per second of the same pages as :func:`raw_logs` read as JSON only (no web3 formatting)."""
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 600}))
    addresses = list(work.deployment.addresses().values())
    count = 0
    start_time = time.perf_counter()
    for start in range(work.first_block, work.last_block + 1, DEFAULT_PAGE_BLOCKS):
        params = {"address": addresses, "fromBlock": hex(start),
                  "toBlock": hex(min(work.last_block, start + DEFAULT_PAGE_BLOCKS - 1))}
        count += len(rpc(w3, "eth_getLogs", params))
    seconds = time.perf_counter() - start_time
    if count != work.events:
        raise SystemExit(f"eth_getLogs returned {count} events, expected {work.events}")
    return count / seconds


def measure_index(db: Database, url: str, work: Workload) -> float:
    """Events per second of indexing the workload's blocks into ``db``, a new database."""
    indexer = Indexer(db, Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 600})), work.deployment,
                      endpoint="hardhat")
    start = time.perf_counter()
    report = indexer.sync(to_block=work.last_block)
    seconds = time.perf_counter() - start
    if report.events != work.events:
        raise SystemExit(f"the indexer indexed {report.events} events, expected {work.events}")
    return report.events / seconds


def timed_ms(runs: int, read: Callable[[], object]) -> float:
    """The median of ``runs`` timings of ``read`` (after one read to warm caches), in ms."""
    read()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        read()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure_trail(db: Database, work: Workload, limit: int, runs: int) -> tuple[float, float]:
    """(p50 ms of the asset trail's first page through DbTrailSource, p50 ms of the same rows in plain SQL)."""
    source = DbTrailSource(db)
    page = source.asset_trail(work.asset_id, limit=limit)
    if len(page.entries) != min(limit, work.events) or page.next_cursor is None:
        raise SystemExit(f"the trail's first page holds {len(page.entries)} entries, expected {limit} and more")
    events = table_of(ChainEvent)
    query = (select(events).where(events.c.asset_id == work.asset_id)
             .order_by(events.c.block_number, events.c.log_index).limit(limit + 1))

    def plain() -> object:
        with db.engine.connect() as connection:
            return connection.execute(query).all()

    return (timed_ms(runs, lambda: source.asset_trail(work.asset_id, limit=limit)), timed_ms(runs, plain))


@contextmanager
def scratch_databases(folder: Path, postgres: bool) -> Iterator[Callable[[int], dict[str, Database]]]:
    """A maker of fresh databases, one set per round: a SQLite file in ``folder`` and, with ``postgres``, a
    database on a PostgreSQL started for the run (fresh each round: a table emptied and filled again would hold
    the dead rows of the rounds before until PostgreSQL's autovacuum came by, and slow the trail's reads)."""
    with ExitStack() as stack:
        server = stack.enter_context(postgres_server()) if postgres else None

        def fresh(round_no: int) -> dict[str, Database]:
            dbs = {"sqlite": stack.enter_context(Database.open(f"sqlite:///{folder / f'registry-{round_no}.sqlite'}"))}
            if server is not None:
                dbs["postgres"] = stack.enter_context(Database.open(server.create_database(f"bench{round_no}")))
            return dbs

        yield fresh


def run_tree_bench(leaves: int, proofs: int) -> dict[str, Any]:
    """scripts/bench/trees.py in a child process (its memory is returned when it ends); its JSON line."""
    command = [sys.executable, str(ROOT / "scripts" / "bench" / "trees.py"), "--leaves", str(leaves),
               "--proofs", str(proofs)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        out, _ = proc.communicate()
    finally:
        if proc.poll() is None:
            proc.kill()  # (by its PID: an interrupted benchmark leaves no child behind)
            proc.wait()
    if proc.returncode != 0:
        raise SystemExit(f"scripts/bench/trees.py failed with {proc.returncode}")
    return cast(dict[str, Any], json.loads(out.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="usage events to make (default 100,000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of raw eth_getLogs and indexing, in turn "
                        "(the medians are kept; the ratio is the median of each round's)")
    parser.add_argument("--trail-limit", type=int, default=DEFAULT_PAGE, help="entries of the trail's first page "
                        f"(default {DEFAULT_PAGE}, the CLI's)")
    parser.add_argument("--trail-runs", type=int, default=50, help="first-page reads timed (default 50)")
    parser.add_argument("--tree-leaves", type=int, default=10_000_000, help="leaves of the stored tree (default 10M)")
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--no-tree", action="store_true", help="skip the stored-tree benchmark")
    args = parser.parse_args()
    if args.events < 1 or args.rounds < 1 or args.trail_limit < 1 or args.trail_runs < 1 or args.tree_leaves < 1:
        parser.error("--events, --rounds, --trail-limit, --trail-runs and --tree-leaves must be at least 1")

    figures: dict[str, Any] = {"events": args.events}
    with tempfile.TemporaryDirectory(prefix="dataseal-bench-registry-") as work_dir:
        folder = Path(work_dir)
        with hardhat_node(folder) as url:
            say(f"making {args.events:,} usage events on hardhat ...")
            work = make_events(url, args.events)
            say(f"  {work.events:,} events in blocks {work.first_block}..{work.last_block} "
                f"({work.blocks_with_usage} blocks with usage) in {work.generate_s:.1f} s")
            figures["blocks"] = work.last_block - work.first_block + 1
            figures["blocks_with_events"] = work.blocks_with_usage
            raws: list[float] = []
            jsons: list[float] = []
            index: dict[str, list[float]] = {}
            with scratch_databases(folder, not args.no_postgres) as fresh:
                for round_no in range(args.rounds):  # raw and index in turn: the same drift falls on both
                    dbs = fresh(round_no)
                    raws.append(measure_raw(url, work))
                    jsons.append(measure_raw_json(url, work))
                    line = [f"  round {round_no + 1}: raw eth_getLogs {raws[-1]:8,.0f} events/s (JSON only "
                            f"{jsons[-1]:8,.0f})"]
                    for name, db in dbs.items():
                        index.setdefault(name, []).append(measure_index(db, url, work))
                        line.append(f"{name} {index[name][-1]:8,.0f} ({index[name][-1] / raws[-1]:.2f}x)")
                    say(" | ".join(line) + f"   load {os.getloadavg()[0]:.1f}")
                trails = {name: measure_trail(db, work, args.trail_limit, args.trail_runs)
                          for name, db in dbs.items()}
        raw = statistics.median(raws)
    rates = {name: statistics.median(values) for name, values in index.items()}
    ratios = {name: statistics.median(x / r for x, r in zip(values, raws, strict=True))
              for name, values in index.items()}
    raw_json = statistics.median(jsons)
    figures["raw_getlogs_events_per_s"] = round(raw)
    figures["raw_json_getlogs_events_per_s"] = round(raw_json)
    figures["index_events_per_s"] = round(rates["sqlite"])
    figures["index_ratio"] = round(ratios["sqlite"], 3)
    if "postgres" in rates:
        figures["index_events_per_s_postgres"] = round(rates["postgres"])
        figures["index_ratio_postgres"] = round(ratios["postgres"], 3)
    figures["trail_limit"] = args.trail_limit
    for name, (trail_ms, plain_ms) in trails.items():
        figures[f"trail_first_page_p50_ms_{name}"] = round(trail_ms, 3)
        figures[f"trail_plain_sql_p50_ms_{name}"] = round(plain_ms, 3)
    if not args.no_tree:
        say(f"stored tree of {args.tree_leaves:,} leaves (scripts/bench/trees.py) ...")
        tree = run_tree_bench(args.tree_leaves, 1000)
        figures["proof_10m_ms" if args.tree_leaves == 10_000_000 else "proof_ms"] = tree["proof_ms_p50"]
        figures["proof_baseline_ms"] = tree["baseline_proof_ms_p50"]
        figures["stored_tree_bytes_per_leaf"] = tree["stored_tree_bytes_per_leaf"]
        figures["tree_leaves"] = args.tree_leaves

    say("")
    say(f"{'figure':<40} {'value':>12} {'baseline':>12} {'ratio':>8}  target")
    for name, rate in rates.items():
        say(f"{'index events/s (' + name + ') vs raw getLogs':<40} {rate:>12,.0f} {raw:>12,.0f} "
            f"{ratios[name]:>8.2f}  >= {TARGET_INDEX_RATIO} x raw")
        say(f"{'  (vs getLogs read as JSON only)':<40} {rate:>12,.0f} {raw_json:>12,.0f} {rate / raw_json:>8.2f}")
    for name, (trail_ms, plain_ms) in trails.items():
        say(f"{'trail first page ms (' + name + ') vs plain SQL':<40} {trail_ms:>12.2f} {plain_ms:>12.2f} "
            f"{trail_ms / plain_ms:>8.2f}  <= {TARGET_TRAIL_MS:g} ms")
    if not args.no_tree:
        say(f"{'proof ms (stored) vs core.get_proof (RAM)':<40} {tree['proof_ms_p50']:>12.4f} "
            f"{tree['baseline_proof_ms_p50']:>12.4f} "
            f"{tree['proof_ms_p50'] / tree['baseline_proof_ms_p50']:>8.1f}  <= {TARGET_PROOF_MS:g} ms")
        say(f"{'stored tree bytes a leaf':<40} {tree['stored_tree_bytes_per_leaf']:>12.2f} {'':>12} {'':>8}  "
            f"<= {TARGET_BYTES_PER_LEAF:g}")
    say(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
