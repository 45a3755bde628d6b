"""A throwaway PostgreSQL server for tests: initdb into a temporary folder, started on a free loopback port,
always stopped by its PID.

As root, PostgreSQL refuses to run: the folder is handed to the user ``postgres`` and the binaries run as that
user (``initdb`` through ``runuser -u postgres --``; the server is started as ``postgres`` directly, so that its
PID is the server's own, not a wrapper's). As any other user the binaries run directly.

The cluster uses password authentication over TCP (scram-sha-256), so a wrong password is a real refusal.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from tests.support.devnode import free_port

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
SUPERUSER = "dataseal"
PASSWORD = "dataseal-test-secret"
POLL_SECONDS = 0.05
STOP_WAIT_SECONDS = 60.0
INSTALL_HINT = (
    "the tests need PostgreSQL 15's server binaries in {bin}: install them with "
    "`apt-get install --no-install-recommends postgresql-15` (or run `make sysdeps` as root)"
)


class PostgresMissing(RuntimeError):
    """PostgreSQL's server binaries are not installed."""


class PostgresFailed(RuntimeError):
    """The test server could not be set up or started (the message holds the tail of its log)."""


@dataclass(frozen=True)
class PostgresServer:
    """A running server: where it listens and how to reach it as its superuser."""

    host: str
    port: int
    user: str
    password: str
    pid: int
    folder: Path

    def url(self, database: str = "postgres", *, password: str | None = None) -> str:
        """A SQLAlchemy URL (psycopg 3) for ``database``, with the superuser's password unless another is given."""
        secret = self.password if password is None else password
        return f"postgresql+psycopg://{self.user}:{secret}@{self.host}:{self.port}/{database}"

    def connect_admin(self) -> psycopg.Connection[Any]:
        """An autocommit connection to the ``postgres`` database (CREATE/DROP DATABASE cannot run in a transaction)."""
        return psycopg.connect(host=self.host, port=self.port, user=self.user, password=self.password,
                               dbname="postgres", autocommit=True)

    def create_database(self, name: str) -> str:
        """Create an empty database ``name``; its URL."""
        with self.connect_admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, closing any session still connected to it."""
        with self.connect_admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def verify_postgres_installed(bin_dir: Path = POSTGRES_BIN) -> None:
    """Raise :class:`PostgresMissing` (saying how to install them) when the server binaries are not there."""
    missing = [name for name in ("initdb", "postgres") if not (bin_dir / name).is_file()]
    if missing:
        raise PostgresMissing(INSTALL_HINT.format(bin=bin_dir) + f" (missing: {', '.join(missing)})")


@contextmanager
def postgres_server(tmp: Path | None = None, *, bin_dir: Path = POSTGRES_BIN) -> Iterator[PostgresServer]:
    """A fresh PostgreSQL cluster in a new folder under ``tmp`` (the system's temporary folder when None).

    As root, ``tmp`` must be one the user ``postgres`` can traverse (pytest's own ``tmp_path`` folders are
    private to root: leave ``tmp`` unset there). The folder is removed on exit, after the server has stopped.
    """
    verify_postgres_installed(bin_dir)
    as_root = os.geteuid() == 0
    folder = Path(tempfile.mkdtemp(prefix="dataseal-postgres-", dir=tmp))
    proc: subprocess.Popen[bytes] | None = None
    try:
        data, log, pwfile = folder / "data", folder / "server.log", folder / "pwfile"
        pwfile.write_text(PASSWORD + "\n")
        if as_root:
            shutil.chown(folder, "postgres", "postgres")
            shutil.chown(pwfile, "postgres", "postgres")
        runner = ["runuser", "-u", "postgres", "--"] if as_root else []
        initdb = subprocess.run(
            [*runner, str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, f"--pwfile={pwfile}",
             "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            capture_output=True, text=True, check=False,
        )
        if initdb.returncode != 0:
            raise PostgresFailed(f"initdb failed ({initdb.returncode}): {(initdb.stdout + initdb.stderr)[-2000:]}")
        port = free_port()
        options: dict[str, Any] = {"user": "postgres", "group": "postgres", "extra_groups": []} if as_root else {}
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(folder),
                 "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off", "-c", "max_connections=200"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=folder, **options,
            )
        server = PostgresServer("127.0.0.1", port, SUPERUSER, PASSWORD, proc.pid, folder)
        _wait_until_accepting(server, proc, log)
        yield server
    finally:
        if proc is not None:
            stop_postgres(proc)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_until_accepting(server: PostgresServer, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Poll until the server takes a connection; fail as soon as it has exited (no time limit: it either
    comes up or dies, and pytest's faulthandler shows a hang)."""
    while True:
        if proc.poll() is not None:
            raise PostgresFailed(f"postgres exited with {proc.returncode}: {log.read_text(errors='replace')[-2000:]}")
        try:
            with server.connect_admin() as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError:
            _pause(proc)


def _pause(proc: subprocess.Popen[bytes]) -> None:
    """Wait a moment between polls, returning early if the server exits."""
    try:
        proc.wait(timeout=POLL_SECONDS)
    except subprocess.TimeoutExpired:
        pass


def stop_postgres(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server by its PID: SIGINT (fast shutdown: roll back and close sessions), SIGKILL after a
    generous wait."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=STOP_WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
