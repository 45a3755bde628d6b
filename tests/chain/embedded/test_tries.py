"""The one-pass transaction/receipt trie builder against py-evm's insert-one-by-one builder."""
from __future__ import annotations

import random

import pytest
from eth.constants import BLANK_ROOT_HASH
from eth.db.trie import _make_trie_root_and_nodes

from chain.embedded.tries import ordered_trie_root_and_nodes


def pyevm_trie(values: tuple[bytes, ...]) -> tuple[bytes, dict[bytes, bytes]]:
    return _make_trie_root_and_nodes.__wrapped__(values)  # type: ignore[attr-defined]


@pytest.mark.parametrize("count", [*range(0, 20), 127, 128, 129, 255, 256, 257, 600])
@pytest.mark.parametrize("sizes", [(1, 4), (1, 40), (30, 300)])
def test_same_root_and_nodes_as_pyevm(count: int, sizes: tuple[int, int]) -> None:
    rng = random.Random(count * 1000 + sizes[1])
    values = tuple(rng.randbytes(rng.randint(*sizes)) for _ in range(count))

    root, nodes = ordered_trie_root_and_nodes(values)

    expected_root, expected_nodes = pyevm_trie(values)
    assert root == expected_root
    assert nodes == expected_nodes


def test_empty_trie_is_the_blank_root() -> None:
    assert ordered_trie_root_and_nodes([]) == (BLANK_ROOT_HASH, {})
