"""`dataseal deploy`: deploy the three contracts to a node and write the deployment record."""
from __future__ import annotations

from pathlib import Path

import typer
from eth_utils import is_address

from dataseal.cli.options import ACCOUNT, CHAIN_ID, DATA_DIR, PASSWORD_FILE, eth, settings
from dataseal.cli.output import JSON, emit, note
from dataseal.cli.prompt import TerminalPrompt
from dataseal.registry.context import Context, deploy_target


def deploy(
    rpc: str | None = typer.Option(
        None, "--rpc", help="JSON-RPC URL of the node to deploy to (http://, https://, ws://, wss://). "
        "Default: DATASEAL_RPC_URL.", show_default=False,
    ),
    account: str | None = ACCOUNT,
    password_file: Path | None = PASSWORD_FILE,
    review_mode: bool = typer.Option(
        False, "--review-mode",
        help="Registrations start Pending until a REVIEWER approves them (fixed at deployment).",
    ),
    admin: str | None = typer.Option(
        None, "--admin", help="Address that holds the admin role of the AssetRegistry (grants REVIEWER). "
        "Default: the deploying account.", show_default=False,
    ),
    base_token_uri: str = typer.Option("", "--base-token-uri", help="Base URI of the asset tokens' metadata."),
    force: bool = typer.Option(
        False, "--force", help="Deploy a new set even if the record already has live contracts on this chain.",
    ),
    chain_id: int | None = CHAIN_ID,
    confirmations: int | None = typer.Option(
        None, "--confirmations", help="Blocks to wait on top of each deployment transaction (default "
        "DATASEAL_CONFIRMATIONS or 0). Not waited for on the embedded chain: one block producer, no "
        "reorganisations, so a mined block is final.",
        show_default=False,
    ),
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Deploy AssetRegistry, GrantRegistry and TransactionLedger to a node, and record where they are.

    The account signs locally (its key never leaves this process) and pays for gas: about 6.5 million gas
    in all (three transactions). The record goes to <data-dir>/deployments.json under the node's chain id; every other
    command finds the contracts there. Deploying again to a chain that has live contracts needs --force.
    The embedded chain needs no deploy: `dataseal node` does it at its first start.

    \b
    Example (a local hardhat node, an account imported from its list):
      dataseal account import ./deployer.key --password-file ./pw.txt
      dataseal deploy --rpc http://127.0.0.1:8545 --password-file ./pw.txt --chain-id 31337
    """
    cfg = settings(rpc_url=rpc, account=account, password_file=password_file, chain_id=chain_id,
                   confirmations=confirmations, data_dir=data_dir)
    if admin is not None and not is_address(admin):
        raise typer.BadParameter(f"{admin!r} is not an address (0x followed by 40 hex digits)", param_hint="--admin")

    def starting(address: str, balance: int) -> None:
        note(f"deploying from {address} ({eth(balance)}) to chain {context.connection.chain_id} at "
             f"{context.connection.endpoint} ...")

    deploy_target(cfg)  # before connecting: without an RPC URL there is no node to deploy to
    with Context.open(cfg) as context:
        done = context.deploy(admin=admin, review_mode=review_mode, base_token_uri=base_token_uri, force=force,
                              passwords=[TerminalPrompt()], starting=starting)
    deployment, path, replaced = done.deployment, done.record, done.replaced

    def human() -> None:
        print(f"chain {deployment.chain_id}, block {deployment.deploy_block}")
        for name, address in deployment.addresses().items():
            print(f"{name:<18} {address}")
        note(f"recorded in {path}" + (f" (replacing the set at {replaced.asset_registry})" if replaced else ""))

    emit({"deployment": deployment.to_json(), "record": str(path),
          "replaced": replaced.to_json() if replaced else None}, as_json, human)


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy)
