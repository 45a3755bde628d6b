// TransactionLedger: deployment wiring, usage records (metered by GrantRegistry.consume), batched
// usage, operator powers, and two-sided trades (the buyer's EIP-712 countersignature) settled
// on chain: the token moves to the buyer, or a licence grant is created for it.
const { expect } = require("chai");
const { ethers } = require("hardhat");
const { loadFixture, time } = require("@nomicfoundation/hardhat-network-helpers");
const {
  Status,
  GrantStatus,
  Settlement,
  Powers,
  TRADE,
  DAY,
  NOTICE,
  ADMIN_DELAY,
  ERC1271_MAGIC,
  ERC721_RECEIVED,
  h,
  chainId,
  signTrade,
  transferTerms,
  licenceTerms,
  normalFixture,
  reviewFixture,
  grantFixture,
  registerAsset,
  nextBlockAt,
  deployMagicContract,
} = require("./helpers/fixtures");

const RECEIPT = h("receipt:job-1");
const RECEIPTS_ROOT = h("receipts-root:batch-1");
const REASON = h("reason");
const UINT32_MAX = 2n ** 32n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const PRICE = 1_000_00n;
const CNY = ethers.encodeBytes32String("CNY");

const grantArgs = (t) => [t.assetId, t.grantee, t.purpose, t.validFrom, t.expiresAt, t.quota, t.scopeRoot];

/** Normal mode: alice owns active asset 1; no grants; a countersignature deadline an hour ahead. */
async function tradeFixture() {
  const system = await normalFixture();
  const assetId = await registerAsset(system.assets, system.alice, "dataset-a");
  const now = BigInt(await time.latest());
  return { ...system, assetId, now, deadline: now + 3600n };
}

/** recordTrade's arguments: `terms`, `deadline` and `buyer`'s countersignature of them. */
async function countersigned(buyer, ledger, terms, deadline, options = {}) {
  return [terms, deadline, await signTrade(buyer, ledger, terms, deadline, options)];
}

/** The CREATE address `signer`'s transaction `ahead` transactions from now will deploy at. */
async function nextAddress(signer, ahead = 0) {
  const nonce = await ethers.provider.getTransactionCount(signer.address);
  return ethers.getCreateAddress({ from: signer.address, nonce: nonce + ahead });
}

/** An AssetRegistry (normal mode) deployed by `deployer` naming `ledgerAddress` as its ledger. */
async function deployAssets(deployer, admin, ledgerAddress) {
  const config = { adminDelay: ADMIN_DELAY, noticePeriod: 0, minCommitAge: 0, maxCommitAge: 0 };
  const assets = await ethers.deployContract("AssetRegistry", [admin.address, config, ledgerAddress, ""], deployer);
  return assets.waitForDeployment();
}

async function deployGrants(deployer, assets, ledgerAddress) {
  const grants = await ethers.deployContract("GrantRegistry", [await assets.getAddress(), ledgerAddress], deployer);
  return grants.waitForDeployment();
}

describe("TransactionLedger", function () {
  describe("deployment", function () {
    it("links the asset and grant registries; USAGE = 1, TRADE = 2", async function () {
      const { assets, grants, ledger } = await loadFixture(normalFixture);
      expect(await ledger.assets()).to.equal(await assets.getAddress());
      expect(await ledger.grants()).to.equal(await grants.getAddress());
      expect(await ledger.totalTrades()).to.equal(0n);
      expect(await ledger.USAGE()).to.equal(BigInt(Powers.USAGE));
      expect(await ledger.TRADE()).to.equal(BigInt(Powers.TRADE));
    });

    it("TRADE_TYPEHASH is keccak256 of the type string in the comment beside it", async function () {
      const { ledger } = await loadFixture(normalFixture);
      expect(TRADE.typeString).to.equal(
        "Trade(uint256 assetId,address seller,address buyer,uint256 price,bytes32 currency,bytes32 settlementHash," +
          "uint8 settlement,bytes32 purpose,uint64 validFrom,uint64 expiresAt,uint64 quota,bytes32 scopeRoot," +
          "uint256 nonce,uint256 deadline)",
      );
      expect(ethers.TypedDataEncoder.from(TRADE.types).encodeType("Trade")).to.equal(TRADE.typeString);
      expect(await ledger.TRADE_TYPEHASH()).to.equal(ethers.keccak256(ethers.toUtf8Bytes(TRADE.typeString)));
    });

    it("publishes its domain (ERC-5267: dataseal TransactionLedger, version 2) and DOMAIN_SEPARATOR matching it", async function () {
      const { ledger } = await loadFixture(normalFixture);
      const domain = await ledger.eip712Domain();
      expect(domain.fields).to.equal("0x0f");
      expect(domain.name).to.equal("dataseal TransactionLedger");
      expect(domain.version).to.equal("2");
      expect(domain.chainId).to.equal(await chainId());
      expect(domain.verifyingContract).to.equal(await ledger.getAddress());
      expect(await ledger.DOMAIN_SEPARATOR()).to.equal(
        ethers.TypedDataEncoder.hashDomain({
          name: "dataseal TransactionLedger",
          version: "2",
          chainId: await chainId(),
          verifyingContract: await ledger.getAddress(),
        }),
      );
    });

    it("reverts WiringMismatch when the GrantRegistry was deployed for another ledger", async function () {
      const [deployer, admin] = await ethers.getSigners();
      const ledgerAddress = await nextAddress(deployer, 2);
      const assets = await deployAssets(deployer, admin, ledgerAddress);
      // Off by one: names the deployment after the ledger's.
      const wrong = await nextAddress(deployer, 2);
      const grants = await deployGrants(deployer, assets, wrong);
      const factory = await ethers.getContractFactory("TransactionLedger", deployer);
      expect(await nextAddress(deployer)).to.equal(ledgerAddress);
      await expect(factory.deploy(await assets.getAddress(), await grants.getAddress()))
        .to.be.revertedWithCustomError(factory, "WiringMismatch")
        .withArgs(await assets.getAddress(), await assets.getAddress(), wrong, ledgerAddress);
    });

    it("reverts WiringMismatch when the GrantRegistry refers to another asset registry", async function () {
      const [deployer, admin] = await ethers.getSigners();
      const ledgerAddress = await nextAddress(deployer, 3);
      const otherAssets = await deployAssets(deployer, admin, ledgerAddress);
      const assets = await deployAssets(deployer, admin, ledgerAddress);
      const grants = await deployGrants(deployer, otherAssets, ledgerAddress);
      const factory = await ethers.getContractFactory("TransactionLedger", deployer);
      expect(await nextAddress(deployer)).to.equal(ledgerAddress);
      await expect(factory.deploy(await assets.getAddress(), await grants.getAddress()))
        .to.be.revertedWithCustomError(factory, "WiringMismatch")
        .withArgs(await assets.getAddress(), await otherAssets.getAddress(), ledgerAddress, ledgerAddress);
    });

    it("reverts WiringMismatch when the AssetRegistry names another ledger", async function () {
      const [deployer, admin] = await ethers.getSigners();
      const ledgerAddress = await nextAddress(deployer, 2);
      const wrong = await nextAddress(deployer, 3);
      const assets = await deployAssets(deployer, admin, wrong);
      const grants = await deployGrants(deployer, assets, ledgerAddress);
      const factory = await ethers.getContractFactory("TransactionLedger", deployer);
      expect(await nextAddress(deployer)).to.equal(ledgerAddress);
      await expect(factory.deploy(await assets.getAddress(), await grants.getAddress()))
        .to.be.revertedWithCustomError(factory, "WiringMismatch")
        .withArgs(await assets.getAddress(), await assets.getAddress(), ledgerAddress, wrong);
    });

    it("reverts WiringMismatch when someone other than the predicted deployer deploys it; the predicted one succeeds", async function () {
      const [deployer, admin, , , , , , other] = await ethers.getSigners();
      const ledgerAddress = await nextAddress(deployer, 2);
      const assets = await deployAssets(deployer, admin, ledgerAddress);
      const grants = await deployGrants(deployer, assets, ledgerAddress);
      const factory = await ethers.getContractFactory("TransactionLedger", other);
      await expect(factory.deploy(await assets.getAddress(), await grants.getAddress()))
        .to.be.revertedWithCustomError(factory, "WiringMismatch")
        .withArgs(await assets.getAddress(), await assets.getAddress(), ledgerAddress, ledgerAddress);
      const ledger = await ethers.deployContract(
        "TransactionLedger",
        [await assets.getAddress(), await grants.getAddress()],
        deployer,
      );
      expect(await ledger.getAddress()).to.equal(ledgerAddress);
      expect(await ledger.assets()).to.equal(await assets.getAddress());
    });
  });

  describe("recordUsage", function () {
    it("records units under the grant with sequence numbers 1, 2, 3", async function () {
      const { grants, ledger, bob, grantId } = await loadFixture(grantFixture);
      expect(await ledger.connect(bob).recordUsage.staticCall(grantId, 2, RECEIPT)).to.equal(1n);
      for (const [sequence, units] of [[1n, 2n], [2n, 1n], [3n, 4n]]) {
        const receipt = h(`receipt:${sequence}`);
        await expect(ledger.connect(bob).recordUsage(grantId, units, receipt))
          .to.emit(ledger, "UsageRecorded")
          .withArgs(grantId, bob.address, units, sequence, receipt);
      }
      const g = await grants.grantOf(grantId);
      expect([g.used, g.sequence]).to.deep.equal([7n, 3n]);
      expect(await grants.remaining(grantId)).to.equal(3n);
    });

    it("numbers each grant's records separately", async function () {
      const { grants, ledger, alice, bob, carol, grantId, terms } = await loadFixture(grantFixture);
      await grants.connect(alice).grant(...grantArgs({ ...terms, grantee: carol.address }));
      await expect(ledger.connect(bob).recordUsage(grantId, 1, RECEIPT))
        .to.emit(ledger, "UsageRecorded")
        .withArgs(grantId, bob.address, 1n, 1n, RECEIPT);
      await expect(ledger.connect(carol).recordUsage(2, 1, RECEIPT))
        .to.emit(ledger, "UsageRecorded")
        .withArgs(2n, carol.address, 1n, 1n, RECEIPT);
      await expect(ledger.connect(bob).recordUsage(grantId, 1, RECEIPT))
        .to.emit(ledger, "UsageRecorded")
        .withArgs(grantId, bob.address, 1n, 2n, RECEIPT);
      await expect(ledger.connect(carol).recordUsage(2, 1, RECEIPT))
        .to.emit(ledger, "UsageRecorded")
        .withArgs(2n, carol.address, 1n, 2n, RECEIPT);
    });

    it("refuses a zero receipt hash", async function () {
      const { ledger, bob, grantId } = await loadFixture(grantFixture);
      await expect(ledger.connect(bob).recordUsage(grantId, 1, ethers.ZeroHash))
        .to.be.revertedWithCustomError(ledger, "InvalidRecordHash")
        .withArgs(ethers.ZeroHash);
    });

    it("refuses zero units", async function () {
      const { grants, ledger, bob, grantId } = await loadFixture(grantFixture);
      await expect(ledger.connect(bob).recordUsage(grantId, 0, RECEIPT))
        .to.be.revertedWithCustomError(grants, "InvalidUnits")
        .withArgs(grantId, 0n);
    });

    it("refuses anyone but the grantee or its operator (the asset owner included), leaving the meter untouched", async function () {
      const { grants, ledger, alice, bob, eve, grantId } = await loadFixture(grantFixture);
      for (const caller of [alice, eve]) {
        await expect(ledger.connect(caller).recordUsage(grantId, 1, RECEIPT))
          .to.be.revertedWithCustomError(ledger, "NotGranteeOrOperator")
          .withArgs(grantId, caller.address, bob.address);
      }
      const g = await grants.grantOf(grantId);
      expect([g.used, g.sequence]).to.deep.equal([0n, 0n]);
      await expect(ledger.connect(bob).recordUsage(grantId, 1, RECEIPT))
        .to.emit(ledger, "UsageRecorded")
        .withArgs(grantId, bob.address, 1n, 1n, RECEIPT);
    });

    it("refuses unknown grants", async function () {
      const { grants, ledger, bob } = await loadFixture(grantFixture);
      for (const id of [0n, 2n]) {
        await expect(ledger.connect(bob).recordUsage(id, 1, RECEIPT))
          .to.be.revertedWithCustomError(grants, "UnknownGrant")
          .withArgs(id);
      }
    });

    it("refuses use before the window opens and from its end on", async function () {
      const { grants, ledger, alice, bob, terms } = await loadFixture(grantFixture);
      const now = BigInt(await time.latest());
      const later = { ...terms, validFrom: now + BigInt(DAY), expiresAt: now + 2n * BigInt(DAY) };
      await grants.connect(alice).grant(...grantArgs(later));
      const t = await nextBlockAt(60);
      await expect(ledger.connect(bob).recordUsage(2, 1, RECEIPT))
        .to.be.revertedWithCustomError(grants, "GrantNotYetValid")
        .withArgs(2n, later.validFrom, t);

      await time.setNextBlockTimestamp(later.validFrom);
      await expect(ledger.connect(bob).recordUsage(2, 1, RECEIPT))
        .to.emit(ledger, "UsageRecorded")
        .withArgs(2n, bob.address, 1n, 1n, RECEIPT);

      await time.setNextBlockTimestamp(later.expiresAt - 1n);
      await expect(ledger.connect(bob).recordUsage(2, 1, RECEIPT))
        .to.emit(ledger, "UsageRecorded")
        .withArgs(2n, bob.address, 1n, 2n, RECEIPT);

      await time.setNextBlockTimestamp(later.expiresAt);
      await expect(ledger.connect(bob).recordUsage(2, 1, RECEIPT))
        .to.be.revertedWithCustomError(grants, "GrantExpired")
        .withArgs(2n, later.expiresAt, later.expiresAt);
      await time.increaseTo(later.expiresAt + 1000n);
      const t2 = await nextBlockAt(1);
      await expect(ledger.connect(bob).recordUsageBatch(2, 3, RECEIPTS_ROOT, 3))
        .to.be.revertedWithCustomError(grants, "GrantExpired")
        .withArgs(2n, later.expiresAt, t2);
    });

    it("refuses a revoked grant", async function () {
      const { grants, ledger, alice, bob, grantId } = await loadFixture(grantFixture);
      await ledger.connect(bob).recordUsage(grantId, 1, RECEIPT);
      await grants.connect(alice).revoke(grantId, REASON);
      await expect(ledger.connect(bob).recordUsage(grantId, 1, RECEIPT))
        .to.be.revertedWithCustomError(grants, "GrantNotActive")
        .withArgs(grantId, GrantStatus.Revoked);
    });

    it("refuses units beyond the quota, reporting what remains", async function () {
      const { grants, ledger, bob, grantId } = await loadFixture(grantFixture);
      await expect(ledger.connect(bob).recordUsage(grantId, 11, RECEIPT))
        .to.be.revertedWithCustomError(grants, "QuotaExceeded")
        .withArgs(grantId, 11n, 10n);
      await ledger.connect(bob).recordUsage(grantId, 7, RECEIPT);
      await expect(ledger.connect(bob).recordUsage(grantId, 4, RECEIPT))
        .to.be.revertedWithCustomError(grants, "QuotaExceeded")
        .withArgs(grantId, 4n, 3n);
      await expect(ledger.connect(bob).recordUsage(grantId, 3, RECEIPT))
        .to.emit(ledger, "UsageRecorded")
        .withArgs(grantId, bob.address, 3n, 2n, RECEIPT);
      await expect(ledger.connect(bob).recordUsage(grantId, 1, RECEIPT))
        .to.be.revertedWithCustomError(grants, "QuotaExceeded")
        .withArgs(grantId, 1n, 0n);
      await expect(ledger.connect(bob).recordUsage(grantId, UINT64_MAX, RECEIPT))
        .to.be.revertedWithCustomError(grants, "QuotaExceeded")
        .withArgs(grantId, UINT64_MAX, 0n);
    });

    it("meters up to the largest quota", async function () {
      const { grants, ledger, alice, bob, terms } = await loadFixture(grantFixture);
      await grants.connect(alice).grant(...grantArgs({ ...terms, quota: UINT64_MAX }));
      await ledger.connect(bob).recordUsage(2, UINT64_MAX - 1n, RECEIPT);
      await expect(ledger.connect(bob).recordUsage(2, 1, RECEIPT))
        .to.emit(ledger, "UsageRecorded")
        .withArgs(2n, bob.address, 1n, 2n, RECEIPT);
      expect(await grants.remaining(2)).to.equal(0n);
    });

    it("refuses use while the asset is suspended; reinstating restores it; cancelling ends it", async function () {
      const { assets, grants, ledger, alice, bob, reviewer, grantId, assetId } = await loadFixture(grantFixture);
      await assets.connect(reviewer).suspend(assetId, REASON);
      await expect(ledger.connect(bob).recordUsage(grantId, 1, RECEIPT))
        .to.be.revertedWithCustomError(grants, "AssetNotActive")
        .withArgs(assetId, Status.Suspended);
      await expect(ledger.connect(bob).recordUsageBatch(grantId, 1, RECEIPTS_ROOT, 1))
        .to.be.revertedWithCustomError(grants, "AssetNotActive")
        .withArgs(assetId, Status.Suspended);
      await assets.connect(reviewer).reinstate(assetId, REASON);
      await expect(ledger.connect(bob).recordUsage(grantId, 1, RECEIPT))
        .to.emit(ledger, "UsageRecorded")
        .withArgs(grantId, bob.address, 1n, 1n, RECEIPT);
      await assets.connect(alice).cancel(assetId, REASON);
      await expect(ledger.connect(bob).recordUsage(grantId, 1, RECEIPT))
        .to.be.revertedWithCustomError(grants, "AssetNotActive")
        .withArgs(assetId, Status.Cancelled);
    });

    it("a grant survives the asset's transfer: the grantee keeps using it until the new owner revokes", async function () {
      const { assets, grants, ledger, alice, bob, carol, grantId, assetId } = await loadFixture(grantFixture);
      await assets.connect(alice).transferFrom(alice.address, carol.address, assetId);
      await expect(ledger.connect(bob).recordUsage(grantId, 1, RECEIPT)).to.emit(ledger, "UsageRecorded");
      await grants.connect(carol).revoke(grantId, REASON);
      await expect(ledger.connect(bob).recordUsage(grantId, 1, RECEIPT))
        .to.be.revertedWithCustomError(grants, "GrantNotActive")
        .withArgs(grantId, GrantStatus.Revoked);
    });

    it("refuses use once the asset's certification expired (validUntil): AssetNotActive(Expired); renewal restores it", async function () {
      const { assets, grants, ledger, alice, bob } = await loadFixture(normalFixture);
      const validUntil = BigInt(await time.latest()) + BigInt(DAY);
      const assetId = await registerAsset(assets, alice, "expiring", { validUntil });
      await grants.connect(alice).grant(assetId, bob.address, h("purpose"), 0, validUntil + 30n * BigInt(DAY), 10, ethers.ZeroHash);
      await time.setNextBlockTimestamp(validUntil - 1n);
      await expect(ledger.connect(bob).recordUsage(1, 1, RECEIPT))
        .to.emit(ledger, "UsageRecorded")
        .withArgs(1n, bob.address, 1n, 1n, RECEIPT);
      await time.setNextBlockTimestamp(validUntil);
      await expect(ledger.connect(bob).recordUsage(1, 1, RECEIPT))
        .to.be.revertedWithCustomError(grants, "AssetNotActive")
        .withArgs(assetId, Status.Expired);
      await expect(ledger.connect(bob).recordUsageBatch(1, 2, RECEIPTS_ROOT, 2))
        .to.be.revertedWithCustomError(grants, "AssetNotActive")
        .withArgs(assetId, Status.Expired);
      expect(await grants.isUsable(1, validUntil)).to.equal(false);
      await assets.connect(alice).renew(assetId, validUntil + 10n * BigInt(DAY));
      await expect(ledger.connect(bob).recordUsage(1, 1, RECEIPT))
        .to.emit(ledger, "UsageRecorded")
        .withArgs(1n, bob.address, 1n, 2n, RECEIPT);
    });
  });

  describe("recordUsageBatch", function () {
    it("records a batch of receipts by root, sharing the grant's sequence with single records", async function () {
      const { grants, ledger, bob, grantId } = await loadFixture(grantFixture);
      await expect(ledger.connect(bob).recordUsage(grantId, 1, RECEIPT))
        .to.emit(ledger, "UsageRecorded")
        .withArgs(grantId, bob.address, 1n, 1n, RECEIPT);
      expect(await ledger.connect(bob).recordUsageBatch.staticCall(grantId, 5, RECEIPTS_ROOT, 5)).to.equal(2n);
      await expect(ledger.connect(bob).recordUsageBatch(grantId, 5, RECEIPTS_ROOT, 5))
        .to.emit(ledger, "UsageBatchRecorded")
        .withArgs(grantId, bob.address, 5n, 2n, RECEIPTS_ROOT, 5);
      const root2 = h("receipts-root:batch-2");
      await expect(ledger.connect(bob).recordUsageBatch(grantId, 3, root2, 2))
        .to.emit(ledger, "UsageBatchRecorded")
        .withArgs(grantId, bob.address, 3n, 3n, root2, 2);
      await expect(ledger.connect(bob).recordUsage(grantId, 1, RECEIPT))
        .to.emit(ledger, "UsageRecorded")
        .withArgs(grantId, bob.address, 1n, 4n, RECEIPT);
      const g = await grants.grantOf(grantId);
      expect([g.used, g.sequence]).to.deep.equal([10n, 4n]);
    });

    it("a batch of count receipts must consume at least count units: InvalidReceiptCount(count, units) for fewer units and for count 0", async function () {
      const { grants, ledger, bob, grantId } = await loadFixture(grantFixture);
      // On the old ledger a batch of 2**32-1 receipts could consume 1 unit.
      for (const [units, count] of [[2n, 3n], [1n, UINT32_MAX], [0n, 1n], [1n, 0n], [0n, 0n]]) {
        await expect(ledger.connect(bob).recordUsageBatch(grantId, units, RECEIPTS_ROOT, count))
          .to.be.revertedWithCustomError(ledger, "InvalidReceiptCount")
          .withArgs(count, units);
      }
      expect((await grants.grantOf(grantId)).used).to.equal(0n);
      await expect(ledger.connect(bob).recordUsageBatch(grantId, 3, RECEIPTS_ROOT, 3))
        .to.emit(ledger, "UsageBatchRecorded")
        .withArgs(grantId, bob.address, 3n, 1n, RECEIPTS_ROOT, 3);
    });

    it("accepts the largest count, 2**32-1 receipts, with as many units", async function () {
      const { grants, ledger, alice, bob, terms } = await loadFixture(grantFixture);
      await grants.connect(alice).grant(...grantArgs({ ...terms, quota: UINT64_MAX }));
      await expect(ledger.connect(bob).recordUsageBatch(2, UINT32_MAX, RECEIPTS_ROOT, UINT32_MAX))
        .to.emit(ledger, "UsageBatchRecorded")
        .withArgs(2n, bob.address, UINT32_MAX, 1n, RECEIPTS_ROOT, UINT32_MAX);
    });

    it("refuses a zero receipts root, an over-quota total and strangers", async function () {
      const { grants, ledger, bob, eve, grantId } = await loadFixture(grantFixture);
      await expect(ledger.connect(bob).recordUsageBatch(grantId, 2, ethers.ZeroHash, 2))
        .to.be.revertedWithCustomError(ledger, "InvalidRecordHash")
        .withArgs(ethers.ZeroHash);
      await expect(ledger.connect(bob).recordUsageBatch(grantId, 11, RECEIPTS_ROOT, 2))
        .to.be.revertedWithCustomError(grants, "QuotaExceeded")
        .withArgs(grantId, 11n, 10n);
      await expect(ledger.connect(eve).recordUsageBatch(grantId, 2, RECEIPTS_ROOT, 2))
        .to.be.revertedWithCustomError(ledger, "NotGranteeOrOperator")
        .withArgs(grantId, eve.address, bob.address);
    });
  });

  describe("operator powers (USAGE = 1, TRADE = 2)", function () {
    it("setOperator emits OperatorSet with the powers; operatorPowers reflects them, per account", async function () {
      const { ledger, bob, carol } = await loadFixture(grantFixture);
      expect(await ledger.operatorPowers(bob.address, carol.address)).to.equal(0n);
      for (const powers of [Powers.USAGE, Powers.TRADE, Powers.USAGE | Powers.TRADE, 0]) {
        await expect(ledger.connect(bob).setOperator(carol.address, powers))
          .to.emit(ledger, "OperatorSet")
          .withArgs(bob.address, carol.address, powers);
        expect(await ledger.operatorPowers(bob.address, carol.address)).to.equal(BigInt(powers));
        expect(await ledger.operatorPowers(carol.address, bob.address)).to.equal(0n);
      }
    });

    it("refuses invalid powers and the zero or own address: InvalidOperator(operator, powers)", async function () {
      const { ledger, bob, carol } = await loadFixture(grantFixture);
      const cases = [
        [carol.address, 4],
        [carol.address, 7],
        [carol.address, 255],
        [ethers.ZeroAddress, Powers.USAGE],
        [ethers.ZeroAddress, 0],
        [bob.address, Powers.TRADE],
        [bob.address, 0],
      ];
      for (const [operator, powers] of cases) {
        await expect(ledger.connect(bob).setOperator(operator, powers))
          .to.be.revertedWithCustomError(ledger, "InvalidOperator")
          .withArgs(operator, powers);
      }
      expect(await ledger.operatorPowers(bob.address, carol.address)).to.equal(0n);
    });

    it("a USAGE operator records usage for the grantee (as recorder) but cannot record the grantee's trades: NotSellerOrOperator", async function () {
      const { grants, ledger, assets, bob, carol, dave, grantId } = await loadFixture(grantFixture);
      await ledger.connect(bob).setOperator(carol.address, Powers.USAGE);
      await expect(ledger.connect(carol).recordUsage(grantId, 2, RECEIPT))
        .to.emit(ledger, "UsageRecorded")
        .withArgs(grantId, carol.address, 2n, 1n, RECEIPT);
      await expect(ledger.connect(carol).recordUsageBatch(grantId, 3, RECEIPTS_ROOT, 3))
        .to.emit(ledger, "UsageBatchRecorded")
        .withArgs(grantId, carol.address, 3n, 2n, RECEIPTS_ROOT, 3);
      expect((await grants.grantOf(grantId)).used).to.equal(5n);

      // bob owns an asset of his own; his USAGE operator cannot sell it.
      const bobsAsset = await registerAsset(assets, bob, "bobs");
      const deadline = BigInt(await time.latest()) + 3600n;
      const terms = transferTerms(bobsAsset, bob.address, dave.address);
      await expect(ledger.connect(carol).recordTrade(...(await countersigned(dave, ledger, terms, deadline))))
        .to.be.revertedWithCustomError(ledger, "NotSellerOrOperator")
        .withArgs(bobsAsset, carol.address, bob.address);
      expect(await assets.ownerOf(bobsAsset)).to.equal(bob.address);
    });

    it("a TRADE operator records the seller's trades (as recorder; a transfer now needs the token's approval too) but cannot record its usage: NotGranteeOrOperator", async function () {
      const { assets, grants, ledger, bob, carol, dave, grantId } = await loadFixture(grantFixture);
      const bobsAsset = await registerAsset(assets, bob, "bobs");
      await ledger.connect(bob).setOperator(carol.address, Powers.TRADE);
      const deadline = BigInt(await time.latest()) + 3600n;
      const terms = transferTerms(bobsAsset, bob.address, dave.address);
      await assets.connect(bob).approve(carol.address, bobsAsset);
      await expect(ledger.connect(carol).recordTrade(...(await countersigned(dave, ledger, terms, deadline))))
        .to.emit(ledger, "TradeRecorded")
        .withArgs(1n, bobsAsset, bob.address, dave.address, terms.price, terms.currency, terms.settlementHash, Settlement.Transfer, 0n, carol.address);
      await expect(ledger.connect(carol).recordUsage(grantId, 1, RECEIPT))
        .to.be.revertedWithCustomError(ledger, "NotGranteeOrOperator")
        .withArgs(grantId, carol.address, bob.address);
      await expect(ledger.connect(carol).recordUsageBatch(grantId, 1, RECEIPTS_ROOT, 1))
        .to.be.revertedWithCustomError(ledger, "NotGranteeOrOperator")
        .withArgs(grantId, carol.address, bob.address);
      expect((await grants.grantOf(grantId)).used).to.equal(0n);
    });

    it("each power is revocable: removing TRADE from USAGE|TRADE keeps usage; setting 0 removes usage too", async function () {
      const { assets, ledger, bob, carol, dave, grantId } = await loadFixture(grantFixture);
      const bobsAsset = await registerAsset(assets, bob, "bobs");
      const deadline = BigInt(await time.latest()) + 3600n;
      const terms = transferTerms(bobsAsset, bob.address, dave.address);
      await ledger.connect(bob).setOperator(carol.address, Powers.USAGE | Powers.TRADE);
      await expect(ledger.connect(carol).recordUsage(grantId, 1, RECEIPT)).to.emit(ledger, "UsageRecorded");

      await ledger.connect(bob).setOperator(carol.address, Powers.USAGE);
      await expect(ledger.connect(carol).recordTrade(...(await countersigned(dave, ledger, terms, deadline))))
        .to.be.revertedWithCustomError(ledger, "NotSellerOrOperator")
        .withArgs(bobsAsset, carol.address, bob.address);
      await expect(ledger.connect(carol).recordUsage(grantId, 1, RECEIPT))
        .to.emit(ledger, "UsageRecorded")
        .withArgs(grantId, carol.address, 1n, 2n, RECEIPT);

      await ledger.connect(bob).setOperator(carol.address, 0);
      await expect(ledger.connect(carol).recordUsage(grantId, 1, RECEIPT))
        .to.be.revertedWithCustomError(ledger, "NotGranteeOrOperator")
        .withArgs(grantId, carol.address, bob.address);

      // And the other way round: TRADE alone, then removed.
      await ledger.connect(bob).setOperator(carol.address, Powers.TRADE);
      await ledger.connect(bob).setOperator(carol.address, 0);
      await expect(ledger.connect(carol).recordTrade(...(await countersigned(dave, ledger, terms, deadline))))
        .to.be.revertedWithCustomError(ledger, "NotSellerOrOperator")
        .withArgs(bobsAsset, carol.address, bob.address);
    });

    it("an operator of someone else is no operator of the grantee or of the seller", async function () {
      const { ledger, alice, bob, carol, dave, assetId, grantId } = await loadFixture(grantFixture);
      await ledger.connect(dave).setOperator(carol.address, Powers.USAGE | Powers.TRADE);
      await expect(ledger.connect(carol).recordUsage(grantId, 1, RECEIPT))
        .to.be.revertedWithCustomError(ledger, "NotGranteeOrOperator")
        .withArgs(grantId, carol.address, bob.address);
      const deadline = BigInt(await time.latest()) + 3600n;
      const terms = transferTerms(assetId, alice.address, bob.address);
      await expect(ledger.connect(carol).recordTrade(...(await countersigned(bob, ledger, terms, deadline))))
        .to.be.revertedWithCustomError(ledger, "NotSellerOrOperator")
        .withArgs(assetId, carol.address, alice.address);
    });
  });

  describe("recordTrade: the buyer's countersignature", function () {
    it("records a countersigned trade and moves the buyer's nonce only (not the seller's or the caller's)", async function () {
      const { ledger, alice, bob, assetId, deadline } = await loadFixture(tradeFixture);
      const terms = transferTerms(assetId, alice.address, bob.address);
      const args = await countersigned(bob, ledger, terms, deadline);
      expect(await ledger.connect(alice).recordTrade.staticCall(...args)).to.deep.equal([1n, 0n]);
      await expect(ledger.connect(alice).recordTrade(...args)).to.emit(ledger, "TradeRecorded");
      expect(await ledger.nonces(bob.address)).to.equal(1n);
      expect(await ledger.nonces(alice.address)).to.equal(0n);
      expect(await ledger.totalTrades()).to.equal(1n);
    });

    it("refuses a countersignature by anyone but the buyer (the seller included): InvalidSignature(buyer)", async function () {
      const { ledger, alice, bob, carol, eve, assetId, deadline } = await loadFixture(tradeFixture);
      const terms = transferTerms(assetId, alice.address, bob.address);
      for (const signer of [alice, carol, eve]) {
        const signature = await signTrade(signer, ledger, terms, deadline, { nonce: 0n });
        await expect(ledger.connect(alice).recordTrade(terms, deadline, signature))
          .to.be.revertedWithCustomError(ledger, "InvalidSignature")
          .withArgs(bob.address);
      }
      expect(await ledger.totalTrades()).to.equal(0n);
    });

    it("refuses terms changed after the buyer signed (every field and the deadline are signed)", async function () {
      const { assets, ledger, alice, bob, carol, now, assetId, deadline } = await loadFixture(tradeFixture);
      await registerAsset(assets, alice, "second");
      const terms = licenceTerms(assetId, alice.address, bob.address, now);
      const signature = await signTrade(bob, ledger, terms, deadline);
      const changes = [
        { assetId: 2n },
        { price: terms.price + 1n },
        { currency: ethers.encodeBytes32String("USD") },
        { settlementHash: h("settlement:other") },
        { purpose: h("purpose:other") },
        { validFrom: terms.validFrom + 1n },
        { expiresAt: terms.expiresAt + 1n },
        { quota: terms.quota + 1n },
        { scopeRoot: ethers.ZeroHash },
      ];
      for (const change of changes) {
        await expect(ledger.connect(alice).recordTrade({ ...terms, ...change }, deadline, signature))
          .to.be.revertedWithCustomError(ledger, "InvalidSignature")
          .withArgs(bob.address);
      }
      await expect(ledger.connect(alice).recordTrade(terms, deadline + 1n, signature))
        .to.be.revertedWithCustomError(ledger, "InvalidSignature")
        .withArgs(bob.address);
      // Another seller (recording itself), another buyer.
      await expect(ledger.connect(carol).recordTrade({ ...terms, seller: carol.address }, deadline, signature))
        .to.be.revertedWithCustomError(ledger, "InvalidSignature")
        .withArgs(bob.address);
      await expect(ledger.connect(alice).recordTrade({ ...terms, buyer: carol.address }, deadline, signature))
        .to.be.revertedWithCustomError(ledger, "InvalidSignature")
        .withArgs(carol.address);
      // The settlement kind: a signed transfer cannot be recorded as a licence sale.
      const transfer = transferTerms(assetId, alice.address, bob.address);
      const transferSig = await signTrade(bob, ledger, transfer, deadline);
      await expect(ledger.connect(alice).recordTrade({ ...transfer, settlement: Settlement.Licence }, deadline, transferSig))
        .to.be.revertedWithCustomError(ledger, "InvalidSignature")
        .withArgs(bob.address);
      await expect(ledger.connect(alice).recordTrade(terms, deadline, signature)).to.emit(ledger, "TradeRecorded");
    });

    it("refuses a countersignature for another chain, another contract, another domain name or version", async function () {
      const { grants, ledger, alice, bob, assetId, deadline } = await loadFixture(tradeFixture);
      const terms = transferTerms(assetId, alice.address, bob.address);
      const domains = [
        { chainId: 1n },
        { verifyingContract: await grants.getAddress() },
        { name: "dataseal GrantRegistry" },
        { version: "1" },
      ];
      for (const domain of domains) {
        const signature = await signTrade(bob, ledger, terms, deadline, { domain });
        await expect(ledger.connect(alice).recordTrade(terms, deadline, signature))
          .to.be.revertedWithCustomError(ledger, "InvalidSignature")
          .withArgs(bob.address);
      }
    });

    it("refuses a replayed countersignature (the buyer's nonce moved) and one made for a later nonce", async function () {
      const { ledger, alice, bob, now, assetId, deadline } = await loadFixture(tradeFixture);
      const terms = licenceTerms(assetId, alice.address, bob.address, now);
      const args = await countersigned(bob, ledger, terms, deadline);
      await expect(ledger.connect(alice).recordTrade(...args)).to.emit(ledger, "TradeRecorded");
      await expect(ledger.connect(alice).recordTrade(...args))
        .to.be.revertedWithCustomError(ledger, "InvalidSignature")
        .withArgs(bob.address);
      const ahead = await signTrade(bob, ledger, terms, deadline, { nonce: 2n });
      await expect(ledger.connect(alice).recordTrade(terms, deadline, ahead))
        .to.be.revertedWithCustomError(ledger, "InvalidSignature")
        .withArgs(bob.address);
      expect(await ledger.totalTrades()).to.equal(1n);
      expect(await ledger.nonces(bob.address)).to.equal(1n);
    });

    it("refuses an expired countersignature: SignatureExpired(deadline, timestamp); accepts one at its deadline", async function () {
      const { ledger, alice, bob, assetId, deadline } = await loadFixture(tradeFixture);
      const terms = transferTerms(assetId, alice.address, bob.address);
      const args = await countersigned(bob, ledger, terms, deadline);
      await time.setNextBlockTimestamp(deadline + 1n);
      await expect(ledger.connect(alice).recordTrade(...args))
        .to.be.revertedWithCustomError(ledger, "SignatureExpired")
        .withArgs(deadline, deadline + 1n);

      const fresh = await loadFixture(tradeFixture);
      const freshTerms = transferTerms(fresh.assetId, fresh.alice.address, fresh.bob.address);
      const freshArgs = await countersigned(fresh.bob, fresh.ledger, freshTerms, fresh.deadline);
      await time.setNextBlockTimestamp(fresh.deadline);
      await expect(fresh.ledger.connect(fresh.alice).recordTrade(...freshArgs)).to.emit(fresh.ledger, "TradeRecorded");
    });

    it("refuses malformed countersignatures", async function () {
      const { ledger, alice, bob, assetId, deadline } = await loadFixture(tradeFixture);
      const terms = transferTerms(assetId, alice.address, bob.address);
      const signature = await signTrade(bob, ledger, terms, deadline);
      for (const bad of ["0x", ethers.dataSlice(signature, 0, 64), ethers.concat([signature, "0x00"])]) {
        await expect(ledger.connect(alice).recordTrade(terms, deadline, bad))
          .to.be.revertedWithCustomError(ledger, "InvalidSignature")
          .withArgs(bob.address);
      }
    });

    it("accepts an ERC-1271 contract buyer: the token moves to the contract and its nonce moves", async function () {
      const { assets, ledger, alice, bob, assetId, deadline } = await loadFixture(tradeFixture);
      const wallet = await deployMagicContract(bob, ERC1271_MAGIC);
      const terms = transferTerms(assetId, alice.address, wallet);
      await expect(ledger.connect(alice).recordTrade(terms, deadline, "0x"))
        .to.emit(ledger, "TradeRecorded")
        .withArgs(1n, assetId, alice.address, wallet, terms.price, terms.currency, terms.settlementHash, Settlement.Transfer, 0n, alice.address);
      expect(await assets.ownerOf(assetId)).to.equal(wallet);
      expect(await ledger.nonces(wallet)).to.equal(1n);
    });

    it("refuses a contract buyer that does not answer ERC-1271", async function () {
      const { ledger, alice, bob, assetId, deadline } = await loadFixture(tradeFixture);
      const receiver = await deployMagicContract(bob, ERC721_RECEIVED);
      const terms = transferTerms(assetId, alice.address, receiver);
      await expect(ledger.connect(alice).recordTrade(terms, deadline, "0x"))
        .to.be.revertedWithCustomError(ledger, "InvalidSignature")
        .withArgs(receiver);
    });
  });

  describe("recordTrade: useNonce (a buyer voids an unused countersignature)", function () {
    it("useNonce emits NonceUsed with the voided nonce and moves the caller's nonce only", async function () {
      const { ledger, alice, bob } = await loadFixture(tradeFixture);
      expect(await ledger.connect(bob).useNonce.staticCall()).to.equal(0n);
      await expect(ledger.connect(bob).useNonce()).to.emit(ledger, "NonceUsed").withArgs(bob.address, 0n);
      await expect(ledger.connect(bob).useNonce()).to.emit(ledger, "NonceUsed").withArgs(bob.address, 1n);
      expect(await ledger.nonces(bob.address)).to.equal(2n);
      expect(await ledger.nonces(alice.address)).to.equal(0n);
    });

    it("a countersignature made before useNonce is refused afterwards (InvalidSignature); a fresh one works", async function () {
      const { assets, ledger, alice, bob, assetId, deadline } = await loadFixture(tradeFixture);
      const terms = transferTerms(assetId, alice.address, bob.address);
      const args = await countersigned(bob, ledger, terms, deadline);
      await ledger.connect(bob).useNonce();
      await expect(ledger.connect(alice).recordTrade(...args))
        .to.be.revertedWithCustomError(ledger, "InvalidSignature")
        .withArgs(bob.address);
      expect(await assets.ownerOf(assetId)).to.equal(alice.address);
      await expect(ledger.connect(alice).recordTrade(...(await countersigned(bob, ledger, terms, deadline))))
        .to.emit(ledger, "TradeRecorded");
      expect(await ledger.nonces(bob.address)).to.equal(2n);
    });
  });

  describe("recordTrade: Settlement.Transfer", function () {
    it("moves the token to the buyer in the same transaction: the registry's Transfer and TradeRecorded in one receipt, ownerOf = buyer", async function () {
      const { assets, grants, ledger, alice, bob, assetId, deadline } = await loadFixture(tradeFixture);
      const terms = transferTerms(assetId, alice.address, bob.address, { price: PRICE, currency: CNY });
      const tx = await ledger.connect(alice).recordTrade(...(await countersigned(bob, ledger, terms, deadline)));
      await expect(tx).to.emit(assets, "Transfer").withArgs(alice.address, bob.address, assetId);
      await expect(tx)
        .to.emit(ledger, "TradeRecorded")
        .withArgs(1n, assetId, alice.address, bob.address, PRICE, CNY, terms.settlementHash, Settlement.Transfer, 0n, alice.address);
      const receipt = await tx.wait();
      const emitters = receipt.logs.map((log) => log.address);
      expect(emitters).to.include(await assets.getAddress());
      expect(emitters).to.include(await ledger.getAddress());
      expect(await assets.ownerOf(assetId)).to.equal(bob.address);
      expect(await assets.balanceOf(alice.address)).to.equal(0n);
      expect(await assets.balanceOf(bob.address)).to.equal(1n);
      expect(await grants.totalGrants()).to.equal(0n);
    });

    it("keeps the settlement hash (and every term) in TradeRecorded", async function () {
      const { ledger, alice, bob, assetId, deadline } = await loadFixture(tradeFixture);
      const settlementHash = h("settlement:contract-7 signed pdf");
      const terms = transferTerms(assetId, alice.address, bob.address, { settlementHash, price: 0n, currency: ethers.ZeroHash });
      const tx = await ledger.connect(alice).recordTrade(...(await countersigned(bob, ledger, terms, deadline)));
      const receipt = await tx.wait();
      const [event] = receipt.logs
        .filter((log) => log.address === ledger.target)
        .map((log) => ledger.interface.parseLog(log));
      expect(event.name).to.equal("TradeRecorded");
      expect(event.args.settlementHash).to.equal(settlementHash);
      expect(event.args.settlement).to.equal(BigInt(Settlement.Transfer));
      expect([event.args.price, event.args.currency]).to.deep.equal([0n, ethers.ZeroHash]);
    });

    it("the buyer becomes the owner in every respect: it grants and sells; the seller no longer can", async function () {
      const { grants, ledger, alice, bob, carol, now, assetId, deadline } = await loadFixture(tradeFixture);
      await ledger.connect(alice).recordTrade(...(await countersigned(bob, ledger, transferTerms(assetId, alice.address, bob.address), deadline)));
      const grant = [assetId, carol.address, h("purpose"), 0n, now + BigInt(DAY), 5n, ethers.ZeroHash];
      await expect(grants.connect(alice).grant(...grant))
        .to.be.revertedWithCustomError(grants, "NotAssetOwner")
        .withArgs(assetId, alice.address, bob.address);
      await expect(grants.connect(bob).grant(...grant)).to.emit(grants, "GrantCreated");
      await expect(ledger.connect(bob).recordTrade(...(await countersigned(carol, ledger, transferTerms(assetId, bob.address, carol.address), deadline))))
        .to.emit(ledger, "TradeRecorded")
        .withArgs(2n, assetId, bob.address, carol.address, PRICE, CNY, h(`settlement:${assetId}:${carol.address}`), Settlement.Transfer, 0n, bob.address);
    });

    it("refuses any non-zero licence field on a transfer: InvalidSettlement(Transfer)", async function () {
      const { ledger, alice, bob, now, assetId, deadline } = await loadFixture(tradeFixture);
      const changes = [
        { purpose: h("purpose:x") },
        { validFrom: now },
        { expiresAt: now + BigInt(DAY) },
        { quota: 1n },
        { scopeRoot: h("scope:x") },
      ];
      for (const change of changes) {
        // Countersigned as they are: only the settlement rule refuses them.
        const terms = transferTerms(assetId, alice.address, bob.address, change);
        await expect(ledger.connect(alice).recordTrade(...(await countersigned(bob, ledger, terms, deadline))))
          .to.be.revertedWithCustomError(ledger, "InvalidSettlement")
          .withArgs(Settlement.Transfer);
      }
      expect(await ledger.nonces(bob.address)).to.equal(0n);
    });

    it("refuses Settlement.None: InvalidSettlement(None)", async function () {
      const { ledger, alice, bob, assetId, deadline } = await loadFixture(tradeFixture);
      const terms = transferTerms(assetId, alice.address, bob.address, { settlement: Settlement.None });
      await expect(ledger.connect(alice).recordTrade(...(await countersigned(bob, ledger, terms, deadline))))
        .to.be.revertedWithCustomError(ledger, "InvalidSettlement")
        .withArgs(Settlement.None);
    });
  });

  describe("recordTrade: Settlement.Licence", function () {
    it("creates a grant for the buyer in the same transaction: GrantCreated (grantor = seller), TradeRecorded.grantId = that grant; the token stays", async function () {
      const { assets, grants, ledger, alice, bob, eve, now, assetId, deadline } = await loadFixture(tradeFixture);
      // An ordinary grant first, so that the licence's grant id (2) differs from the trade id (1).
      await grants.connect(alice).grant(assetId, eve.address, h("purpose"), 0n, now + BigInt(DAY), 1n, ethers.ZeroHash);
      const terms = licenceTerms(assetId, alice.address, bob.address, now);
      const args = await countersigned(bob, ledger, terms, deadline);
      expect(await ledger.connect(alice).recordTrade.staticCall(...args)).to.deep.equal([1n, 2n]);
      const tx = await ledger.connect(alice).recordTrade(...args);
      await expect(tx)
        .to.emit(grants, "GrantCreated")
        .withArgs(2n, assetId, bob.address, alice.address, terms.purpose, terms.validFrom, terms.expiresAt, terms.quota, terms.scopeRoot);
      await expect(tx)
        .to.emit(ledger, "TradeRecorded")
        .withArgs(1n, assetId, alice.address, bob.address, terms.price, terms.currency, terms.settlementHash, Settlement.Licence, 2n, alice.address);
      await expect(tx).to.not.emit(assets, "Transfer");
      const g = await grants.grantOf(2);
      expect([g.assetId, g.grantee, g.validFrom, g.expiresAt, g.quota, g.scopeRoot, g.status]).to.deep.equal([
        assetId,
        bob.address,
        terms.validFrom,
        terms.expiresAt,
        terms.quota,
        terms.scopeRoot,
        BigInt(GrantStatus.Active),
      ]);
      expect(await assets.ownerOf(assetId)).to.equal(alice.address);
    });

    it("the buyer uses its licence grant (recordUsage); the seller cannot record usage under it", async function () {
      const { grants, ledger, alice, bob, now, assetId, deadline } = await loadFixture(tradeFixture);
      const terms = licenceTerms(assetId, alice.address, bob.address, now);
      await ledger.connect(alice).recordTrade(...(await countersigned(bob, ledger, terms, deadline)));
      await expect(ledger.connect(bob).recordUsage(1, 5, RECEIPT))
        .to.emit(ledger, "UsageRecorded")
        .withArgs(1n, bob.address, 5n, 1n, RECEIPT);
      await expect(ledger.connect(alice).recordUsage(1, 1, RECEIPT))
        .to.be.revertedWithCustomError(ledger, "NotGranteeOrOperator")
        .withArgs(1n, alice.address, bob.address);
      expect(await grants.remaining(1)).to.equal(95n);
    });

    it("the seller's TRADE operator records a licence sale: the grantor is the seller, the recorder the operator", async function () {
      const { grants, ledger, alice, bob, carol, now, assetId, deadline } = await loadFixture(tradeFixture);
      await ledger.connect(alice).setOperator(carol.address, Powers.TRADE);
      const terms = licenceTerms(assetId, alice.address, bob.address, now);
      const tx = await ledger.connect(carol).recordTrade(...(await countersigned(bob, ledger, terms, deadline)));
      await expect(tx)
        .to.emit(grants, "GrantCreated")
        .withArgs(1n, assetId, bob.address, alice.address, terms.purpose, terms.validFrom, terms.expiresAt, terms.quota, terms.scopeRoot);
      await expect(tx)
        .to.emit(ledger, "TradeRecorded")
        .withArgs(1n, assetId, alice.address, bob.address, terms.price, terms.currency, terms.settlementHash, Settlement.Licence, 1n, carol.address);
    });

    it("licence terms the grant registry refuses undo the whole trade (InvalidQuota, InvalidValidity); the buyer's nonce stays", async function () {
      const { grants, ledger, alice, bob, now, assetId, deadline } = await loadFixture(tradeFixture);
      const noQuota = licenceTerms(assetId, alice.address, bob.address, now, { quota: 0n });
      await expect(ledger.connect(alice).recordTrade(...(await countersigned(bob, ledger, noQuota, deadline))))
        .to.be.revertedWithCustomError(grants, "InvalidQuota")
        .withArgs(0n);
      const noWindow = licenceTerms(assetId, alice.address, bob.address, now, { validFrom: 0n, expiresAt: 0n });
      const t = await nextBlockAt(5);
      await expect(ledger.connect(alice).recordTrade(...(await countersigned(bob, ledger, noWindow, deadline))))
        .to.be.revertedWithCustomError(grants, "InvalidValidity")
        .withArgs(0n, 0n, t);
      expect(await ledger.nonces(bob.address)).to.equal(0n);
      expect(await ledger.totalTrades()).to.equal(0n);
      expect(await grants.totalGrants()).to.equal(0n);
    });

    it("numbers trades 1, 2, 3 across settlements and buyers (totalTrades)", async function () {
      const { ledger, alice, bob, carol, dave, now, assetId, deadline } = await loadFixture(tradeFixture);
      for (const [tradeId, buyer, terms] of [
        [1n, bob, licenceTerms(assetId, alice.address, bob.address, now)],
        [2n, carol, licenceTerms(assetId, alice.address, carol.address, now)],
        [3n, dave, transferTerms(assetId, alice.address, dave.address)],
      ]) {
        const grantId = terms.settlement === Settlement.Licence ? tradeId : 0n;
        await expect(ledger.connect(alice).recordTrade(...(await countersigned(buyer, ledger, terms, deadline))))
          .to.emit(ledger, "TradeRecorded")
          .withArgs(tradeId, assetId, alice.address, buyer.address, terms.price, terms.currency, terms.settlementHash, terms.settlement, grantId, alice.address);
      }
      expect(await ledger.totalTrades()).to.equal(3n);
    });
  });

  describe("recordTrade: who may sell what", function () {
    it("refuses a caller who is neither the seller nor its TRADE operator (the buyer included): NotSellerOrOperator", async function () {
      const { ledger, alice, bob, eve, assetId, deadline } = await loadFixture(tradeFixture);
      const terms = transferTerms(assetId, alice.address, bob.address);
      const args = await countersigned(bob, ledger, terms, deadline);
      for (const caller of [eve, bob]) {
        await expect(ledger.connect(caller).recordTrade(...args))
          .to.be.revertedWithCustomError(ledger, "NotSellerOrOperator")
          .withArgs(assetId, caller.address, alice.address);
      }
    });

    it("a repeated sale of a token the seller no longer holds is impossible, even with a fresh buyer countersignature: SellerNotOwner", async function () {
      const { assets, grants, ledger, alice, bob, carol, now, assetId, deadline } = await loadFixture(tradeFixture);
      await ledger.connect(alice).recordTrade(...(await countersigned(bob, ledger, transferTerms(assetId, alice.address, bob.address), deadline)));
      // On the old ledger alice could go on recording sales of the token she had sold.
      const again = transferTerms(assetId, alice.address, carol.address);
      await expect(ledger.connect(alice).recordTrade(...(await countersigned(carol, ledger, again, deadline))))
        .to.be.revertedWithCustomError(ledger, "SellerNotOwner")
        .withArgs(assetId, alice.address, bob.address);
      const licence = licenceTerms(assetId, alice.address, carol.address, now);
      await expect(ledger.connect(alice).recordTrade(...(await countersigned(carol, ledger, licence, deadline))))
        .to.be.revertedWithCustomError(ledger, "SellerNotOwner")
        .withArgs(assetId, alice.address, bob.address);
      expect(await ledger.nonces(carol.address)).to.equal(0n);
      expect(await ledger.totalTrades()).to.equal(1n);
      expect(await grants.totalGrants()).to.equal(0n);
      expect(await assets.ownerOf(assetId)).to.equal(bob.address);
    });

    it("refuses a seller who does not own the asset, the old owner after a plain transfer included: SellerNotOwner", async function () {
      const { assets, ledger, alice, bob, carol, eve, assetId, deadline } = await loadFixture(tradeFixture);
      const byEve = transferTerms(assetId, eve.address, bob.address);
      await expect(ledger.connect(eve).recordTrade(...(await countersigned(bob, ledger, byEve, deadline))))
        .to.be.revertedWithCustomError(ledger, "SellerNotOwner")
        .withArgs(assetId, eve.address, alice.address);
      await assets.connect(alice).transferFrom(alice.address, carol.address, assetId);
      const byAlice = transferTerms(assetId, alice.address, bob.address);
      await expect(ledger.connect(alice).recordTrade(...(await countersigned(bob, ledger, byAlice, deadline))))
        .to.be.revertedWithCustomError(ledger, "SellerNotOwner")
        .withArgs(assetId, alice.address, carol.address);
      const byCarol = transferTerms(assetId, carol.address, bob.address);
      await expect(ledger.connect(carol).recordTrade(...(await countersigned(bob, ledger, byCarol, deadline))))
        .to.emit(ledger, "TradeRecorded");
    });

    it("refuses the zero buyer and the seller as buyer: InvalidBuyer", async function () {
      const { ledger, alice, assetId, deadline } = await loadFixture(tradeFixture);
      await expect(ledger.connect(alice).recordTrade(transferTerms(assetId, alice.address, ethers.ZeroAddress), deadline, "0x"))
        .to.be.revertedWithCustomError(ledger, "InvalidBuyer")
        .withArgs(ethers.ZeroAddress, alice.address);
      const self = transferTerms(assetId, alice.address, alice.address);
      await expect(ledger.connect(alice).recordTrade(...(await countersigned(alice, ledger, self, deadline))))
        .to.be.revertedWithCustomError(ledger, "InvalidBuyer")
        .withArgs(alice.address, alice.address);
    });

    it("refuses a zero settlement hash: InvalidRecordHash", async function () {
      const { ledger, alice, bob, assetId, deadline } = await loadFixture(tradeFixture);
      const terms = transferTerms(assetId, alice.address, bob.address, { settlementHash: ethers.ZeroHash });
      await expect(ledger.connect(alice).recordTrade(...(await countersigned(bob, ledger, terms, deadline))))
        .to.be.revertedWithCustomError(ledger, "InvalidRecordHash")
        .withArgs(ethers.ZeroHash);
    });

    it("refuses unknown assets", async function () {
      const { assets, ledger, alice, bob, deadline } = await loadFixture(tradeFixture);
      const terms = transferTerms(42n, alice.address, bob.address);
      await expect(ledger.connect(alice).recordTrade(...(await countersigned(bob, ledger, terms, deadline))))
        .to.be.revertedWithCustomError(assets, "UnknownAsset")
        .withArgs(42n);
    });
  });

  describe("recordTrade: an operator sells the asset itself only with the token's ERC-721 approval", function () {
    /** tradeFixture where carol is alice's TRADE operator. */
    async function operatorFixture() {
      const system = await tradeFixture();
      await system.ledger.connect(system.alice).setOperator(system.carol.address, Powers.TRADE);
      return system;
    }

    it("a TRADE operator without the token's approval cannot sell the asset: NotApprovedForTransfer(assetId, operator, seller); the token and the buyer's nonce stay (old contracts moved it)", async function () {
      const { assets, ledger, alice, bob, carol, assetId, deadline } = await loadFixture(operatorFixture);
      const terms = transferTerms(assetId, alice.address, bob.address);
      await expect(ledger.connect(carol).recordTrade(...(await countersigned(bob, ledger, terms, deadline))))
        .to.be.revertedWithCustomError(ledger, "NotApprovedForTransfer")
        .withArgs(assetId, carol.address, alice.address);
      expect(await assets.ownerOf(assetId)).to.equal(alice.address);
      expect(await ledger.nonces(bob.address)).to.equal(0n);
      expect(await ledger.totalTrades()).to.equal(0n);
    });

    it("with approve(operator, assetId) the TRADE operator sells it; the approval goes with the token", async function () {
      const { assets, ledger, alice, bob, carol, assetId, deadline } = await loadFixture(operatorFixture);
      await assets.connect(alice).approve(carol.address, assetId);
      const terms = transferTerms(assetId, alice.address, bob.address);
      await expect(ledger.connect(carol).recordTrade(...(await countersigned(bob, ledger, terms, deadline))))
        .to.emit(ledger, "TradeRecorded")
        .withArgs(1n, assetId, alice.address, bob.address, terms.price, terms.currency, terms.settlementHash, Settlement.Transfer, 0n, carol.address);
      expect(await assets.ownerOf(assetId)).to.equal(bob.address);
      expect(await assets.getApproved(assetId)).to.equal(ethers.ZeroAddress);
    });

    it("with setApprovalForAll(operator, true) the TRADE operator sells any of the seller's assets; revoked, it is refused again", async function () {
      const { assets, ledger, alice, bob, carol, dave, assetId, deadline } = await loadFixture(operatorFixture);
      const second = await registerAsset(assets, alice, "dataset-b");
      await assets.connect(alice).setApprovalForAll(carol.address, true);
      const first = transferTerms(assetId, alice.address, bob.address);
      await expect(ledger.connect(carol).recordTrade(...(await countersigned(bob, ledger, first, deadline))))
        .to.emit(assets, "Transfer")
        .withArgs(alice.address, bob.address, assetId);
      await assets.connect(alice).setApprovalForAll(carol.address, false);
      const terms = transferTerms(second, alice.address, dave.address);
      await expect(ledger.connect(carol).recordTrade(...(await countersigned(dave, ledger, terms, deadline))))
        .to.be.revertedWithCustomError(ledger, "NotApprovedForTransfer")
        .withArgs(second, carol.address, alice.address);
      expect(await assets.ownerOf(second)).to.equal(alice.address);
    });

    it("only the operator's own approval counts: a token approved to someone else, or all tokens approved by another owner, do not let it sell", async function () {
      const { assets, ledger, alice, bob, carol, dave, assetId, deadline } = await loadFixture(operatorFixture);
      await assets.connect(alice).approve(dave.address, assetId);
      await assets.connect(bob).setApprovalForAll(carol.address, true);
      const terms = transferTerms(assetId, alice.address, bob.address);
      await expect(ledger.connect(carol).recordTrade(...(await countersigned(bob, ledger, terms, deadline))))
        .to.be.revertedWithCustomError(ledger, "NotApprovedForTransfer")
        .withArgs(assetId, carol.address, alice.address);
      expect(await assets.ownerOf(assetId)).to.equal(alice.address);
    });

    it("the token's approval without the TRADE power is no authority over trades: NotSellerOrOperator", async function () {
      const { assets, ledger, alice, bob, dave, assetId, deadline } = await loadFixture(tradeFixture);
      await assets.connect(alice).approve(dave.address, assetId);
      const terms = transferTerms(assetId, alice.address, bob.address);
      await expect(ledger.connect(dave).recordTrade(...(await countersigned(bob, ledger, terms, deadline))))
        .to.be.revertedWithCustomError(ledger, "NotSellerOrOperator")
        .withArgs(assetId, dave.address, alice.address);
    });

    it("needs no ERC-721 approval for a licence sale by a TRADE operator, nor for the seller selling the asset itself", async function () {
      const { assets, grants, ledger, alice, bob, carol, dave, now, assetId, deadline } = await loadFixture(operatorFixture);
      expect(await assets.getApproved(assetId)).to.equal(ethers.ZeroAddress);
      expect(await assets.isApprovedForAll(alice.address, carol.address)).to.equal(false);
      const licence = licenceTerms(assetId, alice.address, dave.address, now);
      await expect(ledger.connect(carol).recordTrade(...(await countersigned(dave, ledger, licence, deadline))))
        .to.emit(grants, "GrantCreated");
      const terms = transferTerms(assetId, alice.address, bob.address);
      await expect(ledger.connect(alice).recordTrade(...(await countersigned(bob, ledger, terms, deadline))))
        .to.emit(assets, "Transfer")
        .withArgs(alice.address, bob.address, assetId);
    });

    it("attack: a TRADE operator cannot move the token to itself (buyer = operator, its own countersignature, price 0) without the token's approval (old contracts let it take the asset); with the approval it can, as transferFrom would allow", async function () {
      const { assets, ledger, alice, carol, assetId, deadline } = await loadFixture(operatorFixture);
      const terms = transferTerms(assetId, alice.address, carol.address, { price: 0n });
      await expect(ledger.connect(carol).recordTrade(...(await countersigned(carol, ledger, terms, deadline))))
        .to.be.revertedWithCustomError(ledger, "NotApprovedForTransfer")
        .withArgs(assetId, carol.address, alice.address);
      // The same rule as ERC-721's own transferFrom.
      await expect(assets.connect(carol).transferFrom(alice.address, carol.address, assetId))
        .to.be.revertedWithCustomError(assets, "ERC721InsufficientApproval")
        .withArgs(carol.address, assetId);
      expect(await assets.ownerOf(assetId)).to.equal(alice.address);

      await assets.connect(alice).approve(carol.address, assetId);
      await expect(ledger.connect(carol).recordTrade(...(await countersigned(carol, ledger, terms, deadline))))
        .to.emit(assets, "Transfer")
        .withArgs(alice.address, carol.address, assetId);
      expect(await assets.ownerOf(assetId)).to.equal(carol.address);
    });
  });

  describe("recordTrade: only active assets", function () {
    it("refuses an asset in its public notice (Pending, review mode); once the notice passes it trades without another transaction", async function () {
      const { assets, ledger, alice, bob } = await loadFixture(reviewFixture);
      const assetId = await registerAsset(assets, alice, "pending");
      const registeredAt = BigInt(await time.latest());
      const deadline = registeredAt + BigInt(NOTICE) + 3600n;
      const terms = transferTerms(assetId, alice.address, bob.address);
      const args = await countersigned(bob, ledger, terms, deadline);
      await time.setNextBlockTimestamp(registeredAt + BigInt(NOTICE) - 1n);
      await expect(ledger.connect(alice).recordTrade(...args))
        .to.be.revertedWithCustomError(ledger, "AssetNotActive")
        .withArgs(assetId, Status.Pending);
      await time.setNextBlockTimestamp(registeredAt + BigInt(NOTICE));
      await expect(ledger.connect(alice).recordTrade(...args))
        .to.emit(assets, "Transfer")
        .withArgs(alice.address, bob.address, assetId);
    });

    it("refuses a disputed asset (review mode)", async function () {
      const { assets, ledger, alice, bob, eve } = await loadFixture(reviewFixture);
      const assetId = await registerAsset(assets, alice, "disputed");
      await assets.connect(eve).object(assetId, h("evidence"));
      const deadline = BigInt(await time.latest()) + 3600n;
      const terms = licenceTerms(assetId, alice.address, bob.address, BigInt(await time.latest()));
      await expect(ledger.connect(alice).recordTrade(...(await countersigned(bob, ledger, terms, deadline))))
        .to.be.revertedWithCustomError(ledger, "AssetNotActive")
        .withArgs(assetId, Status.Disputed);
    });

    it("refuses a suspended asset until reinstated, and a cancelled one", async function () {
      const { assets, ledger, alice, bob, reviewer, now, assetId, deadline } = await loadFixture(tradeFixture);
      const terms = licenceTerms(assetId, alice.address, bob.address, now);
      await assets.connect(reviewer).suspend(assetId, REASON);
      await expect(ledger.connect(alice).recordTrade(...(await countersigned(bob, ledger, terms, deadline))))
        .to.be.revertedWithCustomError(ledger, "AssetNotActive")
        .withArgs(assetId, Status.Suspended);
      await assets.connect(reviewer).reinstate(assetId, REASON);
      await expect(ledger.connect(alice).recordTrade(...(await countersigned(bob, ledger, terms, deadline))))
        .to.emit(ledger, "TradeRecorded");
      await assets.connect(alice).cancel(assetId, REASON);
      await expect(ledger.connect(alice).recordTrade(...(await countersigned(bob, ledger, terms, deadline))))
        .to.be.revertedWithCustomError(ledger, "AssetNotActive")
        .withArgs(assetId, Status.Cancelled);
    });

    it("refuses an asset whose certification expired (validUntil), for either settlement; renewal restores trading", async function () {
      const { assets, ledger, alice, bob } = await loadFixture(normalFixture);
      const validUntil = BigInt(await time.latest()) + BigInt(DAY);
      const assetId = await registerAsset(assets, alice, "expiring", { validUntil });
      const deadline = validUntil + 3600n;
      const licence = licenceTerms(assetId, alice.address, bob.address, validUntil);
      const transfer = transferTerms(assetId, alice.address, bob.address);
      await time.increaseTo(validUntil);
      for (const terms of [licence, transfer]) {
        await expect(ledger.connect(alice).recordTrade(...(await countersigned(bob, ledger, terms, deadline))))
          .to.be.revertedWithCustomError(ledger, "AssetNotActive")
          .withArgs(assetId, Status.Expired);
      }
      await assets.connect(alice).renew(assetId, validUntil + 10n * BigInt(DAY));
      await expect(ledger.connect(alice).recordTrade(...(await countersigned(bob, ledger, licence, deadline))))
        .to.emit(ledger, "TradeRecorded");
    });
  });

  describe("suspension end to end", function () {
    it("a suspended asset refuses grant, usage, trade and transfer; reinstating restores all four", async function () {
      const { assets, grants, ledger, alice, bob, carol, reviewer, grantId, assetId, terms } = await loadFixture(grantFixture);
      const deadline = BigInt(await time.latest()) + 3600n;
      const sale = transferTerms(assetId, alice.address, carol.address);
      await assets.connect(reviewer).suspend(assetId, REASON);
      await expect(grants.connect(alice).grant(...grantArgs(terms)))
        .to.be.revertedWithCustomError(grants, "AssetNotActive")
        .withArgs(assetId, Status.Suspended);
      await expect(ledger.connect(bob).recordUsage(grantId, 1, RECEIPT))
        .to.be.revertedWithCustomError(grants, "AssetNotActive")
        .withArgs(assetId, Status.Suspended);
      await expect(ledger.connect(alice).recordTrade(...(await countersigned(carol, ledger, sale, deadline))))
        .to.be.revertedWithCustomError(ledger, "AssetNotActive")
        .withArgs(assetId, Status.Suspended);
      await expect(assets.connect(alice).transferFrom(alice.address, carol.address, assetId))
        .to.be.revertedWithCustomError(assets, "AssetNotTransferable")
        .withArgs(assetId, Status.Suspended);
      expect(await grants.isUsable(grantId, await time.latest())).to.equal(false);

      await assets.connect(reviewer).reinstate(assetId, REASON);
      await expect(grants.connect(alice).grant(...grantArgs(terms))).to.emit(grants, "GrantCreated");
      await expect(ledger.connect(bob).recordUsage(grantId, 1, RECEIPT))
        .to.emit(ledger, "UsageRecorded")
        .withArgs(grantId, bob.address, 1n, 1n, RECEIPT);
      await expect(ledger.connect(alice).recordTrade(...(await countersigned(carol, ledger, sale, deadline))))
        .to.emit(assets, "Transfer")
        .withArgs(alice.address, carol.address, assetId);
      await expect(assets.connect(carol).transferFrom(carol.address, bob.address, assetId))
        .to.emit(assets, "Transfer")
        .withArgs(carol.address, bob.address, assetId);
    });
  });
});
