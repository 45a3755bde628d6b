#!/usr/bin/env python3
"""Stored-tree benchmark: proofs served from the compact file against core's proofs from the node buffer.

Builds a tree of ``--leaves`` leaves (default 10,000,000; leaf ``i`` = keccak256 of ``i`` as 8 bytes),
writes it as a stored tree (:mod:`dataseal.registry.merkle.stored`) in a temporary folder, then times
proofs of 1,000 random leaves (``--proofs``) read from the file (``StoredTree.proof``) beside the
baseline measured in the same run, ``core.get_proof`` on the in-memory node buffer. Every stored
proof is checked equal to the baseline's. The file was just written, so its pages are in the page
cache: this measures the lookup and the recomputation below the cut, not the disk.

The last line printed is one JSON object: ``proof_ms_p50``, ``proof_ms_p99`` (stored tree),
``baseline_proof_ms_p50``, ``baseline_proof_ms_p99``, ``stored_tree_bytes_per_leaf``, ``leaves``,
``build_s`` (core.build), ``write_s``, ``open_ms``. Never a test: nothing here asserts on time.

    .venv/bin/python scripts/bench/trees.py                     # 10M leaves: about a minute, ~2 GB of memory
    .venv/bin/python scripts/bench/trees.py --leaves 1000000
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from dataseal.registry.merkle import core  # noqa: E402
from dataseal.registry.merkle.hashing import keccak_new  # noqa: E402
from dataseal.registry.merkle.stored import StoredTree, write_stored_tree  # noqa: E402


def say(message: str) -> None:
    print(message, flush=True)


def percentile(sorted_ms: list[float], fraction: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, int(fraction * len(sorted_ms)))]


def timed_ms(picks: list[int], prove: Callable[[int], list[bytes]]) -> tuple[list[float], list[list[bytes]]]:
    times: list[float] = []
    proofs: list[list[bytes]] = []
    for i in picks:
        start = time.perf_counter()
        proofs.append(prove(i))
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times), proofs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leaves", type=int, default=10_000_000, help="leaves in the tree (default 10,000,000)")
    parser.add_argument("--proofs", type=int, default=1000, help="random leaves to prove (default 1,000)")
    args = parser.parse_args()
    n = args.leaves
    if n < 1 or args.proofs < 1:
        parser.error("--leaves and --proofs must be at least 1")

    say(f"leaves: {n:,}")
    start = time.perf_counter()
    leaves = [keccak_new(i.to_bytes(8, "big")).digest() for i in range(n)]
    say(f"  leaf hashes   {time.perf_counter() - start:8.2f} s")
    start = time.perf_counter()
    nodes = core.build(leaves)
    build_s = time.perf_counter() - start
    say(f"  core.build    {build_s:8.2f} s")
    del leaves

    with tempfile.TemporaryDirectory(prefix="dataseal-bench-trees-") as work:
        path = Path(work) / "tree.dstree"
        start = time.perf_counter()
        write_stored_tree(path, nodes, n)
        write_s = time.perf_counter() - start
        size = path.stat().st_size
        say(f"  write         {write_s:8.2f} s  {size:,} bytes ({size / n:.3f} a leaf)")

        rng = random.Random(7)
        picks = [rng.randrange(n) for _ in range(args.proofs)]
        start = time.perf_counter()
        tree = StoredTree.open(path)
        open_ms = (time.perf_counter() - start) * 1000
        with tree:
            stored_ms, stored_proofs = timed_ms(picks, tree.proof)
            base_ms, base_proofs = timed_ms(picks, lambda i: core.get_proof(nodes, core.leaf_tree_index(n, i)))
            if stored_proofs != base_proofs:
                raise SystemExit("a stored proof differs from core.get_proof's: the stored tree is wrong")
            root = tree.root

    figures = {
        "proof_ms_p50": round(percentile(stored_ms, 0.50), 4),
        "proof_ms_p99": round(percentile(stored_ms, 0.99), 4),
        "baseline_proof_ms_p50": round(percentile(base_ms, 0.50), 4),
        "baseline_proof_ms_p99": round(percentile(base_ms, 0.99), 4),
        "stored_tree_bytes_per_leaf": round(size / n, 3),
        "leaves": n,
        "build_s": round(build_s, 2),
        "write_s": round(write_s, 2),
        "open_ms": round(open_ms, 3),
    }
    say(f"  root          0x{root.hex()}")
    say("")
    say(f"{'proof of one leaf (' + str(len(picks)) + ' random)':<36} {'p50 ms':>9} {'p99 ms':>9}")
    say(f"{'stored tree (mmap, recomputed)':<36} {figures['proof_ms_p50']:>9.4f} {figures['proof_ms_p99']:>9.4f}")
    say(f"{'core.get_proof (node buffer, RAM)':<36} {figures['baseline_proof_ms_p50']:>9.4f} "
        f"{figures['baseline_proof_ms_p99']:>9.4f}")
    say(f"{'ratio stored / baseline (p50)':<36} {figures['proof_ms_p50'] / figures['baseline_proof_ms_p50']:>9.1f}")
    say(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
