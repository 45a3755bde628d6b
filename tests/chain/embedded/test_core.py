"""What every part of the chain shares (dataseal.chain.embedded.core): blocks by reference."""
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
