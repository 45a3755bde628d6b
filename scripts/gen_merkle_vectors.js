#!/usr/bin/env node
// Generates tests/vectors/merkle_standard_v1.json with @openzeppelin/merkle-tree (the reference
// implementation of StandardMerkleTree "standard-v1"), for dataseal's Python tree to match.
//
// Run once and commit the output; re-run only on purpose (e.g. to add cases):
//   node scripts/gen_merkle_vectors.js            # writes the file
//   node scripts/gen_merkle_vectors.js --check    # exits 1 when the committed file differs
//
// Every input is derived from fixed labels, so the output is deterministic.
"use strict";

const fs = require("fs");
const path = require("path");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const { id, getAddress, dataSlice } = require("ethers");

const OUT = path.join(__dirname, "..", "tests", "vectors", "merkle_standard_v1.json");
const LIB_VERSION = require("@openzeppelin/merkle-tree/package.json").version;

const h = (label) => id(label); // keccak256 of the UTF-8 label, 0x-hex
const addr = (label) => getAddress(dataSlice(h(label), 12));

function pairs(n, tag) {
  return Array.from({ length: n }, (_, i) => [String(i), h(`${tag}:${i}`)]);
}

const CASES = [
  { name: "pair-1", encoding: ["uint256", "bytes32"], values: pairs(1, "p1") },
  { name: "pair-2", encoding: ["uint256", "bytes32"], values: pairs(2, "p2") },
  { name: "pair-3", encoding: ["uint256", "bytes32"], values: pairs(3, "p3") },
  { name: "pair-5", encoding: ["uint256", "bytes32"], values: pairs(5, "p5") },
  { name: "pair-8", encoding: ["uint256", "bytes32"], values: pairs(8, "p8") },
  { name: "pair-13", encoding: ["uint256", "bytes32"], values: pairs(13, "p13") },
  { name: "pair-13-unsorted", encoding: ["uint256", "bytes32"], values: pairs(13, "p13"), options: { sortLeaves: false } },
  { name: "pair-6-unsorted", encoding: ["uint256", "bytes32"], values: pairs(6, "p6"), options: { sortLeaves: false } },
  {
    name: "pair-duplicates-4",
    encoding: ["uint256", "bytes32"],
    values: [["7", h("dup")], ["1", h("one")], ["7", h("dup")], ["2", h("two")]],
  },
  {
    name: "batch-records-5",
    encoding: ["bytes32", "bytes32", "uint8", "uint8"],
    values: [
      [h("content:b1"), h("manifest:b1"), "1", "0"],
      [h("content:b2"), h("manifest:b2"), "3", "1"],
      [h("content:b3"), h("manifest:b3"), "7", "2"],
      [h("content:b4"), h("manifest:b4"), "2", "3"],
      [h("content:b5"), h("manifest:b5"), "4", "1"],
    ],
  },
  {
    name: "folder-4-unsorted",
    encoding: ["string", "uint256", "bytes32"],
    values: [
      ["README.md", "1024", h("f:readme")],
      ["data/2024/行情.csv", "73400320", h("f:quotes")],
      ["data/empty.bin", "0", h("f:empty")],
      ["docs/naïve café.txt", "17", h("f:cafe")],
    ],
    options: { sortLeaves: false },
  },
  {
    name: "address-uint-7",
    encoding: ["address", "uint256"],
    values: Array.from({ length: 7 }, (_, i) => [addr(`acct:${i}`), String(10n ** 18n * BigInt(i + 1))]),
  },
  {
    name: "mixed-dynamic-4",
    encoding: ["bool", "int64", "bytes", "string[]", "uint8[2]", "(uint256,address)", "bytes4"],
    values: [
      [true, "-1", "0x", ["a", "bc"], ["1", "2"], ["1", addr("m:0")], "0xdeadbeef"],
      [false, "9223372036854775807", "0x00ff", [], ["255", "0"], ["2", addr("m:1")], "0x00000000"],
      [true, "-9223372036854775808", "0x" + "ab".repeat(33), ["", "長い文字列"], ["0", "0"], ["3", addr("m:2")], "0x01020304"],
      [false, "0", "0x01", ["x"], ["7", "8"], ["115792089237316195423570985008687907853269984665640564039457584007913129639935", addr("m:3")], "0xffffffff"],
    ],
  },
];

function multiproofSets(n) {
  const sets = [[0], [n - 1], Array.from({ length: n }, (_, i) => i)];
  if (n >= 3) sets.push([0, 2], [n - 1, 1]);
  if (n >= 5) sets.push([1, 3, 4]);
  const seen = new Set();
  return sets.filter((s) => {
    const key = s.join(",");
    return !seen.has(key) && seen.add(key);
  });
}

function flipBit(hex, byteIndex = 31, bit = 0) {
  const b = Buffer.from(hex.slice(2), "hex");
  b[byteIndex] ^= 1 << bit;
  return "0x" + b.toString("hex");
}

function buildCase(c) {
  const tree = StandardMerkleTree.of(c.values, c.encoding, c.options || {});
  const n = c.values.length;
  return {
    name: c.name,
    leafEncoding: c.encoding,
    options: { sortLeaves: (c.options || {}).sortLeaves ?? true },
    values: c.values,
    root: tree.root,
    leafHashes: c.values.map((v) => tree.leafHash(v)),
    proofs: c.values.map((_, i) => tree.getProof(i)),
    multiproofs: multiproofSets(n).map((indices) => ({ indices, ...tree.getMultiProof(indices) })),
    render: tree.render(),
    dump: tree.dump(),
    tree,
  };
}

function verifyOrError(fn) {
  try {
    return { valid: fn() };
  } catch (e) {
    return { valid: false, error: e.message };
  }
}

function mutations(built) {
  const byName = Object.fromEntries(built.map((c) => [c.name, c]));
  const out = [];
  const single = (name, kind, caseName, root, value, proof, note) => {
    const c = byName[caseName];
    out.push({
      name, kind, case: caseName, leafEncoding: c.leafEncoding, root, value, proof, note,
      ...verifyOrError(() => StandardMerkleTree.verify(root, c.leafEncoding, value, proof)),
    });
  };
  const c = byName["pair-13"];
  const other = byName["pair-13-unsorted"];
  const [v5, p5] = [c.values[5], c.proofs[5]];
  single("valid", "valid", "pair-13", c.root, v5, p5, "unaltered proof of value 5");
  single("flipped-bit-proof", "flipped-bit", "pair-13", c.root, v5, [flipBit(p5[0]), ...p5.slice(1)], "lowest bit of the first sibling flipped");
  single("flipped-bit-value", "flipped-bit", "pair-13", c.root, [v5[0], flipBit(v5[1], 0, 7)], p5, "highest bit of the value's bytes32 flipped");
  single("flipped-bit-root", "flipped-bit", "pair-13", flipBit(c.root, 15, 3), v5, p5, "one bit of the root flipped");
  single("wrong-index", "wrong-index", "pair-13", c.root, ["6", v5[1]], p5, "value 5's digest claimed at index 6");
  single("proof-of-other-leaf", "wrong-index", "pair-13", c.root, v5, c.proofs[6], "value 5 with value 6's proof");
  single("truncated-proof", "truncated", "pair-13", c.root, v5, p5.slice(0, -1), "last sibling dropped");
  single("empty-proof", "truncated", "pair-13", c.root, v5, [], "no siblings at all");
  single("extra-element", "extra-element", "pair-13", c.root, v5, [...p5, h("extra")], "one sibling too many");
  single("swapped-siblings", "swapped-siblings", "pair-13", c.root, v5, [p5[1], p5[0], ...p5.slice(2)], "first two siblings swapped");
  single("reversed-proof", "swapped-siblings", "pair-13", c.root, v5, [...p5].reverse(), "siblings in reverse order");
  single("proof-for-another-tree", "another-tree", "pair-13", c.root, other.values[5], other.proofs[5], "same values, unsorted tree's proof, sorted tree's root");
  single("another-trees-root", "another-tree", "pair-13", other.root, v5, p5, "valid proof checked against another tree's root");
  const b = byName["batch-records-5"];
  single("batch-record-valid", "valid", "batch-records-5", b.root, b.values[2], b.proofs[2], "unaltered");
  single("batch-record-wrong-rights", "flipped-bit", "batch-records-5", b.root, [b.values[2][0], b.values[2][1], "6", b.values[2][3]], b.proofs[2], "rightsType 7 claimed as 6");

  const multi = (name, kind, caseName, root, mp, note) => {
    const cc = byName[caseName];
    out.push({
      name, kind, case: caseName, leafEncoding: cc.leafEncoding, root, multiproof: mp, note,
      ...verifyOrError(() => StandardMerkleTree.verifyMultiProof(root, cc.leafEncoding, mp)),
    });
  };
  const mp = c.multiproofs.find((m) => m.indices.join(",") === "1,3,4");
  const clean = { leaves: mp.leaves, proof: mp.proof, proofFlags: mp.proofFlags };
  multi("multiproof-valid", "valid", "pair-13", c.root, clean, "values 1, 3, 4");
  multi("multiproof-flipped-bit", "flipped-bit", "pair-13", c.root, { ...clean, proof: [flipBit(clean.proof[0]), ...clean.proof.slice(1)] }, "first proof hash altered");
  multi("multiproof-flipped-flag", "flipped-bit", "pair-13", c.root, { ...clean, proofFlags: clean.proofFlags.map((f, i) => (i === clean.proofFlags.lastIndexOf(true) ? !f : f)) }, "last true flag made false");
  multi("multiproof-truncated", "truncated", "pair-13", c.root, { ...clean, proof: clean.proof.slice(0, -1) }, "last proof hash dropped");
  multi("multiproof-extra-element", "extra-element", "pair-13", c.root, { ...clean, proof: [...clean.proof, h("extra")] }, "one proof hash too many");
  multi("multiproof-dropped-leaf", "truncated", "pair-13", c.root, { ...clean, leaves: clean.leaves.slice(1) }, "first leaf dropped");
  multi("multiproof-swapped-leaves", "swapped-siblings", "pair-13", c.root, { ...clean, leaves: [clean.leaves[1], clean.leaves[0], ...clean.leaves.slice(2)] }, "first two leaves swapped");
  multi("multiproof-another-tree", "another-tree", "pair-13", other.root, clean, "valid multiproof, another tree's root");
  return out;
}

function generate() {
  const built = CASES.map(buildCase);
  const doc = {
    generator: "scripts/gen_merkle_vectors.js",
    library: `@openzeppelin/merkle-tree@${LIB_VERSION}`,
    note: "Generated once by the script above; do not edit by hand. Read by tests/registry/merkle/.",
    cases: built.map(({ tree, ...rest }) => rest),
    mutations: mutations(built),
  };
  return JSON.stringify(doc, null, 1) + "\n";
}

const text = generate();
if (process.argv.includes("--check")) {
  const current = fs.existsSync(OUT) ? fs.readFileSync(OUT, "utf8") : "";
  if (current !== text) {
    console.error(`${path.relative(process.cwd(), OUT)} differs from a fresh generation: run node scripts/gen_merkle_vectors.js`);
    process.exit(1);
  }
  console.log("vectors are up to date");
} else {
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, text);
  console.log(`wrote ${path.relative(process.cwd(), OUT)}`);
}
