// TransactionLedger: deployment check, usage records (metered by GrantRegistry.consume),
// batched usage, operators, trades.
const { expect } = require("chai");
const { ethers } = require("hardhat");
const { loadFixture, time } = require("@nomicfoundation/hardhat-network-helpers");
const {
  Status,
  GrantStatus,
  DAY,
  h,
  normalFixture,
  reviewFixture,
  grantFixture,
  registerAsset,
  nextBlockAt,
} = require("./helpers/fixtures");

const RECEIPT = h("receipt:job-1");
const RECEIPTS_ROOT = h("receipts-root:batch-1");
const SETTLEMENT = h("settlement:contract-7");
const CNY = ethers.encodeBytes32String("CNY");
const REASON = h("reason");
const UINT32_MAX = 2n ** 32n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

const grantArgs = (t) => [t.assetId, t.grantee, t.purpose, t.validFrom, t.expiresAt, t.quota, t.scopeRoot];

describe("TransactionLedger", function () {
  describe("deployment", function () {
    it("links the asset and grant registries", async function () {
      const { assets, grants, ledger } = await loadFixture(normalFixture);
      expect(await ledger.assets()).to.equal(await assets.getAddress());
      expect(await ledger.grants()).to.equal(await grants.getAddress());
      expect(await ledger.totalTrades()).to.equal(0n);
    });

    it("reverts LedgerMismatch when the GrantRegistry was deployed for another address", async function () {
      const [deployer, admin] = await ethers.getSigners();
      const assets = await ethers.deployContract("AssetRegistry", [admin.address, false, ""], deployer);
      const nonce = await ethers.provider.getTransactionCount(deployer.address);
      // Off by one: predicts the deployment after the ledger's.
      const wrong = ethers.getCreateAddress({ from: deployer.address, nonce: nonce + 2 });
      const grants = await ethers.deployContract("GrantRegistry", [await assets.getAddress(), wrong], deployer);
      const factory = await ethers.getContractFactory("TransactionLedger", deployer);
      const actual = ethers.getCreateAddress({
        from: deployer.address,
        nonce: await ethers.provider.getTransactionCount(deployer.address),
      });
      await expect(factory.deploy(await assets.getAddress(), await grants.getAddress()))
        .to.be.revertedWithCustomError(factory, "LedgerMismatch")
        .withArgs(actual, wrong);
    });

    it("reverts LedgerMismatch when someone other than the predicted deployer deploys it", async function () {
      const [deployer, admin, , , , , , other] = await ethers.getSigners();
      const assets = await ethers.deployContract("AssetRegistry", [admin.address, false, ""], deployer);
      const nonce = await ethers.provider.getTransactionCount(deployer.address);
      const predicted = ethers.getCreateAddress({ from: deployer.address, nonce: nonce + 1 });
      const grants = await ethers.deployContract("GrantRegistry", [await assets.getAddress(), predicted], deployer);
      const factory = await ethers.getContractFactory("TransactionLedger", other);
      const actual = ethers.getCreateAddress({
        from: other.address,
        nonce: await ethers.provider.getTransactionCount(other.address),
      });
      await expect(factory.deploy(await assets.getAddress(), await grants.getAddress()))
        .to.be.revertedWithCustomError(factory, "LedgerMismatch")
        .withArgs(actual, predicted);
      // The rightful deployer, at the predicted nonce, succeeds.
      const ledger = await ethers.deployContract(
        "TransactionLedger",
        [await assets.getAddress(), await grants.getAddress()],
        deployer,
      );
      expect(await ledger.getAddress()).to.equal(predicted);
    });

    it("reverts LedgerMismatch naming the zero ledger", async function () {
      const [deployer, admin] = await ethers.getSigners();
      const assets = await ethers.deployContract("AssetRegistry", [admin.address, false, ""], deployer);
      const grants = await ethers.deployContract(
        "GrantRegistry",
        [await assets.getAddress(), ethers.ZeroAddress],
        deployer,
      );
      const factory = await ethers.getContractFactory("TransactionLedger", deployer);
      const actual = ethers.getCreateAddress({
        from: deployer.address,
        nonce: await ethers.provider.getTransactionCount(deployer.address),
      });
      await expect(factory.deploy(await assets.getAddress(), await grants.getAddress()))
        .to.be.revertedWithCustomError(factory, "LedgerMismatch")
        .withArgs(actual, ethers.ZeroAddress);
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
      await expect(ledger.connect(bob).recordUsageBatch(2, 1, RECEIPTS_ROOT, 3))
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
      await expect(ledger.connect(bob).recordUsageBatch(grantId, 2, root2, UINT32_MAX))
        .to.emit(ledger, "UsageBatchRecorded")
        .withArgs(grantId, bob.address, 2n, 3n, root2, UINT32_MAX);
      await expect(ledger.connect(bob).recordUsage(grantId, 1, RECEIPT))
        .to.emit(ledger, "UsageRecorded")
        .withArgs(grantId, bob.address, 1n, 4n, RECEIPT);
      const g = await grants.grantOf(grantId);
      expect([g.used, g.sequence]).to.deep.equal([9n, 4n]);
    });

    it("refuses a zero receipt count", async function () {
      const { ledger, bob, grantId } = await loadFixture(grantFixture);
      await expect(ledger.connect(bob).recordUsageBatch(grantId, 1, RECEIPTS_ROOT, 0))
        .to.be.revertedWithCustomError(ledger, "InvalidReceiptCount")
        .withArgs(0);
    });

    it("refuses a zero receipts root, zero units, an over-quota total and strangers", async function () {
      const { grants, ledger, bob, eve, grantId } = await loadFixture(grantFixture);
      await expect(ledger.connect(bob).recordUsageBatch(grantId, 1, ethers.ZeroHash, 2))
        .to.be.revertedWithCustomError(ledger, "InvalidRecordHash")
        .withArgs(ethers.ZeroHash);
      await expect(ledger.connect(bob).recordUsageBatch(grantId, 0, RECEIPTS_ROOT, 2))
        .to.be.revertedWithCustomError(grants, "InvalidUnits")
        .withArgs(grantId, 0n);
      await expect(ledger.connect(bob).recordUsageBatch(grantId, 11, RECEIPTS_ROOT, 2))
        .to.be.revertedWithCustomError(grants, "QuotaExceeded")
        .withArgs(grantId, 11n, 10n);
      await expect(ledger.connect(eve).recordUsageBatch(grantId, 1, RECEIPTS_ROOT, 2))
        .to.be.revertedWithCustomError(ledger, "NotGranteeOrOperator")
        .withArgs(grantId, eve.address, bob.address);
    });
  });

  describe("operators", function () {
    it("setOperator emits OperatorSet and isOperator reflects it", async function () {
      const { ledger, bob, carol } = await loadFixture(grantFixture);
      expect(await ledger.isOperator(bob.address, carol.address)).to.equal(false);
      await expect(ledger.connect(bob).setOperator(carol.address, true))
        .to.emit(ledger, "OperatorSet")
        .withArgs(bob.address, carol.address, true);
      expect(await ledger.isOperator(bob.address, carol.address)).to.equal(true);
      expect(await ledger.isOperator(carol.address, bob.address)).to.equal(false);
      await expect(ledger.connect(bob).setOperator(carol.address, false))
        .to.emit(ledger, "OperatorSet")
        .withArgs(bob.address, carol.address, false);
      expect(await ledger.isOperator(bob.address, carol.address)).to.equal(false);
    });

    it("refuses the zero address and oneself as operator", async function () {
      const { ledger, bob } = await loadFixture(grantFixture);
      await expect(ledger.connect(bob).setOperator(ethers.ZeroAddress, true))
        .to.be.revertedWithCustomError(ledger, "InvalidOperator")
        .withArgs(ethers.ZeroAddress);
      await expect(ledger.connect(bob).setOperator(bob.address, true))
        .to.be.revertedWithCustomError(ledger, "InvalidOperator")
        .withArgs(bob.address);
    });

    it("an operator records usage for the grantee (as recorder); once removed it is refused", async function () {
      const { grants, ledger, bob, carol, grantId } = await loadFixture(grantFixture);
      await ledger.connect(bob).setOperator(carol.address, true);
      await expect(ledger.connect(carol).recordUsage(grantId, 2, RECEIPT))
        .to.emit(ledger, "UsageRecorded")
        .withArgs(grantId, carol.address, 2n, 1n, RECEIPT);
      await expect(ledger.connect(carol).recordUsageBatch(grantId, 3, RECEIPTS_ROOT, 3))
        .to.emit(ledger, "UsageBatchRecorded")
        .withArgs(grantId, carol.address, 3n, 2n, RECEIPTS_ROOT, 3);
      expect((await grants.grantOf(grantId)).used).to.equal(5n);

      await ledger.connect(bob).setOperator(carol.address, false);
      await expect(ledger.connect(carol).recordUsage(grantId, 1, RECEIPT))
        .to.be.revertedWithCustomError(ledger, "NotGranteeOrOperator")
        .withArgs(grantId, carol.address, bob.address);
      await expect(ledger.connect(carol).recordUsageBatch(grantId, 1, RECEIPTS_ROOT, 1))
        .to.be.revertedWithCustomError(ledger, "NotGranteeOrOperator")
        .withArgs(grantId, carol.address, bob.address);
    });

    it("an operator of someone else is no operator of the grantee", async function () {
      const { ledger, bob, carol, dave, grantId } = await loadFixture(grantFixture);
      await ledger.connect(dave).setOperator(carol.address, true);
      await expect(ledger.connect(carol).recordUsage(grantId, 1, RECEIPT))
        .to.be.revertedWithCustomError(ledger, "NotGranteeOrOperator")
        .withArgs(grantId, carol.address, bob.address);
    });
  });

  describe("recordTrade", function () {
    const PRICE = 125_000_00n;

    it("the seller records a trade: TradeRecorded with every field, ids 1, 2", async function () {
      const { ledger, alice, bob, carol, assetId } = await loadFixture(grantFixture);
      expect(await ledger.connect(alice).recordTrade.staticCall(assetId, bob.address, alice.address, PRICE, CNY, SETTLEMENT)).to.equal(1n);
      await expect(ledger.connect(alice).recordTrade(assetId, bob.address, alice.address, PRICE, CNY, SETTLEMENT))
        .to.emit(ledger, "TradeRecorded")
        .withArgs(1n, assetId, alice.address, bob.address, PRICE, CNY, SETTLEMENT, alice.address);
      const settlement2 = h("settlement:2");
      await expect(ledger.connect(alice).recordTrade(assetId, carol.address, alice.address, 0, ethers.ZeroHash, settlement2))
        .to.emit(ledger, "TradeRecorded")
        .withArgs(2n, assetId, alice.address, carol.address, 0n, ethers.ZeroHash, settlement2, alice.address);
      expect(await ledger.totalTrades()).to.equal(2n);
    });

    it("records without moving the token", async function () {
      const { assets, ledger, alice, bob, assetId } = await loadFixture(grantFixture);
      await ledger.connect(alice).recordTrade(assetId, bob.address, alice.address, PRICE, CNY, SETTLEMENT);
      expect(await assets.ownerOf(assetId)).to.equal(alice.address);
    });

    it("the seller's operator records (as recorder); once removed it is refused", async function () {
      const { ledger, alice, bob, carol, assetId } = await loadFixture(grantFixture);
      await ledger.connect(alice).setOperator(carol.address, true);
      await expect(ledger.connect(carol).recordTrade(assetId, bob.address, alice.address, PRICE, CNY, SETTLEMENT))
        .to.emit(ledger, "TradeRecorded")
        .withArgs(1n, assetId, alice.address, bob.address, PRICE, CNY, SETTLEMENT, carol.address);
      await ledger.connect(alice).setOperator(carol.address, false);
      await expect(ledger.connect(carol).recordTrade(assetId, bob.address, alice.address, PRICE, CNY, SETTLEMENT))
        .to.be.revertedWithCustomError(ledger, "NotSellerOrOperator")
        .withArgs(assetId, carol.address, alice.address);
    });

    it("refuses a caller who is neither the seller nor its operator (the buyer included)", async function () {
      const { ledger, alice, bob, eve, assetId } = await loadFixture(grantFixture);
      for (const caller of [eve, bob]) {
        await expect(ledger.connect(caller).recordTrade(assetId, bob.address, alice.address, PRICE, CNY, SETTLEMENT))
          .to.be.revertedWithCustomError(ledger, "NotSellerOrOperator")
          .withArgs(assetId, caller.address, alice.address);
      }
    });

    it("refuses a seller who does not own the asset (also the old owner after a transfer)", async function () {
      const { assets, ledger, alice, bob, carol, eve, assetId } = await loadFixture(grantFixture);
      await expect(ledger.connect(eve).recordTrade(assetId, bob.address, eve.address, PRICE, CNY, SETTLEMENT))
        .to.be.revertedWithCustomError(ledger, "SellerNotOwner")
        .withArgs(assetId, eve.address, alice.address);
      await assets.connect(alice).transferFrom(alice.address, carol.address, assetId);
      await expect(ledger.connect(alice).recordTrade(assetId, bob.address, alice.address, PRICE, CNY, SETTLEMENT))
        .to.be.revertedWithCustomError(ledger, "SellerNotOwner")
        .withArgs(assetId, alice.address, carol.address);
      await expect(ledger.connect(carol).recordTrade(assetId, bob.address, carol.address, PRICE, CNY, SETTLEMENT))
        .to.emit(ledger, "TradeRecorded")
        .withArgs(1n, assetId, carol.address, bob.address, PRICE, CNY, SETTLEMENT, carol.address);
    });

    it("refuses the zero buyer and the seller as buyer", async function () {
      const { ledger, alice, assetId } = await loadFixture(grantFixture);
      await expect(ledger.connect(alice).recordTrade(assetId, ethers.ZeroAddress, alice.address, PRICE, CNY, SETTLEMENT))
        .to.be.revertedWithCustomError(ledger, "InvalidBuyer")
        .withArgs(ethers.ZeroAddress, alice.address);
      await expect(ledger.connect(alice).recordTrade(assetId, alice.address, alice.address, PRICE, CNY, SETTLEMENT))
        .to.be.revertedWithCustomError(ledger, "InvalidBuyer")
        .withArgs(alice.address, alice.address);
    });

    it("refuses a zero settlement hash", async function () {
      const { ledger, alice, bob, assetId } = await loadFixture(grantFixture);
      await expect(ledger.connect(alice).recordTrade(assetId, bob.address, alice.address, PRICE, CNY, ethers.ZeroHash))
        .to.be.revertedWithCustomError(ledger, "InvalidRecordHash")
        .withArgs(ethers.ZeroHash);
    });

    it("refuses unknown assets", async function () {
      const { assets, ledger, alice, bob } = await loadFixture(grantFixture);
      await expect(ledger.connect(alice).recordTrade(42, bob.address, alice.address, PRICE, CNY, SETTLEMENT))
        .to.be.revertedWithCustomError(assets, "UnknownAsset")
        .withArgs(42n);
    });

    it("refuses a suspended asset until reinstated, and a cancelled one", async function () {
      const { assets, ledger, alice, bob, reviewer, assetId } = await loadFixture(grantFixture);
      await assets.connect(reviewer).suspend(assetId, REASON);
      await expect(ledger.connect(alice).recordTrade(assetId, bob.address, alice.address, PRICE, CNY, SETTLEMENT))
        .to.be.revertedWithCustomError(ledger, "AssetNotActive")
        .withArgs(assetId, Status.Suspended);
      await assets.connect(reviewer).reinstate(assetId, REASON);
      await expect(ledger.connect(alice).recordTrade(assetId, bob.address, alice.address, PRICE, CNY, SETTLEMENT))
        .to.emit(ledger, "TradeRecorded");
      await assets.connect(alice).cancel(assetId, REASON);
      await expect(ledger.connect(alice).recordTrade(assetId, bob.address, alice.address, PRICE, CNY, SETTLEMENT))
        .to.be.revertedWithCustomError(ledger, "AssetNotActive")
        .withArgs(assetId, Status.Cancelled);
    });

    it("refuses a pending asset (review mode)", async function () {
      const { assets, ledger, alice, bob } = await loadFixture(reviewFixture);
      const assetId = await registerAsset(assets, alice, "pending");
      await expect(ledger.connect(alice).recordTrade(assetId, bob.address, alice.address, PRICE, CNY, SETTLEMENT))
        .to.be.revertedWithCustomError(ledger, "AssetNotActive")
        .withArgs(assetId, Status.Pending);
    });
  });

  describe("suspension end to end", function () {
    it("a suspended asset refuses grant, usage, trade and transfer; reinstating restores all four", async function () {
      const { assets, grants, ledger, alice, bob, carol, reviewer, grantId, assetId, terms } = await loadFixture(grantFixture);
      await assets.connect(reviewer).suspend(assetId, REASON);
      await expect(grants.connect(alice).grant(...grantArgs(terms)))
        .to.be.revertedWithCustomError(grants, "AssetNotActive")
        .withArgs(assetId, Status.Suspended);
      await expect(ledger.connect(bob).recordUsage(grantId, 1, RECEIPT))
        .to.be.revertedWithCustomError(grants, "AssetNotActive")
        .withArgs(assetId, Status.Suspended);
      await expect(ledger.connect(alice).recordTrade(assetId, bob.address, alice.address, 1, CNY, SETTLEMENT))
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
      await expect(ledger.connect(alice).recordTrade(assetId, bob.address, alice.address, 1, CNY, SETTLEMENT))
        .to.emit(ledger, "TradeRecorded");
      await expect(assets.connect(alice).transferFrom(alice.address, carol.address, assetId))
        .to.emit(assets, "Transfer")
        .withArgs(alice.address, carol.address, assetId);
    });
  });
});
