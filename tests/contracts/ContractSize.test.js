// EIP-170: no contract's runtime code may exceed 24,576 bytes, or it cannot be deployed on
// mainnet-like chains (py-evm included). AssetRegistry is compiled with fewer optimizer runs to
// stay under it (hardhat.config.js); these tests make crossing the limit fail loudly.
const fs = require("node:fs");
const path = require("node:path");
const { expect } = require("chai");
const hre = require("hardhat");
const { loadFixture } = require("@nomicfoundation/hardhat-network-helpers");
const { MAX_RUNTIME_CODE_SIZE, normalFixture } = require("./helpers/fixtures");

const SHIPPED_ARTIFACTS = path.join(__dirname, "..", "..", "dataseal", "chain", "contracts", "artifacts");
const DEPLOYED = ["AssetRegistry", "GrantRegistry", "TransactionLedger"];

/** Bytes of a 0x-prefixed hex string. */
const sizeOf = (hex) => (hex.length - 2) / 2;

describe("contract size (EIP-170)", function () {
  it("every contract compiled from contracts/ has a deployedBytecode of at most 24,576 bytes (AssetRegistry, GrantRegistry and TransactionLedger among them)", async function () {
    if (hre.__SOLIDITY_COVERAGE_RUNNING) {
      // solidity-coverage compiles instrumented, unoptimised code: not the code that ships.
      this.skip();
    }
    expect(MAX_RUNTIME_CODE_SIZE).to.equal(24_576);
    const names = (await hre.artifacts.getAllFullyQualifiedNames()).filter((name) => name.startsWith("contracts/"));
    const sizes = {};
    for (const name of names) {
      const artifact = await hre.artifacts.readArtifact(name);
      sizes[artifact.contractName] = sizeOf(artifact.deployedBytecode);
    }
    for (const name of DEPLOYED) {
      expect(sizes[name], `${name} compiled`).to.be.greaterThan(0);
    }
    const over = Object.entries(sizes).filter(([, size]) => size > MAX_RUNTIME_CODE_SIZE);
    expect(over, `over EIP-170's ${MAX_RUNTIME_CODE_SIZE} bytes`).to.deep.equal([]);
  });

  it("the size measured is the code that lands on chain: each deployed contract's code is as long as its artifact's deployedBytecode", async function () {
    const system = await loadFixture(normalFixture);
    const contracts = { AssetRegistry: system.assets, GrantRegistry: system.grants, TransactionLedger: system.ledger };
    for (const name of DEPLOYED) {
      const artifact = await hre.artifacts.readArtifact(name);
      const code = await hre.ethers.provider.getCode(await contracts[name].getAddress());
      expect(sizeOf(code), name).to.equal(sizeOf(artifact.deployedBytecode));
    }
  });

  it("the artifacts shipped with the Python package are within 24,576 bytes too", async function () {
    for (const name of DEPLOYED) {
      const artifact = JSON.parse(fs.readFileSync(path.join(SHIPPED_ARTIFACTS, `${name}.json`), "utf8"));
      const size = sizeOf(artifact.deployedBytecode);
      expect(size, name).to.be.greaterThan(0);
      expect(size, name).to.be.at.most(MAX_RUNTIME_CODE_SIZE);
    }
  });
});
