"""Fixtures of the services tests: a Registry on the py-evm chain of the ``pyevm`` fixture with the test's
database (``registry``); a Registry over any chain of tests/conftest.py (py-evm, or a hardhat or anvil node),
signing with one of its accounts through a real keystore in a data folder (light scrypt), and a registry
database on SQLite, or on the session's PostgreSQL server when the test parametrizes ``registry_database``."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from eth_utils import keccak
from pydantic import SecretStr

from dataseal.chain.accounts.keystore import LIGHT_SCRYPT_N, Keystore, keystore_dir
from dataseal.chain.connection import connect
from dataseal.chain.contracts.deployment import save_deployment
from dataseal.chain.contracts.records import Registration
from dataseal.chain.sending.sender import LocalSender
from dataseal.registry.context import Context
from dataseal.registry.db import Database
from dataseal.registry.registry import Registry
from dataseal.registry.services.assets import Clock
from dataseal.registry.settings import Settings
from tests.conftest import Chain
from tests.support.postgres import PostgresServer

PASSWORD = "services test password"

RegistryFor = Callable[..., Registry]


@pytest.fixture
def registry_database() -> str:
    """Where :func:`registry_for` keeps its databases: ``"sqlite"`` (a file in each data folder). A test
    parametrizes it (``@pytest.mark.parametrize("registry_database", ["sqlite", "postgresql"])``) to run on the
    session's PostgreSQL server as well, with one database per chain, dropped after the test."""
    return "sqlite"


@pytest.fixture
def registry_for(tmp_path: Path, registry_database: str, request: pytest.FixtureRequest) -> Iterator[RegistryFor]:
    """``registry_for(chain, signer)``: a Registry on ``chain`` whose signing account is ``signer`` (one data folder
    and one database per chain, shared by the signers, as several accounts of one registry would), the database on
    the backend :func:`registry_database` names."""
    if registry_database not in ("sqlite", "postgresql"):
        raise ValueError(f"registry_database is sqlite or postgresql, got {registry_database!r}")
    opened: list[Registry] = []
    databases: dict[int, tuple[Database, str | None]] = {}  # id(chain) -> (database, its settings' URL)
    created: list[tuple[PostgresServer, str]] = []  # PostgreSQL databases made for this test, dropped after it

    def open_database(folder: Path) -> tuple[Database, str | None]:
        if registry_database == "sqlite":
            return Database.open(f"sqlite:///{folder / 'registry.sqlite'}"), None
        server: PostgresServer = request.getfixturevalue("postgres")
        name = f"registry_{uuid.uuid4().hex[:16]}"
        url = server.create_database(name)
        created.append((server, name))
        return Database.open(url), url

    def make(chain: Chain, signer: LocalSender, *, data_dir: Path | None = None) -> Registry:
        folder = data_dir or tmp_path / f"data-{id(chain)}"
        if not (folder / "deployments.json").exists():
            save_deployment(folder, chain.deployment)
        keystore = Keystore(keystore_dir(folder), scrypt_n=LIGHT_SCRYPT_N)
        if not any(entry.address == signer.address for entry in keystore.list()):
            keystore.import_private_key(chain.keys[signer.address].key, PASSWORD)
        if id(chain) not in databases:
            databases[id(chain)] = open_database(folder)
        database, url = databases[id(chain)]
        settings = Settings(data_dir=folder, account=signer.address, password=SecretStr(PASSWORD), database_url=url)
        registry = Registry(settings, context=Context(settings, connect(chain.w3)), database=database)
        opened.append(registry)
        return registry

    try:
        yield make
    finally:
        for registry in opened:
            registry._database = None  # shared: closed once below
            registry.close()
        for database, _ in databases.values():
            database.close()
        for server, name in created:
            server.drop_database(name)


def chain_clock(chain: Chain) -> Clock:
    """The chain's clock: waiting moves the chain's time instead of sleeping."""
    return Clock(now=lambda: float(chain.now()), sleep=lambda seconds: chain.travel(max(1, int(seconds))) and None)


class Crash(Exception):
    """Stands for the process dying at a given moment."""


def crash_at(moment: str) -> Callable[[str], None]:
    def hook(at: str) -> None:
        if at == moment:
            raise Crash(at)
    return hook


def registry_on(chain: Chain, data_dir: Path, database: Database) -> Registry:
    """A Registry whose context is ``chain`` (its deployment recorded in ``data_dir``) and whose database is
    ``database``; services are given the chain's senders explicitly."""
    data_dir.mkdir(parents=True, exist_ok=True)
    save_deployment(data_dir, chain.deployment)
    settings = Settings(data_dir=data_dir)
    return Registry(settings, context=Context(settings, connect(chain.w3, name="the test chain")), database=database)


@pytest.fixture
def registry(pyevm: Chain, tmp_path: Path, database: Database) -> Iterator[Registry]:
    reg = registry_on(pyevm, tmp_path / "data", database)
    try:
        yield reg
    finally:
        reg.close()


def register_asset(chain: Chain, name: str = "survey") -> int:
    """An Active asset of ``chain.owner``; its id."""
    record = chain.as_(chain.owner).registry.register(
        Registration(keccak(text=f"root of {name}"), keccak(text=f"manifest of {name}"), 1, 0))
    return record.asset_id
