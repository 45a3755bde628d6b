"""The certificate rendered: JSON that reads back, a bilingual A4 page with the QR code of the verify URL, and a
one-page PDF whose text holds the number and the Chinese title (and that refuses to print boxes)."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import segno

from dataseal.registry.certificates import Certificate, CertificateError, FontMissing, load_certificate
from dataseal.registry.certificates.render import (
    CJK_FONT,
    compute_qr_svg,
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
