"""`dataseal verify PATH`: is this data a registered asset? The chain answers."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dataseal.cli.commands.register import open_registry
from dataseal.cli.commands.seal import SALT_SECRET, _progress
from dataseal.cli.options import CHAIN_ID, DATA_DIR, RPC
from dataseal.cli.output import JSON, emit
from dataseal.registry.sealing.tables import read_secret
from dataseal.registry.services import verify


def verify_command(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="The data (file, folder or table).",
                                         show_default=False)],
    manifest: Annotated[Path | None, typer.Option(
        "--manifest", metavar="FILE", help="Seal the data as this manifest says. Default: PATH.dataseal/manifest.json, "
        "then the manifests this registry recorded for data of that name.",
    )] = None,
    salt_secret: Path | None = SALT_SECRET,
    rpc: str | None = RPC,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Say whether PATH is exactly a registered asset, and if not, what differs from the nearest version.

    Seals the data the way its manifest says and asks the chain which registration holds that root
    (the database is not trusted for this). If none does, compares the data with the stored trees
    of the registered versions of data of the same name and lists the chunks, rows or files that
    differ. Exits 1 when the data is not registered.

    \b
    Examples:
      dataseal verify survey-2024.csv --salt-secret owner.key
      dataseal verify ./images --json
    """
    secret = read_secret(salt_secret) if salt_secret is not None else None
    with open_registry(data_dir=data_dir, rpc=rpc, chain_id=chain_id) as registry, \
            _progress(enabled=not as_json) as progress:
        report = verify.verify(registry, path, manifest=manifest, salt_secret=secret, progress=progress)

    def human() -> None:
        if report.registered:
            print(f"REGISTERED  {path}: asset {report.asset_id}, {report.status}, owner {report.owner}")
            print(f"  content root   {report.content_root} (chain {report.chain_id})")
            print(f"  manifest hash  {report.manifest_hash}")
            return
        print(f"NOT REGISTERED  {path}: root {report.content_root} is held by no registration on chain "
              f"{report.chain_id}")
        nearest = report.nearest
        if nearest is None:
            print("  no registered version of it is known to this registry")
            return
        diff = nearest.differences
        listed = ", ".join(str(part) for part in diff.changed)
        more = f" (and {diff.changed_count - len(diff.changed)} more)" if diff.changed_count > len(diff.changed) else ""
        print(f"  nearest registered version: asset {nearest.asset_id} ({nearest.status}, owner {nearest.owner})")
        print(f"  {diff.part}s that differ: {diff.changed_count}" + (f": {listed}{more}" if listed else ""))
        if diff.added or diff.removed:
            print(f"  {diff.part}s only in the data: {diff.added}; only in asset {nearest.asset_id}: {diff.removed}")

    emit(report.to_json(), as_json, human)
    if not report.registered:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("verify")(verify_command)
