#!/usr/bin/env python3
"""An end-to-end walk of dataseal's contracts on an embedded py-evm chain.

What it does, for real: starts a py-evm chain in this process (eth-tester), deploys the committed
contract artifacts, registers a data asset, grants its use, records usage and a trade, shows two
refusals decoded into their Solidity errors, and prints every event the chain emitted.

What it does not do (and does not pretend to): the chain lives in memory and is gone when the walk
ends — `make run` (`dataseal node`) is the persistent chain — and the content root is a keccak256
of a demo file rather than a sealed Merkle tree (`dataseal seal` makes real ones).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eth_tester import EthereumTester, PyEVMBackend  # noqa: E402
from eth_utils import keccak  # noqa: E402
from web3 import EthereumTesterProvider, Web3  # noqa: E402

from dataseal.chain.contracts import (  # noqa: E402
    Contracts,
    DecodedEvent,
    UnlockedSender,
    bind,
    decode_events,
    deploy_contracts,
    transact,
)
from dataseal.chain.errors import ContractRevert  # noqa: E402
from dataseal.chain.revert import STATUS_NAMES  # noqa: E402

RIGHTS = {1: "holding", 2: "processing/use", 4: "product operation"}


def show(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        text = "0x" + bytes(value).hex()
        return text[:18] + "…" if len(text) > 20 else text
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value[:8] + "…" + value[-4:]
    return str(value)


def print_events(events: list[DecodedEvent]) -> None:
    for event in events:
        args = ", ".join(f"{k}={show(named(event, k, v))}" for k, v in event.args.items())
        print(f"      {event.contract}.{event.name}({args})")


def named(event: DecodedEvent, key: str, value: Any) -> Any:
    """Enum arguments by name (status=Active rather than status=2)."""
    if event.contract == "AssetRegistry" and key in ("status", "from", "to") and isinstance(value, int):
        return STATUS_NAMES[value]
    if key == "lineage" and isinstance(value, int):
        return ("None", "Version", "Derived")[value]
    return value


def step(title: str) -> None:
    print(f"\n== {title}")


def main() -> int:
    started = time.perf_counter()
    w3 = Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend())))
    accounts = w3.eth.accounts
    operator, owner, user, buyer = (UnlockedSender(a) for a in accounts[:4])
    print("dataseal walk: the contracts of record on an embedded py-evm chain (in memory, this run only)")
    print(f"chain id {w3.eth.chain_id}, block {w3.eth.block_number}")

    step("deploy AssetRegistry, GrantRegistry, TransactionLedger")
    deployment = deploy_contracts(w3, operator)
    contracts: Contracts = bind(w3, deployment)
    for name, address in (
        ("AssetRegistry", deployment.asset_registry),
        ("GrantRegistry", deployment.grant_registry),
        ("TransactionLedger", deployment.transaction_ledger),
    ):
        print(f"   {name:<18} {address}")

    def run(action: str, call: Any, sender: UnlockedSender) -> list[DecodedEvent]:
        receipt = transact(w3, sender, call, action)
        print(f"   {action}: tx {receipt['transactionHash'].to_0x_hex()[:18]}… block {receipt['blockNumber']}, "
              f"gas {receipt['gasUsed']:,}")
        events = decode_events(contracts, receipt)
        print_events(events)
        return events

    registry, grants, ledger = contracts.asset_registry, contracts.grant_registry, contracts.transaction_ledger

    step("register a data asset")
    demo = b"city,date,pm25\nshenzhen,2024-01-01,21\nshenzhen,2024-01-02,18\n"
    content_root = keccak(demo)
    manifest_hash = keccak(b'{"title":"Shenzhen air quality 2024 (demo)","format":"csv"}')
    events = run("register", registry.functions.register(content_root, manifest_hash, 1 | 2, 1, 0), owner)
    asset_id = next(e.args["assetId"] for e in events if e.name == "AssetRegistered")
    record = registry.functions.assetOf(asset_id).call()
    print(f"   asset {asset_id}: owner {record[3]}, rights {', '.join(v for k, v in RIGHTS.items() if record[6] & k)}")

    step("grant its use to a data user")
    now = w3.eth.get_block("latest")["timestamp"]
    purpose = keccak(text="train an air-quality forecasting model")
    events = run(
        "grant",
        grants.functions.grant(asset_id, user.address, purpose, now - 60, now + 30 * 86400, 100, b"\0" * 32),
        owner,
    )
    grant_id = next(e.args["grantId"] for e in events if e.name == "GrantCreated")

    step("record usage under the grant (the grantee meters its jobs)")
    for job in ("job-2024-0001", "job-2024-0002"):
        run(f"recordUsage {job}", ledger.functions.recordUsage(grant_id, 40, keccak(text=job)), user)
    print(f"   remaining quota: {grants.functions.remaining(grant_id).call()} of 100 units")

    step("record a trade settled off chain")
    run(
        "recordTrade",
        ledger.functions.recordTrade(
            asset_id, buyer.address, owner.address, 12_000_00, b"CNY".ljust(32, b"\0"), keccak(text="settlement-77")
        ),
        owner,
    )

    step("refusals, decoded")
    for action, call, sender in (
        ("register the same content again", registry.functions.register(content_root, manifest_hash, 1, 1, 0), buyer),
        ("use 30 more units (20 left)", ledger.functions.recordUsage(grant_id, 30, keccak(text="job-3")), user),
        ("record usage as someone else", ledger.functions.recordUsage(grant_id, 1, keccak(text="job-4")), buyer),
    ):
        try:
            transact(w3, sender, call, action)
        except ContractRevert as refusal:
            print(f"   {action}: refused — {refusal}")
        else:
            print(f"   {action}: UNEXPECTEDLY ACCEPTED", file=sys.stderr)
            return 1

    step("summary")
    print(f"   assets {registry.functions.totalAssets().call()}, grants {grants.functions.totalGrants().call()}, "
          f"trades {ledger.functions.totalTrades().call()}, head block {w3.eth.block_number}")
    print(f"   walked in {time.perf_counter() - started:.1f} s. The chain was in memory: nothing was kept.")
    print("   The persistent chain is `make run` (dataseal node); `dataseal seal FILE` makes real content roots.")
    print("   Not here yet: registering through the CLI, the registry database and the HTTP API.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
