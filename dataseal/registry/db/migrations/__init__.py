"""The registry database's schema migrations (Alembic), shipped inside the package.

No ``alembic.ini``: :func:`alembic_config` builds the configuration in code, with the script location taken
from this package's folder, and hands the migration environment (``env.py``) an open connection. The
connection's owner decides the transaction and the lock around it (see
:meth:`dataseal.registry.db.engine.Database.migrate`).

- :func:`compute_head_revisions` / :func:`compute_known_revisions`: what this dataseal's migrations know.
- :func:`compute_schema_differences`: what autogenerate would still write for a database (none after an
  upgrade to head, when the migrations match the models).
"""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

MIGRATIONS_DIR = Path(__file__).resolve().parent

VERSION_TABLE = "alembic_version"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for the migrations in this package (and ``connection`` for ``env.py``)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    # Revision files sort by creation time and name their revision: 2026_12_04_1130-3f2a…_initial.py
    config.set_main_option("file_template",
                           "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d-%%(rev)s_%%(slug)s")
    config.set_main_option("timezone", "UTC")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def script_directory() -> ScriptDirectory:
    """The revisions shipped with this dataseal (read once per process: they do not change while it runs)."""
    return ScriptDirectory.from_config(alembic_config())


def compute_head_revisions() -> tuple[str, ...]:
    """The revisions an up-to-date database is at (one, unless the history has branched)."""
    return tuple(script_directory().get_heads())


def compute_known_revisions() -> frozenset[str]:
    """Every revision this dataseal's migrations hold."""
    return frozenset(script.revision for script in script_directory().walk_revisions())


def compute_database_revisions(connection: Connection) -> tuple[str, ...]:
    """The revisions recorded in the database's version table (empty for a database never migrated)."""
    return tuple(MigrationContext.configure(connection).get_current_heads())


def compute_schema_differences(connection: Connection, metadata: MetaData | None = None) -> list[Any]:
    """What autogenerate finds between the database behind ``connection`` and ``metadata`` (the registry's
    tables when None): alembic's diff tuples, e.g. ``("add_column", None, "asset", Column(...))``; empty
    when the schema matches."""
    if metadata is None:
        metadata = registry_metadata()
    context = MigrationContext.configure(connection, opts=autogenerate_options(connection))
    return list(compare_metadata(context, metadata))


def registry_metadata() -> MetaData:
    """The metadata every registry table is registered on."""
    from sqlmodel import SQLModel

    from dataseal.registry.db import models  # noqa: F401  (the tables register on SQLModel.metadata)

    return SQLModel.metadata


def autogenerate_options(connection: Connection) -> dict[str, Any]:
    """The options ``env.py`` configures its context with, shared with :func:`compute_schema_differences`."""
    return {
        "compare_type": True,
        "compare_server_default": False,
        # SQLite alters a table by copying it: batch operations in the generated scripts (harmless on PostgreSQL).
        "render_as_batch": True,
        "render_item": render_item,
        "include_object": include_object,
    }


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Leave out SQLite's and PostgreSQL's own bookkeeping tables."""
    return not (type_ == "table" and name is not None and name.startswith("sqlite_"))


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render dataseal's column types as ``dataseal.registry.db.types.X()`` and import that module."""
    if type_ == "type" and type(obj).__module__ == "dataseal.registry.db.types":
        autogen_context.imports.add("import dataseal.registry.db.types")
        return f"dataseal.registry.db.types.{type(obj).__name__}()"
    return False
