"""The web tests' browser itself (tests/support/browser.py), proved on what the API serves today: Swagger UI at /docs
renders in Debian's chromium from the API's own assets, on a desktop, on a phone and (not) without JavaScript; the
request log proves what left a page, both ways, on made-up bodies and on a page's real requests; errors are caught;
a missing chromium fails; a killed test process leaves no browser behind. Screenshots: test-output/web/<test>/."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote_from_bytes

import pytest

from tests.chain.embedded.clocks import HANG_GUARD_SECONDS, until
from tests.e2e.quickstart import Journey
from tests.support import browser
from tests.support.browser import (
    CHROMIUM,
    PHONE_SCALE,
    PHONE_VIEWPORT,
    Chromium,
    ChromiumMissing,
    LoggedRequest,
    RequestLog,
    Tab,
    Tabs,
    browser_processes,
    launch_chromium,
    output_root,
    png_size,
    require_chromium,
    screenshot,
    web_output_dir,
)
from tests.support.devnode import ROOT

#: The journey's worker runs these too (make test: --dist loadgroup), so they share its browser and `dataseal up`.
pytestmark = pytest.mark.xdist_group("e2e-journey")

MiB = 1024 * 1024


def _file(size: int = 4 * MiB, seed: int = 13) -> bytes:
    return random.Random(seed).randbytes(size)


def _open_docs(tab: Tab, api: str) -> None:
    """/docs, once Swagger UI has rendered the operations of the API's schema (waited for, not slept on)."""
    tab.page.goto(api + "/docs")
    tab.page.locator(".swagger-ui .opblock-tag-section").first.wait_for()
    tab.page.locator(".opblock-summary-path", has_text="/verify/digests").first.wait_for()


def test_swagger_ui_renders_from_the_api_alone(journey: Journey, tab: Tab) -> None:
    _open_docs(tab, journey.up.api)
    assert tab.page.title() == "dataseal - Swagger UI"
    tags = tab.page.locator(".opblock-tag-section h3").all_inner_texts()
    assert [t.split("\n")[0] for t in tags][:3] == ["assets", "verify", "audit"]
    shot = tab.screenshot("docs")
    assert shot == web_output_dir("test_swagger_ui_renders_from_the_api_alone") / "docs.png"
    width, height = png_size(shot)
    assert width == 1280 and height > 800  # the whole page, not the viewport
    tab.assert_no_errors()
    urls = [entry.url for entry in tab.requests.entries()]
    assert urls[0] == journey.up.api + "/docs" and f"{journey.up.api}/openapi.json" in urls
    assert all(url.startswith(journey.up.api + "/") for url in urls), urls  # no CDN: the API serves it all


def test_a_page_that_posts_nothing_carries_nothing(journey: Journey, tab: Tab) -> None:
    _open_docs(tab, journey.up.api)
    entries = tab.requests.entries()
    assert {entry.method for entry in entries} == {"GET"} and tab.requests.with_bodies() == []
    tab.requests.assert_never_carries(_file())  # nothing of a file the page never had
    tab.requests.assert_never_carries((journey.folder / "row1.bundle.json").read_bytes())
    # ...but what the page did send is found: the User-Agent header went with every request.
    agent = entries[0].headers["user-agent"].encode()
    with pytest.raises(AssertionError, match=r"request 1 GET .*/docs, header user-agent: bytes 0-64"):
        tab.requests.assert_never_carries(b"\0" * 1000 + agent + b"\0" * 1000)


def _carries(data: bytes, *requests: LoggedRequest, min_run: int = 64) -> bool:
    log = RequestLog()
    for request in requests:
        log.add(request)
    try:
        log.assert_never_carries(data, min_run=min_run)
    except AssertionError:
        return True
    return False


def _post(body: bytes | None, *, url: str = "http://127.0.0.1:8000/verify/digests",
          declared: int | None = -1) -> LoggedRequest:
    size = (len(body) if body is not None else None) if declared == -1 else declared
    return LoggedRequest("POST", url, {"content-type": "application/json"}, body, size)


def test_assert_never_carries_finds_every_run_of_the_file_and_nothing_else() -> None:
    data = _file()
    n = len(data)
    junk = random.Random(7).randbytes(300)
    # Every alignment of the run against the index's 32-byte blocks, and the file's two ends.
    for at in [0, 1, 31, 32, 33, 63, 64, 1000, 3 * MiB + 17, n - 65, n - 64]:
        assert _carries(data, _post(junk + data[at:at + 64] + junk)), at
        assert not _carries(data, _post(junk + data[at:at + 63] + junk)), at  # one byte short
        assert _carries(data, _post(data[at:at + 64])), at  # the whole body
    # Two runs of 63 side by side that are not one run of 126 in the file.
    assert not _carries(data, _post(data[100:163] + data[5000:5063]))
    assert _carries(data, _post(data[100:164] + data[5000:5063]))
    # The whole file, as a page that read it into memory would send it.
    assert _carries(data, _post(data))
    # What a verify page sends instead: the chunk digests, as JSON.
    digests = {"chunk_size": MiB, "size": n, "name": "data.bin",
               "digests": ["0x" + hashlib.sha256(data[i:i + MiB]).hexdigest() for i in range(0, n, MiB)]}
    assert not _carries(data, _post(json.dumps(digests).encode()))

    run = data[777_777:777_777 + 64]
    encoded = {
        "base64 in JSON": json.dumps({"file": base64.b64encode(data[777_000:778_000]).decode()}).encode(),
        "base64 after an odd offset": json.dumps({"f": base64.b64encode(b"xy" + run).decode()}).encode(),
        "URL-safe base64, MIME lines": base64.encodebytes(b"?" + run + b"?").translate(bytes.maketrans(b"+/", b"-_")),
        "hex": json.dumps({"f": run.hex()}).encode(),
        "upper-case hex after one digit": b"a" + run.hex().upper().encode(),
        "a JSON array of bytes": json.dumps({"f": list(run)}).encode(),
        "percent-encoded": b"q=" + quote_from_bytes(run).encode(),
    }
    for how, body in encoded.items():
        assert _carries(data, _post(body)), how
    assert _carries(data, LoggedRequest("GET", "http://127.0.0.1:8000/search?q=" + quote_from_bytes(run)))
    assert not _carries(data, LoggedRequest("GET", "http://127.0.0.1:8000/search?q=" + quote_from_bytes(run[:63])))
    assert _carries(data, LoggedRequest("GET", "http://x/", {"x-file": base64.b64encode(run).decode()}))
    # A text file's lines, JSON-escaped (its newlines become \n): found once the JSON's escapes are undone; in a body
    # that is not JSON (here cut short), the escapes stay, and no run of 64 bytes is left (a limit it documents).
    text = "".join(f"{i},person{i},{i * 7 % 100}\n" for i in range(2000)).encode()
    escaped = json.dumps({"rows": text[5000:5200].decode()}).encode()
    assert _carries(text, _post(escaped))
    assert not _carries(text, _post(escaped[:-2]))

    # A body the log cannot read (a File or Blob) counts as carrying the file; an empty one does not.
    assert _carries(data, _post(None, declared=n))
    assert _carries(data, _post(None, declared=None))
    assert _carries(data, _post(b"--boundary\r\n", declared=n + 200))
    assert not _carries(data, _post(None, declared=0))
    assert not _carries(data, LoggedRequest("GET", "http://127.0.0.1:8000/"))
    with pytest.raises(ValueError, match="shorter than min_run"):
        _carries(data[:63], _post(b""))


def test_a_page_hashing_a_file_in_chunks_sends_no_byte_of_it(journey: Journey, tab: Tab, tmp_path: Path) -> None:
    """What the verify page will do, written here in a few lines: Web Crypto digests of 1 MiB chunks posted to
    /verify/digests. The log passes it, and fails the same page once it sends 64 bytes of the file, or the file."""
    data = _file(5 * MiB + 123, seed=99)
    (tmp_path / "data.bin").write_bytes(data)
    # A page of the API's origin, then a form of the test's own on it. (Not /health: for a document that names no
    # icon, Chromium asks for /favicon.ico, and the API's 404 to it is a console error.)
    _open_docs(tab, journey.up.api)
    tab.page.set_content('<input type="file" id="f">')
    tab.page.set_input_files("#f", tmp_path / "data.bin")
    answer = tab.page.evaluate("""async () => {
        const file = document.getElementById("f").files[0], size = 1048576, digests = [];
        for (let at = 0; at < file.size; at += size) {
            const digest = await crypto.subtle.digest("SHA-256", await file.slice(at, at + size).arrayBuffer());
            digests.push("0x" + [...new Uint8Array(digest)].map(b => b.toString(16).padStart(2, "0")).join(""));
        }
        const response = await fetch("/verify/digests", {method: "POST", headers: {"Content-Type": "application/json"},
            body: JSON.stringify({chunk_size: size, size: file.size, digests, name: file.name})});
        return [response.status, await response.json()];
    }""")
    assert answer[0] == 200 and answer[1]["registered"] is False and answer[1]["size"] == len(data), answer
    assert answer[1]["leaf_count"] == 6
    [posted] = tab.requests.with_bodies()
    assert posted.url == journey.up.api + "/verify/digests" and len(json.loads(posted.body or b"")["digests"]) == 6
    tab.requests.assert_never_carries(data)
    tab.assert_no_errors()

    # The same page, sending 64 bytes of the file from an offset of no particular alignment: found.
    tab.page.evaluate("""async () => {
        const file = document.getElementById("f").files[0];
        await fetch("/verify/digests", {method: "POST", body: await file.slice(3000001, 3000065).arrayBuffer()});
    }""")
    with pytest.raises(AssertionError, match=r"POST .*/verify/digests, body: bytes 0-64 are the data's bytes "
                                             r"3000001-3000065"):
        tab.requests.assert_never_carries(data)
    # And the file itself: Chromium does not show its bytes to Playwright, the Content-Length gives it away.
    tab.page.evaluate("""async () => {
        await fetch("/verify/file", {method: "POST", body: document.getElementById("f").files[0]});
    }""")
    with pytest.raises(AssertionError, match=rf"POST .*/verify/file: it carried a body of {len(data)} bytes that "
                                             r"Chromium does not show"):
        tab.requests.assert_never_carries(data)


def test_swagger_ui_on_a_phone(journey: Journey, tabs: Tabs) -> None:
    phone = tabs.open(phone=True)
    _open_docs(phone, journey.up.api)
    seen = phone.page.evaluate("""() => [innerWidth, devicePixelRatio, matchMedia("(pointer: coarse)").matches,
                                         navigator.maxTouchPoints > 0, /Mobile/.test(navigator.userAgent)]""")
    assert seen == [PHONE_VIEWPORT["width"], PHONE_SCALE, True, True, True]
    width, height = png_size(phone.screenshot("docs-phone"))
    assert width == PHONE_VIEWPORT["width"] * PHONE_SCALE and height > PHONE_VIEWPORT["height"] * PHONE_SCALE
    phone.assert_no_errors()


def test_without_javascript_swagger_ui_stays_empty(journey: Journey, tabs: Tabs) -> None:
    """The option the server-rendered pages are tested with: scripts do not run (Swagger UI is all script)."""
    plain = tabs.open(javascript=False, locale="zh-CN")
    plain.page.goto(journey.up.api + "/docs")
    assert plain.page.locator("#swagger-ui").count() == 1
    assert plain.page.locator("#swagger-ui > *").count() == 0
    assert plain.requests.entries()[0].headers["accept-language"].startswith("zh-CN")
    plain.screenshot("docs-no-javascript")
    plain.assert_no_errors()


def test_console_errors_and_uncaught_errors_are_collected(tab: Tab) -> None:
    with tab.page.expect_event("pageerror"), tab.page.expect_console_message(lambda m: m.type == "error"):
        tab.page.set_content("<script>console.error('a console error'); null.field;</script>")
    assert tab.console_errors[0].startswith("a console error")
    assert tab.page_errors[0].startswith("TypeError: Cannot read properties of null")
    with pytest.raises(AssertionError, match="a console error"):
        tab.assert_no_errors()
    with pytest.raises(AssertionError, match=r"console errors: \[\]\nuncaught page errors: \[.TypeError"):
        tab.assert_no_errors(allow=[r"^a console error"])  # an expected console error; an uncaught one never is


def test_a_screenshot_outside_a_fixture_and_the_output_folder_setting(tab: Tab, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    tab.page.set_content("<h1>数据资产 · data asset</h1>")  # the CJK font (make sysdeps) is what Chromium draws with
    shot = screenshot(tab.page, "cjk")  # the running test's name, from pytest
    name = "test_a_screenshot_outside_a_fixture_and_the_output_folder_setting"
    assert shot == output_root() / "web" / name / "cjk.png" and png_size(shot) == (1280, 800)
    monkeypatch.setattr(browser, "_OUTPUT_AT_IMPORT", None)  # as if DATASEAL_TEST_OUTPUT was not set at the start
    assert output_root() == ROOT / "test-output"
    monkeypatch.setenv("DATASEAL_TEST_OUTPUT", str(tmp_path))
    assert tab.screenshot("cjk") == tmp_path / "web" / name / "cjk.png"
    with pytest.raises(ValueError, match="letters, digits"):
        screenshot(tab.page, "../escape")


def test_a_missing_chromium_fails_and_says_how_to_install_it(tmp_path: Path) -> None:
    missing = str(tmp_path / "chromium")
    with pytest.raises(pytest.fail.Exception, match=r"run `make sysdeps` as root"):
        require_chromium(missing)
    with pytest.raises(ChromiumMissing, match=r"apt-get install --no-install-recommends chromium"):
        with launch_chromium(missing):
            pass
    require_chromium(CHROMIUM)


def test_the_workers_browser_is_found_by_its_token(chromium: Chromium, tab: Tab) -> None:
    """What the teardown checks for: if the browser's processes were not found, it would see none left."""
    tab.page.set_content("<p>a renderer</p>")
    commands = list(chromium.processes().values())
    assert any(c.startswith("/usr/lib/chromium/chromium ") and "--type=" not in c for c in commands), commands
    for kind in ("--type=zygote", "--type=renderer", "--type=gpu-process", "chrome_crashpad_handler"):
        assert any(kind in c for c in commands), (kind, commands)
    assert chromium.memory() > 50 * MiB


KILLED_TEST = """
import sys
sys.path.insert(0, sys.argv[1])
from tests.support.browser import launch_chromium
with launch_chromium() as chromium:
    chromium.tabs("killed").open().page.set_content("<p>a renderer</p>")
    print(chromium.token, flush=True)
    sys.stdin.read()
"""


def test_a_killed_test_process_leaves_no_chromium_behind() -> None:
    """A test process and Playwright's driver SIGKILLed together, with every process of their browser stopped
    (SIGSTOP: none can notice its DevTools pipe close): the watchdog kills them all."""
    test = subprocess.Popen([sys.executable, "-c", KILLED_TEST, str(ROOT)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, start_new_session=True, cwd=ROOT)
    try:
        assert test.stdout is not None
        token = test.stdout.readline().decode().strip()
        assert token, "the test process did not start its browser"
        browser = browser_processes(token)
        assert any("--type=renderer" in c for c in browser.values()), browser
        for pid in browser:
            os.kill(pid, signal.SIGSTOP)
        os.killpg(test.pid, signal.SIGKILL)  # the test process and the driver
        test.wait(timeout=HANG_GUARD_SECONDS)
        until(lambda: not browser_processes(token), "the killed test's browser gone")
        until(lambda: not any(token in c for c in _command_lines()), "its watchdog gone")
    finally:
        if test.poll() is None:
            os.killpg(test.pid, signal.SIGKILL)
            test.wait()


def _command_lines() -> list[str]:
    """Every process's command line (to find the watchdog, which does not carry the token in its environment)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    found.append(cmdline.read().replace(b"\0", b" ").decode(errors="replace"))
            except OSError:
                continue
    return found
