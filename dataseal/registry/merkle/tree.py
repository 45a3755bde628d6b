"""StandardMerkleTree: @openzeppelin/merkle-tree's "standard-v1" tree in Python.

For the same values, leaf encoding and ``sort_leaves`` option it has the same root, proofs,
multiproofs and JSON dump as ``StandardMerkleTree`` of @openzeppelin/merkle-tree 1.0.8, and it
loads that library's dumps (``JSON.stringify(tree.dump())``).

    >>> tree = StandardMerkleTree.of([[1, b"\\x11" * 32], [2, b"\\x22" * 32]], ["uint256", "bytes32"])
    >>> proof = tree.get_proof(0)
    >>> verify_proof(tree.root, tree.leaf_hash([1, b"\\x11" * 32]), proof)   # from dataseal.registry.merkle

Values are addressed by their *value index* (the position in the list given to :meth:`of`),
like the library's ``getProof(i)``; ``sort_leaves`` (default True, as in the library) orders the
leaves by hash, otherwise leaf ``i`` is value ``i``.
"""
from __future__ import annotations

import itertools
import json
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any, Final, cast

from dataseal.errors import ErrorKind
from dataseal.registry.merkle import core
from dataseal.registry.merkle.abi import AbiType, encode_sequence, normalize_values, parse_encoding, values_to_json
from dataseal.registry.merkle.errors import LeafEncodingError, MerkleError, ProofError, TreeDumpError
from dataseal.registry.merkle.hashing import keccak_new

STANDARD_V1: Final = "standard-v1"
#: What to do about a tree dump that is not whole and intact.
_DUMP_AGAIN = "use the tree dump written when the data was sealed (tree.json), or dump the tree again"
_REBUILD = "build the tree again from its values"


@dataclass(frozen=True)
class MultiProof:
    """A multiproof of several values, as ``getMultiProof`` returns it (leaves in proof order)."""

    leaves: tuple[tuple[Any, ...], ...]
    proof: tuple[bytes, ...]
    proof_flags: tuple[bool, ...]

    def to_json(self, leaf_encoding: Sequence[str]) -> dict[str, Any]:
        types = parse_encoding(leaf_encoding)
        return {
            "leaves": [values_to_json(types, v) for v in self.leaves],
            "proof": ["0x" + p.hex() for p in self.proof],
            "proofFlags": list(self.proof_flags),
        }


class StandardMerkleTree:
    """A standard-v1 Merkle tree over ABI-encoded values. Build with :meth:`of` or :meth:`load`."""

    __slots__ = ("leaf_encoding", "_types", "_nodes", "_values", "_tree_index", "_lookup")

    def __init__(
        self,
        leaf_encoding: Sequence[str],
        types: tuple[AbiType, ...],
        nodes: bytearray,
        values: list[tuple[Any, ...]],
        tree_index: array | None,
    ) -> None:
        self.leaf_encoding: tuple[str, ...] = tuple(leaf_encoding)
        self._types = types
        self._nodes = nodes
        self._values = values
        self._tree_index = tree_index  # None: value i is leaf i (unsorted layout, computed)
        self._lookup: dict[bytes, int] | None = None

    # ------------------------------------------------------------------ construction

    @classmethod
    def of(
        cls,
        values: Iterable[Sequence[Any]],
        leaf_encoding: Sequence[str],
        *,
        sort_leaves: bool = True,
        progress: core.NodeProgress | None = None,
    ) -> StandardMerkleTree:
        """Build the tree of ``values`` (each a list with one item per ABI type of ``leaf_encoding``)."""
        types = parse_encoding(leaf_encoding)
        normalized, leaf_hashes = _hash_values(types, values)
        if not normalized:
            raise LeafEncodingError("cannot build a Merkle tree of no values", hint="give at least one value")
        n = len(normalized)
        if sort_leaves:
            order = sorted(range(n), key=leaf_hashes.__getitem__)
            nodes = core.build([leaf_hashes[i] for i in order], progress)
            tree_index = array("q", bytes(8 * n))
            last = 2 * n - 2
            for leaf_index, value_index in enumerate(order):
                tree_index[value_index] = last - leaf_index
            return cls(leaf_encoding, types, nodes, normalized, tree_index)
        return cls(leaf_encoding, types, core.build(leaf_hashes, progress), normalized, None)

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> StandardMerkleTree:
        """Load a standard-v1 dump (``tree.dump()`` of either library) and validate all of it."""
        if not isinstance(data, Mapping):
            raise TreeDumpError(f"a tree dump is a JSON object, not {type(data).__name__}", hint=_DUMP_AGAIN)
        fmt = data.get("format")
        if fmt != STANDARD_V1:
            raise TreeDumpError(
                f"unknown tree dump format {fmt!r}, expected {STANDARD_V1!r}",
                hint="give a dump of a StandardMerkleTree (from @openzeppelin/merkle-tree, or dataseal's tree.json)",
            )
        for key in ("leafEncoding", "tree", "values"):
            if key not in data:
                raise TreeDumpError(f"tree dump has no {key!r}, so it is incomplete (truncated or hand-edited)",
                                    hint=_DUMP_AGAIN)
        types = parse_encoding(data["leafEncoding"])
        raw_tree, raw_values = data["tree"], data["values"]
        if not isinstance(raw_tree, list) or not raw_tree or len(raw_tree) % 2 == 0:
            size = len(raw_tree) if isinstance(raw_tree, list) else type(raw_tree).__name__
            raise TreeDumpError(
                f"tree dump has {size} nodes, but a tree of n leaves has 2n - 1 nodes (an odd number >= 1)",
                hint=_DUMP_AGAIN,
            )
        n = (len(raw_tree) + 1) // 2
        nodes = bytearray()
        for t, node in enumerate(raw_tree):
            nodes += parse_hash(node, f"tree[{t}]", TreeDumpError, hint=_DUMP_AGAIN)
        if not isinstance(raw_values, list) or len(raw_values) != n:
            count = len(raw_values) if isinstance(raw_values, list) else type(raw_values).__name__
            raise TreeDumpError(f"tree dump has {count} values for {n} leaves; expected one value per leaf",
                                hint=_DUMP_AGAIN)
        values: list[tuple[Any, ...]] = []
        tree_index = array("q", bytes(8 * n))
        seen: set[int] = set()
        for i, entry in enumerate(raw_values):
            if not isinstance(entry, Mapping) or "value" not in entry or "treeIndex" not in entry:
                raise TreeDumpError(f"values[{i}] is not an object with 'value' and 'treeIndex'", hint=_DUMP_AGAIN)
            t = entry["treeIndex"]
            if isinstance(t, bool) or not isinstance(t, int) or not n - 1 <= t < 2 * n - 1:
                raise TreeDumpError(
                    f"values[{i}].treeIndex is {t!r}; expected a leaf node index from {n - 1} to {2 * n - 2}",
                    hint=_DUMP_AGAIN,
                )
            if t in seen:
                raise TreeDumpError(f"values[{i}].treeIndex {t} is used by another value; each leaf holds one value",
                                    hint=_DUMP_AGAIN)
            seen.add(t)
            value = normalize_values(types, entry["value"], f"values[{i}].value")
            leaf = _leaf_hash(types, value)
            if leaf != core.node_at(nodes, t):
                raise TreeDumpError(
                    f"values[{i}] does not match its leaf: tree[{t}] is 0x{core.node_at(nodes, t).hex()}, "
                    f"the value hashes to 0x{leaf.hex()}; the dump was altered or corrupted",
                    hint=_DUMP_AGAIN,
                )
            values.append(value)
            tree_index[i] = t
        bad = core.first_invalid_node(nodes, n)
        if bad is not None:
            raise TreeDumpError(
                f"tree[{bad}] is not the hash of its children tree[{2 * bad + 1}] and tree[{2 * bad + 2}]; "
                "the dump was altered or corrupted",
                hint=_DUMP_AGAIN,
            )
        return cls(data["leafEncoding"], types, nodes, values, tree_index)

    @classmethod
    def loads(cls, text: str | bytes) -> StandardMerkleTree:
        """Load a dump from its JSON text (:class:`TreeDumpError` when it is not complete JSON)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TreeDumpError(
                f"tree dump is not valid JSON ({exc.msg}: line {exc.lineno}, column {exc.colno}); "
                "it is truncated or corrupted",
                hint=_DUMP_AGAIN,
            ) from None
        return cls.load(data)

    # ------------------------------------------------------------------ reading

    @property
    def root(self) -> bytes:
        return core.node_at(self._nodes, 0)

    @property
    def root_hex(self) -> str:
        return "0x" + self.root.hex()

    @property
    def types(self) -> tuple[AbiType, ...]:
        return self._types

    @property
    def nodes(self) -> bytes:
        """The node array (``32 * (2n - 1)`` bytes, library layout)."""
        return bytes(self._nodes)

    def __len__(self) -> int:
        return len(self._values)

    def at(self, index: int) -> tuple[Any, ...]:
        """The normalised value at value index ``index``."""
        self._check_index(index)
        return self._values[index]

    def entries(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        return enumerate(self._values)

    def tree_index(self, index: int) -> int:
        """Node index of value ``index`` in the node array."""
        self._check_index(index)
        if self._tree_index is None:
            return core.leaf_tree_index(len(self._values), index)
        return int(self._tree_index[index])

    def leaf_hash(self, value: Sequence[Any]) -> bytes:
        """The standard-v1 leaf hash of ``value`` under this tree's leaf encoding."""
        return _leaf_hash(self._types, normalize_values(self._types, value))

    def index_of(self, value: Sequence[Any]) -> int:
        """Value index of ``value``; :class:`ProofError` when it is not in the tree."""
        if self._lookup is None:
            self._lookup = {core.node_at(self._nodes, self.tree_index(i)): i for i in range(len(self._values))}
        leaf = self.leaf_hash(value)
        if leaf not in self._lookup:
            raise ProofError(f"value {values_to_json(self._types, normalize_values(self._types, value))} is not in "
                             f"the tree with root {self.root_hex}",
                             hint="check the value, item by item, and that this is the tree it was sealed in",
                             kind=ErrorKind.NOT_FOUND)
        return self._lookup[leaf]

    # ------------------------------------------------------------------ proofs

    def get_proof(self, index: int) -> list[bytes]:
        """Proof of the value at ``index``: its siblings from the leaf up, as ``getProof(index)``."""
        return core.get_proof(self._nodes, self.tree_index(index))

    def get_multiproof(self, indices: Iterable[int]) -> MultiProof:
        """Multiproof of several values by index, as ``getMultiProof(indices)``."""
        wanted = list(indices)
        raw = core.get_multiproof(self._nodes, [self.tree_index(i) for i in wanted])
        by_node = {self.tree_index(i): i for i in wanted}
        return MultiProof(
            leaves=tuple(self._values[by_node[t]] for t in raw.leaf_tree_indices),
            proof=raw.proof,
            proof_flags=raw.proof_flags,
        )

    def verify(self, index: int, proof: Sequence[bytes]) -> bool:
        """True when ``proof`` leads from the value at ``index`` to this tree's root."""
        leaf = core.node_at(self._nodes, self.tree_index(index))
        return core.process_proof(leaf, proof) == self.root

    def verify_multiproof(self, multiproof: MultiProof) -> bool:
        leaves = [_leaf_hash(self._types, normalize_values(self._types, v)) for v in multiproof.leaves]
        try:
            return core.process_multiproof(leaves, multiproof.proof, multiproof.proof_flags) == self.root
        except ProofError:
            return False

    def validate(self) -> None:
        """Re-check every value against its leaf and every inner node; :class:`TreeDumpError` on a mismatch."""
        for i, value in enumerate(self._values):
            t = self.tree_index(i)
            if _leaf_hash(self._types, value) != core.node_at(self._nodes, t):
                raise TreeDumpError(f"value {i} does not match its leaf tree[{t}]; the tree is corrupted",
                                    hint=_REBUILD)
        bad = core.first_invalid_node(self._nodes, len(self._values))
        if bad is not None:
            raise TreeDumpError(f"tree[{bad}] is not the hash of its children; the tree is corrupted", hint=_REBUILD)

    def render(self) -> str:
        return core.render(self._nodes)

    # ------------------------------------------------------------------ dumps

    def dump(self) -> dict[str, Any]:
        """The standard-v1 dump as JSON data (what ``tree.dump()`` of the library returns)."""
        return {
            "format": STANDARD_V1,
            "leafEncoding": list(self.leaf_encoding),
            "tree": ["0x" + core.node_at(self._nodes, t).hex() for t in range(len(self._nodes) // 32)],
            "values": [
                {"value": values_to_json(self._types, v), "treeIndex": self.tree_index(i)}
                for i, v in enumerate(self._values)
            ],
        }

    def write_dump(self, out: IO[str], progress: core.NodeProgress | None = None) -> None:
        """Stream the dump as JSON to ``out`` (one node or value per line), without building it in memory."""
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        write_standard_dump(
            out,
            self.leaf_encoding,
            self._nodes,
            (
                '{"value":' + dumps(values_to_json(self._types, v)) + ',"treeIndex":' + str(self.tree_index(i)) + "}"
                for i, v in enumerate(self._values)
            ),
            progress,
        )

    def _check_index(self, index: int) -> None:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(self._values):
            raise index_error("value", index, len(self._values))


def index_error(what: str, index: object, count: int) -> ProofError:
    """The error for ``index`` (a ``what`` index: "value", "leaf") that a tree of ``count`` of them lacks."""
    hint = f"give an index from 0 to {count - 1}"
    if isinstance(index, bool) or not isinstance(index, int):
        return ProofError(f"{what} index {index!r} is not an integer", hint=hint)
    plural = "leaves" if what == "leaf" else f"{what}s"
    return ProofError(f"{what} index {index} is out of range: the tree has {count} {plural}", hint=hint,
                      kind=ErrorKind.NOT_FOUND)


def write_standard_dump(
    out: IO[str],
    leaf_encoding: Sequence[str],
    nodes: bytes | bytearray,
    value_entries: Iterable[str],
    progress: core.NodeProgress | None = None,
) -> None:
    """Write a standard-v1 dump. ``value_entries`` yields, in value order, each entry of ``values``
    as JSON text: ``{"value":[...],"treeIndex":N}``.

    The output is one JSON object with one node or value per line: readable, grep-able, and
    loadable by ``StandardMerkleTree.load(JSON.parse(text))`` of @openzeppelin/merkle-tree.
    """
    total = len(nodes) // 32
    encoding = json.dumps(list(leaf_encoding), separators=(",", ":"))
    out.write('{"format":"standard-v1","leafEncoding":' + encoding + ',"tree":[\n')
    block = 1 << 14
    for start in range(0, total, block):
        stop = min(total, start + block)
        chunk = bytes(nodes[32 * start : 32 * stop])
        out.write(",\n".join(['"0x' + chunk[o : o + 32].hex() + '"' for o in range(0, len(chunk), 32)]))
        out.write("\n" if stop == total else ",\n")
        if progress is not None:
            progress(stop, total)
    out.write('],"values":[\n')
    entries = iter(value_entries)
    separator = ""
    while batch := list(itertools.islice(entries, block)):
        out.write(separator + ",\n".join(batch))
        separator = ",\n"
    out.write("\n]}\n")


# ---------------------------------------------------------------------- internals


def _leaf_hash(types: Sequence[AbiType], value: Sequence[Any]) -> bytes:
    new = keccak_new
    return bytes(new(new(encode_sequence(types, value)).digest()).digest())


def _hash_values(
    types: tuple[AbiType, ...], values: Iterable[Sequence[Any]]
) -> tuple[list[tuple[Any, ...]], list[bytes]]:
    """Normalise every value and compute its leaf hash, with a fast path for ``(uint256, bytes32)``."""
    new = keccak_new
    items = list(values)
    if [t.canonical for t in types] == ["uint256", "bytes32"] and all(
        type(v) is tuple and len(v) == 2 and type(v[0]) is int and type(v[1]) is bytes and len(v[1]) == 32
        for v in items
    ):
        try:  # to_bytes refuses negative numbers and numbers of more than 256 bits
            hashes = [new(new(n.to_bytes(32, "big") + d).digest()).digest() for n, d in items]
            return cast(list[tuple[Any, ...]], items), hashes
        except OverflowError:
            pass  # the general path below says which value is out of range
    normalized = [normalize_values(types, v, f"values[{i}]") for i, v in enumerate(items)]
    return normalized, [_leaf_hash(types, v) for v in normalized]


def parse_hash(value: Any, where: str, error: Callable[..., MerkleError], *, hint: str) -> bytes:
    """The 32 bytes of a 0x-hex hash; ``error`` (a :class:`MerkleError` class) with ``hint`` when it is not one."""
    if isinstance(value, str) and len(value) == 66 and value[:2] in ("0x", "0X"):
        try:
            parsed = bytes.fromhex(value[2:])
        except ValueError:
            pass
        else:
            if len(parsed) == 32:  # fromhex skips whitespace: "0x" + 62 digits + 2 spaces is 31 bytes
                return parsed
    raise error(f"{where} is {value!r:.80}; expected a 32-byte hash as 0x followed by 64 hex digits", hint=hint)
