"""`dataseal audit ASSET|ADDRESS`: the trail of an asset or an account, exported or checked against the chain."""
from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from dataseal.chain.files import check_output
from dataseal.cli.commands.index import _progress
from dataseal.cli.options import CHAIN_ID, DATA_DIR, RPC, settings
from dataseal.cli.output import JSON, emit, note
from dataseal.errors import InvalidInput
from dataseal.registry.audit import (
    DEFAULT_PAGE,
    AssetSubject,
    Subject,
    TrailDifferences,
    TrailPage,
    compute_csv,
    compute_prov,
    parse_cursor,
    parse_subject,
    verify_trail_differences,
)
from dataseal.registry.audit.encumbrances import Encumbrance, UsagePeriod
from dataseal.registry.audit.receipts import ReceiptCheck, compute_asset_receipt_checks, verify_receipt_checks
from dataseal.registry.audit.service import Audit, IndexView
from dataseal.registry.receipts import read_batch_proofs, read_receipts
from dataseal.registry.registry import Registry
from dataseal.registry.scope import compute_scope_root, read_scope_file
from dataseal.registry.sealing.atomic import atomic_writer
from dataseal.registry.services.grant_terms import compute_next_block_time, resolve_time

FORMATS = ("json", "csv", "prov")
PERIODS = ("day", "month")


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
        "trail: each recorded under its own grant (singly, or in a batch: by its proof in --proofs, or because "
        "receipts in DIR make up the batch, whose units and count they must then add up to), with its units and "
        "purpose, its time span inside the grant's window, its rows inside the asset (when this registry stored "
        "the asset's manifest; else 'not checked') and inside the grant's scope. Exits 1 on any mismatch.",
        show_default=False,
    )] = None,
    proofs_dir: Annotated[Path | None, typer.Option(
        "--proofs", metavar="DIR", help="With --receipts: the batch membership proofs `dataseal use-batch --proofs` "
        "wrote (one *.json per receipt), so that a receipt is checked without all the receipts of its batch.",
        show_default=False,
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
    encumbrances: bool = typer.Option(
        False, "--encumbrances", help="Instead of the trail, list the grants that still bind the asset at --at (a "
        "buyer's question before a trade): not revoked, in their window, with quota left; each with its grantee, "
        "purpose hash, window and units used and left.",
    ),
    at: str | None = typer.Option(
        None, "--at", metavar="WHEN", help="The moment --encumbrances is asked about: now, an ISO date or date-time "
        "(UTC unless a zone is given), Unix seconds, or a duration from now (30d: what will still bind then). "
        "Default: now, by this computer's clock.", show_default=False,
    ),
    usage: str | None = typer.Option(
        None, "--usage", metavar="PERIOD", help="Instead of the trail, the units used per grant and per day or month "
        "(UTC), with the usage records and receipts they came in.", show_default=False,
    ),
    sync: bool = typer.Option(
        True, "--sync/--no-sync", help="Bring the registry's index up to date from the chain before reading it (only "
        "the blocks since the last run are read). --no-sync reads the index as it is, with no node (unless --verify "
        "or --receipts asks the chain): what an auditor handed a copy of a registry's database reads.",
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
    starts --after.

    Trails are read from the registry's index (DATABASE_URL, else SQLite in the data folder), which is
    first brought up to date from the chain's logs; --verify then recomputes the trail from the chain alone
    and names every difference. No password is needed.

    \b
    Examples:
      dataseal audit 7                                  # asset 7, for people
      dataseal audit 7 --format csv -o asset7.csv
      dataseal audit 7 --format prov -o asset7.prov.json
      dataseal audit 0x5B38Da6a701c568545dCfcB03FcB875f56beddC4 --limit 50 --after 1042:3 --json
      dataseal audit 7 --verify                         # compare with a recomputation from eth_getLogs
      dataseal audit 7 --receipts ./receipts --proofs ./proofs --scope scope.json
      dataseal audit 7 --encumbrances --at 2025-07-01   # the grants that bind asset 7 then
      dataseal audit 7 --usage month --json             # units used per grant and month
      DATABASE_URL=postgresql+psycopg://auditor@db/registry dataseal audit 7 --no-sync
    """
    subject = parse_subject(subject_text)
    cursor = parse_cursor(after) if after is not None else None
    if export_format is not None and export_format not in FORMATS:
        raise typer.BadParameter(f"{export_format!r} is not an export format: give json, csv or prov",
                                 param_hint="--format")
    if usage is not None and usage not in PERIODS:
        raise typer.BadParameter(f"{usage!r} is not a period: give day or month", param_hint="--usage")
    accounting = encumbrances or usage is not None
    if accounting:
        given = [flag for flag, value in (("--format", export_format), ("-o", out), ("--after", after),
                                          ("--receipts", receipts_dir)) if value is not None]
        if given:
            what = "--encumbrances" if encumbrances else "--usage"
            raise typer.BadParameter(f"{what} prints its own report, not a page of the trail: drop {given[0]}",
                                     param_hint=what)
    if encumbrances and not isinstance(subject, AssetSubject):
        raise typer.BadParameter("encumbrances are an asset's: give an asset id", param_hint="--encumbrances")
    if at is not None and not encumbrances:
        raise typer.BadParameter("--at is the moment --encumbrances is asked about: add --encumbrances",
                                 param_hint="--at")
    moment = _parse_moment(at)
    if as_json and out is None and export_format not in (None, "json"):
        raise typer.BadParameter(f"--json prints a JSON report, and a {export_format} export needs a file: add "
                                 "-o FILE (or drop --json to print the export)", param_hint="--json")
    if receipts_dir is not None and not isinstance(subject, AssetSubject):
        raise typer.BadParameter("receipts are checked against an asset's trail: give an asset id",
                                 param_hint="--receipts")
    if proofs_dir is not None and receipts_dir is None:
        raise typer.BadParameter("--proofs are the batch proofs of the receipts --receipts checks: add --receipts DIR",
                                 param_hint="--proofs")
    if out is not None:
        check_output(out, replace=force, options=("out",))  # before the chain is read, not after
    cfg = settings(rpc_url=rpc, chain_id=chain_id, data_dir=data_dir)
    with Registry.open(cfg) as registry:
        with _progress(enabled=not as_json) as progress:
            audit = Audit(registry, sync=sync, progress=progress)
        page = audit.page(subject, after=cursor, limit=limit) if not accounting else None
        binding: list[Encumbrance] | None = None
        if encumbrances and isinstance(subject, AssetSubject):
            if at is None or at.strip().lower() == "now":
                # now as the chain will judge a grant: the next block's time (hardhat's runs ahead of this clock, an
                # idle node's latest block behind it); with --no-sync, no node is asked: this machine's clock
                if sync:
                    moment = datetime.fromtimestamp(compute_next_block_time(registry), UTC)
                moment, binding = audit.compute_encumbrances_now(subject.asset_id, moment)
            else:
                binding = audit.compute_encumbrances(subject.asset_id, moment)
        purposes = {e.purpose: audit.get_purpose_text(e.purpose) for e in binding or []}
        used = audit.compute_usage(subject, usage) if usage is not None else None  # type: ignore[arg-type]
        differences = audit.compute_differences(subject) if verify else None
        checks = (_check_receipts(registry, subject, receipts_dir, proofs_dir, scope_files or [])
                  if receipts_dir is not None and isinstance(subject, AssetSubject) else None)
    index = audit.index
    _note_index(index, as_json)  # once the trail is read (an error says it all)
    report: dict[str, Any] = {"subject": _subject_json(subject), "chain_id": index.chain_id, "index": index.to_json()}
    if page is None:
        if binding is not None:
            report["encumbrances"] = {"at": moment.isoformat(),
                                      "grants": [_encumbrance_json(e, purposes) for e in binding]}
        if used is not None:
            report["usage"] = {"period": usage, "rows": [u.model_dump(mode="json") for u in used]}
        if differences is not None:
            report["verify"] = differences.to_json_data()

        def accounts() -> None:
            if binding is not None:
                _print_encumbrances(subject, moment, binding, purposes)
            if used is not None:
                _print_usage(subject, usage or "", used)
            for line in _describe_differences(differences) if differences is not None else []:
                print(line)

        emit(report, as_json, accounts)
        if differences is not None:
            verify_trail_differences(differences)
        return

    fmt = export_format or "json"
    if out is not None:
        with atomic_writer(out, replace=force, options=("out",)) as f:
            f.write(_export(page, fmt, index.chain_id, index.asset_registry))
    elif export_format is not None:  # the export is the output; the check's lines go to stderr
        sys.stdout.write(_export(page, fmt, index.chain_id, index.asset_registry))
        if differences is not None:
            for line in _describe_differences(differences):
                note(line)
            verify_trail_differences(differences)
        if checks is not None:
            verify_receipt_checks(checks)
        return

    report.update(entries=len(page.entries), next=str(page.next_cursor) if page.next_cursor is not None else None)
    if out is not None:
        report.update(file=str(out), format=fmt)
    else:
        report["trail"] = [e.to_json_data() for e in page.entries]
    if differences is not None:
        report["verify"] = differences.to_json_data()
    if checks is not None:
        report["receipts"] = [c.to_json_data() for c in checks]

    def human() -> None:
        assert page is not None
        if out is None:
            _print_trail(page)
        else:
            print(f"wrote {out}: {fmt}, {len(page.entries)} entries of {subject}")
        if page.next_cursor is not None:
            again = (f" --limit {limit}" if limit != DEFAULT_PAGE else "") + ("" if sync else " --no-sync")
            print(f"more: dataseal audit {subject_text}{again} --after {page.next_cursor}")
        if differences is not None:
            for line in _describe_differences(differences):
                print(line)
        for check in checks or []:
            print(_describe_check(check))

    emit(report, as_json, human)
    if differences is not None:
        verify_trail_differences(differences)  # the report is out; now the one-line error and exit status 1
    if checks is not None:
        verify_receipt_checks(checks)


def _parse_moment(text: str | None) -> datetime:
    now = int(time.time())
    if text is None:
        return datetime.fromtimestamp(now, UTC)
    try:
        return datetime.fromtimestamp(resolve_time(text, now, "the moment"), UTC)
    except InvalidInput as exc:
        raise typer.BadParameter(f"{exc.message}: {exc.hint}", param_hint="--at") from None


def _subject_json(subject: Subject) -> dict[str, object]:
    return {"asset_id": subject.asset_id} if isinstance(subject, AssetSubject) else {"address": subject.address}


def _note_index(index: IndexView, as_json: bool) -> None:
    """Lines on stderr when the index is not what a reader would assume: emptied for another deployment,
    repaired after a reorganisation, or read without being brought up to date."""
    if as_json:
        return
    synced = index.synced
    if synced is None:
        note(f"dataseal: read the index as it is (not brought up to date): chain {index.chain_id} up to block "
             f"{index.last_block}")
        return
    if synced.started_over:
        note(f"dataseal: {synced.started_over}")
    if synced.reorgs:
        note(f"dataseal: repaired {synced.reorgs} reorganisation(s) of the chain: {synced.dropped_blocks} block(s) "
             "dropped and indexed again")


def _encumbrance_json(e: Encumbrance, purposes: dict[str, str | None]) -> dict[str, Any]:
    return {**e.model_dump(mode="json"), "remaining": e.remaining, "purpose_text": purposes.get(e.purpose)}


def _print_encumbrances(subject: Subject, at: datetime, binding: list[Encumbrance],
                        purposes: dict[str, str | None]) -> None:
    when = f"{at:%Y-%m-%d %H:%M:%S} UTC"
    if not binding:
        print(f"no grant binds {subject} at {when}")
        return
    print(f"{len(binding)} grant{'s' if len(binding) != 1 else ''} bind{'s' if len(binding) == 1 else ''} {subject} "
          f"at {when}:")
    for e in binding:
        sold = f", sold in trade {e.trade_id}" if e.trade_id is not None else ""
        scoped = ", scoped" if int(e.scope_root, 16) else ""
        print(f"grant {e.grant_id:<5} to {e.grantee}  {e.valid_from:%Y-%m-%d %H:%M} to {e.expires_at:%Y-%m-%d %H:%M}  "
              f"used {e.used} of {e.quota} ({e.remaining} left){scoped}{sold}  purpose "
              + (repr(text) if (text := purposes.get(e.purpose)) is not None else e.purpose))


def _print_usage(subject: Subject, period: str, rows: list[UsagePeriod]) -> None:
    if not rows:
        print(f"no usage recorded in the trail of {subject}")
        return
    width = 10 if period == "day" else 7
    print(f"{'grant':<7} {period:<{width}} {'units':>10} {'records':>8} {'receipts':>9}")
    for row in rows:
        print(f"{row.grant_id:<7} {row.period:<{width}} {row.units:>10} {row.records:>8} {row.receipts:>9}")
    print(f"{'total':<7} {'':<{width}} {sum(r.units for r in rows):>10} {sum(r.records for r in rows):>8} "
          f"{sum(r.receipts for r in rows):>9}")


def _check_receipts(registry: Registry, subject: AssetSubject, folder: Path, proofs: Path | None,
                    scope_files: list[Path]) -> list[ReceiptCheck]:
    """The receipts of ``folder`` checked against the asset's whole trail (recomputed from the chain)."""
    receipts = read_receipts(folder)
    batch_proofs = read_batch_proofs(proofs) if proofs is not None else None
    scopes: dict[str, tuple[int, ...]] = {}
    for path in scope_files:
        indexes = read_scope_file(path)
        scopes["0x" + compute_scope_root(indexes).hex()] = indexes
    return compute_asset_receipt_checks(registry, subject.asset_id, receipts, batch_proofs=batch_proofs,
                                        scopes=scopes)


def _describe_check(check: ReceiptCheck) -> str:
    how = f"recorded ({check.recorded}) in {check.tx_hash}" if check.recorded else "not recorded"
    if check.batch_complete is False:
        how += " (the batch's units not checked: not all its receipts given)"
    verdict = "OK  " if check.ok else "FAIL"
    return (f"{verdict} receipt {check.receipt_hash[:10]}… job {check.job_id!r} grant {check.grant_id}: {how}"
            + (f", scope {check.scope}" if check.scope else "")
            + (f", indexes {check.extent}" if check.extent else "")
            + "".join(f"; {p}" for p in check.problems))


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
    width = max(len(str(e.cursor)) for e in page.entries)
    for e in page.entries:
        print(f"{str(e.cursor):<{width}}  {e.time:%Y-%m-%d %H:%M:%S}  {e.event:<20} {e.summary}  "
              f"(tx {e.tx_hash[:10]}…)")


def _describe_differences(differences: TrailDifferences) -> list[str]:
    if differences.ok:
        return [f"verified: the {differences.recorded} entries of {differences.subject} match the chain's logs"]
    return differences.describe()


def register(app: typer.Typer) -> None:
    app.command("audit")(audit_command)
