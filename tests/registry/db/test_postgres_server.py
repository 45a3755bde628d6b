"""The test PostgreSQL server (tests/support/postgres.py): started from nothing, reachable with its password
only, stopped by its PID and its folder removed; missing binaries fail with how to install them."""
from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from tests.support.postgres import PostgresMissing, postgres_server, verify_postgres_installed


def test_a_server_starts_answers_and_is_stopped_by_its_pid_with_its_folder_removed() -> None:
    with postgres_server() as server:
        folder, pid = server.folder, server.pid
        assert folder.is_dir()
        with server.connect_admin() as conn:
            row = conn.execute("SELECT pg_postmaster_start_time() IS NOT NULL, current_user").fetchone()
            assert row == (True, server.user)
            assert (folder / "data" / "postmaster.pid").read_text().splitlines()[0] == str(pid)  # the server itself
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(host=server.host, port=server.port, user=server.user, password="wrong", dbname="postgres")
        url = server.create_database("made_here")
        assert url == f"postgresql+psycopg://{server.user}:{server.password}@127.0.0.1:{server.port}/made_here"
        server.drop_database("made_here")
        with server.connect_admin() as conn:
            assert conn.execute("SELECT count(*) FROM pg_database WHERE datname = 'made_here'").fetchone() == (0,)
    assert not folder.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_missing_binaries_fail_saying_how_to_install_them(tmp_path: Path) -> None:
    with pytest.raises(PostgresMissing, match=r"apt-get install --no-install-recommends postgresql-15") as caught:
        verify_postgres_installed(tmp_path)
    assert "missing: initdb, postgres" in str(caught.value)
    with pytest.raises(PostgresMissing, match=str(tmp_path)):
        with postgres_server(bin_dir=tmp_path):
            pass
