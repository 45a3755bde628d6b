"""`dataseal up` as a user runs it: a process in a folder, its ready line, its two ports, two stop signals at once,
and a second start that finds everything again. Every process is stopped by its PID."""
from __future__ import annotations

import gc
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.chain.embedded.clocks import HANG_GUARD_SECONDS
from tests.chain.embedded.helpers import rpc
from tests.cli.conftest import Cli, one_line
from tests.registry.conftest import postgres  # noqa: F401 - the session's PostgreSQL server (a fixture)
from tests.support.devnode import ROOT
from tests.support.postgres import PostgresServer

#: How long a test waits for a start that should come (it deploys the contracts): a guard against a hang.
START_GUARD_SECONDS = 10 * HANG_GUARD_SECONDS


@dataclass
class Up:
    """A running `dataseal up --json` process and its ready line."""

    proc: subprocess.Popen[str]
    ready: dict[str, Any]
    stderr_path: Path

    @property
    def api(self) -> str:
        return str(self.ready["api_url"])

    @property
    def rpc(self) -> str:
        return str(self.ready["rpc_url"])

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def wait(self) -> int:
        """The exit status, once the process has ended (a guard kills it if it hangs)."""
        try:
            return self.proc.wait(timeout=HANG_GUARD_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def _env(**more: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **more}


def start_up(folder: Path, *args: str, env: dict[str, str] | None = None) -> Up:
    """`dataseal up --json` started in ``folder`` (its data in ./.dataseal); returns once its ready line came."""
    stderr_path = folder / f"up-{uuid.uuid4().hex[:8]}.err"
    command = [sys.executable, "-m", "dataseal.cli.main", "up", "--json", *args]
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen(command, cwd=folder, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                                text=True, env=env or _env())
    guard = threading.Timer(START_GUARD_SECONDS, _kill_if_running, (proc,))
    guard.start()
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the ready line: the event, not a sleep
    finally:
        guard.cancel()
    if not line:
        proc.wait()
        raise AssertionError(f"dataseal up exited with {proc.returncode} before it was ready: "
                             f"{stderr_path.read_text()[-3000:]}")
    return Up(proc, json.loads(line), stderr_path)


def _kill_if_running(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)


@contextmanager
def running_up(folder: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Up]:
    up = start_up(folder, *args, env=env)
    try:
        yield up
    finally:
        if up.proc.poll() is None:
            os.kill(up.proc.pid, signal.SIGTERM)
            try:
                up.proc.wait(timeout=HANG_GUARD_SECONDS)
            except subprocess.TimeoutExpired:
                up.kill()


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def _listens(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _signal_twice_at_once(pid: int, sig: int = signal.SIGTERM) -> None:
    senders = [threading.Thread(target=os.kill, args=(pid, sig)) for _ in range(2)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()


def _rpc_status(url: str, headers: dict[str, str]) -> int:
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    return httpx.post(url, json=body, headers=headers).status_code


def test_up_serves_the_chain_the_indexer_and_the_api_stops_on_two_signals_and_starts_again(tmp_path: Path) -> None:
    with running_up(tmp_path, "--port", "0", "--api-port", "0", "--light-kdf") as up:
        ready = up.ready
        assert ready["pid"] == up.proc.pid and ready["embedded"] is True
        assert ready["data_dir"] == str((tmp_path / ".dataseal").resolve())
        assert ready["database"].startswith("sqlite:///") and ready["operator"].startswith("0x")
        assert ready["docs_url"] == f"{up.api}/docs" and ready["health_url"] == f"{up.api}/health"
        assert up.api.startswith("http://127.0.0.1:") and up.rpc.startswith("http://127.0.0.1:")

        health = httpx.get(f"{up.api}/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert rpc(up.rpc, "eth_chainId")["result"] == hex(ready["chain_id"])

        # The exposure rules on both ports: other Host names refused, no CORS for a web page not named.
        assert 400 <= httpx.get(f"{up.api}/health", headers={"Host": "rebound.example"}).status_code < 500
        assert 400 <= _rpc_status(up.rpc, {"Host": "rebound.example"}) < 500
        page = {"Origin": "http://evil.example"}
        assert "access-control-allow-origin" not in httpx.get(f"{up.api}/health", headers=page).headers
        assert 400 <= _rpc_status(up.rpc, page) < 500

        # The three commands printed work as printed, in this folder.
        assert len(ready["next"]) == 3
        for command in ready["next"]:
            done = subprocess.run(command, shell=True, cwd=tmp_path, env=_env(), capture_output=True, text=True)
            assert done.returncode == 0, (command, done.stdout, done.stderr)
        assert "AssetRegistered" in done.stdout  # `dataseal audit 1`: the asset the second command registered
        block = int(rpc(up.rpc, "eth_blockNumber")["result"], 16)
        assert block > ready["block"]

        _signal_twice_at_once(up.proc.pid)
        code = up.wait()
        stderr = up.stderr()
        assert code == 0, stderr[-3000:]
        assert stderr.count("dataseal up: stopping") == 1 and f"stopped at block {block}" in stderr
        assert "Traceback" not in stderr
        assert not _listens(_port(up.api)) and not _listens(_port(up.rpc))
        assert not (tmp_path / ".dataseal" / "node.json").exists()

    with running_up(tmp_path, "--port", "0", "--api-port", "0") as again:
        assert again.ready["deployment"] == ready["deployment"] and again.ready["block"] >= block
        assert again.ready["operator"] == ready["operator"]
        assert httpx.get(f"{again.api}/health").status_code == 200
        audit = subprocess.run(again.ready["next"][2], shell=True, cwd=tmp_path, env=_env(), capture_output=True,
                               text=True)
        assert audit.returncode == 0 and "AssetRegistered" in audit.stdout, audit.stderr
        os.kill(again.proc.pid, signal.SIGINT)
        assert again.wait() == 0, again.stderr()[-3000:]
        assert "deployed" not in again.stderr() and "created" not in again.stderr()


def test_people_are_told_the_urls_and_what_to_try(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "dataseal.cli.main", "up", "--port", "0", "--api-port", "0", "--light-kdf",
               "--data-dir", "state"]
    proc = subprocess.Popen(command, cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env())
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl-C"):
                break
        text = "\n".join(lines)
        assert text.startswith("dataseal up: serving http://127.0.0.1:") and "/docs" in text
        assert "embedded chain" in text and "AssetRegistry 0x" in text
        tries = lines[lines.index("Try, in another terminal in this folder:") + 1:-1]
        assert len(tries) == 3 and tries[0].strip().startswith("curl http://127.0.0.1:")
        assert all("--data-dir state" in line for line in tries[1:])
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=HANG_GUARD_SECONDS)
        assert proc.returncode == 0 and "dataseal up: stopped at block 3" in err
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def test_a_taken_api_port_stops_the_start_before_anything_is_created(cli: Cli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = cli("up", "--api-port", str(port), "--port", "0")
    line = one_line(err)
    assert code == 1 and line.startswith(f"dataseal: error: port {port} on 127.0.0.1 (for the HTTP API) is already "
                                         "in use: stop what listens there")
    assert not cli.data_dir.exists()


def test_options_of_the_embedded_chain_are_refused_with_a_real_node(cli: Cli) -> None:
    code, _, err = cli("up", "--rpc", "http://127.0.0.1:1", "--port", "8600", "--dev")
    assert code == 2 and "--port, --dev only apply to the embedded chain, not to the node at http://127.0.0.1:1" \
        in " ".join(err.split())
    assert not cli.data_dir.exists()


def test_an_unreachable_node_is_one_line_and_frees_the_api_port(cli: Cli) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, _, err = cli("up", "--rpc", "http://127.0.0.1:1", "--api-port", str(port))
    line = one_line(err)
    assert code == 1 and "http://127.0.0.1:1" in line and "dataseal: error:" in line
    assert not _listens(port)


def test_bad_exposure_settings_are_refused_before_anything_starts(cli: Cli) -> None:
    code, _, err = cli("up", "--cors-origin", "localhost:3000", "--port", "0", "--api-port", "0")
    line = one_line(err)
    assert code == 1 and "'localhost:3000' is not a web origin" in line and line.endswith("[--cors-origin URL]")
    assert not cli.data_dir.exists()


@pytest.mark.hardhat
def test_up_serves_a_real_node_and_postgresql(tmp_path: Path, hardhat_url: str, postgres: PostgresServer) -> None:  # noqa: F811
    name = f"test_{uuid.uuid4().hex[:16]}"
    database = postgres.create_database(name)
    try:
        data = tmp_path / ".dataseal"
        key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # hardhat's account 1
        key_file = tmp_path / "key.txt"
        key_file.write_text(key + "\n")
        password = tmp_path / "password.txt"
        password.write_text("a long passphrase\n")
        env = _env()
        base = [sys.executable, "-m", "dataseal.cli.main"]
        for args in (["account", "import", str(key_file), "--password-file", str(password), "--light-kdf"],
                     ["deploy", "--rpc", hardhat_url, "--password-file", str(password)]):
            done = subprocess.run([*base, *args], cwd=tmp_path, env=env, capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
        with running_up(tmp_path, "--rpc", hardhat_url, "--database-url", database, "--api-port", "0",
                        "--password-file", str(password)) as up:
            assert up.ready["embedded"] is False and up.ready["rpc_url"] == hardhat_url
            assert up.ready["database"].startswith("postgresql") and postgres.password not in up.ready["database"]
            assert httpx.get(f"{up.api}/health").status_code == 200
            assert all(f"--rpc {hardhat_url}" in command for command in up.ready["next"][1:])
            _signal_twice_at_once(up.proc.pid)
            assert up.wait() == 0, up.stderr()[-3000:]
            assert not _listens(_port(up.api))
        assert data.is_dir() and not (data / "node.json").exists()
    finally:
        postgres.drop_database(name)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_while_starting_stops_it(tmp_path: Path, sig: int) -> None:
    """A node that accepts and never answers holds the start-up in a read: a stop signal then stops `up` (it was
    ignored until the RPC timeout ran out), the API port is freed and nothing is left running."""
    with socket.socket() as silent, socket.socket() as probe:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        probe.bind(("127.0.0.1", 0))
        api_port = probe.getsockname()[1]
        probe.close()
        command = [sys.executable, "-m", "dataseal.cli.main", "up", "--rpc",
                   f"http://127.0.0.1:{silent.getsockname()[1]}", "--api-port", str(api_port)]
        proc = subprocess.Popen(command, cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=_env())
        guard = threading.Timer(HANG_GUARD_SECONDS, _kill_if_running, (proc,))  # a guard against a hang
        guard.start()
        try:
            connection, _ = silent.accept()  # the event: `up` is waiting for the node's answer
            with connection:
                os.kill(proc.pid, sig)
                _, err = proc.communicate()
        finally:
            guard.cancel()
            _kill_if_running(proc)
    assert proc.returncode == 130, err
    assert "dataseal: interrupted" in err and "Traceback" not in err
    assert not _listens(api_port)


def test_the_register_to_try_names_the_operator_once_the_keystore_holds_others(tmp_path: Path) -> None:
    """The quickstart makes a second account; `up` started again prints a register that would otherwise ask which
    account signs (and exit 1): it names the operator then, and only then."""
    from dataseal.chain.accounts.keystore import LIGHT_SCRYPT_N, Keystore, keystore_dir
    from dataseal.cli.commands.up import _next_commands
    from dataseal.registry.settings import Settings

    cfg = Settings(data_dir=tmp_path / "data")
    keystore = Keystore(keystore_dir(cfg.data_dir), scrypt_n=LIGHT_SCRYPT_N)
    operator = keystore.create("pw")
    [_, register, _] = _next_commands(cfg, "http://127.0.0.1:8000", embedded=True, operator=operator)
    assert "--account" not in register
    keystore.create("pw")
    [_, register, _] = _next_commands(cfg, "http://127.0.0.1:8000", embedded=True, operator=operator)
    assert register.endswith(f"register hello.txt --data-dir {cfg.data_dir} --account {operator}")


def test_a_write_waits_for_the_index_within_two_polls_and_not_for_a_failing_or_stopping_indexer() -> None:
    """The write worker waits here for the index to hold its block (the index answers trails and listings): told as
    soon as a sync reaches it; never longer than two polls; not at all when the indexer is failing; a stop ends it."""
    from types import SimpleNamespace

    from dataseal.cli.commands.up import _IndexerThread

    registry: Any = SimpleNamespace(settings=SimpleNamespace(confirmations=0))
    indexer = _IndexerThread(registry, poll_interval=0.0)
    report: Any = SimpleNamespace(tip=12, lag=0, to_block=12)
    reached: list[bool] = []
    waiter = threading.Thread(target=lambda: reached.append(indexer.wait_indexed(12, HANG_GUARD_SECONDS)))
    indexer.poll_interval = HANG_GUARD_SECONDS  # two polls are long: the sync's notice ends the wait
    waiter.start()
    indexer._synced(report)  # noqa: SLF001 (the indexer thread's callback)
    waiter.join(HANG_GUARD_SECONDS)
    assert reached == [True]
    indexer.poll_interval = 0.0
    assert indexer.wait_indexed(13, HANG_GUARD_SECONDS) is False  # bounded by two polls (here: a second)
    indexer._problem = "the node does not answer"  # noqa: SLF001
    assert indexer.wait_indexed(13, HANG_GUARD_SECONDS) is False
    indexer._problem = None  # noqa: SLF001
    indexer._stop.set()  # noqa: SLF001
    assert indexer.wait_indexed(13, HANG_GUARD_SECONDS) is False


def test_the_start_up_heap_is_collected_then_left_out_of_later_collections() -> None:
    """`up` freezes what start-up made before it serves: a full collection walked the chain's engine and web3 (some
    100 ms without an answer, the API's p99 under load); the garbage of start-up is collected first."""
    from dataseal.cli.commands.up import freeze_startup_heap

    class Cycle:
        pass

    garbage = Cycle()
    garbage.me = garbage  # type: ignore[attr-defined]
    gone = weakref.ref(garbage)
    del garbage
    frozen_before = gc.get_freeze_count()
    try:
        freeze_startup_heap()
        assert gone() is None, "start-up's garbage is collected, not frozen"
        assert gc.get_freeze_count() > frozen_before
    finally:
        gc.unfreeze()  # this test process goes on collecting as before
