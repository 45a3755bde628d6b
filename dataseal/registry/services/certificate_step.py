"""The registration certificate a registration writes as its last step, in the seal's folder beside
``manifest.json``: an earlier run's kept when it is this very registration's, else a new one as of the latest block."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hexbytes import HexBytes
from web3.exceptions import BlockNotFound

from dataseal.chain.contracts.logs import LogReader
from dataseal.chain.contracts.records import AssetRecord
from dataseal.chain.files import write_atomic
from dataseal.registry.certificates.compute import check_base_url, check_language, compute_certificate
from dataseal.registry.certificates.model import DEFAULT_BASE_URL, AsOf, Certificate, CertificateError, read_certificate
from dataseal.registry.certificates.render import CJK_FONT, FontMissing, render_html, render_json, render_pdf
from dataseal.registry.manifest import Manifest
from dataseal.registry.services.writer import Clock, Writer

#: The certificate's files in the seal's folder: certificate.json (the document), .html, .pdf.
CERTIFICATE_STEM = "certificate"



@dataclass(frozen=True)
class CertificateOptions:
    """The registration certificate :func:`register` and :func:`register_version` write as their last step, in the
    seal's folder beside ``manifest.json``: ``certificate.json`` always (the document ``verify`` reads), ``.html``
    (one printable A4 page) with ``html``, ``.pdf`` with ``pdf`` (weasyprint: a second or two; skipped, and said
    so, when a Chinese page has no ``cjk_font``). ``language``: zh, en or zh-en; ``base_url``: where the public
    record the QR code opens is served."""

    html: bool = True
    pdf: bool = False
    language: str = "zh-en"
    base_url: str = DEFAULT_BASE_URL
    cjk_font: str = CJK_FONT

    def check(self) -> None:
        """:class:`CertificateError` naming the option when the language or the base URL is not one."""
        check_language(self.language)
        check_base_url(self.base_url)


DEFAULT_CERTIFICATE = CertificateOptions()


@dataclass(frozen=True)
class WrittenCertificate:
    """The certificate files written (``files[0]`` is the JSON document), its number, and whether an earlier run's
    certificate of the same registration was kept (``reused``); ``skipped``: why a format asked for was not
    written (None: all were)."""

    number: str
    files: tuple[Path, ...]
    reused: bool = False
    skipped: str | None = None

    @property
    def path(self) -> Path:
        return self.files[0]

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "path": str(self.path), "files": [str(f) for f in self.files],
                "reused": self.reused, "skipped": self.skipped}


def write_certificate(writer: Writer, folder: Path, manifest: Manifest, record: AssetRecord,
                      options: CertificateOptions, clock: Clock) -> WrittenCertificate:
    """The registration's certificate in the seal's folder: an earlier run's, when ``certificate.json`` there is
    already this registration's (same chain, contract, asset, transaction, manifest, language and verify URL
    base), else a new one as of the latest block (issued at ``clock.now()``). The other formats are written from
    it; a format not asked for that an earlier certificate left there is removed (the folder's certificate files
    are one certificate's). The JSON goes last, so that a crash before it makes the next run start afresh."""
    paths = {kind: folder / f"{CERTIFICATE_STEM}.{kind}" for kind in ("json", "html", "pdf")}
    cert = _earlier_certificate(paths["json"], writer, record, manifest, options)
    reused = cert is not None
    if cert is None:
        connection = writer.registry.context.connection
        cert = compute_certificate(writer.contracts, LogReader(connection.w3, endpoint=connection.endpoint),
                                   writer.deployment, record.asset_id, manifest, base_url=options.base_url,
                                   now=datetime.fromtimestamp(int(clock.now()), UTC), language=options.language)
    skipped = None
    contents: dict[str, bytes] = {}
    if options.html:
        contents["html"] = render_html(cert).encode("utf-8")
    if options.pdf and not (reused and paths["pdf"].is_file()):  # an earlier run's PDF of this certificate stands
        try:
            contents["pdf"] = render_pdf(cert, cjk_font=options.cjk_font)
        except FontMissing as exc:
            skipped = f"no PDF: {exc.message}"
    if not reused:  # an earlier certificate's other formats go (one asked for but skipped too)
        for kind in ("html", "pdf"):
            if kind not in contents and paths[kind].is_file():
                paths[kind].unlink()
    contents["json"] = render_json(cert).encode("utf-8")
    for kind, content in contents.items():
        write_atomic(paths[kind], content, mode=0o644)
    # every certificate file in the folder is this certificate's now: a new one's others were removed above
    files = [paths["json"], *(paths[kind] for kind in ("html", "pdf") if paths[kind].is_file())]
    return WrittenCertificate(cert.certificate_number, tuple(files), reused=reused, skipped=skipped)


def _earlier_certificate(path: Path, writer: Writer, record: AssetRecord, manifest: Manifest,
                         options: CertificateOptions) -> Certificate | None:
    """The certificate at ``path`` when it is this registration's, issued with these options; None otherwise."""
    if not path.is_file():
        return None
    try:
        cert = read_certificate(path)
    except CertificateError:
        return None  # not a certificate (a crash cannot leave one half-written: it is written atomically)
    mine = (cert.chain_id == writer.deployment.chain_id and cert.contract == writer.contracts.registry.address
            and cert.asset_id == record.asset_id and cert.registration.tx_hash == record.tx.tx_hash
            and cert.registration.block_hash.lower() == record.tx.block_hash.lower()
            and cert.manifest_hash == manifest.hash_hex and cert.manifest == manifest
            and cert.language == options.language
            and cert.verify_url.startswith(f"{options.base_url.rstrip('/')}/assets/"))
    return cert if mine and _is_canonical(writer, cert.as_of) else None


def _is_canonical(writer: Writer, as_of: AsOf) -> bool:
    """Whether the block a certificate was issued as of is still the chain's at its height (a reorganisation may have
    replaced it: the certificate then attests a state the chain never had)."""
    try:
        block = writer.w3.eth.get_block(as_of.block_number)
    except BlockNotFound:
        return False
    return HexBytes(block["hash"]).to_0x_hex().lower() == as_of.block_hash.lower()
