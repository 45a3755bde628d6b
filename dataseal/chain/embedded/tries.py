"""Merkle-Patricia tries built or updated in one pass: a block's transaction and receipt tries, the state's.

A block commits to its transactions and receipts by the roots of Merkle-Patricia tries keyed by
``rlp(index)``. py-evm's ``make_trie_root_and_nodes`` inserts the items one by one into a
``HexaryTrie``, encoding and hashing every node on the path again at each insertion; knowing
all keys up front, :func:`ordered_trie_root_and_nodes` builds each node once, bottom up. Same
root, same stored nodes (``tests/chain/embedded/test_tries.py`` compares both on many shapes).

The state's tries (accounts, each contract's storage) change by a few keys per block.
py-trie's ``HexaryTrie`` applies them one at a time, decoding, re-encoding and re-hashing the
whole path, then pruning the nodes it replaced, for each key; :func:`updated_trie_root`
applies all of them in one pass sorted by key, so each touched node is decoded once and each
new node encoded and hashed once. The canonical trie of a key set is unique, so the root is
HexaryTrie's; :func:`new_nodes_reachable` then picks the nodes HexaryTrie's pruning would have
kept (``tests/chain/embedded/interpreter/test_storage.py`` compares both on random edits).

Nodes (Ethereum yellow paper, appendix D): a leaf ``[hp(path, leaf), value]``, an extension
``[hp(path), child]``, a branch ``[child0 … child15, value]``; a child whose encoding is shorter
than 32 bytes is embedded in its parent, any other is referred to by its keccak256 and stored.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import rlp
from eth.constants import BLANK_ROOT_HASH
from eth_typing import Hash32
from eth_utils import keccak

from dataseal.chain.embedded.errors import EmbeddedChainError
from dataseal.errors import ErrorKind

_Node = list[Any]  # rlp structure: bytes and nested lists
# A decoded node by its hash; raises KeyError when the node is not stored. Callers may cache
# what it returns: nothing here mutates a node it was given.
NodeGetter = Callable[[bytes], _Node]


def ordered_trie_root_and_nodes(values: Sequence[bytes]) -> tuple[Hash32, dict[Hash32, bytes]]:
    """The root of the trie mapping ``rlp(i)`` to ``values[i]``, and its nodes by hash (root included)."""
    if not values:
        return BLANK_ROOT_HASH, {}
    items = sorted((_nibbles(rlp.encode(index)), bytes(value)) for index, value in enumerate(values))
    nodes: dict[Hash32, bytes] = {}
    encoded = _encode(_build(items, 0, nodes))
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


def _encode(node: _Node) -> bytes:
    """``rlp.encode(node)`` for a node (bytes and nested lists), without pyrlp's generic dispatch (~5x faster)."""
    body = b"".join(_encode(item) if isinstance(item, list) else _encode_bytes(item) for item in node)
    return _length_prefix(len(body), 0xC0) + body


def _encode_bytes(item: bytes) -> bytes:
    if len(item) == 1 and item[0] < 0x80:
        return bytes(item)
    return _length_prefix(len(item), 0x80) + item


def _length_prefix(length: int, offset: int) -> bytes:
    if length < 56:
        return bytes((offset + length,))
    digits = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((offset + 55 + len(digits),)) + digits


def _reference(node: _Node, nodes: dict[Hash32, bytes]) -> Any:
    """How a parent holds ``node``: the node itself when short, else its hash (the node is stored)."""
    encoded = _encode(node)
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


def _decode_hex_prefix(encoded: bytes) -> tuple[tuple[int, ...], bool]:
    """The nibbles of a leaf or extension path, and whether the node is a leaf."""
    flag = encoded[0] >> 4
    nibbles = _nibbles(encoded)
    return nibbles[1:] if flag & 1 else nibbles[2:], bool(flag & 2)


def trie_get(root: Hash32, key: bytes, get_node: NodeGetter) -> bytes:
    """The value at ``key`` in the trie of ``root``; ``b""`` when absent (as ``HexaryTrie.get``)."""
    if root == BLANK_ROOT_HASH:
        return b""
    node = get_node(root)
    nibbles = _nibbles(key)
    depth = 0
    while True:
        if len(node) == 17:
            if depth == len(nibbles):
                return bytes(node[16])
            ref = node[nibbles[depth]]
            depth += 1
        else:
            path, is_leaf = _decode_hex_prefix(node[0])
            if nibbles[depth:depth + len(path)] != path:
                return b""
            depth += len(path)
            if is_leaf:
                return bytes(node[1]) if depth == len(nibbles) else b""
            ref = node[1]
        if ref == b"":
            return b""
        node = ref if isinstance(ref, list) else get_node(ref)


def updated_trie_root(
    root: Hash32, changes: Mapping[bytes, bytes | None], get_node: NodeGetter, nodes: dict[Hash32, bytes]
) -> Hash32:
    """The root of the trie of ``root`` after ``changes`` (a value of None or ``b""`` deletes its key).

    Every node the new trie has and the old one did not goes into ``nodes`` by hash, the root
    always (as ``HexaryTrie`` stores it, however short); nothing else is written or removed.
    All keys, the trie's and the changes', must have one length, as the state's hashed keys do:
    no key then ends at a branch, so branches never hold values.
    """
    if not changes:
        return root
    if len({len(key) for key in changes}) != 1:
        lengths = sorted({len(key) for key in changes})
        raise EmbeddedChainError(f"updated_trie_root needs keys of one length, got keys of {lengths} bytes",
                                 hint="this is a bug in dataseal: report it", kind=ErrorKind.INTERNAL)
    items = sorted((_nibbles(key), value or None) for key, value in changes.items())
    old = None if root == BLANK_ROOT_HASH else get_node(root)
    new = _update(old, 0, items, get_node, nodes)
    if new is None:
        return BLANK_ROOT_HASH
    encoded = _encode(new)
    digest = Hash32(keccak(encoded))
    nodes[digest] = encoded
    return digest


def new_nodes_reachable(root: Hash32, nodes: Mapping[Hash32, bytes]) -> dict[Hash32, bytes]:
    """The nodes of ``nodes`` the trie of ``root`` refers to (by hash, from ``root`` through ``nodes``).

    A node not in ``nodes`` was stored before, and so was everything below it; what is left
    out is what later updates replaced, which HexaryTrie's pruning would have dropped. Nodes
    re-created unchanged (a key set to the value it had) may be in ``nodes`` and so in the
    result: writing them again changes no database.
    """
    kept: dict[Hash32, bytes] = {}
    pending = [root]
    while pending:
        digest = pending.pop()
        encoded = nodes.get(digest)
        if encoded is None or digest in kept:
            continue
        kept[digest] = encoded
        node = rlp.decode(encoded)
        if len(node) == 17:
            children = node[:16]
        elif _decode_hex_prefix(node[0])[1]:
            continue  # a leaf: its value is data, even when 32 bytes long
        else:
            children = [node[1]]
        pending.extend(Hash32(child) for child in children if isinstance(child, bytes) and len(child) == 32)
    return kept


_Item = tuple[tuple[int, ...], bytes | None]  # key nibbles, new value (None: delete)


def _resolve(ref: Any, get_node: NodeGetter) -> _Node | None:
    """The node a parent's reference denotes (None for an empty slot)."""
    if isinstance(ref, list):
        return ref
    if ref == b"":
        return None
    return get_node(ref)


def _update(node: _Node | None, depth: int, items: list[_Item], get_node: NodeGetter,
            nodes: dict[Hash32, bytes]) -> _Node | None:
    """``node`` (at ``depth`` nibbles) with ``items`` applied (sorted, sharing ``depth`` nibbles); None: empty.

    A leaf or extension that the items do not simply overwrite is seen as a branch with one
    child, so that one routine, :func:`_update_branch`, splits and re-joins paths.
    """
    if node is None:
        live = [(key, value) for key, value in items if value is not None]
        return _build(live, depth, nodes) if live else None
    if len(node) == 17:
        return _update_branch(list(node), depth, items, get_node, nodes)
    path, is_leaf = _decode_hex_prefix(node[0])
    child: Any
    if is_leaf:
        if len(items) == 1 and items[0][0][depth:] == path:
            value = items[0][1]
            return None if value is None else [node[0], value]
        child = [_hex_prefix(path[1:], leaf=True), node[1]]
    else:
        child = node[1] if len(path) == 1 else [_hex_prefix(path[1:], leaf=False), node[1]]
    branch: list[Any] = [b""] * 17
    branch[path[0]] = child
    return _update_branch(branch, depth, items, get_node, nodes)


def _update_branch(branch: list[Any], depth: int, items: list[_Item], get_node: NodeGetter,
                   nodes: dict[Hash32, bytes]) -> _Node | None:
    """Apply ``items`` below the (copied, mutable) ``branch``, then collapse it if one child is left.

    Children hold references (``b""``, a hash) or nodes (lists): untouched hashes stay as they
    are, nodes are referenced (encoded, and stored when 32 bytes or longer) only once final.
    """
    start = 0
    while start < len(items):
        nibble = items[start][0][depth]
        end = start + 1
        while end < len(items) and items[end][0][depth] == nibble:
            end += 1
        updated = _update(_resolve(branch[nibble], get_node), depth + 1, items[start:end], get_node, nodes)
        branch[nibble] = b"" if updated is None else updated
        start = end
    occupied = [index for index in range(16) if branch[index] != b""]
    if not occupied:
        return None
    if len(occupied) == 1:  # a branch needs two children: join the one left to this position
        index = occupied[0]
        only = _resolve(branch[index], get_node)
        assert only is not None
        if len(only) == 17:
            ref = branch[index] if isinstance(branch[index], bytes) else _reference(only, nodes)
            return [_hex_prefix((index,), leaf=False), ref]
        path, is_leaf = _decode_hex_prefix(only[0])
        return [_hex_prefix((index, *path), leaf=is_leaf), only[1]]
    return [child if isinstance(child, bytes) else _reference(child, nodes) for child in branch[:16]] + [b""]
