"""`dataseal cancel ASSET`: cancel a registration (its owner)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dataseal.cli.commands.register import open_registry
from dataseal.cli.options import ACCOUNT, CHAIN_ID, DATA_DIR, PASSWORD_FILE, RPC
from dataseal.cli.output import JSON, emit
from dataseal.cli.prompt import TerminalPrompt
from dataseal.registry.services import status_changes
from dataseal.registry.services.status_changes import StatusChangeResult


def report_change(done: StatusChangeResult, as_json: bool) -> None:
    def human() -> None:
        tx = f" (tx {done.tx_hash}, block {done.block_number})" if done.tx_hash else ""
        if done.already_done:
            by = f"by tx {done.tx_hash}, block {done.block_number}" if done.tx_hash else "its transaction is not in " \
                "the node's logs"
            print(f"{done.action} asset {done.asset_id}: already {done.status} ({by}); nothing sent")
            return
        again = ", finishing an earlier run" if done.resumed else ""
        print(f"{done.action} asset {done.asset_id}: now {done.status}{tx}{again}")

    emit(done.to_json(), as_json, human)


def cancel_command(
    asset: Annotated[int, typer.Argument(metavar="ASSET", help="The asset to cancel.", show_default=False)],
    reason: str | None = typer.Option(None, "--reason", metavar="TEXT", help="Why (its keccak256 goes on chain)."),
    rpc: str | None = RPC,
    account: str | None = ACCOUNT,
    password_file: Path | None = PASSWORD_FILE,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Cancel your registration of ASSET. The record stays on chain.

    Cancelling gives up priority: the content root cools for the contract's cooldown (7 days), during
    which a reviewer may still strike the registration off, then goes to whoever registers it first.
    A suspended or disputed registration cannot be cancelled: it waits for a reviewer.

    Cancelling an asset that is already cancelled sends nothing, says so (with the transaction that
    cancelled it; --json: "already_done": true) and exits 0: the asset is in the state asked for, so a
    script may run the command again safely. After an interrupted run, the same command finishes it.

    \b
    Examples:
      dataseal cancel 7 --reason "registered the wrong file"
      dataseal cancel 7 --json
    """
    with open_registry(data_dir=data_dir, rpc=rpc, account=account, password_file=password_file,
                       chain_id=chain_id) as registry:
        done = status_changes.cancel(registry, asset, reason, passwords=[TerminalPrompt()])
    report_change(done, as_json)


def register(app: typer.Typer) -> None:
    app.command("cancel")(cancel_command)
