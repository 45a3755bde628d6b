"""`dataseal review ...`: object to a registration; review it (a REVIEWER: approve, reject, suspend, reinstate); list
what waits (`pending`); appoint and remove reviewers (the admin: `reviewers add|remove|list`)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dataseal.chain.contracts.revert import format_time
from dataseal.cli.commands.cancel import report_change
from dataseal.cli.commands.register import open_registry
from dataseal.cli.options import ACCOUNT, CHAIN_ID, DATA_DIR, PASSWORD_FILE, RPC
from dataseal.cli.output import JSON, emit
from dataseal.cli.prompt import TerminalPrompt
from dataseal.registry.evidence import EvidenceError
from dataseal.registry.services import status_changes
from dataseal.registry.services.status_changes import ReviewerChangeResult

review_app = typer.Typer(
    name="review", no_args_is_help=True, rich_markup_mode=None,
    help="""Review registrations: anyone objects during a registration's notice period; a REVIEWER approves
    (dismisses a dispute), rejects, suspends or reinstates; the AssetRegistry's admin appoints reviewers.

    Every write, if interrupted, is finished by running the same command again (never sent twice). Rejecting or
    suspending an asset already so, reinstating one whose last reinstatement was this data folder's, or adding
    (removing) a reviewer who already is (is not) one, sends nothing, says so and exits 0 (--json:
    "already_done": true).

    \b
    Examples:
      dataseal review reviewers add 0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B
      dataseal review pending --json
      dataseal review object 7 --evidence my-earlier-copy.pdf
      dataseal review reject 7 --reason "copied from asset 3" --reserve-for 0xAbC...
      dataseal review suspend 7 --reason "ownership disputed in court"
      dataseal review reinstate 7 --reason "dispute settled"
    """,
)

ASSET = typer.Argument(..., metavar="ASSET", help="The asset reviewed.", show_default=False)
REASON = typer.Option(None, "--reason", metavar="TEXT", help="Why (its keccak256 goes on chain).")
ADDRESS = typer.Argument(..., metavar="ADDRESS", help="The reviewer's account (0x address).", show_default=False)


def _review(action: str, asset: int, reason: str | None, evidence: Path | None, reserve_for: str | None,
            rpc: str | None, account: str | None, password_file: Path | None, chain_id: int | None,
            data_dir: Path | None, as_json: bool) -> None:
    document = _read_evidence(evidence) if evidence is not None else None
    with open_registry(data_dir=data_dir, rpc=rpc, account=account, password_file=password_file,
                       chain_id=chain_id) as registry:
        done = status_changes.review(registry, action, asset, reason=reason, evidence=document,
                                     reserve_for=reserve_for, passwords=[TerminalPrompt()])
    report_change(done, as_json)


@review_app.command("object")
def object_command(
    asset: int = ASSET,
    evidence: Annotated[Path | None, typer.Option(
        "--evidence", metavar="FILE", help="The evidence document (its keccak256 goes on chain).",
    )] = None,
    reason: str | None = typer.Option(None, "--reason", metavar="TEXT",
                                      help="The evidence as text, when there is no document."),
    rpc: str | None = RPC,
    account: str | None = ACCOUNT,
    password_file: Path | None = PASSWORD_FILE,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Object to registration ASSET during its notice period (anyone): it becomes Disputed and waits for a
    reviewer.

    \b
    Examples:
      dataseal review object 7 --evidence my-earlier-copy.pdf
      dataseal review object 7 --reason "I registered this survey in 2023" --json
    """
    _review("object", asset, reason, evidence, None, rpc, account, password_file, chain_id, data_dir, as_json)


@review_app.command("approve")
def approve_command(
    asset: int = ASSET,
    reason: str | None = REASON,
    rpc: str | None = RPC,
    account: str | None = ACCOUNT,
    password_file: Path | None = PASSWORD_FILE,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Dismiss the dispute of registration ASSET (a REVIEWER). A pending registration nobody objected to needs
    no approval: it becomes Active by itself when its notice ends.

    \b
    Examples:
      dataseal review approve 7 --reason "the objector's copy is later"
      dataseal review approve 7 --json
    """
    _review("approve", asset, reason, None, None, rpc, account, password_file, chain_id, data_dir, as_json)


@review_app.command("reject")
def reject_command(
    asset: int = ASSET,
    reason: str | None = REASON,
    reserve_for: str | None = typer.Option(None, "--reserve-for", metavar="ADDRESS", help="Reserve the freed root "
                                           "for its true owner for the reservation period."),
    rpc: str | None = RPC,
    account: str | None = ACCOUNT,
    password_file: Path | None = PASSWORD_FILE,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Reject registration ASSET (a REVIEWER): a pending, disputed (the dispute upheld) or suspended one, or a
    cancelled one whose root still cools. Its content root is freed, or kept for --reserve-for.

    \b
    Examples:
      dataseal review reject 7 --reason "copied from asset 3" --reserve-for 0xAbC...
      dataseal review reject 7 --json
    """
    _review("reject", asset, reason, None, reserve_for, rpc, account, password_file, chain_id, data_dir, as_json)


@review_app.command("suspend")
def suspend_command(
    asset: int = ASSET,
    reason: str | None = REASON,
    rpc: str | None = RPC,
    account: str | None = ACCOUNT,
    password_file: Path | None = PASSWORD_FILE,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Suspend registration ASSET (a REVIEWER): an Active or Expired asset is frozen (no grants, uses,
    transfers or cancellation) until a reviewer reinstates or rejects it.

    \b
    Examples:
      dataseal review suspend 7 --reason "ownership disputed in court"
      dataseal review suspend 7 --json
    """
    with open_registry(data_dir=data_dir, rpc=rpc, account=account, password_file=password_file,
                       chain_id=chain_id) as registry:
        done = status_changes.suspend(registry, asset, reason, passwords=[TerminalPrompt()])
    report_change(done, as_json)


@review_app.command("reinstate")
def reinstate_command(
    asset: int = ASSET,
    reason: str | None = REASON,
    rpc: str | None = RPC,
    account: str | None = ACCOUNT,
    password_file: Path | None = PASSWORD_FILE,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Reinstate suspended registration ASSET (a REVIEWER): it is Active again.

    \b
    Examples:
      dataseal review reinstate 7 --reason "dispute settled"
      dataseal review reinstate 7 --json
    """
    with open_registry(data_dir=data_dir, rpc=rpc, account=account, password_file=password_file,
                       chain_id=chain_id) as registry:
        done = status_changes.reinstate(registry, asset, reason, passwords=[TerminalPrompt()])
    report_change(done, as_json)


@review_app.command("pending")
def pending_command(
    rpc: str | None = RPC,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """List the registrations that wait: Pending (in their notice period, open to objections), Disputed
    (for a reviewer to approve or reject) and Suspended (to reinstate or reject). Read from the chain's
    logs; nothing is signed.

    \b
    Examples:
      dataseal review pending
      dataseal review pending --json
    """
    with open_registry(data_dir=data_dir, rpc=rpc, chain_id=chain_id) as registry:
        waiting = status_changes.pending_reviews(registry)

    def human() -> None:
        if not waiting:
            print("nothing waits: no registration is pending, disputed or suspended")
        for entry in waiting:
            print(f"asset {entry.asset_id}  {entry.status:<9}  owner {entry.owner}  registered "
                  f"{format_time(entry.registered_at)}  waits for {entry.waits_for}")

    emit([entry.to_json() for entry in waiting], as_json, human)


reviewers_app = typer.Typer(
    name="reviewers", no_args_is_help=True, rich_markup_mode=None,
    help="""Appoint and remove reviewers (the AssetRegistry's admin), or list them.

    \b
    Examples:
      dataseal review reviewers add 0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B
      dataseal review reviewers remove 0xAb58... --json
      dataseal review reviewers list
    """,
)
review_app.add_typer(reviewers_app)


def _report_reviewer(done: ReviewerChangeResult, as_json: bool) -> None:
    def human() -> None:
        holds = "a reviewer" if done.reviewer else "no reviewer"
        if done.already_done:
            by = f" (by tx {done.tx_hash}, block {done.block_number})" if done.tx_hash else ""
            print(f"{done.account} is already {holds}{by}; nothing sent")
            return
        again = ", finishing an earlier run" if done.resumed else ""
        tx = f" (tx {done.tx_hash}, block {done.block_number})" if done.tx_hash else ""
        print(f"{done.account} is now {holds}{tx}{again}")

    emit(done.to_json(), as_json, human)


@reviewers_app.command("add")
def add_command(
    address: str = ADDRESS,
    rpc: str | None = RPC,
    account: str | None = ACCOUNT,
    password_file: Path | None = PASSWORD_FILE,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Give ADDRESS the REVIEWER role (signed by the AssetRegistry's admin, the deployer unless handed over).

    \b
    Examples:
      dataseal review reviewers add 0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B
      dataseal review reviewers add 0xAb58... --account 0xAdmin... --json
    """
    with open_registry(data_dir=data_dir, rpc=rpc, account=account, password_file=password_file,
                       chain_id=chain_id) as registry:
        done = status_changes.add_reviewer(registry, address, passwords=[TerminalPrompt()])
    _report_reviewer(done, as_json)


@reviewers_app.command("remove")
def remove_command(
    address: str = ADDRESS,
    rpc: str | None = RPC,
    account: str | None = ACCOUNT,
    password_file: Path | None = PASSWORD_FILE,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Take the REVIEWER role from ADDRESS (signed by the AssetRegistry's admin).

    \b
    Examples:
      dataseal review reviewers remove 0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B
      dataseal review reviewers remove 0xAb58... --json
    """
    with open_registry(data_dir=data_dir, rpc=rpc, account=account, password_file=password_file,
                       chain_id=chain_id) as registry:
        done = status_changes.remove_reviewer(registry, address, passwords=[TerminalPrompt()])
    _report_reviewer(done, as_json)


@reviewers_app.command("list")
def list_command(
    rpc: str | None = RPC,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """List the accounts that hold the REVIEWER role now (read from the chain; nothing is signed).

    \b
    Examples:
      dataseal review reviewers list
      dataseal review reviewers list --json
    """
    with open_registry(data_dir=data_dir, rpc=rpc, chain_id=chain_id) as registry:
        reviewers = status_changes.list_reviewers(registry)

    def human() -> None:
        print("\n".join(reviewers) if reviewers else "no reviewers: the admin appoints them")

    emit({"reviewers": reviewers}, as_json, human)


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
    app.add_typer(review_app)
