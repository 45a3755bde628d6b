// The project's hardhat configuration, with the chain id of web3.py's geth fixture (the string
// "web3py" as an integer), for which web3.py's conformance classes sign; and, like geth, a
// transaction that reverts is mined with status 0 instead of refused (the fixture sends two).
const path = require("path");
const config = require("../../../../hardhat.config.js");

module.exports = {
  ...config,
  paths: { ...config.paths, root: path.resolve(__dirname, "../../../..") },
  networks: {
    ...config.networks,
    hardhat: {
      ...config.networks.hardhat,
      chainId: 131277322940537,
      throwOnTransactionFailures: false,
    },
  },
};
