#!/usr/bin/env python3
"""An end-to-end walk of dataseal's contracts on an embedded py-evm chain.

What it does, for real: starts a py-evm chain in this process (eth-tester), deploys the committed
contract artifacts, registers a data asset, grants its use, records usage, sells a licence and then
the asset itself (each sale countersigned by its buyer, EIP-712, and settled on chain), shows the
contracts' refusals decoded into their Solidity errors, and prints every event the chain emitted.

What it does not do (and does not pretend to): the chain lives in memory and is gone when the walk
ends — `make run` (`dataseal node`) is the persistent chain — and the content root is a keccak256
of a demo file rather than a sealed Merkle tree (`dataseal seal` makes real ones). The contracts are
deployed as the embedded node deploys them: no review (notice period) and no commitments, which a
public network would want (`dataseal deploy --help`); prices and settlements are only recorded, no
money moves.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eth_account import Account  # noqa: E402
from eth_account.signers.local import LocalAccount  # noqa: E402
from eth_tester import EthereumTester, PyEVMBackend  # noqa: E402
from eth_utils import keccak  # noqa: E402
from web3 import EthereumTesterProvider, Web3  # noqa: E402

from dataseal.chain.accounts.eip712 import LEDGER_DOMAIN_NAME, Domain, sign_trade  # noqa: E402
from dataseal.chain.contracts.client import Submitted  # noqa: E402
from dataseal.chain.contracts.deploy import deploy_contracts  # noqa: E402
from dataseal.chain.contracts.deployed import DatasealContracts  # noqa: E402
from dataseal.chain.contracts.records import (  # noqa: E402
    USAGE,
    AssetRecord,
    GrantRecord,
    Record,
    Registration,
    TradeRecord,
    TradeTerms,
)
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
    keys = [Account.from_key(key.to_bytes()) for key in tester.backend.account_keys[:6]]
    operator, owner, user, buyer, agent, other = (LocalSender(key, endpoint="the walk's chain") for key in keys)
    print("dataseal walk: the contracts of record on an embedded py-evm chain (in memory, this run only)")
    print(f"chain id {w3.eth.chain_id}, block {w3.eth.block_number}")

    step("deploy AssetRegistry, GrantRegistry, TransactionLedger (no review, no commitments: a local chain)")
    deployment = deploy_contracts(w3, operator)
    for name, address in deployment.addresses().items():
        print(f"   {name:<18} {address}")
    as_owner, as_user, as_buyer, as_agent = (DatasealContracts.bind(w3, deployment, s)
                                             for s in (owner, user, buyer, agent))
    ledger_domain = Domain(LEDGER_DOMAIN_NAME, w3.eth.chain_id, deployment.transaction_ledger)

    def run(action: str, submitted: Submitted[Any]) -> list[Record]:
        submitted.wait()
        receipt = submitted.receipt
        assert receipt is not None
        print(f"   {action}: tx {submitted.tx_hash[:18]}… block {receipt['blockNumber']}, gas {receipt['gasUsed']:,}")
        records = as_owner.decoder.decode_receipt(receipt)
        print_records(records)
        return records

    def countersigned(terms: TradeTerms, who: LocalAccount) -> tuple[int, bytes]:
        """The buyer's EIP-712 signature of the sale: (deadline, signature)."""
        deadline = int(w3.eth.get_block("latest")["timestamp"]) + 3600
        nonce = as_owner.ledger.nonce_of(terms.buyer)
        return deadline, sign_trade(who.key, ledger_domain, terms, nonce, deadline)

    step("register a data asset")
    demo = b"city,date,pm25\nshenzhen,2024-01-01,21\nshenzhen,2024-01-02,18\n"
    content_root = keccak(demo)
    manifest_hash = keccak(b'{"title":"Shenzhen air quality 2024 (demo)","format":"csv"}')
    registration = Registration(content_root, manifest_hash, rights_type=1 | 2, classification=1)
    records = run("register", as_owner.registry.submit_register(registration))
    asset_id = next(r.asset_id for r in records if isinstance(r, AssetRecord))
    asset = as_owner.registry.asset(asset_id)
    print(f"   asset {asset_id}: owner {asset.owner}, status {asset.status.name}, rights "
          f"{', '.join(v for k, v in RIGHTS.items() if asset.rights_type & k)}, no expiry")

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

    cny = b"CNY".ljust(32, b"\0")
    step("sell a licence: the buyer countersigns the terms, the ledger creates the buyer's grant")
    licence = TradeTerms.licence(asset_id, owner.address, buyer.address, 3_000_00, cny, keccak(text="invoice-0042"),
                                 keccak(text="quarterly air-quality report"), now - 60, now + 90 * 86400, 500)
    deadline, signature = countersigned(licence, keys[3])
    print(f"   the buyer signed the terms (EIP-712 \"Trade\", nonce {as_owner.ledger.nonce_of(buyer.address)}); "
          "the seller sends them")
    records = run("recordTrade (licence)", as_owner.ledger.submit_record_trade(licence, deadline, signature))
    licence_grant = next(r.grant_id for r in records if isinstance(r, TradeRecord))
    run("recordUsage under the bought licence",
        as_buyer.ledger.submit_record_usage(licence_grant, 5, keccak(text="report-2024-q1")))

    step("sell the asset itself: the token moves to the buyer in the same transaction")
    sale = TradeTerms.transfer(asset_id, owner.address, buyer.address, 120_000_00, cny, keccak(text="contract-77"))
    deadline, signature = countersigned(sale, keys[3])
    run("recordTrade (transfer)", as_owner.ledger.submit_record_trade(sale, deadline, signature))
    print(f"   asset {asset_id} now belongs to {as_owner.registry.asset(asset_id).owner} (the buyer)")

    step("the new owner lets an agent record usage for it (operator power USAGE, not TRADE)")
    run("setOperator", as_buyer.ledger.submit_set_operator(agent.address, powers=USAGE))

    step("refusals, decoded")
    resale = TradeTerms.transfer(asset_id, buyer.address, other.address, 1, cny, keccak(text="resale-1"))
    resale_deadline, resale_signature = countersigned(resale, keys[5])
    again = TradeTerms.transfer(asset_id, owner.address, other.address, 1, cny, keccak(text="sold-twice"))
    again_deadline, again_signature = countersigned(again, keys[5])
    refusals: list[tuple[str, Callable[[], object]]] = [
        ("register the same content again", lambda: as_user.registry.register(registration)),
        ("use 30 more units (20 left)", lambda: as_user.ledger.record_usage(grant_id, 30, keccak(text="job-3"))),
        ("the USAGE-only agent sells the buyer's asset",
         lambda: as_agent.ledger.record_trade(resale, resale_deadline, resale_signature)),
        ("the first owner sells the asset again", lambda: as_owner.ledger.record_trade(again, again_deadline,
                                                                                        again_signature)),
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
    print("   Not shown: review mode (public notice, objections, disputes) and commit-reveal registration, which")
    print("   `dataseal deploy --notice-period/--commits` turn on for shared networks; registering through the CLI,")
    print("   the registry database and the HTTP API.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
