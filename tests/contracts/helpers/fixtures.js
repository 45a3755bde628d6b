// Shared deployment fixtures and helpers for the contract tests.
//
// Deployment order is the one production uses (chain/ does the same):
//   1. AssetRegistry(admin, config, predictedLedger, baseTokenURI), predictedLedger = CREATE
//      address of the deployer's nonce two transactions later
//   2. GrantRegistry(assets, predictedLedger)
//   3. TransactionLedger(assets, grants) — reverts WiringMismatch when the prediction was wrong.
const fs = require("node:fs");
const path = require("node:path");
const { ethers, network } = require("hardhat");
const { time } = require("@nomicfoundation/hardhat-network-helpers");

const Status = Object.freeze({
  None: 0,
  Pending: 1,
  Active: 2,
  Suspended: 3,
  Cancelled: 4,
  Rejected: 5,
  Disputed: 6,
  Expired: 7,
});
const Settlement = Object.freeze({ None: 0, Transfer: 1, Licence: 2 });
const Powers = Object.freeze({ USAGE: 1, TRADE: 2 });
const Lineage = Object.freeze({ None: 0, Version: 1, Derived: 2 });
const GrantStatus = Object.freeze({ None: 0, Active: 1, Revoked: 2 });
const Rights = Object.freeze({ HOLDING: 1, PROCESSING: 2, OPERATION: 4 });

const BASE_URI = "https://verify.dataseal.example/assets/";
const DAY = 24 * 60 * 60;
const UINT40_MAX = 2n ** 40n - 1n;
const UINT32_MAX = 2n ** 32n - 1n;
/** reserveFor of rejectRegistration / resolveDispute: free the root, reserve it for no one. */
const NO_RESERVATION = "0x0000000000000000000000000000000000000000";
/** AssetRegistry.RESERVATION_PERIOD: how long a root freed by a reviewer stays reserved. */
const RESERVATION_PERIOD = 30 * DAY;
/** AssetRegistry.CANCEL_COOLDOWN: how long a cancelled registration's root cools before anyone may register it. */
const CANCEL_COOLDOWN = 7 * DAY;
/** EIP-170: the largest runtime code a contract may deploy, in bytes. */
const MAX_RUNTIME_CODE_SIZE = 24_576;

/** A deterministic non-zero bytes32 for a label ("content:a", "manifest:a", ...). */
const h = (label) => ethers.id(label);

const CONTRACTS_DIR = path.join(__dirname, "..", "..", "..", "contracts");

/**
 * The EIP-712 type string written in the comment beside a typehash constant, e.g.
 * `keccak256("Grant(uint256 assetId,...)")`, and the ethers `types` object built from it.
 * Reading the comment (rather than repeating the string here) makes the typehash test fail
 * when the comment and the constant drift apart.
 */
function typeFromSource(file, primaryType) {
  const source = fs.readFileSync(path.join(CONTRACTS_DIR, file), "utf8");
  const match = source.match(new RegExp(`keccak256\\("(${primaryType}\\([^"]*\\))"\\)`));
  if (!match) {
    throw new Error(`no keccak256("${primaryType}(...)") comment in contracts/${file}`);
  }
  const typeString = match[1];
  const inner = typeString.slice(primaryType.length + 1, -1);
  const fields = inner.split(",").map((member) => {
    const [type, name] = member.trim().split(/\s+/);
    return { name, type };
  });
  return { typeString, types: { [primaryType]: fields } };
}

const REGISTER = typeFromSource("AssetRegistry.sol", "Register");
const GRANT = typeFromSource("GrantRegistry.sol", "Grant");
const TRADE = typeFromSource("TransactionLedger.sol", "Trade");

/** Notice period of the review fixture, and the commitment ages of the commit fixture. */
const NOTICE = 15 * DAY;
const MIN_COMMIT_AGE = 60;
const MAX_COMMIT_AGE = DAY;
const ADMIN_DELAY = 3 * DAY;

async function chainId() {
  return (await ethers.provider.getNetwork()).chainId;
}

/** The EIP-712 domain off-chain signers use for `contract`, with optional overrides. */
async function domainOf(contract, name, overrides = {}) {
  return {
    name,
    version: "2",
    chainId: await chainId(),
    verifyingContract: await contract.getAddress(),
    ...overrides,
  };
}

/**
 * Sign a registerBySig request; `request` holds every Register field (owner, the Registration
 * fields, deadline) except `nonce` unless given. validUntil defaults to 0.
 */
async function signRegister(signer, assets, request, domainOverrides = {}) {
  const nonce = request.nonce ?? (await assets.nonces(request.owner));
  const domain = await domainOf(assets, "dataseal AssetRegistry", domainOverrides);
  return signer.signTypedData(domain, REGISTER.types, { validUntil: 0n, ...request, nonce });
}

/** Sign trade terms as the buyer (`signer`); options.nonce and options.domain override. */
async function signTrade(signer, ledger, terms, deadline, options = {}) {
  const nonce = options.nonce ?? (await ledger.nonces(signer.address));
  const domain = await domainOf(ledger, "dataseal TransactionLedger", options.domain ?? {});
  return signer.signTypedData(domain, TRADE.types, { ...terms, nonce, deadline });
}

/** Trade terms with zero licence fields (a transfer), overridable. */
function transferTerms(assetId, seller, buyer, overrides = {}) {
  return {
    assetId,
    seller,
    buyer,
    price: 1_000_00n,
    currency: ethers.encodeBytes32String("CNY"),
    settlementHash: h(`settlement:${assetId}:${buyer}`),
    settlement: Settlement.Transfer,
    purpose: ethers.ZeroHash,
    validFrom: 0n,
    expiresAt: 0n,
    quota: 0n,
    scopeRoot: ethers.ZeroHash,
    ...overrides,
  };
}

/**
 * Trade terms of a licence sale: the buyer's grant runs from `validFrom` for 30 days, quota 100,
 * with a purpose and a scope; overridable.
 */
function licenceTerms(assetId, seller, buyer, validFrom, overrides = {}) {
  return transferTerms(assetId, seller, buyer, {
    settlementHash: h(`settlement:licence:${assetId}:${buyer}`),
    settlement: Settlement.Licence,
    purpose: h("purpose:licence"),
    validFrom: BigInt(validFrom),
    expiresAt: BigInt(validFrom) + BigInt(30 * DAY),
    quota: 100n,
    scopeRoot: h("scope:licence"),
    ...overrides,
  });
}

/** A Registration struct for `label` (content:label, manifest:label), overridable. */
function registration(label, overrides = {}) {
  return {
    contentRoot: h(`content:${label}`),
    manifestHash: h(`manifest:${label}`),
    rightsType: Rights.HOLDING | Rights.PROCESSING,
    classification: 1,
    parentId: 0n,
    validUntil: 0n,
    ...overrides,
  };
}

/** Sign grant terms for grantBySig as `signer` (which must be the asset's current owner). */
async function signGrant(signer, grants, terms, deadline, options = {}) {
  const nonce = options.nonce ?? (await grants.nonces(signer.address));
  const domain = await domainOf(grants, "dataseal GrantRegistry", options.domain ?? {});
  return signer.signTypedData(domain, GRANT.types, { ...terms, nonce, deadline });
}

/**
 * Deploy the three contracts in production order. `config` is the AssetRegistry's
 * {adminDelay, noticePeriod, minCommitAge, maxCommitAge} (each defaulting to 0, adminDelay to ADMIN_DELAY).
 */
async function deploySystem({ config = {}, baseURI }) {
  const [deployer, admin, reviewer, alice, bob, carol, dave, relayer, eve] = await ethers.getSigners();
  const fullConfig = { adminDelay: ADMIN_DELAY, noticePeriod: 0, minCommitAge: 0, maxCommitAge: 0, ...config };

  const deployerNonce = await ethers.provider.getTransactionCount(deployer.address);
  const predictedLedger = ethers.getCreateAddress({ from: deployer.address, nonce: deployerNonce + 2 });
  const assets = await ethers.deployContract(
    "AssetRegistry",
    [admin.address, fullConfig, predictedLedger, baseURI],
    deployer,
  );
  await assets.waitForDeployment();

  const grants = await ethers.deployContract("GrantRegistry", [await assets.getAddress(), predictedLedger], deployer);
  await grants.waitForDeployment();

  const ledger = await ethers.deployContract(
    "TransactionLedger",
    [await assets.getAddress(), await grants.getAddress()],
    deployer,
  );
  await ledger.waitForDeployment();

  const REVIEWER_ROLE = await assets.REVIEWER_ROLE();
  await assets.connect(admin).grantRole(REVIEWER_ROLE, reviewer.address);

  return {
    assets,
    grants,
    ledger,
    predictedLedger,
    config: fullConfig,
    REVIEWER_ROLE,
    deployer,
    admin,
    reviewer,
    alice,
    bob,
    carol,
    dave,
    relayer,
    eve,
  };
}

/** Normal mode: registrations are active at once; tokenURI has a base URI; no commitments. */
async function normalFixture() {
  return deploySystem({ baseURI: BASE_URI });
}

/** Review mode: a NOTICE-second public notice after each registration; no base URI. */
async function reviewFixture() {
  return deploySystem({ config: { noticePeriod: NOTICE }, baseURI: "" });
}

/** Commitments required (MIN_COMMIT_AGE to MAX_COMMIT_AGE), no review. */
async function commitFixture() {
  return deploySystem({
    config: { minCommitAge: MIN_COMMIT_AGE, maxCommitAge: MAX_COMMIT_AGE },
    baseURI: BASE_URI,
  });
}

/** Commitments required (MIN_COMMIT_AGE to MAX_COMMIT_AGE) and a NOTICE-second public notice. */
async function reviewCommitFixture() {
  return deploySystem({
    config: { noticePeriod: NOTICE, minCommitAge: MIN_COMMIT_AGE, maxCommitAge: MAX_COMMIT_AGE },
    baseURI: "",
  });
}

/** Register `label`'s asset as `signer` and return its id. */
async function registerAsset(assets, signer, label, options = {}) {
  const contentRoot = h(`content:${label}`);
  const manifestHash = h(`manifest:${label}`);
  const request = registration(label, {
    contentRoot,
    manifestHash,
    rightsType: options.rightsType ?? Rights.HOLDING | Rights.PROCESSING,
    classification: options.classification ?? 1,
    parentId: options.parentId ?? 0n,
    validUntil: options.validUntil ?? 0n,
  });
  await assets.connect(signer).register(request, options.salt ?? ethers.ZeroHash);
  return assets.assetIdOf(contentRoot);
}

/** Normal mode with alice's asset 1 and grant 1 of it to bob: open now, 30 days, quota 10. */
async function grantFixture() {
  const system = await normalFixture();
  const { assets, grants, alice, bob } = system;
  const assetId = await registerAsset(assets, alice, "dataset-a");
  const now = BigInt(await time.latest());
  const terms = {
    assetId,
    grantee: bob.address,
    purpose: h("purpose:credit-scoring model training"),
    validFrom: now,
    expiresAt: now + BigInt(30 * DAY),
    quota: 10n,
    scopeRoot: h("scope:rows 1-1000"),
  };
  await grants
    .connect(alice)
    .grant(terms.assetId, terms.grantee, terms.purpose, terms.validFrom, terms.expiresAt, terms.quota, terms.scopeRoot);
  return { ...system, assetId, terms, grantId: 1n };
}

/** Timestamp of the block that mined `tx`. */
async function blockTimeOf(tx) {
  const receipt = await tx.wait();
  return BigInt((await ethers.provider.getBlock(receipt.blockNumber)).timestamp);
}

/** Fix the next block's timestamp (seconds from the latest block) and return it. */
async function nextBlockAt(secondsAhead = 10) {
  const t = BigInt(await time.latest()) + BigInt(secondsAhead);
  await time.setNextBlockTimestamp(t);
  return t;
}

/**
 * The storage slot of `address` (among the first `limit`) holding exactly `value`; fails unless
 * exactly one matches. Used to reach the id-space guards (2**32 ids) without 2**32 transactions.
 */
async function findSlot(address, value, limit = 64) {
  const wanted = ethers.toBeHex(value, 32);
  const hits = [];
  for (let slot = 0; slot < limit; slot += 1) {
    if ((await ethers.provider.getStorage(address, slot)) === wanted) {
      hits.push(slot);
    }
  }
  if (hits.length !== 1) {
    throw new Error(`expected one slot holding ${wanted}, found ${hits.length}: ${hits}`);
  }
  return hits[0];
}

/**
 * Deploy a 16-byte contract that answers every call with `magic` (a bytes4, left-aligned in one
 * word). With 0x1626ba7e it is an ERC-1271 wallet that accepts any signature; with 0x150b7a02 an
 * ERC-721 receiver. Hand-assembled because hardhat compiles only contracts/ (no test mocks there).
 *   runtime: PUSH4 magic PUSH1 0xe0 SHL PUSH1 0 MSTORE PUSH1 0x20 PUSH1 0 RETURN
 *   init:    PUSH1 16 PUSH1 12 PUSH1 0 CODECOPY PUSH1 16 PUSH1 0 RETURN
 */
async function deployMagicContract(signer, magic) {
  const hex = ethers.hexlify(magic).slice(2);
  if (hex.length !== 8) {
    throw new Error(`magic must be 4 bytes, got ${magic}`);
  }
  const runtime = `63${hex}60e01b60005260206000f3`;
  const init = `0x6010600c60003960106000f3${runtime}`;
  const tx = await signer.sendTransaction({ data: init });
  const receipt = await tx.wait();
  return receipt.contractAddress;
}

/**
 * Run `fn` with automine off: transactions wait in the mempool (ordered by tip when mined)
 * until the test mines them with `evm_mine`. Automine is back on afterwards, even on failure.
 */
async function withoutAutomine(fn) {
  await network.provider.send("evm_setAutomine", [false]);
  try {
    return await fn();
  } finally {
    await network.provider.send("evm_setAutomine", [true]);
  }
}

/**
 * Run `fn(signer)` as the deployed TransactionLedger (impersonated and funded on the hardhat
 * network), to reach the registries' ledger-only paths behind the ledger's own checks.
 */
async function asLedger(ledger, fn) {
  const address = await ledger.getAddress();
  await network.provider.send("hardhat_impersonateAccount", [address]);
  await network.provider.send("hardhat_setBalance", [address, ethers.toQuantity(ethers.parseEther("1"))]);
  try {
    return await fn(await ethers.getSigner(address));
  } finally {
    await network.provider.send("hardhat_stopImpersonatingAccount", [address]);
  }
}

/** With automine off: mine the waiting transactions in one block at timestamp `t`. */
async function mineAt(t) {
  await time.setNextBlockTimestamp(t);
  await network.provider.send("evm_mine");
}

/** The receipts of the transactions `txs` (mined), in that order. */
async function receiptsOf(txs) {
  return Promise.all(txs.map((tx) => ethers.provider.getTransactionReceipt(tx.hash)));
}

/**
 * The calls to `contract` waiting in the mempool, decoded as a watcher would decode them from
 * the pending block: [{hash, from, name, args}].
 */
async function pendingCalls(contract) {
  const block = await network.provider.send("eth_getBlockByNumber", ["pending", true]);
  const address = (await contract.getAddress()).toLowerCase();
  return block.transactions
    .filter((tx) => tx.to !== null && tx.to.toLowerCase() === address)
    .map((tx) => {
      const parsed = contract.interface.parseTransaction({ data: tx.input });
      return { hash: tx.hash, from: ethers.getAddress(tx.from), name: parsed.name, args: parsed.args };
    });
}

/**
 * The custom error a mined, failed transaction reverted with, decoded with `contract`'s ABI:
 * {name, args}. Throws when the transaction succeeded.
 */
async function revertOf(contract, hash) {
  const receipt = await ethers.provider.getTransactionReceipt(hash);
  if (receipt.status !== 0) {
    throw new Error(`transaction ${hash} did not revert`);
  }
  const trace = await network.provider.send("debug_traceTransaction", [
    hash,
    { disableStorage: true, disableMemory: true, disableStack: true },
  ]);
  const data = trace.returnValue.startsWith("0x") ? trace.returnValue : `0x${trace.returnValue}`;
  const error = contract.interface.parseError(data);
  return { name: error.name, args: [...error.args] };
}

const ERC1271_MAGIC = "0x1626ba7e";
const ERC721_RECEIVED = "0x150b7a02";

module.exports = {
  Status,
  Settlement,
  Powers,
  NOTICE,
  MIN_COMMIT_AGE,
  MAX_COMMIT_AGE,
  ADMIN_DELAY,
  TRADE,
  signTrade,
  transferTerms,
  licenceTerms,
  registration,
  commitFixture,
  reviewCommitFixture,
  deploySystem,
  Lineage,
  GrantStatus,
  Rights,
  BASE_URI,
  DAY,
  UINT40_MAX,
  UINT32_MAX,
  NO_RESERVATION,
  RESERVATION_PERIOD,
  CANCEL_COOLDOWN,
  MAX_RUNTIME_CODE_SIZE,
  REGISTER,
  GRANT,
  ERC1271_MAGIC,
  ERC721_RECEIVED,
  h,
  chainId,
  domainOf,
  signRegister,
  signGrant,
  normalFixture,
  reviewFixture,
  grantFixture,
  registerAsset,
  blockTimeOf,
  nextBlockAt,
  findSlot,
  deployMagicContract,
  withoutAutomine,
  mineAt,
  receiptsOf,
  asLedger,
  pendingCalls,
  revertOf,
};
