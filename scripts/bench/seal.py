#!/usr/bin/env python3
"""Sealing benchmark: dataseal against its baselines, all measured in this one run on this machine.

- ``file_1gib_s`` — seal a 1 GiB file (1 MiB chunks, manifest and tree written) vs ``sha256sum_1gib_s``
  (coreutils ``sha256sum`` of the same file); page cache warm for both, best of two runs each;
- ``tree_1m_s`` — ``StandardMerkleTree.of`` of 1,000,000 ``(uint256, bytes32)`` values vs
  ``oz_js_tree_1m_s`` (@openzeppelin/merkle-tree on Node, same values, default options); the
  two roots must be equal or the benchmark fails;
- ``csv_10m_rows_per_s``, ``csv_10m_peak_rss_mib`` — seal the rows of a 10,000,000-row CSV
  (manifest and tree dump written), in a child process that reports its peak RSS (VmHWM);
- ``proofs_per_s``, ``verifies_per_s`` — proofs from the 1M-leaf tree, and full checks of them
  (value → leaf → root) with the pure ``verify_value``.

Inputs are generated in a temporary folder and deleted at the end. The last line printed is
one JSON object with those keys (plus ratios). Never a test: nothing here asserts on time.

    .venv/bin/python scripts/bench/seal.py              # full run: several minutes (Node takes most)
    .venv/bin/python scripts/bench/seal.py --scale 0.01  # quick look while developing
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from dataseal.registry.merkle import KECCAK_BINDING, StandardMerkleTree, verify_value  # noqa: E402
from dataseal.registry.sealing.seal import seal  # noqa: E402

GIB = 1 << 30
PAIR = ["uint256", "bytes32"]

OZ_TREE_JS = r"""
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const crypto = require("crypto");
const n = Number(process.argv[1]);
const values = new Array(n);
const index = Buffer.alloc(8);
for (let i = 0; i < n; i++) {
  index.writeBigUInt64BE(BigInt(i));
  values[i] = [String(i), "0x" + crypto.createHash("sha256").update(index).digest("hex")];
}
const start = process.hrtime.bigint();
const tree = StandardMerkleTree.of(values, ["uint256", "bytes32"]);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
console.log(JSON.stringify({ root: tree.root, seconds }));
"""

# Peak RSS is the child's own VmHWM: ru_maxrss would also count the parent's pages it was forked with.
CSV_CHILD = r"""
import json, re, sys, time
sys.path.insert(0, sys.argv[1])
from dataseal.registry.sealing import SealOptions
from dataseal.registry.sealing.seal import seal
start = time.perf_counter()
result = seal(sys.argv[2], SealOptions(rows=True), out_dir=sys.argv[3])
seconds = time.perf_counter() - start
peak_kib = int(re.search(r"VmHWM:\s+(\d+) kB", open("/proc/self/status").read()).group(1))
print(json.dumps({"seconds": seconds, "rows": result.leaf_count, "root": result.root, "peak_kib": peak_kib}))
"""


def say(message: str) -> None:
    print(message, flush=True)


def best_of(runs: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def make_file(path: Path, size: int) -> None:
    block = os.urandom(min(size, 64 << 20))
    with open(path, "wb") as f:
        written = 0
        while written < size:
            part = block[: size - written]
            f.write(part)
            written += len(part)


def bench_file(work: Path, size: int) -> dict[str, float]:
    data = work / "big.bin"
    make_file(data, size)
    subprocess.run(["sha256sum", str(data)], check=True, capture_output=True)  # warms the page cache
    sha = best_of(2, lambda: subprocess.run(["sha256sum", str(data)], check=True, capture_output=True))
    ours = best_of(2, lambda: seal(data, out_dir=work / "big.seal", replace=True))
    data.unlink()
    return {"file_1gib_s": ours, "sha256sum_1gib_s": sha}


def tree_values(n: int) -> list[tuple[int, bytes]]:
    return [(i, hashlib.sha256(i.to_bytes(8, "big")).digest()) for i in range(n)]


def bench_tree(n: int) -> tuple[dict[str, float], StandardMerkleTree, list[tuple[int, bytes]]]:
    values = tree_values(n)
    start = time.perf_counter()
    tree = StandardMerkleTree.of(values, PAIR)
    ours = time.perf_counter() - start
    say(f"  python  {ours:8.2f} s  root {tree.root_hex}")
    node = subprocess.run(
        ["node", "--max-old-space-size=8192", "-e", OZ_TREE_JS, str(n)],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )
    oz = json.loads(node.stdout.strip().splitlines()[-1])
    say(f"  oz js   {oz['seconds']:8.2f} s  root {oz['root']}")
    if oz["root"] != tree.root_hex:
        raise SystemExit(f"roots differ: dataseal {tree.root_hex}, @openzeppelin/merkle-tree {oz['root']}")
    return {"tree_1m_s": ours, "oz_js_tree_1m_s": oz["seconds"]}, tree, values


def bench_proofs(tree: StandardMerkleTree, values: list[tuple[int, bytes]], count: int) -> dict[str, float]:
    picks = random.Random(7).sample(range(len(values)), min(count, len(values)))
    start = time.perf_counter()
    proofs = [tree.get_proof(i) for i in picks]
    proof_s = time.perf_counter() - start
    root = tree.root
    start = time.perf_counter()
    for i, proof in zip(picks, proofs, strict=True):
        verify_value(root, PAIR, values[i], proof)
    verify_s = time.perf_counter() - start
    return {"proofs_per_s": len(picks) / proof_s, "verifies_per_s": len(picks) / verify_s}


def make_csv(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("id,customer,amount,currency,date,note\n")
        notes = ('"with, comma"', "plain", "plain", "", "plain")
        block = 100_000
        for start in range(0, rows, block):
            f.write("".join(
                f"{i},customer-{i % 9973},{(i * 37) % 100000 / 100:.2f},CNY,2024-{1 + i % 12:02d}-{1 + i % 28:02d},"
                f"{notes[i % 5]}\n"
                for i in range(start, min(rows, start + block))
            ))


def bench_csv(work: Path, rows: int) -> dict[str, float]:
    table = work / "table.csv"
    make_csv(table, rows)
    say(f"  {rows:,} rows, {table.stat().st_size / (1 << 20):,.0f} MiB of CSV")
    child = subprocess.run(
        [sys.executable, "-c", CSV_CHILD, str(ROOT), str(table), str(work / "table.seal")],
        stdout=subprocess.PIPE, text=True,
    )
    if child.returncode != 0:
        raise SystemExit(f"sealing the CSV failed (exit {child.returncode})")
    result = json.loads(child.stdout.strip().splitlines()[-1])
    dump = (work / "table.seal" / "tree.json").stat().st_size
    say(f"  root {result['root']}, tree.json {dump / (1 << 20):,.0f} MiB")
    table.unlink()
    shutil.rmtree(work / "table.seal")
    return {"csv_10m_rows_per_s": result["rows"] / result["seconds"], "csv_10m_peak_rss_mib": result["peak_kib"] / 1024}


def bench_keccak(count: int = 200_000) -> dict[str, float]:
    """ns per keccak-256 of a 64-byte input, for each binding installed here."""
    data = [os.urandom(64) for _ in range(count)]
    bindings: dict[str, Callable[[bytes], Any]] = {}
    try:
        import sha3

        bindings["safe-pysha3"] = lambda b: sha3.keccak_256(b).digest()
    except ImportError:
        pass
    try:
        from Crypto.Hash import keccak

        bindings["pycryptodome"] = lambda b: keccak.new(data=b, digest_bits=256).digest()
    except ImportError:
        pass
    try:
        from eth_hash.auto import keccak as eth_keccak

        bindings["eth-hash"] = eth_keccak
    except ImportError:
        pass
    results = {}
    for name, fn in bindings.items():
        start = time.perf_counter()
        for item in data:
            fn(item)
        results[name] = (time.perf_counter() - start) / count * 1e9
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="Shrink every input (0.01 = 1%%) for a quick look.")
    args = parser.parse_args()
    scale = args.scale
    file_size, tree_n, csv_rows = int(GIB * scale), int(1_000_000 * scale), int(10_000_000 * scale)
    cpus = len(os.sched_getaffinity(0))
    load = os.getloadavg()
    say(f"dataseal sealing benchmark: {cpus} CPUs, load {load[0]:.2f}, keccak binding {KECCAK_BINDING}, scale {scale}")
    figures: dict[str, Any] = {"scale": scale, "cpus": cpus, "load_avg_1m_at_start": round(load[0], 2)}
    with tempfile.TemporaryDirectory(prefix="dataseal-bench-") as temp:
        work = Path(temp)
        say("keccak-256 of 64 bytes, ns per hash:")
        figures["keccak_ns_per_hash"] = {k: round(v, 1) for k, v in bench_keccak().items()}
        for name, ns in figures["keccak_ns_per_hash"].items():
            say(f"  {name:<13} {ns:8.1f}")
        say(f"file: {file_size / GIB:.2f} GiB, 1 MiB chunks, page cache warm")
        figures.update(bench_file(work, file_size))
        say(f"  dataseal seal {figures['file_1gib_s']:.3f} s   sha256sum {figures['sha256sum_1gib_s']:.3f} s   "
            f"ratio {figures['file_1gib_s'] / figures['sha256sum_1gib_s']:.2f} (target <= 0.30)")
        say(f"tree: {tree_n:,} (uint256, bytes32) leaves, sorted (the library's default)")
        tree_figures, tree, values = bench_tree(tree_n)
        figures.update(tree_figures)
        say(f"  speedup {figures['oz_js_tree_1m_s'] / figures['tree_1m_s']:.1f}x (target >= 20x)")
        say(f"proofs at {tree_n:,} leaves:")
        figures.update(bench_proofs(tree, values, 100_000))
        say(f"  {figures['proofs_per_s']:,.0f} proofs/s, {figures['verifies_per_s']:,.0f} verifies/s (value -> root)")
        del tree, values
        say("csv: rows as leaves, unsalted, manifest and tree dump written")
        figures.update(bench_csv(work, csv_rows))
        say(f"  {figures['csv_10m_rows_per_s']:,.0f} rows/s, peak RSS {figures['csv_10m_peak_rss_mib']:,.0f} MiB "
            "(target <= 1024)")
    figures["file_vs_sha256sum"] = figures["file_1gib_s"] / figures["sha256sum_1gib_s"]
    figures["tree_speedup_vs_oz_js"] = figures["oz_js_tree_1m_s"] / figures["tree_1m_s"]
    rounded = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in figures.items()}
    print(json.dumps(rounded, sort_keys=False))


if __name__ == "__main__":
    main()
