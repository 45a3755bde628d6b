"""StandardMerkleTree: proof lookups, dumps, and every corrupt dump refused with what is wrong."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from dataseal.errors import ErrorKind
from dataseal.registry.merkle import LeafEncodingError, ProofError, StandardMerkleTree, TreeDumpError, keccak256
from tests.registry.conftest import load_vectors

CASES = {case["name"]: case for case in load_vectors()["cases"]}
PAIR = ["uint256", "bytes32"]


def pair_values(n: int) -> list[tuple[int, bytes]]:
    return [(i, keccak256(i.to_bytes(8, "big"))) for i in range(n)]


def test_proof_lookups_and_errors() -> None:
    tree = StandardMerkleTree.of(pair_values(5), PAIR)
    value = pair_values(5)[3]
    assert tree.index_of(value) == 3
    assert tree.verify(3, tree.get_proof(3))
    assert not tree.verify(3, tree.get_proof(2))
    with pytest.raises(ProofError) as caught:
        tree.get_proof(5)
    assert str(caught.value) == "value index 5 is out of range: the tree has 5 values: give an index from 0 to 4"
    assert caught.value.kind is ErrorKind.NOT_FOUND
    with pytest.raises(ProofError) as caught:
        tree.at(True)
    assert caught.value.message == "value index True is not an integer"
    assert caught.value.kind is ErrorKind.INVALID_INPUT
    with pytest.raises(ProofError) as caught:
        tree.index_of((99, value[1]))
    assert caught.value.message.endswith("is not in the tree with root " + tree.root_hex)
    assert caught.value.hint == "check the value, item by item, and that this is the tree it was sealed in"
    assert caught.value.kind is ErrorKind.NOT_FOUND
    with pytest.raises(ProofError) as caught:
        tree.get_multiproof([1, 1])
    assert re.fullmatch(r"cannot prove leaf node \d+ twice in one multiproof", caught.value.message)
    assert caught.value.hint == "list each leaf once"


def good_dump() -> dict[str, Any]:
    return copy.deepcopy(CASES["pair-5"]["dump"])


def mutate(change: Any) -> dict[str, Any]:
    dump = good_dump()
    change(dump)
    return dump


DUMP_AGAIN = "use the tree dump written when the data was sealed (tree.json), or dump the tree again"


@pytest.mark.parametrize(
    ("dump", "message"),
    [
        (
            mutate(lambda d: d.update(format="standard-v2")),
            "unknown tree dump format 'standard-v2', expected 'standard-v1'",
        ),
        (mutate(lambda d: d.pop("values")), "tree dump has no 'values', so it is incomplete"),
        (mutate(lambda d: d["tree"].pop()), "tree dump has 8 nodes, but a tree of n leaves has 2n - 1 nodes"),
        (mutate(lambda d: d["values"].pop()), "tree dump has 4 values for 5 leaves"),
        (
            mutate(lambda d: d["tree"].__setitem__(0, "0x" + "00" * 32)),
            "tree[0] is not the hash of its children tree[1] and tree[2]",
        ),
        (mutate(lambda d: d["tree"].__setitem__(8, "0x" + "00" * 32)), "does not match its leaf: tree[8] is 0x0000"),
        (mutate(lambda d: d["values"][0]["value"].__setitem__(0, "77")), "values[0] does not match its leaf"),
        (
            mutate(lambda d: d["values"][1].__setitem__("treeIndex", d["values"][0]["treeIndex"])),
            "is used by another value",
        ),
        (mutate(lambda d: d["values"][0].__setitem__("treeIndex", 0)), "expected a leaf node index from 4 to 8"),
        (mutate(lambda d: d["tree"].__setitem__(3, "0x1234")), "tree[3] is '0x1234'; expected a 32-byte hash"),
        (mutate(lambda d: d["values"][2].pop("treeIndex")), "values[2] is not an object with 'value' and 'treeIndex'"),
        (mutate(lambda d: d.update(leafEncoding=["uint256", "bytes33"])), "size must be 1 to 32"),
        ([1, 2], "a tree dump is a JSON object, not list"),
    ],
)
def test_corrupt_dumps_are_refused_with_what_is_wrong(dump: Any, message: str) -> None:
    with pytest.raises((TreeDumpError, LeafEncodingError)) as caught:
        StandardMerkleTree.load(dump)
    assert message in caught.value.message
    if "format" in message:
        assert caught.value.hint == (
            "give a dump of a StandardMerkleTree (from @openzeppelin/merkle-tree, or dataseal's tree.json)"
        )
    elif isinstance(caught.value, TreeDumpError):
        assert caught.value.hint == DUMP_AGAIN
    else:
        assert caught.value.hint.startswith("use types such as 'uint256'")


def test_a_truncated_dump_is_refused_as_truncated() -> None:
    text = json.dumps(good_dump())
    with pytest.raises(TreeDumpError) as caught:
        StandardMerkleTree.loads(text[: len(text) // 2])
    assert re.fullmatch(r"tree dump is not valid JSON \(.*\); it is truncated or corrupted", caught.value.message)
    assert caught.value.hint == DUMP_AGAIN


def test_validate_catches_a_tree_corrupted_after_loading() -> None:
    tree = StandardMerkleTree.load(good_dump())
    tree.validate()
    tree._nodes[0] ^= 1  # noqa: SLF001 - simulate memory corruption
    with pytest.raises(TreeDumpError) as caught:
        tree.validate()
    assert str(caught.value) == (
        "tree[0] is not the hash of its children; the tree is corrupted: build the tree again from its values"
    )
