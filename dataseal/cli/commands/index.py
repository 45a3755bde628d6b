"""`dataseal index`: follow the deployment's events into the registry database."""
from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from dataseal.cli.options import CHAIN_ID, DATA_DIR, RPC, settings
from dataseal.cli.output import JSON, emit, note
from dataseal.registry.indexer import Indexer, SyncReport
from dataseal.registry.indexer.indexer import ProgressCallback
from dataseal.registry.registry import Registry

#: A sync longer than this many blocks shows a progress bar (on a terminal, without --json).
PROGRESS_BLOCKS = 5000


def index(
    follow: bool = typer.Option(
        False, "--follow", help="Keep following the chain after catching up, every --poll-interval seconds, until "
        "interrupted (Ctrl-C; the page being written is rolled back and the next run resumes there). With --json, "
        "one JSON object a line per sync (JSON Lines).",
    ),
    confirmations: int | None = typer.Option(
        None, "--confirmations", metavar="N", min=0, help="Leave the newest N blocks unindexed until they have N "
        "blocks on top (a reorganisation of them then costs nothing). Default DATASEAL_CONFIRMATIONS or 0: the "
        "embedded chain's blocks are final, and a reorganisation of up to 250 blocks is repaired anyway.",
        show_default=False,
    ),
    poll_interval: float = typer.Option(
        2.0, "--poll-interval", metavar="SECONDS", min=0.0, help="Seconds between two syncs with --follow.",
    ),
    rebuild: bool = typer.Option(
        False, "--rebuild", help="Empty the index first and index again from the deployment block (the chain is "
        "the source of truth: the same rows come back).",
    ),
    rpc: str | None = RPC,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Index the deployment's events into the registry database, from where the last run stopped.

    Reads the three contracts' logs in pages (one database transaction each), keeps the raw logs, one
    row per event with the accounts it names, and the assets, grants, usage, trades and batches they
    build. A restart resumes after the last block written: no gap, no duplicate. A reorganisation of
    the chain is found by block hashes and repaired (the orphaned rows are dropped and the new blocks
    indexed); one deeper than 250 blocks stops with an error (then use --rebuild). An index of another
    deployment is emptied first, and the output says so. The database is DATABASE_URL, else SQLite in
    the data folder. No password needed.

    \b
    Examples:
      dataseal index                                    # the embedded chain of ./.dataseal
      dataseal index --rpc http://127.0.0.1:8545 --confirmations 2 --follow
      DATABASE_URL=postgresql+psycopg://dataseal@db/registry dataseal index --json
      dataseal index --rebuild
    """
    cfg = settings(rpc_url=rpc, chain_id=chain_id, data_dir=data_dir, confirmations=confirmations)
    with Registry(cfg) as registry:
        context = registry.context
        indexer = Indexer(registry.db, context.connection.w3, context.deployment(), confirmations=cfg.confirmations,
                          endpoint=context.connection.endpoint)
        dropped = indexer.clear() if rebuild else None
        if dropped is not None and not as_json:
            note(f"emptied the index ({dropped} events); indexing again from block "
                 f"{indexer.deployment.deploy_block}")
        with _progress(enabled=not as_json) as progress:
            report = indexer.sync(progress=progress)
        _render(report, as_json, dropped=dropped, database=registry.db.url, line=follow)
        if follow:
            indexer.follow(threading.Event(), poll_interval,
                           on_sync=lambda report: _render(report, as_json, line=True, quiet=True))


def _render(report: SyncReport, as_json: bool, *, dropped: int | None = None, database: str | None = None,
            line: bool = False, quiet: bool = False) -> None:
    """One sync's report: a JSON document (one line each with --follow: JSON Lines), or lines for people
    (``quiet``: --follow's later syncs, one line when something happened)."""
    data = report.to_json()
    if dropped is not None:
        data["rebuilt"] = {"dropped_events": dropped}
    if database is not None:
        data["database"] = database
    if as_json and line:
        print(json.dumps(data, sort_keys=True), flush=True)
        return
    if quiet:
        if report.events or report.reorgs:
            print(f"block {report.to_block}: {report.events} event{'s' if report.events != 1 else ''}"
                  + (f", {report.reorgs} reorganisation(s) repaired ({report.dropped_blocks} blocks dropped)"
                     if report.reorgs else ""), flush=True)
        return

    def human() -> None:
        if report.started_over:
            note(f"dataseal: {report.started_over}")
        if report.reorgs:
            note(f"dataseal: repaired {report.reorgs} reorganisation(s) of the chain: {report.dropped_blocks} "
                 "block(s) dropped and indexed again")
        if report.blocks:
            print(f"indexed blocks {report.from_block}..{report.to_block} of chain {report.chain_id}: "
                  f"{report.events} event{'s' if report.events != 1 else ''}")
        else:
            print(f"up to date at block {report.to_block} of chain {report.chain_id}")
        print(f"tip {report.tip}, {report.lag} block{'s' if report.lag != 1 else ''} behind"
              + (f" ({database})" if database else ""))

    emit(data, as_json, human)
    sys.stdout.flush()


@contextmanager
def _progress(*, enabled: bool) -> Iterator[ProgressCallback | None]:
    """A rich progress bar on stderr for a long sync, when stderr is a terminal; else no callback."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

    columns = (TextColumn("indexing blocks"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task: list[TaskID] = []

        def update(phase: str, done: int, total: int | None) -> None:
            if total is not None and total < PROGRESS_BLOCKS:
                return
            if not task:
                task.append(bar.add_task(phase, total=total))
            bar.update(task[0], completed=done, total=total)

        yield update


def register(app: typer.Typer) -> None:
    app.command("index")(index)
