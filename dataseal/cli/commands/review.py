"""`dataseal review approve|reject|object ASSET`: object to a registration, or review it (a REVIEWER)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dataseal.cli.commands.cancel import report_change
from dataseal.cli.commands.register import open_registry
from dataseal.cli.options import ACCOUNT, CHAIN_ID, DATA_DIR, PASSWORD_FILE, RPC
from dataseal.cli.output import JSON
from dataseal.cli.prompt import TerminalPrompt
from dataseal.registry.evidence import EvidenceError
from dataseal.registry.services import status_changes


def review_command(
    action: Annotated[str, typer.Argument(metavar="ACTION", help="approve, reject or object.", show_default=False)],
    asset: Annotated[int, typer.Argument(metavar="ASSET", help="The asset reviewed.", show_default=False)],
    reason: str | None = typer.Option(None, "--reason", metavar="TEXT", help="Why (its keccak256 goes on chain)."),
    evidence: Annotated[Path | None, typer.Option(
        "--evidence", metavar="FILE", help="object: the evidence document (its keccak256 goes on chain).",
    )] = None,
    reserve_for: str | None = typer.Option(None, "--reserve-for", metavar="ADDRESS", help="reject: reserve the freed "
                                           "root for its true owner for the reservation period."),
    rpc: str | None = RPC,
    account: str | None = ACCOUNT,
    password_file: Path | None = PASSWORD_FILE,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Object to a registration in its notice period (anyone), or review it (a REVIEWER).

    object: the registration becomes Disputed and waits for a reviewer. reject: a pending, disputed or
    suspended registration (a dispute upheld), or a cancelled one whose root still cools; --reserve-for
    keeps the freed root for its true owner. approve: dismiss a dispute. A pending registration nobody
    objected to needs no approval: it becomes Active by itself when its notice ends. Rejecting an
    asset already rejected sends nothing, says so and exits 0 (--json: "alreadyDone": true).

    \b
    Examples:
      dataseal review object 7 --evidence my-earlier-copy.pdf
      dataseal review reject 7 --reason "copied from asset 3" --reserve-for 0xAbC...
      dataseal review approve 7 --reason "the objector's copy is later"
    """
    document = None
    if evidence is not None:
        document = _read_evidence(evidence)
    with open_registry(data_dir=data_dir, rpc=rpc, account=account, password_file=password_file,
                       chain_id=chain_id) as registry:
        done = status_changes.review(registry, action, asset, reason=reason, evidence=document, reserve_for=reserve_for,
                             passwords=[TerminalPrompt()])
    report_change(done, as_json)


def _read_evidence(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise EvidenceError(f"evidence file {path} does not exist", hint="check the path",
                            options=("evidence",)) from None
    except OSError as exc:
        raise EvidenceError(f"cannot read evidence file {path}: {exc.strerror or exc}",
                            hint="check that it is a file you can read", options=("evidence",)) from None


def register(app: typer.Typer) -> None:
    app.command("review")(review_command)


