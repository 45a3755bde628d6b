"""`dataseal register`: seal a file, folder or table, register it as an asset, store its tree, record its manifest.

Also what the asset commands share (`version`, `cancel`, `review`, `verify`): the registry opened from the
common options, and the parsing of classifications and times."""
from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from dataseal.cli.commands.certificate import warn_local_url
from dataseal.cli.commands.seal import SALT_SECRET, _progress
from dataseal.cli.options import ACCOUNT, CHAIN_ID, DATA_DIR, PASSWORD_FILE, RPC, parse_duration, settings
from dataseal.cli.output import JSON, emit, note
from dataseal.cli.prompt import TerminalPrompt
from dataseal.registry.certificates.model import DEFAULT_BASE_URL
from dataseal.registry.manifest import parse_rights
from dataseal.registry.registry import Registry
from dataseal.registry.sealing import SealOptions, parse_size
from dataseal.registry.sealing.tables import read_secret
from dataseal.registry.services import assets
from dataseal.registry.services.assets import CLASSIFICATIONS, RegistrationResult
from dataseal.registry.services.certificate_step import CertificateOptions


def open_registry(*, data_dir: Path | None, rpc: str | None, account: str | None = None,
                  password_file: Path | None = None, chain_id: int | None = None) -> Registry:
    """The registry of the common options (nothing connects until it is used)."""
    return Registry(settings(data_dir=data_dir, rpc_url=rpc, account=account, password_file=password_file,
                             chain_id=chain_id))


def parse_classification(text: str | None) -> int | None:
    """``public``/``general``/``important``/``core`` or 0-3; :class:`typer.BadParameter` otherwise."""
    if text is None:
        return None
    value = text.strip().lower()
    if value in CLASSIFICATIONS:
        return CLASSIFICATIONS[value]
    if value.isdigit() and int(value) in CLASSIFICATIONS.values():
        return int(value)
    raise typer.BadParameter(f"{text!r} is not a classification: use public, general, important or core (0-3)",
                             param_hint="--classification")


def parse_time(text: str | None, flag: str) -> int:
    """An ISO date or time (UTC unless it says otherwise), or a duration from now (``1095d``); 0 for None."""
    if text is None:
        return 0
    stripped = text.strip()
    if re.fullmatch(r"\d+\s*[smhd]", stripped.lower()):
        return int(time.time()) + parse_duration(stripped, flag)
    try:
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is neither an ISO date (2027-12-31, 2027-12-31T12:00:00+08:00) nor a "
                                 "duration (1095d, 36h)", param_hint=flag) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def seal_options(rows: bool, table_format: str | None, chunk_size: str | None, salt_secret: Path | None) -> \
        SealOptions | None:
    """The seal options a command's flags ask for; None when they ask for nothing (the service chooses)."""
    if not rows and table_format is None and chunk_size is None and salt_secret is None:
        return None
    return SealOptions(
        rows=rows or salt_secret is not None or table_format is not None,
        table_format=table_format,  # type: ignore[arg-type]  # checked by SealOptions
        chunk_size=parse_size(chunk_size) if chunk_size is not None else SealOptions().chunk_size,
        secret=read_secret(salt_secret) if salt_secret is not None else None,
    )


ROWS = typer.Option(False, "--rows", help="Seal a table's rows (one leaf per row) instead of its bytes.")
FORMAT = typer.Option(None, "--format", metavar="FORMAT", help="Table format with --rows: csv, jsonl or parquet. "
                      "Default: from the extension.")
CHUNK_SIZE = typer.Option(None, "--chunk-size", metavar="N", help="Bytes per chunk of a file (default 1MiB).")
CLASSIFICATION = typer.Option(None, "--classification", metavar="LEVEL",
                              help="public (default), general, important or core (0-3).")
VALID_UNTIL = typer.Option(None, "--valid-until", metavar="WHEN", help="End of the certification's validity: an ISO "
                           "date (2029-12-31) or a duration from now (1095d). Default: no expiry.")


PDF = typer.Option(False, "--pdf", help="Also write the certificate as PDF (a second or two more).")
LANG = typer.Option("zh-en", "--lang", metavar="LANG", help="Language of the certificate: zh (中文), en, or zh-en "
                    "(both).")
BASE_URL = typer.Option(None, "--base-url", metavar="URL", help="Where the registry's public pages are served; the "
                        "certificate's QR code opens URL/assets/ASSET?cert=NUMBER. Default: DATASEAL_BASE_URL, else "
                        f"{DEFAULT_BASE_URL}.", show_default=False)
TREE_DUMP = typer.Option(False, "--tree-dump", help="Also write OpenZeppelin's full tree dump (tree.json, about "
                         "250 bytes a leaf: 2.4 GB for 10M rows) beside the manifest, for @openzeppelin/merkle-tree "
                         "or `dataseal check`. Not needed to prove or verify: the registry keeps the tree compactly.")
FORCE = typer.Option(False, "--force", help="Replace the seal beside PATH even when it registered another asset "
                     "and this run seals the data another way (that asset stands; its manifest is kept in the data "
                     "folder's manifests/).")


def certificate_options(pdf: bool, lang: str, base_url: str | None) -> CertificateOptions:
    """The certificate a registration writes beside its manifest (JSON and HTML, and PDF when asked); its base URL
    ``base_url``, else the settings' (DATASEAL_BASE_URL, the one `certificate verify` expects)."""
    return CertificateOptions(html=True, pdf=pdf, language=lang, base_url=settings(base_url=base_url).base_url)


def report_registration(done: RegistrationResult, as_json: bool, *, what: str, base_url: str | None = None) -> None:
    """Print ``done`` (``base_url``: the certificate's verify base, warned about when only this machine serves it)."""
    def human() -> None:
        again = (" (registered by an earlier run)" if done.already_registered
                 else " (finished an earlier run)" if done.resumed else "")
        print(f"{what} asset {done.asset_id}{again}: {done.status}, owner {done.owner}")
        for line in done.reorged:  # what a reorganisation of the chain undid since an earlier run, and was redone
            note(line)
        replaced = done.replaced_seal
        if replaced is not None:
            whose = f"asset {replaced.asset_id}'s seal" if replaced.asset_id is not None else "the earlier seal"
            again = (f" (its certificate: dataseal certificate {replaced.asset_id})"
                     if replaced.asset_id is not None else "")
            note(f"replaced {whose} beside the data; its manifest is kept at {replaced.archived}{again}")
        if done.parent_id:
            print(f"version of     {done.parent_id}")
        print(f"tx             {done.tx_hash} (block {done.block_number}, chain {done.chain_id})")
        print(f"content root   {done.content_root}")
        print(f"manifest hash  {done.manifest_hash}")
        print(f"manifest       {done.manifest_path}")
        print(f"stored tree    {done.stored_tree_path}")
        if done.tree_dump is not None:
            print(f"tree dump      {done.tree_dump}")
        cert = done.certificate
        if cert is not None:
            kept = " (kept from an earlier run)" if cert.reused else ""
            print(f"certificate    {cert.number}{kept}")
            for file in cert.files:
                print(f"               {file}")
            if cert.skipped is not None:
                note(cert.skipped)
            note(f"check it: dataseal certificate verify {cert.path}")

    if done.certificate is not None and base_url is not None:
        warn_local_url(base_url)  # on stderr, with --json too
    emit(done.to_json(), as_json, human)


def register_command(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="A file, a folder, or (with --rows or --salt-secret) "
                                         "a CSV / JSON Lines / Parquet table.", show_default=False)],
    title: str | None = typer.Option(None, "--title", metavar="TEXT", help="Title. Default: the name of PATH."),
    description: str = typer.Option("", "--description", metavar="TEXT", help="Description in the manifest."),
    rights: str = typer.Option("holding", "--rights", metavar="LIST", help="Rights registered, comma-separated: "
                               "holding (数据资源持有), processing (数据加工使用), operation (数据产品经营)."),
    classification: str | None = CLASSIFICATION,
    licence: str | None = typer.Option(None, "--licence", "--license", metavar="TEXT", help="Licence of the data."),
    source: str | None = typer.Option(None, "--source", metavar="TEXT", help="Where the data comes from."),
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
    """Register data as an asset: seal it, commit if the contracts want it, register, store its tree.

    Seals PATH into PATH.dataseal/manifest.json — or reuses the seal there if it still matches the
    data — registers its content root and manifest hash from your account, keeps the tree compactly in
    the data folder (trees/ROOT.dstree: what proofs are served from), records the manifest in the
    registry database and writes the registration certificate beside the manifest (certificate.json
    and .html; .pdf with --pdf). The full tree dump (tree.json) is written only with --tree-dump.
    Prints the asset id, the transaction and the certificate's number and files.

    A registration the chain would refuse (data registered by someone else, or by you with another
    title or description, a validity end too early) is refused before anything is written: the seal
    beside the data stays as it was, and a first registration leaves none. A seal beside the data
    that registered an asset is not replaced by one made another way (without --rows or the salt
    secret, another chunk size) unless --force is given; a replaced seal's manifest is kept in the
    data folder's manifests/ (the output says where). Safe to run again: after a crash or an
    interrupt at any point, the same command finishes the same registration (nothing is sent twice,
    and a salted table is not sealed again).

    \b
    Examples:
      dataseal register survey-2024.csv --salt-secret owner.key --title "Survey 2024" --rights holding,processing
      dataseal register ./images --classification general --licence CC-BY-4.0 --valid-until 1095d
      dataseal register backup.tar --chunk-size 4MiB --rpc http://127.0.0.1:8545 --json
      dataseal register report.pdf --pdf --lang en --base-url https://registry.example.org
    """
    level = parse_classification(classification)
    options = seal_options(rows, table_format, chunk_size, salt_secret)
    until = parse_time(valid_until, "--valid-until")
    certificate = certificate_options(pdf, lang, base_url)
    with open_registry(data_dir=data_dir, rpc=rpc, account=account, password_file=password_file,
                       chain_id=chain_id) as registry, _progress(enabled=not as_json) as progress:
        done = assets.register(registry, path, title=title, description=description, rights=parse_rights(rights),
                               classification=level or 0, licence=licence, source=source, valid_until=until,
                               options=options, passwords=[TerminalPrompt()], progress=progress,
                               certificate=certificate, tree_dump=tree_dump, replace_seal=force)
    report_registration(done, as_json, what="registered", base_url=certificate.base_url)


def register(app: typer.Typer) -> None:
    app.command("register")(register_command)



