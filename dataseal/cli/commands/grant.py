"""`dataseal grant`: authorise an account to use an asset for a purpose, in a window, up to a quota."""
from __future__ import annotations

from pathlib import Path

import typer

from dataseal.chain.contracts.revert import format_time
from dataseal.cli.options import ACCOUNT, CHAIN_ID, DATA_DIR, PASSWORD_FILE, RPC, settings
from dataseal.cli.output import JSON, emit, note
from dataseal.cli.prompt import TerminalPrompt
from dataseal.registry.registry import Registry
from dataseal.registry.services.grant_terms import format_count
from dataseal.registry.services.grants import grant

WHEN_HELP = ("now, an ISO date or date-time (2026-03-01, 2026-03-01T12:00:00+08:00; UTC unless a zone is given), "
             "Unix seconds, or a duration (30d, 12h, 90m, 45s, 2w)")

SCOPE = typer.Option(
    None, "--scope", metavar="FILE", help="Limit the grant to these rows, chunks or files: a JSON array of indexes "
    "and \"FIRST-LAST\" ranges, or text with one index or range per line (# comments). The chain records their "
    "Merkle root (StandardMerkleTree, leaf encoding [\"uint256\"]). Default: the whole asset.", show_default=False,
)

def grant_command(
    asset: int = typer.Argument(..., metavar="ASSET", help="The asset's id.", show_default=False),
    grantee: str = typer.Argument(..., metavar="GRANTEE", help="The account granted the use (0x address).",
                                  show_default=False),
    purpose: str = typer.Option(
        ..., "--purpose", metavar="TEXT", help="What the data may be used for (用途). The chain records its keccak256 "
        "(UTF-8), a bytes32; the text is kept in this registry's database, and usage receipts must state it exactly.",
        show_default=False,
    ),
    valid_from: str = typer.Option("now", "--from", metavar="WHEN", help=f"Start of the window: {WHEN_HELP}; now "
                                   "is the time the next block will carry (what the chain checks the window against, "
                                   "not the last block's time), and a duration counts from it."),
    until: str = typer.Option(..., "--until", metavar="WHEN", help=f"End of the window (exclusive): {WHEN_HELP}; a "
                              "duration counts from the start of the window.", show_default=False),
    quota: int = typer.Option(..., "--quota", metavar="N", help="Usage units allowed in total (1 or more).",
                              show_default=False),
    scope: Path | None = SCOPE,
    request: str | None = typer.Option(
        None, "--request", metavar="ID", help="Name this request (an order or ticket number): the same terms with the "
        "same ID always give the same grant. Without it, running the command again after a crash finishes the grant "
        "it started; once that grant is made, the same command makes a new one.", show_default=False,
    ),
    rpc: str | None = RPC,
    account: str | None = ACCOUNT,
    password_file: Path | None = PASSWORD_FILE,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Grant GRANTEE the use of asset ASSET for a purpose, from --from until --until, up to --quota units.

    The signing account must own the asset, and the asset must be Active. Everything the chain would refuse
    (not the owner, an empty or past window, a quota of 0) is refused before anything is sent; a window is
    checked, as the chain checks it, against the time the next block will carry. A --scope index beyond the
    asset's rows, chunks or files is refused too (checked when this data folder registered the asset or holds
    its manifest; otherwise a warning says it was not checked). If the command
    is interrupted, run it again as it was: it finishes the same grant, never a second one. The grantee
    records each use with `dataseal use`; the owner can end the grant early with `dataseal revoke`.

    \b
    Examples:
      dataseal grant 1 0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B --purpose "credit scoring model training" \\
        --until 90d --quota 1000
      dataseal grant 1 0xAb58... --purpose "fraud model evaluation" --from 2026-03-01 --until 2026-06-01 \\
        --quota 50 --scope rows-2024.txt --json
      dataseal grant 1 0xAb58... --purpose "reporting" --until 30d --quota 10 --request order-2026-017
    """
    cfg = settings(rpc_url=rpc, account=account, password_file=password_file, chain_id=chain_id, data_dir=data_dir)
    with Registry.open(cfg) as registry:
        done = grant(registry, asset, grantee, purpose, valid_from, until, quota, scope, request=request,
                     passwords=[TerminalPrompt()])
    record = done.grant

    def human() -> None:
        made = " (finished from an earlier run)" if done.resumed else ""
        print(f"grant {record.grant_id} of asset {record.asset_id} to {record.grantee}{made}")
        print(f"purpose  {done.purpose!r} (keccak256 0x{record.purpose.hex()})")
        print(f"window   {format_time(record.valid_from)} .. {format_time(record.expires_at)}")
        print(f"quota    {format_count(record.quota, 'unit')}")
        if done.scope is not None:
            print(f"scope    {format_count(len(done.scope), 'index')}, root {done.scope.root_hex}")
        print(f"tx       {record.tx.tx_hash} (block {record.tx.block_number})")

    if done.scope_unchecked is not None:
        note(f"warning: {done.scope_unchecked}")
    emit(done.to_json(), as_json, human)


def register(app: typer.Typer) -> None:
    app.command("grant")(grant_command)
