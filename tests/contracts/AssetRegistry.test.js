// AssetRegistry: registration, released roots, lineage, registerBySig (EIP-712), commit–reveal,
// public notice and disputes, status moves, validity and renewal, the two-step admin, batches.
// ERC-721 behaviour is in AssetToken.test.js.
const { expect } = require("chai");
const { ethers, network } = require("hardhat");
const {
  loadFixture,
  setStorageAt,
  time,
} = require("@nomicfoundation/hardhat-network-helpers");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const {
  Status,
  Lineage,
  Rights,
  REGISTER,
  ERC1271_MAGIC,
  UINT32_MAX,
  NOTICE,
  MIN_COMMIT_AGE,
  MAX_COMMIT_AGE,
  ADMIN_DELAY,
  DAY,
  h,
  chainId,
  registration,
  signRegister,
  signTrade,
  transferTerms,
  normalFixture,
  reviewFixture,
  commitFixture,
  registerAsset,
  blockTimeOf,
  nextBlockAt,
  findSlot,
  deployMagicContract,
  withoutAutomine,
  mineAt,
  receiptsOf,
  pendingCalls,
  revertOf,
  NO_RESERVATION,
  RESERVATION_PERIOD,
  CANCEL_COOLDOWN,
  reviewCommitFixture,
  asLedger,
} = require("./helpers/fixtures");

const DEFAULT_ADMIN_ROLE = ethers.ZeroHash;
const ROOT = h("content:dataset-a");
const MANIFEST = h("manifest:dataset-a");
/** The registration of "dataset-a" (ROOT, MANIFEST, rights 3, classification 1, no parent, no expiry). */
const REQUEST = registration("dataset-a");
const NO_SALT = ethers.ZeroHash;
const REASON = h("reason:document");
const EVIDENCE = h("evidence:prior publication");
/** Enough gas for any call here: transactions sent with automine off skip estimation (which would revert). */
const GAS = 1_000_000n;
const GWEI = 10n ** 9n;

describe("AssetRegistry", function () {
  describe("deployment", function () {
    it("sets name, symbol, modes, ledger and the admin (the deployer holds no role)", async function () {
      const { assets, admin, deployer, reviewer, predictedLedger, ledger, REVIEWER_ROLE } =
        await loadFixture(normalFixture);
      expect(await assets.name()).to.equal("dataseal data asset");
      expect(await assets.symbol()).to.equal("SEAL");
      expect(await assets.reviewMode()).to.equal(false);
      expect(await assets.noticePeriod()).to.equal(0n);
      expect(await assets.commitRequired()).to.equal(false);
      expect(await assets.minCommitAge()).to.equal(0n);
      expect(await assets.maxCommitAge()).to.equal(0n);
      expect(await assets.ledger()).to.equal(predictedLedger);
      expect(await assets.ledger()).to.equal(await ledger.getAddress());
      expect(await assets.defaultAdmin()).to.equal(admin.address);
      expect(await assets.defaultAdminDelay()).to.equal(BigInt(ADMIN_DELAY));
      expect(await assets.hasRole(DEFAULT_ADMIN_ROLE, admin.address)).to.equal(true);
      expect(await assets.hasRole(DEFAULT_ADMIN_ROLE, deployer.address)).to.equal(false);
      expect(await assets.hasRole(REVIEWER_ROLE, reviewer.address)).to.equal(true);
      expect(await assets.hasRole(REVIEWER_ROLE, admin.address)).to.equal(false);
      expect(await assets.getRoleAdmin(REVIEWER_ROLE)).to.equal(DEFAULT_ADMIN_ROLE);
      expect(await assets.totalAssets()).to.equal(0n);
      expect(await assets.totalBatches()).to.equal(0n);
    });

    it("review mode and its notice period are fixed at deployment", async function () {
      const { assets } = await loadFixture(reviewFixture);
      expect(await assets.reviewMode()).to.equal(true);
      expect(await assets.noticePeriod()).to.equal(BigInt(NOTICE));
      expect(await assets.commitRequired()).to.equal(false);
    });

    it("commitment ages are fixed at deployment", async function () {
      const { assets } = await loadFixture(commitFixture);
      expect(await assets.commitRequired()).to.equal(true);
      expect(await assets.minCommitAge()).to.equal(BigInt(MIN_COMMIT_AGE));
      expect(await assets.maxCommitAge()).to.equal(BigInt(MAX_COMMIT_AGE));
      expect(await assets.reviewMode()).to.equal(false);
    });

    it("exposes its constants", async function () {
      const { assets } = await loadFixture(normalFixture);
      expect(await assets.REVIEWER_ROLE()).to.equal(ethers.id("REVIEWER_ROLE"));
      expect(await assets.RIGHTS_MASK()).to.equal(7n);
      expect(await assets.MAX_CLASSIFICATION()).to.equal(3n);
      expect(await assets.MAX_BATCH_COUNT()).to.equal(2n ** 24n - 1n);
    });
  });

  describe("constructor checks", function () {
    /** Deploy an AssetRegistry with `config` overrides (the others valid) and `ledger`. */
    async function deploy(config, options = {}) {
      const [deployer, admin] = await ethers.getSigners();
      const full = { adminDelay: ADMIN_DELAY, noticePeriod: 0, minCommitAge: 0, maxCommitAge: 0, ...config };
      const ledger = options.ledger ?? ethers.Wallet.createRandom().address;
      return ethers.getContractFactory("AssetRegistry", deployer).then((factory) =>
        factory.deploy(options.admin ?? admin.address, full, ledger, ""),
      );
    }

    it("refuses inconsistent commitment ages with InvalidConfig", async function () {
      const factory = await ethers.getContractFactory("AssetRegistry");
      const cases = [
        { minCommitAge: 0, maxCommitAge: 100 }, // required, but no minimum age
        { minCommitAge: 100, maxCommitAge: 100 }, // min == max: no window
        { minCommitAge: 101, maxCommitAge: 100 }, // min > max
        { minCommitAge: 60, maxCommitAge: 0 }, // a minimum without commitments
      ];
      for (const config of cases) {
        await expect(deploy(config)).to.be.revertedWithCustomError(factory, "InvalidConfig").withArgs();
      }
    });

    it("refuses a zero ledger with InvalidConfig", async function () {
      const factory = await ethers.getContractFactory("AssetRegistry");
      await expect(deploy({}, { ledger: ethers.ZeroAddress }))
        .to.be.revertedWithCustomError(factory, "InvalidConfig")
        .withArgs();
    });

    it("refuses a zero admin (AccessControlInvalidDefaultAdmin)", async function () {
      const factory = await ethers.getContractFactory("AssetRegistry");
      await expect(deploy({}, { admin: ethers.ZeroAddress }))
        .to.be.revertedWithCustomError(factory, "AccessControlInvalidDefaultAdmin")
        .withArgs(ethers.ZeroAddress);
    });

    it("accepts the narrowest commitment window (min 1, max 2) and a notice with commitments", async function () {
      const assets = await deploy({ noticePeriod: 1, minCommitAge: 1, maxCommitAge: 2 });
      expect(await assets.commitRequired()).to.equal(true);
      expect(await assets.reviewMode()).to.equal(true);
    });
  });

  describe("admin handover (two steps, after adminDelay)", function () {
    it("the new admin may accept only after the delay; then it holds the role and the old admin none", async function () {
      const { assets, admin, dave, eve, REVIEWER_ROLE } = await loadFixture(normalFixture);
      const tx = await assets.connect(admin).beginDefaultAdminTransfer(dave.address);
      const schedule = (await blockTimeOf(tx)) + BigInt(ADMIN_DELAY);
      await expect(tx).to.emit(assets, "DefaultAdminTransferScheduled").withArgs(dave.address, schedule);
      expect(await assets.pendingDefaultAdmin()).to.deep.equal([dave.address, schedule]);

      await time.setNextBlockTimestamp(schedule);
      await expect(assets.connect(dave).acceptDefaultAdminTransfer())
        .to.be.revertedWithCustomError(assets, "AccessControlEnforcedDefaultAdminDelay")
        .withArgs(schedule);
      await expect(assets.connect(eve).acceptDefaultAdminTransfer())
        .to.be.revertedWithCustomError(assets, "AccessControlInvalidDefaultAdmin")
        .withArgs(eve.address);
      expect(await assets.defaultAdmin()).to.equal(admin.address);

      await expect(assets.connect(dave).acceptDefaultAdminTransfer())
        .to.emit(assets, "RoleGranted")
        .withArgs(DEFAULT_ADMIN_ROLE, dave.address, dave.address);
      expect(await assets.defaultAdmin()).to.equal(dave.address);
      expect(await assets.hasRole(DEFAULT_ADMIN_ROLE, admin.address)).to.equal(false);
      await expect(assets.connect(admin).grantRole(REVIEWER_ROLE, eve.address))
        .to.be.revertedWithCustomError(assets, "AccessControlUnauthorizedAccount")
        .withArgs(admin.address, DEFAULT_ADMIN_ROLE);
      await assets.connect(dave).grantRole(REVIEWER_ROLE, eve.address);
      expect(await assets.hasRole(REVIEWER_ROLE, eve.address)).to.equal(true);
    });

    it("the admin role cannot be granted in one step (grantRole refused, even by the admin)", async function () {
      const { assets, admin, dave } = await loadFixture(normalFixture);
      await expect(assets.connect(admin).grantRole(DEFAULT_ADMIN_ROLE, dave.address))
        .to.be.revertedWithCustomError(assets, "AccessControlEnforcedDefaultAdminRules")
        .withArgs();
      expect(await assets.hasRole(DEFAULT_ADMIN_ROLE, dave.address)).to.equal(false);
    });

    it("only the admin may begin a handover", async function () {
      const { assets, reviewer, eve } = await loadFixture(normalFixture);
      await expect(assets.connect(reviewer).beginDefaultAdminTransfer(eve.address))
        .to.be.revertedWithCustomError(assets, "AccessControlUnauthorizedAccount")
        .withArgs(reviewer.address, DEFAULT_ADMIN_ROLE);
    });
  });

  describe("EIP-712", function () {
    it("REGISTER_TYPEHASH is keccak256 of the type string in the comment beside it", async function () {
      const { assets } = await loadFixture(normalFixture);
      // The Python signer uses this exact string too.
      expect(REGISTER.typeString).to.equal(
        "Register(address owner,bytes32 contentRoot,bytes32 manifestHash,uint8 rightsType," +
          "uint8 classification,uint256 parentId,uint64 validUntil,uint256 nonce,uint256 deadline)",
      );
      expect(ethers.TypedDataEncoder.from(REGISTER.types).encodeType("Register")).to.equal(REGISTER.typeString);
      expect(await assets.REGISTER_TYPEHASH()).to.equal(ethers.keccak256(ethers.toUtf8Bytes(REGISTER.typeString)));
    });

    it("publishes its domain (ERC-5267, version 2) and DOMAIN_SEPARATOR matching it", async function () {
      const { assets } = await loadFixture(normalFixture);
      const domain = await assets.eip712Domain();
      expect(domain.fields).to.equal("0x0f");
      expect(domain.name).to.equal("dataseal AssetRegistry");
      expect(domain.version).to.equal("2");
      expect(domain.chainId).to.equal(await chainId());
      expect(domain.verifyingContract).to.equal(await assets.getAddress());
      expect(domain.salt).to.equal(ethers.ZeroHash);
      expect(domain.extensions).to.deep.equal([]);
      expect(await assets.DOMAIN_SEPARATOR()).to.equal(
        ethers.TypedDataEncoder.hashDomain({
          name: domain.name,
          version: domain.version,
          chainId: domain.chainId,
          verifyingContract: domain.verifyingContract,
        }),
      );
    });
  });

  describe("register", function () {
    it("mints to the caller, stores the record and emits Transfer and AssetRegistered", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      const request = registration("dataset-a", { rightsType: 3, classification: 2 });
      expect(await assets.connect(alice).register.staticCall(request, NO_SALT)).to.equal(1n);
      const t = await nextBlockAt();
      const tx = assets.connect(alice).register(request, NO_SALT);
      await expect(tx).to.emit(assets, "Transfer").withArgs(ethers.ZeroAddress, alice.address, 1n);
      await expect(tx)
        .to.emit(assets, "AssetRegistered")
        .withArgs(1n, alice.address, ROOT, MANIFEST, 3, 2, Status.Active, 0n, Lineage.None, t, 0n);

      const asset = await assets.assetOf(1);
      expect(asset.assetId).to.equal(1n);
      expect(asset.contentRoot).to.equal(ROOT);
      expect(asset.manifestHash).to.equal(MANIFEST);
      expect(asset.owner).to.equal(alice.address);
      expect(asset.registrant).to.equal(alice.address);
      expect(asset.registeredAt).to.equal(t);
      expect(asset.rightsType).to.equal(3n);
      expect(asset.classification).to.equal(2n);
      expect(asset.status).to.equal(BigInt(Status.Active));
      expect(asset.parentId).to.equal(0n);
      expect(asset.lineage).to.equal(BigInt(Lineage.None));
      expect(asset.validUntil).to.equal(0n);
      expect(asset.noticeEndsAt).to.equal(0n);

      expect(await assets.assetIdOf(ROOT)).to.equal(1n);
      expect(await assets.assetIdOf(h("never registered"))).to.equal(0n);
      expect(await assets.ownerAndStatus(1)).to.deep.equal([alice.address, BigInt(Status.Active)]);
      expect(await assets.statusOf(1)).to.equal(BigInt(Status.Active));
      expect(await assets.ownerOf(1)).to.equal(alice.address);
      expect(await assets.balanceOf(alice.address)).to.equal(1n);
      expect(await assets.totalAssets()).to.equal(1n);
    });

    it("ignores the salt where commitments are not required", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      await expect(assets.connect(alice).register(REQUEST, h("salt:anything"))).to.emit(assets, "AssetRegistered");
    });

    it("numbers assets 1, 2, 3 across registrants", async function () {
      const { assets, alice, bob } = await loadFixture(normalFixture);
      expect(await registerAsset(assets, alice, "a")).to.equal(1n);
      expect(await registerAsset(assets, bob, "b")).to.equal(2n);
      expect(await registerAsset(assets, alice, "c")).to.equal(3n);
      expect(await assets.totalAssets()).to.equal(3n);
      expect(await assets.balanceOf(alice.address)).to.equal(2n);
      expect(await assets.balanceOf(bob.address)).to.equal(1n);
    });

    it("accepts every non-empty rights bitmask 1..7 and classifications 0..3", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      for (let rights = 1; rights <= 7; rights += 1) {
        const id = await registerAsset(assets, alice, `rights-${rights}`, { rightsType: rights, classification: rights % 4 });
        const asset = await assets.assetOf(id);
        expect(asset.rightsType).to.equal(BigInt(rights));
        expect(asset.classification).to.equal(BigInt(rights % 4));
      }
    });

    it("refuses rights type 0 and any bit outside the mask (8, 9, 255)", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      for (const rightsType of [0, 8, 9, 255]) {
        await expect(assets.connect(alice).register(registration("dataset-a", { rightsType }), NO_SALT))
          .to.be.revertedWithCustomError(assets, "InvalidRightsType")
          .withArgs(rightsType);
      }
    });

    it("refuses classification 4 and above", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      for (const classification of [4, 255]) {
        await expect(assets.connect(alice).register(registration("dataset-a", { classification }), NO_SALT))
          .to.be.revertedWithCustomError(assets, "InvalidClassification")
          .withArgs(classification);
      }
    });

    it("refuses a zero content root and a zero manifest hash", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      await expect(assets.connect(alice).register(registration("x", { contentRoot: ethers.ZeroHash }), NO_SALT))
        .to.be.revertedWithCustomError(assets, "InvalidContentRoot")
        .withArgs(ethers.ZeroHash);
      await expect(assets.connect(alice).register(registration("x", { manifestHash: ethers.ZeroHash }), NO_SALT))
        .to.be.revertedWithCustomError(assets, "InvalidManifestHash")
        .withArgs(ethers.ZeroHash);
    });

    it("refuses a root held by a standing registration, naming it (any caller, any manifest)", async function () {
      const { assets, alice, bob } = await loadFixture(normalFixture);
      await registerAsset(assets, alice, "other");
      await assets.connect(alice).register(REQUEST, NO_SALT);
      const bobs = registration("dataset-a", { manifestHash: h("manifest:bob"), rightsType: 2 });
      await expect(assets.connect(bob).register(bobs, NO_SALT))
        .to.be.revertedWithCustomError(assets, "AssetAlreadyRegistered")
        .withArgs(ROOT, 2n);
      await expect(assets.connect(alice).register(REQUEST, NO_SALT))
        .to.be.revertedWithCustomError(assets, "AssetAlreadyRegistered")
        .withArgs(ROOT, 2n);
    });

    it("refuses an unknown parent", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      await expect(assets.connect(alice).register(registration("x", { parentId: 1n }), NO_SALT))
        .to.be.revertedWithCustomError(assets, "UnknownAsset")
        .withArgs(1n);
      await registerAsset(assets, alice, "parent");
      await expect(assets.connect(alice).register(registration("x", { parentId: 7n }), NO_SALT))
        .to.be.revertedWithCustomError(assets, "UnknownAsset")
        .withArgs(7n);
    });

    it("assigns the last id 2**32-1, then reverts IdSpaceExhausted", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      // Counters {uint32 assets; uint32 batches} share one slot: find it by its value.
      for (const label of ["a", "b", "c"]) await registerAsset(assets, alice, label);
      await assets.connect(alice).anchorBatch(h("batch:1"), 1, h("bm:1"));
      await assets.connect(alice).anchorBatch(h("batch:2"), 1, h("bm:2"));
      const slot = await findSlot(await assets.getAddress(), 3n | (2n << 32n));
      await setStorageAt(await assets.getAddress(), slot, (UINT32_MAX - 1n) | (2n << 32n));

      const lastId = await registerAsset(assets, alice, "last");
      expect(lastId).to.equal(UINT32_MAX);
      expect(await assets.ownerOf(UINT32_MAX)).to.equal(alice.address);
      expect(await assets.totalBatches()).to.equal(2n);
      await expect(assets.connect(alice).register(registration("one too many"), NO_SALT))
        .to.be.revertedWithCustomError(assets, "IdSpaceExhausted")
        .withArgs(UINT32_MAX);
    });
  });

  describe("released roots (squatting undone, issue 10 §2)", function () {
    it("a cancelled registration stays readable by id and frees its root after CANCEL_COOLDOWN; the owner then registers it again (new id) (before the second review: at once)", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      const id = await registerAsset(assets, alice, "dataset-a");
      const cancelledAt = await nextBlockAt();
      await expect(assets.connect(alice).cancel(id, REASON))
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(id, Status.Active, Status.Cancelled, alice.address, REASON);
      expect(await assets.assetIdOf(ROOT)).to.equal(0n);
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Cancelled));
      const old = await assets.assetOf(id);
      expect(old.contentRoot).to.equal(ROOT);
      expect(old.manifestHash).to.equal(MANIFEST);
      expect(old.owner).to.equal(alice.address);
      expect(old.status).to.equal(BigInt(Status.Cancelled));

      await time.setNextBlockTimestamp(cancelledAt + BigInt(CANCEL_COOLDOWN));
      await expect(assets.connect(alice).register(REQUEST, NO_SALT))
        .to.emit(assets, "AssetRegistered")
        .withArgs(2n, alice.address, ROOT, MANIFEST, 3, 1, Status.Active, 0n, Lineage.None, anyTime(), 0n);
      expect(await assets.assetIdOf(ROOT)).to.equal(2n);
      // The old record still answers, unchanged, beside the new one.
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Cancelled));
      expect((await assets.assetOf(id)).contentRoot).to.equal(ROOT);
      expect(await assets.ownerAndStatus(id)).to.deep.equal([alice.address, BigInt(Status.Cancelled)]);
      expect(await assets.ownerAndStatus(2)).to.deep.equal([alice.address, BigInt(Status.Active)]);
    });

    it("a squatter's rejected registration frees the root for the true owner (old contracts kept it taken)", async function () {
      const { assets, eve, bob, reviewer } = await loadFixture(reviewFixture);
      const squat = await registerAsset(assets, eve, "dataset-a");
      await expect(assets.connect(bob).register(REQUEST, NO_SALT))
        .to.be.revertedWithCustomError(assets, "AssetAlreadyRegistered")
        .withArgs(ROOT, squat);
      await expect(assets.connect(reviewer).rejectRegistration(squat, REASON, NO_RESERVATION))
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(squat, Status.Pending, Status.Rejected, reviewer.address, REASON);
      expect(await assets.assetIdOf(ROOT)).to.equal(0n);
      const record = await assets.assetOf(squat);
      expect(record.owner).to.equal(eve.address);
      expect(record.status).to.equal(BigInt(Status.Rejected));
      expect(record.contentRoot).to.equal(ROOT);

      await assets.connect(bob).register(REQUEST, NO_SALT);
      expect(await assets.assetIdOf(ROOT)).to.equal(2n);
      expect((await assets.assetOf(2)).owner).to.equal(bob.address);
      expect(await assets.statusOf(squat)).to.equal(BigInt(Status.Rejected));
    });

    it("a released record is history: no further moves (cancel, suspend, reinstate, renew, object; a reviewer's rejection only while its root cools, since the second review)", async function () {
      const { assets, alice, reviewer } = await loadFixture(reviewFixture);
      const id = await registerAsset(assets, alice, "dataset-a", { validUntil: BigInt(await time.latest()) + BigInt(400 * DAY) });
      await assets.connect(alice).cancel(id, REASON);
      await expect(assets.connect(alice).cancel(id, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Cancelled, Status.Cancelled);
      await time.increase(CANCEL_COOLDOWN);
      await expect(assets.connect(reviewer).rejectRegistration(id, REASON, NO_RESERVATION))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Cancelled, Status.Rejected);
      await expect(assets.connect(reviewer).suspend(id, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Cancelled, Status.Suspended);
      await expect(assets.connect(reviewer).reinstate(id, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Cancelled, Status.Active);
      await expect(assets.connect(reviewer).renew(id, BigInt(await time.latest()) + BigInt(800 * DAY)))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Cancelled, Status.Active);
      const { noticeEndsAt } = await assets.assetOf(id);
      await expect(assets.connect(reviewer).object(id, EVIDENCE))
        .to.be.revertedWithCustomError(assets, "NotInNotice")
        .withArgs(id, Status.Cancelled, noticeEndsAt);
    });
  });

  describe("reserved roots (a reviewer frees a squatted root for its true owner)", function () {
    const LOW_TIP = { gasLimit: GAS, maxPriorityFeePerGas: 1n * GWEI, maxFeePerGas: 200n * GWEI };
    const MID_TIP = { gasLimit: GAS, maxPriorityFeePerGas: 10n * GWEI, maxFeePerGas: 200n * GWEI };
    const HIGH_TIP = { gasLimit: GAS, maxPriorityFeePerGas: 50n * GWEI, maxFeePerGas: 200n * GWEI };

    /** reviewFixture where eve squats ROOT (asset 1, pending) and the reviewer rejects it for bob at `reservedAt`. */
    async function reservedFixture() {
      const system = await reviewFixture();
      const { assets, eve, bob, reviewer } = system;
      const squat = await registerAsset(assets, eve, "dataset-a");
      const reservedAt = await nextBlockAt();
      await assets.connect(reviewer).rejectRegistration(squat, REASON, bob.address);
      return { ...system, squat, reservedAt, reservedUntil: reservedAt + BigInt(RESERVATION_PERIOD) };
    }

    it("exposes RESERVATION_PERIOD: 30 days", async function () {
      const { assets } = await loadFixture(normalFixture);
      expect(await assets.RESERVATION_PERIOD()).to.equal(BigInt(RESERVATION_PERIOD));
      expect(RESERVATION_PERIOD).to.equal(30 * DAY);
    });

    it("rejectRegistration with reserveFor frees the root and reserves it: RootReserved(root, beneficiary, rejected asset id, now + RESERVATION_PERIOD) (the asset id since the second review); assetIdOf stays 0; the released record stays readable by id", async function () {
      const { assets, eve, bob, reviewer } = await loadFixture(reviewFixture);
      const squat = await registerAsset(assets, eve, "dataset-a");
      const t = await nextBlockAt();
      const tx = assets.connect(reviewer).rejectRegistration(squat, REASON, bob.address);
      await expect(tx)
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(squat, Status.Pending, Status.Rejected, reviewer.address, REASON);
      await expect(tx)
        .to.emit(assets, "RootReserved")
        .withArgs(ROOT, bob.address, squat, t + BigInt(RESERVATION_PERIOD));
      expect(await assets.assetIdOf(ROOT)).to.equal(0n);
      const record = await assets.assetOf(squat);
      expect(record.contentRoot).to.equal(ROOT);
      expect(record.owner).to.equal(eve.address);
      expect(record.status).to.equal(BigInt(Status.Rejected));
      expect(await assets.ownerAndStatus(squat)).to.deep.equal([eve.address, BigInt(Status.Rejected)]);
      expect(await assets.statusOf(squat)).to.equal(BigInt(Status.Rejected));
      // The reservation holds no asset: id 0 stays unknown.
      await expect(assets.assetOf(0)).to.be.revertedWithCustomError(assets, "UnknownAsset").withArgs(0n);
    });

    it("a rejection without reserveFor (0) reserves nothing: no RootReserved, anyone may register the root at once", async function () {
      const { assets, eve, carol, reviewer } = await loadFixture(reviewFixture);
      const squat = await registerAsset(assets, eve, "dataset-a");
      await expect(assets.connect(reviewer).rejectRegistration(squat, REASON, NO_RESERVATION)).not.to.emit(
        assets,
        "RootReserved",
      );
      await expect(assets.connect(carol).register(REQUEST, NO_SALT)).to.emit(assets, "AssetRegistered");
      expect((await assets.assetOf(await assets.assetIdOf(ROOT))).owner).to.equal(carol.address);
    });

    it("while reserved, anyone but the beneficiary is refused RootReservedFor(root, beneficiary, reservedUntil), the rejected squatter included; the beneficiary registers normally", async function () {
      const { assets, eve, bob, carol, reservedUntil } = await loadFixture(reservedFixture);
      for (const other of [eve, carol]) {
        await expect(assets.connect(other).register(REQUEST, NO_SALT))
          .to.be.revertedWithCustomError(assets, "RootReservedFor")
          .withArgs(ROOT, bob.address, reservedUntil);
      }
      // Another manifest or lineage changes nothing: the root is what is reserved.
      await expect(assets.connect(eve).register(registration("dataset-a", { manifestHash: h("manifest:other") }), NO_SALT))
        .to.be.revertedWithCustomError(assets, "RootReservedFor")
        .withArgs(ROOT, bob.address, reservedUntil);
      const t = await nextBlockAt();
      await expect(assets.connect(bob).register(REQUEST, NO_SALT))
        .to.emit(assets, "AssetRegistered")
        .withArgs(2n, bob.address, ROOT, MANIFEST, 3, 1, Status.Pending, 0n, Lineage.None, t, 0n);
      expect(await assets.assetIdOf(ROOT)).to.equal(2n);
      expect(await assets.ownerOf(2)).to.equal(bob.address);
      expect(await assets.statusOf(1)).to.equal(BigInt(Status.Rejected));
      await expect(assets.connect(eve).register(REQUEST, NO_SALT))
        .to.be.revertedWithCustomError(assets, "AssetAlreadyRegistered")
        .withArgs(ROOT, 2n);
    });

    it("the reservation names the registration's owner, not the sender: bob's registerBySig relayed by anyone lands; eve's relayed by bob is refused", async function () {
      const { assets, eve, bob, relayer, reservedUntil } = await loadFixture(reservedFixture);
      const deadline = BigInt(await time.latest()) + 3600n;
      const eveRequest = { owner: eve.address, ...REQUEST, deadline };
      const eveSignature = await signRegister(eve, assets, eveRequest);
      await expect(assets.connect(bob).registerBySig(eve.address, REQUEST, NO_SALT, deadline, eveSignature))
        .to.be.revertedWithCustomError(assets, "RootReservedFor")
        .withArgs(ROOT, bob.address, reservedUntil);
      const bobRequest = { owner: bob.address, ...REQUEST, deadline };
      const bobSignature = await signRegister(bob, assets, bobRequest);
      await assets.connect(relayer).registerBySig(bob.address, REQUEST, NO_SALT, deadline, bobSignature);
      expect(await assets.ownerOf(await assets.assetIdOf(ROOT))).to.equal(bob.address);
    });

    it("after RESERVATION_PERIOD anyone may register the root: refused the second before reservedUntil, accepted at it", async function () {
      const { assets, bob, carol, reservedUntil } = await loadFixture(reservedFixture);
      await time.setNextBlockTimestamp(reservedUntil - 1n);
      await expect(assets.connect(carol).register(REQUEST, NO_SALT))
        .to.be.revertedWithCustomError(assets, "RootReservedFor")
        .withArgs(ROOT, bob.address, reservedUntil);
      await time.setNextBlockTimestamp(reservedUntil);
      await expect(assets.connect(carol).register(REQUEST, NO_SALT))
        .to.emit(assets, "AssetRegistered")
        .withArgs(2n, carol.address, ROOT, MANIFEST, 3, 1, Status.Pending, 0n, Lineage.None, reservedUntil, 0n);
      expect(await assets.assetIdOf(ROOT)).to.equal(2n);
    });

    it("the beneficiary's registration overwrites the reservation: once it is cancelled the root cools for everyone, the beneficiary included, then is free to anyone within the period (before the second review: free at once)", async function () {
      const { assets, bob, carol, reservedUntil } = await loadFixture(reservedFixture);
      const id = await registerAsset(assets, bob, "dataset-a");
      const cancelledAt = await nextBlockAt();
      await assets.connect(bob).cancel(id, REASON);
      const until = cancelledAt + BigInt(CANCEL_COOLDOWN);
      expect(await assets.reservationOf(ROOT)).to.deep.equal([NO_RESERVATION, until]);
      for (const anyone of [bob, carol]) {
        await expect(assets.connect(anyone).register(REQUEST, NO_SALT))
          .to.be.revertedWithCustomError(assets, "RootReservedFor")
          .withArgs(ROOT, NO_RESERVATION, until);
      }
      await time.setNextBlockTimestamp(until);
      expect(until).to.be.lessThan(reservedUntil);
      await expect(assets.connect(carol).register(REQUEST, NO_SALT)).to.emit(assets, "AssetRegistered");
      expect(await assets.ownerOf(await assets.assetIdOf(ROOT))).to.equal(carol.address);
    });

    it("resolveDispute upheld with reserveFor reserves the root; dismissed with a non-zero reserveFor it is refused: InvalidReservation(reserveFor)", async function () {
      const { assets, eve, bob, carol, reviewer } = await loadFixture(reviewFixture);
      const squat = await registerAsset(assets, eve, "dataset-a");
      await assets.connect(bob).object(squat, EVIDENCE);
      await expect(assets.connect(reviewer).resolveDispute(squat, false, REASON, bob.address))
        .to.be.revertedWithCustomError(assets, "InvalidReservation")
        .withArgs(bob.address);
      await time.increase(NOTICE);
      // After the notice too (a dismissal would make it Active).
      await expect(assets.connect(reviewer).resolveDispute(squat, false, REASON, bob.address))
        .to.be.revertedWithCustomError(assets, "InvalidReservation")
        .withArgs(bob.address);
      expect(await assets.statusOf(squat)).to.equal(BigInt(Status.Disputed));
      const t = await nextBlockAt();
      const tx = assets.connect(reviewer).resolveDispute(squat, true, REASON, bob.address);
      await expect(tx)
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(squat, Status.Disputed, Status.Rejected, reviewer.address, REASON);
      await expect(tx)
        .to.emit(assets, "RootReserved")
        .withArgs(ROOT, bob.address, squat, t + BigInt(RESERVATION_PERIOD));
      await expect(assets.connect(carol).register(REQUEST, NO_SALT))
        .to.be.revertedWithCustomError(assets, "RootReservedFor")
        .withArgs(ROOT, bob.address, t + BigInt(RESERVATION_PERIOD));
    });

    it("an active squatter struck off (suspended, then rejected with reserveFor) loses the root to the reservation (normal mode)", async function () {
      const { assets, eve, bob, reviewer } = await loadFixture(normalFixture);
      const squat = await registerAsset(assets, eve, "dataset-a");
      await assets.connect(reviewer).suspend(squat, REASON);
      const t = await nextBlockAt();
      await expect(assets.connect(reviewer).rejectRegistration(squat, REASON, bob.address))
        .to.emit(assets, "RootReserved")
        .withArgs(ROOT, bob.address, squat, t + BigInt(RESERVATION_PERIOD));
      await expect(assets.connect(eve).register(REQUEST, NO_SALT))
        .to.be.revertedWithCustomError(assets, "RootReservedFor")
        .withArgs(ROOT, bob.address, t + BigInt(RESERVATION_PERIOD));
      await expect(assets.connect(bob).register(REQUEST, NO_SALT))
        .to.emit(assets, "AssetRegistered")
        .withArgs(2n, bob.address, ROOT, MANIFEST, 3, 1, Status.Active, 0n, Lineage.None, anyTime(), 0n);
    });

    it("attack: a squatter with a pre-aged commitment registering the root straight back in the block of the upheld resolution is refused at any tip — ahead AssetAlreadyRegistered, behind RootReservedFor (old contracts let it retake the root); the true owner then registers it", async function () {
      const { assets, eve, bob, reviewer } = await loadFixture(reviewCommitFixture);
      const EVE_SALT = h("salt:eve");
      const EVE_SALT_AGAIN = h("salt:eve again");
      const BOB_SALT = h("salt:bob");
      await assets.connect(eve).commit(await assets.makeCommitment(ROOT, eve.address, EVE_SALT));
      await time.increase(MIN_COMMIT_AGE);
      await assets.connect(eve).register(REQUEST, EVE_SALT);
      const squat = await assets.assetIdOf(ROOT);
      await assets.connect(bob).object(squat, EVIDENCE);
      // Both prepare their registration of the root: eve to retake it, bob to claim it.
      await assets.connect(eve).commit(await assets.makeCommitment(ROOT, eve.address, EVE_SALT_AGAIN));
      await assets.connect(bob).commit(await assets.makeCommitment(ROOT, bob.address, BOB_SALT));
      await time.increase(MIN_COMMIT_AGE);

      const t = BigInt(await time.latest()) + 5n;
      const [aheadTx, resolveTx, behindTx] = await withoutAutomine(async () => {
        const resolve = await assets.connect(reviewer).resolveDispute(squat, true, REASON, bob.address, MID_TIP);
        const ahead = await assets.connect(eve).register(REQUEST, EVE_SALT_AGAIN, HIGH_TIP);
        const behind = await assets.connect(eve).register(REQUEST, EVE_SALT_AGAIN, LOW_TIP);
        await mineAt(t);
        return [ahead, resolve, behind];
      });
      const [ahead, resolved, behind] = await receiptsOf([aheadTx, resolveTx, behindTx]);
      expect(ahead.blockNumber).to.equal(resolved.blockNumber);
      expect(behind.blockNumber).to.equal(resolved.blockNumber);
      expect(ahead.index).to.be.lessThan(resolved.index);
      expect(behind.index).to.be.greaterThan(resolved.index);
      expect(resolved.status).to.equal(1);
      expect(await revertOf(assets, aheadTx.hash)).to.deep.equal({ name: "AssetAlreadyRegistered", args: [ROOT, squat] });
      // Right behind the resolution the root is free: on the old contracts this took it back.
      expect(await revertOf(assets, behindTx.hash)).to.deep.equal({
        name: "RootReservedFor",
        args: [ROOT, bob.address, t + BigInt(RESERVATION_PERIOD)],
      });
      expect(await assets.assetIdOf(ROOT)).to.equal(0n);
      expect(await assets.totalAssets()).to.equal(1n);
      await expect(resolveTx).to.emit(assets, "RootReserved").withArgs(ROOT, bob.address, squat, t + BigInt(RESERVATION_PERIOD));

      await expect(assets.connect(bob).register(REQUEST, BOB_SALT))
        .to.emit(assets, "AssetRegistered")
        .withArgs(2n, bob.address, ROOT, MANIFEST, 3, 1, Status.Pending, 0n, Lineage.None, anyTime(), 0n);
      expect(await assets.ownerOf(2)).to.equal(bob.address);
      await expect(assets.connect(eve).register(REQUEST, EVE_SALT_AGAIN))
        .to.be.revertedWithCustomError(assets, "AssetAlreadyRegistered")
        .withArgs(ROOT, 2n);
    });

    it("attack: a squatter under objection cannot cancel and register the root again around the dispute: InvalidStatusTransition(Disputed, Cancelled) (old contracts let it start a fresh notice)", async function () {
      const { assets, eve, bob, reviewer } = await loadFixture(reviewFixture);
      const squat = await registerAsset(assets, eve, "dataset-a");
      await assets.connect(bob).object(squat, EVIDENCE);
      await expect(assets.connect(eve).cancel(squat, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(squat, Status.Disputed, Status.Cancelled);
      await expect(assets.connect(eve).register(REQUEST, NO_SALT))
        .to.be.revertedWithCustomError(assets, "AssetAlreadyRegistered")
        .withArgs(ROOT, squat);
      // The dispute stands until the reviewer decides it, notice or not.
      await time.increase(NOTICE);
      expect(await assets.statusOf(squat)).to.equal(BigInt(Status.Disputed));
      await assets.connect(reviewer).resolveDispute(squat, true, REASON, bob.address);
      await registerAsset(assets, bob, "dataset-a");
      expect(await assets.ownerOf(await assets.assetIdOf(ROOT))).to.equal(bob.address);
    });
  });

  describe("cancelled roots cool (CANCEL_COOLDOWN, second review): cancelling cannot dodge a reviewer", function () {
    const MID_TIP = { gasLimit: GAS, maxPriorityFeePerGas: 10n * GWEI, maxFeePerGas: 200n * GWEI };
    const HIGH_TIP = { gasLimit: GAS, maxPriorityFeePerGas: 50n * GWEI, maxFeePerGas: 200n * GWEI };

    /** `fixture` where alice's asset 1 (ROOT) was cancelled at `cancelledAt`; its root cools until `until`. */
    async function cancelledIn(fixture) {
      const system = await fixture();
      const { assets, alice } = system;
      const id = await registerAsset(assets, alice, "dataset-a");
      const cancelledAt = await nextBlockAt();
      await assets.connect(alice).cancel(id, REASON);
      return { ...system, id, cancelledAt, until: cancelledAt + BigInt(CANCEL_COOLDOWN) };
    }
    const cancelledFixture = () => cancelledIn(normalFixture);
    const cancelledReviewFixture = () => cancelledIn(reviewFixture);

    /** The one pending call `name` from `from` (a watcher reading the mempool). */
    async function seenInMempool(assets, from, name) {
      const calls = (await pendingCalls(assets)).filter((call) => call.from === from && call.name === name);
      expect(calls).to.have.length(1);
      return calls[0];
    }

    it("exposes CANCEL_COOLDOWN: 7 days", async function () {
      const { assets } = await loadFixture(normalFixture);
      expect(await assets.CANCEL_COOLDOWN()).to.equal(BigInt(CANCEL_COOLDOWN));
      expect(CANCEL_COOLDOWN).to.equal(7 * DAY);
    });

    for (const who of ["the canceller", "a stranger"]) {
      it(`${who} registering the cancelled root is refused RootReservedFor(root, 0, cancelledAt + CANCEL_COOLDOWN) up to the second before; at that second it is accepted (before the second review: at once)`, async function () {
        const { assets, alice, carol, until } = await loadFixture(cancelledFixture);
        const registrant = who === "the canceller" ? alice : carol;
        await expect(assets.connect(registrant).register(REQUEST, NO_SALT))
          .to.be.revertedWithCustomError(assets, "RootReservedFor")
          .withArgs(ROOT, NO_RESERVATION, until);
        await time.setNextBlockTimestamp(until - 1n);
        await expect(assets.connect(registrant).register(REQUEST, NO_SALT))
          .to.be.revertedWithCustomError(assets, "RootReservedFor")
          .withArgs(ROOT, NO_RESERVATION, until);
        await time.setNextBlockTimestamp(until);
        await expect(assets.connect(registrant).register(REQUEST, NO_SALT))
          .to.emit(assets, "AssetRegistered")
          .withArgs(2n, registrant.address, ROOT, MANIFEST, 3, 1, Status.Active, 0n, Lineage.None, until, 0n);
        expect(await assets.assetIdOf(ROOT)).to.equal(2n);
      });
    }

    it("a signed registration (registerBySig) and another manifest are refused the same while the root cools", async function () {
      const { assets, alice, relayer, until } = await loadFixture(cancelledFixture);
      const deadline = BigInt(await time.latest()) + 3600n;
      const signature = await signRegister(alice, assets, { owner: alice.address, ...REQUEST, deadline });
      await expect(assets.connect(relayer).registerBySig(alice.address, REQUEST, NO_SALT, deadline, signature))
        .to.be.revertedWithCustomError(assets, "RootReservedFor")
        .withArgs(ROOT, NO_RESERVATION, until);
      await expect(assets.connect(alice).register(registration("dataset-a", { manifestHash: h("manifest:other") }), NO_SALT))
        .to.be.revertedWithCustomError(assets, "RootReservedFor")
        .withArgs(ROOT, NO_RESERVATION, until);
    });

    it("rejectRegistration strikes off a cancelled registration while its root cools, the second before the end included: Cancelled → Rejected (AssetStatusChanged), RootReserved(root, reserveFor, id, now + RESERVATION_PERIOD); the beneficiary registers, others are refused (old contracts refused the rejection)", async function () {
      const { assets, alice, bob, reviewer, id, until } = await loadFixture(cancelledFixture);
      await time.setNextBlockTimestamp(until - 1n);
      const tx = assets.connect(reviewer).rejectRegistration(id, REASON, bob.address);
      await expect(tx)
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(id, Status.Cancelled, Status.Rejected, reviewer.address, REASON);
      const reservedUntil = until - 1n + BigInt(RESERVATION_PERIOD);
      await expect(tx).to.emit(assets, "RootReserved").withArgs(ROOT, bob.address, id, reservedUntil);
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Rejected));
      expect(await assets.ownerAndStatus(id)).to.deep.equal([alice.address, BigInt(Status.Rejected)]);
      const record = await assets.assetOf(id);
      expect(record.contentRoot).to.equal(ROOT);
      expect(record.owner).to.equal(alice.address);
      expect(record.status).to.equal(BigInt(Status.Rejected));
      expect(await assets.assetIdOf(ROOT)).to.equal(0n);
      expect(await assets.reservationOf(ROOT)).to.deep.equal([bob.address, reservedUntil]);
      // The reservation outlasts the cooldown.
      await time.setNextBlockTimestamp(until + 1n);
      await expect(assets.connect(alice).register(REQUEST, NO_SALT))
        .to.be.revertedWithCustomError(assets, "RootReservedFor")
        .withArgs(ROOT, bob.address, reservedUntil);
      await expect(assets.connect(bob).register(REQUEST, NO_SALT))
        .to.emit(assets, "AssetRegistered")
        .withArgs(2n, bob.address, ROOT, MANIFEST, 3, 1, Status.Active, 0n, Lineage.None, anyTime(), 0n);
      // Struck off once: no second rejection.
      await expect(assets.connect(reviewer).rejectRegistration(id, REASON, NO_RESERVATION))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Rejected, Status.Rejected);
    });

    it("rejectRegistration of a cooling cancelled registration without reserveFor moves it to Rejected, reserves nothing and leaves the cooldown as it was", async function () {
      const { assets, carol, reviewer, id, until } = await loadFixture(cancelledReviewFixture);
      await expect(assets.connect(reviewer).rejectRegistration(id, REASON, NO_RESERVATION))
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(id, Status.Cancelled, Status.Rejected, reviewer.address, REASON)
        .and.not.to.emit(assets, "RootReserved");
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Rejected));
      expect(await assets.reservationOf(ROOT)).to.deep.equal([NO_RESERVATION, until]);
      await time.setNextBlockTimestamp(until - 1n);
      await expect(assets.connect(carol).register(REQUEST, NO_SALT))
        .to.be.revertedWithCustomError(assets, "RootReservedFor")
        .withArgs(ROOT, NO_RESERVATION, until);
      await time.setNextBlockTimestamp(until);
      await expect(assets.connect(carol).register(REQUEST, NO_SALT)).to.emit(assets, "AssetRegistered");
    });

    it("rejectRegistration of a cancelled registration is refused from the end of the cooldown on: InvalidStatusTransition(id, Cancelled, Rejected); only reviewers may strike one off", async function () {
      const { assets, alice, bob, reviewer, admin, id, until } = await loadFixture(cancelledFixture);
      const REVIEWER_ROLE = await assets.REVIEWER_ROLE();
      for (const caller of [alice, admin]) {
        await expect(assets.connect(caller).rejectRegistration(id, REASON, bob.address))
          .to.be.revertedWithCustomError(assets, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, REVIEWER_ROLE);
      }
      await time.setNextBlockTimestamp(until);
      await expect(assets.connect(reviewer).rejectRegistration(id, REASON, bob.address))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Cancelled, Status.Rejected);
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Cancelled));
    });

    it("rejectRegistration of a cancelled registration is refused once its root is registered again, and once a reviewer reserved it over a later registration: InvalidStatusTransition(id, Cancelled, Rejected)", async function () {
      const { assets, bob, carol, eve, reviewer, id, until } = await loadFixture(cancelledReviewFixture);
      await time.setNextBlockTimestamp(until);
      await assets.connect(eve).register(REQUEST, NO_SALT);
      const again = await assets.assetIdOf(ROOT);
      expect(again).to.equal(2n);
      await expect(assets.connect(reviewer).rejectRegistration(id, REASON, bob.address))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Cancelled, Status.Rejected);
      // The later registration is rejected and its root reserved: the old cancelled one stays as it was.
      await expect(assets.connect(reviewer).rejectRegistration(again, REASON, carol.address))
        .to.emit(assets, "RootReserved")
        .withArgs(ROOT, carol.address, again, anyTime());
      await expect(assets.connect(reviewer).rejectRegistration(id, REASON, bob.address))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Cancelled, Status.Rejected);
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Cancelled));
    });

    it("rejectRegistration of an old cancelled registration is refused while a later registration of its root cools after its own cancellation: InvalidStatusTransition(id, Cancelled, Rejected); the later one may be struck off", async function () {
      const { assets, bob, eve, reviewer, id, until } = await loadFixture(cancelledFixture);
      await time.setNextBlockTimestamp(until);
      await assets.connect(eve).register(REQUEST, NO_SALT);
      const again = await assets.assetIdOf(ROOT);
      await assets.connect(eve).cancel(again, REASON);
      // Asset 1's own cooldown ended long ago; the root cools for asset 2's cancellation only.
      await expect(assets.connect(reviewer).rejectRegistration(id, REASON, bob.address))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Cancelled, Status.Rejected);
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Cancelled));
      await expect(assets.connect(reviewer).rejectRegistration(again, REASON, bob.address))
        .to.emit(assets, "RootReserved")
        .withArgs(ROOT, bob.address, again, anyTime());
    });

    it("attack (review + commitments): a squatter with pre-aged commitments who sees the reviewer's pending rejectRegistration(id, reason, trueOwner) and front-runs it with cancel + register at a higher tip is refused RootReservedFor(root, 0, until); the rejection lands on the cancelled registration and reserves the root; the true owner registers (old contracts let the squatter keep the root under a new id)", async function () {
      const { assets, eve, bob, reviewer } = await loadFixture(reviewCommitFixture);
      const EVE_SALT = h("salt:eve");
      const EVE_SALT_AGAIN = h("salt:eve again");
      const BOB_SALT = h("salt:bob");
      await assets.connect(eve).commit(await assets.makeCommitment(ROOT, eve.address, EVE_SALT));
      await time.increase(MIN_COMMIT_AGE);
      await assets.connect(eve).register(REQUEST, EVE_SALT);
      const squat = await assets.assetIdOf(ROOT);
      // Eve keeps an aged commitment ready to retake the root; bob one to claim it.
      await assets.connect(eve).commit(await assets.makeCommitment(ROOT, eve.address, EVE_SALT_AGAIN));
      await assets.connect(bob).commit(await assets.makeCommitment(ROOT, bob.address, BOB_SALT));
      await time.increase(MIN_COMMIT_AGE);
      expect(await assets.statusOf(squat)).to.equal(BigInt(Status.Pending));

      const t = BigInt(await time.latest()) + 5n;
      const [rejectTx, cancelTx, retakeTx] = await withoutAutomine(async () => {
        const reject = await assets.connect(reviewer).rejectRegistration(squat, REASON, bob.address, MID_TIP);
        const seen = await seenInMempool(assets, reviewer.address, "rejectRegistration");
        expect(seen.args[0]).to.equal(squat);
        expect(seen.args[2]).to.equal(bob.address);
        const cancel = await assets.connect(eve).cancel(squat, REASON, HIGH_TIP);
        const retake = await assets.connect(eve).register(REQUEST, EVE_SALT_AGAIN, HIGH_TIP);
        await mineAt(t);
        return [reject, cancel, retake];
      });
      const [rejected, cancelled, retaken] = await receiptsOf([rejectTx, cancelTx, retakeTx]);
      expect(cancelled.blockNumber).to.equal(rejected.blockNumber);
      expect(retaken.blockNumber).to.equal(rejected.blockNumber);
      expect(cancelled.index).to.be.lessThan(retaken.index);
      expect(retaken.index).to.be.lessThan(rejected.index);
      expect(cancelled.status).to.equal(1);
      expect(await revertOf(assets, retakeTx.hash)).to.deep.equal({
        name: "RootReservedFor",
        args: [ROOT, NO_RESERVATION, t + BigInt(CANCEL_COOLDOWN)],
      });
      expect(rejected.status).to.equal(1);
      await expect(cancelTx)
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(squat, Status.Pending, Status.Cancelled, eve.address, REASON);
      await expect(rejectTx)
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(squat, Status.Cancelled, Status.Rejected, reviewer.address, REASON);
      await expect(rejectTx)
        .to.emit(assets, "RootReserved")
        .withArgs(ROOT, bob.address, squat, t + BigInt(RESERVATION_PERIOD));
      expect(await assets.statusOf(squat)).to.equal(BigInt(Status.Rejected));
      expect(await assets.totalAssets()).to.equal(1n);

      // Eve's commitment is still unspent (her reveal reverted): the reservation stops it.
      await expect(assets.connect(eve).register(REQUEST, EVE_SALT_AGAIN))
        .to.be.revertedWithCustomError(assets, "RootReservedFor")
        .withArgs(ROOT, bob.address, t + BigInt(RESERVATION_PERIOD));
      await expect(assets.connect(bob).register(REQUEST, BOB_SALT))
        .to.emit(assets, "AssetRegistered")
        .withArgs(2n, bob.address, ROOT, MANIFEST, 3, 1, Status.Pending, 0n, Lineage.None, anyTime(), 0n);
      expect(await assets.ownerOf(2)).to.equal(bob.address);
      await expect(assets.connect(eve).register(REQUEST, EVE_SALT_AGAIN))
        .to.be.revertedWithCustomError(assets, "AssetAlreadyRegistered")
        .withArgs(ROOT, 2n);
    });

    it("attack (normal mode): a squatter who sees the reviewer's pending suspend and front-runs it with cancel + register at a higher tip is refused RootReservedFor(root, 0, until); the suspend finds it Cancelled; the reviewer then rejects the cancelled registration with a reservation and the true owner registers (old contracts let the squatter keep the root under a new id)", async function () {
      const { assets, eve, bob, reviewer } = await loadFixture(normalFixture);
      const squat = await registerAsset(assets, eve, "dataset-a");
      const t = BigInt(await time.latest()) + 5n;
      const [suspendTx, cancelTx, retakeTx] = await withoutAutomine(async () => {
        const suspend = await assets.connect(reviewer).suspend(squat, REASON, MID_TIP);
        const seen = await seenInMempool(assets, reviewer.address, "suspend");
        expect(seen.args[0]).to.equal(squat);
        const cancel = await assets.connect(eve).cancel(squat, REASON, HIGH_TIP);
        const retake = await assets.connect(eve).register(REQUEST, NO_SALT, HIGH_TIP);
        await mineAt(t);
        return [suspend, cancel, retake];
      });
      const [suspended, cancelled, retaken] = await receiptsOf([suspendTx, cancelTx, retakeTx]);
      expect(cancelled.blockNumber).to.equal(suspended.blockNumber);
      expect(retaken.blockNumber).to.equal(suspended.blockNumber);
      expect(cancelled.index).to.be.lessThan(retaken.index);
      expect(retaken.index).to.be.lessThan(suspended.index);
      expect(cancelled.status).to.equal(1);
      const until = t + BigInt(CANCEL_COOLDOWN);
      expect(await revertOf(assets, retakeTx.hash)).to.deep.equal({
        name: "RootReservedFor",
        args: [ROOT, NO_RESERVATION, until],
      });
      expect(await revertOf(assets, suspendTx.hash)).to.deep.equal({
        name: "InvalidStatusTransition",
        args: [squat, BigInt(Status.Cancelled), BigInt(Status.Suspended)],
      });
      expect(await assets.assetIdOf(ROOT)).to.equal(0n);
      expect(await assets.totalAssets()).to.equal(1n);

      const r = await nextBlockAt();
      const tx = assets.connect(reviewer).rejectRegistration(squat, REASON, bob.address);
      await expect(tx)
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(squat, Status.Cancelled, Status.Rejected, reviewer.address, REASON);
      await expect(tx)
        .to.emit(assets, "RootReserved")
        .withArgs(ROOT, bob.address, squat, r + BigInt(RESERVATION_PERIOD));
      // When the cooldown would have freed it, the root is bob's.
      await time.setNextBlockTimestamp(until);
      await expect(assets.connect(eve).register(REQUEST, NO_SALT))
        .to.be.revertedWithCustomError(assets, "RootReservedFor")
        .withArgs(ROOT, bob.address, r + BigInt(RESERVATION_PERIOD));
      await expect(assets.connect(bob).register(REQUEST, NO_SALT))
        .to.emit(assets, "AssetRegistered")
        .withArgs(2n, bob.address, ROOT, MANIFEST, 3, 1, Status.Active, 0n, Lineage.None, anyTime(), 0n);
    });
  });

  describe("reservationOf (second review)", function () {
    it("answers (0, 0) for a root never registered and for a held one (Pending, Active, Disputed, Suspended)", async function () {
      const { assets, alice, bob, reviewer } = await loadFixture(reviewFixture);
      const none = [NO_RESERVATION, 0n];
      expect(await assets.reservationOf(ROOT)).to.deep.equal(none);
      const id = await registerAsset(assets, alice, "dataset-a");
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Pending));
      expect(await assets.reservationOf(ROOT)).to.deep.equal(none);
      await assets.connect(bob).object(id, EVIDENCE);
      expect(await assets.reservationOf(ROOT)).to.deep.equal(none);
      await assets.connect(reviewer).resolveDispute(id, false, REASON, NO_RESERVATION);
      await time.increase(NOTICE);
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Active));
      expect(await assets.reservationOf(ROOT)).to.deep.equal(none);
      await assets.connect(reviewer).suspend(id, REASON);
      expect(await assets.reservationOf(ROOT)).to.deep.equal(none);
    });

    it("answers (0, until) while a cancelled root cools, the second before until included, and (0, 0) from until on", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      const id = await registerAsset(assets, alice, "dataset-a");
      const cancelledAt = await nextBlockAt();
      await assets.connect(alice).cancel(id, REASON);
      const until = cancelledAt + BigInt(CANCEL_COOLDOWN);
      expect(await assets.reservationOf(ROOT)).to.deep.equal([NO_RESERVATION, until]);
      await time.increaseTo(until - 1n);
      expect(await assets.reservationOf(ROOT)).to.deep.equal([NO_RESERVATION, until]);
      await time.increaseTo(until);
      expect(await assets.reservationOf(ROOT)).to.deep.equal([NO_RESERVATION, 0n]);
      // Registered again: held.
      await registerAsset(assets, alice, "dataset-a");
      expect(await assets.reservationOf(ROOT)).to.deep.equal([NO_RESERVATION, 0n]);
    });

    it("answers (beneficiary, reservedUntil) while a reviewer's reservation runs, (0, 0) from reservedUntil on and once the beneficiary registers; (0, 0) after a rejection without reservation", async function () {
      const { assets, eve, bob, reviewer } = await loadFixture(reviewFixture);
      const squat = await registerAsset(assets, eve, "dataset-a");
      const other = await registerAsset(assets, eve, "dataset-b");
      const t = await nextBlockAt();
      await assets.connect(reviewer).rejectRegistration(squat, REASON, bob.address);
      const reservedUntil = t + BigInt(RESERVATION_PERIOD);
      expect(await assets.reservationOf(ROOT)).to.deep.equal([bob.address, reservedUntil]);
      await assets.connect(reviewer).rejectRegistration(other, REASON, NO_RESERVATION);
      expect(await assets.reservationOf(h("content:dataset-b"))).to.deep.equal([NO_RESERVATION, 0n]);
      await time.increaseTo(reservedUntil - 1n);
      expect(await assets.reservationOf(ROOT)).to.deep.equal([bob.address, reservedUntil]);
      await time.increaseTo(reservedUntil);
      expect(await assets.reservationOf(ROOT)).to.deep.equal([NO_RESERVATION, 0n]);

      // A fresh reservation, taken up by its beneficiary.
      const squat2 = await registerAsset(assets, eve, "dataset-c");
      await assets.connect(reviewer).rejectRegistration(squat2, REASON, bob.address);
      expect((await assets.reservationOf(h("content:dataset-c")))[0]).to.equal(bob.address);
      await registerAsset(assets, bob, "dataset-c");
      expect(await assets.reservationOf(h("content:dataset-c"))).to.deep.equal([NO_RESERVATION, 0n]);
    });

    it("answers (beneficiary, now + RESERVATION_PERIOD) once a cooling cancelled registration is rejected with a reservation", async function () {
      const { assets, alice, bob, reviewer } = await loadFixture(normalFixture);
      const id = await registerAsset(assets, alice, "dataset-a");
      await assets.connect(alice).cancel(id, REASON);
      const r = await nextBlockAt();
      await assets.connect(reviewer).rejectRegistration(id, REASON, bob.address);
      expect(await assets.reservationOf(ROOT)).to.deep.equal([bob.address, r + BigInt(RESERVATION_PERIOD)]);
    });
  });

  describe("RootReserved names the rejected asset (second review)", function () {
    it("RootReserved(root, beneficiary, assetId, reservedUntil) carries the rejected id as an indexed topic, whether rejected from Pending, Disputed (resolveDispute) or Cancelled (old event had no id)", async function () {
      const { assets, alice, eve, bob, carol, dave, reviewer } = await loadFixture(reviewFixture);
      await registerAsset(assets, alice, "unrelated");
      const pending = await registerAsset(assets, eve, "dataset-a");
      const disputed = await registerAsset(assets, eve, "dataset-b");
      const cancelled = await registerAsset(assets, eve, "dataset-c");
      expect([pending, disputed, cancelled]).to.deep.equal([2n, 3n, 4n]);
      await assets.connect(bob).object(disputed, EVIDENCE);
      await assets.connect(eve).cancel(cancelled, REASON);

      await assets.connect(reviewer).rejectRegistration(pending, REASON, bob.address);
      await assets.connect(reviewer).resolveDispute(disputed, true, REASON, carol.address);
      await assets.connect(reviewer).rejectRegistration(cancelled, REASON, dave.address);

      const expected = [
        [pending, h("content:dataset-a"), bob.address],
        [disputed, h("content:dataset-b"), carol.address],
        [cancelled, h("content:dataset-c"), dave.address],
      ];
      for (const [id, root, beneficiary] of expected) {
        const events = await assets.queryFilter(assets.filters.RootReserved(null, null, id));
        expect(events).to.have.length(1);
        expect(events[0].args.contentRoot).to.equal(root);
        expect(events[0].args.beneficiary).to.equal(beneficiary);
        expect(events[0].args.assetId).to.equal(id);
        expect(events[0].args.reservedUntil).to.equal((await assets.reservationOf(root))[1]);
      }
      expect(await assets.queryFilter(assets.filters.RootReserved(null, null, 1n))).to.have.length(0);
    });
  });

  describe("registerVersion", function () {
    it("lets the parent's owner register a Version", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      const parent = await registerAsset(assets, alice, "v1");
      const request = registration("v2", { parentId: parent });
      expect(await assets.connect(alice).registerVersion.staticCall(request, NO_SALT)).to.equal(2n);
      await expect(assets.connect(alice).registerVersion(request, NO_SALT))
        .to.emit(assets, "AssetRegistered")
        .withArgs(2n, alice.address, h("content:v2"), h("manifest:v2"), 3, 1, Status.Active, parent, Lineage.Version, anyTime(), 0n);
      const asset = await assets.assetOf(2);
      expect(asset.parentId).to.equal(parent);
      expect(asset.lineage).to.equal(BigInt(Lineage.Version));
    });

    it("refuses a caller who does not own the parent", async function () {
      const { assets, alice, bob } = await loadFixture(normalFixture);
      const parent = await registerAsset(assets, alice, "v1");
      await expect(assets.connect(bob).registerVersion(registration("v2", { parentId: parent }), NO_SALT))
        .to.be.revertedWithCustomError(assets, "NotAssetOwner")
        .withArgs(parent, bob.address, alice.address);
    });

    it("follows the token: the old owner is refused after a transfer, the new owner may", async function () {
      const { assets, alice, bob } = await loadFixture(normalFixture);
      const parent = await registerAsset(assets, alice, "v1");
      await assets.connect(alice).transferFrom(alice.address, bob.address, parent);
      const request = registration("v2", { parentId: parent });
      await expect(assets.connect(alice).registerVersion(request, NO_SALT))
        .to.be.revertedWithCustomError(assets, "NotAssetOwner")
        .withArgs(parent, alice.address, bob.address);
      await expect(assets.connect(bob).registerVersion(request, NO_SALT))
        .to.emit(assets, "AssetRegistered")
        .withArgs(2n, bob.address, h("content:v2"), h("manifest:v2"), 3, 1, Status.Active, parent, Lineage.Version, anyTime(), 0n);
    });

    it("refuses an unknown parent (0 included)", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      for (const parentId of [0n, 5n]) {
        await expect(assets.connect(alice).registerVersion(registration("v2", { parentId }), NO_SALT))
          .to.be.revertedWithCustomError(assets, "UnknownAsset")
          .withArgs(parentId);
      }
    });

    it("validates the new record like register", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      const parent = await registerAsset(assets, alice, "v1");
      await expect(assets.connect(alice).registerVersion(registration("v1", { parentId: parent }), NO_SALT))
        .to.be.revertedWithCustomError(assets, "AssetAlreadyRegistered")
        .withArgs(h("content:v1"), parent);
      await expect(assets.connect(alice).registerVersion(registration("v2", { parentId: parent, rightsType: 0 }), NO_SALT))
        .to.be.revertedWithCustomError(assets, "InvalidRightsType")
        .withArgs(0);
    });
  });

  describe("derived assets", function () {
    it("register with a parent records Derived lineage (the parent may belong to someone else)", async function () {
      const { assets, alice, bob } = await loadFixture(normalFixture);
      const parent = await registerAsset(assets, alice, "parent");
      await expect(assets.connect(bob).register(registration("derived", { parentId: parent, rightsType: 2 }), NO_SALT))
        .to.emit(assets, "AssetRegistered")
        .withArgs(2n, bob.address, h("content:derived"), h("manifest:derived"), 2, 1, Status.Active, parent, Lineage.Derived, anyTime(), 0n);
      const asset = await assets.assetOf(2);
      expect(asset.parentId).to.equal(parent);
      expect(asset.lineage).to.equal(BigInt(Lineage.Derived));
      expect(asset.owner).to.equal(bob.address);
    });
  });

  describe("active parents only (suspension cannot be sidestepped, issue 10 §3)", function () {
    /** Expect both registerVersion (by the parent's owner) and a derived register to be refused. */
    async function expectParentRefused(assets, owner, parentId, status) {
      await expect(assets.connect(owner).registerVersion(registration("child-v", { parentId }), NO_SALT))
        .to.be.revertedWithCustomError(assets, "ParentNotActive")
        .withArgs(parentId, status);
      await expect(assets.connect(owner).register(registration("child-d", { parentId }), NO_SALT))
        .to.be.revertedWithCustomError(assets, "ParentNotActive")
        .withArgs(parentId, status);
    }

    it("a suspended parent takes no versions and no derived assets; reinstated, it does", async function () {
      const { assets, alice, reviewer } = await loadFixture(normalFixture);
      const parent = await registerAsset(assets, alice, "parent");
      await assets.connect(reviewer).suspend(parent, REASON);
      await expectParentRefused(assets, alice, parent, Status.Suspended);
      await assets.connect(reviewer).reinstate(parent, REASON);
      await expect(assets.connect(alice).registerVersion(registration("child-v", { parentId: parent }), NO_SALT))
        .to.emit(assets, "AssetRegistered");
      await expect(assets.connect(alice).register(registration("child-d", { parentId: parent }), NO_SALT))
        .to.emit(assets, "AssetRegistered");
    });

    it("a cancelled parent is refused", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      const parent = await registerAsset(assets, alice, "parent");
      await assets.connect(alice).cancel(parent, REASON);
      await expectParentRefused(assets, alice, parent, Status.Cancelled);
    });

    it("an expired parent is refused", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      const validUntil = BigInt(await time.latest()) + BigInt(DAY);
      const parent = await registerAsset(assets, alice, "parent", { validUntil });
      await time.increaseTo(validUntil);
      await expectParentRefused(assets, alice, parent, Status.Expired);
    });

    it("a pending parent (in its notice) and a disputed one are refused; after the notice the parent is active", async function () {
      const { assets, alice, eve, reviewer } = await loadFixture(reviewFixture);
      const pending = await registerAsset(assets, alice, "pending");
      await expectParentRefused(assets, alice, pending, Status.Pending);
      const disputed = await registerAsset(assets, alice, "disputed");
      await assets.connect(eve).object(disputed, EVIDENCE);
      await expectParentRefused(assets, alice, disputed, Status.Disputed);

      await time.increase(NOTICE);
      await expectParentRefused(assets, alice, disputed, Status.Disputed);
      await expect(assets.connect(alice).registerVersion(registration("child-v", { parentId: pending }), NO_SALT))
        .to.emit(assets, "AssetRegistered");
      const rejected = disputed;
      await assets.connect(reviewer).resolveDispute(rejected, true, REASON, NO_RESERVATION);
      await expect(assets.connect(alice).register(registration("child-r", { parentId: rejected }), NO_SALT))
        .to.be.revertedWithCustomError(assets, "ParentNotActive")
        .withArgs(rejected, Status.Rejected);
    });
  });

  describe("registerBySig", function () {
    async function sigFixture() {
      const system = await normalFixture();
      const deadline = BigInt(await time.latest()) + 3600n;
      const request = {
        owner: system.alice.address,
        ...registration("dataset-a", { rightsType: Rights.HOLDING | Rights.OPERATION, classification: 2 }),
        deadline,
      };
      return { ...system, request };
    }

    const send = (assets, relayer, r, signature, salt = NO_SALT) =>
      assets.connect(relayer).registerBySig(r.owner, asRegistration(r), salt, r.deadline, signature);

    it("mints to the signer when anyone relays the signed request, and moves the nonce", async function () {
      const { assets, alice, relayer, request } = await loadFixture(sigFixture);
      expect(await assets.nonces(alice.address)).to.equal(0n);
      const signature = await signRegister(alice, assets, request);
      const tx = send(assets, relayer, request, signature);
      await expect(tx).to.emit(assets, "Transfer").withArgs(ethers.ZeroAddress, alice.address, 1n);
      await expect(tx)
        .to.emit(assets, "AssetRegistered")
        .withArgs(1n, alice.address, ROOT, MANIFEST, 5, 2, Status.Active, 0n, Lineage.None, anyTime(), 0n);
      expect(await assets.nonces(alice.address)).to.equal(1n);
      expect(await assets.nonces(relayer.address)).to.equal(0n);
      const asset = await assets.assetOf(1);
      expect(asset.owner).to.equal(alice.address);
      expect(asset.registrant).to.equal(alice.address);
      expect(await assets.balanceOf(relayer.address)).to.equal(0n);
    });

    it("signs validUntil too: a signed expiry is recorded", async function () {
      const { assets, alice, relayer, request } = await loadFixture(sigFixture);
      const expiring = { ...request, validUntil: request.deadline + BigInt(365 * DAY) };
      await send(assets, relayer, expiring, await signRegister(alice, assets, expiring));
      expect((await assets.assetOf(1)).validUntil).to.equal(expiring.validUntil);
    });

    it("refuses the same signature twice (the nonce moved)", async function () {
      const { assets, alice, relayer, request } = await loadFixture(sigFixture);
      const signature = await signRegister(alice, assets, request);
      await send(assets, relayer, request, signature);
      await expect(send(assets, relayer, request, signature))
        .to.be.revertedWithCustomError(assets, "InvalidSignature")
        .withArgs(alice.address);
    });

    it("accepts nonces strictly in order", async function () {
      const { assets, alice, relayer, request } = await loadFixture(sigFixture);
      const second = { ...request, contentRoot: h("content:second") };
      const early = await signRegister(alice, assets, { ...second, nonce: 1n });
      await expect(send(assets, relayer, second, early))
        .to.be.revertedWithCustomError(assets, "InvalidSignature")
        .withArgs(alice.address);
      await send(assets, relayer, request, await signRegister(alice, assets, request));
      await expect(send(assets, relayer, second, early)).to.emit(assets, "AssetRegistered");
      expect(await assets.nonces(alice.address)).to.equal(2n);
    });

    it("refuses an expired deadline and accepts a deadline equal to the block time", async function () {
      const { assets, alice, relayer, request } = await loadFixture(sigFixture);
      const signature = await signRegister(alice, assets, request);
      await time.setNextBlockTimestamp(request.deadline + 1n);
      await expect(send(assets, relayer, request, signature))
        .to.be.revertedWithCustomError(assets, "SignatureExpired")
        .withArgs(request.deadline, request.deadline + 1n);

      const { assets: fresh, request: r2 } = await loadFixture(sigFixture);
      const sig2 = await signRegister(alice, fresh, r2);
      await time.setNextBlockTimestamp(r2.deadline);
      await expect(send(fresh, relayer, r2, sig2)).to.emit(fresh, "AssetRegistered");
    });

    it("refuses a signature for another chain id, contract, domain name or version (v1)", async function () {
      const { assets, grants, alice, relayer, request } = await loadFixture(sigFixture);
      const overrides = [
        { chainId: 1n },
        { verifyingContract: await grants.getAddress() },
        { name: "dataseal GrantRegistry" },
        { version: "1" },
      ];
      for (const override of overrides) {
        const signature = await signRegister(alice, assets, request, override);
        await expect(send(assets, relayer, request, signature))
          .to.be.revertedWithCustomError(assets, "InvalidSignature")
          .withArgs(alice.address);
      }
    });

    it("refuses a signature by anyone but the owner named in the request", async function () {
      const { assets, alice, bob, relayer, request } = await loadFixture(sigFixture);
      const signature = await signRegister(bob, assets, request);
      await expect(send(assets, relayer, request, signature))
        .to.be.revertedWithCustomError(assets, "InvalidSignature")
        .withArgs(alice.address);
      // ... nor lets a relayer redirect alice's signature to itself.
      const aliceSig = await signRegister(alice, assets, request);
      await expect(send(assets, relayer, { ...request, owner: relayer.address }, aliceSig))
        .to.be.revertedWithCustomError(assets, "InvalidSignature")
        .withArgs(relayer.address);
    });

    it("refuses a request changed after signing (every field is signed)", async function () {
      const { assets, alice, relayer, request } = await loadFixture(sigFixture);
      const signature = await signRegister(alice, assets, request);
      const parent = await registerAsset(assets, alice, "parent");
      const tampered = [
        { contentRoot: h("content:other") },
        { manifestHash: h("manifest:other") },
        { rightsType: 1 },
        { classification: 3 },
        { parentId: parent },
        { validUntil: request.deadline + 1000n },
        { deadline: request.deadline + 1n },
      ];
      for (const change of tampered) {
        await expect(send(assets, relayer, { ...request, ...change }, signature))
          .to.be.revertedWithCustomError(assets, "InvalidSignature")
          .withArgs(alice.address);
      }
      await expect(send(assets, relayer, request, signature)).to.emit(assets, "AssetRegistered");
    });

    it("refuses malformed signatures", async function () {
      const { assets, alice, relayer, request } = await loadFixture(sigFixture);
      const signature = await signRegister(alice, assets, request);
      for (const bad of ["0x", "0x1234", ethers.dataSlice(signature, 0, 64), ethers.concat([signature, "0x00"])]) {
        await expect(send(assets, relayer, request, bad))
          .to.be.revertedWithCustomError(assets, "InvalidSignature")
          .withArgs(alice.address);
      }
    });

    it("records Derived lineage for a parent, and refuses an unknown parent after a valid signature", async function () {
      const { assets, alice, bob, relayer, request } = await loadFixture(sigFixture);
      const parent = await registerAsset(assets, bob, "parent");
      const derived = { ...request, parentId: parent };
      await expect(send(assets, relayer, derived, await signRegister(alice, assets, derived)))
        .to.emit(assets, "AssetRegistered")
        .withArgs(2n, alice.address, ROOT, MANIFEST, 5, 2, Status.Active, parent, Lineage.Derived, anyTime(), 0n);

      const orphan = { ...request, contentRoot: h("content:orphan"), parentId: 99n };
      await expect(send(assets, relayer, orphan, await signRegister(alice, assets, orphan)))
        .to.be.revertedWithCustomError(assets, "UnknownAsset")
        .withArgs(99n);
      expect(await assets.nonces(alice.address)).to.equal(1n);
    });

    it("refuses a suspended parent after a valid signature (ParentNotActive)", async function () {
      const { assets, alice, bob, reviewer, relayer, request } = await loadFixture(sigFixture);
      const parent = await registerAsset(assets, bob, "parent");
      await assets.connect(reviewer).suspend(parent, REASON);
      const derived = { ...request, parentId: parent };
      await expect(send(assets, relayer, derived, await signRegister(alice, assets, derived)))
        .to.be.revertedWithCustomError(assets, "ParentNotActive")
        .withArgs(parent, Status.Suspended);
    });

    it("validates the record after a valid signature, leaving the nonce unused", async function () {
      const { assets, alice, relayer, request } = await loadFixture(sigFixture);
      const bad = { ...request, classification: 4 };
      await expect(send(assets, relayer, bad, await signRegister(alice, assets, bad)))
        .to.be.revertedWithCustomError(assets, "InvalidClassification")
        .withArgs(4);
      const zero = { ...request, contentRoot: ethers.ZeroHash };
      await expect(send(assets, relayer, zero, await signRegister(alice, assets, zero)))
        .to.be.revertedWithCustomError(assets, "InvalidContentRoot")
        .withArgs(ethers.ZeroHash);
      expect(await assets.nonces(alice.address)).to.equal(0n);
    });

    it("accepts an ERC-1271 contract owner's signature", async function () {
      const { assets, alice, relayer, request } = await loadFixture(sigFixture);
      const wallet = await deployMagicContract(alice, ERC1271_MAGIC);
      const r = { ...request, owner: wallet };
      await expect(send(assets, relayer, r, "0x")).to.emit(assets, "Transfer").withArgs(ethers.ZeroAddress, wallet, 1n);
      expect(await assets.ownerOf(1)).to.equal(wallet);
      expect(await assets.nonces(wallet)).to.equal(1n);
    });

    it("refuses an ERC-1271 owner whose contract does not answer", async function () {
      const { assets, grants, alice, relayer, request } = await loadFixture(sigFixture);
      const r = { ...request, owner: await grants.getAddress() };
      await expect(send(assets, relayer, r, await signRegister(alice, assets, r)))
        .to.be.revertedWithCustomError(assets, "InvalidSignature")
        .withArgs(await grants.getAddress());
    });

    it("useNonce voids a signed, unused request (InvalidSignature afterwards) and emits NonceUsed", async function () {
      const { assets, alice, relayer, request } = await loadFixture(sigFixture);
      const signature = await signRegister(alice, assets, request);
      expect(await assets.connect(alice).useNonce.staticCall()).to.equal(0n);
      await expect(assets.connect(alice).useNonce()).to.emit(assets, "NonceUsed").withArgs(alice.address, 0n);
      expect(await assets.nonces(alice.address)).to.equal(1n);
      await expect(send(assets, relayer, request, signature))
        .to.be.revertedWithCustomError(assets, "InvalidSignature")
        .withArgs(alice.address);
      // Another account's nonce did not move; a fresh signature (nonce 1) works.
      expect(await assets.nonces(relayer.address)).to.equal(0n);
      await expect(assets.connect(alice).useNonce()).to.emit(assets, "NonceUsed").withArgs(alice.address, 1n);
      await expect(send(assets, relayer, request, await signRegister(alice, assets, request))).to.emit(
        assets,
        "AssetRegistered",
      );
      expect(await assets.nonces(alice.address)).to.equal(3n);
    });
  });

  describe("commitments (commit–reveal)", function () {
    const SALT = h("salt:alice");

    it("makeCommitment is keccak256(abi.encode(contentRoot, owner, salt))", async function () {
      const { assets, alice } = await loadFixture(commitFixture);
      const expected = ethers.keccak256(
        ethers.AbiCoder.defaultAbiCoder().encode(["bytes32", "address", "bytes32"], [ROOT, alice.address, SALT]),
      );
      expect(await assets.makeCommitment(ROOT, alice.address, SALT)).to.equal(expected);
    });

    it("commit records the time and emits Committed; the reveal at exactly minCommitAge consumes it (committedAt 0)", async function () {
      const { assets, alice } = await loadFixture(commitFixture);
      const commitment = await assets.makeCommitment(ROOT, alice.address, SALT);
      expect(await assets.committedAt(commitment)).to.equal(0n);
      const tx = await assets.connect(alice).commit(commitment);
      await expect(tx).to.emit(assets, "Committed").withArgs(commitment, alice.address);
      const at = await blockTimeOf(tx);
      expect(await assets.committedAt(commitment)).to.equal(at);

      await time.setNextBlockTimestamp(at + BigInt(MIN_COMMIT_AGE));
      await expect(assets.connect(alice).register(REQUEST, SALT))
        .to.emit(assets, "AssetRegistered")
        .withArgs(1n, alice.address, ROOT, MANIFEST, 3, 1, Status.Active, 0n, Lineage.None, at + BigInt(MIN_COMMIT_AGE), 0n);
      expect(await assets.committedAt(commitment)).to.equal(0n);
    });

    it("anyone may send the commitment (it names the owner, not the sender)", async function () {
      const { assets, alice, relayer } = await loadFixture(commitFixture);
      const commitment = await assets.makeCommitment(ROOT, alice.address, SALT);
      await expect(assets.connect(relayer).commit(commitment)).to.emit(assets, "Committed").withArgs(commitment, relayer.address);
      await time.increase(MIN_COMMIT_AGE);
      await expect(assets.connect(alice).register(REQUEST, SALT)).to.emit(assets, "AssetRegistered");
    });

    it("a plain register without a commitment is refused (CommitmentNotFound)", async function () {
      const { assets, alice } = await loadFixture(commitFixture);
      const commitment = await assets.makeCommitment(ROOT, alice.address, SALT);
      await expect(assets.connect(alice).register(REQUEST, SALT))
        .to.be.revertedWithCustomError(assets, "CommitmentNotFound")
        .withArgs(commitment);
    });

    it("the reveal must match the commitment's root, owner and salt", async function () {
      const { assets, alice, bob } = await loadFixture(commitFixture);
      await assets.connect(alice).commit(await assets.makeCommitment(ROOT, alice.address, SALT));
      await time.increase(MIN_COMMIT_AGE);
      const wrongSalt = h("salt:wrong");
      await expect(assets.connect(alice).register(REQUEST, wrongSalt))
        .to.be.revertedWithCustomError(assets, "CommitmentNotFound")
        .withArgs(await assets.makeCommitment(ROOT, alice.address, wrongSalt));
      // bob knows alice's salt (say it leaked) yet the commitment names alice.
      await expect(assets.connect(bob).register(REQUEST, SALT))
        .to.be.revertedWithCustomError(assets, "CommitmentNotFound")
        .withArgs(await assets.makeCommitment(ROOT, bob.address, SALT));
      const other = registration("other");
      await expect(assets.connect(alice).register(other, SALT))
        .to.be.revertedWithCustomError(assets, "CommitmentNotFound")
        .withArgs(await assets.makeCommitment(other.contentRoot, alice.address, SALT));
    });

    it("a commitment younger than minCommitAge is refused (CommitmentTooNew, naming when to reveal)", async function () {
      const { assets, alice } = await loadFixture(commitFixture);
      const commitment = await assets.makeCommitment(ROOT, alice.address, SALT);
      const at = await blockTimeOf(await assets.connect(alice).commit(commitment));
      const revealFrom = at + BigInt(MIN_COMMIT_AGE);
      await time.setNextBlockTimestamp(revealFrom - 1n);
      await expect(assets.connect(alice).register(REQUEST, SALT))
        .to.be.revertedWithCustomError(assets, "CommitmentTooNew")
        .withArgs(commitment, revealFrom, revealFrom - 1n);
      expect(await assets.committedAt(commitment)).to.equal(at);
    });

    it("a commitment older than maxCommitAge is refused (CommitmentTooOld); at exactly maxCommitAge it is accepted", async function () {
      const { assets, alice } = await loadFixture(commitFixture);
      const commitment = await assets.makeCommitment(ROOT, alice.address, SALT);
      const at = await blockTimeOf(await assets.connect(alice).commit(commitment));
      const expiredAt = at + BigInt(MAX_COMMIT_AGE);
      await time.setNextBlockTimestamp(expiredAt + 1n);
      await expect(assets.connect(alice).register(REQUEST, SALT))
        .to.be.revertedWithCustomError(assets, "CommitmentTooOld")
        .withArgs(commitment, expiredAt, expiredAt + 1n);

      const fresh = await loadFixture(commitFixture);
      const at2 = await blockTimeOf(await fresh.assets.connect(alice).commit(commitment));
      await time.setNextBlockTimestamp(at2 + BigInt(MAX_COMMIT_AGE));
      await expect(fresh.assets.connect(alice).register(REQUEST, SALT)).to.emit(fresh.assets, "AssetRegistered");
    });

    it("re-committing is refused while the commitment is unexpired (CommitmentExists), allowed after maxCommitAge", async function () {
      const { assets, alice, eve } = await loadFixture(commitFixture);
      const commitment = await assets.makeCommitment(ROOT, alice.address, SALT);
      const at = await blockTimeOf(await assets.connect(alice).commit(commitment));
      const expiresAt = at + BigInt(MAX_COMMIT_AGE);
      // Nobody (the committer included) can refresh it; at expiresAt it still counts.
      for (const who of [alice, eve]) {
        await expect(assets.connect(who).commit(commitment))
          .to.be.revertedWithCustomError(assets, "CommitmentExists")
          .withArgs(commitment, expiresAt);
      }
      await time.setNextBlockTimestamp(expiresAt);
      await expect(assets.connect(alice).commit(commitment))
        .to.be.revertedWithCustomError(assets, "CommitmentExists")
        .withArgs(commitment, expiresAt);
      await time.setNextBlockTimestamp(expiresAt + 1n);
      await expect(assets.connect(alice).commit(commitment)).to.emit(assets, "Committed").withArgs(commitment, alice.address);
      expect(await assets.committedAt(commitment)).to.equal(expiresAt + 1n);
      await time.increase(MIN_COMMIT_AGE);
      await expect(assets.connect(alice).register(REQUEST, SALT)).to.emit(assets, "AssetRegistered");
    });

    it("a consumed commitment cannot be revealed again (a cancelled root needs a new commitment)", async function () {
      const { assets, alice } = await loadFixture(commitFixture);
      const commitment = await assets.makeCommitment(ROOT, alice.address, SALT);
      await assets.connect(alice).commit(commitment);
      await time.increase(MIN_COMMIT_AGE);
      await assets.connect(alice).register(REQUEST, SALT);
      await assets.connect(alice).cancel(1, REASON);
      await expect(assets.connect(alice).register(REQUEST, SALT))
        .to.be.revertedWithCustomError(assets, "CommitmentNotFound")
        .withArgs(commitment);
      // Consumed means committable again at once.
      await expect(assets.connect(alice).commit(commitment)).to.emit(assets, "Committed");
    });

    it("commit is refused where commitments are not required (CommitmentsNotRequired)", async function () {
      for (const fixture of [normalFixture, reviewFixture]) {
        const { assets, alice } = await loadFixture(fixture);
        await expect(assets.connect(alice).commit(h("commitment")))
          .to.be.revertedWithCustomError(assets, "CommitmentsNotRequired")
          .withArgs();
      }
    });

    it("registerVersion reveals a commitment too", async function () {
      const { assets, alice } = await loadFixture(commitFixture);
      await assets.connect(alice).commit(await assets.makeCommitment(ROOT, alice.address, SALT));
      await time.increase(MIN_COMMIT_AGE);
      await assets.connect(alice).register(REQUEST, SALT);
      const v2 = registration("v2", { parentId: 1n });
      const commitment = await assets.makeCommitment(v2.contentRoot, alice.address, SALT);
      await expect(assets.connect(alice).registerVersion(v2, SALT))
        .to.be.revertedWithCustomError(assets, "CommitmentNotFound")
        .withArgs(commitment);
      await assets.connect(alice).commit(commitment);
      await time.increase(MIN_COMMIT_AGE);
      await expect(assets.connect(alice).registerVersion(v2, SALT)).to.emit(assets, "AssetRegistered");
    });

    it("registerBySig reveals the owner's commitment, not the relayer's", async function () {
      const { assets, alice, relayer } = await loadFixture(commitFixture);
      const request = { owner: alice.address, ...REQUEST, deadline: BigInt(await time.latest()) + 3600n };
      const signature = await signRegister(alice, assets, request);
      await assets.connect(relayer).commit(await assets.makeCommitment(ROOT, relayer.address, SALT));
      await time.increase(MIN_COMMIT_AGE);
      await expect(assets.connect(relayer).registerBySig(alice.address, REQUEST, SALT, request.deadline, signature))
        .to.be.revertedWithCustomError(assets, "CommitmentNotFound")
        .withArgs(await assets.makeCommitment(ROOT, alice.address, SALT));
      await assets.connect(alice).commit(await assets.makeCommitment(ROOT, alice.address, SALT));
      await time.increase(MIN_COMMIT_AGE);
      await expect(assets.connect(relayer).registerBySig(alice.address, REQUEST, SALT, request.deadline, signature))
        .to.emit(assets, "Transfer")
        .withArgs(ethers.ZeroAddress, alice.address, 1n);
    });
  });

  describe("front-running fails (commit–reveal, issue 10 §1)", function () {
    const SALT = h("salt:alice");
    const EVE_SALT = h("salt:eve");
    const LOW_TIP = { gasLimit: GAS, maxPriorityFeePerGas: 1n * GWEI, maxFeePerGas: 100n * GWEI };
    const HIGH_TIP = { gasLimit: GAS, maxPriorityFeePerGas: 50n * GWEI, maxFeePerGas: 200n * GWEI };

    /** commitFixture where alice's commitment of ROOT has aged minCommitAge. */
    async function agedCommitFixture() {
      const system = await commitFixture();
      await system.assets.connect(system.alice).commit(await system.assets.makeCommitment(ROOT, system.alice.address, SALT));
      await time.increase(MIN_COMMIT_AGE);
      return system;
    }

    /** The watcher's view of the mempool: the registration alice's pending reveal carries. */
    async function copiedFromMempool(assets, from, name) {
      const calls = (await pendingCalls(assets)).filter((call) => call.from === from && call.name === name);
      expect(calls).to.have.length(1);
      return calls[0];
    }

    it("an attacker copying the root from the pending reveal with a higher tip and no commitment is refused (CommitmentNotFound); the owner's lands", async function () {
      const { assets, alice, eve } = await loadFixture(agedCommitFixture);
      const [ownerTx, attackTx] = await withoutAutomine(async () => {
        const owner = await assets.connect(alice).register(REQUEST, SALT, LOW_TIP);
        const seen = await copiedFromMempool(assets, alice.address, "register");
        const copied = seen.args[0].toObject();
        expect(copied.contentRoot).to.equal(ROOT);
        const attack = await assets.connect(eve).register(copied, EVE_SALT, HIGH_TIP);
        await network.provider.send("evm_mine");
        return [owner, attack];
      });
      const ownerReceipt = await ethers.provider.getTransactionReceipt(ownerTx.hash);
      const attackReceipt = await ethers.provider.getTransactionReceipt(attackTx.hash);
      expect(attackReceipt.blockNumber).to.equal(ownerReceipt.blockNumber);
      // The attacker ran first (higher tip) and still failed: on the v1 contract it took the root.
      expect(attackReceipt.index).to.be.lessThan(ownerReceipt.index);
      expect(await revertOf(assets, attackTx.hash)).to.deep.equal({
        name: "CommitmentNotFound",
        args: [await assets.makeCommitment(ROOT, eve.address, EVE_SALT)],
      });
      expect(ownerReceipt.status).to.equal(1);
      expect(await assets.assetIdOf(ROOT)).to.equal(1n);
      expect((await assets.assetOf(1)).owner).to.equal(alice.address);
      expect(await assets.balanceOf(eve.address)).to.equal(0n);
    });

    it("an attacker committing and registering in the same block ahead of the owner is refused (CommitmentTooNew); the owner's lands", async function () {
      const { assets, alice, eve } = await loadFixture(agedCommitFixture);
      const eveCommitment = await assets.makeCommitment(ROOT, eve.address, EVE_SALT);
      const t = BigInt(await time.latest()) + 5n;
      const [ownerTx, commitTx, attackTx] = await withoutAutomine(async () => {
        const owner = await assets.connect(alice).register(REQUEST, SALT, LOW_TIP);
        const seen = await copiedFromMempool(assets, alice.address, "register");
        const copied = seen.args[0].toObject();
        const commit = await assets.connect(eve).commit(eveCommitment, HIGH_TIP);
        const attack = await assets.connect(eve).register(copied, EVE_SALT, HIGH_TIP);
        await mineAt(t);
        return [owner, commit, attack];
      });
      const [ownerReceipt, commitReceipt, attackReceipt] = await receiptsOf([ownerTx, commitTx, attackTx]);
      expect(commitReceipt.status).to.equal(1);
      expect(attackReceipt.blockNumber).to.equal(ownerReceipt.blockNumber);
      expect(attackReceipt.index).to.be.lessThan(ownerReceipt.index);
      expect(await revertOf(assets, attackTx.hash)).to.deep.equal({
        name: "CommitmentTooNew",
        args: [eveCommitment, t + BigInt(MIN_COMMIT_AGE), t],
      });
      expect(ownerReceipt.status).to.equal(1);
      expect((await assets.assetOf(await assets.assetIdOf(ROOT))).owner).to.equal(alice.address);
      // Once the owner holds the root, the attacker's aged commitment is worthless.
      await time.increase(MIN_COMMIT_AGE);
      await expect(assets.connect(eve).register(REQUEST, EVE_SALT))
        .to.be.revertedWithCustomError(assets, "AssetAlreadyRegistered")
        .withArgs(ROOT, 1n);
    });

    it("a relayer who learns the root from a signed registerBySig request cannot register it first: its own commitment is too new", async function () {
      const { assets, alice, relayer } = await loadFixture(agedCommitFixture);
      const request = { owner: alice.address, ...REQUEST, deadline: BigInt(await time.latest()) + 3600n };
      const signature = await signRegister(alice, assets, request);
      // The relayer holds the signed request (the root in clear): it commits for itself at once
      // and tries to register ahead of relaying, in the same block.
      const relayerCommitment = await assets.makeCommitment(request.contentRoot, relayer.address, EVE_SALT);
      const t = BigInt(await time.latest()) + 5n;
      const [commitTx, attackTx, relayTx] = await withoutAutomine(async () => {
        const commit = await assets.connect(relayer).commit(relayerCommitment, HIGH_TIP);
        const attack = await assets.connect(relayer).register(REQUEST, EVE_SALT, HIGH_TIP);
        const relay = await assets
          .connect(relayer)
          .registerBySig(alice.address, REQUEST, SALT, request.deadline, signature, HIGH_TIP);
        await mineAt(t);
        return [commit, attack, relay];
      });
      expect((await ethers.provider.getTransactionReceipt(commitTx.hash)).status).to.equal(1);
      expect(await revertOf(assets, attackTx.hash)).to.deep.equal({
        name: "CommitmentTooNew",
        args: [relayerCommitment, t + BigInt(MIN_COMMIT_AGE), t],
      });
      expect((await ethers.provider.getTransactionReceipt(relayTx.hash)).status).to.equal(1);
      expect(await assets.ownerOf(1)).to.equal(alice.address);
    });

    it("a relayer's commitment is still too new one block later, before minCommitAge", async function () {
      const { assets, alice, relayer } = await loadFixture(agedCommitFixture);
      const request = { owner: alice.address, ...REQUEST, deadline: BigInt(await time.latest()) + 3600n };
      const signature = await signRegister(alice, assets, request);
      const relayerCommitment = await assets.makeCommitment(ROOT, relayer.address, EVE_SALT);
      const at = await blockTimeOf(await assets.connect(relayer).commit(relayerCommitment));
      await time.setNextBlockTimestamp(at + BigInt(MIN_COMMIT_AGE) - 1n);
      await expect(assets.connect(relayer).register(REQUEST, EVE_SALT))
        .to.be.revertedWithCustomError(assets, "CommitmentTooNew")
        .withArgs(relayerCommitment, at + BigInt(MIN_COMMIT_AGE), at + BigInt(MIN_COMMIT_AGE) - 1n);
      await expect(assets.connect(alice).registerBySig(alice.address, REQUEST, SALT, request.deadline, signature))
        .to.emit(assets, "Transfer")
        .withArgs(ethers.ZeroAddress, alice.address, 1n);
    });

    it("a relayer withholding the request has to wait minCommitAge; the owner's aged commitment lets her register herself first", async function () {
      // The residual window: a relayer that commits on receipt may reveal minCommitAge later;
      // the owner, whose commitment aged before the hand-over, registers without it before then.
      const { assets, alice, relayer } = await loadFixture(agedCommitFixture);
      const relayerCommitment = await assets.makeCommitment(ROOT, relayer.address, EVE_SALT);
      const at = await blockTimeOf(await assets.connect(relayer).commit(relayerCommitment));
      await time.setNextBlockTimestamp(at + BigInt(MIN_COMMIT_AGE) - 1n);
      await assets.connect(alice).register(REQUEST, SALT);
      await time.setNextBlockTimestamp(at + BigInt(MIN_COMMIT_AGE));
      await expect(assets.connect(relayer).register(REQUEST, EVE_SALT))
        .to.be.revertedWithCustomError(assets, "AssetAlreadyRegistered")
        .withArgs(ROOT, 1n);
      expect(await assets.ownerOf(1)).to.equal(alice.address);
    });
  });

  describe("public notice, objections and disputes (review mode, issue 10 §2)", function () {
    /** reviewFixture with alice's pending asset 1 and its notice end. */
    async function noticeFixture() {
      const system = await reviewFixture();
      const tx = await system.assets.connect(system.alice).register(REQUEST, NO_SALT);
      const registeredAt = await blockTimeOf(tx);
      return { ...system, id: 1n, registeredAt, noticeEndsAt: registeredAt + BigInt(NOTICE) };
    }

    it("a registration starts Pending with noticeEndsAt = registeredAt + NOTICE", async function () {
      const { assets, alice } = await loadFixture(reviewFixture);
      const t = await nextBlockAt();
      await expect(assets.connect(alice).register(REQUEST, NO_SALT))
        .to.emit(assets, "AssetRegistered")
        .withArgs(1n, alice.address, ROOT, MANIFEST, 3, 1, Status.Pending, 0n, Lineage.None, t, 0n);
      const asset = await assets.assetOf(1);
      expect(asset.status).to.equal(BigInt(Status.Pending));
      expect(asset.registeredAt).to.equal(t);
      expect(asset.noticeEndsAt).to.equal(t + BigInt(NOTICE));
      expect(await assets.ownerAndStatus(1)).to.deep.equal([alice.address, BigInt(Status.Pending)]);
    });

    it("once the notice passes with no objection the registration reads Active with no transaction", async function () {
      const { assets, alice, id, noticeEndsAt } = await loadFixture(noticeFixture);
      const blockBefore = await ethers.provider.getBlockNumber();
      await time.increaseTo(noticeEndsAt - 1n);
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Pending));
      await time.increaseTo(noticeEndsAt);
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Active));
      expect((await assets.assetOf(id)).status).to.equal(BigInt(Status.Active));
      expect(await assets.ownerAndStatus(id)).to.deep.equal([alice.address, BigInt(Status.Active)]);
      // Only the two empty blocks time.increaseTo mined: nobody sent a transaction to the registry.
      expect(await ethers.provider.getBlockNumber()).to.equal(blockBefore + 2);
    });

    it("after a silent notice the asset may be granted and suspended", async function () {
      const { assets, grants, alice, bob, reviewer, id, noticeEndsAt } = await loadFixture(noticeFixture);
      const terms = [id, bob.address, h("purpose"), 0n, noticeEndsAt + BigInt(30 * DAY), 10n, h("scope")];
      await expect(grants.connect(alice).grant(...terms))
        .to.be.revertedWithCustomError(grants, "AssetNotActive")
        .withArgs(id, Status.Pending);
      await time.increaseTo(noticeEndsAt);
      await expect(grants.connect(alice).grant(...terms)).to.emit(grants, "GrantCreated");
      await expect(assets.connect(reviewer).suspend(id, REASON))
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(id, Status.Active, Status.Suspended, reviewer.address, REASON);
    });

    it("an objection during the notice makes it Disputed (ObjectionFiled and AssetStatusChanged)", async function () {
      const { assets, eve, id } = await loadFixture(noticeFixture);
      const tx = assets.connect(eve).object(id, EVIDENCE);
      await expect(tx).to.emit(assets, "ObjectionFiled").withArgs(id, eve.address, EVIDENCE);
      await expect(tx)
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(id, Status.Pending, Status.Disputed, eve.address, EVIDENCE);
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Disputed));
    });

    it("an objection in the last second of the notice is taken; at noticeEndsAt it is refused (NotInNotice)", async function () {
      const { assets, eve, id, noticeEndsAt } = await loadFixture(noticeFixture);
      await time.setNextBlockTimestamp(noticeEndsAt - 1n);
      await expect(assets.connect(eve).object(id, EVIDENCE)).to.emit(assets, "ObjectionFiled");

      const fresh = await loadFixture(noticeFixture);
      await time.setNextBlockTimestamp(fresh.noticeEndsAt);
      await expect(fresh.assets.connect(eve).object(fresh.id, EVIDENCE))
        .to.be.revertedWithCustomError(fresh.assets, "NotInNotice")
        .withArgs(fresh.id, Status.Active, fresh.noticeEndsAt);
    });

    it("more objections while Disputed emit ObjectionFiled only", async function () {
      const { assets, eve, carol, id } = await loadFixture(noticeFixture);
      await assets.connect(eve).object(id, EVIDENCE);
      const more = h("evidence:more");
      const tx = assets.connect(carol).object(id, more);
      await expect(tx).to.emit(assets, "ObjectionFiled").withArgs(id, carol.address, more);
      await expect(tx).not.to.emit(assets, "AssetStatusChanged");
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Disputed));
    });

    it("an objection without evidence is refused (InvalidEvidence)", async function () {
      const { assets, eve, id } = await loadFixture(noticeFixture);
      await expect(assets.connect(eve).object(id, ethers.ZeroHash))
        .to.be.revertedWithCustomError(assets, "InvalidEvidence")
        .withArgs(ethers.ZeroHash);
    });

    it("objections after the notice are refused (NotInNotice), a dispute's included", async function () {
      const { assets, eve, carol, id, noticeEndsAt } = await loadFixture(noticeFixture);
      const disputed = await registerAsset(assets, carol, "disputed");
      await assets.connect(eve).object(disputed, EVIDENCE);
      const disputedEnds = (await assets.assetOf(disputed)).noticeEndsAt;
      await time.increase(NOTICE);
      await expect(assets.connect(eve).object(id, EVIDENCE))
        .to.be.revertedWithCustomError(assets, "NotInNotice")
        .withArgs(id, Status.Active, noticeEndsAt);
      await expect(assets.connect(eve).object(disputed, EVIDENCE))
        .to.be.revertedWithCustomError(assets, "NotInNotice")
        .withArgs(disputed, Status.Disputed, disputedEnds);
      // An unresolved dispute does not lapse into Active when the notice ends.
      expect(await assets.statusOf(disputed)).to.equal(BigInt(Status.Disputed));
    });

    it("objections in non-review mode are refused (NotInNotice: the notice ended at registration)", async function () {
      const { assets, alice, eve } = await loadFixture(normalFixture);
      const id = await registerAsset(assets, alice, "a");
      const { registeredAt } = await assets.assetOf(id);
      await expect(assets.connect(eve).object(id, EVIDENCE))
        .to.be.revertedWithCustomError(assets, "NotInNotice")
        .withArgs(id, Status.Active, registeredAt);
    });

    it("objections to a suspended asset, or an unknown id, are refused", async function () {
      const { assets, reviewer, eve, id, noticeEndsAt } = await loadFixture(noticeFixture);
      await expect(assets.connect(eve).object(9, EVIDENCE)).to.be.revertedWithCustomError(assets, "UnknownAsset").withArgs(9n);
      await time.increaseTo(noticeEndsAt);
      await assets.connect(reviewer).suspend(id, REASON);
      await expect(assets.connect(eve).object(id, EVIDENCE))
        .to.be.revertedWithCustomError(assets, "NotInNotice")
        .withArgs(id, Status.Suspended, noticeEndsAt);
    });

    it("resolveDispute upheld rejects the registration and releases its root", async function () {
      const { assets, eve, bob, reviewer, id } = await loadFixture(noticeFixture);
      await assets.connect(eve).object(id, EVIDENCE);
      await expect(assets.connect(reviewer).resolveDispute(id, true, REASON, NO_RESERVATION))
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(id, Status.Disputed, Status.Rejected, reviewer.address, REASON);
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Rejected));
      expect(await assets.assetIdOf(ROOT)).to.equal(0n);
      await assets.connect(bob).register(REQUEST, NO_SALT);
      expect(await assets.assetIdOf(ROOT)).to.equal(2n);
    });

    it("resolveDispute dismissed during the notice returns it to Pending (it then activates at noticeEndsAt)", async function () {
      const { assets, eve, reviewer, id, noticeEndsAt } = await loadFixture(noticeFixture);
      await assets.connect(eve).object(id, EVIDENCE);
      await expect(assets.connect(reviewer).resolveDispute(id, false, REASON, NO_RESERVATION))
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(id, Status.Disputed, Status.Pending, reviewer.address, REASON);
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Pending));
      await time.increaseTo(noticeEndsAt);
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Active));
    });

    it("resolveDispute dismissed after the notice makes it Active", async function () {
      const { assets, eve, reviewer, id, noticeEndsAt } = await loadFixture(noticeFixture);
      await assets.connect(eve).object(id, EVIDENCE);
      await time.setNextBlockTimestamp(noticeEndsAt);
      await expect(assets.connect(reviewer).resolveDispute(id, false, REASON, NO_RESERVATION))
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(id, Status.Disputed, Status.Active, reviewer.address, REASON);
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Active));
    });

    it("resolveDispute refuses an asset that is not disputed", async function () {
      const { assets, reviewer, id, noticeEndsAt } = await loadFixture(noticeFixture);
      await expect(assets.connect(reviewer).resolveDispute(id, true, REASON, NO_RESERVATION))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Pending, Status.Rejected);
      await expect(assets.connect(reviewer).resolveDispute(id, false, REASON, NO_RESERVATION))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Pending, Status.Pending);
      await time.increaseTo(noticeEndsAt);
      await expect(assets.connect(reviewer).resolveDispute(id, true, REASON, NO_RESERVATION))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Active, Status.Rejected);
      await expect(assets.connect(reviewer).resolveDispute(id, false, REASON, NO_RESERVATION))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Active, Status.Active);
      await expect(assets.connect(reviewer).resolveDispute(5, false, REASON, NO_RESERVATION))
        .to.be.revertedWithCustomError(assets, "UnknownAsset")
        .withArgs(5n);
    });

    it("rejectRegistration works from Pending, Disputed and Suspended, each releasing the root", async function () {
      const { assets, alice, eve, reviewer } = await loadFixture(reviewFixture);
      const pending = await registerAsset(assets, alice, "pending");
      const disputed = await registerAsset(assets, alice, "disputed");
      await assets.connect(eve).object(disputed, EVIDENCE);
      const suspended = await registerAsset(assets, alice, "suspended");
      await time.increase(NOTICE);
      await assets.connect(reviewer).suspend(suspended, REASON);
      // `pending` has left its notice: re-register one inside it.
      const late = await registerAsset(assets, alice, "late");
      const cases = [
        [late, Status.Pending, "late"],
        [disputed, Status.Disputed, "disputed"],
        [suspended, Status.Suspended, "suspended"],
      ];
      for (const [id, from, label] of cases) {
        await expect(assets.connect(reviewer).rejectRegistration(id, REASON, NO_RESERVATION))
          .to.emit(assets, "AssetStatusChanged")
          .withArgs(id, from, Status.Rejected, reviewer.address, REASON);
        expect(await assets.statusOf(id)).to.equal(BigInt(Status.Rejected));
        expect(await assets.assetIdOf(h(`content:${label}`))).to.equal(0n);
      }
      expect(await assets.statusOf(pending)).to.equal(BigInt(Status.Active));
    });

    it("rejectRegistration refuses an Active asset (notice over, or normal mode) and a rejected one", async function () {
      const { assets, reviewer, id, noticeEndsAt } = await loadFixture(noticeFixture);
      await time.increaseTo(noticeEndsAt);
      await expect(assets.connect(reviewer).rejectRegistration(id, REASON, NO_RESERVATION))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Active, Status.Rejected);

      const normal = await loadFixture(normalFixture);
      const active = await registerAsset(normal.assets, normal.alice, "a");
      await expect(normal.assets.connect(normal.reviewer).rejectRegistration(active, REASON, NO_RESERVATION))
        .to.be.revertedWithCustomError(normal.assets, "InvalidStatusTransition")
        .withArgs(active, Status.Active, Status.Rejected);
      await normal.assets.connect(normal.reviewer).suspend(active, REASON);
      await normal.assets.connect(normal.reviewer).rejectRegistration(active, REASON, NO_RESERVATION);
      await expect(normal.assets.connect(normal.reviewer).rejectRegistration(active, REASON, NO_RESERVATION))
        .to.be.revertedWithCustomError(normal.assets, "InvalidStatusTransition")
        .withArgs(active, Status.Rejected, Status.Rejected);
    });

    it("only REVIEWER_ROLE resolves disputes and rejects (the owner, the admin and the objector refused)", async function () {
      const { assets, alice, admin, eve, id, REVIEWER_ROLE } = await loadFixture(noticeFixture);
      await assets.connect(eve).object(id, EVIDENCE);
      for (const caller of [alice, admin, eve]) {
        await expect(assets.connect(caller).resolveDispute(id, true, REASON, NO_RESERVATION))
          .to.be.revertedWithCustomError(assets, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, REVIEWER_ROLE);
        await expect(assets.connect(caller).rejectRegistration(id, REASON, NO_RESERVATION))
          .to.be.revertedWithCustomError(assets, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, REVIEWER_ROLE);
      }
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Disputed));
    });

    it("the owner may cancel a pending registration (the root is released) but not a disputed one: InvalidStatusTransition(Disputed, Cancelled) (old contracts allowed it)", async function () {
      const { assets, alice, eve, reviewer, id } = await loadFixture(noticeFixture);
      const disputed = await registerAsset(assets, alice, "disputed");
      await assets.connect(eve).object(disputed, EVIDENCE);
      await expect(assets.connect(alice).cancel(id, REASON))
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(id, Status.Pending, Status.Cancelled, alice.address, REASON);
      expect(await assets.assetIdOf(ROOT)).to.equal(0n);
      await expect(assets.connect(alice).cancel(disputed, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(disputed, Status.Disputed, Status.Cancelled);
      // Still refused once the notice is over: a dispute outlives it and waits for a reviewer.
      await time.increase(NOTICE);
      await expect(assets.connect(alice).cancel(disputed, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(disputed, Status.Disputed, Status.Cancelled);
      expect(await assets.assetIdOf(h("content:disputed"))).to.equal(disputed);
      // Dismissed, the registration is the owner's to cancel again.
      await assets.connect(reviewer).resolveDispute(disputed, false, REASON, NO_RESERVATION);
      await expect(assets.connect(alice).cancel(disputed, REASON))
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(disputed, Status.Active, Status.Cancelled, alice.address, REASON);
      expect(await assets.assetIdOf(h("content:disputed"))).to.equal(0n);
    });
  });

  describe("status moves", function () {
    it("cancel: the owner cancels an active asset; the record stays", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      const id = await registerAsset(assets, alice, "a");
      await expect(assets.connect(alice).cancel(id, REASON))
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(id, Status.Active, Status.Cancelled, alice.address, REASON);
      const asset = await assets.assetOf(id);
      expect(asset.status).to.equal(BigInt(Status.Cancelled));
      expect(asset.owner).to.equal(alice.address);
      expect(asset.contentRoot).to.equal(h("content:a"));
      expect(await assets.ownerOf(id)).to.equal(alice.address);
    });

    it("cancel: refuses non-owners (reviewers and admins included) and unknown ids", async function () {
      const { assets, alice, bob, reviewer, admin } = await loadFixture(normalFixture);
      const id = await registerAsset(assets, alice, "a");
      for (const caller of [bob, reviewer, admin]) {
        await expect(assets.connect(caller).cancel(id, REASON))
          .to.be.revertedWithCustomError(assets, "NotAssetOwner")
          .withArgs(id, caller.address, alice.address);
      }
      for (const unknown of [0n, 2n]) {
        await expect(assets.connect(alice).cancel(unknown, REASON))
          .to.be.revertedWithCustomError(assets, "UnknownAsset")
          .withArgs(unknown);
      }
    });

    it("cancel: refuses a suspended asset (suspension cannot be sidestepped by cancelling)", async function () {
      const { assets, alice, reviewer } = await loadFixture(normalFixture);
      const suspended = await registerAsset(assets, alice, "b");
      await assets.connect(reviewer).suspend(suspended, REASON);
      await expect(assets.connect(alice).cancel(suspended, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(suspended, Status.Suspended, Status.Cancelled);
      // The root stays held: no fresh registration escapes the suspension.
      await expect(assets.connect(alice).register(registration("b"), NO_SALT))
        .to.be.revertedWithCustomError(assets, "AssetAlreadyRegistered")
        .withArgs(h("content:b"), suspended);
    });

    it("cancel: refuses a rejected asset", async function () {
      const { assets, alice, reviewer } = await loadFixture(reviewFixture);
      const rejected = await registerAsset(assets, alice, "c");
      await assets.connect(reviewer).rejectRegistration(rejected, REASON, NO_RESERVATION);
      await expect(assets.connect(alice).cancel(rejected, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(rejected, Status.Rejected, Status.Cancelled);
    });

    it("cancel: the old owner is refused after a transfer; the new owner may cancel", async function () {
      const { assets, alice, bob } = await loadFixture(normalFixture);
      const id = await registerAsset(assets, alice, "a");
      await assets.connect(alice).transferFrom(alice.address, bob.address, id);
      await expect(assets.connect(alice).cancel(id, REASON))
        .to.be.revertedWithCustomError(assets, "NotAssetOwner")
        .withArgs(id, alice.address, bob.address);
      await expect(assets.connect(bob).cancel(id, REASON))
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(id, Status.Active, Status.Cancelled, bob.address, REASON);
    });

    it("suspend and reinstate: a reviewer moves active ↔ suspended", async function () {
      const { assets, alice, reviewer } = await loadFixture(normalFixture);
      const id = await registerAsset(assets, alice, "a");
      await expect(assets.connect(reviewer).suspend(id, REASON))
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(id, Status.Active, Status.Suspended, reviewer.address, REASON);
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Suspended));
      const REASON2 = h("reason:dispute settled");
      await expect(assets.connect(reviewer).reinstate(id, REASON2))
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(id, Status.Suspended, Status.Active, reviewer.address, REASON2);
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Active));
    });

    it("suspend/reinstate: refuse the wrong starting status", async function () {
      const { assets, alice, eve, reviewer } = await loadFixture(reviewFixture);
      const id = await registerAsset(assets, alice, "a");
      await expect(assets.connect(reviewer).suspend(id, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Pending, Status.Suspended);
      await expect(assets.connect(reviewer).reinstate(id, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Pending, Status.Active);
      const disputed = await registerAsset(assets, alice, "disputed");
      await assets.connect(eve).object(disputed, EVIDENCE);
      await expect(assets.connect(reviewer).suspend(disputed, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(disputed, Status.Disputed, Status.Suspended);
      await time.increase(NOTICE);
      await expect(assets.connect(reviewer).reinstate(id, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Active, Status.Active);
      await assets.connect(reviewer).suspend(id, REASON);
      await expect(assets.connect(reviewer).suspend(id, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Suspended, Status.Suspended);
    });

    it("reviewer functions refuse non-reviewers (the owner and the admin included)", async function () {
      const { assets, alice, admin, eve, REVIEWER_ROLE } = await loadFixture(normalFixture);
      const id = await registerAsset(assets, alice, "a");
      const calls = {
        suspend: (caller) => assets.connect(caller).suspend(id, REASON),
        reinstate: (caller) => assets.connect(caller).reinstate(id, REASON),
        rejectRegistration: (caller) => assets.connect(caller).rejectRegistration(id, REASON, caller.address),
        resolveDispute: (caller) => assets.connect(caller).resolveDispute(id, true, REASON, caller.address),
      };
      for (const call of Object.values(calls)) {
        for (const caller of [alice, admin, eve]) {
          await expect(call(caller))
            .to.be.revertedWithCustomError(assets, "AccessControlUnauthorizedAccount")
            .withArgs(caller.address, REVIEWER_ROLE);
        }
      }
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Active));
    });

    it("reviewer functions refuse unknown ids", async function () {
      const { assets, reviewer } = await loadFixture(reviewFixture);
      const reviewerAs = assets.connect(reviewer);
      const calls = [
        () => reviewerAs.rejectRegistration(3, REASON, NO_RESERVATION),
        () => reviewerAs.resolveDispute(3, true, REASON, NO_RESERVATION),
        () => reviewerAs.suspend(3, REASON),
        () => reviewerAs.reinstate(3, REASON),
      ];
      for (const call of calls) {
        await expect(call()).to.be.revertedWithCustomError(assets, "UnknownAsset").withArgs(3n);
      }
    });

    it("views refuse unknown ids (0 included)", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      await registerAsset(assets, alice, "a");
      for (const fn of ["assetOf", "ownerAndStatus", "statusOf"]) {
        for (const id of [0n, 2n, 2n ** 32n + 1n]) {
          await expect(assets[fn](id)).to.be.revertedWithCustomError(assets, "UnknownAsset").withArgs(id);
        }
      }
    });
  });

  describe("reviewer role management", function () {
    it("the admin appoints and removes reviewers; a removed reviewer is refused", async function () {
      const { assets, admin, dave, alice, REVIEWER_ROLE } = await loadFixture(reviewFixture);
      const id = await registerAsset(assets, alice, "a");
      await expect(assets.connect(admin).grantRole(REVIEWER_ROLE, dave.address))
        .to.emit(assets, "RoleGranted")
        .withArgs(REVIEWER_ROLE, dave.address, admin.address);
      await expect(assets.connect(admin).revokeRole(REVIEWER_ROLE, dave.address))
        .to.emit(assets, "RoleRevoked")
        .withArgs(REVIEWER_ROLE, dave.address, admin.address);
      await expect(assets.connect(dave).rejectRegistration(id, ethers.ZeroHash, NO_RESERVATION))
        .to.be.revertedWithCustomError(assets, "AccessControlUnauthorizedAccount")
        .withArgs(dave.address, REVIEWER_ROLE);
    });

    it("only the admin appoints reviewers (reviewers cannot appoint each other)", async function () {
      const { assets, reviewer, eve, REVIEWER_ROLE } = await loadFixture(normalFixture);
      for (const caller of [reviewer, eve]) {
        await expect(assets.connect(caller).grantRole(REVIEWER_ROLE, eve.address))
          .to.be.revertedWithCustomError(assets, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, DEFAULT_ADMIN_ROLE);
      }
    });

    it("a reviewer may renounce its own role only", async function () {
      const { assets, reviewer, eve, REVIEWER_ROLE } = await loadFixture(normalFixture);
      await expect(assets.connect(eve).renounceRole(REVIEWER_ROLE, reviewer.address))
        .to.be.revertedWithCustomError(assets, "AccessControlBadConfirmation")
        .withArgs();
      await expect(assets.connect(reviewer).renounceRole(REVIEWER_ROLE, reviewer.address))
        .to.emit(assets, "RoleRevoked")
        .withArgs(REVIEWER_ROLE, reviewer.address, reviewer.address);
      expect(await assets.hasRole(REVIEWER_ROLE, reviewer.address)).to.equal(false);
    });
  });

  describe("validity and renewal (issue 10 §6)", function () {
    /** normalFixture with alice's asset 1 valid for one year. */
    async function expiringFixture() {
      const system = await normalFixture();
      const validUntil = BigInt(await time.latest()) + BigInt(365 * DAY);
      const id = await registerAsset(system.assets, system.alice, "dataset-a", { validUntil });
      return { ...system, id, validUntil };
    }

    it("records validUntil (event and assetOf)", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      const validUntil = BigInt(await time.latest()) + BigInt(365 * DAY);
      await expect(assets.connect(alice).register(registration("dataset-a", { validUntil }), NO_SALT))
        .to.emit(assets, "AssetRegistered")
        .withArgs(1n, alice.address, ROOT, MANIFEST, 3, 1, Status.Active, 0n, Lineage.None, anyTime(), validUntil);
      const asset = await assets.assetOf(1);
      expect(asset.validUntil).to.equal(validUntil);
      // The expiry flag shares the rights byte in storage: readers see the rights alone.
      expect(asset.rightsType).to.equal(3n);
    });

    it("refuses a validUntil in the past or equal to the block time (InvalidValidity); one second later is accepted", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      for (const before of [100n, 0n]) {
        const t = BigInt(await time.latest()) + 10n;
        const validUntil = t - before;
        await time.setNextBlockTimestamp(t);
        await expect(assets.connect(alice).register(registration("dataset-a", { validUntil }), NO_SALT))
          .to.be.revertedWithCustomError(assets, "InvalidValidity")
          .withArgs(validUntil, t);
      }
      const t = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(t);
      await expect(assets.connect(alice).register(registration("dataset-a", { validUntil: t + 1n }), NO_SALT)).to.emit(
        assets,
        "AssetRegistered",
      );
    });

    it("in review mode validUntil must lie after the notice: InvalidValidity(validUntil, registeredAt + NOTICE) up to that bound (old contracts accepted it, expiring before it was ever active; before the second review the error named the block time); one second later is accepted", async function () {
      const { assets, alice } = await loadFixture(reviewFixture);
      for (const validUntil of [1n, BigInt(NOTICE)]) {
        const t = await nextBlockAt();
        await expect(assets.connect(alice).register(registration("dataset-a", { validUntil: t + validUntil }), NO_SALT))
          .to.be.revertedWithCustomError(assets, "InvalidValidity")
          .withArgs(t + validUntil, t + BigInt(NOTICE));
      }
      const t = await nextBlockAt();
      const validUntil = t + BigInt(NOTICE) + 1n;
      await expect(assets.connect(alice).register(registration("dataset-a", { validUntil }), NO_SALT))
        .to.emit(assets, "AssetRegistered")
        .withArgs(1n, alice.address, ROOT, MANIFEST, 3, 1, Status.Pending, 0n, Lineage.None, t, validUntil);
      // Active for the last second of its validity, once the notice is over; then Expired.
      await time.increaseTo(t + BigInt(NOTICE));
      expect(await assets.statusOf(1)).to.equal(BigInt(Status.Active));
      await time.increaseTo(validUntil);
      expect(await assets.statusOf(1)).to.equal(BigInt(Status.Expired));
    });

    it("in review mode a signed registration (registerBySig) and a version are held to the same bound, named in InvalidValidity (registeredAt + NOTICE since the second review)", async function () {
      const { assets, alice, relayer } = await loadFixture(reviewFixture);
      const parent = await registerAsset(assets, alice, "parent");
      await time.increase(NOTICE);
      const t = await nextBlockAt();
      const validUntil = t + BigInt(NOTICE);
      const request = { owner: alice.address, ...REQUEST, validUntil, deadline: t + 3600n };
      const signature = await signRegister(alice, assets, request);
      await expect(assets.connect(relayer).registerBySig(alice.address, { ...REQUEST, validUntil }, NO_SALT, t + 3600n, signature))
        .to.be.revertedWithCustomError(assets, "InvalidValidity")
        .withArgs(validUntil, t + BigInt(NOTICE));
      const v = await nextBlockAt();
      await expect(assets.connect(alice).registerVersion(registration("v", { parentId: parent, validUntil: v + BigInt(NOTICE) }), NO_SALT))
        .to.be.revertedWithCustomError(assets, "InvalidValidity")
        .withArgs(v + BigInt(NOTICE), v + BigInt(NOTICE));
    });

    it("reads Expired from validUntil on (Active the second before)", async function () {
      const { assets, alice, id, validUntil } = await loadFixture(expiringFixture);
      await time.increaseTo(validUntil - 1n);
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Active));
      await time.increaseTo(validUntil);
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Expired));
      expect((await assets.assetOf(id)).status).to.equal(BigInt(Status.Expired));
      expect(await assets.ownerAndStatus(id)).to.deep.equal([alice.address, BigInt(Status.Expired)]);
    });

    it("the owner renews in normal mode (AssetRenewed); a renewed expired asset reads Active again", async function () {
      const { assets, alice, id, validUntil } = await loadFixture(expiringFixture);
      await time.increaseTo(validUntil + 10n);
      const renewed = validUntil + BigInt(365 * DAY);
      await expect(assets.connect(alice).renew(id, renewed))
        .to.emit(assets, "AssetRenewed")
        .withArgs(id, validUntil, renewed, alice.address);
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Active));
      expect((await assets.assetOf(id)).validUntil).to.equal(renewed);
    });

    it("the owner may renew before expiry too", async function () {
      const { assets, alice, id, validUntil } = await loadFixture(expiringFixture);
      await expect(assets.connect(alice).renew(id, validUntil + 1n))
        .to.emit(assets, "AssetRenewed")
        .withArgs(id, validUntil, validUntil + 1n, alice.address);
    });

    it("others than the owner cannot renew in normal mode (reviewer included)", async function () {
      const { assets, alice, bob, reviewer, id, validUntil } = await loadFixture(expiringFixture);
      for (const caller of [bob, reviewer]) {
        await expect(assets.connect(caller).renew(id, validUntil + 1n))
          .to.be.revertedWithCustomError(assets, "NotAssetOwner")
          .withArgs(id, caller.address, alice.address);
      }
    });

    it("in review mode a reviewer renews; the owner and others are refused", async function () {
      const { assets, alice, eve, reviewer, REVIEWER_ROLE } = await loadFixture(reviewFixture);
      const validUntil = BigInt(await time.latest()) + BigInt(365 * DAY);
      const id = await registerAsset(assets, alice, "dataset-a", { validUntil });
      await time.increaseTo(validUntil);
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Expired));
      const renewed = validUntil + BigInt(365 * DAY);
      for (const caller of [alice, eve]) {
        await expect(assets.connect(caller).renew(id, renewed))
          .to.be.revertedWithCustomError(assets, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, REVIEWER_ROLE);
      }
      await expect(assets.connect(reviewer).renew(id, renewed))
        .to.emit(assets, "AssetRenewed")
        .withArgs(id, validUntil, renewed, reviewer.address);
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Active));
    });

    it("in review mode a pending registration cannot be renewed yet", async function () {
      const { assets, alice, reviewer } = await loadFixture(reviewFixture);
      const validUntil = BigInt(await time.latest()) + BigInt(365 * DAY);
      const id = await registerAsset(assets, alice, "dataset-a", { validUntil });
      await expect(assets.connect(reviewer).renew(id, validUntil + 1n))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Pending, Status.Active);
    });

    it("a perpetual registration has nothing to renew (NoExpiry)", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      const id = await registerAsset(assets, alice, "perpetual");
      await expect(assets.connect(alice).renew(id, BigInt(await time.latest()) + BigInt(DAY)))
        .to.be.revertedWithCustomError(assets, "NoExpiry")
        .withArgs(id);
    });

    it("a renewal must extend the validity and lie in the future: InvalidValidity(validUntil, the later of the current end and now) (before the second review: always now)", async function () {
      const { assets, alice, id, validUntil } = await loadFixture(expiringFixture);
      // Not yet expired: the bound is the current end, which lies ahead of now.
      for (const shorter of [validUntil, validUntil - 1n]) {
        const t = BigInt(await time.latest()) + 1n;
        await time.setNextBlockTimestamp(t);
        await expect(assets.connect(alice).renew(id, shorter))
          .to.be.revertedWithCustomError(assets, "InvalidValidity")
          .withArgs(shorter, validUntil);
      }
      await expect(assets.connect(alice).renew(id, validUntil + 1n))
        .to.emit(assets, "AssetRenewed")
        .withArgs(id, validUntil, validUntil + 1n, alice.address);
      // Expired: a new end beyond the old one but not beyond now is refused too.
      // Expired: the bound is now, which lies past the current end.
      await time.increaseTo(validUntil + 100n);
      const t = BigInt(await time.latest()) + 1n;
      await time.setNextBlockTimestamp(t);
      await expect(assets.connect(alice).renew(id, validUntil + 50n))
        .to.be.revertedWithCustomError(assets, "InvalidValidity")
        .withArgs(validUntil + 50n, t);
      await time.setNextBlockTimestamp(t + 1n);
      await expect(assets.connect(alice).renew(id, t + 1n))
        .to.be.revertedWithCustomError(assets, "InvalidValidity")
        .withArgs(t + 1n, t + 1n);
    });

    it("a suspended asset cannot be renewed; unknown ids are refused", async function () {
      const { assets, alice, reviewer, id, validUntil } = await loadFixture(expiringFixture);
      await assets.connect(reviewer).suspend(id, REASON);
      await expect(assets.connect(alice).renew(id, validUntil + 1n))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Suspended, Status.Active);
      await expect(assets.connect(alice).renew(9, validUntil + 1n))
        .to.be.revertedWithCustomError(assets, "UnknownAsset")
        .withArgs(9n);
    });

    it("an expired asset may be cancelled by its owner", async function () {
      const { assets, alice, id, validUntil } = await loadFixture(expiringFixture);
      await time.increaseTo(validUntil);
      await expect(assets.connect(alice).cancel(id, REASON))
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(id, Status.Expired, Status.Cancelled, alice.address, REASON);
    });

    it("an expired asset can be suspended; then its owner can neither cancel nor renew it", async function () {
      const { assets, alice, reviewer, id, validUntil } = await loadFixture(expiringFixture);
      await time.increaseTo(validUntil);
      await expect(assets.connect(reviewer).suspend(id, REASON))
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(id, Status.Expired, Status.Suspended, reviewer.address, REASON);
      await expect(assets.connect(alice).cancel(id, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Suspended, Status.Cancelled);
      await expect(assets.connect(alice).renew(id, BigInt(validUntil) + 1000n))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Suspended, Status.Active);
    });

    it("a suspended asset past its validity reads Suspended; reinstated, it reads Expired", async function () {
      const { assets, reviewer, id, validUntil } = await loadFixture(expiringFixture);
      await assets.connect(reviewer).suspend(id, REASON);
      await time.increaseTo(validUntil);
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Suspended));
      await assets.connect(reviewer).reinstate(id, REASON);
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Expired));
    });
  });

  describe("settleTransfer", function () {
    it("only the ledger may settle (NotLedger)", async function () {
      const { assets, ledger, alice, bob } = await loadFixture(normalFixture);
      const id = await registerAsset(assets, alice, "a");
      for (const caller of [alice, bob]) {
        await expect(assets.connect(caller).settleTransfer(alice.address, bob.address, id))
          .to.be.revertedWithCustomError(assets, "NotLedger")
          .withArgs(caller.address, await ledger.getAddress());
      }
      expect(await assets.ownerOf(id)).to.equal(alice.address);
    });

    it("re-checks the seller: the ledger naming a seller who does not own the token is refused ERC721IncorrectOwner(seller, assetId, owner) (old contracts moved it); the owner is settled", async function () {
      const { assets, ledger, alice, bob, carol } = await loadFixture(normalFixture);
      const id = await registerAsset(assets, alice, "a");
      await asLedger(ledger, async (theLedger) => {
        for (const seller of [bob, carol]) {
          await expect(assets.connect(theLedger).settleTransfer(seller.address, carol.address, id))
            .to.be.revertedWithCustomError(assets, "ERC721IncorrectOwner")
            .withArgs(seller.address, id, alice.address);
        }
        expect(await assets.ownerOf(id)).to.equal(alice.address);
        expect(await assets.balanceOf(alice.address)).to.equal(1n);
        expect(await assets.balanceOf(bob.address)).to.equal(0n);
        await expect(assets.connect(theLedger).settleTransfer(alice.address, carol.address, id))
          .to.emit(assets, "Transfer")
          .withArgs(alice.address, carol.address, id);
        expect(await assets.ownerOf(id)).to.equal(carol.address);
        // The old owner is now a seller who does not own it.
        await expect(assets.connect(theLedger).settleTransfer(alice.address, bob.address, id))
          .to.be.revertedWithCustomError(assets, "ERC721IncorrectOwner")
          .withArgs(alice.address, id, carol.address);
      });
    });

    it("a trade the ledger records moves the token to the buyer (registrant kept)", async function () {
      const { assets, ledger, alice, bob } = await loadFixture(normalFixture);
      const id = await registerAsset(assets, alice, "a");
      const terms = transferTerms(id, alice.address, bob.address);
      const deadline = BigInt(await time.latest()) + 3600n;
      const signature = await signTrade(bob, ledger, terms, deadline);
      await expect(ledger.connect(alice).recordTrade(terms, deadline, signature))
        .to.emit(assets, "Transfer")
        .withArgs(alice.address, bob.address, id);
      expect(await assets.ownerOf(id)).to.equal(bob.address);
      expect((await assets.assetOf(id)).registrant).to.equal(alice.address);
      expect(await assets.balanceOf(alice.address)).to.equal(0n);
      expect(await assets.balanceOf(bob.address)).to.equal(1n);
    });
  });

  describe("batches", function () {
    const LEAF_ENCODING = ["bytes32", "bytes32", "uint8", "uint8"];
    const records = [
      [h("content:b1"), h("manifest:b1"), 1, 0],
      [h("content:b2"), h("manifest:b2"), 3, 1],
      [h("content:b3"), h("manifest:b3"), 7, 2],
      [h("content:b4"), h("manifest:b4"), 2, 3],
      [h("content:b5"), h("manifest:b5"), 4, 1],
    ];
    const BATCH_MANIFEST = h("batch-manifest:1");
    /** keccak256(abi.encode(values)): what verifyBatchMember takes (the leaf is its keccak256). */
    const valuesHash = (values) => ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(LEAF_ENCODING, values));

    async function batchFixture() {
      const system = await normalFixture();
      const tree = StandardMerkleTree.of(records, LEAF_ENCODING);
      await system.assets.connect(system.alice).anchorBatch(tree.root, records.length, BATCH_MANIFEST);
      return { ...system, tree };
    }

    it("anchors a batch: event, batchOf, totalBatches", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      const tree = StandardMerkleTree.of(records, LEAF_ENCODING);
      expect(await assets.connect(alice).anchorBatch.staticCall(tree.root, 5, BATCH_MANIFEST)).to.equal(1n);
      const t = await nextBlockAt();
      await expect(assets.connect(alice).anchorBatch(tree.root, 5, BATCH_MANIFEST))
        .to.emit(assets, "BatchAnchored")
        .withArgs(1n, alice.address, tree.root, BATCH_MANIFEST, 5, t);
      const batch = await assets.batchOf(1);
      expect(batch.batchId).to.equal(1n);
      expect(batch.batchRoot).to.equal(tree.root);
      expect(batch.manifestHash).to.equal(BATCH_MANIFEST);
      expect(batch.anchorer).to.equal(alice.address);
      expect(batch.anchoredAt).to.equal(t);
      expect(batch.count).to.equal(5n);
      expect(await assets.totalBatches()).to.equal(1n);
      expect(await assets.totalAssets()).to.equal(0n);
    });

    it("anyone may anchor a root another anchored: each batch names its anchorer, neither blocks the other (no BatchAlreadyAnchored front-run)", async function () {
      const { assets, alice, eve, tree } = await loadFixture(batchFixture);
      // eve copies alice's root (say from the mempool) and anchors it under her name.
      await expect(assets.connect(eve).anchorBatch(tree.root, 5, h("batch-manifest:eve")))
        .to.emit(assets, "BatchAnchored")
        .withArgs(2n, eve.address, tree.root, h("batch-manifest:eve"), 5, anyTime());
      // alice anchoring the same root again is not blocked either.
      await expect(assets.connect(alice).anchorBatch(tree.root, 5, BATCH_MANIFEST))
        .to.emit(assets, "BatchAnchored")
        .withArgs(3n, alice.address, tree.root, BATCH_MANIFEST, 5, anyTime());
      expect((await assets.batchOf(1)).anchorer).to.equal(alice.address);
      expect((await assets.batchOf(2)).anchorer).to.equal(eve.address);
      expect((await assets.batchOf(3)).anchorer).to.equal(alice.address);
      for (const batchId of [1, 2, 3]) {
        expect(await assets.verifyBatchRecord(batchId, ...records[0], tree.getProof(0))).to.equal(true);
      }
      expect(assets.interface.getError("BatchAlreadyAnchored")).to.equal(null);
    });

    it("an attacker anchoring the pending root first with a higher tip does not block the owner's anchoring", async function () {
      const { assets, alice, eve } = await loadFixture(normalFixture);
      const tree = StandardMerkleTree.of(records, LEAF_ENCODING);
      const [ownerTx, attackTx] = await withoutAutomine(async () => {
        const owner = await assets.connect(alice).anchorBatch(tree.root, 5, BATCH_MANIFEST, {
          gasLimit: GAS,
          maxPriorityFeePerGas: GWEI,
          maxFeePerGas: 100n * GWEI,
        });
        const [seen] = (await pendingCalls(assets)).filter((call) => call.name === "anchorBatch");
        const attack = await assets.connect(eve).anchorBatch(...seen.args, {
          gasLimit: GAS,
          maxPriorityFeePerGas: 50n * GWEI,
          maxFeePerGas: 200n * GWEI,
        });
        await network.provider.send("evm_mine");
        return [owner, attack];
      });
      const ownerReceipt = await ethers.provider.getTransactionReceipt(ownerTx.hash);
      const attackReceipt = await ethers.provider.getTransactionReceipt(attackTx.hash);
      expect(attackReceipt.index).to.be.lessThan(ownerReceipt.index);
      expect(attackReceipt.status).to.equal(1);
      expect(ownerReceipt.status).to.equal(1);
      expect((await assets.batchOf(1)).anchorer).to.equal(eve.address);
      expect((await assets.batchOf(2)).anchorer).to.equal(alice.address);
    });

    it("verifyBatchMember: true for every member's valuesHash and proof", async function () {
      const { assets, tree } = await loadFixture(batchFixture);
      for (const [i, value] of tree.entries()) {
        expect(await assets.verifyBatchMember(1, valuesHash(value), tree.getProof(i))).to.equal(true);
      }
    });

    it("verifyBatchMember cannot be fooled with an inner node and its sibling proof (4-member tree); verifyBatchRecord agrees", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      const four = records.slice(0, 4);
      const tree = StandardMerkleTree.of(four, LEAF_ENCODING);
      await assets.connect(alice).anchorBatch(tree.root, 4, BATCH_MANIFEST);
      // Nodes: [root, inner1, inner2, leaf, leaf, leaf, leaf]; each inner node has one sibling.
      const nodes = tree.dump().tree;
      expect(nodes).to.have.length(7);
      for (const [inner, sibling] of [
        [nodes[1], nodes[2]],
        [nodes[2], nodes[1]],
      ]) {
        // The inner node with its sibling leads to the root under OpenZeppelin's sorted-pair
        // hashing: a verifier taking the leaf as given (v1) accepted it as a "member".
        const [a, b] = BigInt(inner) < BigInt(sibling) ? [inner, sibling] : [sibling, inner];
        expect(ethers.keccak256(ethers.concat([a, b]))).to.equal(tree.root);
        expect(await assets.verifyBatchMember(1, inner, [sibling])).to.equal(false);
      }
      for (const [i, value] of tree.entries()) {
        const proof = tree.getProof(i);
        expect(await assets.verifyBatchMember(1, valuesHash(value), proof)).to.equal(true);
        expect(await assets.verifyBatchRecord(1, ...value, proof)).to.equal(true);
        // A member's leaf passed as valuesHash is hashed once more: refused as well.
        expect(await assets.verifyBatchMember(1, tree.leafHash(value), proof)).to.equal(false);
      }
    });

    it("verifyBatchMember: false for a wrong value, a wrong, truncated, extended or flipped proof", async function () {
      const { assets, tree } = await loadFixture(batchFixture);
      const member = valuesHash(records[0]);
      const proof0 = tree.getProof(0);
      expect(await assets.verifyBatchMember(1, h("not a member"), proof0)).to.equal(false);
      expect(await assets.verifyBatchMember(1, member, tree.getProof(1))).to.equal(false);
      expect(await assets.verifyBatchMember(1, member, proof0.slice(1))).to.equal(false);
      expect(await assets.verifyBatchMember(1, member, [...proof0, h("extra")])).to.equal(false);
      expect(await assets.verifyBatchMember(1, member, [])).to.equal(false);
      const flipped = ethers.toBeHex(BigInt(proof0[0]) ^ 1n, 32);
      expect(await assets.verifyBatchMember(1, member, [flipped, ...proof0.slice(1)])).to.equal(false);
    });

    it("verifyBatchRecord: true for each record, false when any field differs", async function () {
      const { assets, tree } = await loadFixture(batchFixture);
      for (const [i, [root, manifest, rights, cls]] of tree.entries()) {
        const proof = tree.getProof(i);
        expect(await assets.verifyBatchRecord(1, root, manifest, rights, cls, proof)).to.equal(true);
      }
      const [root, manifest, rights, cls] = records[1];
      const proof = tree.getProof(1);
      expect(await assets.verifyBatchRecord(1, h("content:x"), manifest, rights, cls, proof)).to.equal(false);
      expect(await assets.verifyBatchRecord(1, root, h("manifest:x"), rights, cls, proof)).to.equal(false);
      expect(await assets.verifyBatchRecord(1, root, manifest, rights + 1, cls, proof)).to.equal(false);
      expect(await assets.verifyBatchRecord(1, root, manifest, rights, cls + 1, proof)).to.equal(false);
    });

    it("a single-member batch's root is its leaf: the empty proof verifies", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      const tree = StandardMerkleTree.of([records[0]], LEAF_ENCODING);
      expect(tree.root).to.equal(tree.leafHash(records[0]));
      await assets.connect(alice).anchorBatch(tree.root, 1, BATCH_MANIFEST);
      expect(await assets.verifyBatchRecord(1, ...records[0], [])).to.equal(true);
      expect(await assets.verifyBatchMember(1, valuesHash(records[0]), [])).to.equal(true);
    });

    it("proofs are checked against the batch asked for", async function () {
      const { assets, alice, tree } = await loadFixture(batchFixture);
      const other = StandardMerkleTree.of(records.slice(0, 2), LEAF_ENCODING);
      await assets.connect(alice).anchorBatch(other.root, 2, BATCH_MANIFEST);
      expect(await assets.verifyBatchRecord(2, ...records[0], other.getProof(0))).to.equal(true);
      expect(await assets.verifyBatchRecord(2, ...records[0], tree.getProof(0))).to.equal(false);
      expect(await assets.verifyBatchRecord(1, ...records[0], other.getProof(0))).to.equal(false);
    });

    it("refuses a zero root, a zero manifest hash and counts 0 or 16,777,216; accepts 16,777,215", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      await expect(assets.connect(alice).anchorBatch(ethers.ZeroHash, 1, BATCH_MANIFEST))
        .to.be.revertedWithCustomError(assets, "InvalidContentRoot")
        .withArgs(ethers.ZeroHash);
      await expect(assets.connect(alice).anchorBatch(h("batch"), 1, ethers.ZeroHash))
        .to.be.revertedWithCustomError(assets, "InvalidManifestHash")
        .withArgs(ethers.ZeroHash);
      for (const count of [0, 2 ** 24, 2 ** 32 - 1]) {
        await expect(assets.connect(alice).anchorBatch(h("batch"), count, BATCH_MANIFEST))
          .to.be.revertedWithCustomError(assets, "InvalidBatchCount")
          .withArgs(count);
      }
      await assets.connect(alice).anchorBatch(h("batch"), 2 ** 24 - 1, BATCH_MANIFEST);
      expect((await assets.batchOf(1)).count).to.equal(2n ** 24n - 1n);
    });

    it("refuses unknown batch ids", async function () {
      const { assets, tree } = await loadFixture(batchFixture);
      for (const id of [0n, 2n]) {
        await expect(assets.batchOf(id)).to.be.revertedWithCustomError(assets, "UnknownBatch").withArgs(id);
        await expect(assets.verifyBatchMember(id, valuesHash(records[0]), tree.getProof(0)))
          .to.be.revertedWithCustomError(assets, "UnknownBatch")
          .withArgs(id);
        await expect(assets.verifyBatchRecord(id, ...records[0], tree.getProof(0)))
          .to.be.revertedWithCustomError(assets, "UnknownBatch")
          .withArgs(id);
      }
    });

    it("assigns the last batch id 2**32-1, then reverts IdSpaceExhausted", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      for (const label of ["a", "b", "c"]) await registerAsset(assets, alice, label);
      await assets.connect(alice).anchorBatch(h("batch:1"), 1, BATCH_MANIFEST);
      await assets.connect(alice).anchorBatch(h("batch:2"), 1, BATCH_MANIFEST);
      const slot = await findSlot(await assets.getAddress(), 3n | (2n << 32n));
      await setStorageAt(await assets.getAddress(), slot, 3n | ((UINT32_MAX - 1n) << 32n));

      await expect(assets.connect(alice).anchorBatch(h("batch:last"), 1, BATCH_MANIFEST))
        .to.emit(assets, "BatchAnchored")
        .withArgs(UINT32_MAX, alice.address, h("batch:last"), BATCH_MANIFEST, 1, anyTime());
      expect(await assets.totalAssets()).to.equal(3n);
      await expect(assets.connect(alice).anchorBatch(h("batch:one too many"), 1, BATCH_MANIFEST))
        .to.be.revertedWithCustomError(assets, "IdSpaceExhausted")
        .withArgs(UINT32_MAX);
    });
  });
});

/** The six Registration fields of a signed request (which also holds owner, deadline, nonce). */
function asRegistration(request) {
  const { contentRoot, manifestHash, rightsType, classification, parentId } = request;
  return { contentRoot, manifestHash, rightsType, classification, parentId, validUntil: request.validUntil ?? 0n };
}

/** Any uint64 block time after 2020: asserts the value is a plausible timestamp, not a wildcard. */
function anyTime() {
  return (value) => BigInt(value) > 1_577_836_800n && BigInt(value) < 2n ** 40n;
}
