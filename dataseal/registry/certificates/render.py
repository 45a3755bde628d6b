"""Rendering a certificate: JSON, a printable single-sided A4 page (HTML with inline CSS), and PDF.

- :func:`render_json` — the certificate document itself (what `verify` reads back).
- :func:`render_html` — one A4 page in Chinese, English or both (``lang`` "zh", "en", "zh-en"), from the
  jinja2 template ``templates/certificate.html.j2``; the QR code (segno, inline SVG: no image library) encodes
  the verify URL. The page names which fields are chain data and which come from the manifest (bound by its hash on
  chain), labels the registrant and owner as blockchain accounts, names the chain, and shows every time in UTC and
  Beijing time. Its footer follows the content, and the title, licence and source are clamped (:data:`CLAMPS`) so that
  one page always holds it; the JSON keeps them whole.
- :func:`render_pdf` — that page through weasyprint. Chinese needs a CJK font (WenQuanYi Micro Hei, Debian's
  ``fonts-wqy-microhei``): when the page holds Chinese and fontconfig has no such font, the PDF is refused
  with :class:`FontMissing` rather than printed with empty boxes.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from typing import Any, Final

import segno
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from dataseal.chain.embedded.defaults import DEFAULT_CHAIN_ID
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
    "numbers_note": ("证书编号标识本次出证（截至所据区块，每次出证各不相同）；登记号标识该项登记。",
                     "The certificate number identifies this issuance (as of its block; each issuance has its own); "
                     "the registration number identifies the registration."),
    "title": ("数据名称", "Title"),
    "registrant": ("登记主体", "Registrant"),
    "owner": ("权利人", "Owner"),
    "account": ("区块链账户", "blockchain account"),
    "rights_type": ("登记权利类型", "Rights registered"),
    "classification": ("数据分级", "Classification"),
    "licence": ("许可", "Licence"),
    "source": ("数据来源", "Source"),
    "lineage": ("沿革", "Lineage"),
    "status": ("状态", "Status"),
    "times": ("时间（有效期自登记时间起）", "Times (valid from the registration)"),
    "utc": ("协调世界时 (UTC)", "UTC"),
    "beijing": ("北京时间 (UTC+8)", "Beijing time (UTC+8)"),
    "registered_at": ("登记时间", "Registered"),
    "valid_from": ("有效期起", "Valid from"),
    "notice_ends": ("公示期止", "Public notice ends"),
    "valid_until": ("有效期至", "Valid until"),
    "as_of_time": ("所据区块时间", "As-of block time"),
    "issued_at": ("出证时间", "Issued"),
    "fingerprint": ("数据指纹", "Data fingerprint"),
    "content_root": ("内容根（默克尔根）", "Content root (Merkle)"),
    "manifest_hash": ("清单哈希", "Manifest hash"),
    "chain_record": ("链上记录", "On-chain record"),
    "chain": ("链", "Chain"),
    "asset": ("资产编号", "Asset ID"),
    "contract": ("登记合约", "Registry contract"),
    "transaction": ("交易哈希", "Transaction"),
    "block": ("区块", "Block"),
    "registration_block": ("登记", "registration"),
    "as_of_block": ("证书所据", "certificate as of"),
    "as_of": ("证书所据区块", "As of block"),
    "scan": ("扫码查看登记记录", "Scan for the record"),
    "statement": ("未标 † 的各项取自区块链记录（截至所据区块）；标 † 的各项取自登记时提交的数据清单，"
                  "链上只记录清单哈希，清单内容由该哈希约束。",
                  "Fields without † are read from the blockchain as of the certificate's block; fields marked † come "
                  "from the dataset's manifest, whose hash alone is on chain and binds them."),
    "how_to_verify": ("核验：扫描二维码查看登记记录，或对本证书的 JSON 文件运行 dataseal certificate verify。",
                      "To verify: open the QR code's address, or run dataseal certificate verify on this "
                      "certificate's JSON file."),
    "shortened": ("以“…”结尾的文字在本页已截短，全文见证书的 JSON 文件。",
                  "Text ending in “…” is shortened on this page; the certificate's JSON file holds it in full."),
    "unknown": ("未知（未附清单）", "unknown (no manifest given)"),
    "none": ("无", "none"),
    "no_notice": ("无（未启用审查）", "none (no review)"),
    "not_in_force": ("注意：本登记在所据区块时不处于有效状态", "Note: this registration was not in force as of the "
                     "certificate's block"),
}
#: What a chain is, by its chain id; any other id is shown by its number alone.
CHAINS: Final[dict[int, tuple[str, str]]] = {
    DEFAULT_CHAIN_ID: ("dataseal 节点的链", "a dataseal node's chain"),
    31337: ("本地开发链（Hardhat / Anvil）", "a local development chain (Hardhat / Anvil)"),
    1: ("以太坊主网", "Ethereum mainnet"),
    11155111: ("以太坊 Sepolia 测试网", "Ethereum Sepolia testnet"),
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


#: Free text the page shows at most, in em of its font (estimated by :func:`compute_text_width`): two lines of
#: the title, of the licence and of the source. Longer text is cut with an ellipsis and the page says so (the
#: certificate's JSON keeps it whole), so that one A4 page always holds the certificate.
CLAMPS: Final[dict[str, float]] = {"title": 46.0, "licence": 56.0, "source": 56.0}
#: Beijing time, which the page shows beside UTC.
BEIJING: Final = timezone(timedelta(hours=8))
_ELLIPSIS = "…"


def compute_text_width(text: str) -> float:
    """``text``'s width in em, estimated on the generous side: a wide (CJK) character or a capital letter 1 (a
    "W" is nearly an em wide), any other 0.7."""
    return sum(1.0 if char.isupper() or unicodedata.east_asian_width(char) in "WF" else 0.7 for char in text)


def compute_clamped(text: str, budget: float) -> tuple[str, bool]:
    """``text`` with its whitespace runs made single spaces, cut to ``budget`` em (:func:`compute_text_width`) with
    an ellipsis when longer, and whether it was cut."""
    text = " ".join(text.split())
    if compute_text_width(text) <= budget:
        return text, False
    width, end = 1.0, 0  # the ellipsis is one em
    for end, char in enumerate(text):  # noqa: B007  # end is the first character left out
        width += compute_text_width(char)
        if width > budget:
            break
    return text[:end].rstrip() + _ELLIPSIS, True


def _free_text(value: str | None, budget: float) -> dict[str, Any] | None:
    if value is None:
        return None
    text, cut = compute_clamped(value, budget)
    return {"text": text, "shortened": cut}


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _beijing(value: datetime) -> str:
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


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

    def time(key: str, value: datetime) -> dict[str, Any]:
        return {"label": labels[key], "utc": _utc(value), "beijing": _beijing(value)}

    times = [time("registered_at", cert.registered_at)]
    if cert.valid_from != cert.registered_at:  # never in a certificate dataseal issued
        times.append(time("valid_from", cert.valid_from))
    if cert.notice_ends_at is not None:
        times.append(time("notice_ends", cert.notice_ends_at))
    else:
        times.append({"label": labels["notice_ends"], "none": labels["no_notice"]})
    times += [time("valid_until", cert.valid_until),
              time("as_of_time", cert.as_of.time),
              time("issued_at", cert.issued_at)]
    free = {name: _free_text(getattr(cert, name), budget) for name, budget in CLAMPS.items()}
    return {
        "cert": cert,
        "lang": lang,
        "html_lang": "zh-Hans" if zh else "en",
        "labels": labels,
        **free,
        "shortened": any(field is not None and field["shortened"] for field in free.values()),
        "rights": [pair(RIGHTS[name]) for name in cert.rights_type],
        "classification": pair(CLASSIFICATION[cert.classification]),
        "status": pair(STATUS[cert.status]),
        "in_force": cert.status == "Active",
        "lineage": lineage,
        "chain": pair(CHAINS[cert.chain_id]) if cert.chain_id in CHAINS else None,
        "times": times,
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
