"""`dataseal api-key create|list|revoke`: the operator API keys that let a program write over the HTTP API
(`dataseal up`) without signing each request. The keys live in the registry database (only their SHA-256), so the
commands work on the data folder of a running `dataseal up` (SQLite is shared) or on its --database-url."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from dataseal.cli.options import DATA_DIR, settings
from dataseal.cli.output import JSON, emit
from dataseal.errors import NotFound
from dataseal.registry.registry import Registry
from dataseal.registry.settings import Settings

if TYPE_CHECKING:
    from dataseal.registry.db.models.api import ApiKeyPublic

DATABASE_URL = typer.Option(
    None, "--database-url", show_default=False, help="SQLAlchemy URL of the registry database the API uses (as "
    "given to `dataseal up --database-url`). Default: DATABASE_URL, else SQLite in the data folder.",
)
NAME = typer.Argument(..., metavar="NAME", show_default=False,
                      help="What the key is for: 1 to 64 letters, digits, '.', '_' or '-' (e.g. ingest-bot).")

api_key_app = typer.Typer(
    name="api-key",
    help=(
        "Manage the operator API keys of the HTTP API (`dataseal up`).\n\n"
        "A write over the HTTP API (registering, granting, recording usage or trades) is made either by a "
        "request signed by the acting address, or by an operator holding an API key, sent as the header "
        "`Authorization: Bearer dsk_...`; the service then signs with its own operator account. Reads need "
        "neither. A key is shown once, when made: only its SHA-256 is stored, under its NAME. Revoke a key "
        "that leaked, then make a new one.\n\n"
        "The keys are kept in the registry database: run these commands in the folder where `dataseal up` "
        "runs (or give the same --data-dir or --database-url); a running `dataseal up` sees a new or revoked "
        "key at once.\n\n"
        "\b\nExamples:\n"
        "  dataseal api-key create ingest-bot\n"
        "  KEY=$(dataseal api-key create ingest-bot --json | jq -r .key)\n"
        "  curl -H \"Authorization: Bearer $KEY\" ...\n"
        "  dataseal api-key list\n"
        "  dataseal api-key revoke ingest-bot"
    ),
    no_args_is_help=True,
)


def _settings(data_dir: Path | None, database_url: str | None) -> Settings:
    cfg = settings(data_dir=data_dir, database_url=database_url)
    folder = Path(cfg.data_dir)
    if cfg.database_url is None and not (folder / "registry.sqlite").exists():
        # Not made here: a key in a database no service reads would be refused by every request.
        raise NotFound(f"there is no registry database in {folder} (no {folder / 'registry.sqlite'})",
                       hint="run the command in the folder where the service runs (it makes the database on its "
                            "first start), or name its data folder or database",
                       options=("data_dir", "database_url"))
    return cfg


def _public(key: ApiKeyPublic) -> dict[str, Any]:
    return {"id": key.id, "name": key.name, "created_at": key.created_at.isoformat(),
            "revoked_at": key.revoked_at.isoformat() if key.revoked_at is not None else None}


@api_key_app.command("create")
def create(
    name: str = NAME,
    data_dir: Path | None = DATA_DIR,
    database_url: str | None = DATABASE_URL,
    as_json: bool = JSON,
) -> None:
    """Make an operator API key named NAME and print it, once: keep it secret (it writes as the service's operator).

    With --json: {"name", "key"}. A name in use is refused (revoke the old key first).

    \b
    Examples:
      dataseal api-key create ingest-bot
      dataseal api-key create ingest-bot --data-dir /srv/dataseal --json
    """
    from dataseal.api.security import create_api_key  # the API's modules load here, not when the CLI starts

    with Registry(_settings(data_dir, database_url)) as registry:
        key = create_api_key(registry.db, name)

    def human() -> None:
        print(f"API key {name!r} made; it is shown this once, keep it secret:")
        print(key)
        print(f"Send it as the header 'Authorization: Bearer {key[:8]}...'; revoke it with "
              f"`dataseal api-key revoke {name}`.")

    emit({"name": name, "key": key}, as_json, human)


@api_key_app.command("list")
def list_(
    all_: bool = typer.Option(False, "--all", help="Also the revoked keys."),
    data_dir: Path | None = DATA_DIR,
    database_url: str | None = DATABASE_URL,
    as_json: bool = JSON,
) -> None:
    """List the API keys in use (their names and dates; the keys themselves are never stored).

    \b
    Examples:
      dataseal api-key list
      dataseal api-key list --all --json
    """
    from dataseal.api.security import list_api_keys

    with Registry(_settings(data_dir, database_url)) as registry:
        keys = list_api_keys(registry.db, include_revoked=all_)

    def human() -> None:
        if not keys:
            print("no API keys" + ("" if all_ else " in use") + ": `dataseal api-key create NAME` makes one")
            return
        width = max(len(key.name) for key in keys)
        for key in keys:
            revoked = f"  revoked {key.revoked_at.isoformat(timespec='seconds')}" if key.revoked_at else ""
            print(f"{key.name:<{width}}  created {key.created_at.isoformat(timespec='seconds')}{revoked}")

    emit({"keys": [_public(key) for key in keys]}, as_json, human)


@api_key_app.command("revoke")
def revoke(
    name: str = NAME,
    data_dir: Path | None = DATA_DIR,
    database_url: str | None = DATABASE_URL,
    as_json: bool = JSON,
) -> None:
    """Revoke the API key named NAME: every request with it is refused (401) from now on.

    \b
    Example:
      dataseal api-key revoke ingest-bot
    """
    from dataseal.api.security import revoke_api_key

    with Registry(_settings(data_dir, database_url)) as registry:
        key = revoke_api_key(registry.db, name)
    emit(_public(key), as_json, lambda: print(f"API key {name!r} revoked; requests with it are refused from now on"))


def register(app: typer.Typer) -> None:
    app.add_typer(api_key_app)
