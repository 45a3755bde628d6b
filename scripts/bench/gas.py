#!/usr/bin/env python3
"""Gas of each dataseal operation on py-evm (a benchmark, not a test).

Deploys the committed artifacts on an in-process py-evm chain (eth-tester), puts every shared
counter in its steady state first (one asset, grant, trade and batch by another account), then
measures each operation's total transaction gas (21,000 base + calldata + execution). A second set,
deployed with commitments required (ContractConfig.with_commits()), measures commit-reveal
registration; the chain's clock is moved past the minimum commitment age, never waited for. Trades
include the buyer's EIP-712 countersignature in their calldata and are measured in steady state
too (not the ledger's first trade, not the buyer's first nonce, a buyer that already holds a token).
Prints a table, then one JSON object as the last line.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from eth_account import Account  # noqa: E402
from eth_tester import EthereumTester, PyEVMBackend  # noqa: E402
from eth_utils import keccak  # noqa: E402
from web3 import EthereumTesterProvider, Web3  # noqa: E402

from dataseal.chain.accounts.eip712 import (  # noqa: E402
    GRANTS_DOMAIN_NAME,
    LEDGER_DOMAIN_NAME,
    REGISTRY_DOMAIN_NAME,
    Domain,
    sign_grant,
    sign_register,
    sign_trade,
)
from dataseal.chain.contracts.client import Submitted  # noqa: E402
from dataseal.chain.contracts.deploy import deploy_contracts  # noqa: E402
from dataseal.chain.contracts.deployed import DatasealContracts  # noqa: E402
from dataseal.chain.contracts.deployment import ContractConfig  # noqa: E402
from dataseal.chain.contracts.records import GrantTerms, Registration, TradeTerms  # noqa: E402
from dataseal.chain.sending.sender import LocalSender  # noqa: E402

TARGETS = {
    "register": 120_000,
    "grant": 100_000,
    "record_usage": 45_000,
    "anchor_batch_1000_per_member": 120,
    "commit_plus_register_committed": 170_000,
    "trade_transfer": 150_000,
    "trade_licence": 150_000,
}
EAS_ATTEST_SAME_FIELDS = 296_063  # from the issue: an EAS attest of the same fields on this chain
ZERO = b"\0" * 32


def h(label: str) -> bytes:
    return keccak(text=label)


def main() -> int:
    tester = EthereumTester(PyEVMBackend())
    w3 = Web3(EthereumTesterProvider(tester))
    keys = [Account.from_key(key.to_bytes()) for key in tester.backend.account_keys[:5]]
    operator, warm, owner, user, buyer = (LocalSender(key, endpoint="the bench chain") for key in keys)
    buyer_key = keys[4].key
    signer = Account.from_key(keccak(text="dataseal gas bench signer"))
    deployment = deploy_contracts(w3, operator)
    as_operator, as_warm, as_owner, as_user = (DatasealContracts.bind(w3, deployment, s)
                                               for s in (operator, warm, owner, user))
    chain_id = w3.eth.chain_id
    reg_domain = Domain(REGISTRY_DOMAIN_NAME, chain_id, deployment.asset_registry)
    grant_domain = Domain(GRANTS_DOMAIN_NAME, chain_id, deployment.grant_registry)
    ledger_domain = Domain(LEDGER_DOMAIN_NAME, chain_id, deployment.transaction_ledger)

    def gas(submitted: Submitted[Any]) -> int:
        submitted.wait()
        assert submitted.receipt is not None
        return int(submitted.receipt["gasUsed"])

    def now() -> int:
        return int(w3.eth.get_block("latest")["timestamp"])

    def reg(label: str, rights_type: int = 3, classification: int = 1) -> Registration:
        return Registration(h(label), h(label + "-manifest"), rights_type, classification)

    def trade(seller: DatasealContracts, terms: TradeTerms) -> int:
        """Gas of recording ``terms``, countersigned by the buyer with its next nonce."""
        deadline = now() + 3600
        signature = sign_trade(buyer_key, ledger_domain, terms, seller.ledger.nonce_of(terms.buyer), deadline)
        return gas(seller.ledger.submit_record_trade(terms, deadline, signature))

    first_ever: dict[str, int] = {}
    cny = b"CNY".ljust(32, b"\0")

    def licence(asset_id: int, seller: str, label: str) -> TradeTerms:
        t = now()
        return TradeTerms.licence(asset_id, seller, buyer.address, 500_00, cny, h(label), h("purpose: reporting"),
                                  t - 60, t + 90 * 86400, 1000)

    # Steady state: every shared counter already non-zero, as on any chain in use; the buyer has
    # traded (its nonce is not 0) and holds a token.
    first_ever["register"] = gas(as_warm.registry.submit_register(reg("warm-root", 1, 1)))
    first_ever["grant"] = gas(as_warm.grants.submit_grant(1, user.address, h("warm"), now() - 1, now() + 86400, 10))
    first_ever["trade_licence (ledger's first, buyer's first nonce)"] = trade(
        as_warm, licence(1, warm.address, "warm-licence"))
    first_ever["trade_transfer (buyer's first token)"] = trade(
        as_warm, TradeTerms.transfer(1, warm.address, buyer.address, 1, cny, h("warm-sale")))
    first_ever["anchor_batch"] = gas(as_warm.registry.submit_anchor_batch(h("warm-batch"), 1000, h("warm")))

    results: dict[str, float] = {}
    results["register_first"] = gas(as_owner.registry.submit_register(reg("root-1")))
    results["register"] = gas(as_owner.registry.submit_register(reg("root-2")))
    owner_asset = as_owner.registry.asset_id_of(h("root-2"))
    assert owner_asset is not None

    def register_by_sig(label: str) -> int:
        nonce = as_operator.registry.nonce_of(signer.address)
        deadline = now() + 3600
        sig = sign_register(signer.key, reg_domain, owner=signer.address, content_root=h(label),
                            manifest_hash=h(label + "-manifest"), rights_type=1, classification=2, parent_id=0,
                            nonce=nonce, deadline=deadline)
        return gas(as_operator.registry.submit_register_by_sig(signer.address, reg(label, 1, 2), ZERO, deadline, sig))

    first_ever["register_by_sig (signer's first)"] = register_by_sig("sig-root-1")
    results["register_by_sig"] = register_by_sig("sig-root-2")
    signer_asset = as_operator.registry.asset_id_of(h("sig-root-2"))
    assert signer_asset is not None

    t = now()
    results["grant"] = gas(as_owner.grants.submit_grant(owner_asset, user.address, h("purpose: model training"),
                                                        t - 60, t + 30 * 86400, 1000))
    grant_id = as_owner.grants.total_grants()

    def grant_by_sig(grantee: str) -> int:
        nonce = as_operator.grants.nonce_of(signer.address)
        deadline = now() + 3600
        terms = GrantTerms(signer_asset, grantee, h("purpose: research"), t - 60, t + 86400, 500, ZERO)
        sig = sign_grant(signer.key, grant_domain, asset_id=terms.asset_id, grantee=grantee, purpose=terms.purpose,
                         valid_from=terms.valid_from, expires_at=terms.expires_at, quota=terms.quota,
                         scope_root=ZERO, nonce=nonce, deadline=deadline)
        return gas(as_operator.grants.submit_grant_by_sig(terms, deadline, sig))

    first_ever["grant_by_sig (signer's first)"] = grant_by_sig(user.address)
    results["grant_by_sig"] = grant_by_sig(buyer.address)

    results["record_usage"] = gas(as_user.ledger.submit_record_usage(grant_id, 5, h("job-1")))
    results["trade_licence"] = trade(as_owner, licence(owner_asset, owner.address, "settle-licence"))
    results["trade_transfer"] = trade(as_owner, TradeTerms.transfer(owner_asset, owner.address, buyer.address,
                                                                    990_00, cny, h("settle-sale")))
    # The batch tree is built off chain: the on-chain cost does not depend on its content.
    anchor = gas(as_owner.registry.submit_anchor_batch(h("batch-of-1000"), 1000, h("batch-manifest")))
    results["anchor_batch_1000_per_member"] = round(anchor / 1000, 2)

    # Commit-reveal on a second set that requires commitments. Steady state: the registry has an
    # asset (warm's) and the owner has registered once before.
    committed = DatasealContracts.bind(w3, deploy_contracts(w3, operator, config=ContractConfig.with_commits()))
    as_warm_c, as_owner_c = (DatasealContracts.bind(w3, committed.deployment, s) for s in (warm, owner))
    salt = h("a secret salt")

    def commit(who: DatasealContracts, label: str) -> int:
        assert who.registry.sender is not None
        return gas(who.registry.submit_commit(who.registry.make_commitment(h(label), who.registry.sender.address,
                                                                           salt)))

    first_ever["commit (registry's first)"] = commit(as_warm_c, "c-warm")
    first_ever["commit (owner's first)"] = commit(as_owner_c, "c-root-1")
    results["commit"] = commit(as_owner_c, "c-root-2")
    tester.time_travel(now() + committed.registry.min_commit_age() + 1)
    first_ever["register_committed (registry's first)"] = gas(as_warm_c.registry.submit_register(reg("c-warm"), salt))
    first_ever["register_committed (owner's first)"] = gas(as_owner_c.registry.submit_register(reg("c-root-1"), salt))
    results["register_committed"] = gas(as_owner_c.registry.submit_register(reg("c-root-2"), salt))
    results["commit_plus_register_committed"] = results["commit"] + results["register_committed"]

    print(f"dataseal gas on py-evm (chain id {chain_id}); total transaction gas, steady state")
    print(f"{'operation':<34}{'gas':>10}{'target':>10}  ")
    failed = []
    for key, value in results.items():
        target = TARGETS.get(key)
        verdict = ""
        if target is not None:
            verdict = "ok" if value <= target else "OVER"
            if value > target:
                failed.append(key)
        print(f"{key:<34}{value:>10,}{(f'{target:,}' if target else ''):>10}  {verdict}")
    print(f"{'anchor_batch (1000 members, total)':<34}{anchor:>10,}")
    print("\nfirst use of a shared counter or of an account's slot (context, not targets):")
    for key, value in first_ever.items():
        print(f"  {key:<52}{value:>10,}")
    print(f"\nreference: an EAS attest of the same fields costs {EAS_ATTEST_SAME_FIELDS:,} "
          f"(register is {results['register'] / EAS_ATTEST_SAME_FIELDS:.2f}x of it)")
    if failed:
        print(f"over target: {', '.join(failed)}")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
