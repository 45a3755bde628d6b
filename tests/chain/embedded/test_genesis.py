"""A chain's genesis (dataseal.chain.embedded.genesis): a new chain, and reopening one against the
genesis asked for and against its own records."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dataseal.chain.embedded.chain import EmbeddedChain, chain_file
from dataseal.chain.embedded.defaults import DEFAULT_CHAIN_ID
from dataseal.chain.embedded.errors import ChainStoreError, GenesisMismatchError
from dataseal.chain.embedded.settings import Genesis, Mining
from tests.chain.embedded.conftest import Funded
from tests.chain.embedded.helpers import BOB, ETH, addr, open_chain, sign


def test_a_new_chain_has_dataseals_chain_id_and_its_funded_accounts(chain: EmbeddedChain, keys: Funded) -> None:
    assert chain.chain_id == DEFAULT_CHAIN_ID  # "data" in ASCII: tests/chain/embedded/test_defaults.py
    assert chain.created
    assert chain.head().block_number == 0
    assert chain.get_balance(addr(keys.alice.address)) == 1_000 * ETH
    assert chain.genesis_alloc == {keys.alice.address: 1_000 * ETH, keys.bob.address: 1_000 * ETH}
    assert chain.gas_limit == 30_000_000


def test_the_chain_id_can_be_chosen(tmp_path: Path) -> None:
    with open_chain(tmp_path, chain_id=4242) as chain:
        assert chain.chain_id == 4242


def test_reopening_keeps_blocks_balances_and_lookups(tmp_path: Path, keys: Funded) -> None:
    chain = open_chain(tmp_path, keys.addresses)
    hashes = [chain.send_raw_transaction(sign(keys.alice, chain.chain_id, n, to=BOB, value=n + 1)) for n in range(3)]
    first = chain.mine()
    last = chain.send_raw_transaction(sign(keys.bob, chain.chain_id, 0, to=BOB, value=10))
    chain.mine()
    chain.close()

    chain = EmbeddedChain.open(chain_file(tmp_path), mining=Mining("manual"))
    try:
        assert not chain.created
        assert chain.head().block_number == 2
        assert chain.get_balance(addr(BOB)) == 1 + 2 + 3 + 10
        assert chain.get_nonce(addr(keys.alice.address)) == 3
        record = chain.get_transaction(hashes[2])
        assert record is not None and record.header is not None
        assert (record.header.block_number, record.index) == (1, 2)
        assert record.header.hash == first.hash
        receipt = chain.get_receipt(last)
        assert receipt is not None and (receipt.header.block_number, receipt.index, receipt.gas_used) == (2, 0, 21_000)
        assert chain.get_balance(addr(BOB), 1) == 6  # state at an earlier block stays readable
    finally:
        chain.close()


def test_reopening_with_another_chain_id_is_refused(tmp_path: Path) -> None:
    open_chain(tmp_path).close()
    with pytest.raises(GenesisMismatchError, match=f"has chain id {DEFAULT_CHAIN_ID}, not 7: leave the chain id out") \
            as other:
        EmbeddedChain.open(chain_file(tmp_path), genesis=Genesis(chain_id=7))
    assert other.value.options == ("chain_id", "data_dir")


def test_reopening_with_funding_it_never_had_is_refused(tmp_path: Path, keys: Funded) -> None:
    open_chain(tmp_path, [keys.alice.address]).close()
    same = EmbeddedChain.open(chain_file(tmp_path), genesis=Genesis(alloc={keys.alice.address: 1_000 * ETH}))
    same.close()  # the same funding again is fine
    with pytest.raises(GenesisMismatchError, match=f"did not fund {keys.bob.address}.*send funds from a funded"):
        EmbeddedChain.open(chain_file(tmp_path), genesis=Genesis(alloc={keys.bob.address: ETH}))


def test_a_chain_file_with_a_damaged_genesis_record_is_refused(tmp_path: Path) -> None:
    open_chain(tmp_path).close()
    with sqlite3.connect(chain_file(tmp_path)) as db:
        db.execute("UPDATE meta SET value = '0x00' WHERE key = 'genesis_hash'")
    with pytest.raises(ChainStoreError, match="is inconsistent: its genesis block is 0x"):
        EmbeddedChain.open(chain_file(tmp_path))


def test_a_chain_file_with_damaged_settings_is_refused(tmp_path: Path, keys: Funded) -> None:
    open_chain(tmp_path, [keys.alice.address]).close()
    with sqlite3.connect(chain_file(tmp_path)) as db:
        db.execute("UPDATE meta SET value = 'not json' WHERE key = 'genesis_alloc'")
    with pytest.raises(ChainStoreError, match="is damaged: its recorded genesis funding is not a map"
                       ".*: restore it from a backup"):
        EmbeddedChain.open(chain_file(tmp_path), genesis=Genesis(alloc={keys.alice.address: 1_000 * ETH}))
    with sqlite3.connect(chain_file(tmp_path)) as db:
        db.execute("UPDATE meta SET value = 'x' WHERE key = 'chain_id'")
    with pytest.raises(ChainStoreError, match="is damaged: its recorded chain id 'x' is not a number"):
        EmbeddedChain.open(chain_file(tmp_path))
