"""`dataseal version ASSET PATH`: register changed data as a new version of an asset."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dataseal.cli.commands.register import (
    BASE_URL,
    CHUNK_SIZE,
    CLASSIFICATION,
    FORCE,
    FORMAT,
    LANG,
    PDF,
    ROWS,
    TREE_DUMP,
    VALID_UNTIL,
    certificate_options,
    open_registry,
    parse_classification,
    parse_time,
    report_registration,
    seal_options,
)
from dataseal.cli.commands.seal import SALT_SECRET, _progress
from dataseal.cli.options import ACCOUNT, CHAIN_ID, DATA_DIR, PASSWORD_FILE, RPC
from dataseal.cli.output import JSON
from dataseal.cli.prompt import TerminalPrompt
from dataseal.registry.manifest import parse_rights
from dataseal.registry.sealing.tables import read_secret
from dataseal.registry.services import assets


def version_command(
    asset: Annotated[int, typer.Argument(metavar="ASSET", help="The asset this is a new version of.",
                                         show_default=False)],
    path: Annotated[Path, typer.Argument(metavar="PATH", help="The new version's data.", show_default=False)],
    title: str | None = typer.Option(None, "--title", metavar="TEXT", help="Title. Default: the asset's."),
    rights: str | None = typer.Option(None, "--rights", metavar="LIST", help="Rights. Default: the asset's."),
    classification: str | None = CLASSIFICATION,
    licence: str | None = typer.Option(None, "--licence", "--license", metavar="TEXT", help="Default: the asset's."),
    source: str | None = typer.Option(None, "--source", metavar="TEXT", help="Default: the asset's."),
    salt_secret: Path | None = SALT_SECRET,
    valid_until: str | None = VALID_UNTIL,
    rows: bool = ROWS,
    table_format: str | None = FORMAT,
    chunk_size: str | None = CHUNK_SIZE,
    pdf: bool = PDF,
    lang: str = LANG,
    base_url: str | None = BASE_URL,
    tree_dump: bool = TREE_DUMP,
    force: bool = FORCE,
    rpc: str | None = RPC,
    account: str | None = ACCOUNT,
    password_file: Path | None = PASSWORD_FILE,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Register a new version of ASSET (you must own it, and it must be Active).

    PATH is sealed the way the asset was (a table's rows, a file's chunk size) when this registry
    recorded its manifest, with a fresh salt nonce; title, rights, licence and source default to the
    asset's. The new asset records ASSET as its parent, and gets its own certificate beside its
    manifest (certificate.json and .html; .pdf with --pdf; tree.json with --tree-dump). ASSET's seal
    beside PATH is replaced by the version's (its manifest kept in the data folder's manifests/);
    another asset's seal only with --force. Safe to run again after a crash.

    \b
    Examples:
      dataseal version 7 survey-2025.csv --salt-secret owner.key
      dataseal version 7 ./images --title "Images, second release" --json
    """
    level = parse_classification(classification)
    explicit = rows or table_format is not None or chunk_size is not None  # else sealed the way the asset was
    options = seal_options(rows, table_format, chunk_size, salt_secret) if explicit else None
    until = parse_time(valid_until, "--valid-until")
    secret = read_secret(salt_secret) if salt_secret is not None else None
    with open_registry(data_dir=data_dir, rpc=rpc, account=account, password_file=password_file,
                       chain_id=chain_id) as registry, _progress(enabled=not as_json) as progress:
        done = assets.register_version(
            registry, asset, path, title=title, rights=parse_rights(rights) if rights is not None else None,
            classification=level, licence=licence, source=source, salt_secret=secret, valid_until=until,
            options=options, passwords=[TerminalPrompt()], progress=progress,
            certificate=(certificate := certificate_options(pdf, lang, base_url)), tree_dump=tree_dump,
            replace_seal=force)
    report_registration(done, as_json, what="registered version", base_url=certificate.base_url)


def register(app: typer.Typer) -> None:
    app.command("version")(version_command)
