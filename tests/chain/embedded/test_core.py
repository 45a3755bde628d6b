"""What every part of the chain shares (dataseal.chain.embedded.core): blocks by reference, and the
state at a block, refusing what is not a block or an address with a typed error."""
from __future__ import annotations

import pytest

from dataseal.chain.embedded.chain import EmbeddedChain
from dataseal.chain.embedded.errors import BlockNotFound, InvalidParams


def test_blocks_by_reference(chain: EmbeddedChain) -> None:
    chain.mine()
    assert chain.header_for("earliest").block_number == 0
    assert chain.header_for("latest").block_number == chain.header_for("pending").block_number == 1
    assert chain.header_for(chain.head().hash).block_number == 1
    with pytest.raises(BlockNotFound, match="block 5 is beyond the head of this chain \\(1\\)"):
        chain.header_for(5)
    with pytest.raises(BlockNotFound, match="no canonical block has hash 0x0000"):
        chain.header_for(b"\0" * 32)
    with pytest.raises(InvalidParams, match="unknown block tag 'newest'"):
        chain.header_for("newest")
    assert chain.block_by_ref(9) is None
    with pytest.raises(InvalidParams, match="block -1 is not a block number: they count from 0"):
        chain.header_for(-1)


def test_state_reads_refuse_what_is_no_address_or_slot(chain: EmbeddedChain) -> None:
    with pytest.raises(InvalidParams, match="an address is 20 bytes, got b'\\\\x01\\\\x02'"):
        chain.get_balance(b"\x01\x02")
    for read in (chain.get_nonce, chain.get_code, chain.pending_nonce):
        with pytest.raises(InvalidParams, match="an address is 20 bytes"):
            read(b"\x01" * 21)
    with pytest.raises(InvalidParams, match="a storage slot is a number from 0 to 2\\*\\*256 - 1, got -1"):
        chain.get_storage_at(b"\x01" * 20, -1)
    assert chain.get_storage_at(b"\x01" * 20, 2**256 - 1) == 0
