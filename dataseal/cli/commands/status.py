"""`dataseal status`: which chain, which account and its balance, which contracts, whether they are live."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from dataseal.chain.accounts.keystore import KeystoreEntry
from dataseal.cli.errors import render
from dataseal.cli.options import ACCOUNT, CHAIN_ID, DATA_DIR, RPC, describe_config, eth, settings
from dataseal.cli.output import JSON, emit
from dataseal.registry.context import Context


def status(
    rpc: str | None = RPC,
    account: str | None = ACCOUNT,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Show the chain dataseal talks to, the account(s) and balances, and the deployed contracts with their
    deployment rules (notice period of review mode, commitments, admin handover delay).

    Checks that the node answers, that the deployment record has this chain, and that there is code at
    every recorded address. When something is wrong it still prints everything, then one error line
    saying what to do, and exits 1. No password needed.

    \b
    Examples:
      dataseal status                                   # the embedded chain of ./.dataseal
      dataseal status --rpc http://127.0.0.1:8545 --json
    """
    cfg = settings(rpc_url=rpc, account=account, chain_id=chain_id, data_dir=data_dir)
    with Context.open(cfg) as context:
        found = context.status()
    info, deployment, problems = found.chain, found.deployment, found.problems
    accounts = [_account(item.entry, item.balance_wei) for item in found.accounts]
    contracts = [c.to_json() for c in found.contracts]
    report = {
        "endpoint": found.endpoint,
        "chain": info.to_json(),
        "accounts": accounts,
        "deployment": deployment.to_json() if deployment else None,
        "contracts": contracts,
        "pre_v2": found.pre_v2,  # the contracts are those of a record from before contracts v2
        "record": str(found.record),
        "ok": found.ok,
        "problems": [render(p) for p in problems],  # as the CLI words them: with the commands and flags that help
    }

    def human() -> None:
        print(f"chain      {info.chain_id} at {found.endpoint} ({info.client_version})")
        fee = f", base fee {info.base_fee} wei" if info.base_fee is not None else ", no base fee (legacy gas price)"
        print(f"block      {info.latest_block}{fee}")
        for item in accounts:
            print(f"account    {item['address']}  {eth(item['balance_wei'])}")
        if deployment is not None:
            print(f"deployed   block {deployment.deploy_block} by {deployment.deployer}")
            print(f"rules      {describe_config(deployment.config)}")
        elif found.pre_v2:
            print("deployed   from before contracts v2 (this dataseal cannot use them)")
        if deployment is not None or found.pre_v2:
            marker = " (pre-v2)" if found.pre_v2 else ""
            for c in contracts:
                print(f"  {c['name']:<18} {c['address']}  {'code present' if c['deployed'] else 'NO CODE'}{marker}")

    emit(report, as_json, human)
    if problems:  # the report is out; now the one-line error (each problem with its advice) and exit status 1
        if len(problems) == 1:
            raise problems[0]
        print(f"dataseal: error: {'; and '.join(render(p) for p in problems)}", file=sys.stderr)
        raise typer.Exit(1)


def _account(entry: KeystoreEntry, balance: int) -> dict[str, Any]:
    return {"address": entry.address, "path": str(entry.path), "balance_wei": balance}


def register(app: typer.Typer) -> None:
    app.command("status")(status)
