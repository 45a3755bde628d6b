"""`dataseal revoke`: end a grant before its window closes."""
from __future__ import annotations

from pathlib import Path

import typer

from dataseal.cli.options import ACCOUNT, CHAIN_ID, DATA_DIR, PASSWORD_FILE, RPC, settings
from dataseal.cli.output import JSON, emit
from dataseal.cli.prompt import TerminalPrompt
from dataseal.registry.registry import Registry
from dataseal.registry.services.grants import revoke


def revoke_command(
    grant_id: int = typer.Argument(..., metavar="GRANT", help="The grant's id.", show_default=False),
    reason: str | None = typer.Option(None, "--reason", metavar="TEXT", help="Why; the chain records its keccak256.",
                                      show_default=False),
    rpc: str | None = RPC,
    account: str | None = ACCOUNT,
    password_file: Path | None = PASSWORD_FILE,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Revoke grant GRANT: no more usage can be recorded under it. The asset's current owner signs.

    Revoking a grant that is already revoked sends nothing, says so (with the transaction that revoked it;
    --json: "already_done": true) and exits 0, so a script may run the command again safely. After an
    interrupted run, the same command finishes it.

    \b
    Examples:
      dataseal revoke 3 --reason "contract ended early"
      dataseal revoke 3 --json
    """
    cfg = settings(rpc_url=rpc, account=account, password_file=password_file, chain_id=chain_id, data_dir=data_dir)
    with Registry.open(cfg) as registry:
        done = revoke(registry, grant_id, reason, passwords=[TerminalPrompt()])

    def human() -> None:
        tx = f"tx {done.tx.tx_hash}, block {done.tx.block_number}"
        if done.already_done:
            print(f"revoke grant {done.grant_id} of asset {done.asset_id}: already revoked by {done.by} ({tx}); "
                  "nothing sent")
        else:
            again = ", finishing an earlier run" if done.resumed else ""
            print(f"grant {done.grant_id} of asset {done.asset_id} revoked by {done.by}{again}")
            print(f"tx       {done.tx.tx_hash} (block {done.tx.block_number})")
        if done.reason is not None:
            print(f"reason   {done.reason!r}")
        elif done.reason_hash != bytes(32):
            print(f"reason   keccak256 0x{done.reason_hash.hex()} (its text is not known here)")

    emit(done.to_json(), as_json, human)


def register(app: typer.Typer) -> None:
    app.command("revoke")(revoke_command)
