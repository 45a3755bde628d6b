// Hardhat v2 configuration for dataseal's contracts.
//
// The compiler is the npm package solc@0.8.30 (soljson.js): hardhat would otherwise try to
// download a native solc (HH502 on a machine without internet). The subtask override below
// hands hardhat the local solcjs build, so compiling works offline on a fresh clone.
require("@nomicfoundation/hardhat-toolbox");
const { subtask } = require("hardhat/config");
const { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } = require("hardhat/builtin-tasks/task-names");

const SOLC_VERSION = "0.8.30";

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args, hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) {
    return runSuper();
  }
  const solc = require("solc");
  return {
    compilerPath: require.resolve("solc/soljson.js"),
    isSolcJs: true,
    version: args.solcVersion,
    longVersion: solc.version().replace(".Emscripten.clang", ""),
  };
});

/** @type import('hardhat/config').HardhatUserConfig */
module.exports = {
  solidity: {
    compilers: [
      {
        version: SOLC_VERSION,
        settings: {
          // py-evm (the embedded chain) implements Prague; hardhat 2.29 runs Osaka, which is a
          // superset. Compiling for Prague keeps one bytecode valid on both.
          evmVersion: "prague",
          optimizer: { enabled: true, runs: 10000 },
          viaIR: false,
        },
      },
    ],
    overrides: {
      // The registry's runtime code must stay under EIP-170's 24,576 bytes: fewer optimizer runs
      // trade a little gas for size.
      "contracts/AssetRegistry.sol": {
        version: SOLC_VERSION,
        settings: { evmVersion: "prague", optimizer: { enabled: true, runs: 2000 }, viaIR: false },
      },
    },
  },
  paths: {
    sources: "./contracts",
    tests: "./tests/contracts",
    cache: "./.hardhat/cache",
    artifacts: "./.hardhat/artifacts",
  },
  networks: {
    hardhat: {},
    localhost: { url: "http://127.0.0.1:8545" },
    dataseal: { url: process.env.DATASEAL_RPC_URL || "http://127.0.0.1:8545" },
  },
  gasReporter: { enabled: false },
  mocha: { timeout: 120000 },
};
