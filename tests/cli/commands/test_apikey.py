"""`dataseal api-key create|list|revoke`: keys made, listed and revoked in the registry database the HTTP API reads
(SQLite in the data folder, or --database-url on PostgreSQL); a key made here is accepted by the API's check, and
refused once revoked. Refusals are one line with a non-zero exit."""
from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dataseal.api.security import Unauthorized, verify_api_key
from dataseal.registry.db import Database
from tests.cli.conftest import Cli, one_line
from tests.registry.conftest import postgres  # noqa: F401 - the session's PostgreSQL server (a fixture)
from tests.support.postgres import PostgresServer

KEY = re.compile(r"dsk_[A-Za-z0-9_-]{43}")


@pytest.fixture
def database(cli: Cli) -> Iterator[Database]:
    """The registry database of the CLI's data folder, as `dataseal up` leaves it (made on its first start)."""
    cli.data_dir.mkdir(parents=True)
    db = Database.open(f"sqlite:///{cli.data_dir / 'registry.sqlite'}")
    try:
        yield db
    finally:
        db.close()


def test_a_key_is_shown_once_accepted_listed_and_refused_once_revoked(cli: Cli, database: Database) -> None:
    code, out, err = cli("api-key", "create", "ingest-bot")
    assert code == 0, err
    keys = KEY.findall(out)
    assert len(keys) == 1 and "shown this once" in out and "Authorization: Bearer dsk_" in out
    assert verify_api_key(database, keys[0]) == "ingest-bot"

    made = cli.json("api-key", "create", "auditor")
    assert made["name"] == "auditor" and KEY.fullmatch(made["key"])
    assert verify_api_key(database, made["key"]) == "auditor"

    code, out, _ = cli("api-key", "list")
    assert code == 0 and [line.split()[0] for line in out.splitlines()] == ["ingest-bot", "auditor"]
    assert keys[0] not in out and "dsk_" not in out

    code, out, _ = cli("api-key", "revoke", "ingest-bot")
    assert code == 0 and "API key 'ingest-bot' revoked" in out
    with pytest.raises(Unauthorized, match="was revoked"):
        verify_api_key(database, keys[0])
    assert [k["name"] for k in cli.json("api-key", "list")["keys"]] == ["auditor"]
    listed = cli.json("api-key", "list", "--all")["keys"]
    assert [(k["name"], k["revoked_at"] is not None) for k in listed] == [("ingest-bot", True), ("auditor", False)]

    again = cli.json("api-key", "create", "ingest-bot")  # the name is free again once revoked
    assert again["key"] != keys[0] and verify_api_key(database, again["key"]) == "ingest-bot"


def test_refusals_are_one_line_with_a_non_zero_exit(cli: Cli, database: Database) -> None:
    assert cli("api-key", "create", "ingest-bot")[0] == 0
    code, _, err = cli("api-key", "create", "ingest-bot")
    assert code == 1 and one_line(err) == ("dataseal: error: an API key named 'ingest-bot' already exists: revoke it "
                                           "first, or give another name [NAME]")
    code, _, err = cli("api-key", "revoke", "nobody")
    assert code == 1 and one_line(err).startswith("dataseal: error: no API key named 'nobody' is in use")
    code, _, err = cli("api-key", "create", "no spaces")
    assert code == 1 and "an API key's name is 1 to 64 letters, digits" in one_line(err)
    code, out, _ = cli("api-key", "list")
    assert code == 0 and out.startswith("ingest-bot")


def test_a_folder_without_a_registry_database_is_refused(cli: Cli) -> None:
    code, _, err = cli("api-key", "create", "ingest-bot")
    line = one_line(err)
    assert code == 1 and f"there is no registry database in {cli.data_dir}" in line
    assert line.endswith("[--data-dir or DATASEAL_DATA_DIR; DATABASE_URL]")
    assert not cli.data_dir.exists()  # nothing made where no service reads


def test_the_help_says_what_a_key_allows_and_how_to_send_it(cli: Cli) -> None:
    code, out, _ = cli("api-key", "--help", data_dir=False)
    text = " ".join(out.split())
    assert code == 0 and "Authorization: Bearer dsk_" in text and "Reads need neither" in text
    assert "shown once" in text and "dataseal api-key revoke ingest-bot" in text


def test_keys_in_postgresql_with_database_url(cli: Cli, postgres: PostgresServer) -> None:  # noqa: F811
    name = f"test_{uuid.uuid4().hex[:16]}"
    url = postgres.create_database(name)
    try:
        made = json.loads(cli("api-key", "create", "ingest-bot", "--database-url", url, "--json")[1])
        db = Database.open(url)
        try:
            assert verify_api_key(db, made["key"]) == "ingest-bot"
            assert cli("api-key", "revoke", "ingest-bot", "--database-url", url)[0] == 0
            with pytest.raises(Unauthorized):
                verify_api_key(db, made["key"])
        finally:
            db.close()
        assert not cli.data_dir.exists()  # the data folder is not needed with a database URL
    finally:
        postgres.drop_database(name)


def test_the_sqlite_url_is_the_data_folders(cli: Cli, database: Database, tmp_path: Path) -> None:
    """--data-dir names the folder of `dataseal up` (its registry.sqlite), from anywhere."""
    made = cli.json("api-key", "create", "ingest-bot")
    assert verify_api_key(database, made["key"]) == "ingest-bot"
    assert (cli.data_dir / "registry.sqlite").is_file() and not (tmp_path / ".dataseal").exists()
