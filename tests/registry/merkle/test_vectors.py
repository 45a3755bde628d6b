"""The Python tree against @openzeppelin/merkle-tree 1.0.8, through the committed test vectors."""

from __future__ import annotations

import ast
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dataseal.registry.merkle import (
    MultiProof,
    ProofError,
    StandardMerkleTree,
    compute_leaf_hash,
    compute_multiproof_root,
    verify_multiproof,
    verify_value,
)
from tests.registry.conftest import load_vectors

VECTORS = load_vectors()
CASES = {case["name"]: case for case in VECTORS["cases"]}
MUTATIONS = {m["name"]: m for m in VECTORS["mutations"]}


def build(case: dict[str, Any]) -> StandardMerkleTree:
    return StandardMerkleTree.of(case["values"], case["leafEncoding"], sort_leaves=case["options"]["sortLeaves"])


def hexes(items: list[bytes] | tuple[bytes, ...]) -> list[str]:
    return ["0x" + item.hex() for item in items]


def test_vectors_come_from_the_library_and_cover_every_mutation_kind() -> None:
    assert VECTORS["library"] == "@openzeppelin/merkle-tree@1.0.8"
    kinds = {m["kind"] for m in VECTORS["mutations"]}
    assert {"flipped-bit", "wrong-index", "truncated", "extra-element", "swapped-siblings", "another-tree"} <= kinds


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_root_leaves_proofs_dump_and_render_as_the_library(name: str) -> None:
    case = CASES[name]
    tree = build(case)
    assert tree.root_hex == case["root"]
    assert [("0x" + tree.leaf_hash(v).hex()) for v in case["values"]] == case["leafHashes"]
    assert [hexes(tree.get_proof(i)) for i in range(len(tree))] == case["proofs"]
    assert tree.dump() == case["dump"]
    assert tree.render() == case["render"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_multiproofs_as_the_library(name: str) -> None:
    case = CASES[name]
    tree = build(case)
    for expected in case["multiproofs"]:
        multiproof = tree.get_multiproof(expected["indices"])
        assert multiproof.to_json(case["leafEncoding"]) == {
            "leaves": expected["leaves"],
            "proof": expected["proof"],
            "proofFlags": expected["proofFlags"],
        }
        assert tree.verify_multiproof(multiproof)
        verify_multiproof(case["root"], case["leafEncoding"], multiproof)


@pytest.mark.parametrize("name", sorted(CASES))
def test_loads_the_library_dumps_and_writes_them_back(name: str) -> None:
    case = CASES[name]
    compact = json.dumps(case["dump"], separators=(",", ":"))  # what JSON.stringify(tree.dump()) gives
    tree = StandardMerkleTree.loads(compact)
    assert tree.root_hex == case["root"]
    assert tree.dump() == case["dump"]
    for i in range(len(tree)):
        assert hexes(tree.get_proof(i)) == case["proofs"][i]
        assert tree.verify(i, tree.get_proof(i))
    streamed = io.StringIO()
    tree.write_dump(streamed)
    assert json.loads(streamed.getvalue()) == case["dump"]


@pytest.mark.parametrize("name", sorted(n for n, m in MUTATIONS.items() if "proof" in m))
def test_single_proof_mutations_fail_exactly_where_the_library_fails(name: str) -> None:
    m = MUTATIONS[name]
    if m["valid"]:
        verify_value(m["root"], m["leafEncoding"], m["value"], m["proof"])
        return
    with pytest.raises(ProofError) as caught:
        verify_value(m["root"], m["leafEncoding"], m["value"], m["proof"])
    message = str(caught.value)
    assert f"expected {m['root']}" in message
    assert "computed 0x" in message
    assert caught.value.expected == bytes.fromhex(m["root"][2:])
    assert caught.value.computed is not None and caught.value.computed != caught.value.expected


@pytest.mark.parametrize("name", sorted(n for n, m in MUTATIONS.items() if "multiproof" in m))
def test_multiproof_mutations_fail_exactly_where_the_library_fails(name: str) -> None:
    m = MUTATIONS[name]
    mp = m["multiproof"]
    multiproof = MultiProof(
        leaves=tuple(tuple(v) for v in mp["leaves"]),
        proof=tuple(bytes.fromhex(p[2:]) for p in mp["proof"]),
        proof_flags=tuple(mp["proofFlags"]),
    )
    if m["valid"]:
        verify_multiproof(m["root"], m["leafEncoding"], multiproof)
        return
    with pytest.raises(ProofError) as caught:
        verify_multiproof(m["root"], m["leafEncoding"], multiproof)
    if "error" in m:  # the library refuses the shape: so do we, saying so
        assert "multiproof is malformed" in caught.value.message
        assert caught.value.hint == "use the leaves, proof and flags of one multiproof, unchanged"
    else:
        assert f"expected {m['root']}" in caught.value.message
        assert caught.value.hint == "get a fresh multiproof from the sealed data"


def test_multiproof_roots_over_leaf_hashes() -> None:
    case = CASES["pair-13"]
    expected = case["multiproofs"][-1]
    leaves = [compute_leaf_hash(case["leafEncoding"], v) for v in expected["leaves"]]
    assert "0x" + compute_multiproof_root(leaves, expected["proof"], expected["proofFlags"]).hex() == case["root"]
    with pytest.raises(ProofError) as caught:
        compute_multiproof_root(leaves, expected["proof"], [1] * len(expected["proofFlags"]))  # type: ignore[list-item]
    assert caught.value.message == "multiproof flags must be true or false; flag 0 is 1"
    assert caught.value.hint == "give the multiproof's flags as booleans, as getMultiProof returns them"


def test_the_committed_vectors_are_what_the_generator_writes() -> None:
    root = Path(__file__).resolve().parents[3]
    if not (root / "node_modules" / "@openzeppelin" / "merkle-tree").is_dir() or shutil.which("node") is None:
        pytest.skip("node_modules is missing: run `make test` (it runs npm ci)")
    result = subprocess.run(
        ["node", "scripts/gen_merkle_vectors.js", "--check"], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_the_merkle_package_imports_nothing_else_of_dataseal() -> None:
    code = (
        "import sys, dataseal.registry.merkle, dataseal.registry.merkle.digests; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dataseal', 'pydantic', 'web3', 'eth_abi')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = ast.literal_eval(result.stdout)
    allowed = {"dataseal", "dataseal.errors", "dataseal.registry"}
    assert set(loaded) <= allowed | {m for m in loaded if m.startswith("dataseal.registry.merkle")}
