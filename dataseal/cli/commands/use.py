"""`dataseal use`, `dataseal use-batch` and `dataseal receipt new`: write usage receipts and record them."""
from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Literal

import typer

from dataseal.chain.errors import NodeUnreachable
from dataseal.chain.files import open_output
from dataseal.cli.options import ACCOUNT, CHAIN_ID, DATA_DIR, PASSWORD_FILE, RPC, settings
from dataseal.cli.output import JSON, emit, note
from dataseal.cli.prompt import TerminalPrompt
from dataseal.registry.manifest import read_json
from dataseal.registry.receipts import ReceiptError
from dataseal.registry.registry import Registry
from dataseal.registry.scope import MAX_SCOPE_FILE_BYTES, ScopeError, ScopeProof, parse_ranges, read_scope_file
from dataseal.registry.services.grant_terms import compute_next_block_time, format_count, resolve_time
from dataseal.registry.services.usage import use, use_batch
from dataseal.registry.services.usage_receipts import draft_receipt

RECEIPT_HELP = ("A usage receipt (kind dataseal/usage-receipt, written by `dataseal receipt new`): its keccak256 "
                "is what the ledger records.")

RECEIPT = typer.Option(..., "--receipt", metavar="FILE", help=RECEIPT_HELP, show_default=False)
RECEIPTS = typer.Option(..., "--receipts", metavar="DIR", help="Folder of receipt files (*.json).", show_default=False)
PROOFS = typer.Option(None, "--proofs", metavar="DIR", show_default=False,
                      help="Also write each receipt's proof of membership in the batch here (<receipt hash>.json), for "
                      "auditors.")
RESULT = typer.Option(None, "--result", metavar="FILE", help="The job's result; the receipt carries its SHA-256.",
                      show_default=False)
SCOPE = typer.Option(None, "--scope", metavar="FILE", show_default=False,
                     help="The grant's scope file (the indexes it was made with), when this data folder did not make "
                     "the grant: checked against the grant's scope root, then kept.")
TOUCHED = typer.Option(None, "--touched", metavar="LIST", show_default=False,
                       help="The indexes a --private receipt touched (as receipt new's --rows: 0-999,1500 or @FILE), "
                       "when this data folder did not write it: checked against the receipt's root, then against "
                       "the grant's scope.")
SCOPE_PROOF = typer.Option(None, "--scope-proof", metavar="FILE", show_default=False,
                           help="A multiproof (JSON: scopeRoot, indexes, proof, proofFlags) that the touched indexes "
                           "are inside the grant's scope, instead of --scope.")
RECEIPT_OUT = typer.Option(..., "-o", "--out", metavar="FILE", help="Where to write the receipt.", show_default=False)

def use_command(
    grant_id: int = typer.Argument(..., metavar="GRANT", help="The grant the job ran under.", show_default=False),
    units: int = typer.Option(..., "--units", metavar="N", help="Units used (must be the receipt's).",
                              show_default=False),
    receipt: Path = RECEIPT,
    touched: str | None = TOUCHED,
    scope: Path | None = SCOPE,
    scope_proof: Path | None = SCOPE_PROOF,
    rpc: str | None = RPC,
    account: str | None = ACCOUNT,
    password_file: Path | None = PASSWORD_FILE,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Record N units used under grant GRANT for the job of a receipt. The grantee (or an operator it gave the
    USAGE power) signs.

    Refused before anything is sent: a receipt of another grant, chain or purpose, units that are not the
    receipt's, a grant revoked, not yet open or expired (by the chain's clock), or without the units left, a job
    that ran outside the grant's window, indexes beyond the asset or outside the grant's scope, and a receipt
    recorded already in a batch by this data folder (a batch commits only its root: one recorded from another
    database is found by `dataseal audit --receipts`, given the receipts). On a grant with a scope, the touched
    indexes are checked against it: a --private receipt needs its indexes (kept by `receipt new` in its data
    folder, or --touched), and a data folder that did not make the grant needs --scope (or --scope-proof).
    A receipt is recorded once: running the command again finds it on chain and sends nothing.

    \b
    Examples:
      dataseal receipt new 3 --job train-42 --rows 0-999 --units 10 --result model.bin -o r-42.json
      dataseal use 3 --units 10 --receipt r-42.json
      dataseal use 3 --units 1 --receipt q-7.json --touched @touched.txt --scope scope.txt
    """
    revealed = _indexes(touched, "--touched") if touched is not None else None
    proof = _scope_proof(scope_proof) if scope_proof is not None else None
    cfg = settings(rpc_url=rpc, account=account, password_file=password_file, chain_id=chain_id, data_dir=data_dir)
    with Registry.open(cfg) as registry:
        done = use(registry, grant_id, units, receipt, touched=revealed, scope=scope, scope_proof=proof,
                   passwords=[TerminalPrompt()])
    record = done.record

    def human() -> None:
        verb = "was already recorded" if done.already_recorded else "recorded"
        print(f"receipt {done.receipt.hash_hex} {verb} under grant {record.grant_id}: "
              f"{format_count(record.units, 'unit')}, sequence {record.sequence}")
        print(f"tx       {record.tx.tx_hash} (block {record.tx.block_number})")

    emit(done.to_json(), as_json, human)


def use_batch_command(
    grant_id: int = typer.Argument(..., metavar="GRANT", help="The grant the jobs ran under.", show_default=False),
    receipts: Path = RECEIPTS,
    proofs: Path | None = PROOFS,
    scope: Path | None = SCOPE,
    rpc: str | None = RPC,
    account: str | None = ACCOUNT,
    password_file: Path | None = PASSWORD_FILE,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Record the receipts of many jobs under grant GRANT in one transaction: their units added up, committed by
    the Merkle root of their hashes (StandardMerkleTree, leaf encoding ["bytes32"]).

    The same checks as `dataseal use`, for every receipt; a receipt already recorded (alone, or in another batch
    recorded from this data folder) is refused, and running the command again for the same receipts sends
    nothing. The indexes of --private receipts are those `receipt new` kept in this data folder.

    \b
    Examples:
      dataseal use-batch 3 --receipts ./receipts/2026-03 --proofs ./proofs/2026-03
      dataseal use-batch 3 --receipts ./receipts/2026-03 --scope scope.txt
    """
    cfg = settings(rpc_url=rpc, account=account, password_file=password_file, chain_id=chain_id, data_dir=data_dir)
    with Registry.open(cfg) as registry:
        done = use_batch(registry, grant_id, receipts, scope=scope, passwords=[TerminalPrompt()])
    if proofs is not None:
        proofs.mkdir(parents=True, exist_ok=True)
        for one in done.batch.receipts:
            with open_output(proofs / f"{one.hash_hex}.json", replace=True, what="batch proof") as out:
                out.write(done.batch.proof(one).model_dump_json(by_alias=True, indent=2).encode() + b"\n")
    record = done.record

    def human() -> None:
        verb = "was already recorded" if done.already_recorded else "recorded"
        print(f"batch {done.batch.root_hex} of {format_count(len(done.batch), 'receipt')} {verb} under grant "
              f"{record.grant_id}: {format_count(record.units, 'unit')}, sequence {record.sequence}")
        print(f"tx       {record.tx.tx_hash} (block {record.tx.block_number})")
        if proofs is not None:
            note(f"membership proofs in {proofs}")

    emit(done.to_json(), as_json, human)

receipt_app = typer.Typer(name="receipt", help="Write usage receipts (the documents `dataseal use` records).",
                          no_args_is_help=True, rich_markup_mode=None)


@receipt_app.command("new")
def receipt_new(
    grant_id: int = typer.Argument(..., metavar="GRANT", help="The grant the job ran under.", show_default=False),
    job: str = typer.Option(..., "--job", metavar="ID", help="The job's, query's or run's own id.",
                            show_default=False),
    rows: str | None = typer.Option(None, "--rows", metavar="LIST", help="Rows touched: 0-999,1500 (indexes and "
                                    "inclusive ranges) or @FILE (a scope file's forms).", show_default=False),
    chunks: str | None = typer.Option(None, "--chunks", metavar="LIST", help="Chunks touched (as --rows).",
                                      show_default=False),
    files: str | None = typer.Option(None, "--files", metavar="LIST", help="Files touched, by their index in the "
                                     "folder's leaf order (as --rows).", show_default=False),
    units: int = typer.Option(..., "--units", metavar="N", help="Usage units the job used.", show_default=False),
    started: str | None = typer.Option(None, "--started", metavar="WHEN", help="When the job started: now, an ISO "
                                       "date-time or Unix seconds. Default: --ended.", show_default=False),
    ended: str = typer.Option("now", "--ended", metavar="WHEN", help="When the job ended (default: now, the chain's "
                              "time, which grants are opened and closed by; this machine's clock when the chain "
                              "cannot be reached)."),
    result: Path | None = RESULT,
    result_hash: str | None = typer.Option(None, "--result-hash", metavar="HEX", help="The result's hash, when "
                                           "the result is not at hand (0x + 64 hex digits).", show_default=False),
    purpose: str | None = typer.Option(None, "--purpose", metavar="TEXT", help="The grant's purpose text. Needed "
                                       "when this data folder did not make the grant; checked against the grant's "
                                       "purpose hash.", show_default=False),
    private: bool = typer.Option(False, "--private", help="Write only the root and count of the touched indexes, "
                                 "not the indexes (they are kept in this data folder, for `dataseal use` to check "
                                 "them against the grant's scope, and can be revealed to an auditor later)."),
    scope: Path | None = SCOPE,
    out: Path = RECEIPT_OUT,
    force: bool = typer.Option(False, "--force", help="Replace FILE if it exists."),
    rpc: str | None = RPC,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Write the usage receipt of a job under grant GRANT (no transaction; no password).

    The chain id, GrantRegistry and purpose come from the grant on chain; exactly one of --rows, --chunks and
    --files says what the job touched (indexes of the asset's leaves). Times are UTC. The receipt is checked as
    `dataseal use` checks it (the grant neither revoked nor expired and with the units left, the job inside the
    grant's window, the indexes inside the asset and the grant's scope), so that what is written here is not
    refused later. When the node cannot be reached, the receipt is
    written unchecked from the data folder's deployment record (give --purpose), with a warning. Record the
    receipt with `dataseal use GRANT --units N --receipt FILE`, or many at once with `dataseal use-batch`.

    \b
    Examples:
      dataseal receipt new 3 --job train-42 --rows 0-999 --units 10 --result model.bin -o r-42.json
      dataseal receipt new 3 --job q-7 --chunks @touched.txt --units 1 --result-hash 0x5e... --private -o q-7.json
    """
    given = [(unit, spec) for unit, spec in (("row", rows), ("chunk", chunks), ("file", files)) if spec is not None]
    if len(given) != 1:
        raise typer.BadParameter("give exactly one of --rows, --chunks and --files", param_hint="--rows")
    unit, spec = given[0]
    indexes = _indexes(spec, f"--{unit}s")
    if (result is None) == (result_hash is None):
        raise typer.BadParameter("give one of --result FILE and --result-hash HEX", param_hint="--result")
    if result is not None:
        try:
            digest = "0x" + hashlib.sha256(result.read_bytes()).hexdigest()
        except OSError as exc:
            raise ReceiptError(f"cannot read the result file {result}: {exc.strerror or exc}",
                               hint="check the path") from None
    else:
        digest = str(result_hash)
    cfg = settings(rpc_url=rpc, chain_id=chain_id, data_dir=data_dir)
    with Registry.open(cfg) as registry:
        now = _chain_now(registry)
        end = resolve_time(ended, now, "ended")
        start = resolve_time(started, now, "started") if started is not None else end
        draft = draft_receipt(registry, grant_id, job, unit=_unit(unit), indexes=indexes, started_at=start,
                              ended_at=end, units=units, result_hash=digest, purpose=purpose,
                              disclose_indexes=not private, scope=scope)
    made = draft.receipt
    with open_output(out, replace=force, what="receipt file", options=("out",)) as stream:
        stream.write(made.to_text().encode("utf-8"))

    if not draft.checked:
        note(f"warning: the receipt was not checked against grant {grant_id} (the chain could not be reached: "
             f"{draft.unchecked}); `dataseal use` checks it before recording")

    def human() -> None:
        print(f"receipt {made.hash_hex} written to {out}")
        note(f"record it: dataseal use {grant_id} --units {made.units} --receipt {out}")

    emit({"receipt_hash": made.hash_hex, "path": str(out), "receipt": made.to_json_data(), "checked": draft.checked,
          "unchecked": draft.unchecked}, as_json, human)


def _indexes(spec: str, flag: str) -> tuple[int, ...]:
    """Indexes given on the command line: 0-999,1500, or @FILE (a scope file's forms)."""
    return read_scope_file(Path(spec[1:])) if spec.startswith("@") else parse_ranges(spec, flag)


def _scope_proof(path: Path) -> ScopeProof:
    data = read_json(path, "scope proof", ScopeError, limit=MAX_SCOPE_FILE_BYTES)
    return ScopeProof.from_json_data(data, where=f"the scope proof {path}")


def _unit(name: str) -> Literal["row", "chunk", "file"]:
    return "row" if name == "row" else "chunk" if name == "chunk" else "file"


def register(app: typer.Typer) -> None:
    app.command("use")(use_command)
    app.command("use-batch")(use_batch_command)
    app.add_typer(receipt_app)


def _chain_now(registry: Registry) -> int:
    """Now as the grant's window is measured: the chain's next block time (a node that mined a burst of blocks runs
    ahead of this machine's clock, and a receipt stamped by the clock would fall before a grant made "now"); this
    machine's clock when the chain cannot be reached (the receipt is then written unchecked)."""
    try:
        return compute_next_block_time(registry)
    except NodeUnreachable:
        return int(time.time())
