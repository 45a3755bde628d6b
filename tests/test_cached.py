"""cached_only: inside it, every read that would wait for the chain or the database raises NotCached before it
does — the guards of what a fresh registry, context and connection have not yet opened, asked or read."""
from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from dataseal.cached import NotCached, cached_only, is_cached_only, require_io
from dataseal.chain.connection import Connection
from dataseal.chain.contracts.deployment import save_deployment
from dataseal.registry.context import Context
from dataseal.registry.registry import Registry
from dataseal.registry.settings import Settings
from tests.conftest import Chain


def test_require_io_raises_only_inside_and_names_what_was_needed() -> None:
    require_io("the database")  # outside: nothing
    assert not is_cached_only()
    with cached_only():
        assert is_cached_only()
        with pytest.raises(NotCached, match="the database"):
            require_io("the database")
    assert not is_cached_only()


def test_what_is_not_yet_opened_asked_or_read_is_not_cached(pyevm: Chain, tmp_path: Path) -> None:
    save_deployment(tmp_path, pyevm.deployment)
    settings = Settings(data_dir=tmp_path, password=SecretStr("unused"))
    registry = Registry(settings)
    connection = Connection(pyevm.w3, "the test chain")
    context = Context(settings, connection)
    with cached_only():
        with pytest.raises(NotCached, match="the database"):
            registry.db  # noqa: B018 - the property opens it
        with pytest.raises(NotCached, match="the chain's context"):
            registry.context  # noqa: B018
        with pytest.raises(NotCached, match="the chain id"):
            connection.chain_id  # noqa: B018
        with pytest.raises(NotCached, match="the head-pinned contract clients"):
            context.head_contracts()
        with pytest.raises(NotCached, match="the deployment"):
            context.deployment()
    assert connection.chain_id == pyevm.deployment.chain_id  # outside: asked, and known from then on
    assert context.deployment().asset_registry == pyevm.deployment.asset_registry
    readers = context.head_contracts()
    assert readers.registry.total_assets() == 0
    with cached_only():  # all held now
        assert connection.chain_id == pyevm.deployment.chain_id
        assert context.deployment() is context.deployment()
        assert context.head_contracts() is readers
        assert readers.registry.total_assets() == 0
    registry.close()
