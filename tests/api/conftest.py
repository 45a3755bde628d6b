"""Fixtures of the API tests: one world per module — dataseal on a py-evm chain, a file registered through the
services (so that its stored tree, manifest and index rows exist), a version of it, a grant with usage — and
the app over its registry, called through httpx's ASGITransport."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from dataseal.api.app import create_app
from dataseal.chain.accounts.keystore import LIGHT_SCRYPT_N, Keystore, keystore_dir
from dataseal.chain.connection import connect
from dataseal.chain.contracts.deployment import ContractConfig, save_deployment
from dataseal.registry.audit.service import sync_index
from dataseal.registry.context import Context
from dataseal.registry.db import Database
from dataseal.registry.registry import Registry
from dataseal.registry.services import assets
from dataseal.registry.services.assets import SealOptions
from dataseal.registry.services.grants import grant
from dataseal.registry.services.usage import use
from dataseal.registry.services.usage_receipts import new_receipt
from dataseal.registry.settings import Settings
from tests.conftest import Chain, pyevm_chain

PASSWORD = "api test password"
PURPOSE = "fraud model evaluation"


class ApiClient:
    """Synchronous calls to an ASGI app through httpx's ASGITransport (no server, no thread of ours)."""

    def __init__(self, app: FastAPI, base_url: str = "http://localhost") -> None:
        self.app = app
        self.base_url = base_url

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=True)
            async with httpx.AsyncClient(transport=transport, base_url=self.base_url) as client:
                return await client.request(method, url, **kwargs)

        return anyio.run(call)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)


@dataclass
class World:
    chain: Chain
    registry: Registry
    app: FastAPI
    client: ApiClient
    asset_id: int
    version_id: int
    grant_id: int
    content_root: str
    leaf_count: int


def open_registry(chain: Chain, folder: Path, signer_address: str, database: Database) -> Registry:
    if not (folder / "deployments.json").exists():
        save_deployment(folder, chain.deployment)
    keystore = Keystore(keystore_dir(folder), scrypt_n=LIGHT_SCRYPT_N)
    if not any(entry.address == signer_address for entry in keystore.list()):
        keystore.import_private_key(chain.keys[signer_address].key, PASSWORD)
    settings = Settings(data_dir=folder, account=signer_address, password=SecretStr(PASSWORD),
                        base_url="https://registry.example.org")
    return Registry(settings, context=Context(settings, connect(chain.w3, name="the test chain")), database=database)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    chain = pyevm_chain(ContractConfig())
    folder = tmp_path_factory.mktemp("api")
    data_dir = folder / "data"
    data_dir.mkdir()
    database = Database.open(f"sqlite:///{data_dir / 'registry.sqlite'}")
    registry = open_registry(chain, data_dir, chain.owner.address, database)
    try:
        data = folder / "data.bin"
        data.write_bytes(bytes(range(256)) * 20)
        done = assets.register(registry, data, title="Bytes", rights=("holding", "processing"), classification=1,
                               options=SealOptions(chunk_size=512), certificate=None)
        changed = folder / "data-v2.bin"
        changed.write_bytes(bytes(range(256)) * 21)
        version = assets.register_version(registry, done.asset_id, changed, title="Bytes v2",
                                          options=SealOptions(chunk_size=512), certificate=None)
        grant_id = grant(registry, done.asset_id, chain.user.address, PURPOSE, "now", "30d", 10,
                         sender=chain.owner).grant.grant_id
        now = chain.now()
        receipt = new_receipt(registry, grant_id, "job-1", unit="chunk", indexes=["0-3"], started_at=now,
                              ended_at=now, units=3, result_hash="0x" + "cd" * 32)
        use(registry, grant_id, 3, receipt, sender=chain.user)
        sync_index(registry)
        app = create_app(registry)
        yield World(chain, registry, app, ApiClient(app), done.asset_id, version.asset_id, grant_id,
                    done.content_root, 10)
    finally:
        registry._database = None
        registry.close()
        database.close()


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """The error body of ``response``, checked to have ``status`` and the contract's shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert {"kind", "message", "hint"} <= set(error) <= {"kind", "message", "hint", "options"}
    assert "Traceback" not in response.text
    return error
