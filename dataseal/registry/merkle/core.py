"""The tree as one flat buffer of 32-byte nodes, in @openzeppelin/merkle-tree's array layout.

A tree of ``n`` leaves has ``2n - 1`` nodes. Node ``t`` has children ``2t + 1`` and ``2t + 2``;
node 0 is the root; the leaves are the last ``n`` nodes, leaf ``i`` (in leaf order) at index
``2n - 2 - i``. Inner node ``t`` = ``standard_node_hash(node(2t + 1), node(2t + 2))``.

Everything here works on a ``bytearray`` of ``32 * (2n - 1)`` bytes rather than on a Python
object per node: 64 bytes of memory per leaf for the whole tree, and the inner nodes are built
in blocks whose children form one contiguous slice (children of ``[t0, t1)`` are
``[2 t0 + 1, 2 t1 + 1)``), so the hot loop is a list comprehension over 64-byte windows.

The proof functions mirror ``core.js`` of @openzeppelin/merkle-tree 1.0.8 one for one, so that
proofs and multiproofs come out identical.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from dataseal.registry.merkle.errors import LeafEncodingError, ProofError
from dataseal.registry.merkle.hashing import keccak_new, standard_node_hash

#: Called as ``progress(done, total)`` while inner nodes are hashed.
NodeProgress = Callable[[int, int], None]

_BLOCK = 1 << 15  # inner nodes hashed per block: bounds the temporaries of one step to ~5 MB
_ONE_MULTIPROOF = "use the leaves, proof and flags of one multiproof, unchanged"


def node_count(leaf_count: int) -> int:
    return 2 * leaf_count - 1


def leaf_tree_index(leaf_count: int, leaf_index: int) -> int:
    """Index in the node array of the ``leaf_index``-th leaf (in leaf order)."""
    return 2 * leaf_count - 2 - leaf_index


def allocate(leaf_count: int) -> bytearray:
    """A zeroed node buffer for ``leaf_count`` leaves."""
    if leaf_count < 1:
        raise LeafEncodingError("cannot build a Merkle tree of no leaves", hint="give at least one leaf")
    return bytearray(32 * node_count(leaf_count))


def place_leaves(nodes: bytearray, leaf_count: int, first: int, block: bytes | bytearray) -> None:
    """Write the concatenated leaf hashes ``block`` (leaves ``first``, ``first + 1``, ...) into ``nodes``.

    Leaves sit in reverse order at the end of the array, so the block is reversed 32 bytes at a time.
    """
    count = len(block) // 32
    if count * 32 != len(block):
        raise LeafEncodingError(f"a leaf block of {len(block)} bytes is not a whole number of 32-byte hashes",
                                hint="give the leaf hashes concatenated, 32 bytes each")
    if count == 0:
        return
    view = bytes(block)
    high = leaf_tree_index(leaf_count, first) + 1
    low = high - count
    nodes[32 * low : 32 * high] = b"".join([view[o : o + 32] for o in range(len(view) - 32, -1, -32)])


def fill_inner_nodes(nodes: bytearray, leaf_count: int, progress: NodeProgress | None = None) -> None:
    """Hash every inner node of ``nodes`` from its leaves (already placed)."""
    new = keccak_new
    total = leaf_count - 1
    t1 = leaf_count - 1  # inner nodes are [0, n - 1); build them from the bottom up
    while t1 > 0:
        t0 = max(t1 - _BLOCK, t1 // 2)  # t0 >= (t1 - 1) / 2: every child of the block is >= t1, so done
        children = bytes(nodes[32 * (2 * t0 + 1) : 32 * (2 * t1 + 1)])
        pairs = [children[o : o + 64] for o in range(0, len(children), 64)]
        nodes[32 * t0 : 32 * t1] = b"".join(
            [new(p if p < p[32:] else p[32:] + p[:32]).digest() for p in pairs]
        )
        t1 = t0
        if progress is not None:
            progress(total - t0, total)


def build(leaf_hashes: Sequence[bytes], progress: NodeProgress | None = None) -> bytearray:
    """The node buffer of a tree whose leaves (in leaf order) are ``leaf_hashes``."""
    n = len(leaf_hashes)
    nodes = allocate(n)
    for start in range(0, n, _BLOCK):
        place_leaves(nodes, n, start, b"".join(leaf_hashes[start : start + _BLOCK]))
    fill_inner_nodes(nodes, n, progress)
    return nodes


def node_at(nodes: bytes | bytearray, t: int) -> bytes:
    return bytes(nodes[32 * t : 32 * t + 32])


def get_proof(nodes: bytes | bytearray, t: int) -> list[bytes]:
    """Siblings from leaf node ``t`` up to (not including) the root."""
    proof: list[bytes] = []
    while t > 0:
        sibling = t - 1 if t % 2 == 0 else t + 1
        proof.append(node_at(nodes, sibling))
        t = (t - 1) // 2
    return proof


@dataclass(frozen=True)
class RawMultiProof:
    """A multiproof over leaf hashes: leaves in the order the proof consumes them."""

    leaves: tuple[bytes, ...]
    proof: tuple[bytes, ...]
    proof_flags: tuple[bool, ...]
    leaf_tree_indices: tuple[int, ...]


def get_multiproof(nodes: bytes | bytearray, tree_indices: Iterable[int]) -> RawMultiProof:
    """Multiproof of the leaf nodes ``tree_indices`` (``getMultiProof`` of core.js)."""
    indices = sorted(tree_indices, reverse=True)
    for previous, current in zip(indices, indices[1:], strict=False):
        if previous == current:
            raise ProofError(f"cannot prove leaf node {current} twice in one multiproof", hint="list each leaf once")
    stack = list(indices)
    proof: list[bytes] = []
    flags: list[bool] = []
    head = 0  # stack[head:] is the queue (shift = head += 1)
    while head < len(stack) and stack[head] > 0:
        j = stack[head]
        head += 1
        s = j - 1 if j % 2 == 0 else j + 1
        p = (j - 1) // 2
        if head < len(stack) and s == stack[head]:
            flags.append(True)
            head += 1
        else:
            flags.append(False)
            proof.append(node_at(nodes, s))
        stack.append(p)
    if not indices:
        proof.append(node_at(nodes, 0))
    return RawMultiProof(
        leaves=tuple(node_at(nodes, i) for i in indices),
        proof=tuple(proof),
        proof_flags=tuple(flags),
        leaf_tree_indices=tuple(indices),
    )


def process_proof(leaf: bytes, proof: Iterable[bytes]) -> bytes:
    """The root that ``proof`` leads to from ``leaf`` (``processProof``)."""
    new = keccak_new
    node = leaf
    for sibling in proof:
        node = new(node + sibling if node <= sibling else sibling + node).digest()
    return bytes(node)


def process_multiproof(leaves: Sequence[bytes], proof: Sequence[bytes], proof_flags: Sequence[bool]) -> bytes:
    """The root a multiproof leads to (``processMultiProof``); :class:`ProofError` when its shape is wrong."""
    if len(proof) < sum(1 for f in proof_flags if not f):
        raise ProofError(
            f"multiproof is malformed: {len(proof)} proof hashes for {sum(1 for f in proof_flags if not f)} "
            "false flags, but each false flag consumes one proof hash",
            hint=_ONE_MULTIPROOF,
        )
    if len(leaves) + len(proof) != len(proof_flags) + 1:
        raise ProofError(
            f"multiproof is malformed: leaves ({len(leaves)}) + proof hashes ({len(proof)}) must equal "
            f"flags ({len(proof_flags)}) + 1; the leaves and the proof do not belong together",
            hint=_ONE_MULTIPROOF,
        )
    stack = list(leaves)
    queue = list(proof)
    s_head = 0
    q_head = 0
    for flag in proof_flags:
        if s_head >= len(stack):
            raise ProofError("multiproof is malformed: it consumes more nodes than it provides", hint=_ONE_MULTIPROOF)
        a = stack[s_head]
        s_head += 1
        if flag:
            if s_head >= len(stack):
                raise ProofError("multiproof is malformed: a true flag found no second node to pair with",
                                 hint=_ONE_MULTIPROOF)
            b = stack[s_head]
            s_head += 1
        else:
            b = queue[q_head]
            q_head += 1
        stack.append(standard_node_hash(a, b))
    remaining = (len(stack) - s_head) + (len(queue) - q_head)
    if remaining != 1:
        raise ProofError(f"multiproof is malformed: {remaining} nodes are left at the end instead of one root",
                         hint=_ONE_MULTIPROOF)
    return stack[-1] if len(stack) > s_head else queue[q_head]


def first_invalid_node(nodes: bytes | bytearray, leaf_count: int) -> int | None:
    """Index of the first inner node that is not the hash of its children, or None when all are."""
    rebuilt = bytearray(nodes)
    fill_inner_nodes(rebuilt, leaf_count)
    if rebuilt == nodes:
        return None
    for t in range(leaf_count - 1):
        if rebuilt[32 * t : 32 * t + 32] != nodes[32 * t : 32 * t + 32]:
            return t
    return None  # pragma: no cover - the buffers differed, so some inner node differs


def render(nodes: bytes | bytearray) -> str:
    """The tree drawn as text, like ``tree.render()`` of @openzeppelin/merkle-tree."""
    total = len(nodes) // 32
    stack: list[tuple[int, list[int]]] = [(0, [])]
    lines: list[str] = []
    while stack:
        i, path = stack.pop()
        prefix = "".join(["   ", "│  "][p] for p in path[:-1]) + "".join(["└─ ", "├─ "][p] for p in path[-1:])
        lines.append(f"{prefix}{i}) 0x{node_at(nodes, i).hex()}")
        if 2 * i + 2 < total:
            stack.append((2 * i + 2, [*path, 0]))
            stack.append((2 * i + 1, [*path, 1]))
    return "\n".join(lines)
