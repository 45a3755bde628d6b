// A client nobody here wrote talks to `dataseal node`: hardhat (ethers v6 through
// hardhat-ethers), run by tests/chain/node/test_start.py as
//
//   DATASEAL_RPC_URL=http://127.0.0.1:<port> DATASEAL_TEST_KEY=0x... \
//     node node_modules/.bin/hardhat run --no-compile --network dataseal tests/chain/node/hardhat_client.js
//
// It deploys the three contracts from the committed artifacts, wired as dataseal deploys them (the
// registries name the ledger, whose address is predicted from the deployer's nonce), calls the registry the node deployed
// (DATASEAL_ASSET_REGISTRY), sends a value transfer, estimates gas, reads logs, and provokes a
// revert with a custom error. It prints one JSON line of what it saw; the Python test checks it.
// Any unexpected failure exits non-zero with the error on stderr.
const fs = require("node:fs");
const path = require("node:path");
const { ethers, network } = require("hardhat");

function artifact(name) {
  const file = path.join(__dirname, "..", "..", "..", "dataseal", "chain", "contracts", "artifacts", `${name}.json`);
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

async function expectCustomError(promise, contract) {
  try {
    await promise;
  } catch (error) {
    const data = error.data ?? error.info?.error?.data ?? error.error?.data;
    const decoded = error.revert ?? (data ? contract.interface.parseError(data) : null);
    return {
      code: error.code,
      name: decoded ? decoded.name : null,
      args: decoded ? decoded.args.map((a) => a.toString()) : [],
    };
  }
  throw new Error("expected a revert, the call succeeded");
}

async function main() {
  const provider = ethers.provider;
  const wallet = new ethers.Wallet(process.env.DATASEAL_TEST_KEY, provider);
  const seen = { network: network.name };

  const net = await provider.getNetwork();
  seen.chainId = net.chainId.toString();
  seen.accounts = await provider.send("eth_accounts", []);
  seen.startBalance = (await provider.getBalance(wallet.address)).toString();

  const fees = await provider.getFeeData();
  seen.eip1559 = fees.maxFeePerGas !== null && fees.maxPriorityFeePerGas !== null;

  // Deploy the three contracts from the committed artifacts (no compile needed), in dataseal's order:
  // AssetRegistry(admin, config, ledger, uri) with the ledger predicted two transactions ahead,
  // GrantRegistry(assets, ledger), TransactionLedger(assets, grants), which checks that wiring.
  const nonce = await provider.getTransactionCount(wallet.address, "pending");
  const predictedLedger = ethers.getCreateAddress({ from: wallet.address, nonce: nonce + 2 });
  const config = { adminDelay: 86400, noticePeriod: 0, minCommitAge: 0, maxCommitAge: 0 };
  const { abi, bytecode } = artifact("AssetRegistry");
  const factory = new ethers.ContractFactory(abi, bytecode, wallet);
  const fresh = await factory.deploy(wallet.address, config, predictedLedger, "https://example.test/", { nonce });
  const deployTx = fresh.deploymentTransaction();
  const deployReceipt = await deployTx.wait();
  seen.deployed = await fresh.getAddress();
  const grantsArtifact = artifact("GrantRegistry");
  const grants = await new ethers.ContractFactory(grantsArtifact.abi, grantsArtifact.bytecode, wallet)
    .deploy(seen.deployed, predictedLedger, { nonce: nonce + 1 });
  await grants.waitForDeployment();
  const ledgerArtifact = artifact("TransactionLedger");
  const ledger = await new ethers.ContractFactory(ledgerArtifact.abi, ledgerArtifact.bytecode, wallet)
    .deploy(seen.deployed, await grants.getAddress(), { nonce: nonce + 2 });
  await ledger.waitForDeployment();
  seen.deployReceipt = {
    to: deployReceipt.to,
    contractAddress: deployReceipt.contractAddress,
    status: deployReceipt.status,
    type: deployTx.type,
  };
  seen.deployedCodeBytes = ((await provider.getCode(seen.deployed)).length - 2) / 2;
  seen.wiring = {
    predictedLedger,
    ledger: await ledger.getAddress(),
    registryLedger: await fresh.ledger(),
    grantsLedger: await grants.ledger(),
    ledgerAssets: await ledger.assets(),
    ledgerGrants: await ledger.grants(),
    grants: await grants.getAddress(),
    reviewMode: await fresh.reviewMode(),
    commitRequired: await fresh.commitRequired(),
  };

  // The registry the node deployed at its first start.
  const registry = new ethers.Contract(process.env.DATASEAL_ASSET_REGISTRY, abi, wallet);
  const root = ethers.id(`hardhat-client:${Date.now()}:${Math.random()}`);
  const manifest = ethers.id("manifest");
  const registration = { contentRoot: root, manifestHash: manifest, rightsType: 1, classification: 0, parentId: 0, validUntil: 0 };
  const salt = ethers.ZeroHash; // the node's registry requires no commitment
  seen.estimate = (await registry.register.estimateGas(registration, salt)).toString();
  const fromBlock = await provider.getBlockNumber();
  const tx = await registry.register(registration, salt);
  const receipt = await tx.wait();
  seen.register = {
    status: receipt.status,
    gasUsed: receipt.gasUsed.toString(),
    type: tx.type,
    events: receipt.logs.map((log) => registry.interface.parseLog(log)?.name ?? null),
  };
  const assetId = receipt.logs
    .map((log) => registry.interface.parseLog(log))
    .find((event) => event && event.name === "AssetRegistered").args.assetId;
  seen.assetId = assetId.toString();
  const record = await registry.assetOf(assetId);
  seen.assetIdOfRoot = (await registry.assetIdOf(root)).toString();
  seen.recordRoot = record.contentRoot;
  seen.recordStatus = record.status.toString();
  seen.root = root;

  // Logs through eth_getLogs, filtered by event and indexed argument.
  const events = await registry.queryFilter(registry.filters.AssetRegistered(assetId), fromBlock, "latest");
  seen.logs = events.map((e) => ({ name: e.eventName, assetId: e.args.assetId.toString(), removed: e.removed }));

  // A repeat of the same content root reverts with the custom error, on eth_call and on send.
  seen.staticRevert = await expectCustomError(registry.register.staticCall(registration, salt), registry);
  seen.sendRevert = await expectCustomError(registry.register(registration, salt), registry);

  // A plain value transfer.
  const other = ethers.Wallet.createRandom().address;
  const transfer = await wallet.sendTransaction({ to: other, value: ethers.parseEther("1.5") });
  const transferReceipt = await transfer.wait();
  seen.transfer = {
    status: transferReceipt.status,
    gasUsed: transferReceipt.gasUsed.toString(),
    balance: (await provider.getBalance(other)).toString(),
  };
  const block = await provider.getBlock(transferReceipt.blockNumber, true);
  seen.block = {
    number: block.number,
    hasTransfer: block.prefetchedTransactions.some((t) => t.hash === transfer.hash),
    baseFeePerGas: block.baseFeePerGas !== null,
  };
  const fetched = await provider.getTransaction(transfer.hash);
  seen.fetchedTransfer = { from: fetched.from, to: fetched.to, value: fetched.value.toString() };

  console.log(JSON.stringify(seen));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
