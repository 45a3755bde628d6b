"""The embedded run the e2e tests share: `dataseal up` in a fresh folder and the README's quickstart run against it
once (test_quickstart.py checks what each command printed; test_http.py reads the result over HTTP)."""
from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tests.chain.embedded.clocks import HANG_GUARD_SECONDS
from tests.cli.commands.test_up import running_up
from tests.e2e.quickstart import Journey, base_env, run_quickstart


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
