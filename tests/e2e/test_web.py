"""The public pages in a real headless Chromium, against the quickstart's `dataseal up` (tests/e2e/conftest.py): an
asset looked up from its certificate's QR URL, its trail read, a matching and a modified file verified in the
browser (the file never leaves it), a bundle dropped on the page, bad input, a phone, no JavaScript, the keyboard,
Chinese, and axe-core's accessibility rules. Screenshots of each page go to test-output/web/<test>/: look at them."""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.quickstart import Journey, dataseal
from tests.support.browser import Tab, Tabs
from tests.support.devnode import ROOT

pytestmark = [pytest.mark.usefixtures("journey"), pytest.mark.xdist_group("e2e-journey")]

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
#: The rules checked: WCAG 2.1 A and AA, and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
MIB = 1 << 20


@dataclass(frozen=True)
class Big:
    """A 3 MiB file registered in 1 MiB chunks (three), for the file checks."""

    path: Path
    asset_id: int


@pytest.fixture(scope="module")
def big(journey: Journey) -> Big:
    path = journey.folder / "measurements.bin"
    path.write_bytes(os.urandom(3 * MIB))
    done = dataseal(journey.folder, "register", str(path), "--json", "--account", journey.up.ready["operator"])
    assert done.returncode == 0, done.stderr
    return Big(path, int(json.loads(done.stdout)["asset_id"]))


def api(journey: Journey) -> str:
    return journey.up.api


def axe_violations(tab: Tab) -> list[dict[str, Any]]:
    """axe-core's violations of :data:`AXE_TAGS` on the page as it is now (run through Playwright's evaluate, which
    the pages' content security policy does not block)."""
    tab.page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    found = tab.page.evaluate("tags => axe.run(document, {runOnly: tags})", AXE_TAGS)
    return [{"id": v["id"], "impact": v["impact"], "targets": [n["target"] for n in v["nodes"]]}
            for v in found["violations"]]


def drop_file(tab: Tab, target: str, name: str, content: bytes, mime: str = "application/json") -> None:
    """Drop a file named ``name`` holding ``content`` on ``target`` as a user's drag would (dragenter, dragover,
    drop, with a DataTransfer holding the File)."""
    tab.page.evaluate("""([selector, name, bytes, mime]) => {
        const zone = document.querySelector(selector);
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array(bytes)], name, {type: mime}));
        for (const type of ["dragenter", "dragover", "drop"]) {
            zone.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: transfer}));
        }
    }""", [target, name, list(content), mime])


# ---------------------------------------------------------------------------------------------- reading


def test_an_asset_is_looked_up_from_its_certificates_qr_url_and_its_trail_read(journey: Journey, tabs: Tabs) -> None:
    certificate = httpx.get(f"{api(journey)}/assets/2/certificate", params={"format": "json"}).json()
    qr_url = certificate["verifyUrl"]  # what the certificate's QR code encodes (dataseal up issues it at its API)
    assert qr_url == f"{api(journey)}/assets/2?cert={certificate['certificateNumber']}"
    tab = tabs.open()
    page = tab.page
    page.goto(qr_url)
    assert page.locator("h1").inner_text().startswith("Asset 2 · Survey 2024")
    verdict = page.locator("#certificate .verdict")
    assert verdict.inner_text() == "✓ The certificate still holds: nothing on chain has changed what it states."
    fields = page.locator("#certificate table.fields")
    assert certificate["registrant"] in fields.inner_text() and certificate["contentRoot"] in fields.inner_text()
    # the trail as a timeline: registration, the grant, its usage and its revocation, each with its transaction
    events = page.locator("ol.timeline > li")
    headings = [events.nth(i).locator("h3").inner_text() for i in range(events.count())]
    assert headings[:2] == ["Ownership token issued to the registrant", "Registered"]
    assert {"Grant made", "Usage recorded", "Grant revoked"} <= set(headings)
    trail = httpx.get(f"{api(journey)}/assets/2/trail").json()["entries"]
    assert len(headings) == len(trail) and all(e["tx_hash"] in page.locator("#trail").inner_text() for e in trail)
    quota = page.locator("#grants meter")
    assert (quota.get_attribute("value"), quota.get_attribute("max")) == ("4", "4")
    assert "4 of 4 units used" in page.locator("#grants").inner_text()
    tab.screenshot("asset-from-qr")
    download = page.locator("a[href$='/trail/export?format=csv']")
    with page.expect_download() as downloaded:
        download.click()
    rows = Path(downloaded.value.path()).read_text(encoding="utf-8").splitlines()
    assert len(rows) == len(trail) + 1 and rows[0].startswith("block_number")
    assert axe_violations(tab) == []
    tab.assert_no_errors()


def test_the_pages_read_on_a_phone_in_chinese_and_without_javascript(journey: Journey, tabs: Tabs) -> None:
    phone = tabs.open(phone=True, locale="zh-CN")
    phone.page.goto(f"{api(journey)}/assets/2")
    assert phone.page.locator("html").get_attribute("lang") == "zh-CN"
    assert "已用 4 / 4 单位" in phone.page.locator("#grants").inner_text()
    width = phone.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} CSS pixels wide on a 390-pixel phone: it scrolls sideways"
    phone.screenshot("asset-phone-zh")
    phone.page.goto(f"{api(journey)}/verify?asset=2")
    phone.screenshot("verify-phone-zh")
    assert axe_violations(phone) == []
    phone.assert_no_errors()
    bare = tabs.open(javascript=False)
    bare.page.goto(f"{api(journey)}/")
    bare.page.fill("#search-q", "Survey")  # not a thing searched by: said so, without a script
    bare.page.press("#search-q", "Enter")
    assert "is none of the things the registry is searched by" in bare.page.locator(".problem").inner_text()
    bare.page.fill("#search-q", "2")
    bare.page.press("#search-q", "Enter")
    bare.page.wait_for_url("**/assets/2?lang=en")
    assert "4 of 4 units used" in bare.page.locator("#grants").inner_text()
    assert "need JavaScript" not in bare.page.content()
    bare.screenshot("asset-without-javascript")
    bare.page.goto(f"{api(journey)}/verify")
    assert "need JavaScript" in bare.page.locator("main").inner_text()  # the noscript note, shown without a script
    bare.screenshot("verify-without-javascript")
    bare.assert_no_errors(allow=[r"status of 400"])


def test_the_search_is_used_with_the_keyboard_alone(journey: Journey, tab: Tab) -> None:
    page = tab.page
    page.goto(f"{api(journey)}/")
    for _ in range(12):  # skip link, the header's links, then the search field
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "search-q":
            break
    assert page.evaluate("document.activeElement.id") == "search-q"
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    page.wait_for_url("**/assets/1?lang=en")
    assert page.locator("h1").inner_text().startswith("Asset 1")
    tab.screenshot("asset-1-by-keyboard")
    tab.assert_no_errors()


# ---------------------------------------------------------------------------------------------- verifying


def test_a_matching_file_is_verified_in_the_browser_without_leaving_it(journey: Journey, big: Big, tab: Tab) -> None:
    page = tab.page
    # every value the progress bar takes, as the page shows it (a MutationObserver on its value)
    page.add_init_script("""window.progressSeen = [];
        new MutationObserver(() => {
            const bar = document.getElementById('file-progress');
            if (bar) window.progressSeen.push(bar.value / bar.max);
        }).observe(document, {attributes: true, subtree: true, attributeFilter: ['value']});""")
    page.goto(f"{api(journey)}/verify?asset={big.asset_id}")
    page.set_input_files("#file-input", str(big.path))
    result = page.locator("#file-result h3.result")
    result.wait_for()
    assert result.inner_text() == f"This file is asset {big.asset_id}, exactly"
    assert "ok" in (result.get_attribute("class") or "")
    seen = page.evaluate("window.progressSeen")
    assert seen and seen[-1] == 1 and seen == sorted(seen), seen  # the bar moved forward to the end
    tab.screenshot("file-matches")
    posted = [entry for entry in tab.requests.entries() if entry.method == "POST"]
    assert [entry.url for entry in posted] == [f"{api(journey)}/verify/digests"]
    assert len(json.loads(posted[0].body or b"{}")["digests"]) == 3
    tab.requests.assert_never_carries(big.path.read_bytes())
    assert axe_violations(tab) == []
    tab.assert_no_errors()


def test_a_modified_file_names_the_chunk_that_differs(journey: Journey, big: Big, tab: Tab,
                                                      tmp_path: Path) -> None:
    data = bytearray(big.path.read_bytes())
    data[MIB + 7] ^= 0xFF  # one byte of the second chunk
    changed = tmp_path / "measurements (edited).bin"  # another name: compared with the asset the page is for
    changed.write_bytes(bytes(data))
    page = tab.page
    page.goto(f"{api(journey)}/verify?asset={big.asset_id}")
    page.set_input_files("#file-input", str(changed))
    result = page.locator("#file-result")
    result.locator("h3.result").wait_for()
    shown = result.inner_text()
    assert f"Nearest registered version: asset {big.asset_id}" in shown
    assert "chunk 1: bytes 1,048,576–2,097,151" in shown and "chunk 0" not in shown and "chunk 2" not in shown
    tab.screenshot("file-differs")
    tab.requests.assert_never_carries(bytes(data))
    tab.assert_no_errors()


def test_a_file_of_the_wrong_size_is_said_to_be_so(journey: Journey, big: Big, tab: Tab, tmp_path: Path) -> None:
    short = tmp_path / "measurements.bin"
    short.write_bytes(big.path.read_bytes()[: 2 * MIB])
    page = tab.page
    page.goto(f"{api(journey)}/verify?asset={big.asset_id}")
    page.set_input_files("#file-input", str(short))
    page.locator("#file-result h3.result").wait_for()
    shown = page.locator("#file-result").inner_text()
    assert f"so it cannot be asset {big.asset_id} exactly" in shown and "2,097,152" in shown
    tab.screenshot("file-wrong-size")
    tab.assert_no_errors()


def test_without_web_crypto_the_pages_own_sha256_gives_the_same_answer(journey: Journey, big: Big, tab: Tab) -> None:
    """A registry served over plain http at a name other than localhost is no secure context: crypto.subtle is
    missing there, and the page hashes with its own SHA-256."""
    tab.page.add_init_script("Object.defineProperty(window.crypto, 'subtle', {value: undefined})")
    tab.page.goto(f"{api(journey)}/verify?asset={big.asset_id}")
    assert tab.page.evaluate("window.crypto.subtle") is None
    tab.page.set_input_files("#file-input", str(big.path))
    result = tab.page.locator("#file-result h3.result")
    result.wait_for()
    assert result.inner_text() == f"This file is asset {big.asset_id}, exactly"
    (posted,) = [entry for entry in tab.requests.entries() if entry.method == "POST"]
    data = big.path.read_bytes()
    expected = ["0x" + hashlib.sha256(data[i:i + MIB]).hexdigest() for i in range(0, len(data), MIB)]
    assert json.loads(posted.body or b"{}")["digests"] == expected
    tab.requests.assert_never_carries(data)
    tab.assert_no_errors()


def test_a_second_file_chosen_while_the_first_is_hashed_replaces_it(journey: Journey, big: Big, tab: Tab,
                                                                     tmp_path: Path) -> None:
    """Hashing waits at a gate the test opens (no race with the clock): the first file is still being hashed when
    the second is chosen; only the second is asked about and shown."""
    tab.page.add_init_script("""(() => {
        let open;
        window.hashGate = new Promise((resolve) => { open = resolve; });
        window.openHashGate = () => open();
        const digest = crypto.subtle.digest.bind(crypto.subtle);
        Object.defineProperty(crypto.subtle, 'digest', {value: async (...args) => {
            await window.hashGate;
            return digest(...args);
        }});
    })()""")
    other = tmp_path / "other.bin"
    other.write_bytes(b"not the registered data\n" * 1000)
    tab.page.goto(f"{api(journey)}/verify?asset={big.asset_id}")
    tab.page.set_input_files("#file-input", str(big.path))
    tab.page.locator("#file-progress-box:not([hidden])").wait_for()  # the first is being hashed
    tab.page.set_input_files("#file-input", str(other))
    tab.page.evaluate("window.openHashGate()")
    result = tab.page.locator("#file-result h3.result")
    result.wait_for()
    assert "exactly" not in result.inner_text()  # the second file's answer, not the first's
    posted = [entry for entry in tab.requests.entries() if entry.method == "POST"]
    assert len(posted) == 1 and json.loads(posted[0].body or b"{}")["size"] == other.stat().st_size
    tab.assert_no_errors()


def test_an_asset_sealed_in_tiny_chunks_is_not_checked_in_the_browser(journey: Journey, tab: Tab) -> None:
    """Digests of chunks of a few bytes give the bytes away: a page of such an asset sends nothing."""
    bait = journey.folder / "bait.txt"
    bait.write_text("a file sealed in chunks of 16 bytes\n")
    done = dataseal(journey.folder, "register", str(bait), "--chunk-size", "16", "--json", "--account",
                    journey.up.ready["operator"])
    assert done.returncode == 0, done.stderr
    asset_id = json.loads(done.stdout)["asset_id"]
    tab.page.goto(f"{api(journey)}/verify?asset={asset_id}")
    secret = journey.folder / "secret.txt"
    secret.write_text("CONFIDENTIAL: the loan book\n")
    tab.page.set_input_files("#file-input", str(secret))
    shown = tab.page.locator("#file-result h3.result.error")
    shown.wait_for()
    assert "digests of other chunks could give parts of the file away" in shown.inner_text()
    assert [entry for entry in tab.requests.entries() if entry.method == "POST"] == []
    tab.page.goto(f"{api(journey)}/verify")  # a chunk size typed in is held to the same floor
    tab.page.locator("details summary").click()
    tab.page.fill("#chunk-size", "16")
    tab.page.set_input_files("#file-input", str(secret))
    tab.page.locator("#file-result h3.result.error").wait_for()
    assert "from 4,096 to" in tab.page.locator("#file-result").inner_text()
    assert [entry for entry in tab.requests.entries() if entry.method == "POST"] == []
    tab.screenshot("tiny-chunks-refused")
    # a page naming a chunk size that leaves a last chunk of a few bytes (a file of 4,096 + 1 bytes in 4 KiB chunks)
    tab.page.fill("#chunk-size", "4096")
    tail = journey.folder / "tail.bin"
    tail.write_bytes(bytes(4097))
    tab.page.set_input_files("#file-input", str(tail))
    tab.page.locator("#file-result h3.result.error").wait_for()
    assert "this file's last chunk is 1 bytes" in tab.page.locator("#file-result").inner_text()
    tab.page.fill("#chunk-size", "5000")  # not a power of two
    tab.page.click("#file-check")
    tab.page.get_by_text("must be a power of two").wait_for()
    assert [entry for entry in tab.requests.entries() if entry.method == "POST"] == []
    tab.assert_no_errors()


def test_a_bundle_dropped_on_the_page_is_checked(journey: Journey, tab: Tab) -> None:
    page = tab.page
    page.goto(f"{api(journey)}/verify")
    bundle = (journey.folder / "row1.bundle.json").read_bytes()
    drop_file(tab, "#document-drop", "row1.bundle.json", bundle)
    verdict = page.locator("#document-result h3.result")
    verdict.wait_for()
    assert "ok" in (verdict.get_attribute("class") or "") and "checks out" in verdict.inner_text()
    assert page.locator("#document-result a[href^='/assets/2']").count() == 1
    tab.screenshot("bundle-checks-out")
    document = json.loads(bundle)
    document["proofs"][0]["leaf"] = "0x" + "00" * 32
    drop_file(tab, "#document-drop", "tampered.bundle.json", json.dumps(document).encode())
    page.locator("#document-result h3.result.bad").wait_for()
    failed = page.locator("#document-result").inner_text()
    assert "does not check out" in failed and "the proof's leaf does not match its value" in failed
    tab.screenshot("bundle-tampered")
    drop_file(tab, "#document-drop", "survey.csv", (journey.folder / "survey.csv").read_bytes(), "text/csv")
    page.locator("#document-result h3.result.error").wait_for()
    assert "This file is not JSON" in page.locator("#document-result").inner_text()
    tab.screenshot("bundle-not-json")
    tab.assert_no_errors(allow=[r"status of 4\d\d"])


# ---------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(("url", "status", "words"), [
    ("/assets/999", 404, "asset 999 is not registered"),
    ("/search?q=0x1234", 400, "has 4 hex digits, expected 64"),
    ("/assets/2?cert=DS-NOT-A-NUMBER", 400, "is not a certificate number"),
    ("/assets/two", 422, "path parameter asset_id"),
])
def test_bad_input_gets_a_page_that_says_what_went_wrong(journey: Journey, tab: Tab, url: str, status: int,
                                                          words: str) -> None:
    response = tab.page.goto(api(journey) + url)
    assert response is not None and response.status == status
    problem = tab.page.locator(".problem").inner_text()
    assert words in problem and "What to do:" in problem
    assert "Traceback" not in tab.page.content() and 'File "' not in tab.page.content()
    tab.screenshot(f"error-{status}")
    assert axe_violations(tab) == []
    tab.assert_no_errors(allow=[rf"status of {status}"])


def test_axe_finds_what_it_is_asked_to(tab: Tab) -> None:
    """The accessibility check can fail: an image without a text alternative and an unlabelled field are found."""
    tab.page.set_content('<html lang="en"><title>t</title><main><img src="data:,"><input></main></html>')
    assert {v["id"] for v in axe_violations(tab)} >= {"image-alt", "label"}
