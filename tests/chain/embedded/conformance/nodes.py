"""The nodes the conformance suite runs against: a `dataseal node` process and a hardhat node,
each in a temporary folder, started on a port of their own choosing and stopped by PID."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.chain.embedded.conformance.chainstate import GethFixture
from tests.support.devnode import hardhat_node, stop_process

ROOT = Path(__file__).resolve().parents[4]
HARDHAT_CONFIG = Path(__file__).with_name("hardhat.config.js")
STARTUP_TIMEOUT = 120.0


@dataclass(frozen=True)
class Node:
    """A node the suite runs against, with web3.py's geth fixture chain built on it."""

    url: str
    chain: GethFixture


def _env() -> dict[str, str]:
    """The environment of a node process: the shell's, without dataseal's own settings."""
    return {name: value for name, value in os.environ.items() if not name.startswith("DATASEAL_")}


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "dataseal.cli.main", *args]


def node_has_dev_flag() -> bool:
    """Whether `dataseal node --help` lists ``--dev`` (the switch that turns the test methods, evm_*, on)."""
    done = subprocess.run(_command("node", "--help"), cwd=ROOT, env={**_env(), "COLUMNS": "200"},
                          capture_output=True, text=True, check=True)
    return re.search(r"(?<![\w-])--dev(?![\w.-])", done.stdout) is not None


@contextmanager
def dataseal_node(data_dir: Path, args: Sequence[str]) -> Iterator[str]:
    """A `dataseal node --json --port 0` process in ``data_dir``; yields the URL its startup line gives.

    Its output goes beside ``data_dir``; the tail of its stderr is in the error if it fails to start.
    """
    out_path, err_path = data_dir.with_suffix(".out"), data_dir.with_suffix(".err")
    command = _command("node", "--data-dir", str(data_dir), "--port", "0", "--json", "--light-kdf", *args)
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=_env())
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not out_path.read_text().endswith("\n"):
            if proc.poll() is not None:
                raise RuntimeError(f"dataseal node exited with {proc.returncode}: {err_path.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"dataseal node printed no startup line within {STARTUP_TIMEOUT:g} s: "
                                   f"{err_path.read_text()[-3000:]}")
            time.sleep(0.1)
        info = json.loads(out_path.read_text().splitlines()[0])
        assert info["pid"] == proc.pid
        yield str(info["rpc_url"])
    finally:
        stop_process(proc)
        if proc.returncode not in (0, -signal.SIGKILL):
            raise RuntimeError(f"dataseal node stopped with {proc.returncode}: {err_path.read_text()[-3000:]}")


@contextmanager
def conformance_hardhat_node(log_dir: Path) -> Iterator[str]:
    """A hardhat node with the chain id of web3.py's geth fixture (the project's configuration otherwise)."""
    with hardhat_node(log_dir, root=ROOT, args=("--config", str(HARDHAT_CONFIG))) as url:
        yield url
