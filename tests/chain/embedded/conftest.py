"""Fixtures of the embedded chain's tests: chains in a temporary folder, funded keys."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from dataseal.chain.embedded.chain import EmbeddedChain, Mining
from dataseal.chain.embedded.rpc import RpcDispatcher
from tests.chain.embedded.helpers import SMALL_GAS_LIMIT, new_key, open_chain


@dataclass
class Funded:
    alice: LocalAccount
    bob: LocalAccount

    @property
    def addresses(self) -> list[str]:
        return [self.alice.address, self.bob.address]


@pytest.fixture
def keys() -> Funded:
    return Funded(new_key(), new_key())


@pytest.fixture
def chain(tmp_path: Path, keys: Funded) -> Iterator[EmbeddedChain]:
    """A chain that mines only when told to (``chain.mine()``)."""
    opened = open_chain(tmp_path / "data", keys.addresses)
    try:
        yield opened
    finally:
        opened.close(flush=False)


@pytest.fixture
def auto_chain(tmp_path: Path, keys: Funded) -> Iterator[EmbeddedChain]:
    """A chain whose miner mines as soon as transactions wait."""
    opened = open_chain(tmp_path / "auto", keys.addresses, mining=Mining("idle"))
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def dispatcher(chain: EmbeddedChain) -> RpcDispatcher:
    return RpcDispatcher(chain)


@pytest.fixture
def small_blocks(tmp_path: Path) -> Iterator[tuple[EmbeddedChain, LocalAccount, LocalAccount]]:
    """A chain (manual mining) of blocks of 100000 gas, and two funded keys: alice and bob."""
    alice, bob = new_key(), new_key()
    opened = open_chain(tmp_path / "small", [alice.address, bob.address], gas_limit=SMALL_GAS_LIMIT)
    try:
        yield opened, alice, bob
    finally:
        opened.close(flush=False)
