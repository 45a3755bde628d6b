"""A Registry on the py-evm chain of the ``pyevm`` fixture, with the test's database."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_utils import keccak

from dataseal.chain.connection import connect
from dataseal.chain.contracts.deployment import save_deployment
from dataseal.chain.contracts.records import Registration
from dataseal.registry.context import Context
from dataseal.registry.db import Database
from dataseal.registry.registry import Registry
from dataseal.registry.settings import Settings
from tests.conftest import Chain


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
