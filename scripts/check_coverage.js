#!/usr/bin/env node
// Fail when the contracts' branch coverage is below the threshold.
//
//   node scripts/check_coverage.js [FILE]
//
// Run after `hardhat coverage`. Reads coverage/coverage-summary.json (istanbul json-summary)
// when present, otherwise computes the same numbers from coverage.json (istanbul's per-file
// format, written by solidity-coverage). FILE overrides the input (either format).
// Prints lines and branches per contract; exits 1 below the threshold, 2 when there is no
// coverage data to read.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

/** Minimum branch coverage, in percent, over all contracts together. */
const BRANCH_THRESHOLD = 100;

const ROOT = path.resolve(__dirname, "..");
const SUMMARY_FILE = path.join(ROOT, "coverage", "coverage-summary.json");
const COVERAGE_FILE = path.join(ROOT, "coverage.json");

/** {covered, total} of one metric → percentage; an empty metric counts as fully covered. */
function pct({ covered, total }) {
  return total === 0 ? 100 : (100 * covered) / total;
}

/** Per-file {lines, branches} from istanbul's json-summary format. */
function fromSummary(summary) {
  const files = {};
  for (const [file, metrics] of Object.entries(summary)) {
    if (file === "total") continue;
    files[file] = {
      lines: { covered: metrics.lines.covered, total: metrics.lines.total },
      branches: { covered: metrics.branches.covered, total: metrics.branches.total },
    };
  }
  return files;
}

/** Per-file {lines, branches} from istanbul's coverage.json: `l` line hits, `b` branch hits. */
function fromCoverage(coverage) {
  const files = {};
  for (const [file, data] of Object.entries(coverage)) {
    const lineHits = Object.values(data.l || {});
    const branchHits = Object.values(data.b || {}).flat();
    files[file] = {
      lines: { covered: lineHits.filter((n) => n > 0).length, total: lineHits.length },
      branches: { covered: branchHits.filter((n) => n > 0).length, total: branchHits.length },
    };
  }
  return files;
}

/** Is `json` a json-summary (metrics objects with `pct`) rather than per-file coverage data? */
function isSummary(json) {
  return Object.prototype.hasOwnProperty.call(json, "total") && json.total.branches !== undefined;
}

function load(explicit) {
  const candidates = explicit ? [explicit] : [SUMMARY_FILE, COVERAGE_FILE];
  for (const file of candidates) {
    if (!fs.existsSync(file)) continue;
    const json = JSON.parse(fs.readFileSync(file, "utf8"));
    return { file, files: isSummary(json) ? fromSummary(json) : fromCoverage(json) };
  }
  return null;
}

function label(file) {
  const relative = path.isAbsolute(file) ? path.relative(ROOT, file) : file;
  return relative.startsWith("..") ? file : relative.split(path.sep).join("/");
}

function cell({ covered, total }) {
  if (total === 0) return "-".padStart(18);
  return `${pct({ covered, total }).toFixed(2).padStart(7)}% (${covered}/${total})`.padStart(18);
}

function main() {
  const explicit = process.argv[2] && path.resolve(process.argv[2]);
  const loaded = load(explicit);
  if (!loaded) {
    const looked = explicit ? label(explicit) : `${label(SUMMARY_FILE)} and ${label(COVERAGE_FILE)}`;
    console.error(
      `check_coverage: no coverage data (looked for ${looked}). Run \`node_modules/.bin/hardhat coverage\` first.`,
    );
    return 2;
  }

  const names = Object.keys(loaded.files).sort();
  const width = Math.max(8, ...names.map((name) => label(name).length));
  const total = { lines: { covered: 0, total: 0 }, branches: { covered: 0, total: 0 } };
  console.log(`coverage from ${label(loaded.file)}`);
  console.log(`${"contract".padEnd(width)}  ${"lines".padStart(18)}  ${"branches".padStart(18)}`);
  for (const name of names) {
    const { lines, branches } = loaded.files[name];
    for (const metric of ["lines", "branches"]) {
      total[metric].covered += loaded.files[name][metric].covered;
      total[metric].total += loaded.files[name][metric].total;
    }
    console.log(`${label(name).padEnd(width)}  ${cell(lines)}  ${cell(branches)}`);
  }
  console.log(`${"total".padEnd(width)}  ${cell(total.lines)}  ${cell(total.branches)}`);

  const branchPct = pct(total.branches);
  if (total.branches.total === 0) {
    console.error("check_coverage: no branches were instrumented; is the coverage data from `hardhat coverage`?");
    return 2;
  }
  if (branchPct < BRANCH_THRESHOLD) {
    const missing = Math.ceil((BRANCH_THRESHOLD * total.branches.total) / 100) - total.branches.covered;
    console.error(
      `check_coverage: branch coverage ${branchPct.toFixed(2)}% is below the ${BRANCH_THRESHOLD}% threshold ` +
        `(${total.branches.covered}/${total.branches.total} branches; cover ${missing} more). ` +
        "Open coverage/index.html to see which branches no test takes.",
    );
    return 1;
  }
  console.log(`branch coverage ${branchPct.toFixed(2)}% >= ${BRANCH_THRESHOLD}%: ok`);
  return 0;
}

process.exitCode = main();
