"""`dataseal audit ASSET|ADDRESS`: the trail of an asset or an account, exported or checked against the chain."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dataseal.chain.files import check_output
from dataseal.cli.options import CHAIN_ID, DATA_DIR, RPC, settings
from dataseal.cli.output import JSON, emit, note
from dataseal.registry.audit import (
    DEFAULT_PAGE,
    AssetSubject,
    TrailDifferences,
    TrailPage,
    collect_trail,
    compute_csv,
    compute_prov,
    parse_cursor,
    parse_subject,
    verify_trail_differences,
)
from dataseal.registry.audit.service import audit_page, chain_source, compute_audit_differences
from dataseal.registry.registry import Registry
from dataseal.registry.sealing.atomic import atomic_writer

if TYPE_CHECKING:
    from dataseal.registry.audit.receipts import ReceiptCheck

FORMATS = ("json", "csv", "prov")


def audit_command(
    subject_text: Annotated[str, typer.Argument(
        metavar="ASSET|ADDRESS", help="An asset id (e.g. 7) or an account address (0x and 40 hex digits).",
        show_default=False,
    )],
    export_format: str | None = typer.Option(
        None, "--format", metavar="FORMAT", help="Export the page as json (entries and the next cursor), csv (one "
        "row per entry, stable columns) or prov (W3C PROV-JSON: datasets and their versions, registrations, grants, "
        "usage and trades, accounts). Default without -o: lines for people.", show_default=False,
    ),
    out: Annotated[Path | None, typer.Option(
        "-o", "--out", metavar="FILE", help="Write the export to FILE (atomically) instead of stdout; the format "
        "defaults to json.", show_default=False,
    )] = None,
    force: bool = typer.Option(False, "--force", help="Replace FILE if it exists (never a read-only file or a link)."),
    verify: bool = typer.Option(
        False, "--verify", help="Also recompute the whole trail from the chain's logs (eth_getLogs, no database) and "
        "compare: every missing, extra or changed entry, and gaps in each grant's usage sequence numbers. Exits 1 "
        "on any difference.",
    ),
    receipts_dir: Annotated[Path | None, typer.Option(
        "--receipts", metavar="DIR", help="Also check the usage receipts (*.json) in DIR against the asset's whole "
        "trail: each recorded under its own grant (singly, or in a batch whose receipts are all in DIR), with its "
        "units and purpose, its rows inside the grant's scope. Exits 1 on any mismatch.", show_default=False,
    )] = None,
    scope_files: Annotated[list[Path] | None, typer.Option(
        "--scope", metavar="FILE", help="A scope file of a scoped grant (the indexes it covers, as given to `dataseal "
        "grant --scope`), so that --receipts can prove the touched rows are inside it. Repeatable.",
        show_default=False,
    )] = None,
    limit: int = typer.Option(DEFAULT_PAGE, "--limit", metavar="N", help="Entries per page (1 to 100,000)."),
    after: str | None = typer.Option(
        None, "--after", metavar="CURSOR", help="Start after this BLOCK:LOG cursor (the `next` a page printed).",
        show_default=False,
    ),
    rpc: str | None = RPC,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Show what happened to an asset or an account, in chain order, with block, log index, transaction and time.

    An asset's trail: registration, notice and objections, review decisions, cancellation and suspension,
    renewals, versions and derived assets, transfers, grants, revocations, the usage recorded under its
    grants, trades and root reservations. An account's trail: every event naming it (as registrant, grantee,
    recorder, seller, buyer, ...). Trails come in pages (--limit) that end with the cursor the next page
    starts --after. They are read from the chain's logs; no password is needed.

    \b
    Examples:
      dataseal audit 7                                  # asset 7, for people
      dataseal audit 7 --format csv -o asset7.csv
      dataseal audit 7 --format prov -o asset7.prov.json
      dataseal audit 0x5B38Da6a701c568545dCfcB03FcB875f56beddC4 --limit 50 --after 1042:3 --json
      dataseal audit 7 --verify                         # compare with a recomputation from eth_getLogs
    """
    subject = parse_subject(subject_text)
    cursor = parse_cursor(after) if after is not None else None
    if export_format is not None and export_format not in FORMATS:
        raise typer.BadParameter(f"{export_format!r} is not an export format: give json, csv or prov",
                                 param_hint="--format")
    if as_json and out is None and export_format not in (None, "json"):
        raise typer.BadParameter(f"--json prints a JSON report, and a {export_format} export needs a file: add "
                                 "-o FILE (or drop --json to print the export)", param_hint="--json")
    if receipts_dir is not None and not isinstance(subject, AssetSubject):
        raise typer.BadParameter("receipts are checked against an asset's trail: give an asset id",
                                 param_hint="--receipts")
    if out is not None:
        check_output(out, replace=force, options=("out",))  # before the chain is read, not after
    cfg = settings(rpc_url=rpc, chain_id=chain_id, data_dir=data_dir)
    with Registry.open(cfg) as registry:
        page = audit_page(registry, subject, after=cursor, limit=limit)
        differences = compute_audit_differences(registry, subject) if verify else None
        deployment = registry.context.deployment()
        checks = (_check_receipts(registry, subject, receipts_dir, scope_files or [])
                  if receipts_dir is not None and isinstance(subject, AssetSubject) else None)
    fmt = export_format or "json"
    if out is not None:
        with atomic_writer(out, replace=force, options=("out",)) as f:
            f.write(_export(page, fmt, deployment.chain_id, deployment.asset_registry))
    elif export_format is not None:  # the export is the output; the check's lines go to stderr
        sys.stdout.write(_export(page, fmt, deployment.chain_id, deployment.asset_registry))
        if differences is not None:
            for line in _describe_differences(differences):
                note(line)
            verify_trail_differences(differences)
        if checks is not None:
            from dataseal.registry.audit.receipts import verify_receipt_checks

            verify_receipt_checks(checks)
        return

    report: dict[str, Any] = {
        "subject": page.to_json_data()["subject"],
        "chain_id": deployment.chain_id,
        "entries": len(page.entries),
        "next": str(page.next_cursor) if page.next_cursor is not None else None,
    }
    if out is not None:
        report.update(file=str(out), format=fmt)
    else:
        report["trail"] = [e.to_json_data() for e in page.entries]
    if differences is not None:
        report["verify"] = differences.to_json_data()
    if checks is not None:
        report["receipts"] = [c.to_json_data() for c in checks]

    def human() -> None:
        if out is None:
            _print_trail(page)
        else:
            print(f"wrote {out}: {fmt}, {len(page.entries)} entries of {subject}")
        if page.next_cursor is not None:
            print(f"more: dataseal audit {subject_text} --after {page.next_cursor}")
        if differences is not None:
            for line in _describe_differences(differences):
                print(line)
        for check in checks or []:
            how = f"recorded ({check.recorded}) in {check.tx_hash}" if check.recorded else "not recorded"
            verdict = "OK  " if check.ok else "FAIL"
            print(f"{verdict} receipt {check.receipt_hash[:10]}… job {check.job_id!r} grant {check.grant_id}: {how}"
                  + (f", scope {check.scope}" if check.scope else "") + "".join(f"; {p}" for p in check.problems))

    emit(report, as_json, human)
    if differences is not None:
        verify_trail_differences(differences)  # the report is out; now the one-line error and exit status 1
    if checks is not None:
        from dataseal.registry.audit.receipts import verify_receipt_checks

        verify_receipt_checks(checks)


def _check_receipts(registry: Registry, subject: AssetSubject, folder: Path,
                    scope_files: list[Path]) -> list[ReceiptCheck]:
    """The receipts of ``folder`` checked against the asset's whole trail (recomputed from the chain)."""
    from dataseal.registry.audit.receipts import compute_receipt_checks
    from dataseal.registry.receipts import read_receipts
    from dataseal.registry.scope import compute_scope_root, read_scope_file

    receipts = read_receipts(folder)
    scopes: dict[str, tuple[int, ...]] = {}
    for path in scope_files:
        indexes = read_scope_file(path)
        scopes["0x" + compute_scope_root(indexes).hex()] = indexes
    deployment = registry.context.deployment()
    entries = collect_trail(chain_source(registry), subject)
    return compute_receipt_checks(entries, receipts, chain_id=deployment.chain_id,
                                  grant_registry=deployment.grant_registry, scopes=scopes)


def _export(page: TrailPage, fmt: str, chain_id: int, asset_registry: str) -> str:
    if fmt == "csv":
        return compute_csv(page.entries)
    if fmt == "prov":
        document = compute_prov(page.entries, chain_id=chain_id, asset_registry=asset_registry)
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    data = {"chain_id": chain_id, **page.to_json_data()}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _print_trail(page: TrailPage) -> None:
    if not page.entries:
        print(f"{page.subject}: no entries" + (" after the cursor" if page.next_cursor is None else ""))
        return
    for e in page.entries:
        print(f"{e.block_number}:{e.log_index:<4} {e.time:%Y-%m-%d %H:%M:%S}  {e.event:<20} {e.summary}  "
              f"(tx {e.tx_hash[:10]}…)")


def _describe_differences(differences: TrailDifferences) -> list[str]:
    if differences.ok:
        return [f"verified: the {differences.recorded} entries of {differences.subject} match the chain's logs"]
    return differences.describe()


def register(app: typer.Typer) -> None:
    app.command("audit")(audit_command)
