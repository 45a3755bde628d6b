"""The certificate rendered: JSON that reads back, a bilingual A4 page with the QR code of the verify URL, and a
one-page PDF whose text holds the number and the Chinese title (and that refuses to print boxes)."""
from __future__ import annotations

import json
import re
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import segno

from dataseal.registry.certificates import Certificate, CertificateError, FontMissing, load_certificate
from dataseal.registry.certificates.render import (
    CJK_FONT,
    compute_clamped,
    compute_qr_svg,
    compute_text_width,
    has_font,
    render_html,
    render_json,
    render_pdf,
)
from tests.conftest import Chain
from tests.registry.certificates.conftest import TITLE, Registered, issue, register, seal_manifest


@pytest.fixture
def cert(pyevm: Chain, registered: Registered) -> Certificate:
    return issue(pyevm, registered)


def test_the_json_is_the_certificate(cert: Certificate) -> None:
    text = render_json(cert)
    assert TITLE in text  # Chinese kept as it is
    assert load_certificate(json.loads(text)) == cert


def test_the_page_is_bilingual_or_in_one_language(cert: Certificate) -> None:
    both, zh, en = render_html(cert, "zh-en"), render_html(cert, "zh"), render_html(cert, "en")
    for page in (both, zh, en):
        assert cert.certificate_number in page and cert.registration_number in page and TITLE in page
        assert cert.content_root in page and cert.registration.tx_hash in page and "@page { size: A4;" in page
    assert "数据资产登记证书" in both and "Data Asset Registration Certificate" in both
    assert "数据资产登记证书" in zh and "Data Asset Registration Certificate" not in zh and 'lang="zh-Hans"' in zh
    assert "数据资产登记证书" not in en and "Data Asset Registration Certificate" in en and 'lang="en"' in en
    assert "数据资源持有权" in zh and "data processing and use" in en
    assert render_html(cert) == both  # the certificate's own language by default
    with pytest.raises(CertificateError, match="unknown certificate language 'de'"):
        render_html(cert, "de")


def test_the_qr_code_is_the_verify_url_inline(cert: Certificate) -> None:
    page = render_html(cert)
    svg = compute_qr_svg(cert.verify_url)
    assert svg.startswith("<svg") and 'class="segno"' in svg and svg in page
    assert compute_qr_svg(cert.verify_url.replace("/assets/1", "/assets/2")) not in page  # another URL, another code
    assert "<img" not in page and "data:image" not in page  # nothing rasterised
    assert cert.verify_url in page


def test_the_page_escapes_what_the_manifest_says(pyevm: Chain, tmp_path: Path) -> None:
    registered = register(pyevm, seal_manifest(tmp_path, "<script>alert(1)</script>", source="a & b"))
    page = render_html(issue(pyevm, registered))
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "a &amp; b" in page


def test_a_registration_not_in_force_says_so(pyevm_review: Chain, tmp_path: Path) -> None:
    pending = issue(pyevm_review, register(pyevm_review, seal_manifest(tmp_path)))
    page = render_html(pending, "zh-en")
    assert "公示中" in page and "本登记在所据区块时不处于有效状态" in page and "was not in force" in page


def _pdf_text(pdf: bytes, tmp_path: Path) -> tuple[str, str]:
    path = tmp_path / "cert.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return text, info


def test_the_pdf_is_one_a4_page_holding_the_number_and_the_chinese_title(cert: Certificate, tmp_path: Path) -> None:
    text, info = _pdf_text(render_pdf(cert, "zh-en"), tmp_path)
    assert cert.certificate_number in text and cert.registration_number in text
    assert TITLE in text and "数据资产登记证书" in text and "Data Asset Registration Certificate" in text
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE) and "595.276 x 841.89 pts (A4)" in info
    fonts = subprocess.run(["pdffonts", str(tmp_path / "cert.pdf")], capture_output=True, text=True,
                           check=True).stdout
    assert "WenQuanYi-Micro-Hei" in fonts


def test_a_missing_cjk_font_is_named_rather_than_printed_as_boxes(cert: Certificate, pyevm: Chain,
                                                                 tmp_path: Path) -> None:
    assert has_font(CJK_FONT) and not has_font("No Such Font Family 42")
    with pytest.raises(FontMissing, match="the certificate holds Chinese text, and the font 'No Such Font Family 42' "
                       "it needs is not installed") as caught:
        render_pdf(cert, "en", cjk_font="No Such Font Family 42")  # the title is Chinese even in English
    assert "fonts-wqy-microhei" in caught.value.hint and caught.value.options == ("language",)
    english = issue(pyevm, register(pyevm, seal_manifest(tmp_path, "Shenzhen ridership 2024", source="city")),
                    language="en")
    text, _ = _pdf_text(render_pdf(english, cjk_font="No Such Font Family 42"), tmp_path)
    assert "Shenzhen ridership 2024" in text and english.certificate_number in text


Modules = tuple[tuple[bool, ...], ...]


def _expected_modules(url: str) -> Modules:
    """The modules (dark = True) of ``url``'s QR code at error correction M, no quiet zone."""
    return tuple(tuple(bool(module) for module in row) for row in segno.make(url, error="m", micro=False).matrix)


def _svg_modules(page: str) -> Modules:
    """The modules the page's QR code (segno's path: ``M x y`` / ``m dx dy`` moves, ``h n`` dark runs) draws,
    read back from the SVG and cut to the dark modules' bounding box (the code without its quiet zone)."""
    (svg,) = re.findall(r'<svg viewBox="0 0 (\d+) \1" class="segno">.*?</svg>', page, re.DOTALL)
    size = int(svg)
    (path,) = re.findall(r'<svg viewBox="0 0 \d+ \d+" class="segno"><path [^>]*d="([^"]+)"', page)
    grid = [[False] * size for _ in range(size)]
    x = y = 0.0
    for op, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?:[ ,](-?[\d.]+))?", path):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            for column in range(int(x), int(x) + int(a)):
                grid[int(y)][column] = True
            x += int(a)
    return _crop(grid)


def _crop(grid: list[list[bool]]) -> Modules:
    rows = [i for i, row in enumerate(grid) if any(row)]
    columns = [j for j in range(len(grid[0])) if any(row[j] for row in grid)]
    return tuple(tuple(grid[i][j] for j in range(columns[0], columns[-1] + 1)) for i in range(rows[0], rows[-1] + 1))


def _pdf_modules(pdf: bytes, tmp_path: Path) -> Modules:
    """The modules of the QR code printed in the PDF: the page rasterised (pdftoppm, 600 dpi, grey), the code's
    white square found (the only pure white inside the cream frame), the module size measured on the top-left finder
    pattern (a run of 7 dark modules), and each module read at its centre."""
    from PIL import Image  # weasyprint's own dependency

    (tmp_path / "qr.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "600", "-gray", "-png", "-singlefile", str(tmp_path / "qr.pdf"),
                    str(tmp_path / "qr")], check=True)
    with Image.open(tmp_path / "qr.png") as image:
        page = image.convert("L")
    inside = round(20 / 25.4 * 600)  # 20 mm in: past the white page margin and the sheet's double border
    framed = page.crop((inside, inside, page.width - inside, page.height - inside))
    white = framed.point(lambda v: 255 if v == 255 else 0).getbbox()
    assert white is not None
    square = framed.crop(white)
    dark = square.point(lambda v: 255 if v < 128 else 0)
    box = dark.getbbox()
    assert box is not None
    left, top, right, bottom = box
    run = next(i for i in range(left, right) if square.getpixel((i, top + 2)) >= 128) - left  # type: ignore[operator]
    module = run / 7
    count = round((right - left) / module)
    assert count == round((bottom - top) / module)
    return tuple(tuple(square.getpixel((int(left + (j + 0.5) * module), int(top + (i + 0.5) * module))) < 128  # type: ignore[operator]
                       for j in range(count)) for i in range(count))


def test_the_qr_code_on_the_page_and_in_the_pdf_encodes_exactly_the_verify_url(cert: Certificate,
                                                                              tmp_path: Path) -> None:
    """Read back module by module (not compared as text): what a phone scanning the printout opens is verifyUrl."""
    expected = _expected_modules(cert.verify_url)
    other = _expected_modules(cert.verify_url.replace("127.0.0.1:8000", "evil.example"))
    assert len(expected) == 33 and expected != other  # version 4; another address, another code
    page = render_html(cert, "zh-en")
    assert _svg_modules(page) == expected
    assert _pdf_modules(render_pdf(cert, "zh-en"), tmp_path) == expected


# --- what the page claims, and how it reads ---------------------------------------------------------------------

def test_the_page_says_which_fields_are_on_chain_and_how_to_verify(cert: Certificate) -> None:
    for page in (render_html(cert, "zh-en"), render_html(cert, "zh"), render_html(cert, "en")):
        assert "dataseal certificate verify" in page  # a document for people: the command that checks it
        assert "证书编号核验" not in page and "verify it by its number" not in page  # nothing verifies by number
        assert "均取自区块链记录" not in page and "Every statement on this certificate" not in page
        assert page.count('<span class="dagger">†</span>') == 3  # title, licence and source: from the manifest
    both = render_html(cert, "zh-en")
    assert "标 † 的各项取自登记时提交的数据清单，链上只记录清单哈希" in both
    assert "fields marked † come from the dataset&#39;s manifest, whose hash alone is on chain and binds them" in both
    assert "扫描二维码查看登记记录" in both and "open the QR code&#39;s address" in both
    assert "证书编号标识本次出证" in both and "登记号标识该项登记" in both
    assert "The certificate number identifies this issuance (as of its block" in both


def test_the_page_has_a_plain_mark_not_a_seal(cert: Certificate) -> None:
    page = render_html(cert, "zh-en")
    assert 'class="mark"' in page and ">dataseal</text>" in page
    assert "#c0392b" not in page and "L55.9 36.1" not in page  # no red, no five-pointed star


def test_accounts_chain_and_times_are_labelled(cert: Certificate) -> None:
    both = render_html(cert, "zh-en")
    assert both.count("区块链账户 / blockchain account") == 2  # registrant and owner: accounts, not names
    assert f"{cert.registrant}</span>" in both and f"{cert.owner}</span>" in both
    registered = cert.registered_at
    assert f"{registered:%Y-%m-%d %H:%M:%S}" in both and f"{registered + timedelta(hours=8):%Y-%m-%d %H:%M:%S}" in both
    assert f"{cert.issued_at + timedelta(hours=8):%Y-%m-%d %H:%M:%S}" in both
    assert "协调世界时 (UTC) / UTC" in both and "北京时间 (UTC+8) / Beijing time (UTC+8)" in both
    assert "Beijing time (UTC+8)" in render_html(cert, "en") and "北京时间 (UTC+8)" in render_html(cert, "zh")
    for chain_id, said in ((1684108385, "dataseal 节点的链 / a dataseal node&#39;s chain"),
                           (31337, "本地开发链（Hardhat / Anvil） / a local development chain (Hardhat / Anvil)"),
                           (1, "以太坊主网 / Ethereum mainnet")):
        page = render_html(cert.model_copy(update={"chain_id": chain_id}), "zh-en")
        assert f'<span class="mono addr">{chain_id}</span> · {said}</td>' in page
    page = render_html(cert.model_copy(update={"chain_id": 424242}), "zh-en")
    assert '<span class="mono addr">424242</span></td>' in page  # a chain it does not know: its id alone


def test_text_width_and_clamping() -> None:
    assert compute_text_width("数据") == 2.0 and compute_text_width("ab") == pytest.approx(1.4)
    assert compute_clamped("  a\n b\tc ", 10) == ("a b c", False)
    text, cut = compute_clamped("数" * 30, 10.0)
    assert cut and text == "数" * 9 + "…" and compute_text_width(text) <= 10.0
    text, cut = compute_clamped("word " * 40, 20.0)
    assert cut and text.endswith("…") and not text.endswith(" …") and compute_text_width(text) <= 20.0
    assert compute_clamped("数" * 10, 10.0) == ("数" * 10, False)  # exactly the budget: whole


LONG_TITLE = ("上海市2024年度个人消费信贷风险评估样本数据集（脱敏后，含收入、年龄、地区等字段）" * 3
              + "Shanghai 2024 consumer credit risk sample, anonymised, with income, age and region fields " * 2)[:300]
LONG_SOURCE = "某商业银行零售信贷部 / Retail credit dept. of a commercial bank, Pudong branch, data office " * 4
LONG_LICENCE = "CC-BY-NC-ND-4.0 with additional terms for research use only, see https://example.org/" + "x" * 200


def _words(pdf: Path) -> list[tuple[str, float, float, float, float]]:
    """The PDF's words with their boxes (points, from the top left), in reading order (pdftotext -bbox)."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [(text, float(x0), float(y0), float(x1), float(y1)) for x0, y0, x1, y1, text in re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', html)]


def _qr_box(pdf: Path, tmp_path: Path) -> tuple[float, float, float, float]:
    """The QR code's white square on the page (points): the only pure white inside the cream frame."""
    from PIL import Image

    dpi = 150
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "-singlefile", str(pdf), str(tmp_path / "page")],
                   check=True)
    with Image.open(tmp_path / "page.png") as image:
        page = image.convert("L")
    inside = round(20 / 25.4 * dpi)
    framed = page.crop((inside, inside, page.width - inside, page.height - inside))
    white = framed.point(lambda v: 255 if v == 255 else 0).getbbox()
    assert white is not None
    x0, y0, x1, y1 = ((v + inside) * 72 / dpi for v in white)
    return x0, y0, x1, y1


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    slack = 0.5  # points: glyph boxes of neighbouring lines may touch
    return a[0] + slack < b[2] and b[0] + slack < a[2] and a[1] + slack < b[3] and b[1] + slack < a[3]


@pytest.mark.parametrize("lang", ["zh-en", "en"])
def test_a_long_title_licence_and_source_keep_one_readable_page(pyevm: Chain, tmp_path: Path, lang: str) -> None:
    """The newcomer's walk: a ~300-character title, all three rights and a long source printed the footer and the QR
    code over the chain record. Now the long text is clamped (the JSON keeps it whole, and the page says so) and
    nothing on the page overlaps anything else."""
    manifest = seal_manifest(tmp_path, LONG_TITLE, rights=("holding", "processing", "operation"),
                             licence=LONG_LICENCE, source=LONG_SOURCE)
    cert = issue(pyevm, register(pyevm, manifest), language=lang)
    assert LONG_TITLE in render_json(cert) and LONG_SOURCE.strip() in render_json(cert)  # the document keeps all
    pdf = tmp_path / "long.pdf"
    pdf.write_bytes(render_pdf(cert))
    text, info = _pdf_text(pdf.read_bytes(), tmp_path)
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE)
    flat = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", LONG_TITLE) not in flat and re.sub(r"\s+", "", LONG_TITLE[:40]) in flat
    assert "…" in text and "shortenedonthispage" in flat
    if lang == "zh-en":
        assert "已截短" in flat

    words = _words(pdf)
    boxes = [w[1:] for w in words]
    clashes = [(a[0], b[0]) for i, a in enumerate(words) for b in words[i + 1:] if _overlap(a[1:], b[1:])]
    assert clashes == []
    qr = _qr_box(pdf, tmp_path)
    assert [w[0] for w in words if _overlap(w[1:], qr)] == []  # no text under the QR code's white square
    first = "未标" if lang == "zh-en" else "Fields"
    footer = next(i for i, w in enumerate(words) if w[0] == first)
    body_bottom = max(box[3] for box in boxes[:footer])
    footer_top = min(box[1] for box in boxes[footer:])
    assert [w for w in words[:footer] if w[0] == cert.registration.tx_hash]  # the chain record is on the page
    assert body_bottom < footer_top  # the footer starts below the last row
    inner_bottom = (10 + 276 - 5.2 - 0.35) / 25.4 * 72  # the page margin, the sheet, its border and padding, the frame
    assert max(box[3] for box in boxes) < inner_bottom  # and ends inside the frame
