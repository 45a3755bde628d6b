"""Registration certificates: numbered (ISO/IEC 7064 check characters), computed from the chain alone,
verifiable field by field, rendered as JSON, a printable A4 page (HTML) and PDF, in Chinese and English.

    cert = compute_certificate(contracts, LogReader(w3), deployment, asset_id, manifest, now=datetime.now(UTC))
    Path("cert.pdf").write_bytes(render_pdf(cert, "zh-en"))
    report = verify_certificate(read_certificate(Path("cert.json")), contracts, LogReader(w3))  # or raises
"""
from dataseal.registry.certificates.compute import compute_certificate, read_asset_facts
from dataseal.registry.certificates.model import (
    CERTIFICATE_KIND,
    DEFAULT_BASE_URL,
    Certificate,
    CertificateError,
    load_certificate,
    read_certificate,
)
from dataseal.registry.certificates.numbering import (
    NumberError,
    compute_certificate_number,
    compute_registration_number,
    parse_certificate_number,
    parse_registration_number,
)
from dataseal.registry.certificates.render import FontMissing, render_html, render_json, render_pdf
from dataseal.registry.certificates.verify import (
    CertificateLapsed,
    CertificateMismatch,
    CertificateReport,
    FieldMismatch,
    Lapse,
    compute_certificate_report,
    compute_lapses,
    verify_certificate,
    verify_report,
)

__all__ = [
    "CERTIFICATE_KIND",
    "DEFAULT_BASE_URL",
    "Certificate",
    "CertificateError",
    "CertificateLapsed",
    "CertificateMismatch",
    "CertificateReport",
    "FieldMismatch",
    "FontMissing",
    "Lapse",
    "NumberError",
    "compute_certificate",
    "compute_certificate_number",
    "compute_certificate_report",
    "compute_lapses",
    "compute_registration_number",
    "load_certificate",
    "parse_certificate_number",
    "parse_registration_number",
    "read_asset_facts",
    "read_certificate",
    "render_html",
    "render_json",
    "render_pdf",
    "verify_certificate",
    "verify_report",
]
