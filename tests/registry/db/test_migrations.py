"""The registry's schema comes from the Alembic migrations shipped in the package: they match the models,
a database a newer dataseal migrated is refused, and processes that start together migrate once."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, event, inspect, text
from sqlalchemy.engine import Engine, make_url

from dataseal.errors import InternalError
from dataseal.registry.db import Database, DatabaseSchemaConflict, DatabaseUnavailable
from dataseal.registry.db.engine import MIGRATION_LOCK_KEY, create_database_engine
from dataseal.registry.db.migrations import (
    MIGRATIONS_DIR,
    VERSION_TABLE,
    compute_head_revisions,
    compute_known_revisions,
    compute_schema_differences,
    registry_metadata,
)

ROOT = Path(__file__).resolve().parents[3]


def psycopg_url(database_url: str) -> str:
    """A libpq URL of a SQLAlchemy postgresql+psycopg one."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def version_rows(database_url: str) -> list[str] | None:
    """The version table's rows, or None when there is no version table."""
    engine = create_database_engine(database_url)
    try:
        with engine.connect() as connection:
            if VERSION_TABLE not in inspect(connection).get_table_names():
                return None
            return [row[0] for row in connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))]
    finally:
        engine.dispose()


def fail_fast_on_locks(engine: Engine) -> None:
    """Make a held lock fail this engine's statements at once instead of waiting (SQLite's busy timeout 0,
    PostgreSQL's lock_timeout 1 ms): what blocks on the lock shows as an error, not as a wait."""
    def set_up(dbapi_connection: object, record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        if engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA busy_timeout=0")
        else:
            cursor.execute("SET lock_timeout = 1")
            dbapi_connection.commit()  # type: ignore[attr-defined]
        cursor.close()

    event.listen(engine, "connect", set_up)


class LockHolder:
    """Holds the migration lock of a database from outside dataseal: PostgreSQL's advisory lock in a session of
    its own; SQLite's write lock (BEGIN IMMEDIATE) on a plain sqlite3 connection."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.sqlite: sqlite3.Connection | None = None
        self.postgres: psycopg.Connection[tuple[object, ...]] | None = None

    def __enter__(self) -> LockHolder:
        if self.url.startswith("sqlite"):
            self.sqlite = sqlite3.connect(str(make_url(self.url).database), isolation_level=None)
            self.sqlite.execute("PRAGMA journal_mode=WAL")
            self.sqlite.execute("BEGIN IMMEDIATE")
        else:
            self.postgres = psycopg.connect(psycopg_url(self.url), autocommit=True)
            self.postgres.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
        return self

    def __exit__(self, *exc: object) -> None:
        if self.sqlite is not None:
            self.sqlite.execute("ROLLBACK")
            self.sqlite.close()
        if self.postgres is not None:
            self.postgres.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_KEY])
            self.postgres.close()


# -- the migrations and the models ------------------------------------------------------------------------------

def test_the_migrations_ship_inside_the_package_with_one_head() -> None:
    assert MIGRATIONS_DIR == ROOT / "dataseal" / "registry" / "db" / "migrations"
    assert (MIGRATIONS_DIR / "env.py").is_file() and (MIGRATIONS_DIR / "script.py.mako").is_file()
    assert "import sqlmodel" in (MIGRATIONS_DIR / "script.py.mako").read_text()
    assert len(compute_head_revisions()) == 1  # no branched history
    assert set(compute_head_revisions()) <= compute_known_revisions()


def test_a_fresh_database_is_migrated_to_the_head_revision(database: Database) -> None:
    assert database.get_schema_revision() == compute_head_revisions()[0]
    assert version_rows(database_url_of(database)) == list(compute_head_revisions())


def database_url_of(database: Database) -> str:
    return database.engine.url.render_as_string(hide_password=False)


def test_the_migrated_schema_matches_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        assert compute_schema_differences(connection) == []
        tables = set(inspect(connection).get_table_names())
    assert set(registry_metadata().tables) <= tables


def test_a_column_added_to_a_model_without_a_migration_is_a_difference(database: Database) -> None:
    # A table as the migrations made it...
    migrated = MetaData()
    for table in registry_metadata().tables.values():
        table.to_metadata(migrated)
    Table("drift_probe", migrated, Column("id", Integer, primary_key=True))
    migrated.tables["drift_probe"].create(database.engine)
    with database.engine.connect() as connection:
        assert compute_schema_differences(connection, migrated) == []
    # ... and the same models with one more column, which no migration adds.
    models = MetaData()
    for table in migrated.tables.values():
        table.to_metadata(models)
    models.tables["drift_probe"].append_column(Column("forgotten", String(20), nullable=True))
    with database.engine.connect() as connection:
        differences = compute_schema_differences(connection, models)
    assert [(kind, table, column.name) for kind, _, table, column in differences] == \
        [("add_column", "drift_probe", "forgotten")]


def test_a_table_added_without_a_migration_is_a_difference(database: Database) -> None:
    models = MetaData()
    for table in registry_metadata().tables.values():
        table.to_metadata(models)
    Table("unmigrated", models, Column("id", Integer, primary_key=True))
    with database.engine.connect() as connection:
        differences = compute_schema_differences(connection, models)
    assert [(diff[0], diff[1].name) for diff in differences] == [("add_table", "unmigrated")]


# -- databases this dataseal did not migrate -----------------------------------------------------------------------

def test_a_revision_this_dataseal_does_not_know_is_refused(database: Database) -> None:
    with database.engine.begin() as connection:
        connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = 'feedc0ffee42'"))
    url = database_url_of(database)
    with pytest.raises(DatabaseSchemaConflict) as caught:
        Database.open(url)
    error = caught.value
    assert "is at schema revision feedc0ffee42, which this dataseal does not know" in error.message
    assert f"its newest is {compute_head_revisions()[0]}" in error.message
    assert "a newer dataseal has migrated it" in error.message
    assert "run the dataseal version that migrated this database" in error.hint
    assert str(make_url(url).password) not in str(error) if make_url(url).password else True
    assert version_rows(url) == ["feedc0ffee42"]  # left as it was


@pytest.fixture
def foreign_table() -> Iterator[Table]:
    """A table registered on the registry's metadata for one test (as if a model defined it)."""
    metadata = registry_metadata()
    table = Table("foreign_probe", metadata, Column("id", Integer, primary_key=True))
    try:
        yield table
    finally:
        metadata.remove(table)


def test_tables_of_the_registry_without_a_migration_record_are_refused(database_url: str, foreign_table: Table) -> None:
    engine = create_database_engine(database_url)
    try:
        foreign_table.create(engine)
    finally:
        engine.dispose()
    with pytest.raises(DatabaseSchemaConflict, match=r"already holds tables named like dataseal's \(foreign_probe\) "
                                                     r"but no record of dataseal's migrations \(alembic_version\)"):
        Database.open(database_url)
    assert version_rows(database_url) is None


def test_a_migration_that_fails_changes_nothing(database_url: str) -> None:
    """A view where the first revision creates a table: the upgrade fails part way, and is rolled back whole."""
    blocked = sorted(registry_metadata().tables)[-1]
    engine = create_database_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f'CREATE VIEW "{blocked}" AS SELECT 1 AS one'))
    finally:
        engine.dispose()
    with pytest.raises(InternalError) as caught:
        Database.open(database_url)
    assert f"to revision {compute_head_revisions()[0]} failed" in caught.value.message
    assert blocked in caught.value.message
    assert "nothing was changed" in caught.value.hint
    assert version_rows(database_url) is None
    engine = create_database_engine(database_url)
    try:
        with engine.connect() as connection:
            assert inspect(connection).get_table_names() == []  # the tables created before the failure are gone
    finally:
        engine.dispose()


# -- the migration lock ---------------------------------------------------------------------------------------------

def test_migrating_waits_for_the_lock_and_writes_nothing_without_it(database_url: str) -> None:
    with LockHolder(database_url):
        database = Database(create_database_engine(database_url))
        fail_fast_on_locks(database.engine)
        try:
            with pytest.raises(DatabaseUnavailable, match="database is locked|lock timeout"):
                database.migrate()
        finally:
            database.close()
    assert version_rows(database_url) is None
    with Database.open(database_url) as database:
        assert database.get_schema_revision() == compute_head_revisions()[0]


def test_an_up_to_date_database_opens_without_the_lock(database_url: str) -> None:
    Database.open(database_url).close()
    with LockHolder(database_url):
        database = Database(create_database_engine(database_url))
        fail_fast_on_locks(database.engine)
        try:
            database.migrate()  # would fail at once if it asked for the held lock
            assert database.get_schema_revision() == compute_head_revisions()[0]
        finally:
            database.close()


TRACED_MIGRATION = textwrap.dedent("""
    import sys
    from sqlalchemy import event
    from dataseal.registry.db.engine import Database, create_database_engine

    database = Database(create_database_engine(sys.argv[1]))

    @event.listens_for(database.engine, "before_cursor_execute")
    def trace(connection, cursor, statement, parameters, context, executemany):
        print(" ".join(statement.split()), flush=True)

    database.migrate()
    database.close()
""")

LOCK_STATEMENTS = ("BEGIN IMMEDIATE", "SELECT pg_advisory_xact_lock")


def test_processes_that_start_together_migrate_once(database_url: str) -> None:
    """Two processes open a fresh database while the lock is held: both reach the lock and wait; released,
    exactly one of them creates the schema and both succeed."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with LockHolder(database_url):
        procs = [subprocess.Popen([sys.executable, "-c", TRACED_MIGRATION, database_url], env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
        try:
            traces: list[list[str]] = [[] for _ in procs]
            for proc, trace in zip(procs, traces, strict=True):
                assert proc.stdout is not None
                while not any(line.startswith(LOCK_STATEMENTS) for line in trace):
                    line = proc.stdout.readline()
                    assert line, f"the process ended before asking for the lock: {proc.wait()} {proc.stderr.read()}"  # type: ignore[union-attr]
                    trace.append(line.strip())
            # Both are at the lock (about to take it, or waiting on it); nothing is migrated yet.
            assert version_rows(database_url) is None
        except BaseException:
            for proc in procs:
                proc.kill()
                proc.wait()
            raise
    outputs = [proc.communicate() for proc in procs]
    for proc, (_, stderr) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, stderr
    for trace, (stdout, _) in zip(traces, outputs, strict=True):
        trace.extend(stdout.splitlines())
    creators = [trace for trace in traces if any(line.startswith(f"CREATE TABLE {VERSION_TABLE}") for line in trace)]
    assert len(creators) == 1
    assert version_rows(database_url) == list(compute_head_revisions())


# -- scripts/new_migration --------------------------------------------------------------------------------------------

def test_new_migration_writes_nothing_when_the_models_match() -> None:
    before = sorted(MIGRATIONS_DIR.joinpath("versions").iterdir())
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "new_migration"), "nothing new"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1, result.stderr
    assert "the models match the existing revisions: nothing to write" in result.stderr
    assert sorted(MIGRATIONS_DIR.joinpath("versions").iterdir()) == before


PROBE_MODEL = '''

from datetime import datetime  # noqa: E402

from sqlmodel import Field, SQLModel  # noqa: E402

from dataseal.registry.db.types import big_int_column, uint256_column, utc_column  # noqa: E402


class MigrationProbe(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(index=True)
    block: int = Field(sa_column=big_int_column())
    units: int = Field(sa_column=uint256_column())
    at: datetime = Field(sa_column=utc_column())
'''


def test_new_migration_writes_a_revision_that_brings_the_schema_to_the_models(tmp_path: Path) -> None:
    """In a copy of the package: a model is added, the script writes a revision for it, and a database
    migrated with that revision matches the models (on SQLite: the script's own scratch backend)."""
    copy = tmp_path / "checkout"
    shutil.copytree(ROOT / "dataseal", copy / "dataseal", ignore=shutil.ignore_patterns("__pycache__", "artifacts"))
    (copy / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "new_migration", copy / "scripts" / "new_migration")
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    with open(copy / "dataseal" / "registry" / "db" / "models" / "local.py", "a") as models:
        models.write(PROBE_MODEL)
    versions = copy / "dataseal" / "registry" / "db" / "migrations" / "versions"
    before = set(versions.glob("*.py"))
    result = subprocess.run([sys.executable, str(copy / "scripts" / "new_migration"), "add the migration probe"],
                            capture_output=True, text=True, cwd=copy)
    assert result.returncode == 0, result.stderr
    (written,) = set(versions.glob("*.py")) - before
    assert written.name.endswith("_add_the_migration_probe.py")
    source = written.read_text()
    assert 'op.create_table(\n        "migrationprobe"' in source
    assert "dataseal.registry.db.types.Uint256()" in source and "import dataseal.registry.db.types" in source
    assert f'down_revision: str | Sequence[str] | None = "{compute_head_revisions()[0]}"' in source
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--config", str(ROOT / "pyproject.toml"),
                           str(written)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
    check = textwrap.dedent(f"""
        from dataseal.registry.db import Database
        from dataseal.registry.db.migrations import compute_schema_differences
        with Database.open("sqlite:///{tmp_path / 'probe.sqlite'}") as database:
            with database.engine.connect() as connection:
                print(database.get_schema_revision(), compute_schema_differences(connection))
    """)
    opened = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(copy)})
    assert opened.returncode == 0, opened.stderr
    revision = source.split('revision: str = "')[1].split('"')[0]
    assert opened.stdout.split() == [revision, "[]"]


def test_a_database_of_the_first_revision_is_upgraded_on_open(database_url: str) -> None:
    """A registry made before the HTTP API's tables (the initial revision, 913177630b5a) opens migrated to the head,
    its rows kept: revisions are added, never rewritten, once a database may exist."""
    from alembic import command

    from dataseal.registry.db.migrations import alembic_config

    engine = create_database_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "913177630b5a")
        connection.execute(text("INSERT INTO chain_checkpoint (number, hash, parent_hash, timestamp) "
                                f"VALUES (5, '0x{'ab' * 32}', NULL, 1700000000)"))
    engine.dispose()
    database = Database.open(database_url)
    try:
        assert database.get_schema_revision() == compute_head_revisions()[0] != "913177630b5a"
        with database.engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            assert {"api_key", "api_seen_request", "api_idempotent_response"} <= tables
            assert connection.execute(text("SELECT number FROM chain_checkpoint")).scalar() == 5  # kept
    finally:
        database.close()
