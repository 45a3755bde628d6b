"""Rendering a certificate: JSON, a printable single-sided A4 page (HTML with inline CSS), and PDF.

- :func:`render_json` — the certificate document itself (what `verify` reads back).
- :func:`render_html` — one A4 page in Chinese, English or both (``lang`` "zh", "en", "zh-en"), from the
  jinja2 template ``templates/certificate.html.j2``; the QR code (segno, inline SVG: no image library) encodes
  the verify URL.
- :func:`render_pdf` — that page through weasyprint. Chinese needs a CJK font (WenQuanYi Micro Hei, Debian's
  ``fonts-wqy-microhei``): when the page holds Chinese and fontconfig has no such font, the PDF is refused
  with :class:`FontMissing` rather than printed with empty boxes.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import re
from datetime import datetime
from functools import cache
from typing import Any, Final

import segno
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from dataseal.errors import ErrorKind
from dataseal.registry.certificates.compute import check_language
from dataseal.registry.certificates.model import Certificate, CertificateError

#: The CJK font the page names first (Debian/Ubuntu: fonts-wqy-microhei).
CJK_FONT: Final = "WenQuanYi Micro Hei"
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")

#: Labels: key -> (Chinese, English).
LABELS: Final[dict[str, tuple[str, str]]] = {
    "heading": ("数据资产登记证书", "Data Asset Registration Certificate"),
    "subheading": ("区块链登记 · 链上可验证", "Registered on a blockchain · verifiable on chain"),
    "certificate_number": ("证书编号", "Certificate No."),
    "registration_number": ("登记号", "Registration No."),
    "title": ("数据名称", "Title"),
    "registrant": ("登记主体", "Registrant"),
    "owner": ("权利人", "Owner"),
    "rights_type": ("登记权利类型", "Rights registered"),
    "classification": ("数据分级", "Classification"),
    "licence": ("许可", "Licence"),
    "source": ("数据来源", "Source"),
    "lineage": ("沿革", "Lineage"),
    "registered_at": ("登记时间", "Registered"),
    "notice": ("公示期", "Public notice"),
    "validity": ("有效期", "Valid"),
    "status": ("状态", "Status"),
    "fingerprint": ("数据指纹", "Data fingerprint"),
    "content_root": ("内容根（默克尔根）", "Content root (Merkle)"),
    "manifest_hash": ("清单哈希", "Manifest hash"),
    "chain_record": ("链上记录", "On-chain record"),
    "chain": ("链 ID", "Chain ID"),
    "contract": ("登记合约", "Registry contract"),
    "transaction": ("交易哈希", "Transaction"),
    "block": ("区块", "Block"),
    "as_of": ("证书所据区块", "As of block"),
    "issued_at": ("出证时间", "Issued"),
    "scan": ("扫码核验", "Scan to verify"),
    "statement": ("本证书所载事项均取自区块链记录，任何人均可凭证书编号核验。",
                  "Every statement on this certificate is taken from the blockchain record; anyone can verify "
                  "it by its number."),
    "asset": ("资产", "Asset"),
    "unknown": ("未知（未附清单）", "unknown (no manifest given)"),
    "none": ("无", "none"),
    "no_notice": ("无（未启用审查）", "none (no review)"),
    "not_in_force": ("注意：本登记在所据区块时不处于有效状态", "Note: this registration was not in force as of the "
                     "certificate's block"),
    "to": ("至", "to"),
}
RIGHTS: Final[dict[str, tuple[str, str]]] = {
    "holding": ("数据资源持有权", "data resource holding"),
    "processing": ("数据加工使用权", "data processing and use"),
    "operation": ("数据产品经营权", "data product operation"),
}
CLASSIFICATION: Final[dict[str, tuple[str, str]]] = {
    "public": ("公开数据", "public"), "general": ("一般数据", "general"),
    "important": ("重要数据", "important"), "core": ("核心数据", "core"),
}
STATUS: Final[dict[str, tuple[str, str]]] = {
    "Pending": ("公示中", "pending (public notice)"), "Active": ("有效", "active"), "Suspended": ("中止", "suspended"),
    "Cancelled": ("已注销", "cancelled"), "Rejected": ("已驳回", "rejected"), "Disputed": ("异议中", "disputed"),
    "Expired": ("已过期", "expired"),
}
LINEAGE: Final[dict[str, tuple[str, str]]] = {
    "Version": ("资产 {parent} 的新版本", "a new version of asset {parent}"),
    "Derived": ("派生自资产 {parent}", "derived from asset {parent}"),
}


class FontMissing(CertificateError):
    """The CJK font a Chinese page needs is not installed."""

    kind = ErrorKind.UNAVAILABLE


def render_json(cert: Certificate) -> str:
    """The certificate document (indented JSON; what `verify` reads back)."""
    return cert.to_text()


def compute_qr_svg(url: str) -> str:
    """The QR code of ``url`` as an inline SVG element (error correction M, a 4-module quiet zone; sized by CSS)."""
    return str(segno.make(url, error="m", micro=False).svg_inline(omitsize=True, dark="#111", border=4))


@cache
def _environment() -> Environment:
    return Environment(loader=PackageLoader("dataseal.registry.certificates", "templates"),
                       autoescape=select_autoescape(["html", "j2"]), undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else ""


def compute_page_context(cert: Certificate, lang: str) -> dict[str, Any]:
    """What the template shows, in ``lang`` ("zh", "en" or "zh-en")."""
    lang = check_language(lang)
    zh, en = lang in ("zh", "zh-en"), lang in ("en", "zh-en")

    def pair(texts: tuple[str, str]) -> dict[str, str | None]:
        return {"zh": texts[0] if zh else None, "en": texts[1] if en else None}

    labels = {key: pair(texts) for key, texts in LABELS.items()}
    lineage = None
    if cert.lineage in LINEAGE:
        z, e = LINEAGE[cert.lineage]
        lineage = pair((z.format(parent=cert.parent_id), e.format(parent=cert.parent_id)))
    return {
        "cert": cert,
        "lang": lang,
        "html_lang": "zh-Hans" if zh else "en",
        "labels": labels,
        "rights": [pair(RIGHTS[name]) for name in cert.rights_type],
        "classification": pair(CLASSIFICATION[cert.classification]),
        "status": pair(STATUS[cert.status]),
        "in_force": cert.status == "Active",
        "lineage": lineage,
        "registered_at": _when(cert.registered_at),
        "notice_ends_at": _when(cert.notice_ends_at),
        "valid_from": _when(cert.valid_from),
        "valid_until": _when(cert.valid_until),
        "as_of_time": _when(cert.as_of.time),
        "issued_at": _when(cert.issued_at),
        "qr_svg": compute_qr_svg(cert.verify_url),
        "cjk_font": CJK_FONT,
    }


def render_html(cert: Certificate, lang: str | None = None) -> str:
    """The certificate as one printable A4 page (HTML, inline CSS and SVG), in ``lang`` (default: the
    certificate's own language)."""
    return _environment().get_template("certificate.html.j2").render(
        compute_page_context(cert, lang or cert.language))


def render_pdf(cert: Certificate, lang: str | None = None, *, cjk_font: str = CJK_FONT) -> bytes:
    """The page of :func:`render_html` as a one-page A4 PDF (weasyprint).

    :class:`FontMissing` when the page holds Chinese (labels or data) and fontconfig has no ``cjk_font``.
    """
    html = render_html(cert, lang)
    if _CJK.search(html) and not has_font(cjk_font):
        raise FontMissing(
            f"the certificate holds Chinese text, and the font {cjk_font!r} it needs is not installed: the PDF "
            "would print empty boxes",
            hint="install WenQuanYi Micro Hei (Debian and Ubuntu: apt-get install fonts-wqy-microhei), or "
            "issue the certificate in English when its data has no Chinese text",
            options=("language",),
        )
    from weasyprint import HTML  # imported here: loading Pango takes a moment, and only PDFs need it

    document = HTML(string=html).render()
    if len(document.pages) != 1:
        raise CertificateError(f"the certificate's page overflows onto {len(document.pages)} pages",
                               hint="shorten the manifest's title, licence or source", kind=ErrorKind.INTERNAL)
    pdf: bytes = document.write_pdf()
    return pdf


def has_font(family: str) -> bool:
    """Whether fontconfig has a font of ``family`` (matched by name, not substituted by a fallback)."""
    path = ctypes.util.find_library("fontconfig")
    if path is None:
        return False
    lib = ctypes.CDLL(path)
    lib.FcInitLoadConfigAndFonts.restype = ctypes.c_void_p
    lib.FcNameParse.restype = ctypes.c_void_p
    lib.FcNameParse.argtypes = [ctypes.c_char_p]
    lib.FcConfigSubstitute.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    lib.FcDefaultSubstitute.argtypes = [ctypes.c_void_p]
    lib.FcFontMatch.restype = ctypes.c_void_p
    lib.FcFontMatch.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)]
    lib.FcPatternGetString.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                       ctypes.POINTER(ctypes.c_char_p)]
    lib.FcPatternDestroy.argtypes = [ctypes.c_void_p]
    lib.FcConfigDestroy.argtypes = [ctypes.c_void_p]
    config = lib.FcInitLoadConfigAndFonts()
    pattern = lib.FcNameParse(family.replace("-", "\\-").encode())
    try:
        lib.FcConfigSubstitute(config, pattern, 0)  # FcMatchPattern
        lib.FcDefaultSubstitute(pattern)
        result = ctypes.c_int()
        match = lib.FcFontMatch(config, pattern, ctypes.byref(result))
        if not match:
            return False
        try:
            names = []
            for index in range(16):  # a font has its family name in several languages
                value = ctypes.c_char_p()
                if lib.FcPatternGetString(match, b"family", index, ctypes.byref(value)) != 0:
                    break
                names.append((value.value or b"").decode("utf-8", "replace"))
            return family.casefold() in (name.casefold() for name in names)
        finally:
            lib.FcPatternDestroy(match)
    finally:
        lib.FcPatternDestroy(pattern)
        lib.FcConfigDestroy(config)
