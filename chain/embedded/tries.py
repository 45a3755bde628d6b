"""A block's transaction and receipt tries, built in one pass.

A block commits to its transactions and receipts by the roots of Merkle-Patricia tries keyed by
``rlp(index)``. py-evm's ``make_trie_root_and_nodes`` inserts the items one by one into a
``HexaryTrie``, encoding and hashing every node on the path again at each insertion; knowing
all keys up front, :func:`ordered_trie_root_and_nodes` builds each node once, bottom up. Same
root, same stored nodes (``tests/chain/embedded/test_tries.py`` compares both on many shapes).

Nodes (Ethereum yellow paper, appendix D): a leaf ``[hp(path, leaf), value]``, an extension
``[hp(path), child]``, a branch ``[child0 … child15, value]``; a child whose encoding is shorter
than 32 bytes is embedded in its parent, any other is referred to by its keccak256 and stored.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import rlp
from eth.constants import BLANK_ROOT_HASH
from eth_typing import Hash32
from eth_utils import keccak

_Node = list[Any]  # rlp structure: bytes and nested lists


def ordered_trie_root_and_nodes(values: Sequence[bytes]) -> tuple[Hash32, dict[Hash32, bytes]]:
    """The root of the trie mapping ``rlp(i)`` to ``values[i]``, and its nodes by hash (root included)."""
    if not values:
        return BLANK_ROOT_HASH, {}
    items = sorted((_nibbles(rlp.encode(index)), bytes(value)) for index, value in enumerate(values))
    nodes: dict[Hash32, bytes] = {}
    encoded = rlp.encode(_build(items, 0, nodes))
    root = Hash32(keccak(encoded))
    nodes[root] = encoded
    return root, nodes


def _nibbles(key: bytes) -> tuple[int, ...]:
    return tuple(n for byte in key for n in (byte >> 4, byte & 0x0F))


def _hex_prefix(nibbles: Sequence[int], leaf: bool) -> bytes:
    flag = 2 if leaf else 0
    if len(nibbles) % 2:
        full = [flag + 1, *nibbles]
    else:
        full = [flag, 0, *nibbles]
    return bytes(full[i] << 4 | full[i + 1] for i in range(0, len(full), 2))


def _reference(node: _Node, nodes: dict[Hash32, bytes]) -> Any:
    """How a parent holds ``node``: the node itself when short, else its hash (the node is stored)."""
    encoded = rlp.encode(node)
    if len(encoded) < 32:
        return node
    digest = Hash32(keccak(encoded))
    nodes[digest] = encoded
    return digest


def _build(items: list[tuple[tuple[int, ...], bytes]], depth: int, nodes: dict[Hash32, bytes]) -> _Node:
    """The node for ``items`` (sorted, distinct keys sharing their first ``depth`` nibbles)."""
    if len(items) == 1:
        key, value = items[0]
        return [_hex_prefix(key[depth:], leaf=True), value]
    first, last = items[0][0], items[-1][0]
    common = 0
    limit = min(len(first), len(last)) - depth
    while common < limit and first[depth + common] == last[depth + common]:
        common += 1
    if common:
        child = _build(items, depth + common, nodes)
        return [_hex_prefix(first[depth:depth + common], leaf=False), _reference(child, nodes)]
    branch: list[Any] = [b""] * 17
    start = 0
    if len(items[0][0]) == depth:  # a key ending here (not for rlp indexes, which are prefix-free)
        branch[16] = items[0][1]
        start = 1
    while start < len(items):
        nibble = items[start][0][depth]
        end = start
        while end < len(items) and items[end][0][depth] == nibble:
            end += 1
        branch[nibble] = _reference(_build(items[start:end], depth + 1, nodes), nodes)
        start = end
    return branch
