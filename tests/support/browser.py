"""Headless Chromium for the web pages' end-to-end tests: Debian's ``chromium`` (``make sysdeps``) driven by
Playwright's sync API, which never downloads a browser of its own.

- :func:`launch_chromium` starts one browser (tests/e2e/conftest.py: one a worker, ~0.2-1 s) and makes sure that
  every process of it is gone afterwards, also when the test process is killed (see :class:`Chromium`);
- :meth:`Chromium.tabs` gives a test its tabs: a fresh browser context and page each (desktop, phone, no
  JavaScript, a language), each watched by a :class:`RequestLog` and for console and page errors, all closed after;
- :func:`screenshot` writes full-page PNGs under ``<repo>/test-output/web/<test name>/`` (or
  ``$DATASEAL_TEST_OUTPUT/web/<test name>/``): look at them;
- :meth:`RequestLog.assert_never_carries` proves that a file the page was given never left the browser.

Every wait is on an event or an element; Playwright's own timeouts are set to HANG_GUARD_SECONDS (a guard against a
hang, not a time limit on what is tested).
"""
from __future__ import annotations

import binascii
import json
import math
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

from tests.chain.embedded.clocks import HANG_GUARD_SECONDS

# Playwright and the repository's root are imported where used: the watchdog process imports this module, and needs
# only the standard library.
if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, Request, WebSocket

CHROMIUM = "/usr/bin/chromium"
#: As root Chromium refuses to start with its sandbox; there is no GPU; /dev/shm is small in containers.
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage")
INSTALL_HINT = (
    "the web tests need Debian's chromium at {path}: install it with "
    "`apt-get install --no-install-recommends chromium` (or run `make sysdeps` as root)"
)
#: A phone: an iPhone 12-15's CSS viewport at device scale 2, with touch (screenshots are 780 px wide).
PHONE_VIEWPORT = {"width": 390, "height": 844}
PHONE_SCALE = 2
DESKTOP_VIEWPORT = {"width": 1280, "height": 800}
#: Where screenshots go: $DATASEAL_TEST_OUTPUT, else <repo>/test-output. Read when this module is imported too,
#: since tests/conftest.py's clean_env removes every DATASEAL_* variable before each test.
OUTPUT_ENV = "DATASEAL_TEST_OUTPUT"
_OUTPUT_AT_IMPORT = os.environ.get(OUTPUT_ENV)
#: Every browser gets this variable, set to a token of its own: its processes are found by it (and by its process
#: group), however they were started.
TOKEN_ENV = "DATASEAL_TEST_CHROMIUM"
_GUARD_MS = HANG_GUARD_SECONDS * 1000


class ChromiumMissing(RuntimeError):
    """Debian's chromium is not installed (the fixture turns this into a failure, never a skip)."""


def verify_chromium_installed(path: str = CHROMIUM) -> None:
    if not os.access(path, os.X_OK):
        raise ChromiumMissing(INSTALL_HINT.format(path=path))


def require_chromium(path: str = CHROMIUM) -> None:
    """For a fixture: fail the test (never skip it) if chromium is not installed, saying how to install it."""
    import pytest

    try:
        verify_chromium_installed(path)
    except ChromiumMissing as exc:
        pytest.fail(str(exc), pytrace=False)


# ----------------------------------------------------------------------------------------------- the output folder


def output_root() -> Path:
    """$DATASEAL_TEST_OUTPUT (as set now, or when the tests started), else ``<repo>/test-output``."""
    from tests.support.devnode import ROOT

    chosen = os.environ.get(OUTPUT_ENV) or _OUTPUT_AT_IMPORT
    return Path(chosen) if chosen else ROOT / "test-output"


def current_test_name() -> str:
    """The running test's name (with its parameters), from pytest's PYTEST_CURRENT_TEST."""
    current = os.environ.get("PYTEST_CURRENT_TEST")
    if not current:
        raise RuntimeError("no test is running (PYTEST_CURRENT_TEST is unset): name the test")
    return current.rsplit(" (", 1)[0].rsplit("::", 1)[-1]


def web_output_dir(test: str | None = None) -> Path:
    """``<output root>/web/<test name>/`` (not created); characters other than letters, digits, ``_.-`` become -."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", test or current_test_name()).strip("-.") or "test"
    return output_root() / "web" / name


def screenshot(page: Page, name: str, *, test: str | None = None) -> Path:
    """A full-page PNG of ``page`` at ``<output root>/web/<test name>/<name>.png`` (the running test's name unless
    ``test`` is given); returns its path. Animations are stopped first, so that the picture is the settled page."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"screenshot name {name!r}: use letters, digits and _.- only")
    path = web_output_dir(test) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) in pixels, from the PNG's header."""
    head = path.read_bytes()[:24]
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise ValueError(f"{path} is not a PNG")
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


# ----------------------------------------------------------------------------------------------- what left the page


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the test sees it. ``body`` is None when Chromium did not hand the bytes to Playwright;
    ``declared_size`` is the Content-Length that went on the wire (None: not known, e.g. the request failed before
    it was sent). ``failure`` is Chromium's error text for a failed request."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    declared_size: int | None = None
    failure: str | None = None

    @classmethod
    def from_playwright(cls, request: Request) -> LoggedRequest:
        # all_headers(): the headers that were sent (Content-Length included), once Chromium reports them; for a
        # request that failed before, the ones the page asked for.
        headers = request.all_headers()
        length = headers.get("content-length")
        return cls(request.method, request.url, headers, request.post_data_buffer,
                   int(length) if length is not None and length.isdigit() else None, request.failure)

    def unreadable(self) -> str | None:
        """Why this request's body cannot be checked (None: it can, or there is none)."""
        if self.method in ("GET", "HEAD"):  # fetch, XHR and forms send no body with them
            return None
        if self.body is None:
            if self.declared_size == 0:
                return None
            size = "of unknown size" if self.declared_size is None else f"of {self.declared_size} bytes"
            return (f"it carried a body {size} that Chromium does not show to Playwright (a File or Blob: "
                    f"fetch(file), FormData with a file, XMLHttpRequest.send(file), sendBeacon(blob), a form upload)")
        if self.declared_size is not None and len(self.body) < self.declared_size:
            return (f"Playwright sees {len(self.body)} of its {self.declared_size} bytes (the rest came from a File "
                    f"or Blob)")
        return None

    def views(self) -> Iterator[tuple[str, bytes]]:
        """What of this request could carry bytes, each as bytes (see RequestLog.assert_never_carries)."""
        yield "URL", self.url.encode()
        for name, value in self.headers.items():
            yield f"header {name}", value.encode("utf-8", "surrogateescape")
        if self.body:
            yield "body", self.body
        else:
            return
        try:
            document = json.loads(self.body)
        except ValueError:  # (UnicodeDecodeError, JSONDecodeError)
            return
        for where, carried in _json_bytes(document, "$"):
            yield f"body JSON {where}", carried


def _json_bytes(value: Any, where: str) -> Iterator[tuple[str, bytes]]:
    """Every string of a JSON document as UTF-8 (escapes undone), and every array of integers 0-255 as bytes."""
    if isinstance(value, str):
        yield where, value.encode("utf-8", "surrogatepass")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _json_bytes(key, f"{where} key")
            yield from _json_bytes(item, f"{where}.{key}")
    elif isinstance(value, list):
        if value and all(type(item) is int and 0 <= item <= 255 for item in value):
            yield f"{where} (bytes)", bytes(value)
        else:
            for index, item in enumerate(value):
                yield from _json_bytes(item, f"{where}[{index}]")


def _decodings(view: bytes, min_run: int) -> Iterator[tuple[str, bytes]]:
    """``view`` itself, percent-decoded, and the base64 and hex decodings of its long enough runs."""
    yield "", view
    if b"%" in view or b"+" in view:
        decoded = unquote_to_bytes(view.replace(b"+", b" "))
        if decoded != view:
            yield " percent-decoded", decoded
    # base64, standard or URL-safe, with CR/LF line breaks allowed: min_run bytes take ceil(4 min_run / 3) characters.
    # A run is decoded from each of its first four characters: one of them is where the encoder's groups start.
    shortest = math.ceil(4 * min_run / 3)
    for found in re.finditer(rb"[A-Za-z0-9+/_\-\r\n]{%d,}" % shortest, view):
        letters = found.group().replace(b"\r", b"").replace(b"\n", b"").translate(_URLSAFE)
        for start in range(4):
            part = letters[start:]
            whole = len(part) // 4 * 4
            tail = part[whole:] + b"=" * (4 - len(part) % 4) if len(part) % 4 >= 2 else b""
            if whole + len(tail) >= shortest:
                yield f" base64 at {found.start()}+{start}", binascii.a2b_base64(part[:whole] + tail)
    for found in re.finditer(rb"[0-9A-Fa-f]{%d,}" % (2 * min_run), view):
        digits = found.group()
        for start in range(2):
            even = digits[start:start + (len(digits) - start) // 2 * 2]
            yield f" hex at {found.start()}+{start}", bytes.fromhex(even.decode())


_URLSAFE = bytes.maketrans(b"-_", b"+/")


class _Runs:
    """Finds, in a haystack, a run of ``min_run`` bytes that is also a run of ``data``, exactly.

    With k = min_run // 2, the data's k-byte blocks at offsets 0, k, 2k, ... are kept in a set. Any run
    data[i:i+min_run] holds a whole block (the one at the first multiple of k at or after i: it ends by
    i + 2k - 1 < i + min_run), so a haystack carries a run only where one of its k-byte windows is a block. Every
    haystack offset is looked up (one set lookup a byte), and around each hit every min_run window that holds it is
    searched for in the data (bytes.find). Nothing is missed, and nothing is reported that is not a real common run.
    The set holds len(data) / k blocks: ~115 bytes of memory for every k bytes of data (~3.6 bytes a byte at min_run
    64: 18 MiB and 45 ms for a 5 MiB file). A lookup costs ~0.35 us: 2 s for a 5 MiB haystack that carries nothing."""

    def __init__(self, data: bytes, min_run: int) -> None:
        if min_run < 2:
            raise ValueError(f"min_run must be at least 2, got {min_run}")
        if len(data) < min_run:
            raise ValueError(f"the data ({len(data)} bytes) is shorter than min_run ({min_run}): nothing to look for")
        self.data = data
        self.min_run = min_run
        self.k = k = min_run // 2
        self.blocks = {data[q:q + k] for q in range(0, len(data) - k + 1, k)}

    def find(self, haystack: bytes) -> tuple[int, int] | None:
        """(offset in haystack, offset in data) of a common run of min_run bytes, or None."""
        k, n = self.k, self.min_run
        blocks, data = self.blocks, self.data
        last = len(haystack) - n  # the last offset a window can start at
        checked = -1  # the windows starting at or before this offset were searched for already
        for j in range(len(haystack) - k + 1) if last >= 0 else ():
            if haystack[j:j + k] in blocks:  # the windows holding this block start from j - (n - k) to j
                for s in range(max(0, j - (n - k), checked + 1), min(j, last) + 1):
                    at = data.find(haystack[s:s + n])
                    if at >= 0:
                        return s, at
                checked = max(checked, min(j, last))
        return None


_last_runs: _Runs | None = None


class RequestLog:
    """Every request the pages of one browser context make (``context.on("request")``: its pages, their frames and
    service workers) and every WebSocket frame they send, kept to be checked once the page has settled.

    Do not route (``page.route``) a context whose log is checked: Chromium then shows Playwright a File's bytes in
    some bodies and not in others, and no Content-Length, so an unreadable body would go unnoticed."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.added: list[LoggedRequest] = []  # made up by a test, or from elsewhere
        self.frames_sent: list[tuple[str, bytes]] = []  # (WebSocket URL, payload)

    def attach(self, context: BrowserContext) -> None:
        context.on("request", lambda request: self.requests.append(request))
        context.on("page", lambda page: page.on("websocket", self._watch_socket))

    def _watch_socket(self, socket: WebSocket) -> None:
        def sent(payload: str | bytes) -> None:
            self.frames_sent.append((socket.url, payload.encode() if isinstance(payload, str) else payload))

        socket.on("framesent", sent)

    def add(self, request: LoggedRequest) -> None:
        self.added.append(request)

    def entries(self) -> list[LoggedRequest]:
        """What was logged so far, read from Playwright now (a request still in flight is waited for)."""
        return [LoggedRequest.from_playwright(r) for r in self.requests] + list(self.added)

    def with_bodies(self) -> list[LoggedRequest]:
        return [entry for entry in self.entries() if entry.body or entry.unreadable()]

    def assert_never_carries(self, data: bytes, min_run: int = 64) -> None:
        """Fail unless no request logged so far (nor WebSocket frame sent) carried any ``min_run`` consecutive bytes
        of ``data`` (a file's bytes): the proof that the file never left the browser. Call it once the page shows its
        result: what is sent later is not checked.

        It fails, exactly, when:
        - a request has a body that Playwright cannot read in full. Chromium does not hand over bodies built from a
          File or Blob (fetch(file), FormData with a file, XMLHttpRequest.send(file), sendBeacon(blob), a form upload
          with a file); their size is known from the Content-Length that was sent. Such a request cannot be proven
          clean, so it counts as carrying the file (a failed request whose size was never known counts too). GET and
          HEAD carry no body;
        - or one of a request's views holds a run of ``min_run`` bytes equal to a run of ``data``, at any offset of
          either (every offset is checked, not a sample: see _Runs). The views: the URL, every header value, the
          body; the strings of a JSON body with its escapes undone (UTF-8), and its arrays of integers 0-255 as
          bytes; and of each of these, its percent-decoding, and the base64 (standard or URL-safe, CR/LF line
          breaks allowed, from any of the four alignments) and hex decodings of its runs long enough to hold
          ``min_run`` bytes. WebSocket frames are views too.

        It cannot see: a file sent in pieces shorter than ``min_run`` (lower it to look for those, down to 2; the
        shorter, the likelier a run is shared by chance with what the page sends anyway); bytes transformed
        otherwise (compressed, encrypted, another encoding); traffic of other browser contexts, of the browser
        itself (not the page's) or over WebRTC; what the page keeps locally (storage, downloads), which leaves
        nothing either.

        Cost: an index of the data (see _Runs: 18 MiB and 45 ms for 5 MiB at min_run 64; kept for the next call
        about the same bytes object), then one set lookup a byte of the views (~0.35 us): the requests a verify page
        makes (digests as JSON) take a millisecond, a 5 MiB body that carries nothing ~2 s.
        """
        global _last_runs
        runs = _last_runs if _last_runs is not None and _last_runs.data is data and _last_runs.min_run == min_run \
            else _Runs(data, min_run)
        _last_runs = runs  # (a test asks about one file several times: its index is made once)
        problems: list[str] = []
        views: list[tuple[str, bytes]] = []
        for number, entry in enumerate(self.entries(), 1):
            what = f"request {number} {entry.method} {entry.url}"
            why = entry.unreadable()
            if why is not None:
                problems.append(f"{what}: {why}{f' (failed: {entry.failure})' if entry.failure else ''}")
            views += [(f"{what}, {name}", view) for name, view in entry.views()]
        views += [(f"WebSocket frame {number} sent to {url}", payload)
                  for number, (url, payload) in enumerate(self.frames_sent, 1)]
        for name, view in views:
            for how, decoded in _decodings(view, min_run):
                found = runs.find(decoded)
                if found is not None:
                    at, in_data = found
                    problems.append(f"{name}{how}: bytes {at}-{at + min_run} are the data's bytes "
                                    f"{in_data}-{in_data + min_run} ({decoded[at:at + 24]!r}...)")
                    break
        assert not problems, "the data left the page:\n" + "\n".join(problems)


# ----------------------------------------------------------------------------------------------- tabs


@dataclass
class Tab:
    """One test page in its own browser context, with what it logged."""

    page: Page
    context: BrowserContext
    test: str
    requests: RequestLog
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def screenshot(self, name: str) -> Path:
        return screenshot(self.page, name, test=self.test)

    def assert_no_errors(self, *, allow: Iterable[str] = ()) -> None:
        """Fail if the page logged a console error or threw an uncaught error (so far). Chromium logs every 4xx/5xx
        answer to a page's request as a console error ("Failed to load resource: the server responded with a status
        of 404"), including /favicon.ico for a document that names no icon: a test expecting such an answer names it
        in ``allow`` (regular expressions, searched in each console error). Uncaught errors are never allowed."""
        console = [error for error in self.console_errors if not any(re.search(a, error) for a in allow)]
        assert not console and not self.page_errors, (
            f"console errors: {console}\nuncaught page errors: {self.page_errors}")


class Tabs:
    """A test's tabs on the worker's browser; every context is closed by :meth:`close` (the fixture's teardown)."""

    def __init__(self, browser: Browser, test: str) -> None:
        self.browser = browser
        self.test = test
        self.opened: list[Tab] = []

    def open(self, *, phone: bool = False, javascript: bool = True, locale: str = "en-US",
             **options: Any) -> Tab:
        """A fresh context and page. ``phone``: 390x844 CSS pixels at scale 2, mobile, touch, a phone's user agent;
        ``javascript=False``: scripts do not run (the server-rendered pages); ``locale`` sets Accept-Language and
        navigator.language; other ``options`` go to Browser.new_context."""
        settings: dict[str, Any] = {"viewport": DESKTOP_VIEWPORT, "locale": locale, "java_script_enabled": javascript}
        if phone:
            major = self.browser.version.split(".")[0]
            settings.update(viewport=PHONE_VIEWPORT, device_scale_factor=PHONE_SCALE, is_mobile=True, has_touch=True,
                            user_agent=f"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like "
                                       f"Gecko) Chrome/{major}.0.0.0 Mobile Safari/537.36")
        settings.update(options)
        context = self.browser.new_context(**settings)
        context.set_default_timeout(_GUARD_MS)  # a hang guard on every wait, not a time limit
        context.set_default_navigation_timeout(_GUARD_MS)
        log = RequestLog()
        log.attach(context)
        page = context.new_page()
        tab = Tab(page, context, self.test, log)

        def console(message: ConsoleMessage) -> None:
            if message.type == "error":
                where = message.location
                tab.console_errors.append(f"{message.text} ({where.get('url')}:{where.get('lineNumber')})")

        page.on("console", console)
        page.on("pageerror", lambda error: tab.page_errors.append(error.stack or f"{error.name}: {error.message}"))
        self.opened.append(tab)
        return tab

    def close(self) -> None:
        for tab in self.opened:
            tab.context.close()
        self.opened.clear()


# ----------------------------------------------------------------------------------------------- the browser


def browser_processes(token: str) -> dict[int, str]:
    """PID -> command of every process of the browser that got ``token``: those whose environment holds it (the
    browser and its crash handlers) and those in the browser's process group (its zygotes, renderers, GPU and
    utility processes, whose environment Chromium sets anew; Playwright starts the browser in a session of its own)."""
    marker = f"{TOKEN_ENV}={token}".encode() + b"\0"
    groups: dict[int, list[int]] = {}
    commands: dict[int, str] = {}
    leaders: set[int] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
            if fields[0] == b"Z":  # a zombie has exited: only its parent's wait is left
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                commands[pid] = cmdline.read().replace(b"\0", b" ").decode(errors="replace").strip()[:200]
            groups.setdefault(int(fields[2]), []).append(pid)
            with open(f"/proc/{pid}/environ", "rb") as environ:
                if marker in environ.read():
                    leaders.add(pid)
        except (OSError, IndexError):  # gone meanwhile, or not ours to read
            continue
    found = set(leaders)
    for leader in leaders:
        found.update(groups.get(leader, ()))
    return {pid: commands[pid] for pid in sorted(found)}


def browser_memory(token: str) -> int:
    """The browser's proportional set size (shared pages split between the processes sharing them), in bytes."""
    total = 0
    for pid in browser_processes(token):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                total += next(int(line.split()[1]) * 1024 for line in rollup if line.startswith("Pss:"))
        except (OSError, StopIteration):
            continue
    return total


def kill_browser(token: str) -> dict[int, str]:
    """SIGKILL every process of the browser with ``token``, until none is left; returns those that were found."""
    killed: dict[int, str] = {}
    give_up = time.monotonic() + HANG_GUARD_SECONDS
    while found := browser_processes(token):
        killed.update(found)
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if time.monotonic() > give_up:
            raise AssertionError(f"these processes of the browser would not die: {found}")
        time.sleep(0.005)
    return killed


def _watchdog_main(token: str) -> None:
    """The watchdog process: say it is ready, wait for the end of standard input (the test process closed it, or
    died, however), then kill what is left of the browser."""
    sys.stdout.buffer.write(b"ready\n")
    sys.stdout.buffer.flush()
    while sys.stdin.buffer.read(65536):
        pass
    kill_browser(token)


def _start_watchdog(token: str, root: Path) -> subprocess.Popen[bytes]:
    code = (f"import sys; sys.path.insert(0, {str(root)!r}); "
            f"from tests.support.browser import _watchdog_main; _watchdog_main({token!r})")
    # A session of its own: a signal to the test process's group (Ctrl-C, a kill of the group) does not reach it.
    watchdog = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                start_new_session=True, cwd=root)
    assert watchdog.stdout is not None
    ready = watchdog.stdout.readline()
    watchdog.stdout.close()
    if ready != b"ready\n":
        watchdog.kill()
        watchdog.wait()
        raise RuntimeError(f"the browser's watchdog did not start (exit status {watchdog.returncode}); see its "
                           f"error above")
    return watchdog


@dataclass
class Chromium:
    """A running browser. Its processes are found by its token (:func:`browser_processes`).

    Stopping: Playwright closes the browser; :func:`launch_chromium` then waits for every process of it to be gone,
    kills what is not, and fails if it had to. If the test process dies instead (even by SIGKILL, the driver with
    it), the browser sees its DevTools pipe close and quits; in case it cannot (stopped, hung), a watchdog started
    before it, in a session of its own, holds a pipe from the test process and, at its end, SIGKILLs whatever carries
    the token (tests/e2e/test_browser.py kills a test process with its browser stopped to show it).
    """

    playwright: Playwright
    browser: Browser
    token: str
    watchdog: subprocess.Popen[bytes]
    launch_seconds: float

    def tabs(self, test: str) -> Tabs:
        return Tabs(self.browser, test)

    def processes(self) -> dict[int, str]:
        return browser_processes(self.token)

    def memory(self) -> int:
        return browser_memory(self.token)


@contextmanager
def launch_chromium(executable: str = CHROMIUM, args: tuple[str, ...] = CHROMIUM_ARGS) -> Iterator[Chromium]:
    """Debian's chromium, headless, through Playwright; everything of it is stopped afterwards (see Chromium).
    Raises ChromiumMissing if ``executable`` is not there."""
    from playwright.sync_api import sync_playwright

    from tests.support.devnode import ROOT

    verify_chromium_installed(executable)
    token = secrets.token_hex(8)
    watchdog = _start_watchdog(token, ROOT)
    scratch = Path(tempfile.mkdtemp(prefix="dataseal-chromium-"))
    # Debian's launcher keeps crash reports in $XDG_CONFIG_HOME/chromium: a folder of this run's, not ~/.config.
    env: dict[str, str | float | bool] = {**os.environ, TOKEN_ENV: token, "XDG_CONFIG_HOME": str(scratch / "config"),
           "XDG_CACHE_HOME": str(scratch / "cache")}
    playwright = None
    try:
        playwright = sync_playwright().start()
        started = time.monotonic()
        browser = playwright.chromium.launch(executable_path=executable, args=list(args), env=env, timeout=_GUARD_MS)
        chromium = Chromium(playwright, browser, token, watchdog, time.monotonic() - started)
        try:
            yield chromium
        finally:
            browser.close()
    finally:
        try:
            if playwright is not None:
                playwright.stop()  # (also ends a browser whose close failed: the driver kills what it launched)
        finally:
            left = _wait_gone(token)
            assert watchdog.stdin is not None
            watchdog.stdin.close()  # the watchdog finds nothing left, and exits
            watchdog.wait(timeout=HANG_GUARD_SECONDS)
            shutil.rmtree(scratch, ignore_errors=True)
        assert not left, f"chromium's processes outlived Playwright's close and were killed: {left}"


def _wait_gone(token: str) -> dict[int, str]:
    """Wait for the browser's processes to exit (its crash handlers follow it by a few milliseconds); kill and
    return those still there after HANG_GUARD_SECONDS."""
    give_up = time.monotonic() + HANG_GUARD_SECONDS
    while browser_processes(token):
        if time.monotonic() > give_up:
            return kill_browser(token)
        time.sleep(0.005)
    return {}
