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
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eth_account import Account  # noqa: E402
from eth_tester import EthereumTester, PyEVMBackend  # noqa: E402
from eth_utils import keccak  # noqa: E402
from web3 import EthereumTesterProvider, Web3  # noqa: E402

from dataseal.chain.contracts.client import Submitted  # noqa: E402
from dataseal.chain.contracts.deploy import deploy_contracts  # noqa: E402
from dataseal.chain.contracts.deployed import DatasealContracts  # noqa: E402
from dataseal.chain.contracts.records import AssetRecord, GrantRecord, Record  # noqa: E402
from dataseal.chain.errors import ContractRevert  # noqa: E402
from dataseal.chain.sending.sender import LocalSender  # noqa: E402

RIGHTS = {1: "holding", 2: "processing/use", 4: "product operation"}


def show(value: Any) -> str:
    if isinstance(value, str) and value.startswith("0x") and len(value) > 42:
        return value[:18] + "…"
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value[:8] + "…" + value[-4:]
    return str(value)


def print_records(records: list[Record]) -> None:
    for record in records:
        fields = ", ".join(f"{k}={show(v)}" for k, v in record.to_json().items() if k != "tx")
        print(f"      {type(record).__name__}({fields})")


def step(title: str) -> None:
    print(f"\n== {title}")


def main() -> int:
    started = time.perf_counter()
    tester = EthereumTester(PyEVMBackend())
    w3 = Web3(EthereumTesterProvider(tester))
    keys = [Account.from_key(key.to_bytes()) for key in tester.backend.account_keys[:4]]
    operator, owner, user, buyer = (LocalSender(key, endpoint="the walk's chain") for key in keys)
    print("dataseal walk: the contracts of record on an embedded py-evm chain (in memory, this run only)")
    print(f"chain id {w3.eth.chain_id}, block {w3.eth.block_number}")

    step("deploy AssetRegistry, GrantRegistry, TransactionLedger")
    deployment = deploy_contracts(w3, operator)
    for name, address in deployment.addresses().items():
        print(f"   {name:<18} {address}")
    as_owner, as_user, as_buyer = (DatasealContracts.bind(w3, deployment, s) for s in (owner, user, buyer))

    def run(action: str, submitted: Submitted[Any]) -> list[Record]:
        submitted.wait()
        receipt = submitted.receipt
        assert receipt is not None
        print(f"   {action}: tx {submitted.tx_hash[:18]}… block {receipt['blockNumber']}, gas {receipt['gasUsed']:,}")
        records = as_owner.decoder.decode_receipt(receipt)
        print_records(records)
        return records

    step("register a data asset")
    demo = b"city,date,pm25\nshenzhen,2024-01-01,21\nshenzhen,2024-01-02,18\n"
    content_root = keccak(demo)
    manifest_hash = keccak(b'{"title":"Shenzhen air quality 2024 (demo)","format":"csv"}')
    records = run("register", as_owner.registry.submit_register(content_root, manifest_hash, 1 | 2, 1))
    asset_id = next(r.asset_id for r in records if isinstance(r, AssetRecord))
    asset = as_owner.registry.asset(asset_id)
    print(f"   asset {asset_id}: owner {asset.owner}, rights "
          f"{', '.join(v for k, v in RIGHTS.items() if asset.rights_type & k)}")

    step("grant its use to a data user")
    now = w3.eth.get_block("latest")["timestamp"]
    purpose = keccak(text="train an air-quality forecasting model")
    records = run("grant", as_owner.grants.submit_grant(asset_id, user.address, purpose, now - 60, now + 30 * 86400,
                                                         100))
    grant_id = next(r.grant_id for r in records if isinstance(r, GrantRecord))

    step("record usage under the grant (the grantee meters its jobs)")
    for job in ("job-2024-0001", "job-2024-0002"):
        run(f"recordUsage {job}", as_user.ledger.submit_record_usage(grant_id, 40, keccak(text=job)))
    print(f"   remaining quota: {as_owner.grants.remaining(grant_id)} of 100 units")

    step("record a trade settled off chain")
    run("recordTrade", as_owner.ledger.submit_record_trade(asset_id, buyer.address, owner.address, 12_000_00,
                                                          b"CNY".ljust(32, b"\0"), keccak(text="settlement-77")))

    step("refusals, decoded")
    refusals: list[tuple[str, Callable[[], object]]] = [
        ("register the same content again", lambda: as_buyer.registry.register(content_root, manifest_hash, 1, 1)),
        ("use 30 more units (20 left)", lambda: as_user.ledger.record_usage(grant_id, 30, keccak(text="job-3"))),
        ("record usage as someone else", lambda: as_buyer.ledger.record_usage(grant_id, 1, keccak(text="job-4"))),
    ]
    for action, attempt in refusals:
        try:
            attempt()
        except ContractRevert as refusal:
            print(f"   {action}: refused — {refusal}")
        else:
            print(f"   {action}: UNEXPECTEDLY ACCEPTED", file=sys.stderr)
            return 1

    step("summary")
    print(f"   assets {as_owner.registry.total_assets()}, grants {as_owner.grants.total_grants()}, "
          f"trades {as_owner.ledger.total_trades()}, head block {w3.eth.block_number}")
    print(f"   walked in {time.perf_counter() - started:.1f} s. The chain was in memory: nothing was kept.")
    print("   The persistent chain is `make run` (dataseal node); `dataseal seal FILE` makes real content roots.")
    print("   Not here yet: registering through the CLI, the registry database and the HTTP API.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
