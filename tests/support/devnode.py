"""Local development nodes for tests and benchmarks: a `hardhat node` or an `anvil` process on a free
loopback port, always stopped by its PID."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from web3 import Web3

from dataseal.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Stop ``proc`` by its PID: SIGTERM, then SIGKILL after 30 s."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


@contextmanager
def hardhat_node(
    log_dir: Path, *, root: Path = ROOT, startup_timeout: float = 90.0, args: Sequence[str] = ()
) -> Iterator[str]:
    """A ``hardhat node`` process (one PID: node runs hardhat's CLI directly); yields its URL.

    ``args`` go to hardhat before the task (e.g. ``("--config", path)``).

    Its output goes to ``log_dir/hardhat.log``; the tail of it is in the error if it fails to start.
    """
    hardhat = root / "node_modules" / ".bin" / "hardhat"
    if not hardhat.exists():
        raise ConfigError(f"{hardhat} is missing: run `npm ci` (or `make test`) first")
    port = free_port()
    log = log_dir / "hardhat.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            ["node", str(hardhat), *args, "node", "--hostname", "127.0.0.1", "--port", str(port)],
            cwd=root, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "HARDHAT_DISABLE_TELEMETRY_PROMPT": "1"},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise ConfigError(f"hardhat node exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                if Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 2})).is_connected():
                    break
            except Exception:
                pass
            if time.monotonic() > deadline:
                raise ConfigError(
                    f"hardhat node did not answer on {url} within {startup_timeout:g} s: {log.read_text()[-2000:]}"
                )
            time.sleep(0.2)
        yield url
    finally:
        stop_process(proc)


ANVIL = ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"


@contextmanager
def anvil_node(
    log_dir: Path, *, anvil: Path = ANVIL, startup_timeout: float = 60.0, args: Sequence[str] = ()
) -> Iterator[str]:
    """An ``anvil`` process (foundry 1.7.1, from the npm package ``@foundry-rs/anvil-linux-amd64``; runs offline)
    on a free loopback port; yields its URL and stops it by its PID.

    ``args`` go to anvil (e.g. ``("--no-mining",)``). Its output goes to ``log_dir/anvil.log``; the tail of it
    is in the error if it fails to start.
    """
    if not anvil.exists():
        raise ConfigError(f"{anvil} is missing: run `npm ci` (or `make test`) first")
    port = free_port()
    log = log_dir / "anvil.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(anvil), "--host", "127.0.0.1", "--port", str(port), *args],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise ConfigError(f"anvil exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                if Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 2})).is_connected():
                    break
            except Exception:
                pass
            if time.monotonic() > deadline:
                raise ConfigError(f"anvil did not answer on {url} within {startup_timeout:g} s: "
                                  f"{log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        stop_process(proc)
