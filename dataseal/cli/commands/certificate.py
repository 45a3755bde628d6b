"""`dataseal certificate ASSET -o cert.{json,html,pdf}` and `dataseal certificate verify cert.json`."""
from __future__ import annotations

import ipaddress
import sys
import textwrap
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer

from dataseal.chain.contracts.logs import LogReader
from dataseal.chain.files import check_output, open_output
from dataseal.cli.options import CHAIN_ID, DATA_DIR, RPC, settings
from dataseal.cli.output import JSON, emit, note
from dataseal.errors import InvalidInput
from dataseal.registry.certificates import (
    DEFAULT_BASE_URL,
    Certificate,
    CertificateReport,
    compute_certificate,
    compute_certificate_report,
    read_certificate,
    render_html,
    render_json,
    render_pdf,
    verify_report,
)
from dataseal.registry.certificates.compute import ManifestLookup, check_base_url, get_stored_manifest
from dataseal.registry.certificates.model import UINT256_MAX
from dataseal.registry.manifest import read_manifest
from dataseal.registry.registry import Registry

#: Output formats, by the extension of -o.
FORMATS = {".json": "json", ".html": "html", ".htm": "html", ".pdf": "pdf"}
VERIFY = "verify"


def certificate_command(
    target: Annotated[str, typer.Argument(
        metavar="ASSET | verify", help="The asset id to certify, or `verify` followed by a certificate's JSON file.",
        show_default=False,
    )],
    file: Annotated[Path | None, typer.Argument(
        metavar="CERT.json", help="With `verify`: the certificate file to check.", show_default=False,
    )] = None,
    out: Annotated[Path | None, typer.Option(
        "-o", "--out", metavar="FILE", help="Write the certificate here: .json (the document `verify` reads), "
        ".html (one printable A4 page) or .pdf. Default: the JSON on stdout.", show_default=False,
    )] = None,
    lang: str = typer.Option(
        "zh-en", "--lang", metavar="LANG", help="Language of the certificate: zh (中文), en, or zh-en (both)."
    ),
    manifest_path: Annotated[Path | None, typer.Option(
        "--manifest", metavar="FILE", help="The manifest registered with the asset (manifest.json from "
        "`dataseal seal`): the title, licence and source come from it, checked against the manifest hash on chain. "
        "Default: the copy the registry database recorded when the asset was registered; with none, the title "
        "shows as unknown.", show_default=False,
    )] = None,
    base_url: str | None = typer.Option(
        None, "--base-url", metavar="URL", help="Where the registry's public pages are served: the QR code of a "
        "certificate issued opens URL/assets/ASSET?cert=NUMBER, and `verify` requires a certificate's verifyUrl to. "
        f"Default: DATASEAL_BASE_URL, else {DEFAULT_BASE_URL}.", show_default=False,
    ),
    force: bool = typer.Option(False, "--force", help="Replace the -o FILE if it exists (atomically)."),
    rpc: str | None = RPC,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Issue a registration certificate for an asset, or verify one against the chain.

    The certificate (数据资产登记证书) is read from the chain — the asset's AssetRegistered event and
    the transfers, status changes and renewals since, up to the latest block: its registrant, owner,
    rights type, classification, content root, manifest hash, transaction, block, registration time,
    notice period, validity (three years, or the registration's own expiry if earlier) and status. The
    title, licence and source come from the manifest (--manifest, or the registry database's copy,
    found by the manifest hash on chain and checked against it). Its certificate number (DS-…,
    ISO/IEC 7064 MOD 37-2) and registration number (ISO/IEC 7064 MOD 11-2) end in check characters,
    and its QR code opens the public record.

    `verify` recomputes every field from the chain as of the certificate's block and names each one that
    differs (exit status 1), the verifyUrl its QR code opens included (against --base-url). Then it checks the
    asset's standing now: a certificate whose asset has since been cancelled, rejected, suspended or has
    expired, whose owner has transferred it, or whose term has ended fails too (LAPSED, exit status 1),
    naming the change, its block and transaction. No password is needed for either.

    \b
    Examples:
      dataseal certificate 7 -o cert.pdf
      dataseal certificate 7 --manifest survey.csv.dataseal/manifest.json -o cert.pdf
      dataseal certificate 7 --manifest manifest.json --lang en --base-url https://registry.example.org -o cert.html
      dataseal certificate 7 -o cert.json
      dataseal certificate verify cert.json --json
      dataseal certificate verify cert.json --base-url https://registry.example.org
    """
    if target == VERIFY:
        if file is None:
            raise typer.BadParameter("give the certificate's JSON file: dataseal certificate verify cert.json",
                                     param_hint="CERT.json")
        _verify(file, rpc=rpc, chain_id=chain_id, data_dir=data_dir, base_url=base_url, as_json=as_json)
        return
    if file is not None:
        raise typer.BadParameter(f"unexpected {str(file)!r}: issuing takes one asset id (verify takes a file)",
                                 param_hint="ASSET")
    asset_id = _asset_id(target)
    kind = None
    if out is not None:
        kind = FORMATS.get(out.suffix.lower())
        if kind is None:
            raise typer.BadParameter(f"{str(out)!r} has no certificate format's extension: use .json, .html or .pdf",
                                     param_hint="-o/--out")
        check_output(out, replace=force, options=("out",))  # before the chain is read, not after
    manifest = read_manifest(manifest_path) if manifest_path is not None else None
    cfg = settings(rpc_url=rpc, chain_id=chain_id, data_dir=data_dir, base_url=base_url)
    with Registry.open(cfg) as registry:
        context = registry.context
        reader = LogReader(context.connection.w3, endpoint=context.connection.endpoint)
        cert = compute_certificate(context.contracts(), reader, context.deployment(), asset_id, manifest,
                                   base_url=cfg.base_url, now=datetime.now(UTC), language=lang,
                                   manifests=_stored_manifests(registry) if manifest is None else None)
    warn_local_url(cert.verify_url)
    if out is None:
        sys.stdout.write(render_json(cert))
        return
    content = {"json": lambda: render_json(cert).encode(), "html": lambda: render_html(cert).encode(),
               "pdf": lambda: render_pdf(cert)}[kind or "json"]()
    with open_output(out, replace=force, options=("out",)) as f:
        f.write(content)
    report = {"file": str(out), "format": kind, **_summary(cert)}

    def human() -> None:
        title = cert.title if cert.title is not None else "title unknown: no manifest given, none recorded here"
        print(f"wrote {out}: certificate {cert.certificate_number} of asset {cert.asset_id} ({title})")
        print(f"registration   {cert.registration_number}")
        print(f"status         {cert.status} as of block {cert.as_of.block_number}")
        print(f"valid          {cert.valid_from:%Y-%m-%d} to {cert.valid_until:%Y-%m-%d} (UTC)")
        print(f"verify at      {cert.verify_url}")

    emit(report, as_json, human)


def warn_local_url(url: str) -> None:
    """One warning line on stderr when a certificate's QR code would open ``url``, an address of this machine."""
    if is_local_url(url):
        note(f"warning: the certificate's QR code opens {url}, an address only this machine serves; "
             "set DATASEAL_BASE_URL or --base-url to the registry's public address (such as "
             "https://registry.example.org) before you hand the certificate to anyone")


def is_local_url(url: str) -> bool:
    """Whether ``url``'s host is this machine (localhost or a loopback address, such as the default base URL's)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _stored_manifests(registry: Registry) -> ManifestLookup | None:
    """The registry database's manifests, when there is a database (none is made for a certificate)."""
    cfg = registry.settings
    if cfg.database_url is None and not (cfg.data_dir / "registry.sqlite").is_file():
        return None
    return partial(get_stored_manifest, registry.db)


def _asset_id(text: str) -> int:
    # ASCII digits only ("²" is a digit to str.isdigit, not to int), and no more than a uint256 has (78), before
    # int() is asked (it refuses more than 4300 digits).
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(UINT256_MAX))
            and 1 <= int(text) <= UINT256_MAX):
        shown = repr(text) if len(text) <= 80 else f"{text[:24]!r}… ({len(text)} characters)"
        raise InvalidInput(f"{shown} is not an asset id: ids are whole numbers from 1 to 2**256 - 1",
                           hint="give the id printed when the asset was registered, or `verify` and a certificate file")
    return int(text)


def _summary(cert: Certificate) -> dict[str, Any]:
    return {"certificate_number": cert.certificate_number, "registration_number": cert.registration_number,
            "asset_id": cert.asset_id, "title": cert.title, "status": cert.status,
            "as_of_block": cert.as_of.block_number, "verify_url": cert.verify_url}


def _verify(file: Path, *, rpc: str | None, chain_id: int | None, data_dir: Path | None, base_url: str | None,
            as_json: bool) -> None:
    cfg = settings(rpc_url=rpc, chain_id=chain_id, data_dir=data_dir, base_url=base_url)
    check_base_url(cfg.base_url)  # before the file and the chain are read
    cert = read_certificate(file)
    with Registry.open(cfg) as registry:
        context = registry.context
        reader = LogReader(context.connection.w3, endpoint=context.connection.endpoint)
        found = compute_certificate_report(cert, context.contracts(), reader, base_url=cfg.base_url)
    emit({"file": str(file), **found.to_json()}, as_json, lambda: _print_report(file, found))
    verify_report(found)  # after the report: the one-line error, exit status 1


def _print_report(file: Path, found: CertificateReport) -> None:
    if found.ok:
        print(f"OK  {file}: certificate {found.certificate_number} of asset {found.asset_id} matches the chain")
    elif found.mismatches:
        print(f"TAMPERED  {file}: certificate {found.certificate_number} does not match the chain")
        for mismatch in found.mismatches:
            print(f"  differs      {mismatch.describe()}")
    else:
        print(f"LAPSED  {file}: certificate {found.certificate_number} was true when issued, but asset "
              f"{found.asset_id} no longer stands as it says")
    for lapse in found.lapses:
        print(f"  since        {lapse.description}")
    if found.checked:  # one paragraph: a line a field would bury the verdict
        print(textwrap.fill(", ".join(dict.fromkeys(found.checked)), width=110, initial_indent="  checked      ",
                            subsequent_indent=" " * 15, break_on_hyphens=False))
    for line in found.not_checked:
        print(f"  not checked  {line}")
    if found.now is not None:
        now = found.now
        until = f", valid until {now.valid_until:%Y-%m-%d %H:%M:%S} UTC" if now.valid_until else ""
        print(f"  now          block {now.block_number}: {now.status}, owner {now.owner}{until}")


def register(app: typer.Typer) -> None:
    app.command("certificate")(certificate_command)
