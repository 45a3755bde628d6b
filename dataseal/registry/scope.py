"""A grant's scope: the rows, chunks or files of an asset a grant covers, committed by one Merkle root.

The scope root that GrantRegistry keeps with a grant (``scopeRoot``; zero = the whole asset) is the root of
an OpenZeppelin StandardMerkleTree ("standard-v1") over the covered indexes:

- one leaf per index, leaf encoding ``["uint256"]``: leaf = ``keccak256(keccak256(abi.encode(uint256 index)))``;
- leaves sorted by hash (the library's default ``sortLeaves: true``), sorted-pair inner nodes;
- an index is a leaf index of the asset's content tree: a row number of a table (0-based, in file order), a chunk
  number of a file, a file's position in a folder's leaf order (see the asset's manifest).

So ``StandardMerkleTree.of([[i] for i in indexes], ["uint256"])`` of @openzeppelin/merkle-tree gives the same
root, and ``MerkleProof.multiProofVerify`` checks the same multiproofs. A usage receipt that lists the indexes
it touched is checked to lie inside the scope with a multiproof of those indexes
(:func:`verify_receipt_in_scope`); a receipt may instead carry the root of its touched indexes, built the same
way (:func:`compute_index_root`), and reveal them later.

A scope file (what a grantor writes) lists indexes and inclusive ranges: a JSON array of integers and
``"FIRST-LAST"`` strings, or text with one index or range per line or comma-separated, ``#`` comments allowed::

    # the first thousand rows and row 5000
    0-999
    5000
"""
from __future__ import annotations

import json
import re
from array import array
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from pydantic import Field, ValidationError

from dataseal.chain.files import read_limited
from dataseal.errors import DatasealError, ErrorKind
from dataseal.registry.manifest import Hash32, Model, describe_validation_error
from dataseal.registry.merkle import core
from dataseal.registry.merkle.errors import ProofError
from dataseal.registry.merkle.hashing import keccak_new

if TYPE_CHECKING:
    from dataseal.registry.receipts import UsageReceipt

#: The leaf encoding of scope trees and touched-index trees.
SCOPE_LEAF_ENCODING: Final = ("uint256",)
#: The most indexes one scope may list (a scope tree takes 64 bytes a leaf in memory while it is built).
MAX_SCOPE_INDEXES: Final = 1 << 22
#: The largest scope file read (a listing of 4M indexes one per line stays below it).
MAX_SCOPE_FILE_BYTES: Final = 64 << 20
ZERO_ROOT: Final = b"\0" * 32

_RANGE = re.compile(r"^(\d+)\s*-\s*(\d+)$")
_INDEX = re.compile(r"^\d+$")
_SCOPE_FORMS = ("list indexes and inclusive ranges: a JSON array such as [0, 5, \"10-20\"], or text with one index "
                "or range (10-20) per line or separated by commas")


class ScopeError(DatasealError):
    """A scope (file, index list, proof) is malformed, or indexes are not inside a scope."""


# ------------------------------------------------------------------------------------------- index lists


def parse_indexes(items: Iterable[int | str], where: str = "scope") -> tuple[int, ...]:
    """Distinct indexes, ascending, from integers and ``"FIRST-LAST"`` range strings (inclusive).

    :class:`ScopeError` for a negative or non-integer item, a range whose last index is below its first, an
    index of more than 256 bits, nothing at all, or more than :data:`MAX_SCOPE_INDEXES` indexes.
    """
    found: set[int] = set()
    for position, item in enumerate(items):
        first, last = _bounds(item, f"{where}: item {position + 1}")
        if last - first + 1 + len(found) > MAX_SCOPE_INDEXES:
            raise ScopeError(f"{where} covers more than {MAX_SCOPE_INDEXES} indexes",
                             hint="grant the whole asset (no scope), or split the scope across several grants")
        found.update(range(first, last + 1))
    if not found:
        raise ScopeError(f"{where} lists no index", hint=_SCOPE_FORMS)
    return tuple(sorted(found))


def _bounds(item: int | str, where: str) -> tuple[int, int]:
    if isinstance(item, bool):
        raise ScopeError(f"{where} is {item!r}, not an index", hint=_SCOPE_FORMS)
    if isinstance(item, int):
        first = last = item
    elif isinstance(item, str) and _INDEX.match(item.strip()):
        first = last = int(item.strip())
    elif isinstance(item, str) and (found := _RANGE.match(item.strip())):
        first, last = int(found.group(1)), int(found.group(2))
        if last < first:
            raise ScopeError(f"{where} is the range {item!r}, whose last index is below its first",
                             hint="write a range as FIRST-LAST with FIRST <= LAST")
    else:
        raise ScopeError(f"{where} is {item!r:.60}, neither an index (0, 1, 2, ...) nor a range FIRST-LAST",
                         hint=_SCOPE_FORMS)
    if first < 0:
        raise ScopeError(f"{where} is {first}, a negative index", hint="indexes count from 0")
    if last >= 2**256:
        raise ScopeError(f"{where} is larger than a uint256", hint="give indexes of the asset's rows, chunks or files")
    return first, last


def read_scope_file(path: Path) -> tuple[int, ...]:
    """The indexes a scope file lists (see the module documentation for its forms)."""
    try:
        raw = read_limited(Path(path), MAX_SCOPE_FILE_BYTES, what="scope file", error=ScopeError)
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise ScopeError(f"scope file {path} does not exist", hint="check the path", kind=ErrorKind.NOT_FOUND) from None
    except UnicodeDecodeError:
        raise ScopeError(f"scope file {path} is not UTF-8 text", hint=_SCOPE_FORMS) from None
    except OSError as exc:
        raise ScopeError(f"cannot read scope file {path}: {exc.strerror or exc}",
                         hint="check that the path names a file you can read") from None
    where = f"scope file {path}"
    if text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ScopeError(f"{where} is not valid JSON ({exc.msg}: line {exc.lineno}, column {exc.colno})",
                             hint=_SCOPE_FORMS) from None
        if not isinstance(data, list):
            raise ScopeError(f"{where} is not a JSON array", hint=_SCOPE_FORMS)
        return parse_indexes(data, where)
    items: list[str] = []
    for line in text.splitlines():
        content = line.split("#", 1)[0]
        items.extend(part.strip() for part in content.split(",") if part.strip())
    return parse_indexes(items, where)


def format_ranges(indexes: Iterable[int]) -> str:
    """Ascending distinct ``indexes`` written compactly: ``0-999,5000`` (what the database keeps)."""
    parts: list[str] = []
    ordered = sorted(set(indexes))
    start = previous = None
    for index in ordered:
        if previous is not None and index == previous + 1:
            previous = index
            continue
        if start is not None:
            parts.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = index
    if start is not None:
        parts.append(str(start) if start == previous else f"{start}-{previous}")
    return ",".join(parts)


def parse_ranges(text: str, where: str = "scope") -> tuple[int, ...]:
    """The indexes of :func:`format_ranges`'s text."""
    return parse_indexes([part for part in text.split(",") if part.strip()], where)


# ------------------------------------------------------------------------------------------- trees


def index_leaf_hash(index: int) -> bytes:
    """The standard-v1 leaf of ``index`` under the leaf encoding ``["uint256"]``."""
    return bytes(keccak_new(keccak_new(index.to_bytes(32, "big")).digest()).digest())


class ScopeProof(Model):
    """A multiproof that ``indexes`` are leaves of the scope tree with root ``scope_root`` (standard-v1
    ``getMultiProof``: ``indexes`` in the order the proof consumes them, ``proof`` and ``proof_flags`` as
    ``MerkleProof.multiProofVerify`` takes them)."""

    scope_root: Hash32
    indexes: tuple[int, ...] = Field(min_length=1)
    proof: tuple[Hash32, ...]
    proof_flags: tuple[bool, ...]

    @classmethod
    def from_json_data(cls, data: Any, where: str = "scope proof") -> ScopeProof:
        try:
            # JSON mode: strict types without refusing JSON arrays for tuples; camelCase keys only
            return cls.model_validate_json(json.dumps(data), strict=True, by_alias=True, by_name=False)
        except (ValidationError, TypeError, ValueError) as exc:
            if not isinstance(exc, ValidationError):
                raise ScopeError(f"{where} is not JSON data", hint="use the scope proof as dataseal wrote it") from None
            raise ScopeError(f"{where} is invalid: {describe_validation_error(exc)}",
                             hint="use the scope proof as dataseal wrote it") from None


class IndexTree:
    """The standard-v1 tree over distinct indexes (leaf encoding ``["uint256"]``, leaves sorted by hash): a
    grant's scope, or the indexes a job touched. Build with :meth:`of`."""

    __slots__ = ("indexes", "_nodes", "_tree_index")

    def __init__(self, indexes: tuple[int, ...], nodes: bytearray, tree_index: dict[int, int]) -> None:
        self.indexes = indexes
        self._nodes = nodes
        self._tree_index = tree_index

    @classmethod
    def of(cls, indexes: Iterable[int], where: str = "scope") -> IndexTree:
        ordered = parse_indexes(list(indexes), where)
        hashes = [index_leaf_hash(i) for i in ordered]
        order = sorted(range(len(ordered)), key=hashes.__getitem__)
        nodes = core.build([hashes[i] for i in order])
        last = 2 * len(ordered) - 2
        positions = array("q", bytes(8 * len(ordered)))
        for leaf_index, value_index in enumerate(order):
            positions[value_index] = last - leaf_index
        return cls(ordered, nodes, {index: positions[i] for i, index in enumerate(ordered)})

    @property
    def root(self) -> bytes:
        return core.node_at(self._nodes, 0)

    @property
    def root_hex(self) -> str:
        return "0x" + self.root.hex()

    def __len__(self) -> int:
        return len(self.indexes)

    def __contains__(self, index: object) -> bool:
        return index in self._tree_index

    def multiproof(self, indexes: Iterable[int]) -> ScopeProof:
        """A multiproof that every one of ``indexes`` is in this tree; :class:`ScopeError` naming those outside."""
        wanted = sorted(set(indexes))
        if not wanted:
            raise ScopeError("no index to prove", hint="give the indexes the job touched")
        outside = [i for i in wanted if i not in self._tree_index]
        if outside:
            raise ScopeError(
                f"{len(outside)} of the {len(wanted)} indexes are outside the scope {self.root_hex} (first: "
                f"{format_ranges(outside[:20])})",
                hint="touch only rows, chunks or files the grant covers, or ask the owner for a wider grant",
                kind=ErrorKind.CONFLICT,
            )
        raw = core.get_multiproof(self._nodes, [self._tree_index[i] for i in wanted])
        by_node = {self._tree_index[i]: i for i in wanted}
        return ScopeProof(scope_root=self.root_hex, indexes=tuple(by_node[t] for t in raw.leaf_tree_indices),
                          proof=tuple("0x" + p.hex() for p in raw.proof), proof_flags=raw.proof_flags)


def compute_scope_root(indexes: Iterable[int]) -> bytes:
    """The scope root of ``indexes`` (see the module documentation)."""
    return IndexTree.of(indexes).root


def compute_index_root(indexes: Iterable[int]) -> bytes:
    """The root of the indexes a job touched: the same tree as a scope's, so that they can be revealed later."""
    return IndexTree.of(indexes, "touched indexes").root


# ------------------------------------------------------------------------------------------- checks


def verify_scope_proof(scope_root: bytes | str, proof: ScopeProof) -> None:
    """Check that ``proof`` leads from its indexes to ``scope_root``; :class:`ScopeError` if not."""
    expected = _root_bytes(scope_root)
    if proof.scope_root != "0x" + expected.hex():
        raise ScopeError(f"the scope proof is for scope {proof.scope_root}, not for the grant's scope "
                         f"0x{expected.hex()}", hint="prove the indexes against the grant's own scope")
    leaves = [index_leaf_hash(i) if 0 <= i < 2**256 else b"" for i in proof.indexes]
    if b"" in leaves:
        raise ScopeError("the scope proof lists an index out of the uint256 range", hint="use the proof as written")
    try:
        computed = core.process_multiproof(leaves, [bytes.fromhex(p[2:]) for p in proof.proof], proof.proof_flags)
    except ProofError as exc:
        raise ScopeError(f"the scope proof is malformed: {exc.message}", hint=exc.hint) from None
    if computed != expected:
        raise ScopeError(
            f"the scope proof does not lead to the scope root: expected 0x{expected.hex()}, computed "
            f"0x{computed.hex()} from {len(leaves)} indexes; an index lies outside the scope, or the proof was altered",
            hint="get a fresh proof of the touched indexes from the grant's scope", kind=ErrorKind.CONFLICT,
        )


def verify_indexes_in_scope(indexes: Sequence[int], scope_root: bytes | str, proof: ScopeProof | None) -> None:
    """Check that every one of ``indexes`` lies inside the scope ``scope_root`` by ``proof``; a zero scope root
    (the whole asset) needs no proof."""
    expected = _root_bytes(scope_root)
    if expected == ZERO_ROOT:
        return
    if proof is None:
        raise ScopeError(f"no proof that the touched indexes are inside the scope 0x{expected.hex()}",
                         hint="give the multiproof of the touched indexes against the grant's scope")
    if set(proof.indexes) != set(indexes) or len(proof.indexes) != len(set(indexes)):
        missing = sorted(set(indexes) - set(proof.indexes))
        extra = sorted(set(proof.indexes) - set(indexes))
        raise ScopeError(
            "the scope proof is not of the touched indexes"
            + (f": it leaves out {format_ranges(missing[:20])}" if missing else "")
            + (f"{';' if missing else ':'} it proves {format_ranges(extra[:20])}, which were not touched" if extra
               else ""),
            hint="prove exactly the indexes the receipt lists",
        )
    verify_scope_proof(expected, proof)


def verify_receipt_in_scope(receipt: UsageReceipt, scope_root: bytes | str, multiproof: ScopeProof | None) -> None:
    """Check that the rows, chunks or files ``receipt`` touched lie inside the grant's scope ``scope_root``
    (what an auditor calls, with the scope root read from the grant on chain).

    A zero scope root covers the whole asset: nothing to prove. Otherwise the receipt must list its indexes
    (a receipt carrying only the root of its touched indexes cannot be checked until they are revealed) and
    ``multiproof`` must prove exactly those. :class:`ScopeError` says which check failed.
    """
    expected = _root_bytes(scope_root)
    if expected == ZERO_ROOT:
        return
    touched = receipt.touched
    if touched.indexes is None:
        raise ScopeError(
            f"receipt {receipt.hash_hex} gives only the root {touched.root} of the {touched.count} indexes it touched, "
            "so they cannot be checked against the scope",
            hint="get the touched indexes from the grantee (their root must be the receipt's) and check those",
        )
    verify_indexes_in_scope(touched.indexes, expected, multiproof)


def _root_bytes(root: bytes | str) -> bytes:
    if isinstance(root, (bytes, bytearray)) and len(root) == 32:
        return bytes(root)
    if isinstance(root, str) and re.fullmatch(r"0[xX][0-9a-fA-F]{64}", root):
        return bytes.fromhex(root[2:])
    raise ScopeError(f"the scope root {root!r:.80} is not a 32-byte hash", hint="give 0x followed by 64 hex digits")
