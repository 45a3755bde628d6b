"""The embedded run the e2e tests share: `dataseal up` in a fresh folder and the README's quickstart run against it
once (test_quickstart.py checks what each command printed; test_http.py reads the result over HTTP); and the browser
the web pages are tested in (tests/support/browser.py: one Chromium a worker, a fresh context and page a tab)."""
from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import pytest

from tests.chain.embedded.clocks import HANG_GUARD_SECONDS
from tests.cli.commands.test_up import running_up
from tests.e2e.quickstart import Journey, base_env, run_quickstart
from tests.support.browser import Chromium, Tab, Tabs, launch_chromium, require_chromium, web_output_dir


@pytest.fixture(scope="package")
def journey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journey]:
    """`dataseal up` on its embedded chain in a fresh folder, the commands it prints to try, as a newcomer tries them
    first, then the quickstart run against it; stopped by PID."""
    folder = tmp_path_factory.mktemp("quickstart")
    with running_up(folder, "--port", "0", "--api-port", "0", "--light-kdf", "--poll-interval", "0.1",
                    env=base_env()) as up:
        for command in up.ready["next"]:
            tried = subprocess.run(command, shell=True, cwd=folder, env=base_env(), capture_output=True, text=True,
                                   stdin=subprocess.DEVNULL, timeout=HANG_GUARD_SECONDS)
            assert tried.returncode == 0, (command, tried.stdout, tried.stderr)
        yield Journey(folder, up, run_quickstart(folder, api_url=up.api, rpc_url=up.rpc))


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    """Debian's chromium, headless, one a test module (launching it takes about a second); every process of it is
    gone afterwards. If it is not installed, the tests that use it fail, saying to run `make sysdeps` as root.

    Not one a session: while Playwright's sync API runs, its event loop is the running loop of the main thread, and
    every later test of the worker that runs a loop of its own there (asyncio.run, anyio.run) fails with "Already
    running asyncio in this thread"."""
    require_chromium()
    with launch_chromium() as browser:
        yield browser


@pytest.fixture
def tabs(chromium: Chromium, request: pytest.FixtureRequest) -> Iterator[Tabs]:
    """The test's tabs on the worker's browser: ``tabs.open(phone=, javascript=, locale=)``, a fresh browser context
    each, watched for requests and errors, closed after the test. The test's screenshot folder is emptied first."""
    shutil.rmtree(web_output_dir(request.node.name), ignore_errors=True)
    opened = chromium.tabs(request.node.name)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def tab(tabs: Tabs) -> Tab:
    """One desktop tab (1280x800, JavaScript on, en-US)."""
    return tabs.open()
