"""The engine's error paths, each on a real server or a real file: one DatasealError saying what failed and
what to do, the URL shown without its password, and nothing half written."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from dataseal.errors import ConfigError, DatasealError, ErrorKind
from dataseal.registry.db import Database, DatabaseNotFound, DatabaseUnavailable
from dataseal.registry.db.engine import redact_url
from tests.support.devnode import free_port
from tests.support.postgres import PostgresServer

SECRET = "hunter2-secret"


def assert_no_secret(error: DatasealError, *secrets: str) -> None:
    rendered = f"{error} {error.to_json()} {error!r}"
    for secret in (SECRET, *secrets):
        assert secret not in rendered


def test_an_unreachable_postgresql_server_is_unavailable_and_named_without_its_password() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(DatabaseUnavailable) as caught:
        Database.open(f"postgresql+psycopg://registry:{SECRET}@127.0.0.1:{port}/registry")
    error = caught.value
    assert error.kind is ErrorKind.UNAVAILABLE
    assert f"the registry database at postgresql+psycopg://registry:***@127.0.0.1:{port}/registry did not answer" \
        in error.message
    assert "Connection refused" in error.message
    assert "server is running and reachable" in error.hint
    assert error.options == ("database_url",)
    assert_no_secret(error)


def test_a_plain_postgresql_url_uses_psycopg_3() -> None:
    port = free_port()
    with pytest.raises(DatabaseUnavailable, match=rf"postgresql\+psycopg://registry:\*\*\*@127\.0\.0\.1:{port}/r"):
        Database.open(f"postgresql://registry:{SECRET}@127.0.0.1:{port}/r")


def test_a_wrong_password_is_a_config_error_that_does_not_echo_either_password(postgres: PostgresServer) -> None:
    with pytest.raises(ConfigError) as caught:
        Database.open(postgres.url("postgres", password=SECRET))
    error = caught.value
    assert f"refused the user {postgres.user!r}: password authentication failed" in error.message
    assert f":***@127.0.0.1:{postgres.port}/postgres" in error.message
    assert "check the user name and password" in error.hint
    assert_no_secret(error, postgres.password)


def test_an_unknown_user_is_a_config_error(postgres: PostgresServer) -> None:
    url = f"postgresql+psycopg://nobody_here:{SECRET}@127.0.0.1:{postgres.port}/postgres"
    with pytest.raises(ConfigError, match="refused the user 'nobody_here'") as caught:
        Database.open(url)
    assert_no_secret(caught.value)


def test_a_database_that_does_not_exist_is_not_found(postgres: PostgresServer) -> None:
    with pytest.raises(DatabaseNotFound) as caught:
        Database.open(postgres.url("no_such_registry"))
    error = caught.value
    assert error.kind is ErrorKind.NOT_FOUND
    assert "the registry database 'no_such_registry' does not exist on the server at" in error.message
    assert "CREATE DATABASE no_such_registry" in error.hint
    assert_no_secret(error, postgres.password)


def test_a_sqlite_file_in_a_missing_folder_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "registry.sqlite"
    with pytest.raises(ConfigError, match=f"its folder {tmp_path / 'missing'} does not exist") as caught:
        Database.open(f"sqlite:///{path}")
    assert "create the folder" in caught.value.hint
    assert not path.parent.exists()


def test_a_sqlite_file_under_a_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("not a folder")
    with pytest.raises(ConfigError, match=f"its folder {tmp_path / 'plain'} is not a folder"):
        Database.open(f"sqlite:///{tmp_path / 'plain' / 'registry.sqlite'}")


def test_a_sqlite_file_in_a_folder_no_one_can_write_is_a_config_error() -> None:
    # /proc refuses new files to every user, root included (a chmod'ed folder does not stop root).
    expected = ("the registry database at sqlite:////proc/registry.sqlite cannot be written: "
                "unable to open database file")
    with pytest.raises(ConfigError, match=expected) as caught:
        Database.open("sqlite:////proc/registry.sqlite")
    assert "this user can write" in caught.value.hint


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder; the /proc test covers root")
def test_a_sqlite_file_in_a_read_only_folder_is_a_config_error(tmp_path: Path) -> None:
    folder = tmp_path / "readonly"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(ConfigError, match=f"its folder {folder} is not writable"):
            Database.open(f"sqlite:///{folder / 'registry.sqlite'}")
    finally:
        folder.chmod(0o755)
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("url, expected", [
    ("://registry:hunter2-secret@host/db", "is not a valid SQLAlchemy URL"),
    ("", "is not a valid SQLAlchemy URL"),
    ("postgresql://registry:hunter2-secret@host:notaport/db", "is not a valid SQLAlchemy URL"),
    ("postgresql://registry:hunter2-secret@host:70000/db", "names the port 70000, outside 1..65535"),
    ("postgresql+psycopg2://registry:hunter2-secret@host/db", "names the driver 'psycopg2'"),
    ("postgresql+asyncpg://registry:hunter2-secret@host/db", "names the driver 'asyncpg'"),
])
def test_a_malformed_url_is_a_config_error_without_the_password(url: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected) as caught:
        Database.open(url)
    assert "sqlite:///PATH or postgresql+psycopg://" in caught.value.hint
    assert caught.value.options == ("database_url",)
    assert_no_secret(caught.value)


@pytest.mark.parametrize("url, backend", [
    ("mysql://registry:hunter2-secret@127.0.0.1/registry", "mysql"),
    ("mssql+pyodbc://registry:hunter2-secret@dsn", "mssql"),
    ("oracle://registry:hunter2-secret@127.0.0.1/registry", "oracle"),
    ("bogus://", "bogus"),  # no such dialect at all: loading it was an internal error
])
def test_an_unsupported_backend_is_a_config_error(url: str, backend: str) -> None:
    with pytest.raises(ConfigError, match=f"names '{backend}'; dataseal runs on SQLite and PostgreSQL") as caught:
        Database.open(url)
    assert_no_secret(caught.value)


def test_redact_url_hides_passwords_with_awkward_characters() -> None:
    assert redact_url("postgresql://u:p@ss:w@host:5432/db") == "postgresql://u:***@host:5432/db"
    assert redact_url("postgresql://u@host/db") == "postgresql://u@host/db"
    assert redact_url("sqlite:///a:b@c") == "sqlite:///a:b@c"


# -- a failure in the middle of a session: everything it wrote is rolled back ---------------------------------

rows = Table("rollback_probe", MetaData(), Column("id", Integer, primary_key=True))


def break_mid_transaction(database: Database, session_connection: object, request: pytest.FixtureRequest) -> None:
    """Make the session's next statement fail with an OperationalError, for real: PostgreSQL's backend is
    terminated from another connection (the server going away); SQLite's connection turns read-only (the file
    becoming unwritable)."""
    if database.dialect == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres")
        pid = session_connection.execute(text("SELECT pg_backend_pid()")).scalar_one()  # type: ignore[attr-defined]
        with server.connect_admin() as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)
    else:
        session_connection.exec_driver_sql("PRAGMA query_only=ON")  # type: ignore[attr-defined]


def test_an_operational_error_mid_transaction_rolls_everything_back(
        database: Database, request: pytest.FixtureRequest) -> None:
    rows.metadata.create_all(database.engine)
    expected: type[DatasealError] = DatabaseUnavailable if database.dialect == "postgresql" else ConfigError
    with pytest.raises(expected) as caught:
        with database.session() as session:
            session.execute(insert(rows).values(id=1))
            session.execute(insert(rows).values(id=2))
            break_mid_transaction(database, session.connection(), request)
            session.execute(insert(rows).values(id=3))
    assert str(database.engine.url.database) in caught.value.message
    assert (database.engine.url.password or "dataseal-no-password") not in str(caught.value)
    database.engine.dispose()  # a fresh connection (SQLite's read-only one goes)
    with database.session() as session:
        assert session.execute(select(func.count()).select_from(rows)).scalar_one() == 0
        session.execute(insert(rows).values(id=1))  # the database works again
    with database.session() as session:
        assert session.execute(select(func.count()).select_from(rows)).scalar_one() == 1


def test_any_other_error_in_a_session_rolls_back_and_is_raised_as_is(database: Database) -> None:
    rows.metadata.create_all(database.engine)
    with pytest.raises(KeyError, match="half way"):
        with database.session() as session:
            session.execute(insert(rows).values(id=1))
            raise KeyError("half way")
    with database.session() as session:
        assert session.execute(select(func.count()).select_from(rows)).scalar_one() == 0


def test_a_violated_constraint_in_a_session_is_raised_as_it_is_and_rolled_back(database: Database) -> None:
    rows.metadata.create_all(database.engine)
    with pytest.raises(IntegrityError):
        with database.session() as session:
            session.execute(insert(rows).values(id=1))
            session.execute(insert(rows).values(id=1))
    with database.session() as session:
        assert session.execute(select(func.count()).select_from(rows)).scalar_one() == 0


def test_a_file_that_is_not_a_sqlite_database_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "registry.sqlite"
    path.write_bytes(b"this is a text file, not SQLite's format " * 100)
    expected = f"the registry database at sqlite:///{path} is not a SQLite database dataseal can read"
    with pytest.raises(ConfigError, match=expected) as caught:
        Database.open(f"sqlite:///{path}")
    assert "move this file away" in caught.value.hint
    assert path.read_bytes() == b"this is a text file, not SQLite's format " * 100
